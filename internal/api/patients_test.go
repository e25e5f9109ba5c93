package api_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// day is a date offset days from today in the installation's time zone,
// the zone in which the server reads dates (in UTC it lags a day from 16:00).
func day(offset int) string {
	return time.Now().In(care.DefaultZone()).AddDate(0, 0, offset).Format("2006-01-02")
}

func TestPatientsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr := e.token("manager")
		res := e.do("POST", "/api/v1/patients", mgr, map[string]any{
			"name": "陈静", "sex": "female", "birth_date": "1975-08-09", "national_id": "11010519491231002X",
			"org_unit": "C0101", "registered_on": day(-60), "phone": "13800138000",
			"guardian":  map[string]any{"name": "陈刚", "relation": "兄", "phone": "13900139000"},
			"diagnoses": []map[string]any{{"code": "schizophrenia", "diagnosed_on": "2019-04-01"}},
		})
		if res.status != 422 || firstField(res) != "national_id" {
			t.Errorf("national ID of another birth date: %d %s", res.status, res.raw)
		}
		res = e.do("POST", "/api/v1/patients", mgr, map[string]any{
			"name": "陈静", "sex": "female", "birth_date": "1949-12-31", "national_id": "11010519491231002x",
			"org_unit": "C0101", "registered_on": day(-60), "phone": "13800138000",
			"guardian":  map[string]any{"name": "陈刚", "relation": "兄", "phone": "13900139000"},
			"diagnoses": []map[string]any{{"code": "schizophrenia", "diagnosed_on": "2019-04-01"}},
		})
		if res.status != 201 || res.body["name"] != "陈静" || res.body["national_id"] != "110105********002X" {
			t.Fatalf("register: %d %s", res.status, res.raw)
		}
		id := strconv.Itoa(int(res.body["id"].(float64)))
		// Masked on every read; shown in full only by the reveal, audited.
		if res := e.do("GET", "/api/v1/patients/"+id, mgr, nil); res.body["national_id"] != "110105********002X" {
			t.Errorf("GET patient shows national ID %v", res.body["national_id"])
		}
		if res := e.do("POST", "/api/v1/patients/"+id+"/national-id/reveal", mgr, nil); res.status != 200 || res.body["national_id"] != "11010519491231002X" {
			t.Errorf("reveal: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/patients?q=002x", mgr, nil); res.status != 200 || !strings.Contains(res.raw, `"陈静"`) {
			t.Errorf("search by the national ID's last four: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/patients", mgr, map[string]any{"name": "Someone", "sex": "male", "birth_date": "1949-12-31",
			"national_id": "11010519491231002X", "org_unit": "C0101"}); res.status != 409 || res.body["existing_id"] != id {
			t.Errorf("duplicate national ID: %d %s", res.status, res.raw)
		}

		// An unstable follow-up: R-CLASS-UNSTABLE, R-NEXT-UNSTABLE, due in 14 days. (Risk 2: a
		// risk of 3 would raise a flag and make the patient due in 2 days, R-ALERT-DUE.)
		fu := map[string]any{"date": day(-1), "mode": "home_visit", "reached": true, "risk_level": 2,
			"psychotic_symptoms": "obvious", "insight": "partial", "adverse_reaction": "none", "physical_illness": "none",
			"social_function": map[string]string{"self_care": "fair", "housework": "fair", "work": "poor", "learning": "fair", "social_contact": "poor"},
			"symptoms":        []string{"hallucinations", "suspiciousness"}, "medication_adherence": "intermittent",
			"medications": []map[string]string{{"name": "olanzapine", "dose": "10 mg", "frequency": "nightly"}}}
		res = e.do("POST", "/api/v1/patients/"+id+"/follow-ups", mgr, fu)
		if res.status != 201 || res.body["classification"] != "unstable" || res.body["rule"] != "R-CLASS-UNSTABLE" ||
			res.body["next_due_rule"] != "R-NEXT-UNSTABLE" || res.body["next_due_on"] != day(13) {
			t.Fatalf("follow-up: %d %s", res.status, res.raw)
		}
		var count = func() int { return e.count("follow_ups") }
		before := count()
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for a, b := range fu {
				m[a] = b
			}
			m[k] = v
			return m
		}
		for _, tt := range []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"risk 6", with("risk_level", 6), 422, "risk_level"},
			{"unknown insight", with("insight", "little"), 422, "insight"},
			{"unknown mode", with("mode", "letter"), 422, "mode"},
			{"future date", with("date", day(2)), 422, "date"},
			{"impossible date", with("date", "2026-02-30"), 422, "date"},
			{"risk as text", with("risk_level", "high"), 422, "risk_level"},
			{"malformed JSON", `{"date": "2026-01-01"`, 400, ""},
			{"body over the limit", `{"notes":"` + strings.Repeat("x", 70<<10) + `"}`, 413, ""},
		} {
			res := e.do("POST", "/api/v1/patients/"+id+"/follow-ups", mgr, tt.body)
			if res.status != tt.status || firstField(res) != tt.field {
				t.Errorf("%s: %d %q (%s), want %d %q", tt.name, res.status, firstField(res), res.raw, tt.status, tt.field)
			}
		}
		if count() != before {
			t.Errorf("refused follow-ups wrote rows")
		}
		if res := e.do("POST", "/api/v1/patients/"+id+"/follow-ups", "", fu); res.status != 401 {
			t.Errorf("no token: %d", res.status)
		}
		// Another community: 404. The care-and-help group: no diagnoses, medications or symptoms.
		if res := e.do("GET", "/api/v1/patients/"+id, e.token("manager2"), nil); res.status != 404 {
			t.Errorf("other community: %d", res.status)
		}
		cg := e.token("caregroup")
		res = e.do("GET", "/api/v1/patients/"+id, cg, nil)
		if res.status != 200 || strings.Contains(res.raw, "schizophrenia") || strings.Contains(res.raw, "diagnos") ||
			strings.Contains(res.raw, "national_id") || res.body["guardian"].(map[string]any)["phone"] != "13900139000" {
			t.Errorf("care group record: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/api/v1/patients/"+id+"/follow-ups", cg, nil)
		if res.status != 200 || strings.Contains(res.raw, "olanzapine") || strings.Contains(res.raw, "hallucinations") || strings.Contains(res.raw, "unstable") {
			t.Errorf("care group follow-ups: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/api/v1/worklist?kind=due&as_of="+day(7), mgr, nil)
		items, _ := res.body["items"].([]any)
		if res.status != 200 || len(items) != 1 || items[0].(map[string]any)["due_on"] != day(13) || items[0].(map[string]any)["phone"] != "13800138000" {
			t.Errorf("due worklist: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/worklist?kind=later", mgr, nil); res.status != 422 || firstField(res) != "kind" {
			t.Errorf("bad kind: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/api/v1/patients/"+id+"/timeline", mgr, nil)
		if items, _ := res.body["items"].([]any); res.status != 200 || len(items) != 2 {
			t.Errorf("timeline: %d %s", res.status, res.raw)
		}
		res = e.do("POST", "/api/v1/patients/"+id+"/emergencies", cg, map[string]any{"occurred_at": time.Now().Add(-time.Hour).Format(time.RFC3339),
			"triggers": []string{"endangering_others"}, "attendees": []string{"police"}, "measures": []string{"persuasion"}})
		if res.status != 201 || res.body["completed"] != false {
			t.Errorf("emergency: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/patients?q=陈", mgr, nil); res.status != 200 || !strings.Contains(res.raw, "110105********002X") ||
			res.body["as_of"] == "" || res.body["standby"] != false {
			t.Errorf("search: %d %s", res.status, res.raw)
		}
		// Figures say as of when their data is (without a read pool: now).
		if res := e.do("GET", "/api/v1/figures", mgr, nil); res.status != 200 || res.body["as_of"] == nil || res.body["standby"] != false {
			t.Errorf("figures: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/patients/abc", mgr, nil); res.status != 404 {
			t.Errorf("bad id: %d", res.status)
		}
	})
}
