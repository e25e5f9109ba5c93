package care_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestReadsDoNotQueueBehindWrites: on SQLite, reading a record while write
// transactions wait for the one writer is served before them. Its reading
// runs on a reader connection and only its audit entry goes to the writer,
// ahead of the queue (issue 16: reads that only read should not wait on
// writes). Read inside a write transaction, as before, it waited behind
// them: the queued writes here wait for the read to return, and give up
// after five seconds.
func TestReadsDoNotQueueBehindWrites(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	svc := newService(t, db)
	tree(t, svc)
	p := register(t, svc, manager, care.PatientInput{Name: "李明"})
	ctx := context.Background()
	reads := func() (n int) {
		if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'patient.read' AND subject_id = ?`,
			strconv.FormatInt(p.ID, 10)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := reads()

	holding, release, returned := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	wg.Add(1)
	go func() { // holds the writer while the others queue
		defer wg.Done()
		errs <- db.Transact(ctx, func(*store.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.Transact(ctx, func(*store.Tx) error {
				select {
				case <-returned:
					return nil
				case <-time.After(5 * time.Second):
					return errors.New("the record's read waited behind a queued write")
				}
			})
		}()
	}
	time.Sleep(100 * time.Millisecond) // the writes are queued
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := svc.Patient(as(manager), p.ID)
		close(returned)
		errs <- err
	}()
	time.Sleep(100 * time.Millisecond) // the read's entry is queued
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := reads(); n != before+1 {
		t.Errorf("%d entries of the record's reads, want %d", n, before+1)
	}
}
