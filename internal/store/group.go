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

// maxGroup bounds how many callers share one commit.
const maxGroup = 64

// errGroupLost says the group's transaction was lost before its commit
// (SQLite rolled it back after an error); the function is run again.
var errGroupLost = errors.New("store: group transaction lost")

type writeReq struct {
	ctx    context.Context
	fn     func(*Tx) error
	result chan error
}

// panicked carries a panic from a caller's function back to its goroutine.
type panicked struct{ value any }

func (p *panicked) Error() string { return fmt.Sprint("store: panic in transaction: ", p.value) }

// groupTransact hands fn to the writer goroutine and waits for the group's
// outcome.
func (db *DB) groupTransact(ctx context.Context, fn func(*Tx) error) error {
	for attempt := 0; ; attempt++ {
		req := &writeReq{ctx: ctx, fn: fn, result: make(chan error, 1)}
		select {
		case db.writes <- req:
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
		select {
		case first := <-db.writes:
			db.runGroup(first)
			// Between groups the writer's connection is free.
			db.wStmts.prepare(context.Background())
		case <-db.quit:
			return
		}
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
		next = nil
		if len(done) < maxGroup {
			select {
			case next = <-db.writes:
			default:
			}
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
