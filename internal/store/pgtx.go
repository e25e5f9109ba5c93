package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Transactions on PostgreSQL are run by hand on one connection, so that
// statements whose results nobody waits for travel together (issue 16).
// database/sql's transaction sends BEGIN, every statement and COMMIT one
// round trip each, and a follow-up's transaction was eleven of them: with
// the server and the database on one machine, the system calls and context
// switches of the round trips cost more processor time than most of the
// statements. Here:
//
//   - BEGIN is queued, and goes with the transaction's first statement that
//     is sent through the queue (Exec, Later);
//   - Later queues a statement whose result is not needed (an audit entry,
//     a summary's update, a counter's bump) to go with the next one;
//   - Exec sends the queue and its statement in one batch (pgx's pipeline);
//   - the commit sends what is queued and COMMIT in one batch, and a
//     transaction that sent nothing sends nothing;
//   - a read-only transaction at READ COMMITTED (Read) sends no BEGIN and
//     no COMMIT at all: at that level each statement takes its own
//     snapshot inside a transaction too, so the two round trips bought
//     nothing but PostgreSQL's refusal of writes, which Exec and Later
//     give instead (errWriteInRead).
//
// Query and QueryRow run through database/sql on the same connection, after
// the queue is sent. A queued statement's error stops the batch there
// (PostgreSQL skips the rest of it up to its end) and is kept: every later
// statement of the transaction fails without being sent, and the
// transaction rolls back with that error, so nothing is half-written.
// Before the connection goes back to the pool it must be outside any
// transaction; one that is not (a ROLLBACK that could not be sent) is
// closed.

type queued struct {
	query string // rebound for PostgreSQL
	args  []any
	check bool // the request's Check (check.go)
}

// beginSQL is the BEGIN statement for opts.
func beginSQL(opts *sql.TxOptions) (string, error) {
	if opts == nil {
		return "BEGIN", nil
	}
	s := "BEGIN"
	switch opts.Isolation {
	case sql.LevelDefault, sql.LevelReadCommitted:
	case sql.LevelRepeatableRead:
		s += " ISOLATION LEVEL REPEATABLE READ"
	case sql.LevelSerializable:
		s += " ISOLATION LEVEL SERIALIZABLE"
	default:
		return "", fmt.Errorf("store: isolation level %v is not supported", opts.Isolation)
	}
	if opts.ReadOnly {
		s += " READ ONLY"
	}
	return s, nil
}

// tryPG runs fn once in a transaction on a connection of pool.
func (db *DB) tryPG(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(*Tx) error) (err error) {
	start := time.Now()
	begin, err := beginSQL(opts)
	if err != nil {
		return err
	}
	c := checkOf(ctx)
	if c != nil && !c.claim() {
		// Answered false, or out with another transaction of the request.
		if err := db.Verify(ctx); err != nil {
			return err
		}
		c = nil
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		if c != nil {
			c.unclaim()
		}
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{conn: conn, trips: &db.roundTrips, engine: Postgres, now: time.Now().UTC().Truncate(time.Microsecond),
		readOnly: opts != nil && opts.ReadOnly}
	tx.autocommit = tx.readOnly && (opts.Isolation == sql.LevelDefault || opts.Isolation == sql.LevelReadCommitted)
	if !tx.autocommit {
		tx.queued = append(tx.queued, queued{query: begin})
	}
	if c != nil {
		// Right after BEGIN: the first batch carries it ahead of the rest.
		tx.check = c
		tx.queued = append(tx.queued, queued{query: c.pgCheckSQL(), args: c.Args, check: true})
	}
	defer func() {
		p := recover()
		if p == nil && err == nil {
			if err = tx.commit(ctx); err != nil {
				err = fmt.Errorf("store: commit: %w", err)
			}
		}
		if p != nil || err != nil {
			if tx.failed == nil && err != nil {
				tx.failed = err
			}
			tx.rollback(ctx)
		}
		tx.dropQueued() // a read that sent nothing leaves its check for the next
		tx.release()
		if p != nil {
			panic(p)
		}
		// Never log arguments: they hold personal data.
		slog.Debug("transaction", "duration", time.Since(start))
	}()
	err = fn(tx)
	if errors.Is(err, errNotSent) {
		// fn failed at a QueryRow that was not sent because a queued
		// statement had failed: that statement's error is the cause.
		err = tx.failed
	}
	return err
}

// send sends the queued statements and then, if not empty, in one round
// trip, and returns the last one's command tag.
func (tx *Tx) send(ctx context.Context, then string, args ...any) (pgconn.CommandTag, error) {
	if tx.failed != nil {
		return pgconn.CommandTag{}, tx.failed
	}
	if then != "" {
		tx.queued = append(tx.queued, queued{query: then, args: args})
	}
	if len(tx.queued) == 0 {
		return pgconn.CommandTag{}, nil
	}
	var b pgx.Batch
	check := -1
	for i, q := range tx.queued {
		if q.check {
			check = i
		}
		b.Queue(q.query, q.args...)
	}
	tx.queued = tx.queued[:0]
	tx.sent = true
	tx.trips.Add(1)
	var tag pgconn.CommandTag
	answered := false
	err := tx.conn.Raw(func(dc any) error {
		res := dc.(*stdlib.Conn).Conn().SendBatch(ctx, &b)
		for i := range b.Len() {
			var err error
			if tag, err = res.Exec(); err != nil {
				res.Close()
				return err
			}
			answered = answered || i == check
		}
		return res.Close()
	})
	if check >= 0 {
		err = tx.check.settle(answered, err)
	}
	if err != nil {
		tx.failed = err
	}
	return tag, err
}

// sendQueries is QueryAll on PostgreSQL: the queued statements and the
// queries in one batch. A query's error, or its Row's, ends the
// transaction as a queued statement's does.
func (tx *Tx) sendQueries(ctx context.Context, queries []Query) error {
	if tx.failed != nil {
		return tx.failed
	}
	var b pgx.Batch
	carried, answered := false, false
	for _, q := range tx.queued {
		qq := b.Queue(q.query, q.args...)
		if q.check {
			carried = true
			qq.Exec(func(pgconn.CommandTag) error { answered = true; return nil })
		}
	}
	tx.queued = tx.queued[:0]
	for _, q := range queries {
		b.Queue(rebind(tx.engine, q.SQL), q.Args...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if err := q.Row(rows.Scan); err != nil {
					return err
				}
			}
			return rows.Err()
		})
	}
	tx.sent = true
	tx.trips.Add(1)
	err := tx.conn.Raw(func(dc any) error {
		return dc.(*stdlib.Conn).Conn().SendBatch(ctx, &b).Close()
	})
	if carried {
		err = tx.check.settle(answered, err)
	}
	if err != nil {
		tx.failed = err
	}
	return err
}

// flush sends the queued statements, if any, before a statement that
// cannot go with them (Query, QueryRow, COPY).
func (tx *Tx) flush(ctx context.Context) error {
	_, err := tx.send(ctx, "")
	return err
}

// errWriteInRead refuses a write in a read-only transaction on PostgreSQL.
var errWriteInRead = errors.New("store: a write in a read-only transaction")

func (tx *Tx) commit(ctx context.Context) error {
	if tx.autocommit {
		return nil
	}
	if !tx.sent && !tx.wrote() {
		// Nothing but BEGIN (and the check, left for the next
		// transaction): there is nothing to send.
		tx.dropQueued()
		return nil
	}
	tag, err := tx.send(ctx, "COMMIT")
	if err != nil {
		return err
	}
	if tag.String() != "COMMIT" {
		// PostgreSQL answers COMMIT with ROLLBACK in a transaction that
		// failed; a statement's error was not returned by fn.
		tx.failed = errors.New("the transaction was rolled back after an error")
		return tx.failed
	}
	return nil
}

// wrote reports whether anything but BEGIN and the check is queued.
func (tx *Tx) wrote() bool {
	for i, q := range tx.queued {
		if i > 0 && !q.check {
			return true
		}
	}
	return false
}

// dropQueued forgets what was not sent, handing back an unsent check.
func (tx *Tx) dropQueued() {
	for _, q := range tx.queued {
		if q.check {
			tx.check.unclaim()
		}
	}
	tx.queued = nil
}

func (tx *Tx) rollback(ctx context.Context) {
	tx.dropQueued()
	if !tx.sent || tx.autocommit {
		return
	}
	// Not cancelled with the request: the connection must leave the
	// transaction before it goes back to the pool.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	tx.trips.Add(1)
	tx.conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().Exec(ctx, "ROLLBACK")
		return err
	})
}

// release gives the connection back to the pool, or closes it if it is
// still inside a transaction.
func (tx *Tx) release() {
	tx.conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		if c.IsClosed() || c.PgConn().TxStatus() != 'I' {
			return driver.ErrBadConn // database/sql closes the connection
		}
		return nil
	})
	tx.conn.Close()
}

// errNotSent is the error of a QueryRow after a queued statement failed.
var errNotSent = errors.New("store: not sent: an earlier statement of the transaction failed")

// notSent is a pool whose every query fails with errNotSent without a
// connection: how QueryRow, which returns no error of its own, refuses to
// send a query after a queued statement failed. Sending it would not do: a
// queued statement that failed to prepare took BEGIN with it, and the query
// would run, and commit, outside the transaction.
var notSent = sql.OpenDB(failing{errNotSent})

// checkFailed is notSent for a request whose check did not hold.
var checkFailed = sql.OpenDB(failing{ErrCheckFailed})

type failing struct{ err error }

func (f failing) Connect(context.Context) (driver.Conn, error) { return nil, f.err }
func (failing) Driver() driver.Driver                          { return nil }

// pgResult is an Exec's result on PostgreSQL, from its command tag.
type pgResult struct{ tag pgconn.CommandTag }

func (r pgResult) LastInsertId() (int64, error) {
	return 0, errors.New("store: LastInsertId is not supported on PostgreSQL; use RETURNING")
}

func (r pgResult) RowsAffected() (int64, error) { return r.tag.RowsAffected(), nil }
