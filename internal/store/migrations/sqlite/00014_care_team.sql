-- +goose Up
-- Care teams (issue 11). A member is a staff account on a patient's team with
-- a team role; the membership is a grant the access policy reads on every
-- request (care.Actor.Team), so removing the row revokes it at once. At most
-- one member is the key worker. Every change is a history row as well as an
-- audit entry. Instants are TEXT in store.TimeLayout, dates YYYY-MM-DD.
CREATE TABLE care_team_members (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients (id),
    username    TEXT    NOT NULL,
    team_role   TEXT    NOT NULL,
    key_worker  INTEGER NOT NULL DEFAULT 0,
    added_by    TEXT    NOT NULL,
    added_at    TEXT    NOT NULL,
    UNIQUE (patient_id, username)
);
-- The policy looks up (username, patient); "my patients" lists a user's.
CREATE INDEX care_team_user ON care_team_members (username, patient_id);
CREATE UNIQUE INDEX care_team_one_key_worker ON care_team_members (patient_id) WHERE key_worker = 1;

-- People on the team who are not staff: family, volunteers, a partner
-- organisation's contact.
CREATE TABLE care_team_contacts (
    id            INTEGER PRIMARY KEY,
    patient_id    INTEGER NOT NULL REFERENCES patients (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('family', 'volunteer', 'partner')),
    name          TEXT    NOT NULL,
    relation      TEXT    NOT NULL DEFAULT '',
    organisation  TEXT    NOT NULL DEFAULT '',
    phone         TEXT    NOT NULL DEFAULT '',
    added_by      TEXT    NOT NULL,
    added_at      TEXT    NOT NULL
);
CREATE INDEX care_team_contacts_patient ON care_team_contacts (patient_id, id);

-- Every change to a team: who changed what, when.
CREATE TABLE care_team_history (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients (id),
    change      TEXT    NOT NULL, -- added, removed, changed, contact_added, contact_removed
    member      TEXT    NOT NULL, -- the username, or the contact's name
    team_role   TEXT    NOT NULL DEFAULT '',
    key_worker  INTEGER NOT NULL DEFAULT 0,
    actor       TEXT    NOT NULL,
    at          TEXT    NOT NULL
);
CREATE INDEX care_team_history_patient ON care_team_history (patient_id, id);

-- Rehabilitation plans. Adjusting a plan makes a new version; the old one is
-- kept, superseded. One active plan per patient.
CREATE TABLE care_plans (
    id                 INTEGER PRIMARY KEY,
    patient_id         INTEGER NOT NULL REFERENCES patients (id),
    version            INTEGER NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('active', 'superseded')),
    start_on           TEXT    NOT NULL,
    review_every_days  INTEGER NOT NULL,
    next_review_on     TEXT    NOT NULL,
    agreed_by_patient  INTEGER NOT NULL DEFAULT 0,
    agreed_by_family   INTEGER NOT NULL DEFAULT 0,
    author             TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    superseded_at      TEXT,
    UNIQUE (patient_id, version)
);
CREATE UNIQUE INDEX care_plans_active ON care_plans (patient_id) WHERE status = 'active';
CREATE INDEX care_plans_review ON care_plans (next_review_on) WHERE status = 'active';

CREATE TABLE plan_needs (
    id             INTEGER PRIMARY KEY,
    plan_id        INTEGER NOT NULL REFERENCES care_plans (id),
    domain         TEXT    NOT NULL,
    finding        TEXT    NOT NULL,
    assessment_id  INTEGER REFERENCES assessments (id)
);
CREATE INDEX plan_needs_plan ON plan_needs (plan_id);

CREATE TABLE plan_goals (
    id           INTEGER PRIMARY KEY,
    plan_id      INTEGER NOT NULL REFERENCES care_plans (id),
    domain       TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    measure      TEXT    NOT NULL DEFAULT '',
    baseline     TEXT    NOT NULL DEFAULT '',
    target       TEXT    NOT NULL DEFAULT '',
    target_on    TEXT    NOT NULL
);
CREATE INDEX plan_goals_plan ON plan_goals (plan_id);

CREATE TABLE plan_interventions (
    id           INTEGER PRIMARY KEY,
    goal_id      INTEGER NOT NULL REFERENCES plan_goals (id),
    description  TEXT    NOT NULL,
    assignee     TEXT    NOT NULL,
    frequency    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX plan_interventions_goal ON plan_interventions (goal_id);
-- "Assigned to me" on the home page.
CREATE INDEX plan_interventions_assignee ON plan_interventions (assignee, goal_id);

-- A review rates the goals and moves the plan's next review; due_on is the
-- review date it answered, for "reviews on time".
CREATE TABLE plan_reviews (
    id                INTEGER PRIMARY KEY,
    plan_id           INTEGER NOT NULL REFERENCES care_plans (id),
    reviewed_on       TEXT    NOT NULL,
    due_on            TEXT    NOT NULL,
    patient_feedback  TEXT    NOT NULL DEFAULT '',
    family_feedback   TEXT    NOT NULL DEFAULT '',
    author            TEXT    NOT NULL,
    created_at        TEXT    NOT NULL
);
CREATE INDEX plan_reviews_plan ON plan_reviews (plan_id, reviewed_on);
CREATE INDEX plan_reviews_due ON plan_reviews (due_on);

CREATE TABLE plan_ratings (
    id         INTEGER PRIMARY KEY,
    review_id  INTEGER NOT NULL REFERENCES plan_reviews (id),
    goal_id    INTEGER NOT NULL REFERENCES plan_goals (id),
    progress   TEXT    NOT NULL CHECK (progress IN ('achieved', 'improved', 'unchanged', 'worse')),
    value      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX plan_ratings_review ON plan_ratings (review_id);

-- Case conferences: the team decides together. Per patient discussed a
-- summary and decisions, each with an owner and a due date; a decision is
-- on its owner's home page until they mark it done.
CREATE TABLE case_conferences (
    id           INTEGER PRIMARY KEY,
    held_on      TEXT    NOT NULL,
    org_unit_id  INTEGER NOT NULL REFERENCES org_units (id),
    org_path     TEXT    NOT NULL,
    author       TEXT    NOT NULL,
    created_at   TEXT    NOT NULL
);
CREATE INDEX case_conferences_unit ON case_conferences (org_path, held_on);

CREATE TABLE conference_participants (
    id             INTEGER PRIMARY KEY,
    conference_id  INTEGER NOT NULL REFERENCES case_conferences (id),
    username       TEXT, -- a staff account, or NULL for someone from outside
    name           TEXT    NOT NULL DEFAULT '',
    organisation   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX conference_participants_conference ON conference_participants (conference_id);

CREATE TABLE conference_patients (
    id             INTEGER PRIMARY KEY,
    conference_id  INTEGER NOT NULL REFERENCES case_conferences (id),
    patient_id     INTEGER NOT NULL REFERENCES patients (id),
    summary        TEXT    NOT NULL
);
CREATE INDEX conference_patients_patient ON conference_patients (patient_id, conference_id);
CREATE INDEX conference_patients_conference ON conference_patients (conference_id);

CREATE TABLE conference_decisions (
    id                     INTEGER PRIMARY KEY,
    conference_patient_id  INTEGER NOT NULL REFERENCES conference_patients (id),
    text                   TEXT    NOT NULL,
    owner                  TEXT    NOT NULL,
    due_on                 TEXT    NOT NULL,
    done_at                TEXT
);
CREATE INDEX conference_decisions_item ON conference_decisions (conference_patient_id);
-- The owner's home page lists their open decisions.
CREATE INDEX conference_decisions_open ON conference_decisions (owner, due_on) WHERE done_at IS NULL;

-- +goose Down
DROP TABLE conference_decisions;
DROP TABLE conference_patients;
DROP TABLE conference_participants;
DROP TABLE case_conferences;
DROP TABLE plan_ratings;
DROP TABLE plan_reviews;
DROP TABLE plan_interventions;
DROP TABLE plan_goals;
DROP TABLE plan_needs;
DROP TABLE care_plans;
DROP TABLE care_team_history;
DROP TABLE care_team_contacts;
DROP TABLE care_team_members;
