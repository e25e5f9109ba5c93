package web

import (
	"cmp"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"kith/internal/care"
	"kith/internal/clinical/instrument"
)

// The staff pages of assessments (R-SCORE), alerts and residents' contact
// requests. Scores, bands and flags are the engine's, read from the
// service; the pages name them with the texts of the instrument's own
// definition, in the page's language.

// assessmentRoutes adds the staff pages of assessments, alerts and
// residents' contact requests.
func (s *server) assessmentRoutes(mux *http.ServeMux) {
	mux.Handle("GET /patients/{id}/assessments", s.handle(clinicians, s.assessmentHistory))
	mux.Handle("GET /patients/{id}/assessments/new", s.handle(clinicians, s.administerPage))
	mux.Handle("POST /patients/{id}/assessments/new", s.handle(clinicians, s.administer))

	mux.Handle("GET /alerts", s.handle(staff, s.alertsPage))
	mux.Handle("POST /alerts/{id}/acknowledge", s.handle(staff, s.acknowledgeAlert))

	mux.Handle("GET /worklist/contacts", s.handle(clinicians, s.contactsPage))
	mux.Handle("POST /worklist/contacts/{id}/outcome", s.handle(clinicians, s.recordContactOutcome))
}

// instrumentOrder is the order the pages list instruments in: the
// screening questionnaires first, the risk level last.
var instrumentOrder = []string{"phq9", "gad7", "k10", "sdss", "lifeskills", "adherence", "risk"}

// instruments returns the newest version of every instrument, in the
// pages' order.
func (s *server) instruments() []*instrument.Definition {
	all := s.svc.Instruments().All()
	rank := func(id string) int {
		if i := slices.Index(instrumentOrder, id); i >= 0 {
			return i
		}
		return len(instrumentOrder)
	}
	slices.SortStableFunc(all, func(a, b *instrument.Definition) int {
		return cmp.Or(cmp.Compare(rank(a.ID), rank(b.ID)), strings.Compare(a.ID, b.ID))
	})
	return all
}

// definition returns the version of an instrument a response was given
// on, or the newest when that version is gone.
func (s *server) definition(id string, version int) *instrument.Definition {
	c := s.svc.Instruments()
	if d := c.Version(id, version); d != nil {
		return d
	}
	return c.Latest(id)
}

// Txt shows a text of an instrument's definition in the page's language.
//
// The definitions' advice names the rules it follows, "(R-CLASS-BASIC)";
// the pages say rules in words only, so the identifiers are left out here.
func (p *page) Txt(t instrument.Text) string { return ruleRef.ReplaceAllString(t.In(p.Lang), "") }

// ruleRef is a rule identifier in brackets, in either script's brackets.
var ruleRef = regexp.MustCompile(` ?[(（]R-[A-Z0-9-]+[)）]`)

// bandLevel places a band on a scale of 0 (the lowest band) to 4 (the
// highest), whatever the number of bands, for its colour.
func bandLevel(d *instrument.Definition, key string) int {
	i := slices.IndexFunc(d.Bands, func(b instrument.Band) bool { return b.Key == key })
	if i <= 0 || len(d.Bands) < 2 {
		return 0
	}
	return i * 4 / (len(d.Bands) - 1)
}

// flagView is a flag named in the page's language.
type flagView struct {
	Key, Label string
	Alert      bool
}

func (p *page) flags(d *instrument.Definition, keys []string) []flagView {
	out := make([]flagView, 0, len(keys))
	for _, k := range keys {
		v := flagView{Key: k, Label: k}
		if d != nil {
			if f := d.Flag(k); f != nil {
				v.Label, v.Alert = p.Txt(f.Label), f.Alert
			}
		}
		out = append(out, v)
	}
	return out
}

// scoreView is an assessment as the pages show it.
type scoreView struct {
	ID                int64
	Instrument, Short string
	Date              string
	Score             int
	BandKey, Band     string
	BandLevel         int
	Flags             []flagView
	Author            string
	FollowUpID        *int64
	Alerted           bool
}

func (s *server) scoreView(p *page, as care.Assessment) scoreView {
	v := scoreView{ID: as.ID, Instrument: as.Instrument, Short: as.Instrument, Date: as.Date, Score: as.Score,
		BandKey: as.Band, Band: as.Band, Author: cmp.Or(as.AuthorName, as.Author), FollowUpID: as.FollowUpID, Alerted: as.AlertID != nil}
	d := s.definition(as.Instrument, as.Version)
	if d != nil {
		v.Short = p.Txt(d.Short)
		if b := d.Band(as.Band); b != nil {
			v.Band = p.Txt(b.Label)
		}
		v.BandLevel = bandLevel(d, as.Band)
	}
	v.Flags = p.flags(d, as.Flags)
	return v
}

// latestScores shows the newest assessment of each instrument, in the
// pages' order, for the record's summary.
func (s *server) latestScores(p *page, list []care.Assessment) []scoreView {
	var out []scoreView
	for _, d := range s.instruments() {
		for _, as := range list {
			if as.Instrument == d.ID {
				out = append(out, s.scoreView(p, as))
			}
		}
	}
	for _, as := range list { // an instrument no longer in the catalogue
		if s.svc.Instruments().Latest(as.Instrument) == nil {
			out = append(out, s.scoreView(p, as))
		}
	}
	return out
}

// instrumentTab links to a page about one instrument.
type instrumentTab struct {
	ID, Short, Title, Href string
	Current                bool
}

func (s *server) instrumentTabs(p *page, href func(id string) string, current string) []instrumentTab {
	var out []instrumentTab
	for _, d := range s.instruments() {
		out = append(out, instrumentTab{ID: d.ID, Short: p.Txt(d.Short), Title: p.Txt(d.Title), Href: href(d.ID),
			Current: d.ID == current})
	}
	return out
}

func assessmentsURL(patientID int64, instrumentID string, query ...string) string {
	v := url.Values{"instrument": {instrumentID}}
	for i := 0; i+1 < len(query); i += 2 {
		v.Set(query[i], query[i+1])
	}
	return patientURL(patientID) + "/assessments?" + v.Encode()
}

func administerURL(patientID int64, instrumentID string) string {
	return patientURL(patientID) + "/assessments/new?instrument=" + url.QueryEscape(instrumentID)
}

// The record's summary

// recordAssessments is the record page's part about assessments.
type recordAssessments struct {
	Show        bool // the role's view of the record includes assessments
	Latest      []scoreView
	OpenAlerts  int
	Instruments []instrumentTab // links to administer each
	CanAssess   bool
	CanAlerts   bool // the user is among those the alerts reach
}

func (s *server) recordAssessments(p *page, rec *care.Record) recordAssessments {
	v := care.PatientView(p.User.Role)
	d := recordAssessments{Show: v != care.ViewSafety && v != care.ViewNone}
	if !d.Show {
		return d
	}
	id := rec.Patient.ID
	d.Latest, d.OpenAlerts = s.latestScores(p, rec.Assessments), rec.OpenAlerts
	d.CanAssess, d.CanAlerts = may(p.User, care.Assess), may(p.User, care.ReadAlerts)
	d.Instruments = s.instrumentTabs(p, func(ins string) string { return administerURL(id, ins) }, "")
	return d
}

// Administering an instrument

// itemView is one item of an instrument's form.
type itemView struct {
	N             int    // from 1
	Name          string // answers[i]
	Text, Error   string
	Options       []choiceOption
	OwnOptions    bool // the item has options of its own
	InvalidAnswer bool
}

type administerData struct {
	Patient *care.Patient
	Def     *instrument.Definition
	Short   string
	Title   string
	Prompt  string
	Items   []itemView
	Form    *form
	Tabs    []instrumentTab
	Action  string
}

// answerFields names the form's fields for a definition: the date and an
// answer for each item, answers[i] as the service names them.
func answerFields(d *instrument.Definition) []string {
	names := []string{"date"}
	for i := range d.Items {
		names = append(names, answerField(i))
	}
	return names
}

func answerField(i int) string { return "answers[" + strconv.Itoa(i) + "]" }

// instrumentOf reads the instrument a page is about: ?instrument=, phq9 by
// default; an unknown one is a page that does not exist.
func (s *server) instrumentOf(r *http.Request) (*instrument.Definition, error) {
	id := r.URL.Query().Get("instrument")
	if id == "" {
		id = instrumentOrder[0]
	}
	d := s.svc.Instruments().Latest(id)
	if d == nil {
		return nil, errPageNotFound
	}
	return d, nil
}

func (s *server) renderAdminister(w http.ResponseWriter, p *page, status int, pt *care.Patient, d *instrument.Definition, f *form) error {
	data := administerData{Patient: pt, Def: d, Short: p.Txt(d.Short), Title: p.Txt(d.Title), Prompt: p.Txt(d.Prompt), Form: f,
		Action: administerURL(pt.ID, d.ID)}
	data.Tabs = s.instrumentTabs(p, func(ins string) string { return administerURL(pt.ID, ins) }, d.ID)
	for i, it := range d.Items {
		name := answerField(i)
		iv := itemView{N: i + 1, Name: name, Text: p.Txt(it.Text), Error: f.E(name), OwnOptions: len(it.Options) > 0}
		for _, o := range d.OptionsOf(it) {
			v := strconv.Itoa(o.Value)
			iv.Options = append(iv.Options, choiceOption{Value: v, Label: p.Txt(o.Text), Checked: f.V(name) == v})
		}
		data.Items = append(data.Items, iv)
	}
	return s.render(w, p, status, "assessment_form", data)
}

// administerPage shows an instrument's form for a patient.
func (s *server) administerPage(w http.ResponseWriter, r *http.Request, p *page) error {
	if !may(p.User, care.Assess) {
		return errNoRights
	}
	d, err := s.instrumentOf(r)
	if err != nil {
		return err
	}
	pt, err := s.loadPatient(r)
	if err != nil {
		return err
	}
	f := newForm(nil, answerFields(d)...)
	f.set("date", s.today())
	return s.renderAdminister(w, p, http.StatusOK, pt, d, f)
}

// administer scores and stores the answers. An item left unanswered is
// named beside it without asking the service; the service's own messages
// land beside the item they are about (answers[i]).
func (s *server) administer(w http.ResponseWriter, r *http.Request, p *page) error {
	if !may(p.User, care.Assess) {
		return errNoRights
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.instrumentOf(r)
	if err != nil {
		return err
	}
	f := newForm(r, answerFields(d)...)
	in := care.AssessmentInput{Instrument: d.ID, Date: f.V("date"), Answers: make([]int, len(d.Items))}
	for i := range d.Items {
		name := answerField(i)
		n, err := strconv.Atoi(f.V(name))
		if err != nil {
			f.fieldError(p, name, "choose one")
			continue
		}
		in.Answers[i] = n
	}
	again := func(status int) error {
		pt, err := s.loadPatient(r)
		if err != nil {
			return err
		}
		return s.renderAdminister(w, p, status, pt, d, f)
	}
	if f.Failed() {
		return again(http.StatusUnprocessableEntity)
	}
	as, err := s.svc.Assess(r.Context(), id, in)
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return again(status)
	}
	http.Redirect(w, r, assessmentsURL(id, d.ID, "recorded", strconv.FormatInt(as.ID, 10)), http.StatusSeeOther)
	return nil
}

// The history of one instrument

// bandView is a band of an instrument, for the legend of the chart.
type bandView struct {
	Label    string
	Min, Max int
	Level    int
}

type historyData struct {
	Patient    *care.Patient
	Short      string
	Title      string
	ID         string // the instrument's
	Tabs       []instrumentTab
	Rows       []scoreView
	Bands      []bandView
	Chart      string
	NextURL    string
	Recorded   *scoreView
	CanAssess  bool
	Administer string
}

// assessmentHistory lists a patient's assessments with one instrument,
// newest first, page by page, with their trend: the scores of the page,
// oldest first, against the instrument's bands.
func (s *server) assessmentHistory(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.instrumentOf(r)
	if err != nil {
		return err
	}
	pt, err := s.loadPatient(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, next, err := s.svc.Assessments(r.Context(), pt.ID, care.AssessmentQuery{Instrument: d.ID}, care.Page{Token: q.Get("page_token")})
	if err != nil {
		return err
	}
	h := historyData{Patient: pt, Short: p.Txt(d.Short), Title: p.Txt(d.Title), ID: d.ID, CanAssess: may(p.User, care.Assess),
		Administer: administerURL(pt.ID, d.ID)}
	h.Tabs = s.instrumentTabs(p, func(ins string) string { return assessmentsURL(pt.ID, ins) }, d.ID)
	for _, as := range list {
		h.Rows = append(h.Rows, s.scoreView(p, as))
	}
	if next != "" {
		h.NextURL = assessmentsURL(pt.ID, d.ID, "page_token", next)
	}
	for _, b := range d.Bands {
		h.Bands = append(h.Bands, bandView{Label: p.Txt(b.Label), Min: b.Min, Max: b.Max, Level: bandLevel(d, b.Key)})
	}
	// The confirmation names only a response shown on the page.
	if rid, err := strconv.ParseInt(q.Get("recorded"), 10, 64); err == nil {
		for i := range h.Rows {
			if h.Rows[i].ID == rid {
				h.Recorded = &h.Rows[i]
			}
		}
	}
	if len(list) > 0 {
		if h.Chart, err = p.scoreChart(d, h.Short, list); err != nil {
			return err
		}
	}
	return s.render(w, p, http.StatusOK, "assessments", h)
}

// scoreChart is the trend of the scores for kith.js: a line, oldest first,
// on the scale of the instrument's totals, with a dashed line where each
// band above the lowest begins.
func (p *page) scoreChart(d *instrument.Definition, short string, newestFirst []care.Assessment) (string, error) {
	lo, hi := float64(d.MinScore), float64(d.MaxScore)
	zero := 0
	c := figureChart{Type: "line", Min: &lo, Max: &hi, Decimals: &zero}
	series := chartSeries{Label: short, Colour: "#1f5fa8"}
	for i := len(newestFirst) - 1; i >= 0; i-- {
		as := newestFirst[i]
		v := float64(as.Score)
		c.Labels = append(c.Labels, as.Date)
		series.Data = append(series.Data, &v)
	}
	c.Series = []chartSeries{series}
	for _, b := range d.Bands {
		if b.Min > d.MinScore {
			c.Lines = append(c.Lines, chartLine{Label: p.Txt(b.Label), Value: float64(b.Min)})
		}
	}
	return chartJSON(c)
}

// Alerts

// alertView is an alert as the pages show it, with the acknowledgement
// typed into its form when that failed.
type alertView struct {
	care.Alert
	Short string
	Flags []flagView
	Draft string // what was done, as typed
	Error string
}

func (s *server) alertViews(p *page, list []care.Alert) []alertView {
	out := make([]alertView, len(list))
	for i, al := range list {
		v := alertView{Alert: al, Short: al.Instrument}
		d := s.svc.Instruments().Latest(al.Instrument)
		if d != nil {
			v.Short = p.Txt(d.Short)
		}
		v.Flags = p.flags(d, al.Flags)
		out[i] = v
	}
	return out
}

// homeAlerts is the home page's list of the open alerts that reach the
// user, newest first.
type homeAlerts struct {
	alertList
	Count   int
	More    bool
	Message string // about an acknowledgement that failed, translated
}

// alertList is what the "alertlist" template shows: alerts, each open one
// with its form, and the page they are on ("alerts" for the list of
// alerts, "" for the home page).
type alertList struct {
	P    *page
	List []alertView
	From string
}

// homeAlerts reads the open alerts for the home page of a user they reach;
// nil for the others.
func (s *server) homeAlerts(r *http.Request, p *page) (*homeAlerts, error) {
	if !may(p.User, care.ReadAlerts) {
		return nil, nil
	}
	list, next, err := s.svc.Alerts(r.Context(), care.AlertQuery{}, care.Page{})
	if err != nil {
		return nil, err
	}
	h := &homeAlerts{alertList: alertList{P: p, List: s.alertViews(p, list)}, Count: len(list), More: next != ""}
	if h.More {
		if h.Count, err = s.svc.OpenAlertCount(r.Context()); err != nil {
			return nil, err
		}
	}
	return h, nil
}

var alertStates = []string{"open", "acknowledged", "all"}

type stateTab struct {
	State, Label, Href string
	Current            bool
}

type alertsData struct {
	alertList
	State     string
	Tabs      []stateTab
	NextURL   string
	PatientID int64
	Message   string
}

func alertsURL(state string, patientID int64, token string) string {
	v := url.Values{}
	if state != "open" {
		v.Set("state", state)
	}
	if patientID != 0 {
		v.Set("patient", strconv.FormatInt(patientID, 10))
	}
	if token != "" {
		v.Set("page_token", token)
	}
	if len(v) == 0 {
		return "/alerts"
	}
	return "/alerts?" + v.Encode()
}

// alertsPage lists the alerts that reach the user: the open ones (with the
// form to acknowledge each), the acknowledged ones with who acknowledged
// them, when and what was done, or all; of one patient with ?patient=.
func (s *server) alertsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.alertsData(r, p)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("acknowledged") {
		p.Flash = p.T("alerts.acknowledged")
	}
	return s.render(w, p, http.StatusOK, "alerts", d)
}

func (s *server) alertsData(r *http.Request, p *page) (*alertsData, error) {
	if !may(p.User, care.ReadAlerts) {
		return nil, errNoRights
	}
	q := r.URL.Query()
	d := &alertsData{State: cmp.Or(q.Get("state"), "open"), alertList: alertList{P: p, From: "alerts"}}
	if v := q.Get("patient"); v != "" {
		id, ok := care.ParseID(v)
		if !ok {
			return nil, errPageNotFound
		}
		d.PatientID = id
	}
	list, next, err := s.svc.Alerts(r.Context(), care.AlertQuery{State: d.State, PatientID: d.PatientID},
		care.Page{Token: q.Get("page_token")})
	if err != nil {
		return nil, err
	}
	for _, st := range alertStates {
		d.Tabs = append(d.Tabs, stateTab{State: st, Label: p.T("alerts.state." + st), Href: alertsURL(st, d.PatientID, ""),
			Current: st == d.State})
	}
	d.List = s.alertViews(p, list)
	if next != "" {
		d.NextURL = alertsURL(d.State, d.PatientID, next)
	}
	return d, nil
}

// acknowledgeAlert closes an alert with what was done. Sent from the home
// page it returns there; from the list of alerts, to the list. A refusal
// shows the page again with the message beside the alert's form.
func (s *server) acknowledgeAlert(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	fromList := r.PostFormValue("from") == "alerts"
	f := newForm(r, "action")
	_, err = s.svc.AcknowledgeAlert(r.Context(), id, care.AckInput{Action: f.V("action")})
	if err == nil {
		back := "/?acknowledged=1"
		if fromList {
			back = "/alerts?acknowledged=1"
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	status := p.formError(f, err)
	if status == 0 {
		return err
	}
	msg := cmp.Or(f.E("action"), f.Message)
	// Show the form again in the list it came from, marked.
	mark := func(list []alertView) bool {
		for i := range list {
			if list[i].ID == id {
				list[i].Draft, list[i].Error = f.V("action"), msg
				return true
			}
		}
		return false
	}
	if fromList {
		r.URL.RawQuery = ""
		p.Path = "/alerts"
		d, err := s.alertsData(r, p)
		if err != nil {
			return err
		}
		if !mark(d.List) {
			d.Message = msg
		}
		return s.render(w, p, status, "alerts", d)
	}
	p.Path = "/"
	d, err := s.homeData(r, p)
	if err != nil {
		return err
	}
	if d.Alerts == nil || !mark(d.Alerts.List) {
		if d.Alerts == nil {
			d.Alerts = &homeAlerts{}
		}
		d.Alerts.Message = msg
	}
	return s.render(w, p, status, "home", d)
}

// navAlerts adds the alerts to the navigation of a user they reach, with
// the number open as a badge. The count is one indexed query; if it fails
// the badge is left out, not the page.
func (s *server) navAlerts(r *http.Request, p *page) {
	if p.User == nil || !may(p.User, care.ReadAlerts) {
		return
	}
	item := navItem{Href: "/alerts", Label: p.T("alerts.nav")}
	if n, err := s.svc.OpenAlertCount(r.Context()); err == nil && n > 0 {
		item.Badge = strconv.Itoa(n)
		item.BadgeLabel = p.TN("alerts.open.count", n)
	}
	p.Nav = append(p.Nav, item)
}

// Residents' contact requests

// contactView is a contact request as the worklist shows it, with the
// outcome typed into its form when that failed.
type contactView struct {
	care.ContactRequest
	Short, Band  string
	BandLevel    int
	Flags        []string // labels of the screening's flags, such as thoughts of self-harm
	OutcomeLabel string
	Outcomes     []choiceOption
	Note         string
	Error        string
	NoteError    string
	// Patient is the number of the record registered, typed with the
	// outcome "registered".
	Patient      string
	PatientError string
}

type contactsData struct {
	Tabs     []worklistTab
	States   []stateTab
	State    string
	Filter   *form
	Units    []care.Unit
	Items    []contactView
	NextURL  string
	CanWrite bool
	Message  string
}

var contactStates = []string{"open", "closed", "all"}

func contactsURL(state, orgUnit, token string) string {
	v := url.Values{}
	if state != "" && state != "open" {
		v.Set("state", state)
	}
	if orgUnit != "" {
		v.Set("org_unit", orgUnit)
	}
	if token != "" {
		v.Set("page_token", token)
	}
	if len(v) == 0 {
		return "/worklist/contacts"
	}
	return "/worklist/contacts?" + v.Encode()
}

func (s *server) contactViews(p *page, list []care.ContactRequest) []contactView {
	out := make([]contactView, len(list))
	for i, c := range list {
		v := contactView{ContactRequest: c}
		if c.Outcome != "" {
			v.OutcomeLabel = p.T("contacts.outcome." + c.Outcome)
		}
		if sc := c.Screening; sc != nil {
			v.Short, v.Band = sc.Instrument, sc.Band
			if d := s.definition(sc.Instrument, sc.Version); d != nil {
				v.Short = p.Txt(d.Short)
				if b := d.Band(sc.Band); b != nil {
					v.Band = p.Txt(b.Label)
				}
				v.BandLevel = bandLevel(d, sc.Band)
				for _, k := range sc.Flags {
					if f := d.Flag(k); f != nil {
						v.Flags = append(v.Flags, p.Txt(f.Label))
					}
				}
			}
		}
		v.Outcomes = outcomeOptions(p, "")
		out[i] = v
	}
	return out
}

func outcomeOptions(p *page, chosen string) []choiceOption {
	out := make([]choiceOption, len(care.ContactOutcomes))
	for i, o := range care.ContactOutcomes {
		out[i] = choiceOption{Value: o, Label: p.T("contacts.outcome." + o), Checked: o == chosen}
	}
	return out
}

// contactsPage is the worklist of residents' contact requests: the open
// ones by default, urgent first (a screening with a flag such as PHQ-9
// item 9), then oldest first, each with the form to record what came of it.
func (s *server) contactsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, status, err := s.contactsData(r, p)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("saved") {
		p.Flash = p.T("contacts.saved")
	}
	return s.render(w, p, status, "contacts", d)
}

func (s *server) contactsData(r *http.Request, p *page) (*contactsData, int, error) {
	q := r.URL.Query()
	f := newForm(nil, "org_unit", "state")
	f.set("org_unit", strings.TrimSpace(q.Get("org_unit")))
	f.set("state", cmp.Or(q.Get("state"), "open"))
	d := &contactsData{Filter: f, State: f.V("state"), CanWrite: may(p.User, care.WriteContacts)}
	status := http.StatusOK
	list, next, err := s.svc.ContactRequests(r.Context(), care.ContactQuery{State: d.State, OrgUnit: f.V("org_unit")},
		care.Page{Token: q.Get("page_token")})
	if err != nil {
		if status = p.formError(f, err); status == 0 {
			return nil, 0, err
		}
	}
	d.Items = s.contactViews(p, list)
	if next != "" {
		d.NextURL = contactsURL(d.State, f.V("org_unit"), next)
	}
	for _, st := range contactStates {
		d.States = append(d.States, stateTab{State: st, Label: p.T("contacts.state." + st),
			Href: contactsURL(st, f.V("org_unit"), ""), Current: st == d.State})
	}
	d.Tabs = s.worklistTabs(r, p, contactsKind, f.V("org_unit"), "")
	if d.Units, err = s.unitsOf(r); err != nil {
		return nil, 0, err
	}
	return d, status, nil
}

// recordContactOutcome closes a contact request with its outcome and goes
// back to the list; a refusal shows the list again with the message beside
// the request's form.
func (s *server) recordContactOutcome(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, "outcome", "note", "patient_id", "org_unit", "state")
	in := care.ContactOutcome{Outcome: f.V("outcome"), Note: f.V("note")}
	if v := strings.TrimPrefix(f.V("patient_id"), "#"); v != "" {
		if n, perr := strconv.ParseInt(v, 10, 64); perr == nil && n > 0 {
			in.PatientID = &n
		} else {
			f.fieldError(p, "patient_id", "must be the number of the patient's record")
		}
	}
	switch {
	case f.V("outcome") == "":
		f.fieldError(p, "outcome", "choose one")
	case f.E("patient_id") != "":
	default:
		_, err = s.svc.RecordContactOutcome(r.Context(), id, in)
		if err == nil {
			back := contactsURL(f.V("state"), f.V("org_unit"), "")
			if strings.Contains(back, "?") {
				back += "&saved=1"
			} else {
				back += "?saved=1"
			}
			http.Redirect(w, r, back, http.StatusSeeOther)
			return nil
		}
	}
	status := http.StatusUnprocessableEntity
	if err != nil {
		if status = p.formError(f, err); status == 0 {
			return err
		}
	}
	// The list as it was: its filter came with the form.
	r.URL.RawQuery = url.Values{"org_unit": {f.V("org_unit")}, "state": {f.V("state")}}.Encode()
	p.Path = "/worklist/contacts"
	d, _, err := s.contactsData(r, p)
	if err != nil {
		return err
	}
	msg := cmp.Or(f.E("outcome"), f.Message)
	for i := range d.Items {
		if d.Items[i].ID == id {
			c := &d.Items[i]
			c.Outcomes, c.Note, c.Patient = outcomeOptions(p, f.V("outcome")), f.V("note"), f.V("patient_id")
			c.Error, c.NoteError, c.PatientError = f.E("outcome"), f.E("note"), f.E("patient_id")
			if c.Error == "" && c.NoteError == "" && c.PatientError == "" {
				c.Error = msg
			}
			msg = ""
		}
	}
	d.Message = msg
	return s.render(w, p, status, "contacts", d)
}

// Self-screenings on the figures dashboard

type screeningGroup struct {
	Short, Title string
	Rows         []screeningRow
	Total        string
}

type screeningRow struct {
	Label, Count string
	Level        int
}

type screeningData struct {
	Groups []screeningGroup
	Total  int
}

// screeningView shows the counts of the anonymous self-screenings of a unit's
// communities in a period by instrument and band, every band of each
// instrument offered to residents shown, with the band names of the
// newest definition.
func (s *server) screeningView(p *page, counts []care.ScreeningCount) *screeningData {
	n := map[[2]string]int{}
	used := map[string]bool{}
	for _, c := range counts {
		n[[2]string{c.Instrument, c.Band}] += c.Count
		used[c.Instrument] = true
	}
	out := &screeningData{}
	for _, d := range s.instruments() {
		if !d.Public && !used[d.ID] {
			continue
		}
		g := screeningGroup{Short: p.Txt(d.Short), Title: p.Txt(d.Title)}
		total := 0
		for _, b := range d.Bands {
			k := [2]string{d.ID, b.Key}
			g.Rows = append(g.Rows, screeningRow{Label: p.Txt(b.Label), Count: p.Num(int64(n[k])), Level: bandLevel(d, b.Key)})
			total += n[k]
			delete(n, k)
		}
		for _, c := range counts { // bands of an older version, by key
			k := [2]string{c.Instrument, c.Band}
			if c.Instrument == d.ID && n[k] > 0 {
				g.Rows = append(g.Rows, screeningRow{Label: c.Band, Count: p.Num(int64(n[k]))})
				total += n[k]
				delete(n, k)
			}
		}
		g.Total = p.Num(int64(total))
		out.Total += total
		out.Groups = append(out.Groups, g)
	}
	return out
}
