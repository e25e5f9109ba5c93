-- +goose Up
-- Instants are TEXT in store.TimeLayout (UTC, fixed width); see package store.

CREATE TABLE org_units (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    level       TEXT    NOT NULL CHECK (level IN ('district', 'street', 'community')),
    parent_id   INTEGER REFERENCES org_units (id),
    -- path is the codes from the root down, such as /D1/S1/C1/: a jurisdiction
    -- is a path prefix, so "everything beneath" is one indexed range.
    path        TEXT    NOT NULL UNIQUE,
    population  INTEGER NOT NULL DEFAULT 0 CHECK (population >= 0),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX org_units_parent ON org_units (parent_id);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    full_name      TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    -- Every user but a system administrator belongs to one org unit.
    org_unit_id    INTEGER REFERENCES org_units (id),
    language       TEXT    NOT NULL DEFAULT '',
    password_hash  TEXT    NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    CHECK (role = 'admin' OR org_unit_id IS NOT NULL)
);
CREATE INDEX users_org_unit ON users (org_unit_id);

-- Sessions of the web UI and API tokens. Only a keyed hash of the token is kept.
CREATE TABLE sessions (
    token_hash    TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL CHECK (kind IN ('web', 'api')),
    created_at    TEXT    NOT NULL,
    last_seen_at  TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Consecutive failed sign-ins per attempted username (known or not, so that
-- the answer never tells which).
CREATE TABLE login_failures (
    username      TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_at       TEXT    NOT NULL,
    locked_until  TEXT    NOT NULL DEFAULT ''
);

-- The audit log: append-only, each entry hash-chained to the one before.
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    subject_type  TEXT    NOT NULL,
    subject_id    TEXT    NOT NULL,
    org_unit      TEXT    NOT NULL,
    org_path      TEXT    NOT NULL,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed')),
    client_addr   TEXT    NOT NULL,
    request_id    TEXT    NOT NULL,
    detail        TEXT    NOT NULL,
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject_id, seq);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_path ON audit_log (org_path, seq);

-- The head of the chain: one row, updated by every append, which serialises
-- appends (the row lock on PostgreSQL, the single writer on SQLite).
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE org_units;
