package api_test

import (
	"testing"

	"kith/internal/clinical"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestAlertDueAPI is the contract for R-ALERT-DUE: after a PHQ-9
// with item 9 above 0, the patient is due within 2 days of the assessment
// by R-ALERT-DUE and on the worklist "alert".
func TestAlertDueAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr := e.token("manager")
		id := e.registerPatient(mgr, "C0101", "Item Nine")
		taken := day(-1)
		if res := e.do("POST", "/api/v1/patients/"+id+"/assessments", mgr,
			map[string]any{"instrument": "phq9", "date": taken, "answers": phq9(1)}); res.status != 201 {
			t.Fatalf("assess: %d %s", res.status, res.raw)
		}
		res := e.do("GET", "/api/v1/patients/"+id, mgr, nil)
		d, _ := clinical.ParseDate(taken)
		if due, _ := res.body["next_due_on"].(string); due == "" || due > d.AddDays(2).String() || res.body["next_due_rule"] != "R-ALERT-DUE" {
			t.Errorf("R-ALERT-DUE: patient due %v by %v, want ≤ %s by R-ALERT-DUE", res.body["next_due_on"], res.body["next_due_rule"], d.AddDays(2))
		}
		found := false
		for tok := ""; ; {
			res := e.do("GET", "/api/v1/worklist?kind=alert&limit=200&page_token="+tok, mgr, nil)
			if res.status != 200 {
				t.Fatalf("worklist alert: %d %s", res.status, res.raw)
			}
			for _, it := range items(res) {
				if it["name"] == "Item Nine" {
					found = true
				}
			}
			tok, _ = res.body["next_page_token"].(string)
			if tok == "" || found {
				break
			}
		}
		if !found {
			t.Error("R-ALERT-DUE: the patient is not on GET /api/v1/worklist?kind=alert")
		}
		if res := e.do("GET", "/api/v1/worklist?kind=nope", mgr, nil); res.status != 422 {
			t.Errorf("unknown worklist kind: %d", res.status)
		}
	})
}
