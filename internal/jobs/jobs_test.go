package jobs_test

import (
	"context"
	"testing"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/jobs"
	"kith/internal/secrets"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestLeaseLetsOneServerRun(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		if ok, err := db.TryLease(ctx, "sweeps", "a", now, now.Add(time.Minute)); !ok || err != nil {
			t.Fatalf("a takes a free lease: %v %v", ok, err)
		}
		if ok, err := db.TryLease(ctx, "sweeps", "b", now, now.Add(time.Minute)); ok || err != nil {
			t.Errorf("b takes a's live lease: %v %v", ok, err)
		}
		if ok, _ := db.TryLease(ctx, "sweeps", "a", now, now.Add(time.Minute)); !ok {
			t.Error("a cannot renew its own lease")
		}
		later := now.Add(2 * time.Minute)
		if ok, _ := db.TryLease(ctx, "sweeps", "b", later, later.Add(time.Minute)); !ok {
			t.Error("b cannot take an expired lease")
		}
	})
}

// TestSweepMarksLost checks R-LOST's time rule: no reached follow-up for 6
// months makes a managed patient lost, once, by the sweep.
func TestSweepMarksLost(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, _ := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
		svc := care.New(db, keys)
		admin := care.WithActor(ctx, &care.Actor{Username: "root", Role: auth.Admin})
		for _, u := range []care.UnitInput{{Code: "D1", Name: "D", Level: "district"}, {Code: "S1", Name: "S", Level: "street", ParentCode: "D1"},
			{Code: "C1", Name: "C", Level: "community", ParentCode: "S1"}} {
			if _, err := svc.CreateUnit(admin, u); err != nil {
				t.Fatal(err)
			}
		}
		day := func(s string) func() time.Time {
			d, _ := time.Parse("2006-01-02", s)
			return func() time.Time { return d.Add(12 * time.Hour) }
		}
		svc.SetClock(day("2026-01-10"))
		mgr := care.WithActor(ctx, &care.Actor{Username: "m", Role: auth.CommunityManager, UnitPath: "/D1/S1/C1/"})
		reg := func(name, on string) int64 {
			p, err := svc.RegisterPatient(mgr, care.PatientInput{Name: name, Sex: "male", BirthDate: "1970-01-01", OrgUnit: "C1", RegisteredOn: on})
			if err != nil {
				t.Fatal(err)
			}
			return p.ID
		}
		old := reg("Never reached", "2025-06-01")
		recent := reg("Registered lately", "2025-12-01")
		svc.SetClock(day("2025-12-01")) // R-LOST: 2025-06-01 + 6 months; lost from that day
		if _, err := jobs.RunOnce(ctx, db, svc, "me"); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[int64]string{old: "lost", recent: "managed"} {
			p, _ := svc.Patient(mgr, id)
			if p.Status != want {
				t.Errorf("patient %d: %s, want %s", id, p.Status, want)
			}
		}
		if ran, _ := jobs.RunOnce(ctx, db, svc, "other server"); ran {
			t.Error("a second server ran the sweeps while the lease was held")
		}
	})
}
