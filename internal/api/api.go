// Package api serves Kith's JSON REST API under /api/v1. Every handler
// decodes its input, calls one care.Service method with the acting user in
// the context, and writes JSON; errors become RFC 9457 problem details in
// one place (writeError).
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
)

// route is one API endpoint. The list is the source of truth for the
// OpenAPI document's test.
type route struct {
	Method, Pattern string
	Public          bool // no bearer token needed
	// Enrol marks the routes open to an account that must enrol a second
	// factor before anything else.
	Enrol  bool
	Handle func(h *handler, w http.ResponseWriter, r *http.Request) error
}

// Routes lists every API route; see routes.go.
func Routes() []struct{ Method, Pattern string } {
	out := make([]struct{ Method, Pattern string }, len(routes))
	for i, rt := range routes {
		out[i].Method, out[i].Pattern = rt.Method, rt.Pattern
	}
	return out
}

type handler struct {
	svc *care.Service
}

// Register adds the API's routes to mux.
func Register(mux *http.ServeMux, svc *care.Service) {
	h := &handler{svc: svc}
	allow := map[string][]string{}
	for _, rt := range routes {
		mux.Handle(rt.Method+" "+rt.Pattern, h.wrap(rt))
		allow[rt.Pattern] = append(allow[rt.Pattern], rt.Method)
	}
	// Any other method on a route's path: 405 as problem details (the
	// mux's own answer would be plain text).
	for pattern, methods := range allow {
		if slices.Contains(methods, "GET") {
			methods = append(methods, "HEAD")
		}
		allowed := strings.Join(methods, ", ")
		mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allowed)
			writeProblem(w, http.StatusMethodNotAllowed, http.StatusText(http.StatusMethodNotAllowed),
				"this route takes "+allowed, nil)
		}))
	}
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "no such API route", "", nil)
	}))
}

// wrap authenticates the request (unless the route is public), runs the
// route's handler and maps its error to a response.
//
// An API token resolved in the last minute is taken from memory and
// verified with the request's first statements (care.ResolveToken): the
// response is held back until it is known to stand (verifiedWriter). If it
// does not, nothing was written and nothing answered, and the token is
// resolved afresh: gone, the answer is 401; changed (a new role or unit), a
// read is served again with the account as it is now, and a write is
// refused with 503, to be sent again, since its body was read.
func (h *handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if rt.Public {
			h.serve(rt, w, r)
			return
		}
		a, err := h.authenticate(r, h.svc.ResolveToken)
		if err != nil {
			writeError(w, r, err)
			return
		}
		ctx := care.WithActor(r.Context(), a)
		vw := &verifiedWriter{ResponseWriter: w, verify: func() error { return h.svc.Verify(ctx) }}
		if a.MustEnrol && !rt.Enrol {
			writeError(vw, r, care.ErrEnrolTOTP)
		} else {
			h.serve(rt, vw, r.WithContext(ctx))
		}
		if !vw.changed {
			return
		}
		clear(w.Header())
		w.Header().Set("Cache-Control", "no-store")
		if a, err = h.authenticate(r, func(ctx context.Context, tok string) (*care.Actor, error) {
			return h.svc.ResolveSession(ctx, tok, care.APIToken)
		}); err != nil {
			writeError(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, r, &care.Error{Kind: care.Unavailable, RetryAfter: time.Second,
				Message: "the account of this API token changed while the request ran; nothing was saved: send it again"})
			return
		}
		if a.MustEnrol && !rt.Enrol {
			writeError(w, r, care.ErrEnrolTOTP)
			return
		}
		h.serve(rt, w, r.WithContext(care.WithActor(r.Context(), a)))
	})
}

// serve runs the route's handler and maps its error to a response. The
// error of a remembered token that no longer stands is verifiedWriter's.
func (h *handler) serve(rt route, w http.ResponseWriter, r *http.Request) {
	err := rt.Handle(h, w, r)
	if vw, ok := w.(*verifiedWriter); ok && care.TokenChanged(err) {
		vw.changed = true
		return
	}
	if err != nil {
		writeError(w, r, h.refuseFirst(r, rt, err))
	}
}

// verifiedWriter holds a response back until the request's remembered API
// token is known to stand (care.Verify: at once if a transaction of the
// request already verified it, else one query). If it does not, nothing
// is sent, and changed tells wrap to answer instead.
type verifiedWriter struct {
	http.ResponseWriter
	verify  func() error
	checked bool
	changed bool
}

// ok verifies the token the first time it is asked.
func (w *verifiedWriter) ok() bool {
	if !w.checked {
		w.checked = true
		if err := w.verify(); err != nil {
			w.changed = true
			if !care.TokenChanged(err) {
				// The database could not say: answer nothing from memory.
				slog.Error("verifying an API token", "error", err)
			}
		}
	}
	return !w.changed
}

func (w *verifiedWriter) WriteHeader(code int) {
	if w.ok() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *verifiedWriter) Write(p []byte) (int, error) {
	if !w.ok() {
		return 0, errHeldBack
	}
	return w.ResponseWriter.Write(p)
}

// errHeldBack is a write's error when the token did not stand.
var errHeldBack = errors.New("api: response held back: the API token did not stand")

// Flush is http.Flusher's, held back as the rest.
func (w *verifiedWriter) Flush() {
	if w.ok() {
		http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *verifiedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// refuseFirst names the permission each write route needs. A body the
// route cannot read is refused (403/404) rather than described when the
// caller lacks it: refuse before validate, whatever the body holds.
var refuseFirst = map[string]care.Action{
	"POST /api/v1/patients":                                 care.WritePatient,
	"PATCH /api/v1/patients/{id}":                           care.WritePatient,
	"POST /api/v1/patients/{id}/transfer":                   care.WritePatient,
	"POST /api/v1/patients/{id}/follow-ups":                 care.WriteFollowUp,
	"PUT /api/v1/patients/{id}/follow-ups/{fid}":            care.WriteFollowUp,
	"POST /api/v1/patients/{id}/emergencies":                care.WriteEmergency,
	"POST /api/v1/patients/{id}/assessments":                care.Assess,
	"POST /api/v1/patients/{id}/break-glass":                care.BreakGlass,
	"POST /api/v1/org-units":                                care.WriteUnit,
	"PATCH /api/v1/org-units/{code}":                        care.WriteUnit,
	"POST /api/v1/users":                                    care.WriteUser,
	"PATCH /api/v1/users/{username}":                        care.WriteUser,
	"PATCH /api/v1/alerts/{id}":                             care.ReadAlerts,
	"PATCH /api/v1/contact-requests/{id}":                   care.WriteContacts,
	"POST /api/v1/patients/{id}/plans":                      care.WritePlan,
	"PUT /api/v1/plans/{id}":                                care.WritePlan,
	"POST /api/v1/plans/{id}/reviews":                       care.WritePlan,
	"POST /api/v1/case-conferences":                         care.WriteConference,
	"POST /api/v1/patients/{id}/team":                       care.ReadPatient, // a key worker of any role may change the team
	"POST /api/v1/patients/{id}/team-contacts":              care.ReadPatient,
	"POST /api/v1/patients/{id}/family":                     care.WritePatient,
	"PUT /api/v1/patients/{id}/family/{fid}":                care.WritePatient,
	"POST /api/v1/patients/{id}/emergencies/{eid}/complete": care.WriteEmergency,
	"POST /api/v1/referrals":                                care.WriteReferral,
	"PATCH /api/v1/referrals/{id}":                          care.WriteReferral,
	"POST /api/v1/crisis-events":                            care.WriteCrisis,
	"POST /api/v1/services":                                 care.WriteService,
	"PUT /api/v1/services/{id}":                             care.WriteService,
	"POST /api/v1/articles":                                 care.WriteArticle,
	"PATCH /api/v1/articles/{id}":                           care.WriteArticle,
	"POST /api/v1/events":                                   care.WriteEvents,
	"PATCH /api/v1/events/{id}":                             care.WriteEvents,
	"POST /api/v1/events/{id}/cancel":                       care.WriteEvents,
	"POST /api/v1/events/{id}/attendance":                   care.WriteEvents,
	"PATCH /api/v1/events/{id}/attendance/{aid}":            care.WriteEvents,
	"POST /api/v1/courses":                                  care.WriteCourses,
	"POST /api/v1/subsidies":                                care.ReviewSubsidy,
}

// refuseFirst returns, for a body the route could not read, the refusal
// the service gives a caller without the permission, or else err.
func (h *handler) refuseFirst(r *http.Request, rt route, err error) error {
	var br *badRequest
	act, ok := refuseFirst[rt.Method+" "+rt.Pattern]
	if !ok || !errors.As(err, &br) {
		return err
	}
	var patient int64
	if strings.HasPrefix(rt.Pattern, "/api/v1/patients/{id}") {
		id, idErr := pathID(r, "id")
		if idErr != nil {
			return idErr
		}
		patient = id
	}
	if perr := h.svc.Precheck(r.Context(), act, patient); perr != nil {
		return perr
	}
	return err
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(r *http.Request) string {
	const prefix = "bearer "
	v := r.Header.Get("Authorization")
	if len(v) > len(prefix) && strings.EqualFold(v[:len(prefix)], prefix) {
		return strings.TrimSpace(v[len(prefix):])
	}
	return ""
}

// authenticate resolves the request's API token with resolve.
func (h *handler) authenticate(r *http.Request, resolve func(context.Context, string) (*care.Actor, error)) (*care.Actor, error) {
	tok := bearer(r)
	if tok == "" {
		return nil, &care.Error{Kind: care.Unauthenticated, Message: "an API token is required: Authorization: Bearer TOKEN (get one from POST /api/v1/auth/token)"}
	}
	a, err := resolve(r.Context(), tok)
	if care.ErrorKind(err) == care.Unauthenticated {
		return nil, &care.Error{Kind: care.Unauthenticated, Message: "the API token is invalid or has expired"}
	}
	return a, err
}

// page reads the page_token and limit query parameters.
func page(r *http.Request) (care.Page, error) {
	p := care.Page{Token: r.URL.Query().Get("page_token")}
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, &care.Error{Kind: care.Invalid, Message: "invalid query",
				Fields: []care.FieldError{{Field: "limit", Message: "must be a whole number between 1 and 200"}}}
		}
		p.Limit = n
	}
	return p, nil
}

// list is the shape of every list response.
type list[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

func newList[T any](items []T, next string) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items, NextPageToken: next}
}

// timeNow is the clock for default periods.
var timeNow = time.Now
