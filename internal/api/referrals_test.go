package api_test

import (
	"strconv"
	"testing"
	"time"

	"kith/internal/clinical"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestReferralsAPI is the API contract for institutions and
// referrals, up and down, as the community and the hospital see them.
func TestReferralsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.token("admin")
		if res := e.do("POST", "/api/v1/org-units", admin, map[string]any{"code": "H02", "name": "General Hospital, Psychiatry",
			"parent_code": "D01", "level": "institution"}); res.status != 201 || res.body["level"] != "institution" {
			t.Fatalf("create institution: %d %s", res.status, res.raw)
		}
		mgr, hosp := e.token("manager"), e.token("hospital")
		id := e.registerPatient(mgr, "C0101", "Referred Up")
		pid, _ := strconv.Atoi(id)
		if res := e.do("GET", "/api/v1/patients/"+id, hosp, nil); res.status != 404 {
			t.Fatalf("the hospital reads an unreferred record: %d", res.status)
		}
		res := e.do("POST", "/api/v1/referrals", mgr, map[string]any{"patient_id": pid, "direction": "up", "to_unit": "H01",
			"urgency": "urgent", "reason": "relapse; refuses medication"})
		if res.status != 201 || res.body["status"] != "requested" {
			t.Fatalf("refer up: %d %s", res.status, res.raw)
		}
		rid := strconv.Itoa(int(res.body["id"].(float64)))
		req, _ := time.Parse(time.RFC3339, res.body["requested_at"].(string))
		due, _ := time.Parse(time.RFC3339, res.body["due_by"].(string))
		if due.Sub(req) != 24*time.Hour {
			t.Errorf("due_by %v after requested_at, want 24h", due.Sub(req))
		}
		if res := e.do("POST", "/api/v1/referrals", mgr, map[string]any{"patient_id": pid, "direction": "up", "to_unit": "H01",
			"urgency": "soon", "reason": "x"}); res.status != 422 || firstField(res) != "urgency" {
			t.Errorf("bad urgency: %d %s", res.status, res.raw)
		}

		// The hospital sees it in its inbox and reads the record.
		list := e.do("GET", "/api/v1/referrals?org_unit=H01&status=requested&direction=up", hosp, nil)
		if list.status != 200 || len(items(list)) != 1 || items(list)[0]["patient_name"] != "Referred Up" {
			t.Fatalf("hospital's referrals: %d %s", list.status, list.raw)
		}
		if sent := e.do("GET", "/api/v1/referrals?direction=up", mgr, nil); len(items(sent)) != 1 {
			t.Errorf("sender's referrals: %s", sent.raw)
		}
		if res := e.do("GET", "/api/v1/patients/"+id, hosp, nil); res.status != 200 || res.body["name"] != "Referred Up" {
			t.Errorf("the hospital reads the referred record: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/referrals/"+rid, e.token("manager2"), nil); res.status != 404 {
			t.Errorf("another community reads the referral: %d", res.status)
		}
		for _, tt := range []struct {
			body   map[string]any
			status int
		}{
			{map[string]any{"status": "declined"}, 422},
			{map[string]any{"status": "completed", "outcome": "admitted"}, 409},
			{map[string]any{"status": "accepted"}, 200},
			{map[string]any{"status": "cancelled"}, 409},
			{map[string]any{"status": "completed", "outcome": "admitted"}, 200},
		} {
			if res := e.do("PATCH", "/api/v1/referrals/"+rid, hosp, tt.body); res.status != tt.status {
				t.Errorf("PATCH %v: %d %s, want %d", tt.body, res.status, res.raw, tt.status)
			}
		}

		// Down: the discharge makes the patient due within 14 days (R-DISCHARGE).
		discharged := day(-2)
		res = e.do("POST", "/api/v1/referrals", hosp, map[string]any{"patient_id": pid, "direction": "down", "to_unit": "C0101",
			"discharged_on": discharged, "diagnoses": []map[string]any{{"code": "F20.0"}},
			"medications": []map[string]any{{"name": "olanzapine", "dose": "10 mg", "frequency": "nightly"}},
			"risk_level":  1, "recommendations": "weekly follow-up for a month"})
		if res.status != 201 || res.body["direction"] != "down" {
			t.Fatalf("refer down: %d %s", res.status, res.raw)
		}
		p := e.do("GET", "/api/v1/patients/"+id, mgr, nil)
		d, _ := clinical.ParseDate(discharged)
		if nd, _ := p.body["next_due_on"].(string); nd == "" || nd > d.AddDays(14).String() || p.body["next_due_rule"] != "R-DISCHARGE" || p.body["status"] != "managed" {
			t.Errorf("R-DISCHARGE: due %v by %v status %v, want ≤ %s by R-DISCHARGE, managed", p.body["next_due_on"], p.body["next_due_rule"], p.body["status"], d.AddDays(14))
		}
		wl := e.do("GET", "/api/v1/worklist?kind=discharge", mgr, nil)
		if len(items(wl)) != 1 || items(wl)[0]["name"] != "Referred Up" {
			t.Errorf("discharge worklist: %s", wl.raw)
		}
	})
}

// TestCrisisAPI: a crisis event is logged and shows on the timeline.
func TestCrisisAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr := e.token("manager")
		id := e.registerPatient(mgr, "C0101", "Crisis Call")
		pid, _ := strconv.Atoi(id)
		at := time.Now().Add(-2 * time.Hour).Format(time.RFC3339)
		res := e.do("POST", "/api/v1/crisis-events", e.token("caregroup"), map[string]any{"occurred_at": at, "reported_by": "police",
			"patient_id": pid, "risk_level": 3, "actions": []string{"home_visit", "police"}, "outcome": "calmed at home"})
		if res.status != 201 || res.body["emergency_id"] == nil {
			t.Fatalf("log crisis: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/crisis-events", mgr, map[string]any{"occurred_at": at, "reported_by": "hotline",
			"risk_level": 1, "actions": []string{"phone_counselling"}, "outcome": "ok"}); res.status != 422 || firstField(res) != "description" {
			t.Errorf("no patient, no description: %d %s", res.status, res.raw)
		}
		tl := e.do("GET", "/api/v1/patients/"+id+"/timeline", mgr, nil)
		found := false
		for _, it := range items(tl) {
			found = found || it["kind"] == "crisis"
		}
		if tl.status != 200 || !found {
			t.Errorf("timeline lacks the crisis event: %d %s", tl.status, tl.raw)
		}
		if l := e.do("GET", "/api/v1/crisis-events?org_unit=C0101", mgr, nil); l.status != 200 || len(items(l)) != 1 {
			t.Errorf("crisis list: %d %s", l.status, l.raw)
		}
	})
}
