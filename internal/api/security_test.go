package api_test

import (
	"net/http"
	"strings"
	"testing"

	"kith/internal/clinical"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// nationalID builds a valid national ID for a birth date.
func nationalID(birth string, seq string) string {
	first := "110105" + strings.ReplaceAll(birth, "-", "") + seq
	c, _ := clinical.NationalIDCheck(first)
	return first + string(c)
}

func isProblem(r response) bool {
	return r.header.Get("Content-Type") == "application/problem+json" && r.body["status"] != nil && r.body["title"] != nil
}

// Probe finding 4: every API error is problem details, with no Go error text.
func TestOneErrorFormat(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok := e.token("manager")
		id := e.registerPatient(tok, "C0101", "错误格式")

		big := `{"name":"` + strings.Repeat("x", 70<<10) + `"}`
		if r := e.do("POST", "/api/v1/patients", tok, big); r.status != 413 || !isProblem(r) {
			t.Errorf("413: %d %s %s", r.status, r.header.Get("Content-Type"), r.raw)
		}
		if r := e.do("DELETE", "/api/v1/patients", tok, nil); r.status != 405 || !isProblem(r) || r.header.Get("Allow") == "" {
			t.Errorf("405: %d %v %s", r.status, r.header, r.raw)
		}
		h := http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}
		if r := e.doWith(h, "POST", "/api/v1/patients", tok, map[string]any{}); r.status != 403 || !isProblem(r) {
			t.Errorf("cross-origin: %d %s %s", r.status, r.header.Get("Content-Type"), r.raw)
		}
		for _, tt := range []struct {
			name, body, field string
			status            int
		}{
			{"bad occurred_at", `{"occurred_at":"yesterday","place":"home","triggers":["self_harm"]}`, "occurred_at", 422},
			{"wrong type", `{"occurred_at":5}`, "occurred_at", 422},
			{"syntax", `{"place":`, "", 400},
			{"not an object", `[1,2]`, "", 400},
		} {
			r := e.do("POST", "/api/v1/patients/"+id+"/emergencies", tok, tt.body)
			if r.status != tt.status || !isProblem(r) || firstField(r) != tt.field {
				t.Errorf("%s: %d field %q %s", tt.name, r.status, firstField(r), r.raw)
			}
			for _, goText := range []string{"parsing time", "json:", "invalid character", "Go struct", "cannot parse"} {
				if strings.Contains(r.raw, goText) {
					t.Errorf("%s: Go error text %q in %s", tt.name, goText, r.raw)
				}
			}
		}
	})
}

// Probe finding 5: far dates and ids in other forms.
func TestBoundsAndCanonicalIDs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok := e.token("manager")
		id := e.registerPatient(tok, "C0101", "规范编号")
		if r := e.do("GET", "/api/v1/patients/"+id, tok, nil); r.status != 200 {
			t.Fatalf("canonical id: %d", r.status)
		}
		for _, bad := range []string{"+" + id, "0" + id, id + ".0", "%20" + id} {
			if r := e.do("GET", "/api/v1/patients/"+bad, tok, nil); r.status != 404 || !isProblem(r) {
				t.Errorf("/patients/%s: %d", bad, r.status)
			}
		}
		for _, q := range []string{"as_of=9999-12-31", "as_of=0001-01-01", "as_of=1850-06-01"} {
			if r := e.do("GET", "/api/v1/worklist?"+q, tok, nil); r.status != 422 || firstField(r) != "as_of" {
				t.Errorf("worklist?%s: %d %s", q, r.status, r.raw)
			}
		}
		psy := e.token("psychiatrist")
		for _, q := range []string{"period=9999", "period=0001-Q1", "from=0001-01-01&to=0001-12-31"} {
			if r := e.do("GET", "/api/v1/figures?"+q, psy, nil); r.status != 422 || !isProblem(r) {
				t.Errorf("figures?%s: %d %s", q, r.status, r.raw)
			}
		}
	})
}

// Probe findings 1–3 through the API.
func TestProbeFindings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok, tok2, care := e.token("manager"), e.token("manager2"), e.token("caregroup")
		nid := nationalID("1970-03-04", "101")
		r := e.do("POST", "/api/v1/patients", tok, map[string]any{"name": "甲", "sex": "male", "birth_date": "1970-03-04",
			"national_id": nid, "org_unit": "C0101"})
		if r.status != 201 {
			t.Fatalf("register: %d %s", r.status, r.raw)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(r.header.Get("Location"), "/api/v1/patients/"), "/")

		// 1. A national ID on the register outside the caller's jurisdiction.
		r = e.do("POST", "/api/v1/patients", tok2, map[string]any{"name": "甲", "sex": "male", "birth_date": "1970-03-04",
			"national_id": nid, "org_unit": "C0201"})
		if r.status != 409 || r.body["existing_id"] != nil || strings.Contains(r.raw, `"`+id+`"`) || strings.Contains(r.raw, "/patients/") {
			t.Errorf("registration oracle: %d %s", r.status, r.raw)
		}
		// A username taken elsewhere: no existing_id.
		r = e.do("POST", "/api/v1/users", e.token("district"), map[string]any{"username": "manager", "full_name": "X",
			"role": "nurse", "org_unit": "S01"})
		if r.status != 409 || r.body["existing_id"] != nil {
			t.Errorf("taken username: %d %s", r.status, r.raw)
		}

		// 2. Invisible and control characters → 422 naming the field.
		for _, name := range []string{"\u200b\u200c\u200d", "甲\u202e乙", "甲\u0000乙", "甲\u001b乙"} {
			r := e.do("POST", "/api/v1/patients", tok, map[string]any{"name": name, "sex": "male", "birth_date": "1970-03-04",
				"org_unit": "C0101"})
			if r.status != 422 || firstField(r) != "name" {
				t.Errorf("name %q: %d %s", name, r.status, r.raw)
			}
		}

		// 3. Refused before validated: 403/404 whatever the body holds.
		for _, body := range []string{`{}`, `{"name":"\u202e","sex":"x","birth_date":"9999-99-99"}`, `{"name":`, `[1]`} {
			for _, tt := range []struct {
				method, path, token string
				want                int
			}{
				{"POST", "/api/v1/patients", care, 403},
				{"POST", "/api/v1/org-units", tok, 403},
				{"POST", "/api/v1/users", tok, 403},
				{"PATCH", "/api/v1/patients/" + id, tok2, 404},
				{"POST", "/api/v1/patients/" + id + "/transfer", tok2, 404},
				{"POST", "/api/v1/patients/" + id + "/follow-ups", tok2, 404},
				{"PUT", "/api/v1/patients/" + id + "/follow-ups/1", tok2, 404},
				{"POST", "/api/v1/patients/" + id + "/emergencies", tok2, 404},
				{"POST", "/api/v1/patients/" + id + "/assessments", tok2, 404},
				{"POST", "/api/v1/patients/" + id + "/break-glass", care, 403},
				{"GET", "/api/v1/patients/" + id + "/access-report", tok2, 404},
				{"POST", "/api/v1/patients/" + id + "/team", tok2, 404},
				{"POST", "/api/v1/patients/" + id + "/team-contacts", tok2, 404},
				{"POST", "/api/v1/patients/" + id + "/family", tok2, 404},
				{"PUT", "/api/v1/patients/" + id + "/family/1", tok2, 404},
				{"POST", "/api/v1/patients/" + id + "/emergencies/1/complete", tok2, 404},
				{"POST", "/api/v1/services", tok, 403},
				{"PUT", "/api/v1/services/1", tok, 403},
				{"POST", "/api/v1/articles", care, 403},
				{"POST", "/api/v1/events", care, 403},
				{"POST", "/api/v1/courses", tok, 403},
				{"POST", "/api/v1/referrals", care, 403},
				{"POST", "/api/v1/subsidies", care, 403},
			} {
				if r := e.do(tt.method, tt.path, tt.token, body); r.status != tt.want {
					t.Errorf("%s %s with %s: %d %s, want %d", tt.method, tt.path, body, r.status, r.raw, tt.want)
				}
			}
		}
	})
}

// Capabilities 7 and 12: break the glass, and the access report shows it.
func TestBreakGlassAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok, tok2 := e.token("manager"), e.token("manager2")
		id := e.registerPatient(tok, "C0101", "破窗")
		other := e.registerPatient(tok, "C0101", "其他")
		path := "/api/v1/patients/" + id

		if r := e.do("GET", path, tok2, nil); r.status != 404 {
			t.Fatalf("before: %d", r.status)
		}
		if r := e.do("POST", path+"/break-glass", tok2, map[string]any{"note": "x"}); r.status != 422 || firstField(r) != "reason" {
			t.Errorf("without a reason: %d %s", r.status, r.raw)
		}
		if r := e.do("POST", path+"/break-glass", e.token("caregroup"), map[string]any{"reason": "emergency"}); r.status != 403 {
			t.Errorf("care group: %d %s", r.status, r.raw)
		}
		if r := e.do("POST", path+"/break-glass", e.token("district"), map[string]any{"reason": "emergency"}); r.status != 403 {
			t.Errorf("district administrator: %d %s", r.status, r.raw)
		}
		r := e.do("POST", path+"/break-glass", tok2, map[string]any{"reason": "emergency", "note": "seen at our clinic"})
		if r.status != 201 || r.body["expires_at"] == nil {
			t.Fatalf("break the glass: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", path, tok2, nil); r.status != 200 || r.body["name"] != "破窗" {
			t.Errorf("read under the grant: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/patients/"+other, tok2, nil); r.status != 404 {
			t.Errorf("another record: %d", r.status)
		}
		if r := e.do("GET", "/api/v1/break-glass", e.token("psychiatrist"), nil); r.status != 200 || len(items(r)) != 1 {
			t.Errorf("the district's list: %d %s", r.status, r.raw)
		}
		r = e.do("GET", path+"/access-report", tok, nil)
		if r.status != 200 {
			t.Fatalf("access report: %d %s", r.status, r.raw)
		}
		glass := 0
		for _, it := range items(r) {
			if it["break_glass"] == true {
				glass++
				if it["full_name"] != "Liu Yang 刘洋" || it["reason"] != "emergency" {
					t.Errorf("break-glass line: %v", it)
				}
			}
		}
		if glass != 2 {
			t.Errorf("%d break-glass lines in %s", glass, r.raw)
		}
	})
}
