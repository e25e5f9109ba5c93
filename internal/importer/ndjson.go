package importer

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"kith/internal/care"
)

// The FHIR systems Kith writes (internal/fhir/types.go) that the import reads.
const (
	systemNationalID = "urn:kith:fhir:national-id"
	systemDiagnosis  = "urn:kith:fhir:diagnosis"
	systemICD10      = "http://hl7.org/fhir/sid/icd-10"
	systemFormItem   = "urn:kith:fhir:follow-up-item"
	systemMode       = "urn:kith:fhir:follow-up-mode"
	extRegisteredOn  = "urn:kith:fhir:registered-on"
)

// The parts of the resources the import reads.
type coding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

type concept struct {
	Coding []coding `json:"coding"`
	Text   string   `json:"text"`
}

// systemRoleCode is HL7 v3 RoleCode, whose GUARD marks the guardian.
const systemRoleCode = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"

// guardianRelation reports whether a RelatedPerson is the guardian: its
// relationship is coded GUARD, or not coded in RoleCode at all (a source
// that writes the guardian only). Kith's export writes the rest of the
// family too, coded FAMMEMB.
func guardianRelation(rel []concept) bool {
	coded := false
	for _, c := range rel {
		for _, x := range c.Coding {
			if x.System == systemRoleCode {
				if x.Code == "GUARD" {
					return true
				}
				coded = true
			}
		}
	}
	return !coded
}

// code returns the code of the given system, or else the first.
func (c *concept) code(systems ...string) string {
	if c == nil {
		return ""
	}
	for _, s := range systems {
		for _, x := range c.Coding {
			if x.System == s {
				return x.Code
			}
		}
	}
	if len(systems) == 0 && len(c.Coding) > 0 {
		return c.Coding[0].Code
	}
	return ""
}

type reference struct {
	Reference string `json:"reference"`
}

type humanName struct {
	Text   string   `json:"text"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
}

func (n humanName) String() string {
	if n.Text != "" {
		return n.Text
	}
	return n.Family + strings.Join(n.Given, "")
}

type contactPoint struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

func phone(cs []contactPoint) string {
	for _, c := range cs {
		if c.System == "phone" {
			return c.Value
		}
	}
	return ""
}

type resource struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         *struct {
		Security []coding `json:"security"`
	} `json:"meta"`
	// Patient
	Extension []struct {
		URL       string `json:"url"`
		ValueDate string `json:"valueDate"`
	} `json:"extension"`
	Identifier []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Active          *bool          `json:"active"`
	Name            []humanName    `json:"name"`
	Telecom         []contactPoint `json:"telecom"`
	Gender          string         `json:"gender"`
	BirthDate       string         `json:"birthDate"`
	DeceasedBoolean *bool          `json:"deceasedBoolean"`
	Address         []struct {
		Text string `json:"text"`
	} `json:"address"`
	Contact []struct {
		Relationship []concept      `json:"relationship"`
		Name         *humanName     `json:"name"`
		Telecom      []contactPoint `json:"telecom"`
	} `json:"contact"`
	ManagingOrganization *reference `json:"managingOrganization"`
	// RelatedPerson
	Patient      *reference `json:"patient"`
	Relationship []concept  `json:"relationship"`
	// Condition
	Code          *concept   `json:"code"`
	Subject       *reference `json:"subject"`
	OnsetDateTime string     `json:"onsetDateTime"`
	Note          []struct {
		Text string `json:"text"`
	} `json:"note"`
	// Encounter
	Status string    `json:"status"`
	Class  *coding   `json:"class"`
	Type   []concept `json:"type"`
	Period *struct {
		Start string `json:"start"`
	} `json:"period"`
	// Observation
	Encounter            *reference `json:"encounter"`
	ValueInteger         *int       `json:"valueInteger"`
	ValueCodeableConcept *concept   `json:"valueCodeableConcept"`
	Component            []struct {
		Code         concept `json:"code"`
		ValueBoolean *bool   `json:"valueBoolean"`
	} `json:"component"`
}

// fhirPatient gathers one patient's resources.
type fhirPatient struct {
	bytes    int64 // of its resources' lines, for progress
	file     string
	line     int // the Patient's line, 0 if none was read
	in       care.PatientInput
	guardian at // the RelatedPerson's place
	diag     []at
	enc      map[string]*fhirEncounter
	order    []string // encounter ids in the order read
}

// at is a place in the files.
type at struct {
	file string
	line int
}

type fhirEncounter struct {
	file string
	line int
	in   care.FollowUpInput
	obs  map[string]at // the field's Observation
	skip bool          // entered in error: a version a correction replaced
}

// ndjson reads FHIR NDJSON files. A patient's resources may lie anywhere
// in them (Kith's bulk export writes one file per resource type), so the
// files are read whole first and the patients assembled from them.
//
// Progress is counted as the patients are handed on, each with the bytes
// of its resources' lines (the rest, lines of no patient, at the end), not
// as the files are read: that is done before anything is imported.
type ndjson struct {
	patients map[string]*fhirPatient
	order    []string
	pos      int
	problems []Problem
	progress func(int64)
	size     int64 // bytes read
	given    int64 // bytes reported
}

func readNDJSON(paths []string, progress func(int64)) (reader, error) {
	n := &ndjson{patients: map[string]*fhirPatient{}, progress: progress}
	for _, p := range paths {
		if err := n.readFile(p); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// give reports k more bytes done.
func (n *ndjson) give(k int64) {
	k = min(k, n.size-n.given) // a last line without its newline
	if n.progress != nil && k > 0 {
		n.progress(k)
		n.given += k
	}
}

func (n *ndjson) patient(ref string) *fhirPatient {
	id := strings.TrimPrefix(ref, "Patient/")
	p := n.patients[id]
	if p == nil {
		p = &fhirPatient{enc: map[string]*fhirEncounter{}}
		n.patients[id] = p
		n.order = append(n.order, id)
	}
	return p
}

func (p *fhirPatient) encounter(ref string) *fhirEncounter {
	id := strings.TrimPrefix(ref, "Encounter/")
	e := p.enc[id]
	if e == nil {
		e = &fhirEncounter{obs: map[string]at{}}
		p.enc[id] = e
		p.order = append(p.order, id)
	}
	return e
}

func (n *ndjson) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	name := filepath.Base(path)
	sc := bufio.NewScanner(&counting{r: f, progress: func(k int64) { n.size += k }})
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var r resource
		if err := json.Unmarshal(b, &r); err != nil {
			n.problems = append(n.problems, Problem{File: name, Line: line, Message: "is not a JSON resource"})
			continue
		}
		bad := func(el, msg string) {
			n.problems = append(n.problems, Problem{File: name, Line: line, Column: r.ResourceType + "." + el, Message: msg})
		}
		subject := func(ref *reference, el string) *fhirPatient {
			if ref == nil || !strings.HasPrefix(ref.Reference, "Patient/") {
				bad(el, "must reference the Patient")
				return nil
			}
			p := n.patient(ref.Reference)
			p.bytes += int64(len(b)) + 1
			return p
		}
		switch r.ResourceType {
		case "Patient":
			p := n.patient(r.ID)
			p.bytes += int64(len(b)) + 1
			p.file, p.line = name, line
			// The Conditions and RelatedPerson may have come first.
			in := patientInput(&r)
			in.Diagnoses = p.in.Diagnoses
			if p.guardian.line > 0 {
				in.Guardian = p.in.Guardian
			}
			p.in = in
		case "RelatedPerson":
			if !guardianRelation(r.Relationship) {
				continue // another family member: Kith imports the guardian
			}
			if p := subject(r.Patient, "patient"); p != nil {
				p.guardian = at{name, line}
				p.in.Guardian.Name, p.in.Guardian.Phone = "", phone(r.Telecom)
				if len(r.Name) > 0 {
					p.in.Guardian.Name = r.Name[0].String()
				}
				if len(r.Relationship) > 0 {
					p.in.Guardian.Relation = r.Relationship[0].Text
				}
			}
		case "Condition":
			if p := subject(r.Subject, "subject"); p != nil {
				d := care.Diagnosis{Code: r.Code.code(systemDiagnosis, systemICD10), DiagnosedOn: r.OnsetDateTime}
				if len(r.Note) > 0 {
					d.Institution = strings.TrimPrefix(r.Note[0].Text, "Diagnosed at ")
				}
				p.in.Diagnoses = append(p.in.Diagnoses, d)
				p.diag = append(p.diag, at{name, line})
			}
		case "Encounter":
			if p := subject(r.Subject, "subject"); p != nil {
				e := p.encounter(r.ID)
				e.file, e.line = name, line
				reached := r.Status != "cancelled"
				e.in.Reached = &reached
				e.skip = r.Status == "entered-in-error"
				if r.Period != nil {
					e.in.Date = r.Period.Start
				}
				for _, t := range r.Type {
					if m := t.code(systemMode); m != "" {
						e.in.Mode = m
					}
				}
				if e.in.Mode == "" && r.Class != nil {
					e.in.Mode = map[string]string{"AMB": "clinic", "HH": "home_visit", "VR": "phone"}[r.Class.Code]
				}
			}
		case "Observation":
			if r.Encounter == nil {
				continue // an assessment's score: not part of the follow-up history
			}
			if p := subject(r.Subject, "subject"); p != nil {
				e := p.encounter(r.Encounter.Reference)
				if field := observe(&e.in, &r); field != "" {
					e.obs[field] = at{name, line}
				}
			}
		}
	}
	return sc.Err()
}

// patientInput maps a Patient. A national ID marked MASKED (as Kith writes
// it) is not the number and is left out: the patient is then known by the
// source's id.
func patientInput(r *resource) care.PatientInput {
	in := care.PatientInput{Sex: r.Gender, BirthDate: r.BirthDate, Phone: phone(r.Telecom)}
	if len(r.Name) > 0 {
		in.Name = r.Name[0].String()
	}
	masked := false
	if r.Meta != nil {
		masked = slices.ContainsFunc(r.Meta.Security, func(c coding) bool { return c.Code == "MASKED" })
	}
	for _, id := range r.Identifier {
		if id.System == systemNationalID && !masked && !strings.Contains(id.Value, "*") {
			in.NationalID = id.Value
		}
	}
	for _, x := range r.Extension {
		if x.URL == extRegisteredOn {
			in.RegisteredOn = x.ValueDate
		}
	}
	if len(r.Address) > 0 {
		in.Address = r.Address[0].Text
	}
	if len(r.Contact) > 0 {
		c := r.Contact[0]
		if c.Name != nil {
			in.Guardian.Name = c.Name.String()
		}
		in.Guardian.Phone = phone(c.Telecom)
		if len(c.Relationship) > 0 {
			in.Guardian.Relation = c.Relationship[0].Text
		}
	}
	if r.ManagingOrganization != nil {
		in.OrgUnit = strings.TrimPrefix(r.ManagingOrganization.Reference, "Organization/")
	}
	switch {
	case r.DeceasedBoolean != nil && *r.DeceasedBoolean:
		in.Status = "deceased"
	case r.Active != nil && !*r.Active:
		in.Status = "moved_away"
	}
	return in
}

// observe sets the follow-up's item an Observation carries and returns the
// service's field name for it ("" for one Kith computes, such as the
// classification, or does not know).
func observe(fu *care.FollowUpInput, r *resource) string {
	item := r.Code.code(systemFormItem)
	value := r.ValueCodeableConcept.code()
	field := strings.ReplaceAll(item, "-", "_")
	switch item {
	case "risk-level":
		fu.RiskLevel = r.ValueInteger
	case "not-reached-reason":
		fu.NotReachedReason = value
	case "psychotic-symptoms":
		fu.PsychoticSymptoms = value
	case "insight":
		fu.Insight = value
	case "sleep":
		fu.Sleep = value
	case "diet":
		fu.Diet = value
	case "locked-up":
		fu.LockedUp = value
	case "medication-adherence":
		fu.MedicationAdherence = value
	case "adverse-reaction":
		fu.AdverseReaction = value
	case "physical-illness":
		fu.PhysicalIllness = value
	case "treatment-effect":
		fu.TreatmentEffect = value
	case "hospitalisation":
		// The discharge date is not exported: a stay that ended is kept
		// only as "was" with its date, so without one it is left out.
		if value != "was" {
			fu.Hospitalisation = &care.Hospitalisation{Status: value}
		}
		field = "hospitalisation.status"
	case "symptoms":
		for _, c := range r.Component {
			if c.ValueBoolean == nil || *c.ValueBoolean {
				fu.Symptoms = append(fu.Symptoms, c.Code.code())
			}
		}
	default:
		if area, ok := strings.CutPrefix(item, "social-function-"); ok {
			if fu.SocialFunction == nil {
				fu.SocialFunction = map[string]string{}
			}
			area = strings.ReplaceAll(area, "-", "_")
			fu.SocialFunction[area] = value
			return "social_function." + area
		}
		if kind, ok := strings.CutPrefix(item, "dangerous-behaviour-"); ok && r.ValueInteger != nil {
			if fu.DangerousBehaviour == nil {
				fu.DangerousBehaviour = map[string]int{}
			}
			kind = strings.ReplaceAll(kind, "-", "_")
			fu.DangerousBehaviour[kind] = *r.ValueInteger
			return "dangerous_behaviour." + kind
		}
		return ""
	}
	return field
}

func (n *ndjson) close() error { return nil }

// next yields the problems of reading first, then the patients in the
// order their resources were first met.
func (n *ndjson) next() (*item, error) {
	if len(n.problems) > 0 {
		it := &item{problems: n.problems}
		n.problems = nil
		return it, nil
	}
	for n.pos < len(n.order) {
		id := n.order[n.pos]
		p := n.patients[id]
		n.pos++
		delete(n.patients, id) // what is handed on is not kept
		n.give(p.bytes)
		return n.item(id, p), nil
	}
	n.give(n.size - n.given)
	return nil, io.EOF
}

func (n *ndjson) item(id string, p *fhirPatient) *item {
	it := &item{file: p.file}
	if p.line == 0 {
		// Resources about a patient whose Patient is not in the import.
		for _, eid := range p.order {
			if e := p.enc[eid]; e.line > 0 {
				it.file = e.file
				it.problems = append(it.problems, Problem{File: e.file, Line: e.line, Column: "Encounter.subject",
					Message: "the Patient it references (Patient/" + id + ") is not in the import"})
				return it
			}
		}
		it.problems = append(it.problems, Problem{File: "", Message: "resources reference Patient/" + id + ", which is not in the import"})
		return it
	}
	it.rec.Key = "fhir:Patient/" + id
	it.rec.Patient = p.in
	var encs []*fhirEncounter
	for _, eid := range p.order {
		e := p.enc[eid]
		if e.skip {
			continue
		}
		if e.line == 0 {
			for _, o := range e.obs {
				it.problems = append(it.problems, Problem{File: o.file, Line: o.line, Column: "Observation.encounter",
					Message: "the Encounter it references (Encounter/" + eid + ") is not in the import"})
				break
			}
			continue
		}
		if e.in.Reached != nil && !*e.in.Reached && e.in.NotReachedReason == "deceased" && e.in.DeathDate == "" {
			// FHIR gives no date or cause of death on the attempt: the
			// attempt's day, and the cause as not stated.
			e.in.DeathDate, e.in.DeathCause = e.in.Date, "not stated in the source"
		}
		encs = append(encs, e)
	}
	slices.SortStableFunc(encs, func(a, b *fhirEncounter) int { return strings.Compare(a.in.Date, b.in.Date) })
	for _, e := range encs {
		it.rec.FollowUps = append(it.rec.FollowUps, e.in)
	}
	patientElement := map[string]string{"name": "Patient.name", "sex": "Patient.gender", "birth_date": "Patient.birthDate",
		"national_id": "Patient.identifier", "phone": "Patient.telecom", "address": "Patient.address",
		"org_unit": "Patient.managingOrganization", "registered_on": "Patient.extension", "status": "Patient.active",
		"confirm_duplicate": "Patient"}
	it.locate = func(field string) (string, int, string) {
		if rest, ok := strings.CutPrefix(field, "follow_ups["); ok {
			num, sub, _ := strings.Cut(rest, "].")
			i, _ := strconv.Atoi(num)
			if i >= len(encs) {
				return p.file, p.line, "Patient"
			}
			e := encs[i]
			switch sub {
			case "date":
				return e.file, e.line, "Encounter.period"
			case "mode":
				return e.file, e.line, "Encounter.class"
			case "reached":
				return e.file, e.line, "Encounter.status"
			}
			key := sub
			if j := strings.IndexByte(key, '['); j >= 0 {
				key = key[:j]
			}
			if o, ok := e.obs[key]; ok {
				return o.file, o.line, "Observation.value"
			}
			return e.file, e.line, "Encounter (Observation " + strings.ReplaceAll(key, "_", "-") + " missing or wrong)"
		}
		if rest, ok := strings.CutPrefix(field, "diagnoses["); ok {
			num, sub, _ := strings.Cut(rest, "].")
			i, _ := strconv.Atoi(num)
			if i < len(p.diag) {
				el := "Condition.code"
				if sub == "diagnosed_on" {
					el = "Condition.onsetDateTime"
				}
				return p.diag[i].file, p.diag[i].line, el
			}
		}
		if strings.HasPrefix(field, "guardian.") {
			if p.guardian.line > 0 {
				return p.guardian.file, p.guardian.line, "RelatedPerson"
			}
			return p.file, p.line, "Patient.contact"
		}
		if el, ok := patientElement[field]; ok {
			return p.file, p.line, el
		}
		return p.file, p.line, "Patient"
	}
	return it
}
