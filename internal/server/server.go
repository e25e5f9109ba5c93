// Package server puts Kith's HTTP pieces together: the staff UI and public
// site (web), the JSON API (api), the FHIR R4 interface (fhir), health and metrics, and the middleware
// every request passes through (request id, logging, metrics, security
// headers, body limit, cross-origin protection).
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kith/internal/api"
	"kith/internal/care"
	"kith/internal/fhir"
	"kith/internal/web"
)

// Options configure the server.
type Options struct {
	// MaxBodyBytes limits request bodies; 0 means 1 MiB.
	MaxBodyBytes int64
	// TrustProxy takes the client address from X-Forwarded-For, for a server
	// behind a reverse proxy.
	TrustProxy bool
}

// New returns the handler for all of Kith.
func New(svc *care.Service, opts Options) http.Handler {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for name, pool := range svc.DB().Pools() {
		reg.MustRegister(collectors.NewDBStatsCollector(pool, name))
	}
	m := newMetrics(reg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := svc.DB().Ping(ctx); err != nil {
			slog.ErrorContext(ctx, "readiness: database unreachable", "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("database unreachable\n"))
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	api.Register(mux, svc)
	fhir.Register(mux, svc)
	web.Register(mux, svc)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPI(r) {
			api.WriteProblem(w, http.StatusForbidden, "cross-origin request refused")
			return
		}
		if isFHIR(r) {
			fhir.WriteOutcome(w, http.StatusForbidden, "cross-origin request refused")
			return
		}
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	var h http.Handler = mux
	h = cop.Handler(h)
	h = securityHeaders(h)
	h = limitBody(h, opts.MaxBodyBytes)
	h = m.instrument(h)
	h = requestInfo(h, opts.TrustProxy)
	return h
}

// securityHeaders sets the headers every response carries. The CSP allows no
// inline script or style: everything comes from /static.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies; reading past the cap fails, and the
// handlers answer 413.
func limitBody(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := limit
		if r.Method == http.MethodPost && (r.URL.Path == "/admin/import" || r.URL.Path == "/api/v1/imports") {
			// A registry's files, streamed to disk by the import page and
			// the API.
			n = web.MaxImportUpload
		}
		if r.ContentLength > n {
			if isAPI(r) {
				api.WriteProblem(w, http.StatusRequestEntityTooLarge, "the body is larger than "+strconv.FormatInt(n, 10)+" bytes")
				return
			}
			if isFHIR(r) {
				fhir.WriteOutcome(w, http.StatusRequestEntityTooLarge, "the body is larger than "+strconv.FormatInt(n, 10)+" bytes")
				return
			}
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// isAPI reports whether r is for the JSON API, whose every error is a
// problem details object.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// isFHIR reports whether r is for the FHIR interface, whose every error is
// an OperationOutcome.
func isFHIR(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, fhir.Base+"/") }

// requestInfo gives each request an id (echoed as X-Request-Id) and records
// the client address for the audit log, and logs the request without its
// query string, which may hold personal data.
func requestInfo(next http.Handler, trustProxy bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		addr, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			addr = r.RemoteAddr
		}
		if trustProxy {
			if f := forwardedFor(r.Header); f != "" {
				addr = f
			}
		}
		ctx := care.WithRequest(r.Context(), care.RequestInfo{ClientAddr: addr, RequestID: id, UserAgent: r.UserAgent()})
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		r = r.WithContext(ctx)
		next.ServeHTTP(sw, r)
		slog.InfoContext(ctx, "request", "id", id, "method", r.Method, "route", routeOf(r), "status", sw.status,
			"duration", time.Since(start))
	})
}

// routeOf names the route pattern that served r, never the concrete path,
// which may carry an identifier.
func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return "unmatched"
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// forwardedFor is the address the nearest proxy saw the request come from:
// the last entry of the last X-Forwarded-For header. Earlier entries are
// whatever the client chose to send, and trusting them would let anyone
// pick a fresh address for every request and escape the rate limits.
func forwardedFor(h http.Header) string {
	v := h.Values("X-Forwarded-For")
	if len(v) == 0 {
		return ""
	}
	last := v[len(v)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}
