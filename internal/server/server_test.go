package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kith/internal/care"
	"kith/internal/secrets"
	"kith/internal/server"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestOperations(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		keys, _ := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
		srv := httptest.NewServer(server.New(care.New(db, keys), server.Options{}))
		defer srv.Close()
		get := func(path string) (*http.Response, string) {
			res, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res, string(b)
		}
		if res, body := get("/healthz"); res.StatusCode != 200 || body != "ok\n" {
			t.Errorf("healthz: %d %q", res.StatusCode, body)
		}
		res, body := get("/readyz")
		if res.StatusCode != 200 {
			t.Errorf("readyz: %d %q", res.StatusCode, body)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-Id"} {
			if res.Header.Get(h) == "" {
				t.Errorf("header %s missing", h)
			}
		}
		if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("CSP = %q", csp)
		}
		get("/api/v1/patients/12345") // a route with an id, to see it labelled by pattern
		_, metrics := get("/metrics")
		for _, want := range []string{`kith_http_requests_total{code="200",method="GET",route="GET /readyz"}`,
			`route="GET /api/v1/patients/{id}"`, "go_sql_open_connections"} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(metrics, "12345") {
			t.Error("metrics carry a raw path with an id")
		}

		// Cross-origin protection: a browser's cross-site POST is refused.
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/auth/token", strings.NewReader(`{}`))
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST: %d, want 403", res.StatusCode)
		}
		// The body limit: larger bodies are refused before they are read.
		req, _ = http.NewRequest("POST", srv.URL+"/api/v1/auth/token", strings.NewReader(strings.Repeat("x", 2<<20)))
		req.Header.Set("Content-Type", "application/json")
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MiB body: %d, want 413", res.StatusCode)
		}
	})
}
