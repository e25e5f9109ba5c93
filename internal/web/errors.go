package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"kith/internal/care"
)

// errorData is what the error page shows.
type errorData struct {
	Status  int
	Title   string
	Message string
	Details []string
	// GlassURL offers a clinician the break-the-glass form for a patient
	// not found (one outside their jurisdiction reads so).
	GlassURL string
}

// Errors the web layer raises itself, mapped like the service's.
var (
	errPageNotFound = &care.Error{Kind: care.NotFound, Message: "page not found"}
	errNoRights     = &care.Error{Kind: care.Forbidden, Message: "you are not allowed to do this"}
	errSignIn       = &care.Error{Kind: care.Unauthenticated, Message: "sign-in required"}
)

// fail is the one place where an error becomes an HTTP response: a sign-in
// redirect or an error page in the user's language. Internal errors are
// logged, never shown, and the log holds no form values.
func (s *server) fail(w http.ResponseWriter, r *http.Request, p *page, err error) {
	var se statusError
	if errors.As(err, &se) {
		d := errorData{Status: se.status, Title: p.T("error.badrequest"), Message: p.T("error.badrequest.text")}
		if se.status == http.StatusRequestEntityTooLarge {
			d.Title, d.Message = p.T("error.toolarge"), p.T("error.toolarge.text")
		}
		s.renderError(w, r, p, d)
		return
	}
	err = care.Classify(err)
	var ce *care.Error
	if !errors.As(err, &ce) {
		ce = &care.Error{Kind: care.Internal}
	}
	d := errorData{Message: p.Msg(ce.Message)}
	switch ce.Kind {
	case care.Unauthenticated:
		clearSession(w, r)
		target := "/login"
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	case care.Invalid:
		d.Status, d.Title = http.StatusUnprocessableEntity, p.T("error.invalid")
		for _, f := range ce.Fields {
			d.Details = append(d.Details, p.FieldLabel(f.Field)+": "+p.Msg(f.Message))
		}
	case care.NotFound:
		d.Status, d.Title = http.StatusNotFound, p.T("error.notfound")
		d.Message = p.T("error.notfound.text")
		d.GlassURL = glassURL(r, p)
	case care.Forbidden:
		d.Status, d.Title = http.StatusForbidden, p.T("error.forbidden")
		d.Message = p.T("error.forbidden.text")
	case care.Conflict:
		d.Status, d.Title = http.StatusConflict, p.T("error.conflict")
	case care.TooManyRequests:
		d.Status, d.Title = http.StatusTooManyRequests, p.T("error.toomany")
		d.Message = p.Wait(ce.RetryAfter)
		w.Header().Set("Retry-After", retryAfter(ce.RetryAfter))
	case care.Unavailable:
		d.Status, d.Title = http.StatusServiceUnavailable, p.T("error.unavailable")
		w.Header().Set("Retry-After", retryAfter(ce.RetryAfter))
	default:
		slog.ErrorContext(r.Context(), "web: request failed", "route", r.Pattern, "error", err)
		d.Status, d.Title, d.Message = http.StatusInternalServerError, p.T("error.internal"), p.T("error.internal.text")
	}
	s.renderError(w, r, p, d)
}

func (s *server) renderError(w http.ResponseWriter, r *http.Request, p *page, d errorData) {
	if rerr := s.render(w, p, d.Status, "error", d); rerr != nil {
		slog.ErrorContext(r.Context(), "web: rendering the error page failed", "error", rerr)
		http.Error(w, http.StatusText(d.Status), d.Status)
	}
}

// statusError is an error of the web layer's own with its HTTP status,
// such as a form too large to read.
type statusError struct{ status int }

func (e statusError) Error() string { return http.StatusText(e.status) }

// readForm parses a posted form, and says why when it cannot.
func readForm(r *http.Request) error {
	err := r.ParseForm()
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return statusError{http.StatusRequestEntityTooLarge}
	}
	return statusError{http.StatusBadRequest}
}
