-- +goose NO TRANSACTION
-- +goose Up
-- Referrals, crisis events and early warning (issue 12).
--
-- Two tables change shape: org_units gains the level 'institution' (a
-- hospital, which has staff but no residents), and alerts gain kinds that no
-- assessment raises (risk rose, medication stopped, ...), so assessment_id may
-- be NULL. SQLite changes a CHECK or a NOT NULL only by rebuilding the table;
-- this is its documented procedure (lang_altertable.html, "other kinds of
-- table schema changes"): foreign keys off, which works only outside a
-- transaction, hence NO TRANSACTION and the explicit BEGIN/COMMIT; the new
-- table under a new name, the rows copied, the old one dropped, the new one
-- renamed; foreign keys on again. Rows keep their ids, so every reference to
-- them stays good.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE org_units_new (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    level       TEXT    NOT NULL CHECK (level IN ('district', 'street', 'community', 'institution')),
    parent_id   INTEGER REFERENCES org_units (id),
    path        TEXT    NOT NULL UNIQUE,
    population  INTEGER NOT NULL DEFAULT 0 CHECK (population >= 0),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
INSERT INTO org_units_new (id, code, name, level, parent_id, path, population, created_at, updated_at)
    SELECT id, code, name, level, parent_id, path, population, created_at, updated_at FROM org_units;
DROP TABLE org_units;
ALTER TABLE org_units_new RENAME TO org_units;
CREATE INDEX org_units_parent ON org_units (parent_id);

-- kind: flag (an assessment's flag: PHQ-9 item 9, K10 very high, risk 3 or
-- more), risk_rise, medication_stopped, high_risk_overdue,
-- referral_declined, referral_overdue. detail says what the kind needs said
-- (the levels, the due date missed); referral_id the referral concerned.
CREATE TABLE alerts_new (
    id               INTEGER PRIMARY KEY,
    patient_id       INTEGER NOT NULL REFERENCES patients (id),
    assessment_id    INTEGER REFERENCES assessments (id),
    flags            TEXT    NOT NULL,
    raised_at        TEXT    NOT NULL,
    acknowledged_by  TEXT,
    acknowledged_at  TEXT,
    action           TEXT    NOT NULL DEFAULT '',
    kind             TEXT    NOT NULL DEFAULT 'flag',
    detail           TEXT    NOT NULL DEFAULT '',
    referral_id      INTEGER
);
INSERT INTO alerts_new (id, patient_id, assessment_id, flags, raised_at, acknowledged_by, acknowledged_at, action)
    SELECT id, patient_id, assessment_id, flags, raised_at, acknowledged_by, acknowledged_at, action FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_patient ON alerts (patient_id, raised_at);
CREATE INDEX alerts_open ON alerts (raised_at, id) WHERE acknowledged_at IS NULL;
CREATE INDEX alerts_assessment ON alerts (assessment_id);

-- A referral up (community → institution) or down (institution's discharge
-- → community). from_path is the sender's unit, to_path the receiver's;
-- both are copied so that lists and the access grant are path ranges.
-- summary is the record as it stood when the referral was made (JSON),
-- discharge the discharge summary of a referral down (JSON). answered_at is
-- when it was accepted or declined (the response time), closed_at when it
-- was declined, completed or cancelled (the end of the record's grant).
CREATE TABLE referrals (
    id             INTEGER PRIMARY KEY,
    patient_id     INTEGER NOT NULL REFERENCES patients (id),
    direction      TEXT    NOT NULL CHECK (direction IN ('up', 'down')),
    from_unit_id   INTEGER NOT NULL REFERENCES org_units (id),
    from_path      TEXT    NOT NULL,
    to_unit_id     INTEGER NOT NULL REFERENCES org_units (id),
    to_path        TEXT    NOT NULL,
    urgency        TEXT    NOT NULL DEFAULT '' CHECK (urgency IN ('', 'emergency', 'urgent', 'routine')),
    reason         TEXT    NOT NULL DEFAULT '',
    summary        TEXT    NOT NULL DEFAULT '{}',
    status         TEXT    NOT NULL CHECK (status IN ('requested', 'accepted', 'declined', 'completed', 'cancelled')),
    requested_by   TEXT    NOT NULL,
    requested_at   TEXT    NOT NULL,
    due_by         TEXT    NOT NULL,
    answered_by    TEXT,
    answered_at    TEXT,
    response_seconds INTEGER, -- answered_at − requested_at: the response time figure's order statistics
    closed_by      TEXT,
    closed_at      TEXT,
    note           TEXT    NOT NULL DEFAULT '',
    outcome        TEXT    NOT NULL DEFAULT '' CHECK (outcome IN ('', 'admitted', 'outpatient', 'returned')),
    discharged_on  TEXT    NOT NULL DEFAULT '',
    discharge      TEXT    NOT NULL DEFAULT '{}',
    updated_at     TEXT    NOT NULL
);
CREATE INDEX referrals_to ON referrals (to_path, status, requested_at);
CREATE INDEX referrals_from ON referrals (from_path, status, requested_at);
CREATE INDEX referrals_patient ON referrals (patient_id, requested_at);
CREATE INDEX referrals_requested ON referrals (requested_at, id);

-- A crisis event: a call or a sighting, logged by whoever took it. The
-- patient if known, else a description; org_path is the patient's unit,
-- else the logger's. emergency_id is the emergency record (R-EMERG) it
-- opened, if it needed one.
CREATE TABLE crisis_events (
    id            INTEGER PRIMARY KEY,
    occurred_at   TEXT    NOT NULL,
    reported_by   TEXT    NOT NULL CHECK (reported_by IN ('family', 'police', 'resident', 'hotline')),
    patient_id    INTEGER REFERENCES patients (id),
    description   TEXT    NOT NULL DEFAULT '',
    risk_level    INTEGER NOT NULL CHECK (risk_level BETWEEN 0 AND 5),
    actions       TEXT    NOT NULL DEFAULT '', -- space-separated
    outcome       TEXT    NOT NULL DEFAULT '',
    emergency_id  INTEGER REFERENCES emergencies (id),
    org_unit_id   INTEGER NOT NULL REFERENCES org_units (id),
    org_path      TEXT    NOT NULL,
    author        TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE INDEX crisis_events_path ON crisis_events (org_path, occurred_at);
CREATE INDEX crisis_events_patient ON crisis_events (patient_id, occurred_at);

COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
DROP TABLE crisis_events;
DROP TABLE referrals;
DELETE FROM alerts WHERE kind <> 'flag';
