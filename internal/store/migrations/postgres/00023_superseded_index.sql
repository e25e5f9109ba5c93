-- +goose Up
-- A corrected follow-up is found by its correction (superseded_by = the
-- correction's id): "was this follow-up corrected?" is asked for every
-- reached follow-up of a flagged patient when a follow-up is saved
-- (care.warningDue). Without an index that was a scan of every follow-up.
-- Few rows are corrections, so the index holds only them.
CREATE INDEX follow_ups_superseded_by ON follow_ups (superseded_by) WHERE superseded_by IS NOT NULL;

-- +goose Down
DROP INDEX follow_ups_superseded_by;
