-- +goose Up
-- The audit log without a global head row (issue 16). An entry is inserted
-- by the business transaction with nothing but its sequence number and the
-- id of the transaction that wrote it; no row is shared between
-- transactions. A single sealer chains committed entries afterwards, in its
-- own transactions: audit_seals gives each entry its place in the chain and
-- its hash, and audit_seal_state is the chain's head (written only by the
-- sealer). See internal/audit for the design and its proof.
CREATE SEQUENCE audit_log_seq OWNED BY audit_log.seq;
SELECT setval('audit_log_seq', COALESCE((SELECT max(seq) FROM audit_log), 0) + 1, false);
ALTER TABLE audit_log ALTER COLUMN seq SET DEFAULT nextval('audit_log_seq');
-- The writer's transaction id. Entries written before this migration have
-- none; they are all sealed below.
ALTER TABLE audit_log ADD COLUMN xid xid8;
ALTER TABLE audit_log ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX audit_log_xid ON audit_log (xid);

CREATE TABLE audit_seals (
    pos   BIGINT PRIMARY KEY,
    seq   BIGINT NOT NULL UNIQUE,
    hash  TEXT   COLLATE "C" NOT NULL
);
CREATE TRIGGER audit_seals_no_change BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The head: the last position and hash, and the sealer's watermark: every
-- entry not yet visible to the sealer's last snapshot has xid >= low_xid.
CREATE TABLE audit_seal_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    pos        BIGINT  NOT NULL,
    hash       TEXT    COLLATE "C" NOT NULL,
    low_xid    BIGINT  NOT NULL,
    sealed_at  TEXT    COLLATE "C" NOT NULL
);

-- The old chain is kept as it was: position = seq, the same hashes.
INSERT INTO audit_seals (pos, seq, hash) SELECT seq, seq, hash FROM audit_log ORDER BY seq;
INSERT INTO audit_seal_state (id, pos, hash, low_xid, sealed_at)
    SELECT 1, seq, hash, 0, '' FROM audit_head WHERE id = 1;
DROP TABLE audit_head;

-- +goose Down
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT  NOT NULL,
    hash  TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) SELECT 1, pos, hash FROM audit_seal_state;
DROP TABLE audit_seal_state;
DROP TABLE audit_seals;
DROP INDEX audit_log_xid;
ALTER TABLE audit_log DROP COLUMN xid;
ALTER TABLE audit_log ALTER COLUMN seq DROP DEFAULT;
DROP SEQUENCE audit_log_seq;
