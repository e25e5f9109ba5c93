package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestGroupCommitKeepsEachCallerAtomic: many callers at once, every third
// failing after its first insert, one violating a constraint, one
// panicking, one whose context is already over. On SQLite they share
// commits (group commit); on both engines each caller's work commits whole
// or not at all, and a failing caller takes nothing of the others with it.
func TestGroupCommitKeepsEachCallerAtomic(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := func(tx *store.Tx, code string) error {
			_, err := tx.Exec(ctx, `INSERT INTO org_units (code, name, level, path, created_at, updated_at)
				VALUES (?, ?, 'district', ?, ?, ?)`, code, code, "/"+code+"/", store.FormatTime(tx.Now()), store.FormatTime(tx.Now()))
			return err
		}
		if err := db.Transact(ctx, func(tx *store.Tx) error { return insert(tx, "X") }); err != nil {
			t.Fatal(err)
		}
		const callers = 60
		boom := errors.New("boom")
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if p := recover(); p != nil {
						errs[i] = fmt.Errorf("panic: %v", p)
					}
				}()
				cctx := ctx
				if i == 7 {
					c, cancel := context.WithCancel(ctx)
					cancel()
					cctx = c
				}
				errs[i] = db.Transact(cctx, func(tx *store.Tx) error {
					if err := insert(tx, fmt.Sprintf("A%d", i)); err != nil {
						return err
					}
					switch {
					case i == 5:
						panic("caller 5")
					case i == 11:
						return insert(tx, "X") // duplicate code: a constraint error
					case i%3 == 0:
						return boom
					}
					return insert(tx, fmt.Sprintf("B%d", i))
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			code := fmt.Sprintf("A%d", i)
			var a, b int
			db.QueryRow(ctx, `SELECT count(*) FROM org_units WHERE code = ?`, code).Scan(&a)
			db.QueryRow(ctx, `SELECT count(*) FROM org_units WHERE code = ?`, fmt.Sprintf("B%d", i)).Scan(&b)
			failed := i == 5 || i == 7 || i == 11 || i%3 == 0
			switch {
			case failed && err == nil:
				t.Errorf("caller %d: no error", i)
			case failed && (a != 0 || b != 0):
				t.Errorf("caller %d failed (%v) but left rows: A %d, B %d", i, err, a, b)
			case !failed && err != nil:
				t.Errorf("caller %d: %v", i, err)
			case !failed && (a != 1 || b != 1):
				t.Errorf("caller %d committed but rows are A %d, B %d", i, a, b)
			}
		}
		if err := errs[5]; err == nil || err.Error() != "panic: caller 5" {
			t.Errorf("the panic reached its caller as %v", err)
		}
	})
}

// TestReadsWriteAhead: a read's write (TransactForRead) queued behind
// waiting write transactions runs next and is committed in a group of its
// own, before them (storetest.AheadOfQueuedWrites).
func TestReadsWriteAhead(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	storetest.AheadOfQueuedWrites(t, db, func() error {
		return db.TransactForRead(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO org_units (code, name, level, path, created_at, updated_at)
				VALUES ('R', 'R', 'district', '/R/', ?, ?)`, store.FormatTime(tx.Now()), store.FormatTime(tx.Now()))
			return err
		})
	})
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM org_units WHERE code = 'R'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the read's row: %d (%v), want 1", n, err)
	}
}
