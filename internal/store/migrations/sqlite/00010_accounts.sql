-- +goose Up
-- Owners' own passwords, two-factor sign-in, sessions a person can see and
-- end, and the announcement of new access to records (issue 15, items 8–10).

-- Sessions get an opaque id to be named by (never the token or its hash),
-- and the device and address they were opened from. Sessions opened before
-- this change have neither: they end, and their users sign in again.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN client_addr TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX sessions_id ON sessions (id);

-- The TOTP secret (RFC 6238), AES-GCM sealed with a key derived from the
-- master key; '' when not enrolled. totp_pending is the secret offered by an
-- enrolment not yet confirmed with a code; totp_last_step the time step of
-- the last code accepted, so that a code is never accepted twice.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- Single-use recovery codes, stored as keyed hashes.
CREATE TABLE recovery_codes (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- One-time activation links: the owner of a new account (or one whose
-- password was reset) sets the password. Only a keyed hash of the token is
-- kept; an account has at most one link.
CREATE TABLE activations (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_by  TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL
);

-- A sign-in whose password was right and which waits for its second factor
-- (the web's second step), for a few minutes.
CREATE TABLE login_challenges (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL
);

-- Access to records given to an account (created with, or changed to, a role
-- that reads records), shown to the psychiatrists whose jurisdiction holds
-- the account's unit until each dismisses it.
CREATE TABLE access_announcements (
    id          INTEGER PRIMARY KEY,
    username    TEXT    NOT NULL,
    full_name   TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    org_unit    TEXT    NOT NULL,
    org_path    TEXT    NOT NULL,
    change      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    actor_name  TEXT    NOT NULL,
    at          TEXT    NOT NULL
);
CREATE INDEX access_announcements_path ON access_announcements (org_path, id);

CREATE TABLE announcement_dismissals (
    announcement_id  INTEGER NOT NULL REFERENCES access_announcements (id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at               TEXT    NOT NULL,
    PRIMARY KEY (announcement_id, user_id)
);

-- +goose Down
DROP TABLE announcement_dismissals;
DROP TABLE access_announcements;
DROP TABLE login_challenges;
DROP TABLE activations;
DROP TABLE recovery_codes;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_pending;
ALTER TABLE users DROP COLUMN totp_secret;
DROP INDEX sessions_id;
ALTER TABLE sessions DROP COLUMN client_addr;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN id;
