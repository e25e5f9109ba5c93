package report_test

import (
	"context"
	"testing"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/demo"
	"kith/internal/kpi"
	"kith/internal/report"
	"kith/internal/secrets"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestSnapshotsAgreeWithDirectCounts: figures summed from community
// snapshots equal the figures counted directly, before and after writes
// that change them (R-KPI counted two ways).
func TestSnapshotsAgreeWithDirectCounts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, _ := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
		svc := care.New(db, keys)
		if _, err := demo.Seed(ctx, svc); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if _, err := demo.Patients(ctx, db, svc, 300, now, 3); err != nil {
			t.Fatal(err)
		}
		today := clinical.DateOf(now)
		var periods []kpi.Period
		for _, s := range []string{today.String()[:7], today.String()[:4], today.AddMonths(-3).String()[:4] + "-Q" + "1"} {
			p, err := kpi.ParsePeriod(s)
			if err != nil {
				t.Fatal(err)
			}
			periods = append(periods, p)
		}
		compare := func(when string) {
			t.Helper()
			for _, path := range []string{"/D01/", "/D01/S02/", "/D01/S01/C0101/"} {
				for _, p := range periods {
					scope := report.Scope{Path: path, Period: p, AsOf: today}
					var direct, cached kpi.Counts
					err := db.Transact(ctx, func(tx *store.Tx) error {
						var err error
						if direct, err = report.Counts(ctx, tx, scope, 0); err != nil {
							return err
						}
						cached, err = report.CachedCounts(ctx, tx, scope, 0)
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
					if direct != cached {
						t.Errorf("%s, %s %s: snapshots %+v, direct %+v", when, path, p, cached, direct)
					}
					if direct.Registered == 0 {
						t.Errorf("%s %s: nobody registered", path, p)
					}
				}
			}
		}
		compare("cold")
		compare("warm")
		// A follow-up and a death in C0101 change its figures; the snapshots follow.
		mgr := care.WithActor(ctx, &care.Actor{Username: "manager", Role: auth.CommunityManager, UnitCode: "C0101", UnitPath: "/D01/S01/C0101/"})
		list, _, err := svc.Patients(mgr, care.PatientQuery{Status: "managed"}, care.Page{Limit: 2})
		if err != nil || len(list) < 2 {
			t.Fatal(list, err)
		}
		yes, no, risk := true, false, 0
		if _, err := svc.RecordFollowUp(mgr, list[0].ID, care.FollowUpInput{Date: today.String(), Mode: "clinic", Reached: &yes, RiskLevel: &risk,
			PsychoticSymptoms: "none", Insight: "complete", AdverseReaction: "none", PhysicalIllness: "none", MedicationAdherence: "regular",
			SocialFunction: map[string]string{"self_care": "good", "housework": "good", "work": "good", "learning": "good", "social_contact": "good"},
			HealthCheck:    &care.HealthCheck{Done: true}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RecordFollowUp(mgr, list[1].ID, care.FollowUpInput{Date: today.String(), Mode: "phone", Reached: &no,
			NotReachedReason: "deceased", DeathDate: today.String(), DeathCause: "stroke"}); err != nil {
			t.Fatal(err)
		}
		compare("after writes")
	})
}
