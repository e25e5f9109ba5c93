package api_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestRememberedToken: a token resolved in the last minute is taken from
// memory and checked with the request's first statements (care.ResolveToken):
// no round trip of its own, and a token ended or an account changed since —
// on another server, straight in the database — is caught before anything
// is written or answered: an ended token gets 401, a changed account's read
// is answered as the account is now, its write 503 with nothing saved.
func TestRememberedToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		mgr := e.token("manager")
		today := time.Now().Format("2006-01-02")
		var ids []string
		for i := range 8 {
			res := e.do("POST", "/api/v1/patients", mgr, map[string]any{"name": "病人" + strconv.Itoa(i), "sex": "female",
				"birth_date": "1970-01-0" + strconv.Itoa(i+1), "org_unit": "C0101", "registered_on": "2026-01-05",
				"diagnoses": []map[string]any{{"code": "schizophrenia", "diagnosed_on": "2019-04-01"}}})
			if res.status != 201 {
				t.Fatalf("register: %d %s", res.status, res.raw)
			}
			ids = append(ids, strconv.Itoa(int(res.body["id"].(float64))))
		}
		fu := map[string]any{"date": today, "mode": "home_visit", "reached": true, "risk_level": 1,
			"psychotic_symptoms": "none", "insight": "complete", "adverse_reaction": "none", "physical_illness": "none",
			"social_function":      map[string]string{"self_care": "good", "housework": "good", "work": "fair", "learning": "good", "social_contact": "fair"},
			"medication_adherence": "regular"}
		next := 0
		post := func(tok string) response {
			t.Helper()
			next++
			return e.do("POST", "/api/v1/patients/"+ids[next]+"/follow-ups", tok, fu)
		}
		if r := post(mgr); r.status != 201 {
			t.Fatalf("follow-up: %d %s", r.status, r.raw)
		}

		if db.Engine() == store.Postgres {
			// With the token remembered, a follow-up is the three round
			// trips of the service (care.TestRoundTrips), a patient's
			// figures read's one and its audit entry's.
			trips := func(what string, want int64, do func() response) {
				t.Helper()
				e.svc.Drain()
				before := db.RoundTrips()
				if r := do(); r.status >= 300 {
					t.Fatalf("%s: %d %s", what, r.status, r.raw)
				}
				e.svc.Drain()
				if n := db.RoundTrips() - before; n != want {
					t.Errorf("%s: %d round trips, want %d", what, n, want)
				}
			}
			trips("a follow-up", 3, func() response { return post(mgr) })
			figures := func() response { return e.do("GET", "/api/v1/figures?org_unit=C0101&period="+today[:7], mgr, nil) }
			figures()
			trips("a community's figures", 2, figures)
			trips("who am I", 1, func() response { return e.do("GET", "/api/v1/me", mgr, nil) })
		}

		// Ended, as on another server: nothing answered, nothing written.
		// (A refusal forgets the token: each case has one of its own.)
		ended := func() string {
			t.Helper()
			tok := e.token("manager")
			if r := e.do("GET", "/api/v1/me", tok, nil); r.status != 200 {
				t.Fatalf("me: %d %s", r.status, r.raw)
			}
			if _, err := db.Exec(ctx, `DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = 'manager')`); err != nil {
				t.Fatal(err)
			}
			return tok
		}
		n := e.count("follow_ups")
		if r := post(ended()); r.status != 401 || e.count("follow_ups") != n {
			t.Errorf("a follow-up with an ended token: %d %s, %d follow-ups where %d were", r.status, r.raw, e.count("follow_ups"), n)
		}
		for _, path := range []string{"/api/v1/me", "/api/v1/patients/" + ids[0]} {
			if r := e.do("GET", path, ended(), nil); r.status != 401 || r.body["name"] != nil || r.body["username"] != nil {
				t.Errorf("GET %s with an ended token: %d %s", path, r.status, r.raw)
			}
		}

		// Moved to another community, as by another server.
		mgr = e.token("manager")
		if r := e.do("GET", "/api/v1/me", mgr, nil); r.status != 200 || r.body["org_unit"] != "C0101" {
			t.Fatalf("me: %d %s", r.status, r.raw)
		}
		if _, err := db.Exec(ctx, `UPDATE users SET org_unit_id = (SELECT id FROM org_units WHERE code = 'C0201') WHERE username = 'manager'`); err != nil {
			t.Fatal(err)
		}
		if r := post(mgr); r.status != 503 || e.count("follow_ups") != n {
			t.Errorf("a follow-up after the account moved: %d %s, %d follow-ups where %d were", r.status, r.raw, e.count("follow_ups"), n)
		}
		if r := e.do("GET", "/api/v1/me", mgr, nil); r.status != 200 || r.body["org_unit"] != "C0201" {
			t.Errorf("me after the account moved: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/patients/"+ids[0], mgr, nil); r.status != 404 {
			t.Errorf("a patient of the old community after the account moved: %d %s", r.status, r.raw)
		}
		if r := post(mgr); r.status != 404 || e.count("follow_ups") != n {
			t.Errorf("a follow-up in the old community, resolved afresh: %d %s", r.status, r.raw)
		}
	})
}
