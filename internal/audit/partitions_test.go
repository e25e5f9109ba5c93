package audit_test

import (
	"context"
	"testing"
	"time"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestPartitions checks PostgreSQL's yearly partitions of the audit log
// (migration 00022): an entry lands in its year's partition, every
// partition is append-only (TRUNCATE included, which PostgreSQL does not
// clone onto partitions), and an entry that reached the DEFAULT partition
// moves into its year's own when that is made, with the chain still whole.
func TestPartitions(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	appendN(t, db, 3)
	where := func(seq int64) string {
		t.Helper()
		var part string
		if err := db.QueryRow(ctx, `SELECT tableoid::regclass::text FROM audit_log WHERE seq = ?`, seq).Scan(&part); err != nil {
			t.Fatalf("entry %d: %v", seq, err)
		}
		return part
	}
	if got, want := where(1), "audit_log_y"+time.Now().UTC().Format("2006"); got != want {
		t.Errorf("today's entry is in %s, want %s", got, want)
	}

	// An entry from a clock far ahead lands in DEFAULT; the next run gives
	// its year a partition and moves it in, past the append-only guard.
	if _, err := db.Exec(ctx, `INSERT INTO audit_log (at, actor, action, subject_type, subject_id, org_unit, org_path,
		outcome, client_addr, request_id, detail, prev_hash, hash)
		VALUES ('2099-03-01T10:00:00Z', 'alice', 'patient.read', 'patient', '42', 'C1', '/D1/S1/C1/', 'allowed', '', 'r', '', '', '')`); err != nil {
		t.Fatal(err)
	}
	if got := where(4); got != "audit_log_default" {
		t.Errorf("a 2099 entry is in %s, want the DEFAULT partition", got)
	}
	seal(t, db)
	if err := db.EnsurePartitions(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := where(4); got != "audit_log_y2099" {
		t.Errorf("after EnsurePartitions the 2099 entry is in %s", got)
	}
	if r := check(t, db); r.Sealed != 4 || r.Unsealed != 0 {
		t.Errorf("after the move: %+v, want 4 sealed entries and an unbroken chain", r)
	}

	// Every partition refuses change, whichever way it is addressed.
	for _, q := range []string{
		`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`,
		`UPDATE audit_log_y2099 SET actor = 'mallory'`, `DELETE FROM audit_log_y2099`, `TRUNCATE audit_log_y2099`,
		`TRUNCATE audit_log_default`,
	} {
		if _, err := db.Exec(ctx, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	// The transaction-local switch of the move does not outlive it.
	if _, err := db.Exec(ctx, `DELETE FROM audit_log WHERE seq = 4`); err == nil {
		t.Error("an entry was deleted after a partition move")
	}
	// The sequence still numbers new entries after the old ones.
	appendN(t, db, 1)
	var last int64
	if err := db.QueryRow(ctx, `SELECT max(seq) FROM audit_log`).Scan(&last); err != nil || last != 5 {
		t.Errorf("the next entry is %d (%v), want 5", last, err)
	}
}
