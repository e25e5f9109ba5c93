package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
)

// form carries what the user typed into a form, and the messages about it,
// so that a form that failed is shown again as it was sent.
type form struct {
	values map[string]string
	errors map[string]string
	// Message is about the form as a whole; Other holds messages about
	// fields the form does not show. Both are translated.
	Message string
	Other   []string
}

// newForm returns a form with the named fields, filled from the request's
// form values when r is not nil.
func newForm(r *http.Request, names ...string) *form {
	f := &form{values: make(map[string]string, len(names)), errors: make(map[string]string)}
	for _, n := range names {
		f.values[n] = ""
		if r != nil {
			f.values[n] = r.PostFormValue(n)
		}
	}
	return f
}

// V returns the value of a field.
func (f *form) V(name string) string { return f.values[name] }

// E returns the message about a field, or "".
func (f *form) E(name string) string { return f.errors[name] }

// Failed reports whether the form has any message to show.
func (f *form) Failed() bool { return f.Message != "" || len(f.errors) > 0 || len(f.Other) > 0 }

// set gives a field a value, for forms filled from a record.
func (f *form) set(name, v string) { f.values[name] = v }

// fieldError records a message of the web layer's own about a field.
func (f *form) fieldError(p *page, name, msg string) {
	f.errors[name] = p.Msg(msg)
	if f.Message == "" {
		f.Message = p.Msg("please correct the fields shown")
	}
}

// formError puts a service error that the form can show (invalid input, a
// conflict) into f and returns the status to show it with. Any other error
// gives 0: the caller returns it to fail.
func (p *page) formError(f *form, err error) int {
	var ce *care.Error
	if !errors.As(err, &ce) {
		return 0
	}
	var status int
	switch ce.Kind {
	case care.Invalid:
		status = http.StatusUnprocessableEntity
	case care.Conflict:
		status = http.StatusConflict
	default:
		return 0
	}
	f.Message = p.Msg(ce.Message)
	for _, fe := range ce.Fields {
		if _, ok := f.values[fe.Field]; ok {
			f.errors[fe.Field] = p.Msg(fe.Message)
		} else {
			f.Other = append(f.Other, p.FieldLabel(fe.Field)+": "+p.Msg(fe.Message))
		}
	}
	return status
}

// inputField is one labelled input with its value and message, for the
// "input" template.
type inputField struct {
	Name, Label, Value, Error, Hint string
	Type, Autocomplete, List        string
	Min, Max                        string
	Required                        bool
}

// input describes a field of f for the "input" template. Options are
// "required", "type=…", "autocomplete=…", "list=…" (a datalist id),
// "min=…", "max=…" and "hint=…" (a message id).
func input(p *page, f *form, name, labelID string, opts ...string) inputField {
	in := inputField{Name: name, Label: p.T(labelID), Value: f.V(name), Error: f.E(name), Type: "text"}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "required":
			in.Required = true
		case "type":
			in.Type = v
		case "autocomplete":
			in.Autocomplete = v
		case "list":
			in.List = v
		case "min":
			in.Min = v
		case "max":
			in.Max = v
		case "hint":
			in.Hint = p.T(v)
		}
	}
	if in.Type == "password" {
		in.Value = "" // a password is never sent back to the browser
	}
	return in
}

// parseCount reads a whole number typed into a form; blank is zero.
func parseCount(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// retryAfter is the Retry-After header value for d, in whole seconds.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
