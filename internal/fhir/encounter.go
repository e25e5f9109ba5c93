package fhir

import (
	"net/http"
	"strconv"
	"strings"

	"kith/internal/care"
	"kith/internal/clinical"
)

func init() {
	routes = append(routes,
		route{Type: "Encounter", Interaction: read, Handle: (*handler).readEncounter},
		route{Type: "Encounter", Interaction: searchType, Handle: (*handler).searchEncounters, Params: []param{
			{"patient", "reference", "the patient (Patient/ID), required"},
			{"date", "date", "the follow-up's date: ge, gt, le, lt or eq and YYYY-MM-DD, once for each end"},
		}, Includes: []string{"Encounter:subject"}},
		route{Type: "Observation", Interaction: read, Handle: (*handler).readObservation},
		route{Type: "Observation", Interaction: searchType, Handle: (*handler).searchObservations, Params: []param{
			{"patient", "reference", "the patient (Patient/ID), required"},
			{"code", "token", "a follow-up item (" + systemFormItem + "|risk-level, classification, medication-adherence, …) " +
				"or an instrument's total score (" + systemInstrument + "|phq9, …)"},
			{"date", "date", "the date: ge, gt, le, lt or eq and YYYY-MM-DD, once for each end"},
		}},
	)
}

// Encounter is one follow-up or attempt; its id is the follow-up's id.
type Encounter struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Meta         *Meta             `json:"meta,omitempty"`
	Status       string            `json:"status"`
	Class        Coding            `json:"class"`
	Type         []CodeableConcept `json:"type,omitempty"`
	Subject      Reference         `json:"subject"`
	Participant  []participant     `json:"participant,omitempty"`
	Period       *Period           `json:"period,omitempty"`
}

type participant struct {
	Individual Reference `json:"individual"`
}

func (e *Encounter) ref() string { return "Encounter/" + e.ID }

// modeClass maps the follow-up's mode to the encounter class (HL7 v3
// ActCode): clinic → ambulatory, home visit → home health, phone → virtual.
var modeClass = map[string]Coding{
	"clinic":     {System: systemActCode, Code: "AMB", Display: "ambulatory"},
	"home_visit": {System: systemActCode, Code: "HH", Display: "home health"},
	"phone":      {System: systemActCode, Code: "VR", Display: "virtual"},
}

// practitioner references a staff member by account, shown by full name.
func practitioner(username, fullName string) Reference {
	if fullName == "" {
		fullName = username
	}
	return Reference{Reference: "Practitioner/" + practitionerID(username), Display: fullName}
}

// encounterResource maps a follow-up: a reached one is finished, an attempt
// that did not reach the patient cancelled (the reason is an Observation),
// a version a correction replaced entered-in-error.
func encounterResource(fu *care.FollowUp) *Encounter {
	e := &Encounter{ResourceType: "Encounter", ID: strconv.FormatInt(fu.ID, 10), Status: "finished",
		Subject: Reference{Reference: "Patient/" + strconv.FormatInt(fu.PatientID, 10)},
		Meta:    &Meta{LastUpdated: fu.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")}}
	if fu.Reached != nil && !*fu.Reached {
		e.Status = "cancelled"
	}
	if fu.SupersededBy != nil {
		e.Status = "entered-in-error"
	}
	e.Class = Coding{System: systemActCode, Code: "AMB", Display: "ambulatory"}
	if c, ok := modeClass[fu.Mode]; ok {
		e.Class = c
		e.Type = []CodeableConcept{*concept(systemMode, fu.Mode, strings.ReplaceAll(fu.Mode, "_", " "))}
	}
	e.Participant = []participant{{Individual: practitioner(fu.Author, fu.AuthorName)}}
	if fu.Date != "" {
		e.Period = &Period{Start: fu.Date, End: fu.Date}
	}
	return e
}

func (h *handler) readEncounter(w http.ResponseWriter, r *http.Request) error {
	return readByID(w, r, h.svc.FollowUp, encounterResource)
}

func (h *handler) searchEncounters(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("Encounter")); err != nil {
		return err
	}
	pid, err := reference(r, "patient", "Patient", true)
	if err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	d, err := dateRange(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.CurrentFollowUps(r.Context(), pid, d, pg)
	if err != nil {
		return err
	}
	b := searchset(r, next)
	for i := range items {
		b.add(r, encounterResource(&items[i]), "match")
	}
	if len(r.URL.Query()["_include"]) > 0 && len(items) > 0 {
		// Every encounter's subject is the one patient: one more read.
		p, err := h.svc.Patient(r.Context(), pid)
		if err != nil {
			return err
		}
		b.add(r, patientResource(p), "include")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}

// Observation is one coded item of a follow-up, or an assessment's total
// score. A follow-up item's id is "fu", the follow-up's id, "-" and the
// item (fu12-risk-level); a score's is "as" and the assessment's id (as7).
type Observation struct {
	ResourceType         string            `json:"resourceType"`
	ID                   string            `json:"id"`
	Status               string            `json:"status"`
	Category             []CodeableConcept `json:"category,omitempty"`
	Code                 CodeableConcept   `json:"code"`
	Subject              Reference         `json:"subject"`
	Encounter            *Reference        `json:"encounter,omitempty"`
	EffectiveDateTime    string            `json:"effectiveDateTime,omitempty"`
	Performer            []Reference       `json:"performer,omitempty"`
	ValueInteger         *int              `json:"valueInteger,omitempty"`
	ValueCodeableConcept *CodeableConcept  `json:"valueCodeableConcept,omitempty"`
	Interpretation       []CodeableConcept `json:"interpretation,omitempty"`
	DerivedFrom          []Reference       `json:"derivedFrom,omitempty"`
	Component            []component       `json:"component,omitempty"`
}

// component is one part of an Observation: here, one symptom present.
type component struct {
	Code         CodeableConcept `json:"code"`
	ValueBoolean *bool           `json:"valueBoolean,omitempty"`
}

func (o *Observation) ref() string { return "Observation/" + o.ID }

var surveyCategory = []CodeableConcept{*concept(systemObsCategory, "survey", "Survey")}

// formItem is an item of the follow-up form that becomes an Observation:
// a coded answer (code), a count or level (number), or the answers ticked
// in a list (list: one component each).
type formItem struct {
	Slug, Display, System string
	code                  func(fu *care.FollowUp) string
	number                func(fu *care.FollowUp) *int
	list                  func(fu *care.FollowUp) []string
}

// formItems are the follow-up's items that become Observations, in the
// form's order: the coded ones and the numbers. (Free texts, medications
// and the rehabilitation measures are not mapped.)
var formItems = []formItem{
	{Slug: "risk-level", Display: "Risk level (R-RISK, 0–5)", number: func(fu *care.FollowUp) *int { return fu.RiskLevel }},
	{Slug: "classification", Display: "Classification (R-CLASS)", System: systemClassification,
		code: func(fu *care.FollowUp) string { return fu.Classification }},
	{Slug: "not-reached-reason", Display: "Why the patient was not reached", System: systemNotReached,
		code: func(fu *care.FollowUp) string { return fu.NotReachedReason }},
	{Slug: "psychotic-symptoms", Display: "Psychotic symptoms", System: systemFormValue,
		code: func(fu *care.FollowUp) string { return fu.PsychoticSymptoms }},
	{Slug: "symptoms", Display: "Symptoms present", System: systemFormValue, list: func(fu *care.FollowUp) []string { return fu.Symptoms }},
	{Slug: "insight", Display: "Insight", System: systemFormValue, code: func(fu *care.FollowUp) string { return fu.Insight }},
	{Slug: "sleep", Display: "Sleep", System: systemFormValue, code: func(fu *care.FollowUp) string { return fu.Sleep }},
	{Slug: "diet", Display: "Diet", System: systemFormValue, code: func(fu *care.FollowUp) string { return fu.Diet }},
	{Slug: "locked-up", Display: "Locked up at home", System: systemFormValue, code: func(fu *care.FollowUp) string { return fu.LockedUp }},
	{Slug: "hospitalisation", Display: "In hospital since the last follow-up", System: systemFormValue,
		code: func(fu *care.FollowUp) string {
			if fu.Hospitalisation == nil {
				return ""
			}
			return fu.Hospitalisation.Status
		}},
	{Slug: "medication-adherence", Display: "Medication adherence", System: systemAdherence,
		code: func(fu *care.FollowUp) string { return fu.MedicationAdherence }},
	{Slug: "adverse-reaction", Display: "Adverse reaction to medication", System: systemFormValue,
		code: func(fu *care.FollowUp) string { return fu.AdverseReaction }},
	{Slug: "physical-illness", Display: "Physical illness", System: systemFormValue,
		code: func(fu *care.FollowUp) string { return fu.PhysicalIllness }},
	{Slug: "treatment-effect", Display: "Treatment effect", System: systemFormValue,
		code: func(fu *care.FollowUp) string { return fu.TreatmentEffect }},
}

// slug writes a Kith value as a FHIR id part (no underscores).
func slug(v string) string { return strings.ReplaceAll(v, "_", "-") }

func init() {
	// One item for each area of social function and each kind of
	// dangerous behaviour (counted since the last follow-up).
	for _, a := range clinical.SocialAreaValues() {
		area := string(a)
		formItems = append(formItems, formItem{Slug: "social-function-" + slug(area),
			Display: "Social function: " + strings.ReplaceAll(area, "_", " "), System: systemFormValue,
			code: func(fu *care.FollowUp) string { return fu.SocialFunction[area] }})
	}
	for _, b := range clinical.DangerousBehaviourValues() {
		kind := string(b)
		formItems = append(formItems, formItem{Slug: "dangerous-behaviour-" + slug(kind),
			Display: "Dangerous behaviour since the last follow-up: " + strings.ReplaceAll(kind, "_", " "),
			number: func(fu *care.FollowUp) *int {
				if n, ok := fu.DangerousBehaviour[kind]; ok {
					return &n
				}
				return nil
			}})
	}
}

// isFormItem reports whether code is the slug of a form item.
func isFormItem(code string) bool {
	for _, it := range formItems {
		if it.Slug == code {
			return true
		}
	}
	return false
}

// followUpObservations maps a follow-up's items that are present (the
// role's view has already removed the others); want, if not nil, keeps
// only those items.
func followUpObservations(fu *care.FollowUp, want map[string]bool) []*Observation {
	fid := strconv.FormatInt(fu.ID, 10)
	status := "final"
	if fu.SupersededBy != nil {
		status = "entered-in-error"
	}
	var out []*Observation
	for _, it := range formItems {
		if want != nil && !want[it.Slug] {
			continue
		}
		o := &Observation{ResourceType: "Observation", ID: "fu" + fid + "-" + it.Slug, Status: status, Category: surveyCategory,
			Code:      CodeableConcept{Coding: []Coding{{System: systemFormItem, Code: it.Slug, Display: it.Display}}},
			Subject:   Reference{Reference: "Patient/" + strconv.FormatInt(fu.PatientID, 10)},
			Encounter: &Reference{Reference: "Encounter/" + fid}, EffectiveDateTime: fu.Date,
			Performer: []Reference{practitioner(fu.Author, fu.AuthorName)}}
		switch {
		case it.list != nil:
			vs := it.list(fu)
			if len(vs) == 0 {
				continue
			}
			for _, v := range vs {
				o.Component = append(o.Component, component{Code: *concept(it.System, v, strings.ReplaceAll(v, "_", " ")), ValueBoolean: ptr(true)})
			}
		case it.number != nil:
			n := it.number(fu)
			if n == nil {
				continue
			}
			v := *n
			o.ValueInteger = &v
		default:
			v := it.code(fu)
			if v == "" {
				continue
			}
			o.ValueCodeableConcept = concept(it.System, v, strings.ReplaceAll(v, "_", " "))
		}
		out = append(out, o)
	}
	return out
}

func (h *handler) readObservation(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	notFound := &care.Error{Kind: care.NotFound, Message: "observation not found"}
	if s, ok := strings.CutPrefix(id, "as"); ok {
		aid, ok := care.ParseID(s)
		if !ok {
			return notFound
		}
		as, err := h.svc.Assessment(r.Context(), aid)
		if err != nil {
			return err
		}
		writeResource(w, http.StatusOK, h.scoreObservation(as))
		return nil
	}
	s, ok := strings.CutPrefix(id, "fu")
	fidPart, slug, ok2 := strings.Cut(s, "-")
	fid, ok3 := care.ParseID(fidPart)
	if !ok || !ok2 || !ok3 {
		return notFound
	}
	fu, err := h.svc.FollowUp(r.Context(), fid)
	if err != nil {
		return err
	}
	obs := followUpObservations(fu, map[string]bool{slug: true})
	if len(obs) == 0 {
		return notFound
	}
	writeResource(w, http.StatusOK, obs[0])
	return nil
}

// searchObservations walks two lists of the patient: the follow-ups (for
// their items) and the assessments (for their scores), each with its own
// page token; the _page of a next link carries both, "-" for a list done.
func (h *handler) searchObservations(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("Observation")); err != nil {
		return err
	}
	pid, err := reference(r, "patient", "Patient", true)
	if err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	d, err := dateRange(r)
	if err != nil {
		return err
	}
	var items map[string]bool // follow-up items wanted; nil for all
	var instrument string     // the instrument whose scores are wanted; "" for all
	walkFollowUps, walkScores := true, true
	if v := r.URL.Query().Get("code"); v != "" {
		sys, code, hasSys := strings.Cut(v, "|")
		if !hasSys {
			code, sys = sys, ""
		}
		isItem := isFormItem(code)
		isScore := h.svc.Instruments().Latest(code) != nil
		switch {
		case isItem && (sys == "" || sys == systemFormItem):
			items, walkScores = map[string]bool{code: true}, false
		case isScore && (sys == "" || sys == systemInstrument):
			instrument, walkFollowUps = code, false
		default:
			return badParam("code", "is not a code of this server's observations; see "+Base+"/metadata")
		}
	}
	fTok, aTok, _ := strings.Cut(pg.Token, ".")
	if pg.Token != "" && !strings.Contains(pg.Token, ".") {
		return badParam("_page", "is not a token this server gave out")
	}
	walkFollowUps = walkFollowUps && fTok != "-"
	walkScores = walkScores && aTok != "-"
	if v := care.PatientView(care.ActorFrom(r.Context()).Role); v == care.ViewSafety && instrument == "" {
		// The care-and-help group's view has no assessments: the follow-up
		// items it may see are the whole answer.
		walkScores = false
	}
	var obs []*Observation
	fNext, aNext := "-", "-"
	if walkFollowUps {
		list, next, err := h.svc.CurrentFollowUps(r.Context(), pid, d, care.Page{Token: fTok, Limit: pg.Limit})
		if err != nil {
			return err
		}
		for i := range list {
			obs = append(obs, followUpObservations(&list[i], items)...)
		}
		if next != "" {
			fNext = next
		}
	}
	if walkScores {
		list, next, err := h.svc.AssessmentsIn(r.Context(), pid, care.AssessmentQuery{Instrument: instrument}, d,
			care.Page{Token: aTok, Limit: pg.Limit})
		if err != nil {
			return err
		}
		for i := range list {
			obs = append(obs, h.scoreObservation(&list[i]))
		}
		if next != "" {
			aNext = next
		}
	}
	next := ""
	if fNext != "-" || aNext != "-" {
		next = fNext + "." + aNext
	}
	b := searchset(r, next)
	for _, o := range obs {
		b.add(r, o, "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}
