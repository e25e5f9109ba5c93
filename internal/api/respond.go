package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"kith/internal/care"
	"kith/internal/ratelimit"
)

// problem is an RFC 9457 problem details object, with Kith's field errors.
type problem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Detail   string            `json:"detail,omitempty"`
	Instance string            `json:"instance,omitempty"`
	Errors   []care.FieldError `json:"errors,omitempty"`
	// ExistingID names the record a conflict is with.
	ExistingID string `json:"existing_id,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeProblem(w http.ResponseWriter, status int, title, detail string, fields []care.FieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: title, Status: status, Detail: detail, Errors: fields})
}

// badRequest is an error in the request itself (malformed JSON, wrong
// content type) rather than in its values.
type badRequest struct {
	status int
	msg    string
	field  string
}

func (e *badRequest) Error() string { return e.msg }

// writeError maps an error to a problem response: the one place where the
// API turns the service's error kinds into HTTP.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		detail, fields := br.msg, []care.FieldError(nil)
		if br.field != "" {
			detail = "invalid request body: " + br.field + " " + br.msg
			fields = []care.FieldError{{Field: br.field, Message: br.msg}}
		}
		writeProblem(w, br.status, http.StatusText(br.status), detail, fields)
		return
	}
	var ce *care.Error
	if !errors.As(err, &ce) {
		// Log the error (never the request's data) and say nothing more.
		slog.ErrorContext(r.Context(), "internal error", "route", r.Pattern, "error", err)
		writeProblem(w, http.StatusInternalServerError, "Internal Server Error",
			"something went wrong; the request id in X-Request-Id helps the administrator find out what", nil)
		return
	}
	status := map[care.Kind]int{
		care.Invalid:         http.StatusUnprocessableEntity,
		care.NotFound:        http.StatusNotFound,
		care.Forbidden:       http.StatusForbidden,
		care.Conflict:        http.StatusConflict,
		care.Unauthenticated: http.StatusUnauthorized,
		care.TooManyRequests: http.StatusTooManyRequests,
	}[ce.Kind]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	switch ce.Kind {
	case care.Unauthenticated:
		w.Header().Set("WWW-Authenticate", `Bearer realm="kith"`)
	case care.TooManyRequests:
		w.Header().Set("Retry-After", ratelimit.RetryAfter(ce.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: http.StatusText(status), Status: status,
		Detail: ce.Message, Errors: ce.Fields, ExistingID: ce.ExistingID})
}

// decode reads a JSON object body into v. Unknown fields, trailing data and
// wrong types are refused with a message naming the field.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &badRequest{status: http.StatusUnsupportedMediaType, msg: "the body must be JSON (Content-Type: application/json)"}
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return &badRequest{status: http.StatusBadRequest, msg: "the body must hold one JSON object"}
		}
		if _, err := dec.Token(); err != io.EOF {
			return &badRequest{status: http.StatusBadRequest, msg: "the body must hold one JSON object"}
		}
		return nil
	}
	var maxErr *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var synErr *json.SyntaxError
	switch {
	case errors.As(err, &maxErr):
		return &badRequest{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("the body is larger than %d bytes", maxErr.Limit)}
	case errors.Is(err, io.EOF):
		return &badRequest{status: http.StatusBadRequest, msg: "the body is empty; a JSON object is required"}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		return &badRequest{status: http.StatusUnprocessableEntity, field: field,
			msg: fmt.Sprintf("must be of JSON type %s, not %s", typeErr.Type.Kind(), typeErr.Value)}
	case errors.As(err, &synErr), errors.Is(err, io.ErrUnexpectedEOF):
		return &badRequest{status: http.StatusBadRequest, msg: "the body is not valid JSON: " + err.Error()}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &badRequest{status: http.StatusUnprocessableEntity, field: name, msg: "is not a field of this request"}
	}
	return &badRequest{status: http.StatusBadRequest, msg: "the body could not be read: " + err.Error()}
}
