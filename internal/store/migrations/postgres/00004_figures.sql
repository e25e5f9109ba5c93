-- +goose Up
-- left_on: the day a patient left the register (deceased or moved away), so
-- that "registered at the end of a period" is a plain comparison (R-KPI).
ALTER TABLE patients ADD COLUMN left_on TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE patients SET left_on = COALESCE((SELECT max(h.changed_on) FROM patient_status_history h
    WHERE h.patient_id = patients.id AND h.status = patients.status), registered_on)
WHERE status IN ('deceased', 'moved_away');
-- The annual health check (R-CHECK), when combined with a follow-up.
ALTER TABLE follow_ups ADD COLUMN health_check BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX emergencies_occurred ON emergencies (occurred_at);

-- +goose Down
DROP INDEX emergencies_occurred;
ALTER TABLE follow_ups DROP COLUMN health_check;
ALTER TABLE patients DROP COLUMN left_on;
