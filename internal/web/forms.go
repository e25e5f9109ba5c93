package web

import (
	"errors"
	"net/http"
	"slices"
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
	// lists holds the fields that take several values, such as a group of
	// checkboxes.
	lists map[string][]string
	// Message is about the form as a whole; Other holds messages about
	// fields the form does not show. Both are translated.
	Message string
	Other   []string
	// order and labels keep the fields with a message in the order they
	// came and their labels, for the error summary's links (Links).
	order  []string
	labels map[string]string
}

// fieldLink is one line of a form's error summary: a link to the field.
type fieldLink struct{ ID, Label, Message string }

// Links lists the form's field messages in the order they came, each with
// the id of its field (#f-NAME), for the summary at the top of the form.
func (f *form) Links() []fieldLink {
	var out []fieldLink
	for _, n := range f.order {
		if msg := f.errors[n]; msg != "" {
			out = append(out, fieldLink{ID: "f-" + n, Label: f.labels[n], Message: msg})
		}
	}
	return out
}

// noteField remembers a field with a message and its label, for Links.
func (f *form) noteField(p *page, name string) {
	if f.labels == nil {
		f.labels = map[string]string{}
	}
	if _, ok := f.labels[name]; !ok {
		f.order = append(f.order, name)
	}
	f.labels[name] = p.linkLabel(name)
}

// linkLabel names a field of a form in the page's language, for the error
// summary: its own label, or that of its row or area.
func (p *page) linkLabel(name string) string {
	if l := p.lookup("field."+name, ""); l != "" {
		return l
	}
	list, rest, _ := strings.Cut(name, ".")
	if i := strings.IndexByte(list, '['); i > 0 {
		// medications[1].dose → field.medication.dose
		if l := p.lookup("field."+strings.TrimSuffix(list[:i], "s")+"."+rest, ""); l != "" {
			return l
		}
		return p.lookup("field."+list[:i], "")
	}
	switch list {
	case "social_function":
		return p.Enum("area", rest)
	case "dangerous_behaviour":
		return p.Enum("danger", rest)
	}
	return ""
}

// newForm returns a form with the named fields, filled from the request's
// form values when r is not nil.
func newForm(r *http.Request, names ...string) *form {
	f := &form{values: make(map[string]string, len(names)), errors: make(map[string]string), lists: make(map[string][]string)}
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

// multi adds fields that take several values, filled from the request's
// form values when r is not nil.
func (f *form) multi(r *http.Request, names ...string) *form {
	for _, n := range names {
		f.lists[n] = nil
		if r != nil {
			f.lists[n] = r.PostForm[n]
		}
	}
	return f
}

// L returns the values of a field that takes several.
func (f *form) L(name string) []string { return f.lists[name] }

// Has reports whether a field that takes several values has v among them.
func (f *form) Has(name, v string) bool { return slices.Contains(f.lists[name], v) }

// setList gives a field that takes several values its values.
func (f *form) setList(name string, vs []string) { f.lists[name] = vs }

// fieldError records a message of the web layer's own about a field.
func (f *form) fieldError(p *page, name, msg string) {
	f.errors[name] = p.Msg(msg)
	f.noteField(p, name)
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
		// A message about one value of a list (symptoms[2]) belongs to the list.
		name := fe.Field
		if i := strings.IndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") {
			if _, ok := f.lists[name[:i]]; ok {
				name = name[:i]
			}
		}
		if _, ok := f.lists[name]; ok {
			f.errors[name] = p.Msg(fe.Message)
			f.noteField(p, name)
		} else if _, ok := f.values[name]; ok {
			f.errors[fe.Field] = p.Msg(fe.Message)
			f.noteField(p, fe.Field)
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
	Min, Max, Step                  string
	Required                        bool
}

// input describes a field of f for the "input" template. Options are
// "required", "type=…", "autocomplete=…", "list=…" (a datalist id),
// "min=…", "max=…", "step=…" and "hint=…" (a message id).
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
		case "step":
			in.Step = v
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

// choiceField is a labelled choice among the values of a clinical
// enumeration, for the "select", "radios" and "checks" templates.
type choiceField struct {
	Name, Label, Error, Hint string
	Blank                    string // the label of the empty option of a select
	Required                 bool
	Options                  []choiceOption
}

type choiceOption struct {
	Value, Label string
	Checked      bool
}

// choice describes a field of f whose values are those of the enumeration
// kind (see enumValues), each named in the page's language. Options are
// "required", "hint=…" (a message id) and "blank=…" (a message id naming the
// empty option; "form.choose" by default).
func choice(p *page, f *form, name, labelID, kind string, opts ...string) choiceField {
	c := choiceField{Name: name, Label: p.T(labelID), Error: f.E(name), Blank: p.T("form.choose"),
		Options: options(p, f, name, kind)}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "required":
			c.Required = true
		case "hint":
			c.Hint = p.T(v)
		case "blank":
			c.Blank = p.T(v)
		}
	}
	return c
}

// options lists the values of the enumeration kind as options of the field
// name of f, the ones f holds checked.
func options(p *page, f *form, name, kind string) []choiceOption {
	values := enumValues[kind]
	out := make([]choiceOption, len(values))
	for i, v := range values {
		checked := f.V(name) == v
		if _, ok := f.lists[name]; ok {
			checked = f.Has(name, v)
		}
		label := p.Enum(kind, v)
		switch kind {
		case "diagnosis":
			label = p.Diagnosis(v)
		case "risk":
			label = v + " — " + p.RiskLevelText(v)
		}
		out[i] = choiceOption{Value: v, Label: label, Checked: checked}
	}
	return out
}

// unanswered replaces the service's message about each named choice left
// empty (such as "must be none, some or obvious", which names the API's
// words) with one that asks to choose.
func unanswered(p *page, f *form, names ...string) {
	for _, n := range names {
		if f.V(n) == "" && f.E(n) != "" {
			f.errors[n] = p.Msg("choose one")
		}
	}
}

// renumber rewrites the row numbers in the field names of a service error
// about a list, such as medications[1].name, from the position in the list
// sent to the row of the form the item came from: the form leaves out empty
// rows. rows[i] is the form row of the list's item i.
func renumber(err error, list string, rows []int) {
	var ce *care.Error
	if !errors.As(err, &ce) {
		return
	}
	for i, fe := range ce.Fields {
		rest, ok := strings.CutPrefix(fe.Field, list+"[")
		if !ok {
			continue
		}
		n, tail, ok := strings.Cut(rest, "]")
		k, err := strconv.Atoi(n)
		if !ok || err != nil || k < 0 || k >= len(rows) {
			continue
		}
		ce.Fields[i].Field = list + "[" + strconv.Itoa(rows[k]) + "]" + tail
	}
}

// rowName names a field of a repeated row, such as medications[2].dose.
func rowName(list string, i int, field string) string {
	return list + "[" + strconv.Itoa(i) + "]." + field
}

// rowCount reads how many rows of a repeated group a posted form had, from
// its hidden field; at least lo and at most hi.
func rowCount(r *http.Request, name string, lo, hi int) int {
	n, err := strconv.Atoi(r.PostFormValue(name))
	if err != nil || n < lo {
		return lo
	}
	return min(n, hi)
}

// yesNo reads a yes/no choice: nil when neither was chosen.
func yesNo(v string) *bool {
	switch v {
	case "yes":
		t := true
		return &t
	case "no":
		f := false
		return &f
	}
	return nil
}

// yesNoValue is the form value of a yes/no choice.
func yesNoValue(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
