package care_test

import (
	"context"
	"strconv"
	"testing"

	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestReadsDoNotQueueBehindWrites: on SQLite, reading a record while write
// transactions wait for the one writer is served before them
// (storetest.AheadOfQueuedWrites). Its reading runs on a reader connection
// and only its audit entry goes to the writer, ahead of the queue (issue
// 16: reads that only read should not wait on writes); read inside a write
// transaction, as before, it waited behind them.
func TestReadsDoNotQueueBehindWrites(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	svc := newService(t, db)
	tree(t, svc)
	p := register(t, svc, manager, care.PatientInput{Name: "李明"})
	reads := func() (n int) {
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'patient.read' AND subject_id = ?`,
			strconv.FormatInt(p.ID, 10)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := reads()
	storetest.AheadOfQueuedWrites(t, db, func() error {
		_, err := svc.Patient(as(manager), p.ID)
		return err
	})
	if n := reads(); n != before+1 {
		t.Errorf("%d entries of the record's reads, want %d", n, before+1)
	}
}
