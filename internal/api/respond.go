package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

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
	// TOTPRequired says a sign-in needs the "totp" code as well.
	TOTPRequired bool `json:"totp_required,omitempty"`
}

// problemTypes are the problem type URIs of errors a client must act on in
// a particular way; every other problem is about:blank.
var problemTypes = map[string]string{
	care.ProblemEnrolTOTP: "urn:kith:problem:enrol-totp",
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

// WriteProblem writes an RFC 9457 problem response: the server's own
// answers under /api/ (413, 405, the cross-origin 403) use it, so that every
// API error has one format.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	writeProblem(w, status, http.StatusText(status), detail, nil)
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
	err = care.Classify(err)
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
		care.Unavailable:     http.StatusServiceUnavailable,
	}[ce.Kind]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	switch ce.Kind {
	case care.Unauthenticated:
		w.Header().Set("WWW-Authenticate", `Bearer realm="kith"`)
	case care.TooManyRequests, care.Unavailable:
		w.Header().Set("Retry-After", ratelimit.RetryAfter(ce.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	typ := "about:blank"
	if t, ok := problemTypes[ce.Type]; ok {
		typ = t
	}
	json.NewEncoder(w).Encode(problem{Type: typ, Title: http.StatusText(status), Status: status,
		Detail: ce.Message, Errors: ce.Fields, ExistingID: ce.ExistingID, TOTPRequired: ce.TOTPRequired})
}

// decode reads a JSON object body into v. Unknown fields, trailing data and
// wrong types are refused with a message naming the field; no message
// carries the decoder's own (Go) wording.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &badRequest{status: http.StatusUnsupportedMediaType, msg: "the body must be JSON (Content-Type: application/json)"}
		}
	}
	body, err := io.ReadAll(r.Body)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return &badRequest{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("the body is larger than %d bytes", maxErr.Limit)}
	}
	if err != nil {
		return &badRequest{status: http.StatusBadRequest, msg: "the body could not be read"}
	}
	return decodeJSON(body, v)
}

// decodeJSON decodes one JSON object from body into v; see decode.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
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
	var typeErr *json.UnmarshalTypeError
	var synErr *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return &badRequest{status: http.StatusBadRequest, msg: "the body is empty; a JSON object is required"}
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return &badRequest{status: http.StatusBadRequest, msg: "the body must be a JSON object"}
		}
		return &badRequest{status: http.StatusUnprocessableEntity, field: typeErr.Field, msg: "must be " + jsonKind(typeErr.Type)}
	case errors.As(err, &synErr):
		return &badRequest{status: http.StatusBadRequest, msg: fmt.Sprintf("the body is not valid JSON (at byte %d)", synErr.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &badRequest{status: http.StatusBadRequest, msg: "the body is not valid JSON (it ends too early)"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &badRequest{status: http.StatusUnprocessableEntity, field: name, msg: "is not a field of this request"}
	}
	// What is left is a value's own decoder refusing it, such as a time.
	if field := badTimeField(body, v); field != "" {
		return &badRequest{status: http.StatusUnprocessableEntity, field: field,
			msg: "must be a date and time in RFC 3339 form, such as 2026-11-25T14:30:00+08:00"}
	}
	return &badRequest{status: http.StatusBadRequest, msg: "the body holds a value of a form this request does not take"}
}

// jsonKind names the JSON type a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	if t == reflect.TypeOf(time.Time{}) {
		return "a date and time in RFC 3339 form"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16,
		reflect.Uint32, reflect.Uint64:
		return "a whole number in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}

// badTimeField names the top-level field of body that should hold a time
// (a time.Time field of v) but does not; "" if none is found.
func badTimeField(body []byte, v any) string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return ""
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if name == "" || ft != reflect.TypeOf(time.Time{}) || raw[name] == nil {
			continue
		}
		var x time.Time
		if json.Unmarshal(raw[name], &x) != nil {
			return name
		}
	}
	return ""
}
