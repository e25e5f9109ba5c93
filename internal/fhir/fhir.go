// Package fhir serves Kith's records as HL7 FHIR R4 (4.0.1) under /fhir/R4.
// It is another transport over the one door, like package api: every
// handler calls care.Service methods with the acting user in the context,
// so the bearer tokens, the access policy, the role's view of the record and
// the audit are the API's. A FHIR read is a read of the record. Nothing here
// queries the database.
//
// The routes table is the source of truth: Register mounts it, and the
// CapabilityStatement at /fhir/R4/metadata is generated from it, so the
// statement lists exactly what is implemented.
package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"kith/internal/care"
	"kith/internal/ratelimit"
)

// Base is the path every FHIR route lies under.
const Base = "/fhir/R4"

// ContentType is the media type of every FHIR response.
const ContentType = "application/fhir+json"

// Interactions, as the CapabilityStatement names them.
const (
	read         = "read"
	searchType   = "search-type"
	create       = "create"
	capabilities = "capabilities"
	operation    = "operation" // an operation such as $export, or a URL it hands out
)

// param is a search parameter of a resource type.
type param struct {
	Name, Type, Doc string
}

// route is one FHIR interaction on one resource type.
type route struct {
	Type        string // resource type; "" for the capabilities interaction
	Interaction string
	Params      []param  // search-type: the parameters taken
	Includes    []string // search-type: the _include values taken
	Operation   string   // operation: its name, such as export ("" for the URLs it hands out)
	Definition  string   // operation: the canonical URL of its OperationDefinition
	Path        string   // operation: the ServeMux pattern
	Handle      func(h *handler, w http.ResponseWriter, r *http.Request) error
}

// pattern is the route's ServeMux pattern.
func (rt route) pattern() string {
	switch rt.Interaction {
	case capabilities:
		return "GET " + Base + "/metadata"
	case read:
		return "GET " + Base + "/" + rt.Type + "/{id}"
	case searchType:
		return "GET " + Base + "/" + rt.Type
	case create:
		return "POST " + Base + "/" + rt.Type
	case operation:
		return rt.Path
	}
	panic("fhir: unknown interaction " + rt.Interaction)
}

// routes lists every interaction; each resource's file appends its own.
var routes []route

// common are the search parameters every search takes.
var common = []param{
	{"_count", "number", "the page size, 1 to 200 (default 50)"},
	{"_page", "string", "the page token of a next link"},
}

type handler struct {
	svc *care.Service
}

// Register adds the FHIR routes to mux.
func Register(mux *http.ServeMux, svc *care.Service) {
	h := &handler{svc: svc}
	allow := map[string][]string{}
	for _, rt := range routes {
		mux.Handle(rt.pattern(), h.wrap(rt))
		method, path, _ := strings.Cut(rt.pattern(), " ")
		allow[path] = append(allow[path], method)
	}
	// Any other method on a route's path: 405 as an OperationOutcome (the
	// mux's own answer would be plain text).
	for path, methods := range allow {
		if slices.Contains(methods, "GET") {
			methods = append(methods, "HEAD")
		}
		allowed := strings.Join(methods, ", ")
		mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allowed)
			writeOutcome(w, http.StatusMethodNotAllowed, issue{Severity: "error", Code: "not-supported",
				Diagnostics: "this resource takes " + allowed + "; see " + Base + "/metadata"})
		}))
	}
	mux.Handle(Base+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeOutcome(w, http.StatusNotFound, issue{Severity: "error", Code: "not-supported",
			Diagnostics: "this server does not support this interaction; see " + Base + "/metadata"})
	}))
}

// wrap authenticates the request (all but metadata), runs the route's
// handler and maps its error to an OperationOutcome.
func (h *handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !jsonAccepted(r) {
			writeOutcome(w, http.StatusNotAcceptable, issue{Severity: "error", Code: "not-supported",
				Diagnostics: "this server speaks FHIR JSON only (" + ContentType + ")"})
			return
		}
		if base := h.svc.BaseURL(); base != "" {
			r = r.WithContext(context.WithValue(r.Context(), baseKey{}, base))
		}
		if rt.Interaction != capabilities {
			a, err := h.authenticate(r)
			if err != nil {
				writeError(w, r, err)
				return
			}
			if a.MustEnrol {
				writeError(w, r, care.ErrEnrolTOTP)
				return
			}
			r = r.WithContext(care.WithActor(r.Context(), a))
		}
		if err := rt.Handle(h, w, r); err != nil {
			writeError(w, r, err)
		}
	})
}

// refuseFirst returns, for a write whose body could not be read, the
// refusal the service gives a caller without the permission (act, on
// patient if not 0), or else err: refuse before describing the body, as
// the API does.
func (h *handler) refuseFirst(r *http.Request, act care.Action, patient int64, err error) error {
	if perr := h.svc.Precheck(r.Context(), act, patient); perr != nil {
		return perr
	}
	return err
}

// jsonAccepted reports whether the client takes JSON: _format, if given,
// must name it, and an Accept header must not ask for XML or Turtle only.
func jsonAccepted(r *http.Request) bool {
	if f := r.URL.Query().Get("_format"); f != "" {
		return strings.Contains(f, "json")
	}
	accept := r.Header.Get("Accept")
	return accept == "" || strings.Contains(accept, "json") || strings.Contains(accept, "*/*")
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

// authenticate resolves the API token: the FHIR interface takes the
// tokens of POST /api/v1/auth/token.
func (h *handler) authenticate(r *http.Request) (*care.Actor, error) {
	tok := bearer(r)
	if tok == "" {
		return nil, &care.Error{Kind: care.Unauthenticated, Message: "an API token is required: Authorization: Bearer TOKEN (get one from POST /api/v1/auth/token)"}
	}
	a, err := h.svc.ResolveSession(r.Context(), tok, care.APIToken)
	if care.ErrorKind(err) == care.Unauthenticated {
		return nil, &care.Error{Kind: care.Unauthenticated, Message: "the API token is invalid or has expired"}
	}
	return a, err
}

// writeResource writes one resource (or Bundle) as FHIR JSON.
func writeResource(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", ContentType+"; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// issue is one issue of an OperationOutcome.
type issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// OperationOutcome is FHIR's error report.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []issue `json:"issue"`
}

func writeOutcome(w http.ResponseWriter, status int, issues ...issue) {
	writeResource(w, status, OperationOutcome{ResourceType: "OperationOutcome", Issue: issues})
}

// WriteOutcome writes an OperationOutcome with one error: the server's own
// answers under /fhir/ (413, the cross-origin 403) use it, so that every
// FHIR error has one format.
func WriteOutcome(w http.ResponseWriter, status int, diagnostics string) {
	code := "processing"
	switch status {
	case http.StatusForbidden:
		code = "forbidden"
	case http.StatusRequestEntityTooLarge:
		code = "too-costly"
	}
	writeOutcome(w, status, issue{Severity: "error", Code: code, Diagnostics: diagnostics})
}

// requestError is an error in the request itself: an unknown search
// parameter, a body that is not the resource asked for. Expression is the
// element or parameter at fault.
type requestError struct {
	status     int
	code       string // the issue type, such as invalid or not-supported
	msg        string
	expression string
}

func (e *requestError) Error() string { return e.msg }

func badParam(name, msg string) error {
	return &requestError{status: http.StatusBadRequest, code: "invalid", msg: name + ": " + msg, expression: name}
}

// issueCodes maps the service's error kinds to FHIR issue types and HTTP.
var issueCodes = map[care.Kind]struct {
	status int
	code   string
}{
	care.Invalid:         {http.StatusUnprocessableEntity, "invalid"},
	care.NotFound:        {http.StatusNotFound, "not-found"},
	care.Forbidden:       {http.StatusForbidden, "forbidden"},
	care.Conflict:        {http.StatusConflict, "duplicate"},
	care.Unauthenticated: {http.StatusUnauthorized, "login"},
	care.TooManyRequests: {http.StatusTooManyRequests, "throttled"},
	care.Unavailable:     {http.StatusServiceUnavailable, "transient"},
}

// writeError maps an error to an OperationOutcome: the one place where the
// FHIR interface turns the service's error kinds into HTTP. A field error
// becomes an issue whose expression is the field: the handlers have
// already named it as the FHIR element or search parameter (fieldPaths).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var re *requestError
	if errors.As(err, &re) {
		is := issue{Severity: "error", Code: re.code, Diagnostics: re.msg}
		if re.expression != "" {
			is.Expression = []string{re.expression}
		}
		writeOutcome(w, re.status, is)
		return
	}
	err = care.Classify(err)
	var ce *care.Error
	if !errors.As(err, &ce) {
		// Log the error (never the request's data) and say nothing more.
		slog.ErrorContext(r.Context(), "internal error", "route", r.Pattern, "error", err)
		writeOutcome(w, http.StatusInternalServerError, issue{Severity: "fatal", Code: "exception",
			Diagnostics: "something went wrong; the request id in X-Request-Id helps the administrator find out what"})
		return
	}
	m, ok := issueCodes[ce.Kind]
	if !ok {
		m.status, m.code = http.StatusInternalServerError, "exception"
	}
	switch ce.Kind {
	case care.Unauthenticated:
		w.Header().Set("WWW-Authenticate", `Bearer realm="kith"`)
	case care.TooManyRequests, care.Unavailable:
		w.Header().Set("Retry-After", ratelimit.RetryAfter(ce.RetryAfter))
	}
	if ce.ExistingID != "" {
		w.Header().Set("Location", Base+"/Patient/"+ce.ExistingID)
	}
	if len(ce.Fields) == 0 {
		writeOutcome(w, m.status, issue{Severity: "error", Code: m.code, Diagnostics: ce.Message})
		return
	}
	issues := make([]issue, len(ce.Fields))
	for i, f := range ce.Fields {
		if p, ok := searchParams[f.Field]; ok && r.Method == http.MethodGet {
			f.Field = p
		}
		issues[i] = issue{Severity: "error", Code: m.code, Diagnostics: f.Field + " " + f.Message, Expression: []string{f.Field}}
	}
	writeOutcome(w, m.status, issues...)
}

// searchParams names the search parameter a list's field of the service is.
var searchParams = map[string]string{"page_token": "_page", "limit": "_count", "birth_date": "birthdate", "from": "date",
	"to": "date", "instrument": "questionnaire", "org_unit": "organization"}

// fieldPaths rewrites the field names of an Invalid or Conflict error,
// Kith's input fields, into the element paths path gives.
func fieldPaths(err error, path func(string) string) error {
	var ce *care.Error
	if !errors.As(err, &ce) || len(ce.Fields) == 0 {
		return err
	}
	out := *ce
	out.Fields = make([]care.FieldError, len(ce.Fields))
	for i, f := range ce.Fields {
		out.Fields[i] = care.FieldError{Field: path(f.Field), Message: f.Message}
	}
	return &out
}

// Page handling. The service's page tokens travel as _page; _count is the
// page size.
func page(r *http.Request) (care.Page, error) {
	q := r.URL.Query()
	p := care.Page{Token: q.Get("_page")}
	if s := q.Get("_count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > care.MaxLimit {
			return p, badParam("_count", "must be a whole number from 1 to "+strconv.Itoa(care.MaxLimit))
		}
		p.Limit = n
	}
	return p, nil
}

// pageOf cuts to the page asked for a list the service returns whole
// because a patient has a handful (family members, a team, plan versions
// and their goals): every search pages alike, so _count and next links
// work here too. The token of a next link is the offset of the page after.
func pageOf[T any](r *http.Request, items []T) ([]T, string, error) {
	pg, err := page(r)
	if err != nil {
		return nil, "", err
	}
	limit := pg.Limit
	if limit == 0 {
		limit = care.DefaultLimit
	}
	start := 0
	if pg.Token != "" {
		n, err := strconv.Atoi(pg.Token)
		if err != nil || n < 1 || strconv.Itoa(n) != pg.Token {
			return nil, "", badParam("_page", "is not a token this server gave out")
		}
		start = min(n, len(items))
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

// checkParams refuses a search parameter the route does not take: a
// client that filters by something ignored would read too much and not know.
func checkParams(r *http.Request, rt *route) error {
	for name := range r.URL.Query() {
		base, _, _ := strings.Cut(name, ":")
		ok := base == "_count" || base == "_page" || base == "_sort" || base == "_include" || base == "_format"
		for _, p := range rt.Params {
			ok = ok || p.Name == base
		}
		if !ok {
			return &requestError{status: http.StatusBadRequest, code: "not-supported",
				msg: "search parameter " + name + " is not supported here; see " + Base + "/metadata", expression: name}
		}
	}
	if s := r.URL.Query().Get("_sort"); s != "" && s != "-date" {
		return badParam("_sort", "only -date (newest first) is supported, which is also the order without _sort")
	}
	for _, inc := range r.URL.Query()["_include"] {
		ok := false
		for _, x := range rt.Includes {
			ok = ok || x == inc
		}
		if !ok {
			return badParam("_include", inc+" is not supported here; see "+Base+"/metadata")
		}
	}
	return nil
}

// searchRoute returns the route of a search on typ, for checkParams.
func searchRoute(typ string) *route {
	for i := range routes {
		if routes[i].Type == typ && routes[i].Interaction == searchType {
			return &routes[i]
		}
	}
	panic("fhir: no search route for " + typ)
}

// bundle is a searchset Bundle being built.
type bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Link         []bundleLink  `json:"link"`
	Entry        []bundleEntry `json:"entry,omitempty"`
	seen         map[string]bool
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string       `json:"fullUrl"`
	Resource any          `json:"resource"`
	Search   *entrySearch `json:"search,omitempty"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

// searchset starts a Bundle answering r; next, if not "", is the service's
// token for the page after this one, which the next link carries.
func searchset(r *http.Request, next string) *bundle {
	b := &bundle{ResourceType: "Bundle", Type: "searchset", seen: map[string]bool{}}
	self := absURL(r, r.URL.Path) + "?" + r.URL.RawQuery
	b.Link = append(b.Link, bundleLink{"self", strings.TrimSuffix(self, "?")})
	if next != "" {
		q := r.URL.Query()
		q.Set("_page", next)
		b.Link = append(b.Link, bundleLink{"next", absURL(r, r.URL.Path) + "?" + q.Encode()})
	}
	return b
}

// add adds a resource that matched the search, or (mode "include") one
// that came with it.
func (b *bundle) add(r *http.Request, res resource, mode string) {
	if b.seen[res.ref()] {
		return // a resource appears once, as a match if it is one
	}
	b.seen[res.ref()] = true
	b.Entry = append(b.Entry, bundleEntry{FullURL: absURL(r, Base+"/"+res.ref()), Resource: res, Search: &entrySearch{mode}})
}

// resource is what every resource this package emits can say of itself.
type resource interface {
	ref() string // Type/id
}

type baseKey struct{}

// absURL makes an absolute URL of a path on this server, for fullUrl and
// links: the installation's base URL when it is set (behind a proxy the
// request's own host and scheme may not be what clients see), else the
// request's.
func absURL(r *http.Request, path string) string {
	if base, _ := r.Context().Value(baseKey{}).(string); base != "" {
		return base + path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: path}
	return u.String()
}

// pathID reads a numeric resource id; a malformed one is a missing resource.
// readByID serves the read of a resource whose id is Kith's numeric id: get
// fetches the record through the service (the policy, the role's view, the
// audit), res maps it to its FHIR resource.
func readByID[T, R any](w http.ResponseWriter, r *http.Request, get func(context.Context, int64) (T, error), res func(T) R) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := get(r.Context(), id)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res(v))
	return nil
}

func pathID(r *http.Request) (int64, error) {
	id, ok := care.ParseID(r.PathValue("id"))
	if !ok {
		return 0, &care.Error{Kind: care.NotFound, Message: "not found"}
	}
	return id, nil
}

// reference reads a reference search parameter of the form [Type/]id to
// a resource of type typ whose id is numeric, such as patient=Patient/12.
func reference(r *http.Request, name, typ string, required bool) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		if required {
			return 0, badParam(name, "is required (such as "+name+"="+typ+"/12)")
		}
		return 0, nil
	}
	v = strings.TrimPrefix(v, typ+"/")
	id, ok := care.ParseID(v)
	if !ok {
		return 0, badParam(name, "must be a reference to a "+typ+", such as "+typ+"/12")
	}
	return id, nil
}

// dateRange reads the date parameter: date=geYYYY-MM-DD, date=leYYYY-MM-DD
// (and gt, lt, eq or none), repeated for both ends.
func dateRange(r *http.Request) (care.DateRange, error) {
	var d care.DateRange
	for _, v := range r.URL.Query()["date"] {
		prefix := "eq"
		if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' {
			prefix, v = v[:2], v[2:]
		}
		t, ok := care.ParseDate(v)
		if !ok {
			return d, badParam("date", "must be a date with an optional prefix, such as ge2026-01-01 or le2026-12-31")
		}
		switch prefix {
		case "eq":
			d.From, d.To = v, v
		case "ge":
			d.From = v
		case "gt":
			d.From = t.AddDate(0, 0, 1).Format("2006-01-02")
		case "le":
			d.To = v
		case "lt":
			d.To = t.AddDate(0, 0, -1).Format("2006-01-02")
		default:
			return d, badParam("date", "the prefix must be eq, ge, gt, le or lt")
		}
	}
	return d, nil
}

// lang picks the language of texts: the best match of Accept-Language.
func lang(w http.ResponseWriter, r *http.Request) string {
	w.Header().Add("Vary", "Accept-Language")
	l := care.MatchLanguage(r.Header.Get("Accept-Language"))
	w.Header().Set("Content-Language", l)
	return l
}
