package care_test

import (
	"testing"

	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestWorklistUrgency checks the overdue worklist's order (clinical.Urgency
// in SQL): a high-risk patient and a never-reached one months late come
// before a basically stable one, and a stable patient a few weeks late
// comes last; paging one row at a time keeps the order. The care group
// sees the order but not the urgency, which would tell the classification,
// and sees that an alert is open without seeing it.
func TestWorklistUrgency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2026-06-01")
		stable := register(t, svc, manager, care.PatientInput{Name: "Stable 稳定", NationalID: validID("1980-05-17", 1)})
		never := register(t, svc, manager, care.PatientInput{Name: "Never 未访", NationalID: validID("1980-05-17", 2)})
		high := register(t, svc, manager, care.PatientInput{Name: "High 高危", NationalID: validID("1980-05-17", 3)})
		basic := register(t, svc, manager, care.PatientInput{Name: "Basic 基本", NationalID: validID("1980-05-17", 4)})
		for _, f := range []struct {
			id   int64
			date string
			risk int
		}{{stable.ID, "2026-02-15", 0}, {high.ID, "2026-05-01", 3}, {basic.ID, "2026-05-01", 1}} {
			if _, err := svc.RecordFollowUp(as(manager), f.id, form(f.date, f.risk)); err != nil {
				t.Fatal(err)
			}
		}
		want := []int64{high.ID, never.ID, basic.ID, stable.ID}
		items, _, err := svc.Worklist(as(manager), care.WorklistQuery{Kind: "overdue"}, care.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != len(want) {
			t.Fatalf("overdue list has %d patients, want %d", len(items), len(want))
		}
		for i, it := range items {
			if it.PatientID != want[i] {
				t.Errorf("row %d is %s, want patient %d", i, it.Name, want[i])
			}
			u := clinical.Urgency(it.RiskLevel, clinical.Classification(it.Classification), !it.NeverReached)
			if it.Urgency == nil || *it.Urgency != u {
				t.Errorf("%s: SQL urgency %v, clinical.Urgency %d", it.Name, it.Urgency, u)
			}
		}
		if !items[1].NeverReached || items[0].NeverReached {
			t.Errorf("never reached: %v %v", items[0].NeverReached, items[1].NeverReached)
		}
		// One row a page gives the same order.
		var token string
		for i := range want {
			page, next, err := svc.Worklist(as(careMan), care.WorklistQuery{Kind: "overdue"}, care.Page{Token: token, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) != 1 || page[0].PatientID != want[i] {
				t.Fatalf("page %d: %+v, want patient %d", i, page, want[i])
			}
			if page[0].Urgency != nil || page[0].Classification != "" || page[0].DueRule != "" {
				t.Errorf("the care group sees urgency %v, class %q, rule %q", page[0].Urgency, page[0].Classification, page[0].DueRule)
			}
			token = next
		}
		if token != "" {
			t.Error("a page token after the last row")
		}
	})
}
