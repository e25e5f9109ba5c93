package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

func openTestSQLite(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "kith.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

const insertUnit = `INSERT INTO org_units (code, name, level, path, created_at, updated_at) VALUES (?, ?, 'district', ?, ?, ?)`

// TestPreparedStatements: on SQLite a statement run twice is prepared and
// then used with other arguments; a Query, which is not, may run the same
// text again inside its own loop (one cursor per prepared statement would
// cut the loop short).
func TestPreparedStatements(t *testing.T) {
	db := openTestSQLite(t)
	ctx := context.Background()
	for i := range 5 {
		code := fmt.Sprintf("D%d", i)
		if err := db.Transact(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, insertUnit, code, "名"+code, "/"+code+"/", FormatTime(tx.Now()), FormatTime(tx.Now()))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if db.wStmts.lookup(insertUnit) == nil {
		t.Error("the insert run five times is not prepared on the writer")
	}
	const byCode = `SELECT name FROM org_units WHERE code = ?`
	const all = `SELECT code FROM org_units ORDER BY code`
	err := db.Read(ctx, func(tx *Tx) error {
		for i := range 5 {
			var name string
			if err := tx.QueryRow(ctx, byCode, fmt.Sprintf("D%d", i)).Scan(&name); err != nil {
				return err
			}
			if want := fmt.Sprintf("名D%d", i); name != want {
				t.Errorf("name of D%d = %q, want %q", i, name, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Twice, so that the second time the inner query is prepared.
	for range 2 {
		err := db.Read(ctx, func(tx *Tx) error {
			rows, err := tx.Query(ctx, all)
			if err != nil {
				return err
			}
			defer rows.Close()
			n := 0
			for rows.Next() && n <= 5 { // a cursor reset under the loop runs it again and again
				n++
				var first string
				if err := tx.QueryRow(ctx, all).Scan(&first); err != nil {
					return err
				}
			}
			if n != 5 {
				t.Errorf("the loop saw %d units, want 5", n)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Prepared after the read ended, on the reader pool.
	if db.rStmts.lookup(byCode) == nil {
		t.Error("the query run five times is not prepared on the reader")
	}
	var name string
	if err := db.Read(ctx, func(tx *Tx) error { return tx.QueryRow(ctx, byCode, "D3").Scan(&name) }); err != nil || name != "名D3" {
		t.Errorf("prepared query: %q, %v; want 名D3", name, err)
	}
}

// TestQueryAllPrepared: QueryAll's queries are prepared on SQLite as
// QueryRow's are: a follow-up's summary read through it was parsed anew at
// every follow-up (a third of the server's processor at 8 clients), and
// the result is the same through the prepared statement.
func TestQueryAllPrepared(t *testing.T) {
	db := openTestSQLite(t)
	ctx := context.Background()
	if err := db.Transact(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, insertUnit, "D1", "名D1", "/D1/", FormatTime(tx.Now()), FormatTime(tx.Now()))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const byCode = `SELECT name FROM org_units WHERE code = ?`
	for i := range 3 {
		var names []string
		err := db.Read(ctx, func(tx *Tx) error {
			return tx.QueryAll(ctx, Query{SQL: byCode, Args: []any{"D1"}, Row: func(scan func(...any) error) error {
				var n string
				err := scan(&n)
				names = append(names, n)
				return err
			}})
		})
		if err != nil || len(names) != 1 || names[0] != "名D1" {
			t.Fatalf("read %d: %v, %v; want [名D1]", i+1, names, err)
		}
	}
	if db.rStmts.lookup(byCode) == nil {
		t.Error("the query run three times through QueryAll is not prepared on the reader")
	}
}

// TestNoStatSamples: analysing keeps SQLite's counts per index but drops
// its samples, with which every prepared statement would be compiled
// again whenever its arguments change.
func TestNoStatSamples(t *testing.T) {
	db := openTestSQLite(t)
	ctx := context.Background()
	if err := db.Transact(ctx, func(tx *Tx) error {
		for i := range 200 {
			code := fmt.Sprintf("U%03d", i)
			if _, err := tx.Exec(ctx, insertUnit, code, code, "/"+code+"/", FormatTime(tx.Now()), FormatTime(tx.Now())); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, analyse := range []func() error{
		func() error { return db.Optimize(ctx, "org_units") },
		func() error { return db.Analyze(ctx, "org_units") },
	} {
		if err := analyse(); err != nil {
			t.Fatal(err)
		}
		var samples, counts int
		if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM sqlite_stat4), (SELECT count(*) FROM sqlite_stat1)`).Scan(&samples, &counts); err != nil {
			t.Fatal(err)
		}
		if samples != 0 || counts == 0 {
			t.Errorf("after analysis: %d samples (want 0), %d counts (want some)", samples, counts)
		}
	}
}
