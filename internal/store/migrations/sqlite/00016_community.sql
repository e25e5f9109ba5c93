-- +goose Up
-- Families, events with attendance, staff training and the guardian
-- subsidy (issue 13). Instants are TEXT in store.TimeLayout, dates TEXT
-- YYYY-MM-DD.

-- A patient's family members. At most one is the guardian; the patient's
-- guardian_* columns stay as a copy of that row, written in the same
-- transaction, so that the worklist and the figures read it without a join.
CREATE TABLE family_members (
    id           INTEGER PRIMARY KEY,
    patient_id   INTEGER NOT NULL REFERENCES patients (id),
    name         TEXT    NOT NULL,
    relation     TEXT    NOT NULL DEFAULT '',
    phone        TEXT    NOT NULL DEFAULT '',
    lives_with   INTEGER NOT NULL DEFAULT 0,
    is_guardian  INTEGER NOT NULL DEFAULT 0,
    notes        TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);
CREATE INDEX family_members_patient ON family_members (patient_id, id);
-- At most one guardian per patient, even under concurrent writes.
CREATE UNIQUE INDEX family_members_guardian ON family_members (patient_id) WHERE is_guardian = 1;
-- The guardian recorded on the patient becomes that family member.
INSERT INTO family_members (patient_id, name, relation, phone, lives_with, is_guardian, notes, created_at, updated_at)
SELECT id, guardian_name, guardian_relation, guardian_phone, 0, 1, '', updated_at, updated_at FROM patients
WHERE guardian_name <> '' OR guardian_relation <> '' OR guardian_phone <> '';

-- Courses of staff training, run by a district: a session is an event of
-- kind training naming the course; attending it gives the course's hours.
CREATE TABLE courses (
    id            INTEGER PRIMARY KEY,
    title         TEXT    NOT NULL,
    topic         TEXT    NOT NULL,
    hours         REAL  NOT NULL,
    competencies  TEXT    NOT NULL DEFAULT '[]', -- JSON list
    org_unit_id   INTEGER   NOT NULL REFERENCES org_units (id),
    org_path      TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE INDEX courses_path ON courses (org_path, id);

-- Events: caregiver education, support groups, public lectures, mental
-- health week activities, training sessions and case discussions. A case
-- discussion is anonymised: it stores no patient, only its hours.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    title         TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    starts_at     TEXT    NOT NULL,
    place         TEXT    NOT NULL DEFAULT '',
    org_unit_id   INTEGER   NOT NULL REFERENCES org_units (id),
    org_path      TEXT    NOT NULL,
    organiser     TEXT    NOT NULL,
    capacity      INTEGER NOT NULL DEFAULT 0, -- 0: no limit
    booked        INTEGER NOT NULL DEFAULT 0, -- the head counts on the attendance list, checked against capacity
    audience      TEXT    NOT NULL,
    course_id     INTEGER   REFERENCES courses (id),
    hours         REAL  NOT NULL DEFAULT 0, -- the training hours it gives (a session: its course's)
    notes         TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL
);
-- The calendar of a unit: events beneath it in a time range.
CREATE INDEX events_path ON events (org_path, starts_at);
-- The public calendar.
CREATE INDEX events_audience ON events (audience, starts_at);

-- Who came to an event: a staff account, a patient, a family member, or a
-- head count of the public. Present is ticked on the attendance sheet.
CREATE TABLE event_attendance (
    id                INTEGER PRIMARY KEY,
    event_id          INTEGER   NOT NULL REFERENCES events (id),
    username          TEXT,
    patient_id        INTEGER   REFERENCES patients (id),
    family_member_id  INTEGER   REFERENCES family_members (id),
    head_count        INTEGER NOT NULL DEFAULT 1,
    present           INTEGER  NOT NULL DEFAULT 1,
    created_at        TEXT    NOT NULL
);
CREATE INDEX event_attendance_event ON event_attendance (event_id, id);
CREATE UNIQUE INDEX event_attendance_user ON event_attendance (event_id, username) WHERE username IS NOT NULL;
CREATE UNIQUE INDEX event_attendance_patient ON event_attendance (event_id, patient_id) WHERE patient_id IS NOT NULL;
CREATE UNIQUE INDEX event_attendance_family ON event_attendance (event_id, family_member_id) WHERE family_member_id IS NOT NULL;
-- A person's training hours of a year.
CREATE INDEX event_attendance_username ON event_attendance (username, event_id);
CREATE INDEX event_attendance_family_member ON event_attendance (family_member_id);

-- The guardian subsidy: per patient (and so per guardian) and year.
-- Amounts are in fen (0.01 yuan).
CREATE TABLE subsidies (
    id            INTEGER PRIMARY KEY,
    patient_id    INTEGER   NOT NULL REFERENCES patients (id),
    guardian_id   INTEGER   NOT NULL REFERENCES family_members (id),
    year          INTEGER NOT NULL,
    amount_fen    BIGINT  NOT NULL,
    status        TEXT    NOT NULL,
    reason        TEXT    NOT NULL DEFAULT '',
    org_path      TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    reviewed_by   TEXT    NOT NULL DEFAULT '',
    approved_by   TEXT    NOT NULL DEFAULT '',
    paid_on       TEXT    NOT NULL DEFAULT '',
    updated_at    TEXT    NOT NULL,
    UNIQUE (patient_id, year)
);
CREATE INDEX subsidies_ledger ON subsidies (year, org_path, id);
CREATE INDEX subsidies_guardian ON subsidies (guardian_id);

-- +goose Down
DROP TABLE subsidies;
DROP TABLE event_attendance;
DROP TABLE events;
DROP TABLE courses;
DROP TABLE family_members;
