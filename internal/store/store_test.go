package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestTransactCommitsOrRollsBack(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := func(tx *store.Tx, code string) error {
			_, err := tx.Exec(ctx, `INSERT INTO org_units (code, name, level, path, created_at, updated_at)
				VALUES (?, ?, 'district', ?, ?, ?)`, code, "名字", "/"+code+"/", store.FormatTime(tx.Now()), store.FormatTime(tx.Now()))
			return err
		}
		if err := db.Transact(ctx, func(tx *store.Tx) error { return insert(tx, "D1") }); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := db.Transact(ctx, func(tx *store.Tx) error {
			if err := insert(tx, "D2"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Transact error = %v, want boom", err)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM org_units").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("rows after a committed and a failed transaction = %d, want 1", n)
		}
		err = db.Transact(ctx, func(tx *store.Tx) error { return insert(tx, "D1") })
		if !store.IsUniqueViolation(err) {
			t.Errorf("duplicate insert: IsUniqueViolation(%v) = false", err)
		}
		var name string
		if err := db.QueryRow(ctx, "SELECT name FROM org_units WHERE code = ?", "D1").Scan(&name); err != nil || name != "名字" {
			t.Errorf("name = %q, %v; want 名字", name, err)
		}
	})
}

func TestTimeLayoutSortsAsText(t *testing.T) {
	a := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := a.Add(time.Microsecond)
	if !(store.FormatTime(a) < store.FormatTime(b)) {
		t.Errorf("%s !< %s", store.FormatTime(a), store.FormatTime(b))
	}
	got, err := store.ParseTime(store.FormatTime(b))
	if err != nil || !got.Equal(b) {
		t.Errorf("round trip = %v, %v", got, err)
	}
}

// TestNoJITOrParallelWorkers: Kith's PostgreSQL connections compile no
// query with JIT, which cost 70 ms at every run of a 0.1 ms query whose
// estimate was high (issue 16), nor start parallel workers, unless the URL
// asks for them.
func TestNoJITOrParallelWorkers(t *testing.T) {
	if !slices.Contains(storetest.Engines(), store.Postgres) {
		t.Skip("PostgreSQL not configured (" + storetest.EnvPostgres + ")")
	}
	db := storetest.Open(t, store.Postgres)
	var jit, workers string
	err := db.Read(context.Background(), func(tx *store.Tx) error {
		if err := tx.QueryRow(context.Background(), `SHOW jit`).Scan(&jit); err != nil {
			return err
		}
		return tx.QueryRow(context.Background(), `SHOW max_parallel_workers_per_gather`).Scan(&workers)
	})
	if err != nil || jit != "off" || workers != "0" {
		t.Errorf("jit = %q, parallel workers = %q, %v; want off and 0", jit, workers, err)
	}
}

// TestReplannedNotKept: on PostgreSQL a query run with QueryReplanned is
// not kept as a prepared statement, whose generic plan PostgreSQL may use
// for any arguments after five runs; a query run with Query is.
func TestReplannedNotKept(t *testing.T) {
	if !slices.Contains(storetest.Engines(), store.Postgres) {
		t.Skip("PostgreSQL not configured (" + storetest.EnvPostgres + ")")
	}
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	err := db.Read(ctx, func(tx *store.Tx) error {
		run := func(query func(context.Context, string, ...any) (*sql.Rows, error), marker string) bool {
			for range 7 {
				rows, err := query(ctx, `SELECT CAST(? AS INTEGER) AS `+marker, 1)
				if err != nil {
					t.Fatal(err)
				}
				rows.Close()
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE ?`,
				"%AS "+marker).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n > 0
		}
		if !run(tx.Query, "kept_marker") {
			t.Error("a query run with Query is not kept prepared; this test no longer sees prepared statements")
		}
		if run(tx.QueryReplanned, "replanned_marker") {
			t.Error("a query run with QueryReplanned is kept prepared, to be run on its generic plan")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestInsertRows: rows an import writes by COPY (PostgreSQL) or INSERT
// belong to the transaction: kept when it commits, gone when it fails, and
// the transaction's other statements see them.
func TestInsertRows(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cols := []string{"code", "name", "level", "path", "population", "created_at", "updated_at"}
		rows := func(prefix string) [][]any {
			var rs [][]any
			for i := range 3 {
				code := fmt.Sprintf("%s%d", prefix, i)
				rs = append(rs, []any{code, "单位" + code, "district", "/" + code + "/", int64(10), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"})
			}
			return rs
		}
		count := func(prefix string) int {
			var n int
			if err := db.QueryRow(ctx, `SELECT count(*) FROM org_units WHERE code LIKE ?`, prefix+"%").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		failed := errors.New("stop")
		err := db.Transact(ctx, func(tx *store.Tx) error {
			if err := tx.InsertRows(ctx, "org_units", cols, rows("BX")); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM org_units WHERE code LIKE 'BX%'`).Scan(&n); err != nil || n != 3 {
				t.Errorf("inside the transaction: %d rows, %v", n, err)
			}
			return failed
		})
		if !errors.Is(err, failed) {
			t.Fatal(err)
		}
		if n := count("BX"); n != 0 {
			t.Fatalf("a failed transaction left %d rows", n)
		}
		if err := db.Transact(ctx, func(tx *store.Tx) error {
			return tx.InsertRows(ctx, "org_units", cols, rows("BY"))
		}); err != nil {
			t.Fatal(err)
		}
		if n := count("BY"); n != 3 {
			t.Fatalf("a committed transaction kept %d rows, want 3", n)
		}
	})
}

// TestLater: statements queued by Later commit with the transaction, even
// alone; the statements after them see them; one that fails fails the
// transaction with its own error, undoes what came before and keeps what
// came after from being written; and the connection is fit for the next
// transaction.
func TestLater(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// One writer's connection on PostgreSQL: a transaction left open
		// on it would show.
		db.SetWriters(1)
		const insert = `INSERT INTO org_units (code, name, level, path, created_at, updated_at)
			VALUES (?, '单位', 'district', ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`
		later := func(tx *store.Tx, code string) error { return tx.Later(ctx, insert, code, "/"+code+"/") }
		count := func(codes ...string) int {
			n := 0
			for _, c := range codes {
				var k int
				if err := db.QueryRow(ctx, `SELECT count(*) FROM org_units WHERE code = ?`, c).Scan(&k); err != nil {
					t.Fatal(err)
				}
				n += k
			}
			return n
		}

		if err := db.Transact(ctx, func(tx *store.Tx) error { return later(tx, "L1") }); err != nil {
			t.Fatal(err)
		}
		if count("L1") != 1 {
			t.Fatal("a transaction of queued statements only did not write them")
		}

		err := db.Transact(ctx, func(tx *store.Tx) error {
			if err := later(tx, "L2"); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM org_units WHERE code = 'L2'`).Scan(&n); err != nil || n != 1 {
				t.Errorf("a query after a queued insert saw %d rows, %v", n, err)
			}
			res, err := tx.Exec(ctx, `UPDATE org_units SET population = 5 WHERE code IN ('L1', 'L2')`)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k != 2 {
				t.Errorf("rows affected = %d, want 2", k)
			}
			return nil
		})
		if err != nil || count("L2") != 1 {
			t.Fatalf("queued, read and updated: %v, %d rows", err, count("L2"))
		}

		var after error
		err = db.Transact(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, insert, "L3", "/L3/"); err != nil {
				return err
			}
			if err := later(tx, "L1"); err != nil { // already there
				return err
			}
			var code string
			after = tx.QueryRow(ctx, insert+` RETURNING code`, "L4", "/L4/").Scan(&code)
			return after
		})
		if !store.IsUniqueViolation(err) {
			t.Fatalf("Transact with a failing queued insert = %v, want its unique violation", err)
		}
		if after == nil && db.Engine() == store.Postgres {
			t.Error("the statement after the failed queued one ran")
		}
		if n := count("L3", "L4"); n != 0 {
			t.Fatalf("a failed transaction left %d rows", n)
		}

		// A queued statement that cannot even be prepared fails the batch
		// before its BEGIN runs: what follows must not run outside the
		// transaction either.
		err = db.Transact(ctx, func(tx *store.Tx) error {
			if err := tx.Later(ctx, `INSERT INTO no_such_table (x) VALUES (?)`, 1); err != nil {
				return err
			}
			var code string
			return tx.QueryRow(ctx, insert+` RETURNING code`, "L7", "/L7/").Scan(&code)
		})
		if err == nil || count("L7") != 0 {
			t.Fatalf("after a queued statement that failed to prepare: %v, %d rows", err, count("L7"))
		}

		if db.Engine() == store.Postgres {
			// A failed statement whose error fn ignores still fails the
			// transaction: PostgreSQL answers its COMMIT with ROLLBACK.
			err = db.Transact(ctx, func(tx *store.Tx) error {
				if err := later(tx, "L5"); err != nil {
					return err
				}
				var x int
				_ = tx.QueryRow(ctx, `SELECT 1 / 0`).Scan(&x)
				return nil
			})
			if err == nil || count("L5") != 0 {
				t.Fatalf("a transaction with an ignored failure: %v, %d rows", err, count("L5"))
			}
		}
		if err := db.Transact(ctx, func(tx *store.Tx) error { return later(tx, "L6") }); err != nil || count("L6") != 1 {
			t.Fatalf("the next transaction: %v, %d rows", err, count("L6"))
		}
	})
}

// TestReadsSendNoTransaction: on PostgreSQL a Read sends neither BEGIN nor
// COMMIT (pgtx.go): at READ COMMITTED each statement took its own snapshot
// inside the transaction too, and the two cost a round trip each on every
// read. Each statement is then a transaction of its own, with its own
// transaction id. A write in a Read is refused on both engines, and leaves
// nothing.
func TestReadsSendNoTransaction(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if db.Engine() == store.Postgres {
			var xids [2]int64
			err := db.Read(ctx, func(tx *store.Tx) error {
				for i := range xids {
					if err := tx.QueryRow(ctx, `SELECT txid_current()`).Scan(&xids[i]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if xids[0] == xids[1] {
				t.Error("the two statements of a Read ran in one transaction")
			}
		}
		const insert = `INSERT INTO org_units (code, name, level, path, created_at, updated_at)
			VALUES (?, '单位', 'district', ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`
		for _, write := range []func(tx *store.Tx) error{
			func(tx *store.Tx) error { _, err := tx.Exec(ctx, insert, "R1", "/R1/"); return err },
			func(tx *store.Tx) error { return tx.Later(ctx, insert, "R1", "/R1/") },
		} {
			if err := db.Read(ctx, write); err == nil {
				t.Error("a write in a Read was not refused")
			}
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM org_units WHERE code = 'R1'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("a refused write in a Read left %d rows, %v", n, err)
		}
	})
}

// TestQueryAll: QueryAll runs its queries after what Later queued, in
// order, and hands every row to its query's Row; a query that fails, or a
// Row that does, fails the transaction, which leaves nothing written. On
// PostgreSQL the queries go in one round trip: in a Read, whose statements
// otherwise run each in a transaction of its own (TestReadsSendNoTransaction),
// they share the one that a pipeline's single sync gives them.
func TestQueryAll(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const insert = `INSERT INTO org_units (code, name, level, path, created_at, updated_at)
			VALUES (?, '单位', 'district', ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`
		var codes []string
		var n int
		err := db.Transact(ctx, func(tx *store.Tx) error {
			if err := tx.Later(ctx, insert, "Q1", "/Q1/"); err != nil {
				return err
			}
			return tx.QueryAll(ctx,
				store.Query{SQL: `SELECT code FROM org_units WHERE code IN (?, ?) ORDER BY code`, Args: []any{"Q1", "Q2"},
					Row: func(scan func(...any) error) error {
						var c string
						err := scan(&c)
						codes = append(codes, c)
						return err
					}},
				store.Query{SQL: `SELECT count(*) FROM org_units WHERE code LIKE ?`, Args: []any{"Q%"},
					Row: func(scan func(...any) error) error { return scan(&n) }})
		})
		if err != nil || !slices.Equal(codes, []string{"Q1"}) || n != 1 {
			t.Fatalf("QueryAll after Later: codes %v, count %d, %v; want [Q1], 1", codes, n, err)
		}
		failures := map[string]store.Query{
			"a query that fails": {SQL: `SELECT code FROM no_such_table`, Row: func(func(...any) error) error { return nil }},
			"a Row that fails": {SQL: `SELECT code FROM org_units WHERE code = ?`, Args: []any{"Q1"},
				Row: func(func(...any) error) error { return errors.New("refused") }},
		}
		for what, q := range failures {
			err := db.Transact(ctx, func(tx *store.Tx) error {
				if err := tx.Later(ctx, insert, "Q2", "/Q2/"); err != nil {
					return err
				}
				return tx.QueryAll(ctx, q)
			})
			var left int
			if err := db.QueryRow(ctx, `SELECT count(*) FROM org_units WHERE code = 'Q2'`).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if err == nil || left != 0 {
				t.Errorf("%s: error %v, %d rows left of its transaction's insert; want an error and none", what, err, left)
			}
		}
		if db.Engine() == store.Postgres {
			var at [2]string
			err := db.Read(ctx, func(tx *store.Tx) error {
				return tx.QueryAll(ctx,
					store.Query{SQL: `SELECT CAST(transaction_timestamp() AS TEXT) FROM pg_sleep(0.02)`,
						Row: func(scan func(...any) error) error { return scan(&at[0]) }},
					store.Query{SQL: `SELECT CAST(transaction_timestamp() AS TEXT)`,
						Row: func(scan func(...any) error) error { return scan(&at[1]) }})
			})
			if err != nil || at[0] != at[1] {
				t.Errorf("QueryAll in a Read: transactions started at %v, %v; want one round trip, one transaction", at, err)
			}
		}
	})
}

// TestReadersLoadStatistics: on SQLite the statistics that opening computes
// (PRAGMA optimize) reach the reader connections, which load them once,
// when they open: a reader opened before them planned a district's plan
// counts through all its patients for the connection's life (issue 16's
// figures under write load, 170-220 ms at p99 instead of 20 ms).
func TestReadersLoadStatistics(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "stats.db")
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	// A large table and a small one, never analysed.
	_, err = db.Exec(ctx, `CREATE TABLE big (id INTEGER PRIMARY KEY, grp TEXT NOT NULL);
		CREATE INDEX big_grp ON big (grp);
		CREATE TABLE small (id INTEGER PRIMARY KEY, big_id INTEGER NOT NULL);
		CREATE INDEX small_big ON small (big_id);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
		INSERT INTO big (id, grp) SELECT i, 'g' || (i % 50) FROM n;
		INSERT INTO small (big_id) VALUES (7), (4000);`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if db, err = store.Open(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if first := plan(t, db); !strings.HasPrefix(first, "SCAN s") {
		t.Errorf("after opening, the reader's plan starts with %q, want the two-row table first (SCAN s): it has no statistics", first)
	}
	// As after a demo load in the server's own process: the tables grow
	// under open readers, and an analysis follows (Optimize).
	if _, err := db.Exec(ctx, `INSERT INTO small (big_id) SELECT id FROM big WHERE id > 10; DELETE FROM big WHERE id > 10`); err != nil {
		t.Fatal(err)
	}
	if err := db.Optimize(ctx, "big", "small"); err != nil {
		t.Fatal(err)
	}
	if first := plan(t, db); !strings.HasPrefix(first, "SEARCH b") {
		t.Errorf("after an analysis, the reader's plan starts with %q, want the table now small first (SEARCH b): it kept the old statistics", first)
	}
}

// plan is the first step of a reader's plan for a join of big and small.
func plan(t *testing.T, db *store.DB) string {
	t.Helper()
	ctx := context.Background()
	var first string
	err := db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `EXPLAIN QUERY PLAN SELECT count(*) FROM small s JOIN big b ON b.id = s.big_id
			WHERE b.grp >= 'g1' AND b.grp < 'g3'`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() && first == "" {
			var id, parent, unused int
			if err := rows.Scan(&id, &parent, &unused, &first); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return first
}

// TestSQLiteReadsMapped: every SQLite connection, the writer's and the
// readers', reads the file through a memory mapping (sqlitePragmas).
func TestSQLiteReadsMapped(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "mapped.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var read, written int64
	if err := db.QueryRow(ctx, `PRAGMA mmap_size`).Scan(&read); err != nil {
		t.Fatal(err)
	}
	if err := db.Transact(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `PRAGMA mmap_size`).Scan(&written)
	}); err != nil {
		t.Fatal(err)
	}
	if read < 1<<30 || written < 1<<30 {
		t.Errorf("mmap_size: reader %d, writer %d bytes; want the file mapped (at least 1 GiB)", read, written)
	}
}

// TestCancelledIsNotUnavailable: a request its caller cancelled fails with
// the cancellation, not as a database that cannot be reached (pgx calls it
// safe to retry): an import cancelled between batches must be able to tell
// that it stopped itself.
func TestCancelledIsNotUnavailable(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		// Cancelled inside a transaction, as a writer of an import is.
		ctx, cancel := context.WithCancel(context.Background())
		err := db.Transact(ctx, func(tx *store.Tx) error {
			cancel()
			_, err := tx.Exec(ctx, `UPDATE figure_versions SET version = version WHERE unit_id = 0`)
			return err
		})
		if err == nil && db.Engine() == store.SQLite {
			return // SQLite's writer ran the transaction before it looked at the context
		}
		if err == nil || store.IsUnavailable(err) || !errors.Is(err, context.Canceled) {
			t.Errorf("a cancelled request: %v, want a cancellation, not an unavailable database", err)
		}
	})
}

// TestWritersInTurn: on PostgreSQL at most SetWriters write transactions
// run at once and the others wait before they begin, while reads and the
// short writes that serve them (TransactForRead: a read's audit entry) go
// on beside them, on a pool of their own.
func TestWritersInTurn(t *testing.T) {
	if !slices.Contains(storetest.Engines(), store.Postgres) {
		t.Skip("PostgreSQL not configured (" + storetest.EnvPostgres + ")")
	}
	db := storetest.Open(t, store.Postgres)
	db.SetWriters(1)
	ctx := context.Background()
	insert := func(ctx context.Context, tx *store.Tx, code string) error {
		_, err := tx.Exec(ctx, `INSERT INTO org_units (code, name, level, path, created_at, updated_at)
			VALUES (?, '名字', 'district', ?, ?, ?)`, code, "/"+code+"/", store.FormatTime(tx.Now()), store.FormatTime(tx.Now()))
		return err
	}
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Transact(ctx, func(tx *store.Tx) error {
			if err := insert(ctx, tx, "D1"); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside

	// The second writer's turn has not come when its time runs out.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	began := false
	err := db.Transact(short, func(tx *store.Tx) error {
		began = true
		return insert(short, tx, "D2")
	})
	cancel()
	if began || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a second writer while the only one is busy: began %v, error %v; want it waiting until its deadline", began, err)
	}

	// A read and a read's audit entry do not wait for the writer.
	soon, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var n int
	if err := db.Read(soon, func(tx *store.Tx) error {
		return tx.QueryRow(soon, `SELECT count(*) FROM org_units`).Scan(&n)
	}); err != nil || n != 0 {
		t.Errorf("read beside the writer: %d units, %v; want 0 (its insert not committed yet)", n, err)
	}
	if err := db.TransactForRead(soon, func(tx *store.Tx) error { return insert(soon, tx, "D3") }); err != nil {
		t.Errorf("a read's short write beside the writer: %v", err)
	}

	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := db.Transact(ctx, func(tx *store.Tx) error { return insert(ctx, tx, "D2") }); err != nil {
		t.Errorf("the next writer once the first is done: %v", err)
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM org_units`).Scan(&n); err != nil || n != 3 {
		t.Errorf("units = %d, %v; want 3", n, err)
	}
}
