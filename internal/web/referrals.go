package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
	"kith/internal/clinical"
)

// Referrals between community and hospital, and the crisis log (issue 12):
// the referral inbox and outbox, one referral with its summary and the
// buttons that move it on, the forms that refer a patient up and hand a
// discharged one down, and the crisis form, made to be filled in on a phone.

func init() {
	enumValues["urgency"] = clinical.ReferralUrgencies
	enumValues["refoutcome"] = care.RefOutcomes
	enumValues["reporter"] = clinical.CrisisReporters
	enumValues["crisisaction"] = clinical.CrisisActions
	enumValues["refstatus"] = care.RefStatuses
	enumValues["refdir"] = []string{"up", "down"}
	enumValues["alertkind"] = care.AlertKinds
}

func (s *server) referralRoutes(mux *http.ServeMux) {
	mux.Handle("GET /referrals", s.handle(clinicians, s.referrals))
	mux.Handle("GET /referrals/{id}", s.handle(clinicians, s.referral))
	mux.Handle("POST /referrals/{id}", s.handle(clinicians, s.moveReferral))
	mux.Handle("GET /patients/{id}/referrals/new", s.handle(clinicians, s.newReferral))
	mux.Handle("POST /patients/{id}/referrals", s.handle(clinicians, s.createReferral))
	mux.Handle("GET /patients/{id}/discharge/new", s.handle(clinicians, s.newDischarge))
	mux.Handle("POST /patients/{id}/discharge", s.handle(clinicians, s.createDischarge))
	mux.Handle("GET /crisis", s.handle(clinicians, s.crisisList))
	mux.Handle("GET /crisis/new", s.handle(clinicians, s.newCrisis))
	mux.Handle("POST /crisis", s.handle(clinicians, s.logCrisis))
	mux.Handle("GET /crisis/{id}", s.handle(clinicians, s.crisisEvent))
}

// navReferrals adds the referrals to the menu while some received await an
// answer, with their number; otherwise they are a tab of the worklist (the
// menu must fit a phone's width).
func (s *server) navReferrals(r *http.Request, p *page) {
	if !may(p.User, care.WriteReferral) {
		return
	}
	if c, err := s.svc.ReferralCounts(r.Context()); err == nil && c.Received+c.Discharges > 0 {
		p.Nav = append(p.Nav, navItem{Href: "/referrals", Label: p.T("referral.nav"),
			Badge: strconv.Itoa(c.Received + c.Discharges), BadgeLabel: p.T("referral.nav.badge")})
	}
}

// recordReferral is what the record page offers about referrals.
type recordReferral struct {
	Under, Refer, Discharge, Crisis bool
}

func (s *server) recordReferral(p *page, rec *care.Record, closed bool) recordReferral {
	v := recordReferral{Under: rec.UnderReferral}
	v.Refer = !rec.UnderReferral && !rec.UnderGlass && !closed && may(p.User, care.WriteReferral)
	v.Discharge = rec.UnderReferral && may(p.User, care.WriteReferral)
	v.Crisis = !rec.UnderReferral && !rec.UnderGlass && !closed && may(p.User, care.WriteCrisis)
	return v
}

// homeReferrals is the home page's box of referrals awaiting the user's
// unit: how many, and those past their target.
type homeReferrals struct {
	Counts *care.ReferralCounts
	Late   []care.HospitalReferral
}

func (s *server) homeReferrals(r *http.Request, p *page) (*homeReferrals, error) {
	if !may(p.User, care.WriteReferral) {
		return nil, nil
	}
	c, err := s.svc.ReferralCounts(r.Context())
	if err != nil || c.Received+c.Discharges == 0 {
		return nil, err
	}
	h := &homeReferrals{Counts: c}
	if c.PastTarget > 0 {
		if h.Late, _, err = s.svc.Referrals(r.Context(), care.ReferralQuery{Box: "received", PastTarget: true}, care.Page{Limit: 10}); err != nil {
			return nil, err
		}
	}
	return h, nil
}

type referralsData struct {
	Box, Status string
	PatientID   int64
	Span        url.Values // the figures' drill-down: org unit and period
	Tabs        []worklistTab
	Items       []care.HospitalReferral
	NextURL     string
	Filter      *form
}

// AnyUp is whether a referral listed goes up to a hospital, the only kind
// with an answer due by: a list of discharges alone drops that column
// rather than show it blank.
func (d referralsData) AnyUp() bool {
	for _, x := range d.Items {
		if x.Direction == "up" {
			return true
		}
	}
	return false
}

var referralBoxes = []string{"", "received", "sent", "late"}

// referrals lists the referrals sent to or about the user's unit: all,
// received (the inbox), sent, or received and past their target.
func (s *server) referrals(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	f := newForm(nil, "status", "direction")
	f.set("status", q.Get("status"))
	f.set("direction", q.Get("direction"))
	d := referralsData{Box: q.Get("box"), Filter: f}
	in := care.ReferralQuery{Box: d.Box, Status: f.V("status"), Direction: f.V("direction"), OrgUnit: q.Get("org_unit"),
		From: q.Get("from"), To: q.Get("to")}
	d.Span = url.Values{}
	for _, n := range []string{"org_unit", "from", "to"} {
		if v := q.Get(n); v != "" {
			d.Span.Set(n, v)
		}
	}
	if d.Box == "late" {
		in.Box, in.PastTarget = "received", true
	}
	if v := q.Get("patient_id"); v != "" {
		if id, ok := care.ParseID(v); ok {
			in.PatientID, d.PatientID = id, id
		}
	}
	for _, b := range referralBoxes {
		v := url.Values{}
		for k, vs := range d.Span {
			v[k] = vs
		}
		if b != "" {
			v.Set("box", b)
		}
		d.Tabs = append(d.Tabs, worklistTab{Kind: b, Href: "/referrals?" + v.Encode(), Label: p.T("referral.box." + boxName(b)),
			Current: b == d.Box})
	}
	items, next, err := s.svc.Referrals(r.Context(), in, care.Page{Token: q.Get("page_token")})
	status := http.StatusOK
	if err != nil {
		if status = p.formError(f, err); status == 0 {
			return err
		}
	}
	d.Items = items
	if next != "" {
		v := r.URL.Query()
		v.Set("page_token", next)
		d.NextURL = "/referrals?" + v.Encode()
	}
	return s.render(w, p, status, "referrals", d)
}

func boxName(b string) string {
	if b == "" {
		return "all"
	}
	return b
}

type referralData struct {
	Ref *care.HospitalReferral
	// What the user may do now: accept or decline, complete, cancel, hand
	// the patient back down.
	Answer, Complete, Cancel, Discharge bool
	Form                                *form
	Message                             string
}

// referral shows one referral with its summary and what the user may do.
func (s *server) referral(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	switch q := r.URL.Query(); {
	case q.Has("created"):
		p.Flash = p.T("referral.created")
	case q.Has("moved"):
		p.Flash = p.T("referral.moved." + q.Get("moved"))
	}
	return s.renderReferral(w, r, p, http.StatusOK, id, newForm(nil, "status", "note", "outcome"), "")
}

func (s *server) renderReferral(w http.ResponseWriter, r *http.Request, p *page, status int, id int64, f *form, msg string) error {
	ref, err := s.svc.Referral(r.Context(), id)
	if err != nil {
		return err
	}
	d := referralData{Ref: ref, Form: f, Message: msg}
	writer := may(p.User, care.WriteReferral)
	d.Answer = writer && ref.Received && ref.Status == care.RefRequested
	d.Complete = writer && ref.Received && ref.Status == care.RefAccepted
	d.Cancel = writer && ref.Sent && !ref.Received && ref.Status == care.RefRequested
	d.Discharge = writer && ref.Received && ref.Direction == "up" && (ref.Status == care.RefAccepted || ref.Status == care.RefCompleted)
	p.Path = "/referrals/" + strconv.FormatInt(id, 10)
	return s.render(w, p, status, "referral", d)
}

// moveReferral accepts, declines, completes or cancels a referral.
func (s *server) moveReferral(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, "status", "note", "outcome")
	_, err = s.svc.UpdateReferral(r.Context(), id, care.ReferralPatch{Status: f.V("status"), Note: f.V("note"), Outcome: f.V("outcome")})
	if err != nil {
		if care.ErrorKind(err) == care.Conflict {
			return s.renderReferral(w, r, p, http.StatusConflict, id, f, p.T("referral.conflict"))
		}
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		unanswered(p, f, "outcome")
		return s.renderReferral(w, r, p, status, id, f, "")
	}
	http.Redirect(w, r, "/referrals/"+strconv.FormatInt(id, 10)+"?moved="+url.QueryEscape(f.V("status")), http.StatusSeeOther)
	return nil
}

type referralFormData struct {
	Patient      *care.Patient
	Form         *form
	Institutions []care.Unit
	Rows         []int // the rows of diagnoses and medications of a discharge
}

var referralFields = []string{"to_unit", "urgency", "reason"}

func (s *server) newReferral(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if !may(p.User, care.WriteReferral) {
		return errNoRights
	}
	return s.renderReferralForm(w, r, p, http.StatusOK, id, newForm(nil, referralFields...))
}

func (s *server) renderReferralForm(w http.ResponseWriter, r *http.Request, p *page, status int, id int64, f *form) error {
	pt, err := s.svc.Patient(r.Context(), id)
	if err != nil {
		return err
	}
	list, err := s.svc.Institutions(r.Context())
	if err != nil {
		return err
	}
	p.Path = patientURL(id) + "/referrals/new"
	return s.render(w, p, status, "referral_form", referralFormData{Patient: pt, Form: f, Institutions: list})
}

func (s *server) createReferral(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, referralFields...)
	ref, err := s.svc.CreateReferral(r.Context(), care.ReferralInput{PatientID: id, Direction: "up", ToUnit: f.V("to_unit"),
		Urgency: f.V("urgency"), Reason: f.V("reason")})
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		unanswered(p, f, "urgency")
		return s.renderReferralForm(w, r, p, status, id, f)
	}
	http.Redirect(w, r, "/referrals/"+strconv.FormatInt(ref.ID, 10)+"?created=1", http.StatusSeeOther)
	return nil
}

// dischargeRows is how many diagnoses and medications the discharge form
// offers.
const dischargeRows = 3

func dischargeFields() []string {
	out := []string{"discharged_on", "risk_level", "recommendations"}
	for i := range dischargeRows {
		out = append(out, rowName("diagnoses", i, "code"), rowName("medications", i, "name"), rowName("medications", i, "dose"),
			rowName("medications", i, "frequency"))
	}
	return out
}

func (s *server) newDischarge(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if !may(p.User, care.WriteReferral) {
		return errNoRights
	}
	f := newForm(nil, dischargeFields()...)
	f.set("discharged_on", s.today())
	return s.renderDischarge(w, r, p, http.StatusOK, id, f)
}

func (s *server) renderDischarge(w http.ResponseWriter, r *http.Request, p *page, status int, id int64, f *form) error {
	pt, err := s.svc.Patient(r.Context(), id)
	if err != nil {
		return err
	}
	p.Path = patientURL(id) + "/discharge/new"
	d := referralFormData{Patient: pt, Form: f}
	for i := range dischargeRows {
		d.Rows = append(d.Rows, i)
	}
	return s.render(w, p, status, "discharge_form", d)
}

func (s *server) createDischarge(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, dischargeFields()...)
	pt, err := s.svc.Patient(r.Context(), id)
	if err != nil {
		return err
	}
	in := care.ReferralInput{PatientID: id, Direction: "down", ToUnit: pt.OrgUnit, DischargedOn: f.V("discharged_on"),
		Recommendations: f.V("recommendations")}
	var dRows, mRows []int
	for i := range dischargeRows {
		if c := strings.TrimSpace(f.V(rowName("diagnoses", i, "code"))); c != "" {
			in.Diagnoses, dRows = append(in.Diagnoses, care.Diagnosis{Code: c}), append(dRows, i)
		}
		m := care.Medication{Name: f.V(rowName("medications", i, "name")), Dose: f.V(rowName("medications", i, "dose")),
			Frequency: f.V(rowName("medications", i, "frequency"))}
		if strings.TrimSpace(m.Name+m.Dose+m.Frequency) != "" {
			in.Medications, mRows = append(in.Medications, m), append(mRows, i)
		}
	}
	if v := f.V("risk_level"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			in.RiskLevel = &n
		}
	}
	if _, err := s.svc.CreateReferral(r.Context(), in); err != nil {
		renumber(err, "diagnoses", dRows)
		renumber(err, "medications", mRows)
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		unanswered(p, f, "risk_level")
		return s.renderDischarge(w, r, p, status, id, f)
	}
	http.Redirect(w, r, "/referrals?box=sent&direction=down&patient_id="+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// Crisis log

var crisisFields = []string{"occurred_at", "reported_by", "patient_id", "description", "risk_level", "outcome", "org_unit", "place"}

type crisisFormData struct {
	Patient *care.Patient
	Form    *form
	Units   []care.Unit
}

func (s *server) newCrisis(w http.ResponseWriter, r *http.Request, p *page) error {
	if !may(p.User, care.WriteCrisis) {
		return errNoRights
	}
	f := newForm(nil, crisisFields...).multi(nil, "actions")
	f.set("occurred_at", time.Now().In(s.svc.Zone()).Format(localMinute))
	f.set("patient_id", r.URL.Query().Get("patient"))
	return s.renderCrisis(w, r, p, http.StatusOK, f)
}

func (s *server) renderCrisis(w http.ResponseWriter, r *http.Request, p *page, status int, f *form) error {
	d := crisisFormData{Form: f}
	if id, ok := care.ParseID(f.V("patient_id")); ok {
		pt, err := s.svc.Patient(r.Context(), id)
		if err != nil {
			return err
		}
		d.Patient = pt
	} else {
		f.set("patient_id", "")
	}
	var err error
	if d.Units, err = s.unitsOf(r); err != nil {
		return err
	}
	p.Path = "/crisis/new"
	return s.render(w, p, status, "crisis_form", d)
}

func (s *server) logCrisis(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, crisisFields...).multi(r, "actions")
	at, ok := parseLocalTime(f.V("occurred_at"), s.svc.Zone())
	switch {
	case f.V("occurred_at") == "":
		f.fieldError(p, "occurred_at", "is required")
	case !ok:
		f.fieldError(p, "occurred_at", "must be a date and time")
	}
	in := care.CrisisInput{OccurredAt: at, ReportedBy: f.V("reported_by"), Description: f.V("description"),
		Actions: f.L("actions"), Outcome: f.V("outcome"), OrgUnit: f.V("org_unit"), Place: f.V("place")}
	if id, ok := care.ParseID(f.V("patient_id")); ok {
		in.PatientID = id
	}
	if v := f.V("risk_level"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			in.RiskLevel = &n
		}
	}
	if f.Failed() {
		return s.renderCrisis(w, r, p, http.StatusUnprocessableEntity, f)
	}
	c, err := s.svc.LogCrisis(r.Context(), in)
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		unanswered(p, f, "reported_by", "risk_level")
		return s.renderCrisis(w, r, p, status, f)
	}
	http.Redirect(w, r, "/crisis/"+strconv.FormatInt(c.ID, 10)+"?logged=1", http.StatusSeeOther)
	return nil
}

func (s *server) crisisEvent(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.svc.Crisis(r.Context(), id)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("logged") {
		p.Flash = p.T("crisis.logged")
	}
	return s.render(w, p, http.StatusOK, "crisis", c)
}

type crisisListData struct {
	Items   []care.CrisisEvent
	Filter  *form
	NextURL string
	Units   []care.Unit
	CanLog  bool
}

// crisisList lists crisis events of a unit and period: the figures'
// drill-down.
func (s *server) crisisList(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	f := newForm(nil, "org_unit", "from", "to")
	for _, n := range []string{"org_unit", "from", "to"} {
		f.set(n, q.Get(n))
	}
	d := crisisListData{Filter: f, CanLog: may(p.User, care.WriteCrisis)}
	items, next, err := s.svc.CrisisEvents(r.Context(), care.CrisisQuery{OrgUnit: f.V("org_unit"), From: f.V("from"), To: f.V("to")},
		care.Page{Token: q.Get("page_token")})
	status := http.StatusOK
	if err != nil {
		if status = p.formError(f, err); status == 0 {
			return err
		}
	}
	d.Items = items
	if next != "" {
		v := r.URL.Query()
		v.Set("page_token", next)
		d.NextURL = "/crisis?" + v.Encode()
	}
	if d.Units, err = s.unitsOf(r); err != nil {
		return err
	}
	return s.render(w, p, status, "crisis_list", d)
}

// referralFigures is the dashboard's box of referral response times and
// crisis events, each number leading to the list behind it.
type referralFigures struct {
	F                         *care.ReferralFigures
	Median, P90, Within       string
	ReferralsHref, CrisisHref string
}

func (s *server) referralFigures(p *page, f *care.ReferralFigures) *referralFigures {
	if f == nil {
		return nil
	}
	v := &referralFigures{F: f, Median: p.duration(f.MedianSeconds), P90: p.duration(f.P90Seconds), Within: "—"}
	if w := f.WithinTarget.Value; w != nil {
		v.Within = fmt.Sprintf("%.2f %%", *w)
	}
	span := url.Values{"org_unit": {f.OrgUnit}, "from": {f.From}, "to": {f.To}}
	v.CrisisHref = "/crisis?" + span.Encode()
	span.Set("direction", "up")
	v.ReferralsHref = "/referrals?" + span.Encode()
	return v
}

// duration says a response time in hours and minutes ("—" for none).
func (p *page) duration(secs *int64) string {
	if secs == nil {
		return "—"
	}
	m := (*secs + 59) / 60
	return p.T("referral.figures.hm", "Number", m/60, "Value", m%60)
}

// lateReferralsTab is the worklist's tab of referrals, for those who answer
// them: those received and past their target when there are any, else all.
func (s *server) lateReferralsTab(r *http.Request, p *page) (worklistTab, bool) {
	if !may(p.User, care.WriteReferral) {
		return worklistTab{}, false
	}
	t := worklistTab{Kind: "referrals", Href: "/referrals", Label: p.T("referral.nav")}
	if c, err := s.svc.ReferralCounts(r.Context()); err == nil && c.PastTarget > 0 {
		t.Href, t.Label, t.Count = "/referrals?box=late", p.T("referral.worklist.late"), p.Num(int64(c.PastTarget))
	}
	return t, true
}
