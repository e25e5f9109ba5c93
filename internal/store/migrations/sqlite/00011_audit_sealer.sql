-- +goose Up
-- The audit log without a global head row (issue 16). An entry is inserted
-- by the business transaction with nothing but its sequence number (the
-- rowid); a single sealer chains committed entries afterwards, in its own
-- transactions: audit_seals gives each entry its place in the chain and its
-- hash, and audit_seal_state is the chain's head (written only by the
-- sealer). SQLite has one writer, so entries commit in seq order and the
-- sealer's watermark is simply the last sealed seq. See internal/audit.
CREATE TABLE audit_seals (
    pos   INTEGER PRIMARY KEY,
    seq   INTEGER NOT NULL UNIQUE,
    hash  TEXT    NOT NULL
);
-- +goose StatementBegin
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END;
-- +goose StatementEnd

CREATE TABLE audit_seal_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    pos        INTEGER NOT NULL,
    hash       TEXT    NOT NULL,
    low_xid    INTEGER NOT NULL,
    sealed_at  TEXT    NOT NULL
);

-- The old chain is kept as it was: position = seq, the same hashes.
INSERT INTO audit_seals (pos, seq, hash) SELECT seq, seq, hash FROM audit_log ORDER BY seq;
INSERT INTO audit_seal_state (id, pos, hash, low_xid, sealed_at)
    SELECT 1, seq, hash, seq, '' FROM audit_head WHERE id = 1;
DROP TABLE audit_head;

-- +goose Down
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) SELECT 1, pos, hash FROM audit_seal_state;
DROP TABLE audit_seal_state;
DROP TABLE audit_seals;
