package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
)

// A Check is a condition that a request's work depends on and that is
// verified with that work rather than before it: an API token read from
// memory, whose row must still say what memory says (issue 16, item 7).
// Asking first costs a round trip of its own, each one a wait for a
// processor under load; a Check instead goes with the first batch that
// the request's first transaction sends.
//
// Why that is as safe as asking first, on PostgreSQL: the check runs as
// kith_check(…) (migration 00029), which raises an error when its
// condition is false, and an error makes PostgreSQL skip every later
// statement of the batch, COMMIT included, and leaves the transaction
// aborted. So nothing the request writes is committed unless the check
// held, and its result is read before any other of the batch (callbacks
// run in order and stop at the first error). A response must not be sent
// before the check is known either: callers hold it back until Verify
// returns (the API's verifiedWriter).
//
// Checks never go to a standby, which may lag the primary: ReadStale
// verifies first. On SQLite, where there is no round trip to save, a
// transaction verifies the check before it begins.
type Check struct {
	// SQL is a query returning one boolean, written with ? placeholders;
	// the check holds when it is true.
	SQL  string
	Args []any

	mu    sync.Mutex
	state checkState
	err   error
}

type checkState int

const (
	checkPending checkState = iota // not yet sent
	checkSent                      // in a batch whose answer has not come
	checkDone                      // answered: err says how
)

// ErrCheckFailed is the error of work whose Check did not hold.
var ErrCheckFailed = errors.New("store: the request's check failed")

type checkKey struct{}

// WithCheck returns a context whose transactions verify c with their work.
func WithCheck(ctx context.Context, c *Check) context.Context {
	return context.WithValue(ctx, checkKey{}, c)
}

// checkOf returns ctx's check, nil if there is none or it held.
func checkOf(ctx context.Context) *Check {
	c, _ := ctx.Value(checkKey{}).(*Check)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == checkDone && c.err == nil {
		return nil
	}
	return c
}

// claim marks c as sent with a batch; false if it is already out or
// answered, in which case the batch must not carry it.
func (c *Check) claim() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != checkPending {
		return false
	}
	c.state = checkSent
	return true
}

// answer records the outcome of a claimed check; err nil means it held.
func (c *Check) answer(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state, c.err = checkDone, err
}

// unclaim puts a claimed check back when its batch failed before the
// check was answered (a lost connection), for the next one to carry.
func (c *Check) unclaim() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == checkSent {
		c.state = checkPending
	}
}

// failed returns the check's error once it was answered false.
func (c *Check) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == checkDone {
		return c.err
	}
	return nil
}

// pgCheckSQL is c as a statement that fails when c does not hold.
func (c *Check) pgCheckSQL() string {
	return rebind(Postgres, "SELECT kith_check(("+c.SQL+"))")
}

// checkFailedCode is the SQLSTATE kith_check raises with
// (invalid_authorization_specification).
const checkFailedCode = "28000"

// settle records what a batch that carried c said about it: ok if the
// check's statement was answered, else the batch's error. It returns the
// error the transaction fails with.
func (c *Check) settle(ok bool, err error) error {
	var pg *pgconn.PgError
	switch {
	case ok:
		c.answer(nil)
	case errors.As(err, &pg) && pg.Code == checkFailedCode:
		c.answer(ErrCheckFailed)
		return ErrCheckFailed
	default:
		c.unclaim()
	}
	return err
}

// Verify makes sure that ctx's check, if any, was verified, asking the
// database now if no transaction carried it yet; it returns ErrCheckFailed
// if the check does not hold. Call it before answering a request that may
// not have run a transaction.
func (db *DB) Verify(ctx context.Context) error {
	c := checkOf(ctx)
	if c == nil {
		return nil
	}
	if err := c.failed(); err != nil {
		return err
	}
	// Not claimed: a transaction of the same request may be carrying it
	// at this moment, and asking again is cheaper than waiting for it.
	var ok bool
	db.trip()
	var row *sql.Row
	if s := db.rStmts.lookup(c.SQL); s != nil { // SQLite: prepared, as DB.QueryRow
		row = s.QueryRowContext(ctx, c.Args...)
	} else {
		row = db.r.QueryRowContext(ctx, rebind(db.engine, c.SQL), c.Args...)
	}
	if err := row.Scan(&ok); err != nil {
		return err
	}
	if !ok {
		c.answer(ErrCheckFailed)
		return ErrCheckFailed
	}
	c.answer(nil)
	return nil
}
