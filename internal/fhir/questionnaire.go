package fhir

import (
	"net/http"
	"strconv"
	"strings"

	"kith/internal/care"
	"kith/internal/clinical/instrument"
)

func init() {
	routes = append(routes,
		route{Type: "Questionnaire", Interaction: read, Handle: (*handler).readQuestionnaire},
		route{Type: "Questionnaire", Interaction: searchType, Handle: (*handler).searchQuestionnaires},
		route{Type: "QuestionnaireResponse", Interaction: read, Handle: (*handler).readResponse},
		route{Type: "QuestionnaireResponse", Interaction: searchType, Handle: (*handler).searchResponses, Params: []param{
			{"patient", "reference", "the patient (Patient/ID), required"},
			{"questionnaire", "reference", "the instrument (Questionnaire/phq9)"},
			{"date", "date", "the date given: ge, gt, le, lt or eq and YYYY-MM-DD, once for each end"},
		}},
		route{Type: "QuestionnaireResponse", Interaction: create, Handle: (*handler).createResponse},
		route{Type: "Flag", Interaction: read, Handle: (*handler).readFlag},
		route{Type: "Flag", Interaction: searchType, Handle: (*handler).searchFlags, Params: []param{
			{"patient", "reference", "the patient (Patient/ID); without it, every open alert that reaches the caller"},
		}},
	)
}

// loinc gives the LOINC codes of the instruments that have them: the
// panel and the total score.
var loinc = map[string][2]string{
	"phq9": {"44249-1", "44261-6"},
	"gad7": {"69737-5", "70274-6"},
}

// Questionnaire is one instrument, in its newest version; its id is the
// instrument's id (phq9, gad7, k10, sdss, risk).
type Questionnaire struct {
	ResourceType string   `json:"resourceType"`
	ID           string   `json:"id"`
	URL          string   `json:"url"`
	Version      string   `json:"version"`
	Name         string   `json:"name"`
	Title        string   `json:"title"`
	Status       string   `json:"status"`
	SubjectType  []string `json:"subjectType"`
	Language     string   `json:"language,omitempty"`
	Description  string   `json:"description,omitempty"`
	Copyright    string   `json:"copyright,omitempty"`
	Code         []Coding `json:"code,omitempty"`
	// Item holds the items as maps: an option's Coding carries the
	// ordinalValue extension, which the plain Coding type has no room for.
	Item []map[string]any `json:"item"`
}

func (q *Questionnaire) ref() string { return "Questionnaire/" + q.ID }

// answerSystem is the code system of an instrument's answers: the code is
// the answer's score, the display its text; the score is also the
// option's ordinalValue extension, as Structured Data Capture scores it.
func answerSystem(id string) string { return "urn:kith:fhir:instrument:" + id }

// codingWithScore is a Coding carrying the ordinalValue extension.
type codingWithScore struct {
	Extension []Extension `json:"extension"`
	Coding
}

// questionnaireURL is the canonical URL of an instrument.
func questionnaireURL(r *http.Request, id string) string { return absURL(r, Base+"/Questionnaire/"+id) }

func questionnaireResource(r *http.Request, d *instrument.Definition, l string) *Questionnaire {
	q := &Questionnaire{ResourceType: "Questionnaire", ID: d.ID, URL: questionnaireURL(r, d.ID), Version: strconv.Itoa(d.Version),
		Name: strings.ToUpper(d.ID[:1]) + d.ID[1:], Title: d.Title.In(l), Status: "active", SubjectType: []string{"Patient"},
		Language: l, Description: d.Prompt.In(l), Copyright: d.Licence}
	if c, ok := loinc[d.ID]; ok {
		q.Code = []Coding{{System: systemLOINC, Code: c[0]}}
	}
	q.Item = make([]map[string]any, len(d.Items))
	for i, it := range d.Items {
		var opts []map[string]any
		for _, o := range d.OptionsOf(it) {
			score := float64(o.Value)
			opts = append(opts, map[string]any{"valueCoding": codingWithScore{
				Extension: []Extension{{URL: extOrdinalValue, ValueDecimal: &score}},
				Coding:    Coding{System: answerSystem(d.ID), Code: strconv.Itoa(o.Value), Display: o.Text.In(l)}}})
		}
		q.Item[i] = map[string]any{"linkId": it.ID, "prefix": strconv.Itoa(i + 1), "text": it.Text.In(l), "type": "choice",
			"required": true, "answerOption": opts}
	}
	return q
}

func (h *handler) readQuestionnaire(w http.ResponseWriter, r *http.Request) error {
	d := h.svc.Instruments().Latest(r.PathValue("id"))
	if d == nil {
		return &care.Error{Kind: care.NotFound, Message: "no such instrument; see " + Base + "/Questionnaire"}
	}
	writeResource(w, http.StatusOK, questionnaireResource(r, d, lang(w, r)))
	return nil
}

func (h *handler) searchQuestionnaires(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("Questionnaire")); err != nil {
		return err
	}
	l := lang(w, r)
	b := searchset(r, "")
	for _, d := range h.svc.Instruments().All() {
		b.add(r, questionnaireResource(r, d, l), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}

// QuestionnaireResponse is one assessment; its id is the assessment's id.
type QuestionnaireResponse struct {
	ResourceType  string         `json:"resourceType"`
	ID            string         `json:"id,omitempty"`
	Questionnaire string         `json:"questionnaire"`
	Status        string         `json:"status"`
	Subject       *Reference     `json:"subject,omitempty"`
	Encounter     *Reference     `json:"encounter,omitempty"`
	Authored      string         `json:"authored,omitempty"`
	Author        *Reference     `json:"author,omitempty"`
	Item          []responseItem `json:"item,omitempty"`
}

func (q *QuestionnaireResponse) ref() string { return "QuestionnaireResponse/" + q.ID }

type responseItem struct {
	LinkID string           `json:"linkId"`
	Answer []responseAnswer `json:"answer,omitempty"`
}

type responseAnswer struct {
	ValueCoding  *Coding `json:"valueCoding,omitempty"`
	ValueInteger *int    `json:"valueInteger,omitempty"`
}

func (h *handler) responseResource(r *http.Request, as *care.Assessment) *QuestionnaireResponse {
	q := &QuestionnaireResponse{ResourceType: "QuestionnaireResponse", ID: strconv.FormatInt(as.ID, 10),
		Questionnaire: questionnaireURL(r, as.Instrument) + "|" + strconv.Itoa(as.Version), Status: "completed",
		Subject:  &Reference{Reference: "Patient/" + strconv.FormatInt(as.PatientID, 10)},
		Authored: as.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), Author: ptr(practitioner(as.Author, as.AuthorName))}
	if as.FollowUpID != nil {
		q.Encounter = &Reference{Reference: "Encounter/" + strconv.FormatInt(*as.FollowUpID, 10)}
	}
	d := h.svc.Instruments().Version(as.Instrument, as.Version)
	for i, v := range as.Answers {
		if d == nil || i >= len(d.Items) {
			break
		}
		c := &Coding{System: answerSystem(as.Instrument), Code: strconv.Itoa(v)}
		for _, o := range d.OptionsOf(d.Items[i]) {
			if o.Value == v {
				c.Display = o.Text.EN
			}
		}
		q.Item = append(q.Item, responseItem{LinkID: d.Items[i].ID, Answer: []responseAnswer{{ValueCoding: c}}})
	}
	return q
}

func ptr[T any](v T) *T { return &v }

// scoreObservation is an assessment's total score, as the engine computed
// it, with the band as its interpretation.
func (h *handler) scoreObservation(as *care.Assessment) *Observation {
	aid := strconv.FormatInt(as.ID, 10)
	title := as.Instrument
	if d := h.svc.Instruments().Version(as.Instrument, as.Version); d != nil {
		title = d.Short.EN
	}
	code := CodeableConcept{Coding: []Coding{{System: systemInstrument, Code: as.Instrument, Display: title + " total score"}}}
	if c, ok := loinc[as.Instrument]; ok {
		code.Coding = append(code.Coding, Coding{System: systemLOINC, Code: c[1]})
	}
	score := as.Score
	o := &Observation{ResourceType: "Observation", ID: "as" + aid, Status: "final", Category: surveyCategory, Code: code,
		Subject:           Reference{Reference: "Patient/" + strconv.FormatInt(as.PatientID, 10)},
		EffectiveDateTime: as.Date, Performer: []Reference{practitioner(as.Author, as.AuthorName)}, ValueInteger: &score,
		DerivedFrom: []Reference{{Reference: "QuestionnaireResponse/" + aid}}}
	if as.FollowUpID != nil {
		o.Encounter = &Reference{Reference: "Encounter/" + strconv.FormatInt(*as.FollowUpID, 10)}
	}
	if as.Band != "" {
		o.Interpretation = []CodeableConcept{*concept(answerSystem(as.Instrument)+":band", as.Band, strings.ReplaceAll(as.Band, "_", " "))}
	}
	return o
}

func (h *handler) readResponse(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	as, err := h.svc.Assessment(r.Context(), id)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, h.responseResource(r, as))
	return nil
}

func (h *handler) searchResponses(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("QuestionnaireResponse")); err != nil {
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
	var q care.AssessmentQuery
	if v := r.URL.Query().Get("questionnaire"); v != "" {
		q.Instrument = v[strings.LastIndex(v, "/")+1:]
		if h.svc.Instruments().Latest(q.Instrument) == nil {
			return badParam("questionnaire", "is not a questionnaire of this server; see "+Base+"/Questionnaire")
		}
	}
	items, next, err := h.svc.AssessmentsIn(r.Context(), pid, q, d, pg)
	if err != nil {
		return err
	}
	b := searchset(r, next)
	for i := range items {
		b.add(r, h.responseResource(r, &items[i]), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}

// responseIn is the part of a QuestionnaireResponse that an assessment is
// made from.
type responseIn struct {
	ResourceType  string           `json:"resourceType"`
	ID            string           `json:"id"`
	Questionnaire string           `json:"questionnaire"`
	Status        string           `json:"status"`
	Subject       *Reference       `json:"subject"`
	Authored      string           `json:"authored"`
	Item          []responseInItem `json:"item"`
}

type responseInItem struct {
	LinkID string `json:"linkId"`
	Answer []struct {
		ValueCoding  *Coding `json:"valueCoding"`
		ValueInteger *int    `json:"valueInteger"`
	} `json:"answer"`
}

// responsePath names the element of a QuestionnaireResponse an assessment
// field is.
func responsePath(field string) string {
	switch {
	case field == "instrument":
		return "QuestionnaireResponse.questionnaire"
	case field == "date":
		return "QuestionnaireResponse.authored"
	}
	return "QuestionnaireResponse"
}

// invalidAt is an Invalid error about one element.
func invalidAt(path, msg string) error {
	return &care.Error{Kind: care.Invalid, Message: "invalid QuestionnaireResponse", Fields: []care.FieldError{{Field: path, Message: msg}}}
}

// assessmentOf reads a QuestionnaireResponse as an assessment: its
// subject, the instrument its questionnaire names and the answers in the
// instrument's item order, matched by linkId. Each answer is the option's
// code (its score) or an integer; whether it is one the item allows is the
// engine's to say. today is the date when authored is absent. An error
// after the subject was read comes with the subject's id.
func assessmentOf(cat *instrument.Catalogue, in *responseIn, today string) (int64, care.AssessmentInput, error) {
	var out care.AssessmentInput
	if in.Subject == nil {
		return 0, out, invalidAt("QuestionnaireResponse.subject", "is required: the patient, Patient/ID")
	}
	ref, ok := strings.CutPrefix(in.Subject.Reference, "Patient/")
	pid, valid := care.ParseID(ref)
	if !ok || !valid {
		return 0, out, invalidAt("QuestionnaireResponse.subject", "must reference a patient, Patient/ID")
	}
	canonical, _, _ := strings.Cut(in.Questionnaire, "|")
	d := cat.Latest(canonical[strings.LastIndex(canonical, "/")+1:])
	if !strings.Contains(canonical, "Questionnaire/") || d == nil {
		return pid, out, invalidAt("QuestionnaireResponse.questionnaire", "must be one of this server's questionnaires, such as "+
			Base+"/Questionnaire/phq9")
	}
	if in.Status != "completed" {
		return pid, out, invalidAt("QuestionnaireResponse.status", "must be completed: Kith stores finished assessments")
	}
	out.Instrument, out.Date = d.ID, today
	if in.Authored != "" {
		// The date part of the dateTime, in the zone the client wrote it.
		out.Date = in.Authored[:min(len(in.Authored), 10)]
	}
	byLink := map[string]int{}
	for i, it := range in.Item {
		path := "QuestionnaireResponse.item[" + strconv.Itoa(i) + "]"
		if _, dup := byLink[it.LinkID]; dup {
			return pid, out, invalidAt(path+".linkId", "answers the same item twice")
		}
		if len(it.Answer) != 1 {
			return pid, out, invalidAt(path+".answer", "must hold one answer")
		}
		a := it.Answer[0]
		switch {
		case a.ValueInteger != nil:
			byLink[it.LinkID] = *a.ValueInteger
		case a.ValueCoding != nil:
			v, err := strconv.Atoi(a.ValueCoding.Code)
			if err != nil {
				return pid, out, invalidAt(path+".answer[0].valueCoding.code", "must be one of the item's answer codes")
			}
			byLink[it.LinkID] = v
		default:
			return pid, out, invalidAt(path+".answer[0]", "must be a valueCoding of the item's options or a valueInteger")
		}
	}
	out.Answers = make([]int, len(d.Items))
	for i, it := range d.Items {
		v, ok := byLink[it.ID]
		if !ok {
			return pid, out, invalidAt("QuestionnaireResponse.item", "has no answer to item "+it.ID+"; every item must be answered")
		}
		out.Answers[i] = v
		delete(byLink, it.ID)
	}
	for i, it := range in.Item {
		if _, extra := byLink[it.LinkID]; extra {
			return pid, out, invalidAt("QuestionnaireResponse.item["+strconv.Itoa(i)+"].linkId", "is not an item of "+d.ID)
		}
	}
	return pid, out, nil
}

// createResponse stores a completed QuestionnaireResponse as an assessment
// of its subject (see assessmentOf). Kith's engine scores the answers: a
// score the client sends is not read.
func (h *handler) createResponse(w http.ResponseWriter, r *http.Request) error {
	var in responseIn
	if err := decodeResource(r, "QuestionnaireResponse", &in); err != nil {
		return h.refuseFirst(r, care.Assess, 0, err)
	}
	if in.ID != "" {
		return h.refuseFirst(r, care.Assess, 0, &requestError{status: http.StatusBadRequest, code: "invalid",
			msg: "a new resource has no id: the server gives it", expression: "QuestionnaireResponse.id"})
	}
	pid, input, err := assessmentOf(h.svc.Instruments(), &in, h.svc.Today().String())
	if err != nil {
		// pid is the subject when it could be read: a patient the caller
		// may not reach is not found, whatever else is wrong.
		return h.refuseFirst(r, care.Assess, pid, err)
	}
	as, err := h.svc.Assess(r.Context(), pid, input)
	if err != nil {
		return itemPaths(err, h.svc.Instruments().Latest(input.Instrument), in.Item)
	}
	res := h.responseResource(r, as)
	w.Header().Set("Location", absURL(r, Base+"/"+res.ref()))
	writeResource(w, http.StatusCreated, res)
	return nil
}

// itemPaths rewrites the service's answers[i] fields into the element
// path of the item the client sent for the instrument's item i: the
// engine reports a wrong answer by its place in the instrument.
func itemPaths(err error, d *instrument.Definition, sent []responseInItem) error {
	ce, ok := err.(*care.Error)
	if !ok || ce.Kind != care.Invalid {
		return err
	}
	out := *ce
	out.Fields = nil
	for _, f := range ce.Fields {
		path := responsePath(f.Field)
		if s, ok := strings.CutPrefix(f.Field, "answers["); ok {
			if i, err := strconv.Atoi(strings.TrimSuffix(s, "]")); err == nil && d != nil && i < len(d.Items) {
				for j, it := range sent {
					if it.LinkID == d.Items[i].ID {
						path = "QuestionnaireResponse.item[" + strconv.Itoa(j) + "].answer[0]"
					}
				}
			}
		}
		out.Fields = append(out.Fields, care.FieldError{Field: path, Message: f.Message})
	}
	return &out
}

// Flag is an open alert: an assessment's flag that called for the team's
// attention (PHQ-9 item 9 above 0, a K10 of 30 or more, a risk level of 3
// or more). Its id is the alert's id; an acknowledged alert is inactive.
type Flag struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Status       string            `json:"status"`
	Category     []CodeableConcept `json:"category,omitempty"`
	Code         CodeableConcept   `json:"code"`
	Subject      Reference         `json:"subject"`
	Period       *Period           `json:"period,omitempty"`
	Author       *Reference        `json:"author,omitempty"`
}

func (f *Flag) ref() string { return "Flag/" + f.ID }

func flagResource(al *care.Alert) *Flag {
	f := &Flag{ResourceType: "Flag", ID: strconv.FormatInt(al.ID, 10), Status: "active",
		Category: []CodeableConcept{*concept(systemFlagCat, "clinical", "Clinical")},
		Subject:  Reference{Reference: "Patient/" + strconv.FormatInt(al.PatientID, 10)},
		Period:   &Period{Start: al.RaisedAt.UTC().Format("2006-01-02T15:04:05Z")},
		Author:   ptr(practitioner(al.RaisedBy, al.RaisedByName))}
	if al.Acknowledged {
		f.Status = "inactive"
		f.Period.End = al.AcknowledgedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	f.Code.Text = al.Instrument + " " + strconv.Itoa(al.Score) + ": " + strings.Join(al.Flags, ", ")
	for _, k := range al.Flags {
		f.Code.Coding = append(f.Code.Coding, Coding{System: systemAlertFlag, Code: k})
	}
	return f
}

func (h *handler) readFlag(w http.ResponseWriter, r *http.Request) error {
	return readByID(w, r, h.svc.Alert, flagResource)
}

func (h *handler) searchFlags(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("Flag")); err != nil {
		return err
	}
	pid, err := reference(r, "patient", "Patient", false)
	if err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.Alerts(r.Context(), care.AlertQuery{State: "open", PatientID: pid}, pg)
	if err != nil {
		return err
	}
	b := searchset(r, next)
	for i := range items {
		b.add(r, flagResource(&items[i]), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}
