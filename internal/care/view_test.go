package care_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"kith/internal/care"
	"kith/internal/kpi"
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

// TestReadsBesideWriters: on PostgreSQL, with every writer's turn taken
// (store.SetWriters), a record and a community's figures are still read
// and audited: reads and their entries run on the readers' pool, not in
// the writers' turns (issue 16: reads that only read should not wait on
// writes).
func TestReadsBesideWriters(t *testing.T) {
	if !slices.Contains(storetest.Engines(), store.Postgres) {
		t.Skip("PostgreSQL not configured (" + storetest.EnvPostgres + ")")
	}
	db := storetest.Open(t, store.Postgres)
	db.SetWriters(1)
	svc := newService(t, db)
	tree(t, svc)
	clock(svc, "2025-04-15")
	p := register(t, svc, manager, care.PatientInput{Name: "李明", RegisteredOn: "2024-01-01", Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}})
	q, _ := kpi.ParsePeriod("2025-Q2")

	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Transact(context.Background(), func(*store.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	reads := func() (n int) {
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action IN ('patient.read', 'figures.read')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := reads()
	read := func(ctx context.Context) context.Context {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	if _, err := svc.Patient(read(as(manager)), p.ID); err != nil {
		t.Errorf("a record while the writer's turn is taken: %v", err)
	}
	if _, err := svc.Figures(read(as(districtAdm)), "C1", q, kpi.DefaultTargets()); err != nil {
		t.Errorf("a community's figures while the writer's turn is taken: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	svc.Drain()
	if n := reads() - before; n != 2 {
		t.Errorf("audit entries of the two reads = %d, want 2", n)
	}
}

// TestCountsDoNotWaitForTheirAudit: a read of figures, which holds counts
// and nothing of any patient, is answered while its audit entry cannot yet
// be written, and the entry is written once it can; a record's read waits
// for its entry (issue 16, items 1 and 7). The audit log is held by a
// transaction that holds SQLite's one writer, or locks audit_log on
// PostgreSQL.
func TestCountsDoNotWaitForTheirAudit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		tree(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "李明"})
		q, _ := kpi.ParsePeriod("2025-Q2")
		// Counted and saved once, so that the next read has nothing to save.
		if _, err := svc.Figures(as(psychiatrist), "C1", q, kpi.DefaultTargets()); err != nil {
			t.Fatal(err)
		}
		svc.Drain()
		entries := func(action string) int {
			return count(t, db, `SELECT count(*) FROM audit_log WHERE action = ?`, action)
		}
		figuresBefore, recordBefore := entries("figures.read"), entries("patient.read")

		holding, release, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			held <- db.Transact(ctx, func(tx *store.Tx) error {
				if db.Engine() == store.Postgres {
					if _, err := tx.Exec(ctx, `LOCK TABLE audit_log IN EXCLUSIVE MODE`); err != nil {
						close(holding)
						return err
					}
				}
				close(holding)
				<-release
				return nil
			})
		}()
		<-holding
		figures, record := make(chan error, 1), make(chan error, 1)
		go func() {
			_, err := svc.Figures(as(psychiatrist), "C1", q, kpi.DefaultTargets())
			figures <- err
		}()
		go func() {
			_, err := svc.Patient(as(manager), p.ID)
			record <- err
		}()
		select {
		case err := <-figures:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(5 * time.Second):
			t.Error("a figures read waited for its audit entry")
		}
		select {
		case <-record:
			t.Error("a record was read while its audit entry could not be written")
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		if err := <-record; err != nil {
			t.Fatal(err)
		}
		svc.Drain()
		if n := entries("figures.read") - figuresBefore; n != 1 {
			t.Errorf("%d audit entries of the figures read, want 1", n)
		}
		if n := entries("patient.read") - recordBefore; n != 1 {
			t.Errorf("%d audit entries of the record's read, want 1", n)
		}
	})
}

// TestSessionTouchDoesNotQueueBehindWrites: on SQLite, the once-a-minute
// update of a session's last use, which a request waits for before it is
// served, goes ahead of the write transactions queued for the one writer
// (storetest.AheadOfQueuedWrites), as a read's audit entry does.
func TestSessionTouchDoesNotQueueBehindWrites(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	svc := newService(t, db)
	ctx := context.Background()
	if _, err := svc.CreateAdmin(ctx, "root", "Root", "a long password"); err != nil {
		t.Fatal(err)
	}
	tok, _, err := svc.Login(ctx, care.Credentials{Username: "root", Password: "a long password"}, care.WebSession)
	if err != nil {
		t.Fatal(err)
	}
	long := store.FormatTime(time.Now().Add(-5 * time.Minute))
	if _, err := db.Exec(ctx, `UPDATE sessions SET last_seen_at = ?`, long); err != nil {
		t.Fatal(err)
	}
	storetest.AheadOfQueuedWrites(t, db, func() error {
		_, err := svc.ResolveSession(ctx, tok, care.WebSession)
		return err
	})
	if n := count(t, db, `SELECT count(*) FROM sessions WHERE last_seen_at > ?`, long); n != 1 {
		t.Errorf("%d sessions touched, want 1", n)
	}
}

// TestRoundTrips counts, on PostgreSQL, the round trips of a follow-up
// and of a community's figures (issue 16: under write load each is a turn
// to wait for a processor). A follow-up: BEGIN with the patient, the
// previous reached follow-up and the follow-up's id; the follow-up's and
// its risk assessment's inserts with the summary's read; the summary's
// update, the audit entry and COMMIT. A community's figures, once its unit is known: the unit, the
// stale snapshots and the sums together; then, after the answer, the
// audit entry's transaction.
func TestRoundTrips(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		if db.Engine() != store.Postgres {
			t.Skip("round trips are PostgreSQL's")
		}
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-04-15")
		svc.ServeStaleFigures(time.Hour)
		p := register(t, svc, manager, care.PatientInput{Name: "P", RegisteredOn: "2024-01-01", Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}})
		q, _ := kpi.ParsePeriod("2025-Q2")
		trips := func(what string, want int64, do func() error) {
			t.Helper()
			svc.Drain()
			before := db.RoundTrips()
			if err := do(); err != nil {
				t.Fatal(err)
			}
			svc.Drain()
			if n := db.RoundTrips() - before; n != want {
				t.Errorf("%s: %d round trips, want %d", what, n, want)
			}
		}
		for i, day := range []string{"2025-04-01", "2025-04-10"} {
			if i == 0 { // statements are prepared on first use
				svc.RecordFollowUp(as(manager), p.ID, form(day, 0))
				continue
			}
			trips("a follow-up", 3, func() error { _, err := svc.RecordFollowUp(as(manager), p.ID, form(day, 0)); return err })
		}
		svc.Figures(as(districtAdm), "C1", q, kpi.DefaultTargets())
		trips("a community's figures", 2, func() error { _, err := svc.Figures(as(districtAdm), "C1", q, kpi.DefaultTargets()); return err })
	})
}
