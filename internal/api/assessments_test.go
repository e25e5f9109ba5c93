package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/directory"
	"kith/internal/secrets"
	"kith/internal/server"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// newDemoEnv is newEnv with the demo district's directory of help, so that
// a screening in a community is shown its services.
func newDemoEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	keys, err := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
	if err != nil {
		t.Fatal(err)
	}
	svc := care.New(db, keys)
	svc.SetDirectory(directory.Demo())
	if _, err := demo.Seed(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(svc, server.Options{MaxBodyBytes: 64 << 10}))
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, svc: svc, srv: srv, recovery: map[string][]string{}}
}

// registerPatient registers a patient in a unit and returns the id.
func (e *env) registerPatient(token, unit, name string) string {
	e.t.Helper()
	res := e.do("POST", "/api/v1/patients", token, map[string]any{
		"name": name, "sex": "female", "birth_date": "1970-03-04", "org_unit": unit, "registered_on": day(-60),
		"phone": "13800138000", "diagnoses": []map[string]any{{"code": "schizophrenia", "diagnosed_on": "2019-04-01"}},
	})
	if res.status != 201 {
		e.t.Fatalf("register %s: %d %s", name, res.status, res.raw)
	}
	return strconv.Itoa(int(res.body["id"].(float64)))
}

// items returns a list response's items as objects.
func items(r response) []map[string]any {
	var out []map[string]any
	list, _ := r.body["items"].([]any)
	for _, it := range list {
		out = append(out, it.(map[string]any))
	}
	return out
}

func byID(list []map[string]any, key, id string) map[string]any {
	for _, it := range list {
		if it[key] == id {
			return it
		}
	}
	return nil
}

// phq9 returns PHQ-9 answers: item 9 answered v9, the others 0.
func phq9(v9 int) []int { return []int{0, 0, 0, 0, 0, 0, 0, 0, v9} }

func TestInstrumentsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		res := e.do("GET", "/api/v1/instruments", "", nil)
		phq := byID(items(res), "id", "phq9")
		if res.status != 200 || phq == nil || phq["item_count"] != 9.0 || phq["min_score"] != 0.0 || phq["max_score"] != 27.0 ||
			phq["public"] != true || phq["version"] != 1.0 || phq["short"] != "PHQ-9" ||
			!strings.HasPrefix(phq["title"].(string), "Patient Health Questionnaire") || phq["source"] == "" || phq["licence"] == "" {
			t.Fatalf("instruments: %d %s", res.status, res.raw)
		}
		if sdss := byID(items(res), "id", "sdss"); sdss == nil || sdss["public"] != false {
			t.Errorf("sdss in the list: %v", sdss)
		}
		for _, id := range []string{"gad7", "k10", "risk"} {
			if byID(items(res), "id", id) == nil {
				t.Errorf("%s missing from the list", id)
			}
		}
		if res.header.Get("Content-Language") != "en" {
			t.Errorf("Content-Language %q", res.header.Get("Content-Language"))
		}
		const zhTitle = "患者健康问卷（PHQ-9）：抑郁"
		res = e.do("GET", "/api/v1/instruments?lang=zh-Hans", "", nil)
		if phq := byID(items(res), "id", "phq9"); res.status != 200 || phq["title"] != zhTitle || res.header.Get("Content-Language") != "zh-Hans" {
			t.Errorf("instruments in Chinese: %d %s", res.status, res.raw)
		}
		res = e.doWith(http.Header{"Accept-Language": {"zh-CN,zh;q=0.9,en;q=0.5"}}, "GET", "/api/v1/instruments", "", nil)
		if phq := byID(items(res), "id", "phq9"); res.status != 200 || phq["title"] != zhTitle {
			t.Errorf("instruments by Accept-Language: %d %s", res.status, res.raw)
		}
		res = e.doWith(http.Header{"Accept-Language": {"zh-CN"}}, "GET", "/api/v1/instruments?lang=en", "", nil)
		if phq := byID(items(res), "id", "phq9"); phq["title"] == zhTitle {
			t.Errorf("?lang=en did not win over Accept-Language: %s", res.raw)
		}
		if res := e.do("GET", "/api/v1/instruments?lang=fr", "", nil); res.status != 422 || firstField(res) != "lang" {
			t.Errorf("lang=fr: %d %s", res.status, res.raw)
		}

		res = e.do("GET", "/api/v1/instruments/phq9", "", nil)
		if res.status != 200 || res.body["version"] != 1.0 || res.body["scoring"] != "sum" || res.body["source"] == "" || res.body["licence"] == "" ||
			!strings.HasPrefix(res.body["prompt"].(string), "Over the last 2 weeks") {
			t.Fatalf("phq9: %d %s", res.status, res.raw)
		}
		var def struct {
			Items []struct {
				ID      string `json:"id"`
				Text    string `json:"text"`
				Options []struct {
					Value int    `json:"value"`
					Text  string `json:"text"`
				} `json:"options"`
			} `json:"items"`
			Bands []struct {
				Key, Label, Advice string
				Min, Max           int
			} `json:"bands"`
			Flags []struct {
				Key, Rule, Item, Label string
				Min                    int
				Alert                  bool
			} `json:"flags"`
		}
		if err := json.Unmarshal([]byte(res.raw), &def); err != nil {
			t.Fatal(err)
		}
		if len(def.Items) != 9 || def.Items[8].ID != "phq9_9" || len(def.Items[0].Options) != 4 || def.Items[0].Options[3].Value != 3 ||
			def.Items[0].Options[0].Text != "Not at all" || def.Items[0].Text != "Little interest or pleasure in doing things" {
			t.Errorf("phq9 items: %+v", def.Items)
		}
		if len(def.Bands) != 5 || def.Bands[0].Key != "minimal" || def.Bands[0].Max != 4 || def.Bands[0].Label != "Minimal" || def.Bands[4].Advice == "" {
			t.Errorf("phq9 bands: %+v", def.Bands)
		}
		if len(def.Flags) != 1 || def.Flags[0].Key != "suicide_risk" || def.Flags[0].Rule != "R-SCORE-PHQ9-ITEM9" || def.Flags[0].Item != "phq9_9" ||
			def.Flags[0].Min != 1 || !def.Flags[0].Alert || !strings.HasPrefix(def.Flags[0].Label, "Thoughts of death") {
			t.Errorf("phq9 flags: %+v", def.Flags)
		}
		res = e.do("GET", "/api/v1/instruments/phq9?lang=zh-Hans", "", nil)
		def.Items, def.Bands, def.Flags = nil, nil, nil
		json.Unmarshal([]byte(res.raw), &def)
		if res.status != 200 || res.body["title"] != zhTitle || len(def.Items) != 9 || def.Items[0].Text != "做事时提不起劲或没有兴趣" ||
			def.Items[0].Options[0].Text != "完全不会" || def.Bands[0].Label != "没有或极轻微" || !strings.Contains(def.Bands[0].Advice, "抑郁") ||
			!strings.Contains(def.Flags[0].Label, "自伤") {
			t.Errorf("phq9 in Chinese: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/instruments/phq9?version=1", "", nil); res.status != 200 || res.body["version"] != 1.0 {
			t.Errorf("version 1: %d %s", res.status, res.raw)
		}
		for _, path := range []string{"/api/v1/instruments/phq9?version=2", "/api/v1/instruments/nope", "/api/v1/instruments/nope?lang=zh-Hans"} {
			if res := e.do("GET", path, "", nil); res.status != 404 || res.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d %s", path, res.status, res.raw)
			}
		}
		if res := e.do("GET", "/api/v1/instruments/phq9?version=one", "", nil); res.status != 422 || firstField(res) != "version" {
			t.Errorf("version=one: %d %s", res.status, res.raw)
		}
	})
}

func TestAssessmentsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr := e.token("manager")
		id := e.registerPatient(mgr, "C0101", "何平")
		path := "/api/v1/patients/" + id + "/assessments"
		res := e.do("POST", path, mgr, map[string]any{"instrument": "phq9", "date": day(-10), "answers": phq9(1)})
		flags, _ := res.body["flags"].([]any)
		if res.status != 201 || res.body["score"] != 1.0 || res.body["band"] != "minimal" || res.body["version"] != 1.0 ||
			len(flags) != 1 || flags[0] != "suicide_risk" || res.body["alert_id"] == nil || res.body["author"] != "manager" {
			t.Fatalf("flagged PHQ-9: %d %s", res.status, res.raw)
		}

		before := e.count("assessments")
		for _, tt := range []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"8 answers", map[string]any{"instrument": "phq9", "date": day(-1), "answers": []int{0, 0, 0, 0, 0, 0, 0, 0}}, 422, "answers"},
			{"10 answers", map[string]any{"instrument": "phq9", "date": day(-1), "answers": make([]int, 10)}, 422, "answers"},
			{"no answers", map[string]any{"instrument": "phq9", "date": day(-1)}, 422, "answers"},
			{"item 4 out of range", map[string]any{"instrument": "phq9", "date": day(-1), "answers": []int{0, 0, 0, 4, 0, 0, 0, 0, 0}}, 422, "answers[3]"},
			{"negative item 1", map[string]any{"instrument": "phq9", "date": day(-1), "answers": []int{-1, 0, 0, 0, 0, 0, 0, 0, 0}}, 422, "answers[0]"},
			{"unknown instrument", map[string]any{"instrument": "phq10", "date": day(-1), "answers": phq9(0)}, 422, "instrument"},
			{"no instrument", map[string]any{"date": day(-1), "answers": phq9(0)}, 422, "instrument"},
			{"no date", map[string]any{"instrument": "phq9", "answers": phq9(0)}, 422, "date"},
			{"future date", map[string]any{"instrument": "phq9", "date": day(3), "answers": phq9(0)}, 422, "date"},
			{"answers as text", map[string]any{"instrument": "phq9", "date": day(-1), "answers": "0,0,0"}, 422, "answers"},
			{"score given", map[string]any{"instrument": "phq9", "date": day(-1), "answers": phq9(0), "score": 27}, 422, "score"},
		} {
			res := e.do("POST", path, mgr, tt.body)
			if res.status != tt.status || firstField(res) != tt.field {
				t.Errorf("%s: %d %q (%s), want %d %q", tt.name, res.status, firstField(res), res.raw, tt.status, tt.field)
			}
		}
		if n := e.count("assessments"); n != before {
			t.Errorf("refused assessments wrote %d rows", n-before)
		}
		if res := e.do("POST", path, "", map[string]any{"instrument": "phq9", "date": day(-1), "answers": phq9(0)}); res.status != 401 {
			t.Errorf("no token: %d", res.status)
		}
		if res := e.do("POST", path, e.token("caregroup"), map[string]any{"instrument": "phq9", "date": day(-1), "answers": phq9(0)}); res.status != 404 {
			t.Errorf("care group assesses: %d %s, want 404 (the service hides what a role may not write)", res.status, res.raw)
		}
		if res := e.do("POST", path, e.token("manager2"), map[string]any{"instrument": "phq9", "date": day(-1), "answers": phq9(0)}); res.status != 404 {
			t.Errorf("another community's manager assesses: %d %s", res.status, res.raw)
		}

		for _, b := range []map[string]any{
			{"instrument": "phq9", "date": day(-5), "answers": []int{2, 2, 2, 1, 1, 1, 1, 0, 0}},
			{"instrument": "phq9", "date": day(-1), "answers": phq9(0)},
			{"instrument": "gad7", "date": day(-1), "answers": []int{3, 3, 3, 3, 3, 3, 3}},
		} {
			if res := e.do("POST", path, mgr, b); res.status != 201 {
				t.Fatalf("assess %v: %d %s", b, res.status, res.raw)
			}
		}
		if res := e.do("GET", path+"?instrument=gad7", mgr, nil); res.status != 200 || len(items(res)) != 1 || items(res)[0]["band"] != "severe" {
			t.Errorf("gad7 list: %d %s", res.status, res.raw)
		}
		// Three PHQ-9s, newest first, two to a page.
		var dates []string
		next := path + "?instrument=phq9&limit=2"
		for pages := 0; next != ""; pages++ {
			res := e.do("GET", next, mgr, nil)
			if res.status != 200 || pages > 3 {
				t.Fatalf("page %d: %d %s", pages, res.status, res.raw)
			}
			for _, it := range items(res) {
				if it["instrument"] != "phq9" {
					t.Errorf("?instrument=phq9 listed %v", it["instrument"])
				}
				dates = append(dates, it["date"].(string))
			}
			next = ""
			if tok, _ := res.body["next_page_token"].(string); tok != "" {
				next = path + "?instrument=phq9&limit=2&page_token=" + tok
			}
		}
		if want := []string{day(-1), day(-5), day(-10)}; !slices.Equal(dates, want) {
			t.Errorf("PHQ-9 dates %v, want %v", dates, want)
		}
		if res := e.do("GET", path, mgr, nil); len(items(res)) != 4 {
			t.Errorf("all assessments: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", path+"?instrument=nope", mgr, nil); res.status != 422 || firstField(res) != "instrument" {
			t.Errorf("?instrument=nope: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", path, e.token("caregroup"), nil); res.status != 403 {
			t.Errorf("care group reads scores: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", path, e.token("manager2"), nil); res.status != 404 {
			t.Errorf("another community reads scores: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/patients/999999/assessments", mgr, nil); res.status != 404 {
			t.Errorf("unknown patient: %d", res.status)
		}
	})
}

// TestAlertsAPI: a flagged assessment's alert reaches the community's
// manager and the district's psychiatrists and no one else; it is
// acknowledged once, saying what was done.
func TestAlertsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr := e.token("manager")
		id := e.registerPatient(mgr, "C0101", "Sun Qi")
		res := e.do("POST", "/api/v1/patients/"+id+"/assessments", mgr, map[string]any{"instrument": "phq9", "date": day(-1), "answers": phq9(1)})
		if res.status != 201 || res.body["alert_id"] == nil {
			t.Fatalf("flagged PHQ-9: %d %s", res.status, res.raw)
		}
		alertID := res.body["alert_id"].(float64)

		tokens := map[string]string{"manager": mgr}
		for _, u := range []string{"psychiatrist", "manager2", "nurse", "therapist", "social", "caregroup", "district"} {
			tokens[u] = e.token(u)
		}
		for _, c := range []struct {
			user   string
			status int
			sees   bool
		}{
			{"manager", 200, true}, {"psychiatrist", 200, true},
			{"manager2", 200, false}, // a manager, of another community: an empty list
			{"nurse", 403, false}, {"therapist", 403, false}, {"social", 403, false}, {"caregroup", 403, false}, {"district", 403, false},
		} {
			res := e.do("GET", "/api/v1/alerts", tokens[c.user], nil)
			list := items(res)
			sees := len(list) == 1 && list[0]["id"] == alertID && list[0]["patient_name"] == "Sun Qi" && list[0]["instrument"] == "phq9" &&
				list[0]["acknowledged"] == false
			if res.status != c.status || sees != c.sees || (!c.sees && len(list) != 0) {
				t.Errorf("%s: %d sees=%v (%s), want %d sees=%v", c.user, res.status, sees, res.raw, c.status, c.sees)
			}
		}
		if res := e.do("GET", "/api/v1/alerts?patient="+id, mgr, nil); res.status != 200 || len(items(res)) != 1 {
			t.Errorf("alerts of the patient: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/alerts?state=later", mgr, nil); res.status != 422 || firstField(res) != "state" {
			t.Errorf("state=later: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/alerts?patient=abc", mgr, nil); res.status != 422 || firstField(res) != "patient" {
			t.Errorf("patient=abc: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/alerts", "", nil); res.status != 401 {
			t.Errorf("no token: %d", res.status)
		}

		alert := "/api/v1/alerts/" + strconv.Itoa(int(alertID))
		if res := e.do("PATCH", alert, tokens["manager2"], map[string]any{"action": "x"}); res.status != 404 {
			t.Errorf("another community acknowledges: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", alert, tokens["nurse"], map[string]any{"action": "x"}); res.status != 404 && res.status != 403 {
			t.Errorf("nurse acknowledges: %d %s", res.status, res.raw)
		}
		for _, body := range []any{map[string]any{}, map[string]any{"action": "   "}} {
			if res := e.do("PATCH", alert, mgr, body); res.status != 422 || firstField(res) != "action" {
				t.Errorf("acknowledge with %v: %d %s", body, res.status, res.raw)
			}
		}
		res = e.do("PATCH", alert, mgr, map[string]any{"action": "Phoned the family; home visit tomorrow"})
		if res.status != 200 || res.body["acknowledged"] != true || res.body["acknowledged_by"] != "manager" ||
			res.body["action"] != "Phoned the family; home visit tomorrow" || res.body["acknowledged_at"] == nil {
			t.Fatalf("acknowledge: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", alert, tokens["psychiatrist"], map[string]any{"action": "again"}); res.status != 409 {
			t.Errorf("second acknowledgement: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", "/api/v1/alerts/999999", mgr, map[string]any{"action": "x"}); res.status != 404 {
			t.Errorf("unknown alert: %d", res.status)
		}
		if res := e.do("GET", "/api/v1/alerts?state=open", mgr, nil); res.status != 200 || len(items(res)) != 0 {
			t.Errorf("open alerts after acknowledgement: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/api/v1/alerts?state=acknowledged", tokens["psychiatrist"], nil)
		if list := items(res); res.status != 200 || len(list) != 1 || list[0]["action"] != "Phoned the family; home visit tomorrow" {
			t.Errorf("acknowledged alerts: %d %s", res.status, res.raw)
		}

		// A follow-up with risk level 3 raises an alert too (R-RISK).
		fu := map[string]any{"date": day(-1), "mode": "home_visit", "reached": true, "risk_level": 3,
			"psychotic_symptoms": "obvious", "insight": "partial", "adverse_reaction": "none", "physical_illness": "none",
			"social_function": map[string]string{"self_care": "fair", "housework": "fair", "work": "poor", "learning": "fair", "social_contact": "poor"},
			"symptoms":        []string{"hallucinations"}, "medication_adherence": "intermittent",
			"medications": []map[string]string{{"name": "olanzapine", "dose": "10 mg", "frequency": "nightly"}}}
		if res := e.do("POST", "/api/v1/patients/"+id+"/follow-ups", mgr, fu); res.status != 201 {
			t.Fatalf("follow-up: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/api/v1/alerts", tokens["psychiatrist"], nil)
		if list := items(res); res.status != 200 || len(list) != 1 || list[0]["instrument"] != "risk" || list[0]["score"] != 3.0 {
			t.Errorf("alert of the follow-up: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/alerts?state=all&limit=1", mgr, nil); len(items(res)) != 1 || res.body["next_page_token"] == nil {
			t.Errorf("all alerts, one to a page: %d %s", res.status, res.raw)
		}
	})
}

// TestScreeningsAPI: the public self-screening gives the band's advice and
// the help at hand in the resident's language, stores nothing that could
// identify them, and is limited per address.
func TestScreeningsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newDemoEnv(t, db)
		sent := 0
		screen := func(header http.Header, path string, body map[string]any) response {
			sent++
			return e.doWith(header, "POST", path, "", body)
		}

		res := e.do("GET", "/api/v1/communities", "", nil)
		if c := byID(items(res), "code", "C0101"); res.status != 200 || c == nil || c["name"] == "" || !strings.Contains(c["street"].(string), "Qinghe") {
			t.Errorf("communities: %d %s", res.status, res.raw)
		}
		if byID(items(res), "code", "S01") != nil {
			t.Errorf("a street is offered as a community: %s", res.raw)
		}

		res = screen(nil, "/api/v1/screenings", map[string]any{"instrument": "phq9", "answers": []int{1, 1, 1, 1, 1, 0, 0, 0, 0}, "community": "C0101"})
		if res.status != 201 || res.body["score"] != 5.0 || res.body["band"] != "mild" || res.body["label"] != "Mild" ||
			!strings.Contains(res.body["advice"].(string), "mild signs of depression") || res.body["urgent"] != false || res.body["version"] != 1.0 {
			t.Fatalf("screening: %d %s", res.status, res.raw)
		}
		var keys []string
		for k := range res.body {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"advice", "band", "flags", "hotlines", "id", "instrument", "label", "score", "services", "urgent", "version", "week"}; !slices.Equal(keys, want) {
			t.Errorf("screening fields %v, want %v", keys, want)
		}
		if id := res.body["id"].(string); len(id) != 32 {
			t.Errorf("screening id %q", id)
		}
		hotlines, _ := res.body["hotlines"].([]any)
		services, _ := res.body["services"].([]any)
		if len(hotlines) == 0 || hotlines[0].(map[string]any)["number"] != "12356" || hotlines[0].(map[string]any)["name"] != "National psychological assistance hotline" {
			t.Errorf("hotlines: %v", hotlines)
		}
		if len(services) == 0 {
			t.Errorf("no services for C0101: %s", res.raw)
		} else if s := services[0].(map[string]any); s["phone"] == "" || s["name"] == "" || s["address"] == "" {
			t.Errorf("service %v", s)
		}

		res = screen(nil, "/api/v1/screenings?lang=zh-Hans", map[string]any{"instrument": "phq9", "answers": []int{1, 1, 1, 1, 1, 0, 0, 0, 0}})
		hotlines, _ = res.body["hotlines"].([]any)
		services, _ = res.body["services"].([]any)
		if res.status != 201 || res.body["label"] != "轻度" || !strings.Contains(res.body["advice"].(string), "轻度的抑郁") ||
			len(hotlines) == 0 || hotlines[0].(map[string]any)["name"] != "全国统一心理援助热线" || services == nil || len(services) != 0 {
			t.Errorf("screening in Chinese, no community: %d %s", res.status, res.raw)
		}
		res = screen(http.Header{"Accept-Language": {"zh-CN,zh;q=0.9"}}, "/api/v1/screenings", map[string]any{"instrument": "gad7", "answers": []int{0, 0, 0, 0, 0, 0, 0}})
		if res.status != 201 || res.header.Get("Content-Language") != "zh-Hans" || !strings.Contains(res.body["advice"].(string), "您") {
			t.Errorf("screening by Accept-Language: %d %s", res.status, res.raw)
		}

		res = screen(nil, "/api/v1/screenings", map[string]any{"instrument": "phq9", "answers": phq9(2), "community": "C0201"})
		flags, _ := res.body["flags"].([]any)
		if res.status != 201 || res.body["urgent"] != true || len(flags) != 1 || flags[0] != "suicide_risk" {
			t.Errorf("PHQ-9 item 9 = 2: %d %s", res.status, res.raw)
		}
		stored := 4
		for _, tt := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"sdss is not public", map[string]any{"instrument": "sdss", "answers": make([]int, 10)}, "instrument"},
			{"risk is not public", map[string]any{"instrument": "risk", "answers": []int{0}}, "instrument"},
			{"unknown instrument", map[string]any{"instrument": "phq10", "answers": phq9(0)}, "instrument"},
			{"a street", map[string]any{"instrument": "phq9", "answers": phq9(0), "community": "S01"}, "community"},
			{"unknown community", map[string]any{"instrument": "phq9", "answers": phq9(0), "community": "C9999"}, "community"},
			{"too few answers", map[string]any{"instrument": "gad7", "answers": []int{0, 0, 0}}, "answers"},
			{"out of range", map[string]any{"instrument": "gad7", "answers": []int{0, 0, 0, 0, 0, 0, 9}}, "answers[6]"},
		} {
			if res := screen(nil, "/api/v1/screenings", tt.body); res.status != 422 || firstField(res) != tt.field {
				t.Errorf("%s: %d %q (%s), want 422 %q", tt.name, res.status, firstField(res), res.raw, tt.field)
			}
		}
		// Refused before the service, so not counted against the limit.
		if res := e.do("POST", "/api/v1/screenings", "", map[string]any{"instrument": "gad7", "answers": make([]int, 7), "name": "Zhang San"}); res.status != 422 || firstField(res) != "name" {
			t.Errorf("a name: %d %s", res.status, res.raw)
		}
		if n := e.count("screenings"); n != stored {
			t.Errorf("%d screenings stored, want %d", n, stored)
		}

		// The table has no column for an address, a time or anything else
		// that could identify the resident.
		rows, err := db.Query(context.Background(), "SELECT * FROM screenings")
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		rows.Close()
		if want := []string{"id", "instrument", "version", "week", "unit_id", "org_path", "answers", "score", "band", "flags"}; err != nil || !slices.Equal(cols, want) {
			t.Errorf("screenings columns %v (%v), want %v", cols, err, want)
		}

		// 20 screenings per address, then 429 with Retry-After.
		var limited response
		for range 30 {
			if limited = screen(nil, "/api/v1/screenings", map[string]any{"instrument": "phq9", "answers": phq9(0)}); limited.status == 429 {
				break
			}
		}
		if limited.status != 429 || sent < 21 || limited.header.Get("Retry-After") == "" || limited.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("after %d screenings: %d Retry-After=%q %s", sent, limited.status, limited.header.Get("Retry-After"), limited.raw)
		}
		if res := e.do("GET", "/api/v1/instruments", "", nil); res.status != 200 {
			t.Errorf("reading instruments after the limit: %d", res.status)
		}
	})
}

// TestContactRequestsAPI: a resident's request lands on their community's
// worklist, urgent first, with no address in its audit entry.
func TestContactRequestsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newDemoEnv(t, db)
		res := e.do("POST", "/api/v1/screenings", "", map[string]any{"instrument": "phq9", "answers": phq9(1), "community": "C0101"})
		if res.status != 201 || res.body["urgent"] != true {
			t.Fatalf("screening: %d %s", res.status, res.raw)
		}
		sid := res.body["id"].(string)

		// The public site allows 3 requests per address: this, and two below.
		if res := e.do("POST", "/api/v1/contact-requests", "", map[string]any{"screening": sid, "name": "A resident", "phone": "138 0000 0000",
			"community": "C0101"}); res.status != 422 || firstField(res) != "consent" {
			t.Errorf("without consent: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/contact-requests", "", map[string]any{"name": "Early", "phone": "139 0000 0000", "community": "C0101",
			"consent": true}); res.status != 201 {
			t.Fatalf("request: %d %s", res.status, res.raw)
		}
		res = e.doWith(http.Header{"Accept-Language": {"zh-CN"}}, "POST", "/api/v1/contact-requests", "", map[string]any{"screening": sid,
			"name": "A resident", "phone": "138 0000 0000", "community": "C0101", "message": "evenings please", "consent": true})
		if res.status != 201 || res.body["id"] == nil || !strings.HasPrefix(res.body["message"].(string), "谢谢") ||
			strings.Contains(res.raw, "138") || strings.Contains(res.raw, "A resident") {
			t.Fatalf("urgent request: %d %s", res.status, res.raw)
		}
		urgentID := strconv.Itoa(int(res.body["id"].(float64)))
		if res := e.do("POST", "/api/v1/contact-requests", "", map[string]any{"name": "More", "phone": "137 0000 0000", "community": "C0101",
			"consent": true}); res.status != 429 || res.header.Get("Retry-After") == "" {
			t.Errorf("fourth request: %d %s", res.status, res.raw)
		}

		mgr := e.token("manager")
		res = e.do("GET", "/api/v1/contact-requests", mgr, nil)
		list := items(res)
		if res.status != 200 || len(list) != 2 || list[0]["name"] != "A resident" || list[0]["urgent"] != true || list[1]["name"] != "Early" ||
			list[0]["screening"] == nil || list[0]["screening"].(map[string]any)["score"] != 1.0 || list[0]["message"] != "evenings please" {
			t.Fatalf("manager's contact requests: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/contact-requests", e.token("manager2"), nil); res.status != 200 || len(items(res)) != 0 {
			t.Errorf("another community's manager: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/contact-requests?org_unit=C0101", e.token("nurse"), nil); res.status != 200 || len(items(res)) != 2 {
			t.Errorf("the street's nurse: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/contact-requests", e.token("caregroup"), nil); res.status != 403 {
			t.Errorf("care group: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/contact-requests", "", nil); res.status != 401 {
			t.Errorf("no token: %d", res.status)
		}
		if res := e.do("GET", "/api/v1/contact-requests?state=maybe", mgr, nil); res.status != 422 || firstField(res) != "state" {
			t.Errorf("state=maybe: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/contact-requests?limit=1", mgr, nil); len(items(res)) != 1 || res.body["next_page_token"] == nil {
			t.Errorf("one to a page: %d %s", res.status, res.raw)
		}

		path := "/api/v1/contact-requests/" + urgentID
		if res := e.do("PATCH", path, mgr, map[string]any{"outcome": "called"}); res.status != 422 || firstField(res) != "outcome" {
			t.Errorf("unknown outcome: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", path, mgr, map[string]any{"outcome": "reached", "patient_id": 1}); res.status != 422 || firstField(res) != "patient_id" {
			t.Errorf("patient_id without registered: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", path, e.token("manager2"), map[string]any{"outcome": "reached"}); res.status != 404 {
			t.Errorf("another community's manager: %d %s", res.status, res.raw)
		}
		res = e.do("PATCH", path, mgr, map[string]any{"outcome": "referred", "note": "to the district hospital"})
		if res.status != 200 || res.body["outcome"] != "referred" || res.body["outcome_by"] != "manager" || res.body["outcome_note"] != "to the district hospital" {
			t.Fatalf("outcome: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", path, mgr, map[string]any{"outcome": "reached"}); res.status != 409 {
			t.Errorf("second outcome: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", "/api/v1/contact-requests/999999", mgr, map[string]any{"outcome": "reached"}); res.status != 404 {
			t.Errorf("unknown request: %d", res.status)
		}
		for state, want := range map[string]int{"open": 1, "closed": 1, "all": 2} {
			if res := e.do("GET", "/api/v1/contact-requests?state="+state, mgr, nil); res.status != 200 || len(items(res)) != want {
				t.Errorf("state=%s: %d items, want %d (%s)", state, len(items(res)), want, res.raw)
			}
		}
		if res := e.do("GET", "/api/v1/contact-requests?state=closed", mgr, nil); len(items(res)) == 1 && items(res)[0]["outcome"] != "referred" {
			t.Errorf("closed request: %s", res.raw)
		}

		// The audit entries of the public's requests keep no address.
		res = e.do("GET", "/api/v1/audit?actor=public", e.token("admin"), nil)
		created := 0
		for _, it := range items(res) {
			if it["action"] == "contact.create" && it["outcome"] == "allowed" {
				created++
			}
			if it["client_addr"] != "" {
				t.Errorf("audit entry of the public with an address: %v", it)
			}
		}
		if res.status != 200 || created != 2 {
			t.Errorf("audit of contact requests: %d created, %d %s", created, res.status, res.raw)
		}
	})
}

// TestScreeningFiguresAPI: screenings are counted by instrument and band
// for the communities of a unit.
func TestScreeningFiguresAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var week string
		for _, b := range []map[string]any{
			{"instrument": "phq9", "answers": phq9(0), "community": "C0101"},
			{"instrument": "phq9", "answers": phq9(1), "community": "C0101"},
			{"instrument": "phq9", "answers": []int{3, 3, 3, 3, 3, 3, 3, 3, 3}, "community": "C0102"},
			{"instrument": "gad7", "answers": make([]int, 7), "community": "C0101"},
			{"instrument": "gad7", "answers": make([]int, 7), "community": "C0201"},
			{"instrument": "gad7", "answers": make([]int, 7)},
		} {
			res := e.do("POST", "/api/v1/screenings", "", b)
			if res.status != 201 {
				t.Fatalf("screening %v: %d %s", b, res.status, res.raw)
			}
			week = res.body["week"].(string)
		}
		period := week[:7] // the month the screenings' week begins in
		type count struct {
			Instrument, Band string
			Count            int
		}
		counts := func(r response) []count {
			var out struct{ Items []count }
			json.Unmarshal([]byte(r.raw), &out)
			return out.Items
		}
		res := e.do("GET", "/api/v1/figures/screenings?org_unit=C0101&period="+period, e.token("manager"), nil)
		if got, want := counts(res), []count{{"gad7", "minimal", 1}, {"phq9", "minimal", 2}}; res.status != 200 || !slices.Equal(got, want) {
			t.Errorf("C0101: %d %v, want %v (%s)", res.status, got, want, res.raw)
		}
		res = e.do("GET", "/api/v1/figures/screenings?period="+period, e.token("psychiatrist"), nil)
		if got, want := counts(res), []count{{"gad7", "minimal", 2}, {"phq9", "minimal", 2}, {"phq9", "severe", 1}}; res.status != 200 || !slices.Equal(got, want) {
			t.Errorf("the district: %d %v, want %v (%s)", res.status, got, want, res.raw)
		}
		if res.body["from"] == nil || res.body["to"] == nil {
			t.Errorf("no period in %s", res.raw)
		}
		res = e.do("GET", "/api/v1/figures/screenings?org_unit=D01&period=2001-01", e.token("psychiatrist"), nil)
		if items, _ := res.body["items"].([]any); res.status != 200 || items == nil || len(items) != 0 {
			t.Errorf("another period: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/figures/screenings?period=someday", e.token("psychiatrist"), nil); res.status != 422 || firstField(res) != "period" {
			t.Errorf("bad period: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/figures/screenings?org_unit=C0201", e.token("manager"), nil); res.status != 422 || firstField(res) != "org_unit" {
			t.Errorf("another community's figures: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/figures/screenings", e.token("caregroup"), nil); res.status != 403 {
			t.Errorf("care group: %d %s", res.status, res.raw)
		}
	})
}
