package care_test

import (
	"testing"
	"time"

	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestCrisisLog: a crisis event about a known patient at risk 3 opens the
// emergency record (R-EMERG) rather than copying it, and shows on the
// timeline; one about someone unknown is kept with a description.
func TestCrisisLog(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		clock(svc, "2025-06-30")
		tree(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "Hu Jun"})
		if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-06-01", 0)); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2025, 6, 29, 13, 40, 0, 0, time.UTC)
		bad := []struct {
			name  string
			in    care.CrisisInput
			field string
		}{
			{"no time", care.CrisisInput{ReportedBy: "family", PatientID: p.ID, RiskLevel: ptr(3), Actions: []string{"home_visit"}, Outcome: "x"}, "occurred_at"},
			{"bad reporter", care.CrisisInput{OccurredAt: at, ReportedBy: "neighbour", PatientID: p.ID, RiskLevel: ptr(3), Actions: []string{"home_visit"}, Outcome: "x"}, "reported_by"},
			{"no patient, no description", care.CrisisInput{OccurredAt: at, ReportedBy: "hotline", RiskLevel: ptr(1), Actions: []string{"phone_counselling"}, Outcome: "x"}, "description"},
			{"no action", care.CrisisInput{OccurredAt: at, ReportedBy: "family", PatientID: p.ID, RiskLevel: ptr(3), Outcome: "x"}, "actions"},
			{"bad action", care.CrisisInput{OccurredAt: at, ReportedBy: "family", PatientID: p.ID, RiskLevel: ptr(3), Actions: []string{"prayer"}, Outcome: "x"}, "actions[0]"},
		}
		for _, tt := range bad {
			if _, err := svc.LogCrisis(as(careMan), tt.in); kind(err) != care.Invalid || fieldOf(err) != tt.field {
				t.Errorf("%s: %v, want invalid %s", tt.name, err, tt.field)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM crisis_events`) + count(t, db, `SELECT count(*) FROM emergencies`); n != 0 {
			t.Fatalf("%d rows after refused events", n)
		}
		if _, err := svc.LogCrisis(as(manager2), care.CrisisInput{OccurredAt: at, ReportedBy: "family", PatientID: p.ID,
			RiskLevel: ptr(3), Actions: []string{"home_visit"}, Outcome: "x"}); kind(err) != care.NotFound {
			t.Errorf("another community logs about the patient: %v", err)
		}
		c, err := svc.LogCrisis(as(careMan), care.CrisisInput{OccurredAt: at, ReportedBy: "family", PatientID: p.ID,
			RiskLevel: ptr(4), Actions: []string{"home_visit", "police"}, Outcome: "calmed; family stays with him", Place: "home"})
		if err != nil || c.EmergencyID == nil {
			t.Fatalf("R-EMERG: crisis at risk 4 = %+v %v", c, err)
		}
		if n := count(t, db, `SELECT count(*) FROM emergencies WHERE patient_id = ?`, p.ID); n != 1 {
			t.Errorf("R-EMERG: %d emergency records", n)
		}
		got, _ := svc.Patient(as(manager), p.ID)
		if got.NextDueOn != "2025-07-13" || got.NextDueRule != "R-EMERG" {
			t.Errorf("R-EMERG: due %s by %s", got.NextDueOn, got.NextDueRule)
		}
		rec, err := svc.PatientRecord(as(manager), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, it := range rec.Timeline {
			kinds[it.Kind]++
			if it.Kind == "crisis" && it.Detail != "family home_visit police" {
				t.Errorf("crisis timeline detail %q", it.Detail)
			}
		}
		if kinds["crisis"] != 1 || kinds["emergency"] != 1 {
			t.Errorf("timeline kinds %v", kinds)
		}
		// A call answered by phone at low risk opens no emergency record.
		low, err := svc.LogCrisis(as(manager), care.CrisisInput{OccurredAt: at.Add(time.Hour), ReportedBy: "hotline",
			Description: "woman, about 30, crying, would not give her name", RiskLevel: ptr(1),
			Actions: []string{"phone_counselling"}, Outcome: "agreed to visit the clinic tomorrow"})
		if err != nil || low.EmergencyID != nil || low.PatientID != nil || low.OrgUnit != "C1" {
			t.Fatalf("unknown caller = %+v %v", low, err)
		}
		list, _, err := svc.CrisisEvents(as(psychiatrist), care.CrisisQuery{From: "2025-06-29", To: "2025-06-30"}, care.Page{})
		if err != nil || len(list) != 2 {
			t.Errorf("district crisis list %d %v", len(list), err)
		}
		if list, _, _ := svc.CrisisEvents(as(manager2), care.CrisisQuery{}, care.Page{}); len(list) != 0 {
			t.Errorf("another community lists %d", len(list))
		}
		if _, err := svc.Crisis(as(manager2), low.ID); kind(err) != care.NotFound {
			t.Errorf("another community reads an event: %v", err)
		}
	})
}
