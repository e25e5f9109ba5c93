package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
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
// files are read twice. First each line is decoded, the patient it is
// about found, and its place (file, offset, length, line number) written
// under that patient to an index on disk (lineIndex, a temporary SQLite
// file); then the patients are taken in the order they were first met, each
// assembled from its lines read again. Memory stays flat in the files'
// size: a district's export, some 125 resources a patient, is too large to
// assemble whole.
//
// Progress is counted as the patients are handed on, each with the bytes
// of its resources' lines (the rest, lines of no patient, at the end), not
// as the files are first read: that is done before anything is imported.
type ndjson struct {
	files    []*os.File
	names    []string
	index    *lineIndex
	page     []string // patients to assemble next, in the order first met
	problems []Problem
	progress progressTo
	size     int64 // bytes of the files
}

func readNDJSON(paths []string, progress func(int64)) (reader, error) {
	idx, err := openLineIndex()
	if err != nil {
		return nil, err
	}
	n := &ndjson{index: idx, progress: progressTo{report: progress}}
	for i, p := range paths {
		if err := n.indexFile(i, p); err != nil {
			n.close()
			return nil, err
		}
	}
	if err := idx.done(); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// maxLine is the longest line read, 16 MiB.
const maxLine = 16 << 20

// indexFile reads the file numbered i: each line's patient goes to the
// index, and what cannot be read, or names no patient, to the problems.
func (n *ndjson) indexFile(i int, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	n.files, n.names = append(n.files, f), append(n.names, filepath.Base(path))
	name := filepath.Base(path)
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err != nil && err != io.EOF {
			return err
		}
		if len(b) == 0 && err == io.EOF {
			break
		}
		at := off
		off += int64(len(b))
		n.size += int64(len(b))
		text := bytes.TrimSpace(b)
		if len(text) > 0 {
			var r resourceHead
			if json.Unmarshal(text, &r) != nil {
				n.problems = append(n.problems, Problem{File: name, Line: line, Message: "is not a JSON resource"})
			} else if id, el, ok := about(&r); ok && el != "" {
				n.problems = append(n.problems, Problem{File: name, Line: line, Column: r.ResourceType + "." + el, Message: "must reference the Patient"})
			} else if ok {
				if err := n.index.add(id, i, at, len(b), line); err != nil {
					return err
				}
			}
		}
		if err == io.EOF {
			break
		}
	}
	return nil
}

// readLine reads a line with its end, refusing one longer than maxLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > maxLine {
			return nil, errors.New("a line is longer than 16 MiB")
		}
		if err != bufio.ErrBufferFull {
			return b, err
		}
	}
}

// resourceHead is what the first reading decodes of a resource: the
// parts that say which patient it is about (see resource).
type resourceHead struct {
	ResourceType string     `json:"resourceType"`
	ID           string     `json:"id"`
	Subject      *reference `json:"subject"`
	Patient      *reference `json:"patient"`
	Encounter    *reference `json:"encounter"`
	Relationship []concept  `json:"relationship"`
}

// about says which patient a resource is about, and whether the import
// takes it: el names the element when the resource should reference a
// patient and does not.
func about(r *resourceHead) (id, el string, ok bool) {
	var ref *reference
	switch r.ResourceType {
	case "Patient":
		return r.ID, "", true
	case "RelatedPerson":
		if !guardianRelation(r.Relationship) {
			return "", "", false // another family member: Kith imports the guardian
		}
		ref, el = r.Patient, "patient"
	case "Condition", "Encounter":
		ref, el = r.Subject, "subject"
	case "Observation":
		if r.Encounter == nil {
			return "", "", false // an assessment's score: not part of the follow-up history
		}
		ref, el = r.Subject, "subject"
	default:
		return "", "", false
	}
	if ref == nil || !strings.HasPrefix(ref.Reference, "Patient/") {
		return "", el, true
	}
	return strings.TrimPrefix(ref.Reference, "Patient/"), "", true
}

// assembly gathers one patient's resources, read in the files' order.
type assembly struct {
	p *fhirPatient
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

// add takes resource r, at line of the file name, which about found to be
// the patient's.
func (a *assembly) add(name string, line int, r *resource) {
	p := a.p
	switch r.ResourceType {
	case "Patient":
		p.file, p.line = name, line
		// The Conditions and RelatedPerson may have come first.
		in := patientInput(r)
		in.Diagnoses = p.in.Diagnoses
		if p.guardian.line > 0 {
			in.Guardian = p.in.Guardian
		}
		p.in = in
	case "RelatedPerson":
		p.guardian = at{name, line}
		p.in.Guardian.Name, p.in.Guardian.Phone = "", phone(r.Telecom)
		if len(r.Name) > 0 {
			p.in.Guardian.Name = r.Name[0].String()
		}
		if len(r.Relationship) > 0 {
			p.in.Guardian.Relation = r.Relationship[0].Text
		}
	case "Condition":
		d := care.Diagnosis{Code: r.Code.code(systemDiagnosis, systemICD10), DiagnosedOn: r.OnsetDateTime}
		if len(r.Note) > 0 {
			d.Institution = strings.TrimPrefix(r.Note[0].Text, "Diagnosed at ")
		}
		p.in.Diagnoses = append(p.in.Diagnoses, d)
		p.diag = append(p.diag, at{name, line})
	case "Encounter":
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
	case "Observation":
		e := p.encounter(r.Encounter.Reference)
		if field := observe(&e.in, r); field != "" {
			e.obs[field] = at{name, line}
		}
	}
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

func (n *ndjson) close() error {
	var err error
	for _, f := range n.files {
		err = errors.Join(err, f.Close())
	}
	return errors.Join(err, n.index.close())
}

// next yields the problems of reading first, then the patients in the
// order their resources were first met.
func (n *ndjson) next() (*item, error) {
	if len(n.problems) > 0 {
		it := &item{problems: n.problems}
		n.problems = nil
		return it, nil
	}
	if len(n.page) == 0 {
		var err error
		if n.page, err = n.index.patients(500); err != nil {
			return nil, err
		}
		if len(n.page) == 0 {
			n.progress.upTo(n.size)
			return nil, io.EOF
		}
	}
	id := n.page[0]
	n.page = n.page[1:]
	lines, err := n.index.lines(id)
	if err != nil {
		return nil, err
	}
	a := &assembly{p: &fhirPatient{enc: map[string]*fhirEncounter{}}}
	var size int64
	for len(lines) > 0 {
		// Lines next to each other in a file (a file written patient by
		// patient) are read at once.
		k, length := 1, int64(lines[0].length)
		for k < len(lines) && lines[k].file == lines[0].file && lines[k].offset == lines[0].offset+length {
			length += int64(lines[k].length)
			k++
		}
		b := make([]byte, length)
		if _, err := n.files[lines[0].file].ReadAt(b, lines[0].offset); err != nil {
			return nil, err
		}
		for _, l := range lines[:k] {
			var r resource
			err := json.Unmarshal(bytes.TrimSpace(b[:l.length]), &r)
			b = b[l.length:]
			if err != nil {
				// Its head was read, but not the rest (a value of the
				// wrong type): reported next, the line left out.
				n.problems = append(n.problems, Problem{File: n.names[l.file], Line: l.line, Message: "is not a JSON resource"})
				continue
			}
			a.add(n.names[l.file], l.line, &r)
		}
		size += length
		lines = lines[k:]
	}
	n.progress.upTo(min(n.progress.given+size, n.size))
	return n.item(id, a.p), nil
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
