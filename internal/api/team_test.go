package api_test

import (
	"strconv"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestCareTeamAndPlansAPI walks issue 11's "Done when" through the API: a
// manager builds the team with someone from another community, who can
// then read the record, writes a plan, reviews and adjusts it; after the
// removal the outsider cannot read it.
func TestCareTeamAndPlansAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr, other := e.token("manager"), e.token("manager2")
		res := e.do("POST", "/api/v1/patients", mgr, map[string]any{"name": "陈静", "sex": "female", "birth_date": "1975-08-09",
			"org_unit": "C0101", "registered_on": day(-200)})
		if res.status != 201 {
			t.Fatalf("register: %d %s", res.status, res.raw)
		}
		id := strconv.Itoa(int(res.body["id"].(float64)))
		pt := "/api/v1/patients/" + id
		if res := e.do("GET", pt, other, nil); res.status != 404 {
			t.Fatalf("outsider before: %d", res.status)
		}
		// The district's colleagues, by name with their usernames, for a
		// client that names staff as the web forms do.
		res = e.do("GET", "/api/v1/colleagues", mgr, nil)
		found := false
		items, _ := res.body["items"].([]any)
		for _, it := range items {
			c, _ := it.(map[string]any)
			found = found || (c["username"] == "manager2" && c["name"] == "Liu Yang 刘洋" && c["unit_name"] != "")
		}
		if res.status != 200 || !found {
			t.Errorf("colleagues: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/colleagues", e.token("caregroup"), nil); res.status != 403 {
			t.Errorf("colleagues for the care-and-help group: %d", res.status)
		}
		if res := e.do("POST", pt+"/team", mgr, map[string]any{"username": "ghost", "team_role": "nurse"}); res.status != 422 || firstField(res) != "username" {
			t.Errorf("unknown username: %d %s", res.status, res.raw)
		}
		res = e.do("POST", pt+"/team", mgr, map[string]any{"username": "manager2", "team_role": "community_manager", "key_worker": true})
		if res.status != 201 {
			t.Fatalf("add: %d %s", res.status, res.raw)
		}
		res = e.do("GET", pt+"/team", mgr, nil)
		members, _ := res.body["members"].([]any)
		if res.status != 200 || len(members) != 1 {
			t.Fatalf("team: %d %s", res.status, res.raw)
		}
		if m := members[0].(map[string]any); m["username"] != "manager2" || m["name"] != "Liu Yang 刘洋" || m["team_role"] != "community_manager" || m["key_worker"] != true {
			t.Errorf("member = %v", m)
		}
		if _, ok := res.body["contacts"].([]any); !ok {
			t.Errorf("no contacts list: %s", res.raw)
		}
		if res := e.do("GET", pt, other, nil); res.status != 200 {
			t.Errorf("outsider on the team: %d", res.status)
		}
		if res := e.do("GET", "/api/v1/me/patients", other, nil); res.status != 200 || len(res.body["items"].([]any)) != 1 {
			t.Errorf("my patients: %d %s", res.status, res.raw)
		}
		c := e.do("POST", pt+"/team-contacts", mgr, map[string]any{"kind": "family", "name": "陈刚", "relation": "兄", "phone": "13900139000"})
		if c.status != 201 {
			t.Fatalf("contact: %d %s", c.status, c.raw)
		}

		plan := map[string]any{"start_on": day(-30), "review_every_days": 30,
			"needs": []map[string]any{{"domain": "occupation", "finding": "out of work"}},
			"goals": []map[string]any{{"domain": "occupation", "description": "sheltered work", "measure": "half-days a week",
				"baseline": 0, "target": 3, "target_on": day(150),
				"interventions": []map[string]any{{"description": "job coaching", "assignee": "nurse", "frequency": "weekly"}}}},
			"agreed_by_patient": true, "agreed_by_family": true}
		if res := e.do("POST", pt+"/plans", mgr, plan); res.status != 422 || firstField(res) != "goals[0].interventions[0].assignee" {
			t.Errorf("assignee not on the team: %d %s", res.status, res.raw)
		}
		plan["goals"].([]map[string]any)[0]["interventions"].([]map[string]any)[0]["assignee"] = "manager2"
		res = e.do("POST", pt+"/plans", mgr, plan)
		if res.status != 201 || res.body["version"] != float64(1) || res.body["status"] != "active" || res.body["next_review_on"] != day(0) {
			t.Fatalf("plan: %d %s", res.status, res.raw)
		}
		planID := strconv.Itoa(int(res.body["id"].(float64)))
		goal := res.body["goals"].([]any)[0].(map[string]any)
		if goal["baseline"] != "0" || goal["target"] != "3" || goal["id"] == nil {
			t.Errorf("goal = %v", goal)
		}
		res = e.do("GET", "/api/v1/worklist?kind=plan_review&as_of="+day(-5), mgr, nil)
		if items, _ := res.body["items"].([]any); res.status != 200 || len(items) != 1 {
			t.Errorf("plan_review worklist: %d %s", res.status, res.raw)
		}
		review := map[string]any{"date": day(-1), "ratings": []map[string]any{{"goal_id": goal["id"], "progress": "brilliant"}},
			"patient_feedback": "ok", "family_feedback": "ok"}
		if res := e.do("POST", "/api/v1/plans/"+planID+"/reviews", other, review); res.status != 422 || firstField(res) != "ratings[0].progress" {
			t.Errorf("bad progress: %d %s", res.status, res.raw)
		}
		review["ratings"] = []map[string]any{{"goal_id": goal["id"], "progress": "improved", "value": 1}}
		if res := e.do("POST", "/api/v1/plans/"+planID+"/reviews", other, review); res.status != 201 || res.body["next_review_on"] != day(29) {
			t.Errorf("review: %d %s", res.status, res.raw)
		}
		res = e.do("PUT", "/api/v1/plans/"+planID, mgr, plan)
		if res.status != 201 || res.body["version"] != float64(2) || res.body["status"] != "active" {
			t.Fatalf("adjust: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/plans/"+planID+"/reviews", mgr, review); res.status != 409 {
			t.Errorf("review superseded: %d %s", res.status, res.raw)
		}
		res = e.do("GET", pt+"/plans", mgr, nil)
		if items, _ := res.body["items"].([]any); res.status != 200 || len(items) != 2 || items[1].(map[string]any)["status"] != "superseded" {
			t.Errorf("plans: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/me/interventions", other, nil); res.status != 200 || len(res.body["items"].([]any)) != 1 {
			t.Errorf("my interventions: %d %s", res.status, res.raw)
		}

		// A case conference whose decision reaches its owner.
		conf := map[string]any{"date": day(-1), "org_unit": "C0101",
			"participants": []map[string]any{{"username": "manager"}, {"name": "孙丽", "organisation": "残联"}},
			"patients": []map[string]any{{"patient_id": res.body["patient_id"], "summary": "discussed work",
				"decisions": []map[string]any{{"text": "vocational training", "owner": "manager2", "due_on": day(14)}}}}}
		conf["patients"].([]map[string]any)[0]["patient_id"], _ = strconv.Atoi(id)
		bad := e.do("POST", "/api/v1/case-conferences", mgr, map[string]any{"date": day(-1), "org_unit": "C0101",
			"participants": conf["participants"], "patients": []map[string]any{{"patient_id": conf["patients"].([]map[string]any)[0]["patient_id"],
				"summary": "x", "decisions": []map[string]any{{"text": "y", "owner": "ghost", "due_on": day(3)}}}}})
		if bad.status != 422 || firstField(bad) != "patients[0].decisions[0].owner" {
			t.Errorf("unknown owner: %d %s", bad.status, bad.raw)
		}
		if res := e.do("POST", "/api/v1/case-conferences", mgr, conf); res.status != 201 {
			t.Fatalf("conference: %d %s", res.status, res.raw)
		}
		res = e.do("GET", pt+"/case-conferences", mgr, nil)
		if items, _ := res.body["items"].([]any); res.status != 200 || len(items) != 1 {
			t.Errorf("conferences: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/api/v1/me/decisions", other, nil)
		items, _ = res.body["items"].([]any)
		if res.status != 200 || len(items) != 1 {
			t.Fatalf("my decisions: %d %s", res.status, res.raw)
		}
		did := strconv.Itoa(int(items[0].(map[string]any)["id"].(float64)))
		if res := e.do("POST", "/api/v1/decisions/"+did+"/done", other, nil); res.status != 204 {
			t.Errorf("done: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/me/decisions", other, nil); len(res.body["items"].([]any)) != 0 {
			t.Errorf("after done: %s", res.raw)
		}

		if res := e.do("DELETE", pt+"/team-contacts/"+strconv.Itoa(int(c.body["id"].(float64))), mgr, nil); res.status != 204 {
			t.Errorf("remove contact: %d %s", res.status, res.raw)
		}
		if res := e.do("DELETE", pt+"/team/manager2", mgr, nil); res.status != 204 {
			t.Fatalf("remove: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", pt, other, nil); res.status != 404 {
			t.Errorf("outsider after removal: %d", res.status)
		}
		if res := e.do("DELETE", pt+"/team/manager2", mgr, nil); res.status != 404 {
			t.Errorf("remove twice: %d", res.status)
		}
	})
}
