package api_test

import (
	"strconv"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestFamilyAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr := e.token("manager")
		id := e.registerPatient(mgr, "C0101", "周建国")
		base := "/api/v1/patients/" + id + "/family"

		res := e.do("POST", base, mgr, map[string]any{"name": "周秀英", "relation": "母亲", "phone": "13800138001", "lives_with": true, "is_guardian": true})
		if res.status != 201 || res.body["is_guardian"] != true || res.header.Get("Location") == "" {
			t.Fatalf("add guardian: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", base, mgr, map[string]any{"name": "周强", "relation": "哥哥", "is_guardian": true}); res.status != 409 {
			t.Errorf("second guardian: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", base, mgr, map[string]any{"name": "", "phone": "x"}); res.status != 422 || firstField(res) != "name" {
			t.Errorf("no name: %d %s", res.status, res.raw)
		}
		res = e.do("POST", base, mgr, map[string]any{"name": "周强", "relation": "哥哥", "phone": "13900139002"})
		if res.status != 201 {
			t.Fatalf("add brother: %d %s", res.status, res.raw)
		}
		brother := res.body["id"].(float64)

		list := e.do("GET", base, mgr, nil)
		if got := items(list); list.status != 200 || len(got) != 2 || got[0]["name"] != "周秀英" || got[1]["id"].(float64) != brother {
			t.Errorf("family: %d %s", list.status, list.raw)
		}
		// The patient's guardian is the guardian family member.
		p := e.do("GET", "/api/v1/patients/"+id, mgr, nil)
		if g, _ := p.body["guardian"].(map[string]any); g["name"] != "周秀英" || g["phone"] != "13800138001" {
			t.Errorf("patient's guardian: %s", p.raw)
		}
		// The care-and-help group sees the guardian only.
		if got := items(e.do("GET", base, e.token("caregroup"), nil)); len(got) != 1 || got[0]["phone"] != "13800138001" {
			t.Errorf("care group's family: %v", got)
		}
		// Another community's manager: not found.
		if res := e.do("GET", base, e.token("manager2"), nil); res.status != 404 {
			t.Errorf("other community: %d", res.status)
		}
		fid := "/" + itoa(brother)
		if res := e.do("PUT", base+fid, mgr, map[string]any{"name": "周强", "relation": "哥哥", "phone": "13900139003"}); res.status != 200 || res.body["phone"] != "13900139003" {
			t.Errorf("update: %d %s", res.status, res.raw)
		}
		if res := e.do("DELETE", base+fid, mgr, nil); res.status != 204 {
			t.Errorf("delete: %d %s", res.status, res.raw)
		}
		if got := items(e.do("GET", base, mgr, nil)); len(got) != 1 {
			t.Errorf("after delete: %v", got)
		}
	})
}

func itoa(f float64) string { return strconv.FormatInt(int64(f), 10) }

func TestEventsAndTrainingAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr, psy := e.token("manager"), e.token("psychiatrist")
		id := e.registerPatient(mgr, "C0101", "周建国")
		fam := e.do("POST", "/api/v1/patients/"+id+"/family", mgr, map[string]any{"name": "周秀英", "relation": "母亲", "is_guardian": true})
		fid := fam.body["id"]

		// A caregiver session with two places.
		res := e.do("POST", "/api/v1/events", mgr, map[string]any{"title": "照护者培训：识别复发征兆", "kind": "caregiver_education",
			"starts_at": "2026-05-20T14:00:00+08:00", "place": "安宁社区活动室", "org_unit": "C0101", "capacity": 2, "audience": "families"})
		if res.status != 201 || res.body["audience"] != "families" {
			t.Fatalf("create event: %d %s", res.status, res.raw)
		}
		ev := "/api/v1/events/" + itoa(res.body["id"].(float64))
		if res := e.do("POST", "/api/v1/events", mgr, map[string]any{"title": "x", "kind": "party", "starts_at": "2026-05-20T14:00:00+08:00", "org_unit": "C0101"}); res.status != 422 || firstField(res) != "kind" {
			t.Errorf("bad kind: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", ev+"/attendance", mgr, map[string]any{"family_member_id": fid}); res.status != 201 || res.body["name"] != "周秀英" {
			t.Errorf("family attends: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", ev+"/attendance", mgr, map[string]any{"patient_id": jsonID(id)}); res.status != 201 {
			t.Errorf("patient attends: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", ev+"/attendance", mgr, map[string]any{"username": "nurse"}); res.status != 409 {
			t.Errorf("over capacity: %d %s", res.status, res.raw)
		}
		list := e.do("GET", "/api/v1/events?org_unit=C0101&from=2026-05-01&to=2026-05-31&kind=caregiver_education", mgr, nil)
		if got := items(list); list.status != 200 || len(got) != 1 || got[0]["booked"].(float64) != 2 {
			t.Errorf("calendar: %d %s", list.status, list.raw)
		}

		// Changed, then called off: it stays listed, marked, and takes no one.
		if res := e.do("PATCH", ev, mgr, map[string]any{"capacity": 1}); res.status != 422 || firstField(res) != "capacity" {
			t.Errorf("capacity below the list: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", ev, mgr, map[string]any{"place": "社区卫生服务中心", "capacity": 3}); res.status != 200 ||
			res.body["place"] != "社区卫生服务中心" || res.body["capacity"].(float64) != 3 {
			t.Errorf("change: %d %s", res.status, res.raw)
		}
		// Those on the list came (ticked by default on the API): it took place.
		if res := e.do("POST", ev+"/cancel", mgr, map[string]any{"reason": "讲师生病"}); res.status != 409 {
			t.Errorf("a held event called off: %d %s", res.status, res.raw)
		}
		res = e.do("POST", "/api/v1/events", mgr, map[string]any{"title": "家属互助会", "kind": "support_group",
			"starts_at": "2026-05-27T14:00:00+08:00", "org_unit": "C0101"})
		off := "/api/v1/events/" + itoa(res.body["id"].(float64))
		if res := e.do("POST", off+"/cancel", mgr, map[string]any{}); res.status != 422 || firstField(res) != "reason" {
			t.Errorf("no reason: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", off+"/cancel", mgr, map[string]any{"reason": "讲师生病"}); res.status != 200 ||
			res.body["cancel_reason"] != "讲师生病" || res.body["cancelled_at"] == nil {
			t.Errorf("cancel: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", off+"/attendance", mgr, map[string]any{"username": "nurse"}); res.status != 409 {
			t.Errorf("attendance after cancelling: %d %s", res.status, res.raw)
		}

		// The district's course; a session of it gives its hours to those present.
		res = e.do("POST", "/api/v1/courses", psy, map[string]any{"title": "危机评估", "topic": "crisis_assessment", "hours": 6,
			"competencies": []string{"风险评估", "危机干预"}})
		if res.status != 201 {
			t.Fatalf("create course: %d %s", res.status, res.raw)
		}
		course := res.body["id"]
		if res := e.do("POST", "/api/v1/courses", mgr, map[string]any{"title": "x", "topic": "other", "hours": 1}); res.status != 403 {
			t.Errorf("manager creates a course: %d", res.status)
		}
		res = e.do("POST", "/api/v1/events", psy, map[string]any{"title": "危机评估（第一期）", "kind": "training", "course_id": course,
			"starts_at": "2026-03-10T09:00:00+08:00", "place": "区精神卫生中心", "org_unit": "D01"})
		if res.status != 201 || res.body["hours"].(float64) != 6 {
			t.Fatalf("training session: %d %s", res.status, res.raw)
		}
		session := "/api/v1/events/" + itoa(res.body["id"].(float64))
		if res := e.do("POST", session+"/attendance", psy, map[string]any{"username": "manager"}); res.status != 201 {
			t.Errorf("manager attends: %d %s", res.status, res.raw)
		}
		res = e.do("POST", session+"/attendance", psy, map[string]any{"username": "nurse", "present": false})
		if res.status != 201 {
			t.Fatalf("nurse on the sheet: %d %s", res.status, res.raw)
		}
		// A case discussion: anonymised, its own hours.
		res = e.do("POST", "/api/v1/events", psy, map[string]any{"title": "疑难病例讨论", "kind": "case_discussion", "hours": 1.5,
			"starts_at": "2026-04-02T15:00:00+08:00", "org_unit": "D01"})
		if res.status != 201 {
			t.Fatalf("case discussion: %d %s", res.status, res.raw)
		}
		cd := "/api/v1/events/" + itoa(res.body["id"].(float64))
		e.do("POST", cd+"/attendance", psy, map[string]any{"username": "manager"})
		if res := e.do("POST", cd+"/attendance", psy, map[string]any{"patient_id": jsonID(id)}); res.status != 422 {
			t.Errorf("a patient at a case discussion: %d %s", res.status, res.raw)
		}

		tr := e.do("GET", "/api/v1/users/manager/training?year=2026", mgr, nil)
		comps, _ := tr.body["competencies"].([]any)
		sessions, _ := tr.body["sessions"].([]any)
		if tr.status != 200 || tr.body["hours"].(float64) != 7.5 || len(comps) != 2 || len(sessions) != 2 {
			t.Errorf("manager's training: %d %s", tr.status, tr.raw)
		}
		if res := e.do("GET", "/api/v1/users/nurse/training?year=2026", mgr, nil); res.status != 404 {
			t.Errorf("manager reads the nurse's training: %d", res.status)
		}
		// The nurse is ticked present later: her hours count.
		nurseLine := "/attendance/" + itoa(e.do("GET", session, psy, nil).body["attendance"].([]any)[1].(map[string]any)["id"].(float64))
		if res := e.do("PATCH", session+nurseLine, psy, map[string]any{"present": true}); res.status != 204 {
			t.Errorf("tick: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/users/nurse/training?year=2026", psy, nil); res.body["hours"].(float64) != 6 {
			t.Errorf("nurse's training: %s", res.raw)
		}
		// Who is below the target (20 h by default): everyone here.
		below := e.do("GET", "/api/v1/training?year=2026&below=true", e.token("district"), nil)
		got := items(below)
		if below.status != 200 || below.body["target"].(float64) != 20 || len(got) < 3 {
			t.Fatalf("below target: %d %s", below.status, below.raw)
		}
		for _, h := range got {
			if h["username"] == "manager" && h["hours"].(float64) != 7.5 {
				t.Errorf("manager's hours in the list: %v", h)
			}
		}
	})
}

// jsonID turns an id string into a number for a JSON body.
func jsonID(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func TestSubsidyAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr, district := e.token("manager"), e.token("district")
		year := e.svc.Today().Time().Year() - 1
		// A patient under management since before last year, with a guardian.
		reg := e.do("POST", "/api/v1/patients", mgr, map[string]any{"name": "周建国", "sex": "male", "birth_date": "1970-03-04",
			"org_unit": "C0101", "registered_on": strconv.Itoa(year-1) + "-06-01", "guardian": map[string]any{"name": "周秀英", "relation": "母亲"}})
		if reg.status != 201 {
			t.Fatalf("register: %d %s", reg.status, reg.raw)
		}
		late := e.registerPatient(mgr, "C0101", "王五")
		if res := e.do("POST", "/api/v1/subsidies", mgr, map[string]any{"patient_id": jsonID(late), "year": year, "amount": 600}); res.status != 422 || firstField(res) != "patient_id" {
			t.Errorf("registered this year: %d %s", res.status, res.raw)
		}
		created := e.do("POST", "/api/v1/subsidies", mgr, map[string]any{"patient_id": reg.body["id"], "year": year, "amount": 600})
		if created.status != 201 || created.body["status"] != "eligible" {
			t.Fatalf("propose: %d %s", created.status, created.raw)
		}
		path := "/api/v1/subsidies/" + itoa(created.body["id"].(float64))
		if res := e.do("POST", "/api/v1/subsidies", mgr, map[string]any{"patient_id": created.body["patient_id"], "year": year, "amount": 600}); res.status != 409 {
			t.Errorf("twice: %d %s", res.status, res.raw)
		}
		for _, st := range []struct {
			token, status, reason string
			want                  int
		}{
			{mgr, "paid", "", 409}, {mgr, "reviewed", "", 200}, {mgr, "approved", "", 403}, {district, "refused", "", 422},
			{district, "approved", "", 200}, {district, "paid", "", 200}, {district, "refused", "late", 409}, {mgr, "lost", "", 422},
		} {
			if res := e.do("PATCH", path, st.token, map[string]any{"status": st.status, "reason": st.reason}); res.status != st.want {
				t.Errorf("→ %s: %d %s, want %d", st.status, res.status, res.raw, st.want)
			}
		}
		led := e.do("GET", "/api/v1/subsidies?year="+strconv.Itoa(year)+"&org_unit=D01", district, nil)
		totals, _ := led.body["totals"].([]any)
		if got := items(led); led.status != 200 || len(got) != 1 || got[0]["status"] != "paid" || len(totals) != 1 {
			t.Errorf("ledger: %d %s", led.status, led.raw)
		}
		if res := e.do("GET", "/api/v1/subsidies", e.token("caregroup"), nil); res.status != 403 {
			t.Errorf("care group's ledger: %d", res.status)
		}
	})
}
