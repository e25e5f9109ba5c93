-- +goose Up
-- Break-the-glass grants: a clinician who must read a record outside their
-- jurisdiction states why and may read that one record until expires_at.
-- org_path is the patient's unit when the grant was made: the district it
-- is reported to. Instants are TEXT in store.TimeLayout.
CREATE TABLE break_glass (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients (id),
    org_path    TEXT    NOT NULL,
    username    TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    note        TEXT    NOT NULL DEFAULT '',
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL
);
-- A read looks up the actor's live grant for one patient.
CREATE INDEX break_glass_user ON break_glass (username, patient_id, expires_at);
-- The record page lists a patient's grants.
CREATE INDEX break_glass_patient ON break_glass (patient_id, created_at);
-- The district's home page lists the last days' grants beneath a unit.
CREATE INDEX break_glass_path ON break_glass (org_path, created_at);

-- +goose Down
DROP TABLE break_glass;
