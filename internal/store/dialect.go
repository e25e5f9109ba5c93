package store

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// This file holds every difference between the engines that the rest of the
// code must not know about.

// rebind turns ? placeholders into $1, $2, … for PostgreSQL. A ? inside a
// quoted string literal is left alone.
func rebind(e Engine, q string) string {
	if e != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var sq *sqlite.Error
	if errors.As(err, &sq) {
		return sq.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sq.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isRetryable reports whether a transaction failed only because it collided
// with another one and may simply be run again.
func isRetryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40001" || pg.Code == "40P01"
	}
	var sq *sqlite.Error
	if errors.As(err, &sq) {
		return sq.Code() == sqlite3.SQLITE_BUSY || sq.Code()&0xff == sqlite3.SQLITE_BUSY
	}
	return false
}

// Beneath returns the bounds lo <= path < hi of the paths at or beneath
// the org unit path p (which ends in "/"). A range, unlike LIKE, uses a
// plain index on both engines: every path beneath /D1/ starts with "/D1/",
// and "/" sorts just before "0", so none reaches "/D10".
func Beneath(p string) (lo, hi string) {
	if p == "" {
		return "", "\x7f"
	}
	return p, p[:len(p)-1] + "0"
}

// BulkInsert adds rows to table in one go: COPY on PostgreSQL, a prepared
// INSERT inside one transaction on SQLite. It is for generated and imported
// data, which it writes without the service's checks or audit.
func (db *DB) BulkInsert(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if db.engine == Postgres {
		conn, err := db.w.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
			return err
		})
	}
	q := "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES (" + Marks(len(columns)) + ")"
	return db.Transact(ctx, func(tx *Tx) error {
		stmt, err := tx.tx.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, r...); err != nil {
				return err
			}
		}
		return nil
	})
}

// SyncIdentity moves table's id generator past the largest id, after rows
// were inserted with explicit ids (SQLite needs nothing).
func (db *DB) SyncIdentity(ctx context.Context, table string) error {
	if db.engine != Postgres {
		return nil
	}
	_, err := db.w.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'), COALESCE((SELECT max(id) FROM `+table+`), 1))`)
	return err
}

// Analyze refreshes the planner's statistics of tables that are growing
// fast, without the vacuum of Optimize: on PostgreSQL ANALYZE, which
// samples a table and replans the statements prepared on it; on SQLite
// PRAGMA optimize, which analyses only where the statistics are stale.
func (db *DB) Analyze(ctx context.Context, tables ...string) error {
	if db.engine == SQLite {
		return db.analyzeSQLite(ctx, "PRAGMA optimize")
	}
	_, err := db.w.ExecContext(ctx, "ANALYZE "+strings.Join(tables, ", "))
	return err
}

// analyzeSQLite runs q, which analyses tables, and then drops the samples
// that ANALYZE keeps beside its counts (sqlite_stat4). With samples, SQLite
// compiles a statement again whenever a value bound against an indexed
// column changes (another value might suit another plan): the prepared
// statements of stmts.go were parsed anew at nearly every run, a fifth of
// the server's CPU at 8 clients, and follow-ups went from about 1,300 to
// 2,300 a second without them (issue 16). The counts per index
// (sqlite_stat1), which choose Kith's plans, stay. ANALYZE sqlite_schema
// makes the connection load the statistics again.
func (db *DB) analyzeSQLite(ctx context.Context, q string) error {
	if _, err := db.w.ExecContext(ctx, q); err != nil {
		return err
	}
	var n int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'`).Scan(&n); err != nil || n == 0 {
		return err
	}
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sqlite_stat4; ANALYZE sqlite_schema`); err != nil {
		return err
	}
	db.renewReaders()
	return nil
}

// renewReaders closes the idle reader connections: a SQLite connection
// loads the planner's statistics when it opens (or when the schema
// changes), so only new connections see an analysis just made. A reader
// busy meanwhile is renewed when its lifetime ends (readerLifetime).
func (db *DB) renewReaders() {
	db.r.SetMaxIdleConns(0)
	db.r.SetMaxIdleConns(readers)
}

// Optimize refreshes the query planner's statistics where they are stale.
// SQLite keeps none unless asked (PRAGMA optimize runs ANALYZE on the tables
// that need it); without them it may choose a plan hundreds of times slower
// once a table is large. PostgreSQL's autovacuum does this by itself.
//
// After a bulk load, name the tables loaded: they are analysed at once, and
// on PostgreSQL vacuumed too, which sets the fresh rows' hint bits and
// visibility map (the first province figures after loading a million
// patients took 730 ms instead of 240 ms without it).
func (db *DB) Optimize(ctx context.Context, loaded ...string) error {
	var q string
	switch {
	case len(loaded) > 0 && db.engine == Postgres:
		q = "VACUUM (ANALYZE) " + strings.Join(loaded, ", ")
	case len(loaded) > 0:
		q = "ANALYZE " + strings.Join(loaded, "; ANALYZE ")
	case db.engine == Postgres:
		return nil
	default:
		q = "PRAGMA optimize"
	}
	if db.engine == SQLite {
		return db.analyzeSQLite(ctx, q)
	}
	_, err := db.w.ExecContext(ctx, q)
	return err
}

// greatest names the function that returns the larger of its arguments:
// SQLite's two-argument max is PostgreSQL's GREATEST.
func greatest(e Engine) string {
	if e == Postgres {
		return "GREATEST"
	}
	return "max"
}

// IsUnavailable reports whether err means that the database could not be
// reached, or the connection failed, before anything of the statement was
// sent: what was asked did not happen and may be asked again. A connection
// lost after that (during a commit, say) is not: its outcome is unknown.
// Nor is a request its caller cancelled: pgx reports it as safe to retry,
// but the database was there, and the caller must be able to tell that it
// stopped the work itself (an import cancelled between batches).
func IsUnavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || pgconn.SafeToRetry(err)
}

// NextIDs reserves n ids of table's id generator for rows the caller
// inserts with explicit ids (InsertRows), so that rows which reference
// each other can be written in bulk. On PostgreSQL they come from the
// identity's sequence, and so never clash with a concurrent insert; on
// SQLite the transaction holds the one write lock, and they follow the
// largest id.
func (tx *Tx) NextIDs(ctx context.Context, table string, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if n == 0 {
		return ids, nil
	}
	if tx.engine == Postgres {
		rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('`+table+`', 'id')) FROM generate_series(1, ?)`, n)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
	var max int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(max(id), 0) FROM `+table).Scan(&max); err != nil {
		return nil, err
	}
	for i := range n {
		ids = append(ids, max+1+int64(i))
	}
	return ids, nil
}

// NextID is a query for QueryAll that reserves one id of table's id
// generator into id, as NextIDs does: a row inserted with it needs no
// RETURNING, and can go with the transaction's next statement (Later).
func (tx *Tx) NextID(table string, id *int64) Query {
	q := `SELECT COALESCE(max(id), 0) + 1 FROM ` + table
	if tx.engine == Postgres {
		q = `SELECT nextval(pg_get_serial_sequence('` + table + `', 'id'))`
	}
	return Query{SQL: q, Row: func(scan func(...any) error) error { return scan(id) }}
}

// Marks is n placeholders, comma-separated, for a list of values: IN (…),
// VALUES (…).
func Marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// maxParams bounds the parameters of one statement of InsertRows, below
// both engines' limits (SQLite's 32,766, PostgreSQL's 65,535).
const maxParams = 30000

// InsertRows inserts rows into table in the transaction with multi-row
// INSERT statements, as many rows a statement as the parameters allow: one
// round trip for hundreds of rows instead of one each. On PostgreSQL it
// copies them (COPY), several times faster than INSERT.
func (tx *Tx) InsertRows(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if tx.conn != nil {
		if err := tx.flush(ctx); err != nil {
			return err
		}
		return tx.conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(tx.ctx(ctx), pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
			return err
		})
	}
	per := max(1, maxParams/len(columns))
	one := "(" + Marks(len(columns)) + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES "
	for len(rows) > 0 {
		k := min(per, len(rows))
		args := make([]any, 0, k*len(columns))
		for _, r := range rows[:k] {
			args = append(args, r...)
		}
		if _, err := tx.Exec(ctx, head+strings.TrimSuffix(strings.Repeat(one+", ", k), ", "), args...); err != nil {
			return err
		}
		rows = rows[k:]
	}
	return nil
}
