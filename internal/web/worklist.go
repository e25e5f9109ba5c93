package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"kith/internal/care"
)

// worklistKinds are the worklists in the order of their tabs: overdue
// (R-OVERDUE) first, as the most urgent, then due in the next 7 days, lost
// to follow-up (R-LOST) and fewer than 4 reached follow-ups this year
// (R-MIN4).
var worklistKinds = []string{"overdue", "due", "lost", "below_min"}

type worklistTab struct {
	Kind, Href string
	Current    bool
}

type worklistData struct {
	Kind        string
	Tabs        []worklistTab
	Items       []care.WorklistItem
	Filter      *form
	NextURL     string
	Units       []care.Unit
	CanFollowUp bool
}

var worklistFilterFields = []string{"as_of", "org_unit"}

// worklistURL is the address of a worklist with the filter's values.
func worklistURL(kind string, f *form, token string) string {
	v := url.Values{"kind": {kind}}
	for _, n := range worklistFilterFields {
		if f.V(n) != "" {
			v.Set(n, f.V(n))
		}
	}
	if token != "" {
		v.Set("page_token", token)
	}
	return "/worklist?" + v.Encode()
}

// worklist shows one of the worklists of the user's jurisdiction, most
// urgent first as the service sorts it: highest last risk level, then
// earliest due date. Each row leads in one click to the follow-up form.
func (s *server) worklist(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	kind := q.Get("kind")
	switch {
	case kind == "":
		kind = worklistKinds[0]
	case !slices.Contains(worklistKinds, kind):
		return &care.Error{Kind: care.Invalid, Message: "please correct the fields shown",
			Fields: []care.FieldError{{Field: "kind", Message: "must be due, overdue, lost or below_min"}}}
	}
	f := newForm(nil, worklistFilterFields...)
	for _, n := range worklistFilterFields {
		f.set(n, q.Get(n))
	}
	d := worklistData{Kind: kind, Filter: f, CanFollowUp: may(p.User, care.WriteFollowUp)}
	for _, k := range worklistKinds {
		d.Tabs = append(d.Tabs, worklistTab{Kind: k, Href: worklistURL(k, f, ""), Current: k == kind})
	}
	items, next, err := s.svc.Worklist(r.Context(), care.WorklistQuery{Kind: kind, OrgUnit: f.V("org_unit"), AsOf: f.V("as_of")},
		care.Page{Token: q.Get("page_token")})
	status := http.StatusOK
	if err != nil {
		if status = p.formError(f, err); status == 0 {
			return err
		}
	}
	d.Items = items
	if next != "" {
		d.NextURL = worklistURL(kind, f, next)
	}
	if d.Units, err = s.unitsOf(r); err != nil {
		return err
	}
	return s.render(w, p, status, "worklist", d)
}

// worklistCount is one worklist's size on the home page.
type worklistCount struct {
	Kind, Href, Count string
}

// worklistCounts counts the user's worklists for the home page, in one
// read.
func (s *server) worklistCounts(r *http.Request) ([]worklistCount, error) {
	c, err := s.svc.WorklistCounts(r.Context(), "")
	if err != nil {
		return nil, err
	}
	n := map[string]int{"due": c.Due, "overdue": c.Overdue, "lost": c.Lost, "below_min": c.BelowMin}
	var out []worklistCount
	for _, k := range worklistKinds {
		out = append(out, worklistCount{Kind: k, Href: "/worklist?kind=" + k, Count: strconv.Itoa(n[k])})
	}
	return out, nil
}
