-- +goose Up
-- The registry and the follow-up loop (CLINICAL.md). Dates are TEXT YYYY-MM-DD.

CREATE TABLE patients (
    id                   INTEGER PRIMARY KEY,
    org_unit_id          INTEGER NOT NULL REFERENCES org_units (id),
    -- A copy of the unit's path, kept in step when the unit moves or the
    -- patient transfers: jurisdiction becomes one index range on this table.
    org_path             TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    name_key             TEXT    NOT NULL, -- lower-case name, for prefix search
    sex                  TEXT    NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date           TEXT    NOT NULL,
    national_id_enc      TEXT    NOT NULL DEFAULT '', -- AES-256-GCM, base64
    national_id_hash     TEXT    UNIQUE,              -- keyed hash for exact match; NULL if none
    phone                TEXT    NOT NULL DEFAULT '',
    address              TEXT    NOT NULL DEFAULT '',
    guardian_name        TEXT    NOT NULL DEFAULT '',
    guardian_relation    TEXT    NOT NULL DEFAULT '',
    guardian_phone       TEXT    NOT NULL DEFAULT '',
    consent              INTEGER NOT NULL DEFAULT 0,
    consent_on           TEXT    NOT NULL DEFAULT '',
    status               TEXT    NOT NULL CHECK (status IN ('managed', 'hospitalised', 'moved_away', 'lost', 'deceased')),
    registered_on        TEXT    NOT NULL,
    severe               INTEGER NOT NULL DEFAULT 0, -- has one of the six disorders (R-TARGET)
    -- The follow-up summary, kept by every follow-up write, for worklists.
    next_due_on          TEXT    NOT NULL,
    next_due_rule        TEXT    NOT NULL DEFAULT '',
    last_followup_on     TEXT    NOT NULL DEFAULT '', -- last reached follow-up
    last_classification  TEXT    NOT NULL DEFAULT '',
    last_risk_level      INTEGER,
    last_adherence       TEXT    NOT NULL DEFAULT '',
    not_reached_streak   INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);
CREATE INDEX patients_worklist ON patients (org_path, status, next_due_on);
CREATE INDEX patients_name ON patients (name_key, id);
CREATE INDEX patients_dup ON patients (birth_date, name_key);

CREATE TABLE patient_diagnoses (
    id            INTEGER PRIMARY KEY,
    patient_id    INTEGER NOT NULL REFERENCES patients (id),
    code          TEXT    NOT NULL,
    diagnosed_on  TEXT    NOT NULL DEFAULT '',
    institution   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX patient_diagnoses_patient ON patient_diagnoses (patient_id);

CREATE TABLE patient_status_history (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients (id),
    status      TEXT    NOT NULL,
    changed_on  TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    actor       TEXT    NOT NULL,
    at          TEXT    NOT NULL
);
CREATE INDEX patient_status_history_patient ON patient_status_history (patient_id, id);

CREATE TABLE patient_transfers (
    id              INTEGER PRIMARY KEY,
    patient_id      INTEGER NOT NULL REFERENCES patients (id),
    from_unit_id    INTEGER NOT NULL REFERENCES org_units (id),
    to_unit_id      INTEGER NOT NULL REFERENCES org_units (id),
    transferred_on  TEXT    NOT NULL,
    reason          TEXT    NOT NULL DEFAULT '',
    actor           TEXT    NOT NULL,
    at              TEXT    NOT NULL
);
CREATE INDEX patient_transfers_patient ON patient_transfers (patient_id, id);

-- Follow-ups and not-reached attempts (R-FORM, R-NOT-REACHED). A correction
-- adds a new row and points the old one at it; nothing is deleted.
CREATE TABLE follow_ups (
    id                    INTEGER PRIMARY KEY,
    patient_id            INTEGER NOT NULL REFERENCES patients (id),
    date                  TEXT    NOT NULL,
    mode                  TEXT    NOT NULL,
    reached               INTEGER NOT NULL,
    risk_level            INTEGER,
    classification        TEXT    NOT NULL,
    rule                  TEXT    NOT NULL DEFAULT '',
    next_due_on           TEXT    NOT NULL,
    next_due_rule         TEXT    NOT NULL DEFAULT '',
    next_due_reason       TEXT    NOT NULL DEFAULT '',
    medication_adherence  TEXT    NOT NULL DEFAULT '',
    details               TEXT    NOT NULL, -- the rest of the form, JSON
    author                TEXT    NOT NULL,
    created_at            TEXT    NOT NULL,
    superseded_by         INTEGER REFERENCES follow_ups (id)
);
CREATE INDEX follow_ups_patient ON follow_ups (patient_id, date, id);
CREATE INDEX follow_ups_date ON follow_ups (date);

-- Emergency handling (R-EMERG).
CREATE TABLE emergencies (
    id            INTEGER PRIMARY KEY,
    patient_id    INTEGER NOT NULL REFERENCES patients (id),
    occurred_at   TEXT    NOT NULL,
    place         TEXT    NOT NULL DEFAULT '',
    triggers      TEXT    NOT NULL, -- JSON list
    details       TEXT    NOT NULL, -- JSON: attendees, measures, outcome
    completed     INTEGER NOT NULL DEFAULT 0,
    follow_up_by  TEXT    NOT NULL,
    author        TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE INDEX emergencies_patient ON emergencies (patient_id, occurred_at);

-- Leases let one of several servers run a scheduled job.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE emergencies;
DROP TABLE follow_ups;
DROP TABLE patient_transfers;
DROP TABLE patient_status_history;
DROP TABLE patient_diagnoses;
DROP TABLE patients;
