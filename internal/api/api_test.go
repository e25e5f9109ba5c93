package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"kith/internal/api"
	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/secrets"
	"kith/internal/server"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// env is a running server on a fresh database holding the demo district.
type env struct {
	t   *testing.T
	db  *store.DB
	svc *care.Service
	srv *httptest.Server
	// recovery holds the unused recovery codes of the accounts token
	// enrolled in two-factor sign-in.
	recovery map[string][]string
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	keys, err := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
	if err != nil {
		t.Fatal(err)
	}
	svc := care.New(db, keys)
	t.Cleanup(svc.Drain) // before the database closes
	if _, err := demo.Seed(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(svc, server.Options{MaxBodyBytes: 64 << 10}))
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, svc: svc, srv: srv, recovery: map[string][]string{}}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	return e.doWith(nil, method, path, token, body)
}

// doWith is do with extra request headers.
func (e *env) doWith(header http.Header, method, path, token string, body any) response {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, r)
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	json.Unmarshal(raw, &out.body)
	return out
}

// token signs username in with the demo password. An account whose role
// requires a second factor (admin, district) enrols one on its first
// sign-in, as its owner would, and signs in later with a recovery code.
func (e *env) token(username string) string {
	e.t.Helper()
	creds := map[string]string{"username": username, "password": demo.Password}
	if codes := e.recovery[username]; len(codes) > 0 {
		creds["totp"], e.recovery[username] = codes[0], codes[1:]
	}
	res := e.do("POST", "/api/v1/auth/token", "", creds)
	if res.status != 200 {
		e.t.Fatalf("token for %s: %d %s", username, res.status, res.raw)
	}
	tok := res.body["token"].(string)
	if _, ok := creds["totp"]; !ok {
		if me := e.do("GET", "/api/v1/users", tok, nil); me.status == 403 && me.body["type"] == "urn:kith:problem:enrol-totp" {
			e.recovery[username] = e.enrol(tok)
		}
	}
	return tok
}

// enrol enrols the token's account in two-factor sign-in with a code
// computed from the secret shown, and returns its recovery codes.
func (e *env) enrol(tok string) []string {
	e.t.Helper()
	res := e.do("POST", "/api/v1/account/totp", tok, nil)
	secret, _ := res.body["secret"].(string)
	if res.status != 200 || secret == "" || !strings.HasPrefix(res.body["otpauth_url"].(string), "otpauth://totp/") {
		e.t.Fatalf("start enrolment: %d %s", res.status, res.raw)
	}
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	res = e.do("POST", "/api/v1/account/totp/confirm", tok, map[string]string{"code": code})
	list, _ := res.body["recovery_codes"].([]any)
	if res.status != 200 || len(list) != 10 {
		e.t.Fatalf("confirm enrolment: %d %s", res.status, res.raw)
	}
	codes := make([]string, len(list))
	for i, c := range list {
		codes[i] = c.(string)
	}
	return codes
}

func (e *env) count(table string) int {
	var n int
	if err := e.db.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// firstField returns the field named by a problem's first field error.
func firstField(r response) string {
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].(map[string]any)["field"].(string)
}

func TestAuthentication(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		res := e.do("GET", "/api/v1/org-units", "", nil)
		if res.status != 401 || res.header.Get("WWW-Authenticate") == "" || res.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("no token: %d %v %s", res.status, res.header, res.raw)
		}
		if res := e.do("GET", "/api/v1/org-units", "made-up", nil); res.status != 401 {
			t.Errorf("bad token: %d", res.status)
		}
		wrong := e.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "admin", "password": "not the password"})
		unknown := e.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "ghost", "password": "not the password"})
		if wrong.status != 401 || unknown.status != 401 || wrong.body["detail"] != unknown.body["detail"] {
			t.Errorf("wrong password %d %s vs unknown user %d %s: want the same 401", wrong.status, wrong.raw, unknown.status, unknown.raw)
		}
		for i := 0; i < 4; i++ {
			e.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "admin", "password": "not the password"})
		}
		locked := e.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "admin", "password": demo.Password})
		if locked.status != 429 || locked.header.Get("Retry-After") == "" {
			t.Errorf("after 5 failures: %d Retry-After=%q", locked.status, locked.header.Get("Retry-After"))
		}
		tok := e.token("manager")
		if res := e.do("GET", "/api/v1/me", tok, nil); res.status != 200 || res.body["org_unit"] != "C0101" {
			t.Errorf("me: %d %s", res.status, res.raw)
		}
		if res := e.do("DELETE", "/api/v1/auth/token", tok, nil); res.status != 204 {
			t.Errorf("revoke: %d", res.status)
		}
		if res := e.do("GET", "/api/v1/me", tok, nil); res.status != 401 {
			t.Errorf("revoked token: %d", res.status)
		}
	})
}

func TestOrgUnits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.token("admin")
		res := e.do("POST", "/api/v1/org-units", admin, map[string]any{"code": "C0104", "name": "阳光社区", "parent_code": "S01", "level": "community", "population": 21000})
		if res.status != 201 || res.body["path"] != "/D01/S01/C0104/" || res.body["name"] != "阳光社区" {
			t.Fatalf("create: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/org-units/C0104", admin, nil); res.status != 200 || res.body["population"] != 21000.0 {
			t.Errorf("get: %d %s", res.status, res.raw)
		}
		units := e.count("org_units")
		bad := []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"duplicate code", map[string]any{"code": "C0104", "name": "x", "parent_code": "S01", "level": "community"}, 409, ""},
			{"unknown parent", map[string]any{"code": "C0105", "name": "x", "parent_code": "S99", "level": "community"}, 422, "parent_code"},
			{"community under community", map[string]any{"code": "C0105", "name": "x", "parent_code": "C0101", "level": "community"}, 422, "parent_code"},
			{"bad level", map[string]any{"code": "C0105", "name": "x", "parent_code": "S01", "level": "village"}, 422, "level"},
			{"population as text", map[string]any{"code": "C0105", "name": "x", "parent_code": "S01", "level": "community", "population": "many"}, 422, "population"},
			{"unknown field", map[string]any{"code": "C0105", "name": "x", "parent_code": "S01", "level": "community", "colour": "red"}, 422, "colour"},
			{"malformed JSON", `{"code": "C0105",`, 400, ""},
			{"two objects", `{} {}`, 400, ""},
			{"empty body", ``, 400, ""},
			{"body over the limit", `{"code":"C0105","name":"` + strings.Repeat("x", 70<<10) + `"}`, 413, ""},
		}
		for _, tt := range bad {
			res := e.do("POST", "/api/v1/org-units", admin, tt.body)
			if res.status != tt.status || firstField(res) != tt.field {
				t.Errorf("%s: %d field %q (%s), want %d field %q", tt.name, res.status, firstField(res), res.raw, tt.status, tt.field)
			}
			if n := e.count("org_units"); n != units {
				t.Errorf("%s: %d units, want %d: a refused request wrote something", tt.name, n, units)
			}
		}
		for _, tt := range []struct {
			code, parent string
		}{{"S01", "C0101"}, {"C0101", "C0102"}, {"C0101", "S99"}, {"S01", "S02"}} {
			if res := e.do("PATCH", "/api/v1/org-units/"+tt.code, admin, map[string]any{"parent_code": tt.parent}); res.status != 422 || firstField(res) != "parent_code" {
				t.Errorf("move %s under %s: %d %s", tt.code, tt.parent, res.status, res.raw)
			}
		}
		if res := e.do("PATCH", "/api/v1/org-units/C0104", admin, map[string]any{"parent_code": "S02", "name": "Sunshine"}); res.status != 200 || res.body["path"] != "/D01/S02/C0104/" {
			t.Errorf("move C0104 to S02: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", "/api/v1/org-units/NOPE", admin, map[string]any{"name": "x"}); res.status != 404 {
			t.Errorf("patch unknown: %d", res.status)
		}
		manager := e.token("manager")
		if res := e.do("POST", "/api/v1/org-units", manager, map[string]any{"code": "C0109", "name": "x", "parent_code": "S01", "level": "community"}); res.status != 403 {
			t.Errorf("manager creates a unit: %d", res.status)
		}
		if res := e.do("GET", "/api/v1/org-units/C0201", manager, nil); res.status != 404 {
			t.Errorf("manager reads another community: %d", res.status)
		}

		// Keyset pagination walks every unit once.
		seen := map[string]bool{}
		path := "/api/v1/org-units?limit=3"
		for pages := 0; path != ""; pages++ {
			res := e.do("GET", path, admin, nil)
			if res.status != 200 || pages > 10 {
				t.Fatalf("page %d: %d %s", pages, res.status, res.raw)
			}
			for _, it := range res.body["items"].([]any) {
				code := it.(map[string]any)["code"].(string)
				if seen[code] {
					t.Errorf("%s seen twice", code)
				}
				seen[code] = true
			}
			path = ""
			if next, _ := res.body["next_page_token"].(string); next != "" {
				path = "/api/v1/org-units?limit=3&page_token=" + next
			}
		}
		if len(seen) != e.count("org_units") {
			t.Errorf("pagination saw %d units, want %d", len(seen), e.count("org_units"))
		}
		if res := e.do("GET", "/api/v1/org-units?limit=201", admin, nil); res.status != 422 || firstField(res) != "limit" {
			t.Errorf("limit 201: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/org-units?page_token=!!", admin, nil); res.status != 422 || firstField(res) != "page_token" {
			t.Errorf("bad page token: %d %s", res.status, res.raw)
		}
	})
}

func TestUsers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, district, manager := e.token("admin"), e.token("district"), e.token("manager")
		res := e.do("POST", "/api/v1/users", district, map[string]any{"username": "nurse7", "full_name": "孙丽", "role": "nurse", "org_unit": "C0102"})
		if res.status != 201 || res.body["org_unit"] != "C0102" || res.body["password"] != nil || res.body["activation_url"] == nil {
			t.Fatalf("district admin creates a nurse: %d %s", res.status, res.raw)
		}
		users := e.count("users")
		for _, tt := range []struct {
			name   string
			token  string
			body   map[string]any
			status int
			field  string
		}{
			{"a password", admin, map[string]any{"username": "nurse8", "password": "0123456789", "full_name": "x", "role": "nurse", "org_unit": "C0102"}, 422, "password"},
			{"unknown role", admin, map[string]any{"username": "nurse8", "full_name": "x", "role": "doctor", "org_unit": "C0102"}, 422, "role"},
			{"unknown unit", admin, map[string]any{"username": "nurse8", "full_name": "x", "role": "nurse", "org_unit": "C9999"}, 422, "org_unit"},
			{"taken", admin, map[string]any{"username": "nurse7", "full_name": "x", "role": "nurse", "org_unit": "C0102"}, 409, "username"},
			{"district admin makes an admin", district, map[string]any{"username": "boss", "full_name": "x", "role": "admin", "org_unit": "D01"}, 403, ""},
			{"manager makes a user", manager, map[string]any{"username": "nurse8", "full_name": "x", "role": "nurse", "org_unit": "C0101"}, 403, ""},
		} {
			res := e.do("POST", "/api/v1/users", tt.token, tt.body)
			if res.status != tt.status || firstField(res) != tt.field {
				t.Errorf("%s: %d field %q, want %d %q (%s)", tt.name, res.status, firstField(res), tt.status, tt.field, res.raw)
			}
		}
		if n := e.count("users"); n != users {
			t.Errorf("%d users after refused creates, want %d", n, users)
		}
		if res := e.do("GET", "/api/v1/users", manager, nil); res.status != 403 {
			t.Errorf("manager lists users: %d", res.status)
		}
		if res := e.do("GET", "/api/v1/users?org_unit=C0102", district, nil); res.status != 200 || len(res.body["items"].([]any)) != 1 {
			t.Errorf("users of C0102: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", "/api/v1/users/admin", district, map[string]any{"disabled": true}); res.status != 404 {
			t.Errorf("district admin disables the admin: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", "/api/v1/users/nurse7", district, map[string]any{"disabled": true, "role": "social_worker"}); res.status != 200 || res.body["disabled"] != true || res.body["role"] != "social_worker" {
			t.Errorf("district admin disables nurse7: %d %s", res.status, res.raw)
		}
		if res := e.do("PATCH", "/api/v1/users/admin", admin, map[string]any{"disabled": true}); res.status != 409 {
			t.Errorf("admin disables self: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/me/password", manager, map[string]any{"current_password": demo.Password, "new_password": "short"}); res.status != 422 || firstField(res) != "new_password" {
			t.Errorf("short new password: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/me/password", manager, map[string]any{"current_password": demo.Password, "new_password": "a brand new password"}); res.status != 204 {
			t.Errorf("password change: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/me", manager, nil); res.status != 200 {
			t.Errorf("the token that changed the password stopped working: %d", res.status)
		}
	})
}

func TestAuditEndpoint(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin := e.token("admin")
		e.do("PATCH", "/api/v1/org-units/C0101", e.token("manager"), map[string]any{"name": "x"})
		res := e.do("GET", "/api/v1/audit?actor=manager&limit=1", admin, nil)
		items, _ := res.body["items"].([]any)
		if res.status != 200 || len(items) != 1 {
			t.Fatalf("audit: %d %s", res.status, res.raw)
		}
		got := items[0].(map[string]any)
		if got["action"] != "unit.update" || got["outcome"] != "denied" || got["subject_id"] != "C0101" || got["client_addr"] != "127.0.0.1" || got["request_id"] == "" {
			t.Errorf("latest entry of manager = %v, want a denied unit.update of C0101 with address and request id", got)
		}
		if next, _ := res.body["next_page_token"].(string); next == "" {
			t.Error("no next_page_token with more entries left")
		}
		if res := e.do("GET", "/api/v1/audit?from=yesterday", admin, nil); res.status != 422 || firstField(res) != "from" {
			t.Errorf("bad from: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/audit", e.token("nurse"), nil); res.status != 403 {
			t.Errorf("nurse reads audit: %d", res.status)
		}
	})
}

func TestUnknownRoute(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if res := e.do("GET", "/api/v1/nothing", "", nil); res.status != 404 || res.body["status"] != 404.0 {
			t.Errorf("unknown route: %d %s", res.status, res.raw)
		}
	})
}

// TestOpenAPICoversRoutes fails when a route is missing from the OpenAPI
// document, or the document describes a route that does not exist.
func TestOpenAPICoversRoutes(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	routes := map[string]bool{}
	for _, r := range api.Routes() {
		key := strings.ToLower(r.Method) + " " + r.Pattern
		routes[key] = true
		if _, ok := doc.Paths[r.Pattern][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is missing from openapi.json", r.Method, r.Pattern)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			if !routes[method+" "+path] {
				t.Errorf("openapi.json describes %s %s, which is no route", method, path)
			}
		}
	}
}

// TestOpenAPIExamples: every field of every schema carries an example (or
// is a reference, object or list whose parts do), so the document shows a
// client what to send.
func TestOpenAPIExamples(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var check func(path string, s map[string]any)
	check = func(path string, s map[string]any) {
		if _, ok := s["$ref"]; ok {
			return
		}
		if props, ok := s["properties"].(map[string]any); ok {
			if _, ok := s["example"]; !ok {
				for name, p := range props {
					check(path+"."+name, p.(map[string]any))
				}
			}
			return
		}
		if items, ok := s["items"].(map[string]any); ok {
			check(path+"[]", items)
			return
		}
		if _, ok := s["additionalProperties"]; ok {
			if _, ok := s["example"]; ok {
				return
			}
		}
		if _, ok := s["example"]; !ok {
			t.Errorf("%s has no example", path)
		}
	}
	for name, s := range doc.Components.Schemas {
		if name == "Problem" || strings.HasSuffix(name, "List") {
			continue
		}
		check(name, s)
	}
}
