package store_test

import (
	"context"
	"errors"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestCheck: a request's Check goes with its first transaction's first
// batch and costs no round trip of its own; one that does not hold leaves
// nothing written — even when its batch ends with COMMIT — and fails every
// later transaction and query of the request.
func TestCheck(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const insert = `INSERT INTO org_units (code, name, level, path, created_at, updated_at)
			VALUES (?, '单位', 'district', ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`
		if _, err := db.Exec(ctx, insert, "K0", "/K0/"); err != nil {
			t.Fatal(err)
		}
		check := func(code string) context.Context {
			return store.WithCheck(ctx, &store.Check{SQL: `SELECT EXISTS (SELECT 1 FROM org_units WHERE code = ?)`, Args: []any{code}})
		}
		has := func(code string) bool {
			t.Helper()
			var n int
			if err := db.QueryRow(ctx, `SELECT count(*) FROM org_units WHERE code = ?`, code).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 1
		}
		// write queues a unit, then reads in one batch; trips says how
		// many round trips the transaction took.
		write := func(ctx context.Context, code string) (trips int64, err error) {
			before := db.RoundTrips()
			err = db.Transact(ctx, func(tx *store.Tx) error {
				if err := tx.Later(ctx, insert, code, "/"+code+"/"); err != nil {
					return err
				}
				var n int
				return tx.QueryAll(ctx, store.Query{SQL: `SELECT count(*) FROM org_units`,
					Row: func(scan func(...any) error) error { return scan(&n) }})
			})
			return db.RoundTrips() - before, err
		}

		plain, err := write(ctx, "K1")
		if err != nil {
			t.Fatal(err)
		}
		held := check("K0")
		// A read that sends nothing leaves the check for the next one.
		if err := db.Read(held, func(*store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		trips, err := write(held, "K2")
		if err != nil || !has("K2") {
			t.Fatalf("a check that holds: %v, K2 written %v", err, has("K2"))
		}
		if trips != plain {
			t.Errorf("a check that holds: %d round trips, want %d as without it", trips, plain)
		}
		if err := db.Verify(held); err != nil {
			t.Errorf("Verify after the check held: %v", err)
		}

		fails := check("nope")
		if _, err := write(fails, "K3"); !errors.Is(err, store.ErrCheckFailed) || has("K3") {
			t.Errorf("a check that fails: %v, K3 written %v; want ErrCheckFailed and nothing", err, has("K3"))
		}
		if err := db.Verify(fails); !errors.Is(err, store.ErrCheckFailed) {
			t.Errorf("Verify after the check failed: %v", err)
		}
		if err := db.Transact(fails, func(tx *store.Tx) error {
			_, err := tx.Exec(fails, insert, "K4", "/K4/")
			return err
		}); !errors.Is(err, store.ErrCheckFailed) || has("K4") {
			t.Errorf("a later transaction of the failed request: %v, K4 written %v", err, has("K4"))
		}
		var n int
		if err := db.QueryRow(fails, `SELECT count(*) FROM org_units`).Scan(&n); !errors.Is(err, store.ErrCheckFailed) {
			t.Errorf("a later query of the failed request: %v", err)
		}

		// Only queued writes and COMMIT: on PostgreSQL one batch, which
		// the check's error must stop before COMMIT.
		late := check("nope")
		if err := db.Transact(late, func(tx *store.Tx) error { return tx.Later(late, insert, "K5", "/K5/") }); !errors.Is(err, store.ErrCheckFailed) || has("K5") {
			t.Errorf("a check that fails in the committing batch: %v, K5 written %v", err, has("K5"))
		}

		// A read: the rows after the check are not handed on.
		read := check("nope")
		called := false
		err = db.Read(read, func(tx *store.Tx) error {
			return tx.QueryAll(read, store.Query{SQL: `SELECT code FROM org_units`,
				Row: func(func(...any) error) error { called = true; return nil }})
		})
		if !errors.Is(err, store.ErrCheckFailed) || called {
			t.Errorf("a read whose check fails: %v, rows handed on %v", err, called)
		}

		// Verify alone asks the database.
		if err := db.Verify(check("K0")); err != nil {
			t.Errorf("Verify of a check that holds: %v", err)
		}
		if err := db.Verify(check("nope")); !errors.Is(err, store.ErrCheckFailed) {
			t.Errorf("Verify of a check that fails: %v", err)
		}
	})
}
