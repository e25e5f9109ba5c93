package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Group commit on SQLite. SQLite has one writer, and with synchronous(FULL)
// every commit waits for the disk; one transaction after another, a writer
// spends most of its time waiting. So write transactions are handed to one
// goroutine, which runs each caller's function inside a SAVEPOINT of a
// transaction it shares with the callers queued meanwhile, and commits them
// together: one fsync for the group. Each caller's work stays atomic (a
// failing function rolls back to its savepoint, taking nothing of the others
// with it), and no caller hears success before the group's COMMIT has
// returned, so an acknowledged write survives a crash as before.
//
// A read's own write (its audit entry, or a session's touch, which a
// request waits for before it is served) goes ahead of the queued write
// transactions, and its group is
// committed right after it: the reader waits for the caller being run and
// one commit, not for the queue. Beside 8 clients writing follow-ups, a
// community's figures took 28-61 ms at p99 when their audit entry waited in
// the queue, where the read itself took 5-13 ms; ahead of it, 24-31 ms
// (issue 16, item 7).

// maxGroup bounds how many callers share one commit.
const maxGroup = 64

// errGroupLost says the group's transaction was lost before its commit
// (SQLite rolled it back after an error); the function is run again.
var errGroupLost = errors.New("store: group transaction lost")

type writeReq struct {
	ctx    context.Context
	fn     func(*Tx) error
	result chan error
	ahead  bool // a read's write (TransactForRead)
}

// panicked carries a panic from a caller's function back to its goroutine.
type panicked struct{ value any }

func (p *panicked) Error() string { return fmt.Sprint("store: panic in transaction: ", p.value) }

// groupTransact hands fn to the writer goroutine, in the lane of reads'
// writes when ahead, and waits for the group's outcome.
func (db *DB) groupTransact(ctx context.Context, fn func(*Tx) error, ahead bool) error {
	lane := db.writes
	if ahead {
		lane = db.ahead
	}
	for attempt := 0; ; attempt++ {
		req := &writeReq{ctx: ctx, fn: fn, result: make(chan error, 1), ahead: ahead}
		select {
		case lane <- req:
		case <-ctx.Done():
			return ctx.Err()
		case <-db.quit:
			return errors.New("store: database closed")
		}
		// Once queued, the function runs to its end: the caller waits for
		// the outcome even if its context ends meanwhile.
		err := <-req.result
		var p *panicked
		if errors.As(err, &p) {
			panic(p.value)
		}
		if errors.Is(err, errGroupLost) && attempt < 3 {
			continue
		}
		return err
	}
}

// writeLoop runs the groups until the database is closed.
func (db *DB) writeLoop() {
	defer close(db.stopped)
	for {
		var first *writeReq
		select {
		case first = <-db.ahead:
		case first = <-db.writes:
		case <-db.quit:
			return
		}
		db.runGroup(first)
		// Between groups the writer's connection is free.
		db.wStmts.prepare(context.Background())
	}
}

// nextCaller returns the caller to run next in the group, or nil to commit it:
// a read's write first; a queued write unless the group already holds a
// read's write (closing), which is then committed without waiting for them.
func (db *DB) nextCaller(closing bool) *writeReq {
	select {
	case r := <-db.ahead:
		return r
	default:
	}
	if closing {
		return nil
	}
	select {
	case r := <-db.writes:
		return r
	default:
		return nil
	}
}

func (db *DB) runGroup(first *writeReq) {
	sqlTx, err := db.w.BeginTx(context.Background(), nil)
	if err != nil {
		first.result <- fmt.Errorf("store: begin: %w", err)
		return
	}
	tx := &Tx{tx: sqlTx, engine: db.engine, detached: true, stmts: db.wStmts}
	var done []*writeReq
	closing := false
	for next := first; next != nil; {
		err := runSaved(tx, next)
		switch {
		case errors.Is(err, errGroupLost):
			sqlTx.Rollback()
			next.result <- err
			for _, r := range done {
				r.result <- errGroupLost
			}
			return
		case err != nil:
			next.result <- err
		default:
			done = append(done, next)
		}
		closing = closing || next.ahead
		next = nil
		if len(done) < maxGroup {
			next = db.nextCaller(closing)
		}
	}
	if len(done) == 0 {
		sqlTx.Rollback()
		return
	}
	err = sqlTx.Commit()
	if err != nil {
		err = fmt.Errorf("store: commit: %w", err)
	}
	for _, r := range done {
		r.result <- err
	}
}

// runSaved runs one caller's function inside a savepoint of the group's
// transaction, undoing exactly its work when it fails.
func runSaved(tx *Tx, r *writeReq) (err error) {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if _, err := tx.tx.Exec(`SAVEPOINT kith_caller`); err != nil {
		return fmt.Errorf("%w: %v", errGroupLost, err)
	}
	tx.now = time.Now().UTC().Truncate(time.Microsecond)
	defer func() {
		if p := recover(); p != nil {
			err = &panicked{p}
		}
		if err == nil {
			if _, rerr := tx.tx.Exec(`RELEASE kith_caller`); rerr != nil {
				err = fmt.Errorf("%w: %v", errGroupLost, rerr)
			}
			return
		}
		if _, rerr := tx.tx.Exec(`ROLLBACK TO kith_caller`); rerr != nil {
			err = fmt.Errorf("%w: %v (after %v)", errGroupLost, rerr, err)
			return
		}
		if _, rerr := tx.tx.Exec(`RELEASE kith_caller`); rerr != nil {
			err = fmt.Errorf("%w: %v (after %v)", errGroupLost, rerr, err)
		}
	}()
	return r.fn(tx)
}
