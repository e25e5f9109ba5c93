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
// (R-MIN4); rehabilitation plans due for review; then the patients with an
// open alert or a flag not yet answered (R-ALERT-DUE), and those handed back
// by a hospital (R-DISCHARGE).
var worklistKinds = []string{"overdue", "due", "lost", "below_min", "plan_review", "alert", "discharge"}

// countOf is the size of worklist k in c.
func countOf(c *care.WorklistCounts, k string) int {
	return map[string]int{"due": c.Due, "overdue": c.Overdue, "lost": c.Lost, "below_min": c.BelowMin, "plan_review": c.PlanReview,
		"alert": c.Alert, "discharge": c.Discharge}[k]
}

// contactsKind is the tab of residents' contact requests, beside the
// worklists of patients, for the roles that handle them.
const contactsKind = "contact_requests"

type worklistTab struct {
	Kind, Href, Label string
	Count             string // "" when not counted
	Current           bool
}

// worklistTabs are the tabs of the worklist pages: the four worklists and,
// for the roles that handle them, residents' contact requests. Each shows
// its size when the lists are as of today, counted in one read for the
// unit filtered on; if that cannot be counted the tabs go without.
func (s *server) worklistTabs(r *http.Request, p *page, current, orgUnit, asOf string) []worklistTab {
	var counts *care.WorklistCounts
	if asOf == "" || asOf == s.today() {
		counts, _ = s.svc.WorklistCounts(r.Context(), orgUnit)
	}
	n := func(k int) string {
		if counts == nil {
			return ""
		}
		return p.Num(int64(k))
	}
	var tabs []worklistTab
	f := newForm(nil, worklistFilterFields...)
	f.set("org_unit", orgUnit)
	f.set("as_of", asOf)
	for _, k := range worklistKinds {
		t := worklistTab{Kind: k, Href: worklistURL(k, f, ""), Label: p.Enum("worklist", k), Current: k == current}
		if counts != nil {
			t.Count = n(countOf(counts, k))
		}
		tabs = append(tabs, t)
	}
	if may(p.User, care.ReadContacts) {
		t := worklistTab{Kind: contactsKind, Href: contactsURL("", orgUnit, ""), Label: p.T("contacts.tab"),
			Current: current == contactsKind}
		if counts != nil {
			t.Count = n(counts.Contacts)
		}
		tabs = append(tabs, t)
	}
	if t, ok := s.lateReferralsTab(r, p); ok {
		tabs = append(tabs, t)
	}
	return tabs
}

type worklistData struct {
	Kind        string
	Tabs        []worklistTab
	Items       []care.WorklistItem
	Filter      *form
	NextURL     string
	Units       []care.Unit
	CanFollowUp bool
	// Safety is the care group's view: no classification column.
	Safety bool
	// Overdue is whether any patient listed is overdue: a list of patients
	// due this week, or of open alerts, has no days-overdue column that
	// would stand blank.
	Overdue bool
}

// UnitName names a community by its name, not its code, from the units
// the user may choose (their jurisdiction); a code outside it stays as it is.
func (d worklistData) UnitName(code string) string {
	for _, u := range d.Units {
		if u.Code == code {
			return u.Name
		}
	}
	return code
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
			Fields: []care.FieldError{{Field: "kind", Message: "must be due, overdue, lost, below_min, plan_review, alert or discharge"}}}
	}
	f := newForm(nil, worklistFilterFields...)
	for _, n := range worklistFilterFields {
		f.set(n, q.Get(n))
	}
	d := worklistData{Kind: kind, Filter: f, CanFollowUp: may(p.User, care.WriteFollowUp),
		Safety: care.PatientView(p.User.Role) == care.ViewSafety}
	d.Tabs = s.worklistTabs(r, p, kind, f.V("org_unit"), f.V("as_of"))
	items, next, err := s.svc.Worklist(r.Context(), care.WorklistQuery{Kind: kind, OrgUnit: f.V("org_unit"), AsOf: f.V("as_of")},
		care.Page{Token: q.Get("page_token")})
	status := http.StatusOK
	if err != nil {
		if status = p.formError(f, err); status == 0 {
			return err
		}
	}
	d.Items = items
	for _, it := range items {
		d.Overdue = d.Overdue || it.DaysOverdue > 0
	}
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
	var out []worklistCount
	for _, k := range worklistKinds {
		out = append(out, worklistCount{Kind: k, Href: "/worklist?kind=" + k, Count: strconv.Itoa(countOf(c, k))})
	}
	if may(care.ActorFrom(r.Context()), care.ReadContacts) {
		out = append(out, worklistCount{Kind: contactsKind, Href: "/worklist/contacts", Count: strconv.Itoa(c.Contacts)})
	}
	return out, nil
}
