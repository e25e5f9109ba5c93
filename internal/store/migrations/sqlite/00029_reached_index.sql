-- +goose Up
-- Saving a follow-up reads what the patient's summary depends on
-- (care.refreshSummary): the last reached follow-up, the attempts since it,
-- and the reached follow-ups of its year, all of one patient, by whether
-- reached and not corrected. Through follow_ups_patient (patient, date)
-- SQLite read each of the patient's follow-ups of the year from the table to
-- test reached and superseded_by: the largest part of the one writer's work,
-- growing with the patient's history (0.57-0.80 ms of a follow-up's 0.9-1.3
-- ms of the writer's processor time, at 42 follow-ups a patient). This index
-- answers the counts by itself, and, ending in the rowid, gives the last
-- reached follow-up in date and id order: 0.11-0.15 ms of 0.55-0.65 ms.
-- PostgreSQL reads those rows from its shared buffers in microseconds, and
-- its planner passed such an index by: it has none, which spares its writes
-- and its imports one more index entry per follow-up.
CREATE INDEX follow_ups_reached ON follow_ups (patient_id, reached, superseded_by, date);

-- +goose Down
DROP INDEX follow_ups_reached;
