-- +goose Up
-- The audit log is partitioned by year of its time (issue 16), like
-- follow-ups and assessments (00013): every read of a record writes an
-- entry, so a province's log is the largest table of all, and a year that
-- is closed can be vacuumed, moved or archived whole while queries bounded
-- by time read only the years they name.
--
-- The primary key must include the partition key, so it is (seq, at); seq
-- stays unique in fact, since only the sequence gives it (the sealer's
-- audit_seals.seq UNIQUE would refuse a second seal of the same seq).
--
-- The append-only triggers stay: the BEFORE UPDATE OR DELETE row trigger
-- is cloned onto every partition; a TRUNCATE trigger is not, so
-- kith_year_partition adds it to each new partition of audit_log. The one
-- DELETE the database itself does is kith_year_partition moving a year's
-- rows out of the DEFAULT partition into their own (rows reach DEFAULT only
-- if the clock ran past the partitions made ahead); it sets the
-- transaction-local kith.partition_move for that statement only. Anyone who
-- can set it could also drop the trigger: what makes the log tamper-evident
-- is the sealed hash chain, which a move leaves intact (the same rows).

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('kith.partition_move', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION kith_year_partition(parent TEXT, key TEXT, year INTEGER) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    part TEXT := parent || '_y' || year;
    lo   TEXT := lpad(year::TEXT, 4, '0') || '-01-01';
    hi   TEXT := lpad((year + 1)::TEXT, 4, '0') || '-01-01';
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('kith_year_partition'));
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN FALSE;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, parent);
    IF to_regclass(quote_ident(parent || '_default')) IS NOT NULL THEN
        PERFORM set_config('kith.partition_move', 'on', true);
        EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
            parent || '_default', key, lo, key, hi, part);
        PERFORM set_config('kith.partition_move', 'off', true);
    END IF;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, part, lo, hi);
    IF parent = 'audit_log' THEN
        EXECUTE format('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON %I
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()', part);
    END IF;
    RETURN TRUE;
END $$;
-- +goose StatementEnd

-- The sequence belongs to the old table's column; keep it when that goes.
ALTER SEQUENCE audit_log_seq OWNED BY NONE;
ALTER TABLE audit_log RENAME TO audit_log_old;
ALTER INDEX audit_log_pkey RENAME TO audit_log_old_pkey;
ALTER INDEX audit_log_subject RENAME TO audit_log_old_subject;
ALTER INDEX audit_log_actor RENAME TO audit_log_old_actor;
ALTER INDEX audit_log_path RENAME TO audit_log_old_path;
ALTER INDEX audit_log_xid RENAME TO audit_log_old_xid;

-- The columns exactly as after 00011, in the same order.
CREATE TABLE audit_log (
    seq           BIGINT NOT NULL DEFAULT nextval('audit_log_seq'),
    at            TEXT   COLLATE "C" NOT NULL,
    actor         TEXT   COLLATE "C" NOT NULL,
    action        TEXT   NOT NULL,
    subject_type  TEXT   NOT NULL,
    subject_id    TEXT   COLLATE "C" NOT NULL,
    org_unit      TEXT   NOT NULL,
    org_path      TEXT   COLLATE "C" NOT NULL,
    outcome       TEXT   NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed')),
    client_addr   TEXT   NOT NULL,
    request_id    TEXT   NOT NULL,
    detail        TEXT   NOT NULL,
    prev_hash     TEXT   NOT NULL,
    hash          TEXT   NOT NULL,
    xid           xid8   DEFAULT pg_current_xact_id(),
    PRIMARY KEY (seq, at)
) PARTITION BY RANGE (at);
ALTER SEQUENCE audit_log_seq OWNED BY audit_log.seq;
CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log_default
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The years: two back and two ahead of today, and back to the oldest entry
-- (at most twenty years back; anything older waits in DEFAULT).
-- +goose StatementBegin
DO $$
DECLARE
    this INTEGER := extract(year FROM current_date);
    y    INTEGER;
BEGIN
    FOR y IN GREATEST(this - 20, LEAST(this - 2, COALESCE((SELECT min(substr(at, 1, 4))::INTEGER FROM audit_log_old WHERE at ~ '^[0-9]{4}-'), this)))
             .. this + 2 LOOP
        PERFORM kith_year_partition('audit_log', 'at', y);
    END LOOP;
END $$;
-- +goose StatementEnd

INSERT INTO audit_log SELECT * FROM audit_log_old ORDER BY seq;
DROP TABLE audit_log_old;

CREATE INDEX audit_log_subject ON audit_log (subject_id, seq);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_path ON audit_log (org_path, seq);
CREATE INDEX audit_log_xid ON audit_log (xid);
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
ALTER SEQUENCE audit_log_seq OWNED BY NONE;
ALTER TABLE audit_log RENAME TO audit_log_part;
ALTER INDEX audit_log_subject RENAME TO audit_log_part_subject;
ALTER INDEX audit_log_actor RENAME TO audit_log_part_actor;
ALTER INDEX audit_log_path RENAME TO audit_log_part_path;
ALTER INDEX audit_log_xid RENAME TO audit_log_part_xid;
CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY DEFAULT nextval('audit_log_seq'),
    at            TEXT   COLLATE "C" NOT NULL,
    actor         TEXT   COLLATE "C" NOT NULL,
    action        TEXT   NOT NULL,
    subject_type  TEXT   NOT NULL,
    subject_id    TEXT   COLLATE "C" NOT NULL,
    org_unit      TEXT   NOT NULL,
    org_path      TEXT   COLLATE "C" NOT NULL,
    outcome       TEXT   NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed')),
    client_addr   TEXT   NOT NULL,
    request_id    TEXT   NOT NULL,
    detail        TEXT   NOT NULL,
    prev_hash     TEXT   NOT NULL,
    hash          TEXT   NOT NULL,
    xid           xid8   DEFAULT pg_current_xact_id()
);
ALTER SEQUENCE audit_log_seq OWNED BY audit_log.seq;
INSERT INTO audit_log SELECT * FROM audit_log_part ORDER BY seq;
DROP TABLE audit_log_part;
CREATE INDEX audit_log_subject ON audit_log (subject_id, seq);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_path ON audit_log (org_path, seq);
CREATE INDEX audit_log_xid ON audit_log (xid);
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
