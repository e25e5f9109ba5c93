package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"kith/internal/demo"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// activationToken returns the token query parameter of an activation URL.
func activationToken(t *testing.T, raw any) string {
	t.Helper()
	s, _ := raw.(string)
	u, err := url.Parse(s)
	if err != nil || u.Path != "/activate" || u.Query().Get("token") == "" {
		t.Fatalf("activation_url = %q", s)
	}
	return u.Query().Get("token")
}

func TestActivationAndAnnouncementsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		district, psy, manager := e.token("district"), e.token("psychiatrist"), e.token("manager")

		// An administrator never sends a password.
		if res := e.do("POST", "/api/v1/users", district, map[string]any{"username": "nurse7", "password": "0123456789",
			"full_name": "孙丽", "role": "nurse", "org_unit": "C0102"}); res.status != 422 || firstField(res) != "password" {
			t.Errorf("a password in the body: %d %s", res.status, res.raw)
		}
		res := e.do("POST", "/api/v1/users", district, map[string]any{"username": "nurse7", "full_name": "孙丽", "role": "nurse", "org_unit": "C0102"})
		if res.status != 201 || res.body["activated"] != false || res.body["activation_expires_at"] == nil {
			t.Fatalf("create: %d %s", res.status, res.raw)
		}
		if !strings.HasPrefix(res.body["activation_url"].(string), e.srv.URL+"/activate?token=") {
			t.Errorf("activation_url %q is not on the request's host %s", res.body["activation_url"], e.srv.URL)
		}
		tok := activationToken(t, res.body["activation_url"])
		if res := e.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "nurse7", "password": "anything long"}); res.status != 401 {
			t.Errorf("sign-in before activation: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/auth/activate", "", map[string]string{"token": tok, "password": "short"}); res.status != 422 || firstField(res) != "password" {
			t.Errorf("short password: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/auth/activate", "", map[string]string{"token": tok, "password": "my own passphrase"}); res.status != 200 || res.body["username"] != "nurse7" {
			t.Fatalf("activate: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/auth/activate", "", map[string]string{"token": tok, "password": "another passphrase"}); res.status != 422 || firstField(res) != "token" {
			t.Errorf("second use: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "nurse7", "password": "my own passphrase"}); res.status != 200 {
			t.Errorf("sign-in after activation: %d %s", res.status, res.raw)
		}

		// A new link (the reset), on the configured base URL; it expires.
		e.svc.SetBaseURL("https://kith.example.org/")
		if res := e.do("POST", "/api/v1/users/nurse7/activation", manager, nil); res.status != 404 {
			t.Errorf("manager issues a link: %d %s", res.status, res.raw)
		}
		res = e.do("POST", "/api/v1/users/nurse7/activation", district, nil)
		if res.status != 201 || !strings.HasPrefix(res.body["activation_url"].(string), "https://kith.example.org/activate?token=") {
			t.Fatalf("new link: %d %s", res.status, res.raw)
		}
		tok2 := activationToken(t, res.body["activation_url"])
		if res := e.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "nurse7", "password": "my own passphrase"}); res.status != 401 {
			t.Errorf("old password after a reset: %d", res.status)
		}
		if _, err := db.Exec(context.Background(), `UPDATE activations SET expires_at = ?`, store.FormatTime(time.Now().Add(-time.Second))); err != nil {
			t.Fatal(err)
		}
		if res := e.do("POST", "/api/v1/auth/activate", "", map[string]string{"token": tok2, "password": "my own passphrase"}); res.status != 422 {
			t.Errorf("expired link: %d %s", res.status, res.raw)
		}

		// The district's psychiatrist is told; the district admin cannot look.
		res = e.do("GET", "/api/v1/access-announcements", psy, nil)
		items, _ := res.body["items"].([]any)
		if res.status != 200 || len(items) < 2 {
			t.Fatalf("announcements: %d %s", res.status, res.raw)
		}
		first := items[0].(map[string]any)
		second := items[1].(map[string]any)
		if first["username"] != "nurse7" || first["change"] != "activation" || second["change"] != "created" ||
			second["actor"] != "district" || second["actor_name"] != "Zhou Min 周敏" {
			t.Errorf("announcements: %s", res.raw)
		}
		if res := e.do("GET", "/api/v1/access-announcements", district, nil); res.status != 403 {
			t.Errorf("district admin reads announcements: %d", res.status)
		}
		path := "/api/v1/access-announcements/" + jsonNumber(first["id"]) + "/dismiss"
		if res := e.do("POST", "/api/v1/access-announcements/01/dismiss", psy, nil); res.status != 404 {
			t.Errorf("non-canonical id: %d", res.status)
		}
		if res := e.do("POST", path, psy, nil); res.status != 204 {
			t.Errorf("dismiss: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/api/v1/access-announcements", psy, nil)
		if after, _ := res.body["items"].([]any); len(after) != len(items)-1 {
			t.Errorf("after dismissing: %d items, want %d", len(after), len(items)-1)
		}
	})
}

func jsonNumber(v any) string {
	f, _ := v.(float64)
	return strconv.FormatInt(int64(f), 10)
}

func TestTwoFactorAndSessionsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		creds := map[string]string{"username": "admin", "password": demo.Password}
		res := e.do("POST", "/api/v1/auth/token", "", creds)
		if res.status != 200 {
			t.Fatalf("admin signs in: %d %s", res.status, res.raw)
		}
		admin := res.body["token"].(string)
		// Before enrolment: only enrolment.
		for _, p := range []string{"/api/v1/org-units", "/api/v1/users", "/api/v1/audit", "/api/v1/account/sessions"} {
			res := e.do("GET", p, admin, nil)
			if res.status != 403 || res.body["type"] != "urn:kith:problem:enrol-totp" || res.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("GET %s before enrolment: %d %s", p, res.status, res.raw)
			}
		}
		if res := e.do("GET", "/api/v1/me", admin, nil); res.status != 200 {
			t.Errorf("me before enrolment: %d", res.status)
		}
		res = e.do("POST", "/api/v1/account/totp", admin, nil)
		secret, _ := res.body["secret"].(string)
		if res.status != 200 || secret == "" || !strings.Contains(res.body["otpauth_url"].(string), "secret="+secret) {
			t.Fatalf("start: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/account/totp/confirm", admin, map[string]string{"code": "000000"}); res.status != 422 || firstField(res) != "code" {
			t.Errorf("wrong code: %d %s", res.status, res.raw)
		}
		now := time.Now()
		code, _ := totp.GenerateCode(secret, now)
		res = e.do("POST", "/api/v1/account/totp/confirm", admin, map[string]string{"code": code})
		codes, _ := res.body["recovery_codes"].([]any)
		if res.status != 200 || len(codes) != 10 {
			t.Fatalf("confirm: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/org-units", admin, nil); res.status != 200 {
			t.Errorf("after enrolment: %d %s", res.status, res.raw)
		}
		// Sign-in needs the code now.
		res = e.do("POST", "/api/v1/auth/token", "", creds)
		if res.status != 401 || res.body["totp_required"] != true {
			t.Errorf("without a code: %d %s", res.status, res.raw)
		}
		creds["totp"], _ = totp.GenerateCode(secret, now.Add(30*time.Second))
		if res := e.do("POST", "/api/v1/auth/token", "", creds); res.status != 200 {
			t.Errorf("with a code: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/auth/token", "", creds); res.status != 401 || res.body["totp_required"] != true {
			t.Errorf("the code replayed: %d %s", res.status, res.raw)
		}
		creds["totp"] = codes[0].(string)
		if res := e.do("POST", "/api/v1/auth/token", "", creds); res.status != 200 {
			t.Errorf("with a recovery code: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/auth/token", "", creds); res.status != 401 {
			t.Errorf("a recovery code twice: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/account/totp/disable", admin, map[string]string{"code": codes[1].(string)}); res.status != 409 {
			t.Errorf("admin turns it off: %d %s", res.status, res.raw)
		}

		// Sessions: the manager's own, by device; ended one by one or all.
		ua := http.Header{"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}}
		res = e.doWith(ua, "POST", "/api/v1/auth/token", "", map[string]string{"username": "manager", "password": demo.Password})
		other := res.body["token"].(string)
		manager := e.token("manager")
		res = e.do("GET", "/api/v1/account/sessions", manager, nil)
		items, _ := res.body["items"].([]any)
		if res.status != 200 || len(items) != 2 || strings.Contains(res.raw, manager) || strings.Contains(res.raw, other) || strings.Contains(res.raw, "token") {
			t.Fatalf("sessions: %d %s", res.status, res.raw)
		}
		var otherID string
		for _, it := range items {
			s := it.(map[string]any)
			if s["current"] == true {
				continue
			}
			otherID = s["id"].(string)
			if s["device"] != "Firefox on Linux" || s["kind"] != "api" || s["client_addr"] != "127.0.0.1" || s["last_seen_at"] == nil {
				t.Errorf("the other session: %v", s)
			}
		}
		if res := e.do("DELETE", "/api/v1/account/sessions/"+otherID, admin, nil); res.status != 404 {
			t.Errorf("admin ends the manager's session by id: %d", res.status)
		}
		if res := e.do("DELETE", "/api/v1/account/sessions/"+otherID, manager, nil); res.status != 204 {
			t.Errorf("end a session: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/me", other, nil); res.status != 401 {
			t.Errorf("the ended token: %d", res.status)
		}
		if res := e.do("POST", "/api/v1/users/manager/sessions/end", e.token("psychiatrist"), nil); res.status != 404 {
			t.Errorf("a psychiatrist ends the manager's sessions: %d %s", res.status, res.raw)
		}
		res = e.do("POST", "/api/v1/users/manager/sessions/end", admin, nil)
		if res.status != 200 || res.body["ended"] != float64(1) {
			t.Errorf("admin ends the manager's sessions: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/me", manager, nil); res.status != 401 {
			t.Errorf("the manager's token after all ended: %d", res.status)
		}
	})
}
