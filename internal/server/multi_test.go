package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kith/internal/care"
	"kith/internal/jobs"
	"kith/internal/secrets"
	"kith/internal/server"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestSeveralServers runs two servers on one PostgreSQL database, as behind
// a round-robin proxy, and checks that what one server grants the other
// honours: a session, an API token, the public site's rate limit and the
// sweeps' lease. deploy/multi/run-test.sh does the same through HAProxy.
func TestSeveralServers(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, store.Postgres)
	keys, _ := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
	var dbs [2]*store.DB
	var svcs [2]*care.Service
	var urls [2]string
	for i := range dbs {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		dbs[i], svcs[i] = db, care.New(db, keys)
		t.Cleanup(svcs[i].Drain) // before the database closes
		// The sessions are under test here, not the administrator's second
		// factor, which would send every page to its enrolment.
		svcs[i].SetTOTPRoles(nil)
		srv := httptest.NewServer(server.New(svcs[i], server.Options{TrustProxy: true}))
		t.Cleanup(srv.Close)
		urls[i] = srv.URL
	}
	if _, err := svcs[0].CreateAdmin(ctx, "root", "Wang Fang", "a long enough password"); err != nil {
		t.Fatal(err)
	}
	do := func(c *http.Client, method, u string, body string, header map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}

	t.Run("APIToken", func(t *testing.T) {
		req, _ := http.NewRequest("POST", urls[0]+"/api/v1/auth/token",
			strings.NewReader(`{"username":"root","password":"a long enough password"}`))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tok struct{ Token string }
		json.NewDecoder(res.Body).Decode(&tok)
		res.Body.Close()
		bearer := map[string]string{"Authorization": "Bearer " + tok.Token}
		if res := do(http.DefaultClient, "GET", urls[1]+"/api/v1/me", "", bearer); res.StatusCode != 200 {
			t.Fatalf("a token from server 1 on server 2: %d", res.StatusCode)
		}
		if res := do(http.DefaultClient, "DELETE", urls[1]+"/api/v1/auth/token", "", bearer); res.StatusCode != 204 {
			t.Fatalf("sign out on server 2: %d", res.StatusCode)
		}
		if res := do(http.DefaultClient, "GET", urls[0]+"/api/v1/me", "", bearer); res.StatusCode != 401 {
			t.Errorf("a token signed out on server 2 still works on server 1: %d", res.StatusCode)
		}
	})

	t.Run("WebSession", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		form := url.Values{"username": {"root"}, "password": {"a long enough password"}}.Encode()
		res := do(c, "POST", urls[0]+"/login", form, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in on server 1: %d", res.StatusCode)
		}
		// The jar keys cookies by host, and both test servers are 127.0.0.1.
		if res := do(c, "GET", urls[1]+"/account", "", nil); res.StatusCode != 200 {
			t.Errorf("the session from server 1 on server 2: %d, want 200", res.StatusCode)
		}
	})

	t.Run("PublicRateLimit", func(t *testing.T) {
		f := url.Values{}
		for i := 1; i <= 9; i++ {
			f.Set("phq9_"+strconv.Itoa(i), "0")
		}
		screen := func(i int, from string) int {
			return do(http.DefaultClient, "POST", urls[i%2]+"/public/screening/phq9", f.Encode(), map[string]string{
				"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": from}).StatusCode
		}
		for i := range 20 {
			if got := screen(i, "203.0.113.9"); got != 200 {
				t.Fatalf("screening %d from one address, alternating servers: %d, want 200", i+1, got)
			}
		}
		if got := screen(20, "203.0.113.9"); got != http.StatusTooManyRequests {
			t.Errorf("the 21st screening from one address: %d, want 429", got)
		}
		if got := screen(21, "203.0.113.9"); got != http.StatusTooManyRequests {
			t.Errorf("the 22nd screening, on the other server: %d, want 429", got)
		}
		// A client cannot pick its own address: the proxy's entry counts.
		if got := screen(21, "198.51.100.1, 203.0.113.9"); got != http.StatusTooManyRequests {
			t.Errorf("a forged X-Forwarded-For entry escaped the limit: %d", got)
		}
		if got := screen(21, "203.0.113.10"); got != 200 {
			t.Errorf("another address: %d, want 200", got)
		}
		var n int
		if err := dbs[0].QueryRow(ctx, `SELECT count(*) FROM rate_limits WHERE client LIKE '%203.0.113%'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("the rate limits store client addresses: %d rows (%v)", n, err)
		}
	})

	t.Run("SweepLease", func(t *testing.T) {
		ran0, err := jobs.RunOnce(ctx, dbs[0], svcs[0], "server-1")
		if err != nil || !ran0 {
			t.Fatalf("server 1 did not run the sweeps: %v %v", ran0, err)
		}
		if ran1, err := jobs.RunOnce(ctx, dbs[1], svcs[1], "server-2"); err != nil || ran1 {
			t.Errorf("server 2 ran the sweeps while server 1 holds the lease: %v %v", ran1, err)
		}
	})
}
