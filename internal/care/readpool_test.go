package care_test

import (
	"context"
	"reflect"
	"testing"

	"kith/internal/care"
	"kith/internal/kpi"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestReadPool checks the routing to the optional read pool (KITH_DB_READ):
// figures and searches read from it and say as of when, reads that must see
// the caller's own writes (a record) and writes do not, the audit entries
// of its reads are written on the primary, and figures read from it while
// snapshots are stale are right without saving them. The "standby" is a
// second connection to the same PostgreSQL database, so CI needs none;
// deploy/patroni/failover-test.sh exercises a real one.
func TestReadPool(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, store.Postgres)
	open := func() *store.DB {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return db
	}
	db, plain := open(), open()
	if err := db.OpenStandby(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	svc, direct := newService(t, db), newService(t, plain)
	tree(t, svc)
	clock(svc, "2025-04-15")
	clock(direct, "2025-04-15")
	p := register(t, svc, manager, care.PatientInput{Name: "Chen Jing"})
	if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-04-01", 0)); err != nil {
		t.Fatal(err)
	}
	q, _ := kpi.ParsePeriod("2025-04")

	reads := db.StaleReads()
	routed := func(what string, want int64) {
		t.Helper()
		if got := db.StaleReads() - reads; got != want {
			t.Errorf("%s: %d reads on the read pool, want %d", what, got, want)
		}
		reads = db.StaleReads()
	}
	if _, err := svc.Patient(as(manager), p.ID); err != nil {
		t.Fatal(err)
	}
	routed("a record page", 0)
	if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-04-10", 1)); err != nil {
		t.Fatal(err)
	}
	routed("a follow-up written", 0)

	// The district's snapshots are stale now (the follow-up bumped C1's
	// version): the read pool computes them without saving them, and the
	// figures equal those the primary computes and saves.
	ctxNote, note := care.WithFreshnessNote(as(psychiatrist))
	fs, err := svc.Figures(ctxNote, "D1", q, kpi.DefaultTargets())
	if err != nil {
		t.Fatal(err)
	}
	routed("figures", 1)
	if fs.AsOf.IsZero() || fs.Standby || note.AsOf != fs.AsOf {
		t.Errorf("figures from the read pool: as of %v, standby %v, note %+v; want a time, not a standby (the same server)", fs.AsOf, fs.Standby, note)
	}
	if n := count(t, db, `SELECT count(*) FROM figure_snapshots`); n != 0 {
		t.Errorf("the read pool saved %d snapshots in a read-only transaction", n)
	}
	want, err := direct.Figures(as(psychiatrist), "D1", q, kpi.DefaultTargets())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fs.Figures, want.Figures) || !reflect.DeepEqual(fs.Previous, want.Previous) {
		t.Errorf("figures from the read pool differ from the primary's:\n%v\n%v", fs.Figures, want.Figures)
	}
	if n := count(t, db, `SELECT count(*) FROM figure_snapshots`); n == 0 {
		t.Error("the primary saved no snapshots")
	}
	// With the snapshots fresh, the read pool sums them.
	if again, err := svc.Figures(as(psychiatrist), "D1", q, kpi.DefaultTargets()); err != nil || !reflect.DeepEqual(again.Figures, want.Figures) {
		t.Errorf("figures from fresh snapshots differ: %v", err)
	}
	routed("figures again", 1)
	// One community stale, the other fresh: the fresh snapshot is summed
	// and the stale one recomputed in place.
	if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-04-12", 3)); err != nil {
		t.Fatal(err)
	}
	mixed, err := svc.Figures(as(psychiatrist), "D1", q, kpi.DefaultTargets())
	if err != nil {
		t.Fatal(err)
	}
	routed("figures with one stale community", 1)
	if want, err = direct.Figures(as(psychiatrist), "D1", q, kpi.DefaultTargets()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mixed.Figures, want.Figures) {
		t.Errorf("figures from the read pool with one stale community differ from the primary's:\n%v\n%v", mixed.Figures, want.Figures)
	}
	svc.Drain() // a read of counts is audited after it is answered
	if e := lastAudit(t, db); e.Action != "figures.read" || e.Outcome != "allowed" || e.Actor != "psy" {
		t.Errorf("the read pool's read was audited as %+v", e)
	}

	for _, f := range []func() error{
		func() error { _, err := svc.ChildFigures(as(psychiatrist), "D1", q, kpi.DefaultTargets()); return err },
		func() error {
			_, err := svc.FigureTrend(as(psychiatrist), "D1", q.To, 3, kpi.DefaultTargets())
			return err
		},
		func() error { _, err := svc.FigureDistribution(as(psychiatrist), "D1"); return err },
		func() error {
			_, _, err := svc.FigurePatients(as(psychiatrist), "D1", q, kpi.ManagementRate, care.Page{})
			return err
		},
		func() error { _, err := svc.ScreeningCounts(as(psychiatrist), "D1", q); return err },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	routed("child figures, trend, distribution, the list behind a figure, screenings", 5)

	// The figures' audit entries are written after their answers: let
	// them land before the search's, which lastAudit must find last.
	svc.Drain()
	ctxNote, note = care.WithFreshnessNote(as(manager))
	list, _, err := svc.Patients(ctxNote, care.PatientQuery{Q: "chen"}, care.Page{})
	if err != nil || len(list) != 1 {
		t.Fatalf("search: %v %v", list, err)
	}
	routed("a search", 1)
	if note.AsOf.IsZero() {
		t.Error("a search from the read pool noted no time")
	}
	if e := lastAudit(t, db); e.Action != "patient.search" || e.Outcome != "allowed" {
		t.Errorf("the search was audited as %+v", e)
	}

	// A refused read is refused and audited as such, on the primary.
	if _, err := svc.Figures(as(manager2), "C1", q, kpi.DefaultTargets()); err == nil {
		t.Error("a manager read another community's figures from the read pool")
	}
	if e := lastAudit(t, db); e.Action != "figures.read" || e.Outcome == "allowed" {
		t.Errorf("the refused read was audited as %+v", e)
	}
}
