package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"kith/internal/audit"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func entry() *audit.Entry {
	return &audit.Entry{Actor: "alice", Action: "patient.read", SubjectType: "patient",
		SubjectID: "42", OrgUnit: "C1", OrgPath: "/D1/S1/C1/", Outcome: audit.Allowed, RequestID: "r"}
}

func appendN(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if err := db.Transact(ctx, func(tx *store.Tx) error { return audit.Append(ctx, tx, entry()) }); err != nil {
			t.Fatal(err)
		}
	}
}

func seal(t *testing.T, db *store.DB) int {
	t.Helper()
	n, err := audit.Seal(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func check(t *testing.T, db *store.DB) audit.Report {
	t.Helper()
	r, err := audit.Check(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// disableGuard removes the append-only guard, as an intruder with direct
// access to the database could.
func disableGuard(t *testing.T, db *store.DB) {
	t.Helper()
	var stmts []string
	if db.Engine() == store.Postgres {
		stmts = []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`, `ALTER TABLE audit_seals DISABLE TRIGGER USER`}
	} else {
		stmts = []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`,
			`DROP TRIGGER audit_seals_no_update`, `DROP TRIGGER audit_seals_no_delete`}
	}
	for _, s := range stmts {
		if _, err := db.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainVerifies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		appendN(t, db, 5)
		if r := check(t, db); r.Sealed != 0 || r.Unsealed != 5 {
			t.Fatalf("before sealing: %+v, want 0 sealed and 5 unsealed", r)
		}
		if n := seal(t, db); n != 5 {
			t.Fatalf("Seal = %d, want 5", n)
		}
		appendN(t, db, 2)
		seal(t, db)
		if n := seal(t, db); n != 0 {
			t.Fatalf("a second Seal sealed %d again", n)
		}
		r := check(t, db)
		if r.Sealed != 7 || r.Unsealed != 0 || r.Head.Pos != 7 {
			t.Fatalf("Check = %+v; want 7 sealed, none unsealed", r)
		}
		var got []audit.Entry
		db.Read(context.Background(), func(tx *store.Tx) (err error) {
			got, err = audit.List(context.Background(), tx, audit.Filter{Limit: 2})
			return err
		})
		if len(got) != 2 || got[0].Pos != 7 || got[0].PrevHash != got[1].Hash || got[0].Hash != r.Head.Hash {
			t.Errorf("List = %+v, want the last two entries with their chain", got)
		}
	})
}

func TestAppendOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		appendN(t, db, 1)
		seal(t, db)
		ctx := context.Background()
		for _, q := range []string{`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`,
			`UPDATE audit_seals SET hash = 'x'`, `DELETE FROM audit_seals`} {
			if _, err := db.Exec(ctx, q); err == nil {
				t.Errorf("%s succeeded", q)
			}
		}
	})
}

func TestTamperingIsFound(t *testing.T) {
	tests := []struct {
		name     string
		tamper   []string
		wantSeq  int64 // 0: the entry is not named
		wantPos  int64
		unsealed int64
	}{
		{"changed actor", []string{`UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`}, 3, 3, 0},
		{"changed and rehashed", []string{`UPDATE audit_log SET outcome = 'denied', hash = 'abc' WHERE seq = 2`}, 2, 2, 0},
		{"changed seal", []string{`UPDATE audit_seals SET hash = 'abc' WHERE pos = 5`}, 5, 5, 0},
		{"removed entry", []string{`DELETE FROM audit_log WHERE seq = 4`}, 4, 4, 0},
		{"removed seal", []string{`DELETE FROM audit_seals WHERE pos = 4`}, 0, 4, 1},
		{"removed tail entry", []string{`DELETE FROM audit_log WHERE seq = 6`}, 6, 6, 0},
		{"truncated tail, entries and seals", []string{`DELETE FROM audit_log WHERE seq >= 5`,
			`DELETE FROM audit_seals WHERE pos >= 5`}, 0, 5, 0},
		{"reordered entries", []string{`UPDATE audit_log SET seq = -2 WHERE seq = 2`,
			`UPDATE audit_log SET seq = 2 WHERE seq = 3`, `UPDATE audit_log SET seq = 3 WHERE seq = -2`}, 2, 2, 0},
		{"reordered seals", []string{`UPDATE audit_seals SET pos = -2 WHERE pos = 2`,
			`UPDATE audit_seals SET pos = 2 WHERE pos = 3`, `UPDATE audit_seals SET pos = 3 WHERE pos = -2`}, 3, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				appendN(t, db, 6)
				seal(t, db)
				disableGuard(t, db)
				for _, q := range tt.tamper {
					if _, err := db.Exec(context.Background(), q); err != nil {
						t.Fatal(err)
					}
				}
				r, err := audit.Check(context.Background(), db)
				var be *audit.BrokenError
				if !errors.As(err, &be) || be.Seq != tt.wantSeq || be.Pos != tt.wantPos {
					t.Fatalf("Check error = %v, want broken at entry %d, position %d", err, tt.wantSeq, tt.wantPos)
				}
				_ = r
			})
		})
	}
}

// TestSealerNeverSkipsInFlight holds a transaction open after it appended
// its entry (so its seq is lower than the entries that commit meanwhile),
// and rolls another back (a permanent gap in seq). The sealer seals what
// has committed without waiting for either, and seals the held entry once
// it commits, after the others; the chain verifies with nothing unsealed.
func TestSealerNeverSkipsInFlight(t *testing.T) {
	db := storetest.Open(t, store.Postgres) // SQLite has one writer: nothing commits out of order
	ctx := context.Background()
	appendN(t, db, 2)
	seal(t, db)
	appended := make(chan int64)
	hold := func(release chan bool, done chan error) {
		var rollback bool
		done <- db.Transact(ctx, func(tx *store.Tx) error {
			e := entry()
			e.Detail = "held"
			if err := audit.Append(ctx, tx, e); err != nil {
				return err
			}
			var seq int64
			if err := tx.QueryRow(ctx, `SELECT max(seq) FROM audit_log WHERE detail = 'held'`).Scan(&seq); err != nil {
				return err
			}
			appended <- seq
			if rollback = !<-release; rollback {
				return errors.New("rolled back")
			}
			return nil
		})
	}
	release, done := make(chan bool), make(chan error)
	go hold(release, done)
	heldSeq := <-appended
	releaseRolled, doneRolled := make(chan bool), make(chan error)
	go hold(releaseRolled, doneRolled)
	rolledSeq := <-appended
	appendN(t, db, 3)
	if n := seal(t, db); n != 3 {
		t.Fatalf("sealed %d while two transactions were open, want the 3 committed", n)
	}
	releaseRolled <- false
	if err := <-doneRolled; err == nil {
		t.Fatal("the second held transaction committed")
	}
	if r := check(t, db); r.Sealed != 5 || r.Unsealed != 0 {
		t.Fatalf("with one transaction in flight: %+v, want 5 sealed and nothing unsealed visible", r)
	}
	release <- true
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := check(t, db); r.Unsealed != 1 {
		t.Fatalf("after the held commit: %+v, want it unsealed", r)
	}
	appendN(t, db, 1)
	if n := seal(t, db); n != 2 {
		t.Fatalf("sealed %d after the held commit, want 2", n)
	}
	r := check(t, db)
	if r.Sealed != 7 || r.Unsealed != 0 {
		t.Fatalf("Check = %+v, want 7 sealed and none unsealed", r)
	}
	var pos int64
	if err := db.QueryRow(ctx, `SELECT pos FROM audit_seals WHERE seq = ?`, heldSeq).Scan(&pos); err != nil || pos != 6 {
		t.Errorf("held entry %d at position %d (%v), want 6: after the entries that committed before it", heldSeq, pos, err)
	}
	var n int
	db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE seq = ?`, rolledSeq).Scan(&n)
	if n != 0 {
		t.Errorf("rolled-back entry %d is in the log", rolledSeq)
	}
}

// TestConcurrentAppendsAllSealed: many writers and two sealers at once;
// every committed entry ends up sealed exactly once, the chain verifies.
func TestConcurrentAppendsAllSealed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const writers, each = 8, 25
		stop := make(chan bool)
		var sealers sync.WaitGroup
		for range 2 {
			sealers.Add(1)
			go func() {
				defer sealers.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := audit.Seal(ctx, db); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		var wg sync.WaitGroup
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					if err := db.Transact(ctx, func(tx *store.Tx) error { return audit.Append(ctx, tx, entry()) }); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		sealers.Wait()
		seal(t, db)
		if r := check(t, db); r.Sealed != writers*each || r.Unsealed != 0 {
			t.Fatalf("Check = %+v, want %d sealed", r, writers*each)
		}
	})
}
