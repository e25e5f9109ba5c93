package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
)

// The follow-up form is the national form (R-FORM) in sections. Its
// fields are named as the service names them (risk_level,
// social_function.work, medications[0].name), so that the service's
// messages land beside the fields they are about. A variant for an attempt
// that did not reach the patient (R-NOT-REACHED) asks only why.

const (
	medicationRows    = 3
	maxMedicationRows = 20
)

// reachedFields names the fields of the form for a reached follow-up with
// rows medication rows; the lists (groups of checkboxes) are listFields.
func reachedFields(rows int) []string {
	names := []string{"date", "mode", "risk_level", "psychotic_symptoms", "insight", "sleep", "diet",
		"locked_up", "hospitalisation.status", "hospitalisation.last_discharge_on", "lab_tests.done", "lab_tests.results",
		"medication_adherence", "adverse_reaction", "adverse_reaction_detail", "physical_illness", "treatment_effect",
		"referral.referred", "referral.reason", "referral.to", "notes", "next_due_on", "next_due_reason"}
	for _, a := range enumValues["area"] {
		names = append(names, "social_function."+a)
	}
	for _, k := range enumValues["danger"] {
		names = append(names, "dangerous_behaviour."+k)
	}
	for i := range rows {
		for _, n := range []string{"name", "dose", "frequency"} {
			names = append(names, rowName("medications", i, n))
		}
	}
	return names
}

var (
	listFields   = []string{"symptoms", "rehabilitation"}
	choiceFields = []string{"mode", "not_reached_reason", "psychotic_symptoms", "insight", "adverse_reaction", "physical_illness",
		"social_function.self_care", "social_function.housework", "social_function.work", "social_function.learning",
		"social_function.social_contact", "hospitalisation.status"}
	notReachedForm = []string{"date", "mode", "not_reached_reason", "death_date", "death_cause", "notes"}
)

// followUpData is what the follow-up form shows.
type followUpData struct {
	Patient *care.Patient
	Form    *form
	Reached bool
	Rows    []int // medication rows
	// Correcting is the follow-up a correction replaces; nil for a new one.
	Correcting *care.FollowUp
	Action     string // where the form posts to
	// Last is the last reached follow-up a new one is pre-filled from, and
	// LastValues its values as the form holds them (JSON, for kith-record.js
	// to mark what changed); nil and "" when there is none.
	Last       *care.FollowUp
	LastValues string
	Drugs      []string // drug names to choose from, in the page's language
	// Worklist is the worklist "save and next patient" goes on along.
	Worklist string
}

// Open reports whether a section of the form starts unfolded: always for
// a form not pre-filled, and for a section holding a message; the sections
// of a pre-filled form that rarely change start folded.
func (d followUpData) Open(section string) bool {
	if d.Last == nil || d.Correcting != nil {
		return true
	}
	for name := range d.Form.errors {
		if sectionOf(name) == section {
			return true
		}
	}
	// A required answer the last follow-up lacked: a folded section would
	// hide the browser's request to give it.
	for _, name := range requiredFolded {
		if sectionOf(name) == section && d.Form.V(name) == "" {
			return true
		}
	}
	return !foldedSections[section]
}

// requiredFolded are the required answers of the sections that fold.
var requiredFolded = []string{"insight", "adverse_reaction", "physical_illness", "social_function.self_care",
	"social_function.housework", "social_function.work", "social_function.learning", "social_function.social_contact"}

// foldedSections are the sections a pre-filled form starts folded.
var foldedSections = map[string]bool{"insight": true, "social": true, "danger": true, "care": true, "treatment": true,
	"referral": true, "rehabilitation": true}

// sectionOf names the section of the form a field is in.
func sectionOf(field string) string {
	name, _, _ := strings.Cut(field, ".")
	name, _, _ = strings.Cut(name, "[")
	switch name {
	case "insight", "sleep", "diet":
		return "insight"
	case "social_function":
		return "social"
	case "dangerous_behaviour":
		return "danger"
	case "locked_up", "hospitalisation", "lab_tests":
		return "care"
	case "medication_adherence", "adverse_reaction", "adverse_reaction_detail", "physical_illness", "treatment_effect":
		return "treatment"
	case "referral":
		return "referral"
	case "medications":
		return "medications"
	case "rehabilitation":
		return "rehabilitation"
	}
	return "risk"
}

// notCarried are the items a new follow-up does not take from the last
// one: what happened since (dangerous behaviour, hospital, tests,
// referral) and what is about this visit.
var notCarried = []string{"date", "notes", "next_due_on", "next_due_reason", "hospitalisation.status",
	"hospitalisation.last_discharge_on", "lab_tests.done", "lab_tests.results", "referral.referred", "referral.reason", "referral.to"}

// prefill fills a new follow-up's form from the last reached follow-up and
// returns the values it took, as JSON.
func prefill(f *form, last *care.FollowUp) string {
	fillFollowUp(f, last)
	for _, n := range notCarried {
		f.set(n, "")
	}
	for _, k := range enumValues["danger"] {
		f.set("dangerous_behaviour."+k, "")
	}
	f.set("date", "") // the caller sets today's date after
	vals := map[string]any{}
	for n, v := range f.values {
		if n != "date" {
			vals[n] = v
		}
	}
	for n, l := range f.lists {
		vals[n] = l
	}
	b, _ := json.Marshal(vals)
	return string(b)
}

// drugNames lists the configured drugs by their name in the page's language.
func (s *server) drugNames(p *page) []string {
	var out []string
	for _, d := range s.svc.Drugs() {
		out = append(out, d.Name(p.Lang))
	}
	return out
}

// worklistKind is the worklist a follow-up form was opened from; the
// overdue list, the worklist page's first, when not said.
func worklistKind(v string) string {
	if slices.Contains(worklistKinds, v) {
		return v
	}
	return worklistKinds[0]
}

func followUpForm(r *http.Request, reached bool, rows int) *form {
	if !reached {
		return newForm(r, notReachedForm...)
	}
	return newForm(r, reachedFields(rows)...).multi(r, listFields...)
}

// followUpInput reads the form. Empty medication rows are left out;
// order[i] is the form row of medication i. It returns false when the form
// has mistakes of its own to show.
func followUpInput(p *page, f *form, reached bool, rows int) (in care.FollowUpInput, order []int, ok bool) {
	in = care.FollowUpInput{Date: f.V("date"), Mode: f.V("mode"), Reached: &reached, Notes: f.V("notes")}
	if !reached {
		in.NotReachedReason, in.DeathDate, in.DeathCause = f.V("not_reached_reason"), f.V("death_date"), f.V("death_cause")
		return in, nil, true
	}
	ok = true
	if v := f.V("risk_level"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.fieldError(p, "risk_level", "must be a whole number from 0 to 5")
			ok = false
		}
		in.RiskLevel = &n
	}
	in.PsychoticSymptoms, in.Symptoms, in.Insight = f.V("psychotic_symptoms"), f.L("symptoms"), f.V("insight")
	in.Sleep, in.Diet, in.LockedUp = f.V("sleep"), f.V("diet"), f.V("locked_up")
	in.SocialFunction = map[string]string{}
	for _, a := range enumValues["area"] {
		if v := f.V("social_function." + a); v != "" {
			in.SocialFunction[a] = v
		}
	}
	for _, k := range enumValues["danger"] {
		name := "dangerous_behaviour." + k
		n, valid := parseCount(f.V(name))
		switch {
		case !valid:
			f.fieldError(p, name, "must be a whole number")
			ok = false
		case n != 0:
			if in.DangerousBehaviour == nil {
				in.DangerousBehaviour = map[string]int{}
			}
			// A count out of range stays out of range for the service to refuse.
			in.DangerousBehaviour[k] = int(max(min(n, 1001), -1))
		}
	}
	if v := f.V("hospitalisation.status"); v != "" {
		in.Hospitalisation = &care.Hospitalisation{Status: v, LastDischargeOn: f.V("hospitalisation.last_discharge_on")}
	}
	if done := yesNo(f.V("lab_tests.done")); done != nil {
		in.LabTests = &care.LabTests{Done: *done, Results: f.V("lab_tests.results")}
	}
	in.MedicationAdherence, in.AdverseReaction = f.V("medication_adherence"), f.V("adverse_reaction")
	in.AdverseReactionDetail, in.PhysicalIllness = f.V("adverse_reaction_detail"), f.V("physical_illness")
	in.TreatmentEffect = f.V("treatment_effect")
	if referred := yesNo(f.V("referral.referred")); referred != nil {
		in.Referral = &care.Referral{Referred: *referred, Reason: f.V("referral.reason"), To: f.V("referral.to")}
	}
	for i := range rows {
		m := care.Medication{Name: f.V(rowName("medications", i, "name")), Dose: f.V(rowName("medications", i, "dose")),
			Frequency: f.V(rowName("medications", i, "frequency"))}
		if m == (care.Medication{}) {
			continue
		}
		in.Medications = append(in.Medications, m)
		order = append(order, i)
	}
	in.Rehabilitation = f.L("rehabilitation")
	in.NextDueOn, in.NextDueReason = f.V("next_due_on"), f.V("next_due_reason")
	return in, order, ok
}

// fillFollowUp fills the form from a recorded follow-up, for a correction.
func fillFollowUp(f *form, fu *care.FollowUp) {
	in := fu.FollowUpInput
	set := map[string]string{"date": in.Date, "mode": in.Mode, "notes": in.Notes}
	if in.Reached != nil && !*in.Reached {
		set["not_reached_reason"], set["death_date"], set["death_cause"] = in.NotReachedReason, in.DeathDate, in.DeathCause
	} else {
		if in.RiskLevel != nil {
			set["risk_level"] = strconv.Itoa(*in.RiskLevel)
		}
		set["psychotic_symptoms"], set["insight"], set["sleep"], set["diet"] = in.PsychoticSymptoms, in.Insight, in.Sleep, in.Diet
		set["locked_up"], set["medication_adherence"], set["adverse_reaction"] = in.LockedUp, in.MedicationAdherence, in.AdverseReaction
		set["adverse_reaction_detail"], set["physical_illness"] = in.AdverseReactionDetail, in.PhysicalIllness
		set["treatment_effect"] = in.TreatmentEffect
		for a, v := range in.SocialFunction {
			set["social_function."+a] = v
		}
		for k, n := range in.DangerousBehaviour {
			set["dangerous_behaviour."+k] = strconv.Itoa(n)
		}
		if h := in.Hospitalisation; h != nil {
			set["hospitalisation.status"], set["hospitalisation.last_discharge_on"] = h.Status, h.LastDischargeOn
		}
		if l := in.LabTests; l != nil {
			set["lab_tests.done"], set["lab_tests.results"] = yesNoValue(l.Done), l.Results
		}
		if rf := in.Referral; rf != nil {
			set["referral.referred"], set["referral.reason"], set["referral.to"] = yesNoValue(rf.Referred), rf.Reason, rf.To
		}
		for i, m := range in.Medications {
			set[rowName("medications", i, "name")], set[rowName("medications", i, "dose")] = m.Name, m.Dose
			set[rowName("medications", i, "frequency")] = m.Frequency
		}
		// A date the rules set is not an override; one with a reason is.
		if fu.NextDueReason != "" {
			set["next_due_on"], set["next_due_reason"] = fu.NextDueOn, fu.NextDueReason
		}
		f.setList("symptoms", in.Symptoms)
		f.setList("rehabilitation", in.Rehabilitation)
	}
	for k, v := range set {
		if _, ok := f.values[k]; ok {
			f.set(k, v)
		}
	}
}

// newFollowUp shows the follow-up form, pre-filled from the last reached
// follow-up, or with ?reached=no the form for an attempt that did not reach
// the patient.
func (s *server) newFollowUp(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	start, err := s.svc.StartFollowUp(r.Context(), id)
	if err != nil {
		return err
	}
	if !may(p.User, care.WriteFollowUp) {
		return errNoRights
	}
	q := r.URL.Query()
	reached := q.Get("reached") != "no"
	d := followUpData{Patient: start.Patient, Reached: reached, Worklist: worklistKind(q.Get("worklist"))}
	rows := medicationRows
	if reached && start.Last != nil {
		d.Last = start.Last
		rows = min(max(medicationRows, len(start.Last.Medications)+1), maxMedicationRows)
	}
	d.Form, d.Rows = followUpForm(nil, reached, rows), seq(rows)
	if d.Last != nil {
		d.LastValues = prefill(d.Form, d.Last)
	}
	d.Form.set("date", s.today())
	if q.Has("after") {
		p.Flash = p.T("followup.next.saved")
	}
	return s.renderFollowUp(w, p, http.StatusOK, d)
}

func (s *server) renderFollowUp(w http.ResponseWriter, p *page, status int, d followUpData) error {
	d.Drugs = s.drugNames(p)
	if d.Correcting != nil {
		d.Action = followUpURL(d.Patient.ID, d.Correcting.ID)
		p.Path = d.Action + "/correct"
	} else {
		d.Action = patientURL(d.Patient.ID) + "/follow-ups"
		p.Path = d.Action + "/new"
		if !d.Reached {
			p.Path += "?reached=no"
		}
	}
	return s.render(w, p, status, "followup_form", d)
}

func followUpURL(patientID, id int64) string {
	return patientURL(patientID) + "/follow-ups/" + strconv.FormatInt(id, 10)
}

// recordFollowUp records a follow-up or an attempt and goes back to the
// record, which confirms the classification, the rule that decided it and
// the next due date with its rule.
func (s *server) recordFollowUp(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.saveFollowUp(w, r, p, id, false, func(in care.FollowUpInput) (*care.FollowUp, error) {
		return s.svc.RecordFollowUp(r.Context(), id, in)
	})
}

// saveFollowUp reads the posted form about patient id and saves it with
// save; a form the service refuses is shown again with its messages, as a
// correction of the follow-up of the URL if correcting.
func (s *server) saveFollowUp(w http.ResponseWriter, r *http.Request, p *page, id int64, correcting bool,
	save func(care.FollowUpInput) (*care.FollowUp, error)) error {
	d := followUpData{Reached: r.PostFormValue("reached") != "no", Worklist: worklistKind(r.PostFormValue("worklist"))}
	rows := rowCount(r, "medication_rows", medicationRows, maxMedicationRows)
	d.Form, d.Rows = followUpForm(r, d.Reached, rows), seq(rows)
	again := func(status int) error {
		if correcting {
			var err error
			if d.Patient, err = s.svc.Patient(r.Context(), id); err != nil {
				return err
			}
			if d.Correcting, err = s.findFollowUp(r, id); err != nil {
				return err
			}
			return s.renderFollowUp(w, p, status, d)
		}
		start, err := s.svc.StartFollowUp(r.Context(), id)
		if err != nil {
			return err
		}
		d.Patient = start.Patient
		if start.Last != nil && d.Reached {
			d.Last = start.Last
			d.LastValues = prefill(followUpForm(nil, true, rows), start.Last)
		}
		return s.renderFollowUp(w, p, status, d)
	}
	in, order, ok := followUpInput(p, d.Form, d.Reached, rows)
	if !ok {
		return again(http.StatusUnprocessableEntity)
	}
	// "Save and next patient": the next one is found before saving, while
	// this patient still holds their place on the worklist.
	var next int64
	thenNext := !correcting && r.PostFormValue("then") == "next"
	if thenNext {
		var err error
		if next, err = s.nextOnWorklist(r, d.Worklist, id); err != nil {
			return err
		}
	}
	fu, err := save(in)
	if err != nil {
		renumber(err, "medications", order)
		status := p.formError(d.Form, err)
		if status == 0 {
			return err
		}
		unanswered(p, d.Form, choiceFields...)
		return again(status)
	}
	switch {
	case thenNext && next != 0:
		http.Redirect(w, r, patientURL(next)+"/follow-ups/new?worklist="+d.Worklist+"&after="+strconv.FormatInt(id, 10), http.StatusSeeOther)
	case thenNext:
		http.Redirect(w, r, "/worklist?kind="+d.Worklist, http.StatusSeeOther)
	default:
		http.Redirect(w, r, patientURL(id, "recorded="+strconv.FormatInt(fu.ID, 10)), http.StatusSeeOther)
	}
	return nil
}

// nextWorklistPages bounds how far "save and next patient" looks for the
// patient on their worklist.
const nextWorklistPages = 10

// nextOnWorklist returns the patient after patientID on the worklist kind,
// in the worklist's own order (the service's query, as the worklist page
// reads it), or 0 when patientID is last or not on it.
func (s *server) nextOnWorklist(r *http.Request, kind string, patientID int64) (int64, error) {
	token, found := "", false
	for range nextWorklistPages {
		items, next, err := s.svc.Worklist(r.Context(), care.WorklistQuery{Kind: kind}, care.Page{Token: token, Limit: care.MaxLimit})
		if err != nil {
			return 0, err
		}
		for _, it := range items {
			if found {
				return it.PatientID, nil
			}
			found = it.PatientID == patientID
		}
		if next == "" {
			break
		}
		token = next
	}
	return 0, nil
}

// findFollowUp returns the follow-up of the URL, looking through the
// patient's follow-ups as the service shows them to the user.
func (s *server) findFollowUp(r *http.Request, patientID int64) (*care.FollowUp, error) {
	id, err := pathID(r, "fid")
	if err != nil {
		return nil, err
	}
	token := ""
	for {
		list, next, err := s.svc.FollowUps(r.Context(), patientID, care.Page{Token: token, Limit: care.MaxLimit})
		if err != nil {
			return nil, err
		}
		for i := range list {
			if list[i].ID == id {
				return &list[i], nil
			}
		}
		if next == "" {
			return nil, errPageNotFound
		}
		token = next
	}
}

type followUpView struct {
	Patient    *care.Patient
	FollowUp   *care.FollowUp
	Attempt    bool // an attempt that did not reach the patient
	CanCorrect bool
}

// followUp shows one follow-up or attempt in full, as far as the user's role
// may see it.
func (s *server) followUp(w http.ResponseWriter, r *http.Request, p *page) error {
	pt, err := s.loadPatient(r)
	if err != nil {
		return err
	}
	fu, err := s.findFollowUp(r, pt.ID)
	if err != nil {
		return err
	}
	d := followUpView{Patient: pt, FollowUp: fu, Attempt: fu.Reached != nil && !*fu.Reached, CanCorrect: mayCorrect(p, fu)}
	return s.render(w, p, http.StatusOK, "followup", d)
}

// mayCorrect reports whether the user may correct a follow-up: its author,
// within the correction window, and only its latest version.
func mayCorrect(p *page, fu *care.FollowUp) bool {
	return fu.Author == p.User.Username && fu.SupersededBy == nil && time.Since(fu.CreatedAt) < care.CorrectionWindow &&
		may(p.User, care.WriteFollowUp)
}

// correctionPage shows the follow-up form filled with a follow-up, to
// correct it.
func (s *server) correctionPage(w http.ResponseWriter, r *http.Request, p *page) error {
	pt, err := s.loadPatient(r)
	if err != nil {
		return err
	}
	fu, err := s.findFollowUp(r, pt.ID)
	if err != nil {
		return err
	}
	if !mayCorrect(p, fu) {
		return errCannotCorrect
	}
	reached := fu.Reached == nil || *fu.Reached
	rows := min(max(medicationRows, len(fu.Medications)+1), maxMedicationRows)
	f := followUpForm(nil, reached, rows)
	fillFollowUp(f, fu)
	return s.renderFollowUp(w, p, http.StatusOK, followUpData{Patient: pt, Form: f, Reached: reached, Rows: seq(rows), Correcting: fu})
}

// errCannotCorrect answers a correction the page does not offer.
var errCannotCorrect = &care.Error{Kind: care.Conflict,
	Message: "only the author of a follow-up may correct it, within 24 hours, and only its latest version"}

// correctFollowUp saves a corrected version; the service keeps the earlier
// one, and refuses anyone but the author, after 24 hours, or a version
// already corrected.
func (s *server) correctFollowUp(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	fid, err := pathID(r, "fid")
	if err != nil {
		return err
	}
	return s.saveFollowUp(w, r, p, id, true, func(in care.FollowUpInput) (*care.FollowUp, error) {
		return s.svc.CorrectFollowUp(r.Context(), id, fid, in)
	})
}
