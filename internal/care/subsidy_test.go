package care_test

import (
	"context"
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestSubsidy(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2026-03-01")
		district := &care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"}
		g := care.Guardian{Name: "李秀兰", Relation: "mother", Phone: "13800000001"}
		good := register(t, svc, manager, care.PatientInput{Name: "李明", RegisteredOn: "2024-06-01", Guardian: g})
		late := register(t, svc, manager, care.PatientInput{Name: "王五", RegisteredOn: "2025-03-01", Guardian: g})
		alone := register(t, svc, manager, care.PatientInput{Name: "赵六", RegisteredOn: "2024-06-01"})
		relapsed := register(t, svc, manager, care.PatientInput{Name: "孙七", RegisteredOn: "2024-06-01", Guardian: g})
		if _, err := db.Exec(context.Background(), `INSERT INTO emergencies (patient_id, occurred_at, triggers, details, follow_up_by, author, created_at)
			VALUES (?, '2025-07-01T02:00:00.000000Z', '["relapse_deterioration"]', '{}', '2025-07-15', 'mgr', '2025-07-01T02:00:00.000000Z')`, relapsed.ID); err != nil {
			t.Fatal(err)
		}

		for _, tt := range []struct {
			name string
			id   int64
			msg  string
		}{
			{"registered during the year", late.ID, "not eligible: not_managed_all_year"},
			{"no guardian", alone.ID, "not eligible: no_guardian"},
			{"relapse emergency", relapsed.ID, "not eligible: neglect_emergency"},
		} {
			_, err := svc.CreateSubsidy(as(manager), care.SubsidyInput{PatientID: tt.id, Year: 2025, Amount: 600})
			var ce *care.Error
			if kind(err) != care.Invalid || !asErr(err, &ce) || ce.Fields[0].Message != tt.msg {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.msg)
			}
		}
		if _, err := svc.CreateSubsidy(as(manager), care.SubsidyInput{PatientID: good.ID, Year: 2025, Amount: -1}); fieldOf(err) != "amount" {
			t.Errorf("negative amount: %v", err)
		}
		if _, err := svc.CreateSubsidy(as(district), care.SubsidyInput{PatientID: good.ID, Year: 2025, Amount: 600}); kind(err) != care.Forbidden {
			t.Errorf("district proposes: %v", err)
		}
		x, err := svc.CreateSubsidy(as(manager), care.SubsidyInput{PatientID: good.ID, Year: 2025, Amount: 600.5})
		if err != nil || x.Status != "eligible" || x.GuardianName != "李秀兰" || x.Amount != 600.5 {
			t.Fatalf("create = %+v, %v", x, err)
		}
		if _, err := svc.CreateSubsidy(as(manager), care.SubsidyInput{PatientID: good.ID, Year: 2025, Amount: 600}); kind(err) != care.Conflict {
			t.Errorf("twice: %v", err)
		}

		step := func(a *care.Actor, status, reason string, want care.Kind) {
			t.Helper()
			_, err := svc.UpdateSubsidy(as(a), x.ID, care.SubsidyPatch{Status: status, Reason: reason})
			if (want == 0) != (err == nil) || (err != nil && kind(err) != want) {
				t.Errorf("%s → %s: %v, want kind %d", a.Username, status, err, want)
			}
		}
		step(manager, "paid", "", care.Conflict)       // not a step
		step(district, "reviewed", "", care.Forbidden) // the community reviews
		step(manager, "reviewed", "", 0)               // eligible → reviewed
		step(manager, "approved", "", care.Forbidden)  // the district approves
		step(district, "refused", "", care.Invalid)    // a refusal needs a reason
		step(district, "approved", "", 0)              // reviewed → approved
		step(district, "paid", "", 0)                  // approved → paid
		step(district, "refused", "too late", care.Conflict)

		led, err := svc.Subsidies(as(district), care.SubsidyQuery{Year: 2025}, care.Page{})
		if err != nil || len(led.Items) != 1 || led.Items[0].Status != "paid" || led.Items[0].PaidOn != "2026-03-01" ||
			len(led.Totals) != 1 || led.Totals[0].Amount != 600.5 {
			t.Errorf("ledger = %+v, %v", led, err)
		}
		if led, err := svc.Subsidies(as(manager2), care.SubsidyQuery{Year: 2025}, care.Page{}); err != nil || len(led.Items) != 0 {
			t.Errorf("another community's ledger = %+v, %v", led, err)
		}
		if _, err := svc.Subsidies(as(careMan), care.SubsidyQuery{Year: 2025}, care.Page{}); kind(err) != care.Forbidden {
			t.Errorf("care group reads the ledger: %v", err)
		}
		// The guardian on the ledger cannot be deleted.
		if err := svc.DeleteFamilyMember(as(manager), good.ID, x.GuardianID); kind(err) != care.Conflict {
			t.Errorf("delete the paid guardian: %v", err)
		}
	})
}

func asErr(err error, target **care.Error) bool {
	e, ok := err.(*care.Error)
	*target = e
	return ok && len(e.Fields) > 0
}
