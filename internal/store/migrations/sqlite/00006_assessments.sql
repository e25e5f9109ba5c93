-- +goose Up
-- Assessments (R-SCORE): each response keeps its instrument version and its
-- answers item by item (a JSON object of item id → value); score, band and
-- flags are the engine's, stored so that lists and trends need no rescoring.
CREATE TABLE assessments (
    id            INTEGER PRIMARY KEY,
    patient_id    INTEGER NOT NULL REFERENCES patients (id),
    instrument    TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    taken_on      TEXT    NOT NULL,
    answers       TEXT    NOT NULL,
    score         INTEGER NOT NULL,
    band          TEXT    NOT NULL,
    flags         TEXT    NOT NULL DEFAULT '', -- space-separated flag keys
    follow_up_id  INTEGER REFERENCES follow_ups (id),
    author        TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE INDEX assessments_patient ON assessments (patient_id, instrument, taken_on, id);

-- An alert is raised by an assessment whose flags call for one; it stays
-- open until someone it reached acknowledges it and says what was done.
CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    patient_id       INTEGER NOT NULL REFERENCES patients (id),
    assessment_id    INTEGER NOT NULL REFERENCES assessments (id),
    flags            TEXT    NOT NULL,
    raised_at        TEXT    NOT NULL,
    acknowledged_by  TEXT,
    acknowledged_at  TEXT,
    action           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alerts_patient ON alerts (patient_id, raised_at);
CREATE INDEX alerts_open ON alerts (raised_at, id) WHERE acknowledged_at IS NULL;

-- Anonymous self-screenings. No address, no cookie, no time finer than the
-- day: only the week (its Monday) and the community the resident chose. The
-- id is random so that it does not reveal the order of screenings.
CREATE TABLE screenings (
    id          TEXT    PRIMARY KEY,
    instrument  TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    week        TEXT    NOT NULL,
    unit_id     INTEGER REFERENCES org_units (id),
    org_path    TEXT    NOT NULL DEFAULT '',
    answers     TEXT    NOT NULL,
    score       INTEGER NOT NULL,
    band        TEXT    NOT NULL,
    flags       TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID; -- a rowid would reveal the order of screenings
CREATE INDEX screenings_unit ON screenings (org_path, week);

-- A resident's request to be contacted, with their screening; it lands on
-- the community's worklist until the outcome is recorded.
CREATE TABLE contact_requests (
    id            INTEGER PRIMARY KEY,
    screening_id  TEXT    REFERENCES screenings (id),
    unit_id       INTEGER NOT NULL REFERENCES org_units (id),
    org_path      TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    phone         TEXT    NOT NULL,
    message       TEXT    NOT NULL DEFAULT '',
    urgent        INTEGER NOT NULL DEFAULT 0, -- the screening raised an alert flag
    requested_on  TEXT    NOT NULL,
    outcome       TEXT    CHECK (outcome IN ('reached', 'registered', 'referred', 'no_need')),
    outcome_note  TEXT    NOT NULL DEFAULT '',
    outcome_by    TEXT,
    outcome_at    TEXT,
    patient_id    INTEGER REFERENCES patients (id)
);
CREATE INDEX contact_requests_unit ON contact_requests (org_path, urgent, requested_on);

-- +goose Down
DROP TABLE contact_requests;
DROP TABLE screenings;
DROP TABLE alerts;
DROP TABLE assessments;
