package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
)

// recordData is what the patient's record page shows. Everything comes
// from the service as the user's role may see it: for the care-and-help
// group there are no diagnoses or classifications, and the page simply
// shows less.
type recordData struct {
	Patient  *care.Patient
	Timeline []timelineRow
	// Chart is the risk chart's data as JSON for kith.js, "" when no
	// follow-up has a risk level yet.
	Chart string
	// ChartClasses says whether the chart colours points by classification:
	// not for a role that sees no classifications.
	ChartClasses bool
	// Recorded is the follow-up, attempt or emergency just recorded, for
	// the confirmation.
	Recorded    *care.TimelineItem
	DaysOverdue int
	Can         struct{ FollowUp, Emergency, Edit, Complete, Plan, Conference bool }
	Closed      bool // deceased or moved away: no more follow-ups
	// Assessments are the newest score of each instrument, the open
	// alerts and the links to administer; hidden from the roles whose view
	// lacks them (the care-and-help group).
	Assessments recordAssessments
	// Glass lists who broke the glass to read this record; UnderGlass says
	// the user reads it so now (read only).
	Glass      []care.Glass
	UnderGlass bool
	// Referral: the user reads the record through a referral to their
	// institution (read only; they may hand the patient back down), may
	// refer the patient up, may log a crisis event about them.
	Referral recordReferral
	// AccessReport says whether the user may print the access report.
	AccessReport bool
	// FamilyDetail is whether the family table has its lives-with and
	// notes columns (not in the care group's view, which has neither).
	FamilyDetail bool
	// ContactFirst marks, for the care group, a patient with an open alert:
	// contact the community doctor before visiting.
	ContactFirst bool
	// The header: age, current medication (nil for the roles that do not
	// see it), open alerts and, once Kith records one, the key worker.
	Age            int
	Medications    []care.Medication
	ShowMedication bool
	OpenAlerts     int
	KeyWorker      string
	// Revealed is the national ID in full, after the user asked to see it.
	Revealed string
	// Team is the patient's care team; Plan the active rehabilitation
	// plan, and ShowPlan whether the user's role reads plans.
	Team     *care.Team
	Plan     *care.Plan
	ShowPlan bool
	// Family lists the family members, the guardian first (the care-and-help
	// group: the guardian only).
	Family []care.FamilyMember
}

// ageOn is a person's age in whole years on a day.
func ageOn(birth string, on clinical.Date) int {
	b, err := clinical.ParseDate(birth)
	if err != nil {
		return 0
	}
	bt, ot := b.Time(), on.Time()
	age := ot.Year() - bt.Year()
	if ot.Month() < bt.Month() || ot.Month() == bt.Month() && ot.Day() < bt.Day() {
		age-- // the birthday of this year is still to come
	}
	return age
}

// timelineRow is a timeline item with its detail taken apart for showing.
type timelineRow struct {
	care.TimelineItem
	Status, Reason string   // of a status change
	Codes          []string // an emergency's triggers
	Score          *scoreView
}

// patient shows a patient's record: the summary, what the user may do, the
// timeline and the chart of risk and classification over time, from one
// read of the service.
func (s *server) patient(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.showRecord(w, r, p, id, "")
}

// revealNationalID shows the record with the national ID in full: a
// deliberate act (a POST), audited by the service as its own entry.
func (s *server) revealNationalID(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	nid, err := s.svc.RevealNationalID(r.Context(), id)
	if err != nil {
		return err
	}
	p.Flash = p.T("patient.nid.revealed")
	return s.showRecord(w, r, p, id, nid)
}

// showRecord renders the record page, with the national ID in full when
// revealed is not "".
func (s *server) showRecord(w http.ResponseWriter, r *http.Request, p *page, id int64, revealed string) error {
	record, err := s.svc.PatientRecord(r.Context(), id)
	if err != nil {
		return err
	}
	pt, items := record.Patient, record.Timeline
	d := recordData{Patient: pt, Timeline: timelineRows(items), ContactFirst: record.ContactFirst, Medications: record.Medications,
		OpenAlerts: record.OpenAlerts, KeyWorker: record.KeyWorker, Team: record.Team, Revealed: revealed, Family: record.Family, Age: ageOn(pt.BirthDate, s.svc.Today())}
	v := care.PatientView(p.User.Role)
	d.ShowMedication = v == care.ViewFull || v == care.ViewClinical
	for i, row := range d.Timeline {
		if row.Assessment != nil {
			v := s.scoreView(p, *row.Assessment)
			d.Timeline[i].Score = &v
		}
	}
	d.Closed = pt.Status == string(clinical.StatusDeceased) || pt.Status == string(clinical.StatusMovedAway)
	d.Can.FollowUp = may(p.User, care.WriteFollowUp) && !d.Closed
	d.Can.Emergency = may(p.User, care.WriteEmergency) && !d.Closed
	d.Can.Edit = may(p.User, care.WritePatient)
	d.Can.Complete = p.User.Role == auth.Psychiatrist && may(p.User, care.WriteEmergency)
	d.Can.Plan = may(p.User, care.WritePlan)
	d.Can.Conference = may(p.User, care.WriteConference)
	d.Plan, d.ShowPlan = record.Plan, v != care.ViewSafety
	// The care group sees the guardian only, without notes or whether they
	// live together: those columns go rather than stand blank or say "does
	// not live with" for everyone.
	d.FamilyDetail = v != care.ViewSafety
	if due, err := clinical.ParseDate(pt.NextDueOn); err == nil && pt.Status == string(clinical.StatusManaged) {
		_, d.DaysOverdue = clinical.Overdue(due, s.svc.Today())
	}
	d.Assessments = s.recordAssessments(p, record)
	d.Glass, d.UnderGlass = record.BreakGlass, record.UnderGlass
	d.AccessReport = may(p.User, care.AccessReport) && !d.UnderGlass
	d.Referral = s.recordReferral(p, record, d.Closed)
	if d.UnderGlass || record.UnderReferral {
		d.Can.FollowUp, d.Can.Emergency, d.Can.Edit, d.Can.Complete, d.Can.Plan, d.Can.Conference = false, false, false, false, false, false
		d.Assessments.CanAssess, d.Assessments.Instruments = false, nil
	}
	if d.Chart, d.ChartClasses, err = p.chartJSON(items, scoreSeriesOf(d.Timeline)); err != nil {
		return err
	}
	s.recordFlash(r, p, &d, items)
	return s.render(w, p, http.StatusOK, "patient", d)
}

// recordFlash confirms what was just done. Like the other confirmations it
// names only what exists: a follow-up or emergency of this patient's
// timeline, found by the id in the link.
func (s *server) recordFlash(r *http.Request, p *page, d *recordData, items []care.TimelineItem) {
	q := r.URL.Query()
	find := func(param string, kinds ...string) *care.TimelineItem {
		id, err := strconv.ParseInt(q.Get(param), 10, 64)
		if err != nil {
			return nil
		}
		for i, it := range items {
			if it.ID == id && slices.Contains(kinds, it.Kind) {
				return &items[i]
			}
		}
		return nil
	}
	switch {
	case q.Has("registered"):
		p.Flash = p.T("patient.registered", "Date", d.Patient.NextDueOn)
	case q.Get("saved") == "1":
		p.Flash = p.T("patient.saved")
	case q.Get("saved") == "status":
		p.Flash = p.T("patient.status.saved", "Status", p.Enum("status", d.Patient.Status))
	case q.Get("saved") == "conference":
		p.Flash = p.T("conference.saved")
	case q.Get("saved") == "family":
		p.Flash = p.T("family.saved")
	case q.Get("saved") == "transfer":
		p.Flash = p.T("patient.transferred", "Unit", d.Patient.OrgUnitName)
	case q.Has("recorded"):
		d.Recorded = find("recorded", "follow_up", "attempt")
	case q.Has("emergency"):
		d.Recorded = find("emergency", "emergency")
	case q.Has("completed"):
		p.Flash = p.T("emergency.completed")
	case q.Has("glass"):
		p.Flash = p.T("glass.granted")
	}
}

func timelineRows(items []care.TimelineItem) []timelineRow {
	out := make([]timelineRow, len(items))
	for i, it := range items {
		row := timelineRow{TimelineItem: it}
		switch it.Kind {
		case "status":
			row.Status, row.Reason, _ = strings.Cut(it.Detail, ": ")
		case "emergency":
			if it.Detail != "" {
				row.Codes = strings.Split(it.Detail, ", ")
			}
		case "referral", "crisis":
			row.Codes = strings.Fields(it.Detail)
		}
		out[i] = row
	}
	return out
}

// chartData is what kith.js draws: the risk level of each current
// follow-up, oldest first, coloured by its classification.
//
// The x axis is time: Days holds each follow-up's date as a day number
// (days since 1970-01-01), which kith.js places on a linear axis labelled
// with dates (Chart.js's time axis needs a date adapter, a dependency this
// does without). Scores are the assessments' scores beside the risk, one
// series per instrument, on an axis of their own.
type chartData struct {
	Labels     []string          `json:"labels"`
	Days       []int64           `json:"days"`
	Scores     []scoreSeries     `json:"scores,omitempty"`
	ScoreLabel string            `json:"scoreLabel"`
	Risk       []int             `json:"risk"`
	Classes    []string          `json:"classes"`
	ClassNames map[string]string `json:"classNames"`
	RiskLabel  string            `json:"riskLabel"`
	ClassLabel string            `json:"classLabel"`
}

// scoreSeries is one instrument's scores over time, oldest first.
type scoreSeries struct {
	Label  string   `json:"label"`
	Days   []int64  `json:"days"`
	Dates  []string `json:"dates"`
	Scores []int    `json:"scores"`
}

// dayNumber is a date as days since 1970-01-01, or -1.
func dayNumber(date string) int64 {
	d, err := clinical.ParseDate(date)
	if err != nil {
		return -1
	}
	return d.Time().Unix() / 86400
}

// scoreSeriesOf gathers the assessments' scores of a timeline (newest
// first), one series per instrument.
func scoreSeriesOf(rows []timelineRow) []scoreSeries {
	var out []scoreSeries
	index := map[string]int{}
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		if r.Kind != "assessment" || r.Score == nil {
			continue
		}
		k, ok := index[r.Score.Instrument]
		if !ok {
			k = len(out)
			index[r.Score.Instrument] = k
			out = append(out, scoreSeries{Label: r.Score.Short})
		}
		out[k].Days = append(out[k].Days, dayNumber(r.Date))
		out[k].Dates = append(out[k].Dates, r.Date)
		out[k].Scores = append(out[k].Scores, r.Score.Score)
	}
	return out
}

func (p *page) chartJSON(items []care.TimelineItem, scores []scoreSeries) (data string, classes bool, err error) {
	c := chartData{ClassNames: map[string]string{}, RiskLabel: p.T("patient.risk"), ClassLabel: p.T("patient.classification"),
		Scores: scores, ScoreLabel: p.T("patient.chart.scores")}
	for _, v := range enumValues["class"] {
		c.ClassNames[v] = p.Enum("class", v)
	}
	// The timeline is newest first.
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		if it.Kind != "follow_up" || it.Superseded || it.RiskLevel == nil {
			continue
		}
		c.Labels = append(c.Labels, it.Date)
		c.Days = append(c.Days, dayNumber(it.Date))
		c.Risk = append(c.Risk, *it.RiskLevel)
		c.Classes = append(c.Classes, it.Classification)
		classes = classes || it.Classification != ""
	}
	if len(c.Risk) == 0 {
		return "", false, nil
	}
	b, err := json.Marshal(c)
	return string(b), classes, err
}
