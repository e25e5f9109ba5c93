-- +goose Up
-- FHIR Bulk Data exports. A job row says who asked for what and how far
-- the export has come, so that any of several servers on this database
-- can answer the status poll, serve the files and cancel. The NDJSON lies
-- in the database as chunks (one per resource type and page of patients),
-- not in a data folder: servers behind a load balancer share no disk, and
-- a chunk committed with the job's cursor is never half written. Both go
-- when the job expires (keep_until) or is cancelled.
CREATE TABLE export_jobs (
    id               TEXT    PRIMARY KEY, -- random; the status URL's last segment
    owner            TEXT    NOT NULL,    -- the username that asked; only they may poll and download
    session_id       TEXT    NOT NULL,    -- the token it runs with: each page is read with its current rights
    org_unit         TEXT    NOT NULL,
    types            TEXT    NOT NULL,    -- the resource types, space separated
    since            TEXT    NOT NULL,    -- _since, or ''
    request          TEXT    NOT NULL,    -- the kick-off URL, for the manifest
    state            TEXT    NOT NULL,    -- running, done, failed
    cursor           BIGINT  NOT NULL,    -- the last patient id exported
    patients_done    INTEGER NOT NULL,
    patients_total   INTEGER NOT NULL,
    error            TEXT    NOT NULL,
    holder           TEXT    NOT NULL,    -- the server running it
    heartbeat        TEXT    NOT NULL,    -- when that server last wrote a page; a stale one is taken over
    transaction_time TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    keep_until       TEXT    NOT NULL
);
CREATE INDEX export_jobs_keep ON export_jobs (keep_until);
CREATE INDEX export_jobs_owner ON export_jobs (owner, state);
CREATE INDEX export_jobs_state ON export_jobs (state, heartbeat);

CREATE TABLE export_chunks (
    job_id   TEXT    NOT NULL REFERENCES export_jobs (id) ON DELETE CASCADE,
    type     TEXT    NOT NULL,
    seq      BIGINT  NOT NULL,    -- the page's last patient id, which orders a type's chunks
    lines    INTEGER NOT NULL,
    body     TEXT    NOT NULL,
    PRIMARY KEY (job_id, type, seq)
);

-- +goose Down
DROP TABLE export_chunks;
DROP TABLE export_jobs;
