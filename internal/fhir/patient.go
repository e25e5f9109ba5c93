package fhir

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"kith/internal/care"
	"kith/internal/clinical"
)

func init() {
	routes = append(routes,
		route{Type: "Patient", Interaction: read, Handle: (*handler).readPatient},
		route{Type: "Patient", Interaction: searchType, Handle: (*handler).searchPatients, Params: []param{
			{"name", "string", "the beginning of the name, or its pinyin initials"},
			{"identifier", "token", "a whole national ID number (" + systemNationalID + "|NUMBER or NUMBER)"},
			{"birthdate", "date", "the birth date, YYYY-MM-DD"},
			{"phone", "token", "the beginning of the phone number, 5 digits or more"},
			{"organization", "reference", "the org unit (Organization/CODE): its patients and those of the units beneath it"},
		}},
		route{Type: "Patient", Interaction: create, Handle: (*handler).createPatient},
		route{Type: "RelatedPerson", Interaction: read, Handle: (*handler).readRelatedPerson},
		route{Type: "RelatedPerson", Interaction: searchType, Handle: (*handler).searchRelatedPersons, Params: []param{
			{"patient", "reference", "the patient (Patient/ID), required"},
		}},
		route{Type: "Condition", Interaction: read, Handle: (*handler).readCondition},
		route{Type: "Condition", Interaction: searchType, Handle: (*handler).searchConditions, Params: []param{
			{"patient", "reference", "the patient (Patient/ID), required"},
		}},
	)
}

// Patient is a patient's record, as the caller's role may see it.
type Patient struct {
	ResourceType         string         `json:"resourceType"`
	ID                   string         `json:"id"`
	Meta                 *Meta          `json:"meta,omitempty"`
	Extension            []Extension    `json:"extension,omitempty"`
	Identifier           []Identifier   `json:"identifier,omitempty"`
	Active               *bool          `json:"active,omitempty"`
	Name                 []HumanName    `json:"name,omitempty"`
	Telecom              []ContactPoint `json:"telecom,omitempty"`
	Gender               string         `json:"gender,omitempty"`
	BirthDate            string         `json:"birthDate,omitempty"`
	DeceasedBoolean      *bool          `json:"deceasedBoolean,omitempty"`
	Address              []Address      `json:"address,omitempty"`
	Contact              []contact      `json:"contact,omitempty"`
	ManagingOrganization *Reference     `json:"managingOrganization,omitempty"`
}

func (p *Patient) ref() string { return "Patient/" + p.ID }

// contact is the guardian as Patient.contact, which the registration form
// (POST Patient) reads; the same person is also a RelatedPerson (with the
// rest of the family).
type contact struct {
	Relationship []CodeableConcept `json:"relationship,omitempty"`
	Name         *HumanName        `json:"name,omitempty"`
	Telecom      []ContactPoint    `json:"telecom,omitempty"`
}

func phones(v string) []ContactPoint {
	if v == "" {
		return nil
	}
	return []ContactPoint{{System: "phone", Value: v}}
}

// nationalIDType is the identifier type of a national ID (HL7 v2 table 0203).
var nationalIDType = concept(systemV2Identifer, "NI", "National unique individual identifier")

// patientResource maps a patient as the service returned it: fields the
// role may not see are already empty, so nothing more is left out here.
func patientResource(p *care.Patient) *Patient {
	out := &Patient{ResourceType: "Patient", ID: strconv.FormatInt(p.ID, 10),
		Meta: &Meta{LastUpdated: p.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z")}}
	if p.Name != "" {
		out.Name = []HumanName{{Use: "official", Text: p.Name}}
	}
	if p.RegisteredOn != "" {
		out.Extension = []Extension{{URL: extRegisteredOn, ValueDate: p.RegisteredOn}}
	}
	// The national ID: Kith shows it whole only in the audited reveal
	// (POST /api/v1/patients/{id}/national-id/reveal), never in a read or a
	// search, so the identifier carries the masked value the service gives
	// the roles that may see it (omitted for the others), and meta.security
	// says MASKED so that no client takes it for the number itself.
	if p.NationalID != "" {
		out.Identifier = append(out.Identifier, Identifier{Use: "official", Type: nationalIDType, System: systemNationalID,
			Value: p.NationalID})
		out.Meta.Security = []Coding{{System: systemSecurity, Code: "MASKED", Display: "masked"}}
	}
	if p.Status != "" {
		active := p.Status != "deceased" && p.Status != "moved_away"
		out.Active = &active
		if p.Status == "deceased" {
			dead := true
			out.DeceasedBoolean = &dead
		}
	}
	out.Telecom = phones(p.Phone)
	out.Gender = p.Sex
	out.BirthDate = p.BirthDate
	if p.Address != "" {
		out.Address = []Address{{Text: p.Address}}
	}
	if g := p.Guardian; g.Name != "" {
		c := contact{Name: &HumanName{Text: g.Name}, Telecom: phones(g.Phone)}
		c.Relationship = []CodeableConcept{{Coding: []Coding{{System: "http://terminology.hl7.org/CodeSystem/v2-0131", Code: "N",
			Display: "Next-of-Kin"}}, Text: g.Relation}}
		out.Contact = []contact{c}
	}
	if p.OrgUnit != "" {
		out.ManagingOrganization = &Reference{Reference: "Organization/" + p.OrgUnit, Display: p.OrgUnitName}
	}
	return out
}

func (h *handler) readPatient(w http.ResponseWriter, r *http.Request) error {
	return readByID(w, r, h.svc.Patient, patientResource)
}

func (h *handler) searchPatients(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("Patient")); err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var pq care.PatientQuery
	pq.Q = strings.TrimSpace(q.Get("name"))
	if strings.ContainsAny(pq.Q, "0123456789") {
		// The service's search term reads digits as a phone number or the
		// end of a national ID: a name has none, so nothing matches.
		writeResource(w, http.StatusOK, searchset(r, ""))
		return nil
	}
	terms := 0
	if pq.Q != "" {
		terms++
	}
	if v := strings.TrimSpace(q.Get("phone")); v != "" {
		digits := care.PhoneKey(v)
		if len(digits) < 5 || !phoneRE.MatchString(v) {
			return badParam("phone", "must be the beginning of a phone number, 5 digits or more")
		}
		pq.Q = digits
		terms++
	}
	if v := q.Get("identifier"); v != "" {
		sys, val, hasSys := strings.Cut(v, "|")
		if !hasSys {
			val = sys
		} else if sys != systemNationalID {
			return badParam("identifier", "the system must be "+systemNationalID)
		}
		nid, _ := clinical.NormalizeNationalID(val)
		if !clinical.ValidNationalID(nid) {
			// No patient has a number that is not one: an empty searchset.
			writeResource(w, http.StatusOK, searchset(r, ""))
			return nil
		}
		pq.Q = val
		terms++
	}
	pq.OrgUnit = strings.TrimPrefix(q.Get("organization"), "Organization/")
	if terms > 1 {
		return badParam("name", "name, identifier and phone are searched one at a time")
	}
	if v := q.Get("birthdate"); v != "" {
		if _, ok := care.ParseDate(strings.TrimPrefix(v, "eq")); !ok {
			return badParam("birthdate", "must be a date, YYYY-MM-DD")
		}
		pq.BirthDate = strings.TrimPrefix(v, "eq")
	}
	items, next, err := h.svc.Patients(r.Context(), pq, pg)
	if err != nil {
		return err
	}
	b := searchset(r, next)
	for i := range items {
		b.add(r, patientResource(&items[i]), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}

// phoneRE is what a phone search may be: digits, spaces or -, optionally
// after +.
var phoneRE = regexp.MustCompile(`^\+?[0-9][0-9 -]*$`)

// RelatedPerson is one of the patient's family members. The guardian's id
// is the patient's id with "-guardian" after it, as before families were
// kept (the id names the part, so it stays when another member becomes
// the guardian); another member's is the patient's id, "-" and the
// member's id. Every one carries the member's id as an identifier, which
// stays when the guardian changes. The care-and-help group, whose view
// holds the guardian's contact and nothing else of the family, reads the
// guardian only, as the service gives it.
type RelatedPerson struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Identifier   []Identifier      `json:"identifier,omitempty"`
	Active       bool              `json:"active"`
	Patient      Reference         `json:"patient"`
	Relationship []CodeableConcept `json:"relationship,omitempty"`
	Name         []HumanName       `json:"name,omitempty"`
	Telecom      []ContactPoint    `json:"telecom,omitempty"`
}

func (p *RelatedPerson) ref() string { return "RelatedPerson/" + p.ID }

// familyID is a family member's RelatedPerson id.
func familyID(m *care.FamilyMember) string {
	pid := strconv.FormatInt(m.PatientID, 10)
	if m.IsGuardian {
		return pid + "-guardian"
	}
	return pid + "-" + strconv.FormatInt(m.ID, 10)
}

// relatedPersonResource maps a family member: the guardian's relationship
// is coded GUARD (guardian), another member's FAMMEMB (family member), both
// of HL7 v3 RoleCode, with Kith's words for the relation as the text.
func relatedPersonResource(m *care.FamilyMember) *RelatedPerson {
	rp := &RelatedPerson{ResourceType: "RelatedPerson", ID: familyID(m), Active: true,
		Identifier: []Identifier{{System: systemFamilyMember, Value: strconv.FormatInt(m.ID, 10)}},
		Patient:    Reference{Reference: "Patient/" + strconv.FormatInt(m.PatientID, 10)}, Telecom: phones(m.Phone)}
	if m.Name != "" {
		rp.Name = []HumanName{{Text: m.Name}}
	}
	rel := CodeableConcept{Coding: []Coding{{System: systemRoleCode, Code: "FAMMEMB", Display: "family member"}}, Text: m.Relation}
	if m.IsGuardian {
		rel.Coding = []Coding{{System: systemRoleCode, Code: "GUARD", Display: "guardian"}}
	}
	rp.Relationship = []CodeableConcept{rel}
	return rp
}

// readRelatedPerson reads {patient}-guardian or {patient}-{member} from the
// patient's family. A member who has since become the guardian (or stopped
// being it) is found under the other id: the answer says which.
func (h *handler) readRelatedPerson(w http.ResponseWriter, r *http.Request) error {
	pidPart, rest, _ := strings.Cut(r.PathValue("id"), "-")
	pid, ok := care.ParseID(pidPart)
	mid, isMember := care.ParseID(rest)
	if !ok || (!isMember && rest != "guardian") {
		return &care.Error{Kind: care.NotFound, Message: "not found"}
	}
	family, err := h.svc.Family(r.Context(), pid)
	if err != nil {
		return err
	}
	for i := range family {
		m := &family[i]
		switch {
		case !isMember && m.IsGuardian, isMember && m.ID == mid && !m.IsGuardian:
			writeResource(w, http.StatusOK, relatedPersonResource(m))
			return nil
		case isMember && m.ID == mid:
			return &care.Error{Kind: care.NotFound, Message: "this family member is the guardian now: RelatedPerson/" + familyID(m)}
		}
	}
	if !isMember {
		return &care.Error{Kind: care.NotFound, Message: "the patient has no guardian on record"}
	}
	return &care.Error{Kind: care.NotFound, Message: "family member not found"}
}

func (h *handler) searchRelatedPersons(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("RelatedPerson")); err != nil {
		return err
	}
	id, err := reference(r, "patient", "Patient", true)
	if err != nil {
		return err
	}
	if _, err := page(r); err != nil {
		return err
	}
	family, err := h.svc.Family(r.Context(), id)
	if err != nil {
		return err
	}
	items, next, err := pageOf(r, family)
	if err != nil {
		return err
	}
	b := searchset(r, next)
	for i := range items {
		b.add(r, relatedPersonResource(&items[i]), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}

// Condition is one diagnosis; its id is the patient's id and the
// diagnosis's place in the record ("12-1" is patient 12's first).
type Condition struct {
	ResourceType       string            `json:"resourceType"`
	ID                 string            `json:"id"`
	ClinicalStatus     *CodeableConcept  `json:"clinicalStatus,omitempty"`
	VerificationStatus *CodeableConcept  `json:"verificationStatus,omitempty"`
	Category           []CodeableConcept `json:"category,omitempty"`
	Code               *CodeableConcept  `json:"code"`
	Subject            Reference         `json:"subject"`
	OnsetDateTime      string            `json:"onsetDateTime,omitempty"`
	Note               []annotation      `json:"note,omitempty"`
}

type annotation struct {
	Text string `json:"text"`
}

func (c *Condition) ref() string { return "Condition/" + c.ID }

// targetICD10 gives the ICD-10 code of each of R-TARGET's six target
// disorders (see internal/care's diagnosisCode for the codes Kith takes).
var targetICD10 = map[string][2]string{
	"schizophrenia":      {"F20", "Schizophrenia"},
	"schizoaffective":    {"F25", "Schizoaffective disorders"},
	"paranoid_psychosis": {"F22", "Persistent delusional disorders"},
	"bipolar":            {"F31", "Bipolar affective disorder"},
	"epilepsy_psychosis": {"F06", "Other mental disorders due to brain damage and dysfunction and to physical disease"},
	// intellectual_disability_psychosis spans F70–F79: no one ICD-10 code.
}

func conditionResource(p *care.Patient, i int) *Condition {
	d := p.Diagnoses[i]
	pid := strconv.FormatInt(p.ID, 10)
	c := &Condition{ResourceType: "Condition", ID: pid + "-" + strconv.Itoa(i+1),
		ClinicalStatus:     concept(systemCondClinic, "active", "Active"),
		VerificationStatus: concept(systemCondVerify, "confirmed", "Confirmed"),
		Category:           []CodeableConcept{*concept(systemCondCat, "encounter-diagnosis", "Encounter Diagnosis")},
		Subject:            Reference{Reference: "Patient/" + pid}, OnsetDateTime: d.DiagnosedOn}
	if clinical.Diagnosis(d.Code).Valid() {
		c.Code = &CodeableConcept{Coding: []Coding{{System: systemDiagnosis, Code: d.Code}}}
		if icd, ok := targetICD10[d.Code]; ok {
			c.Code.Coding = append(c.Code.Coding, Coding{System: systemICD10, Code: icd[0], Display: icd[1]})
		}
	} else {
		c.Code = &CodeableConcept{Coding: []Coding{{System: systemICD10, Code: d.Code}}}
	}
	if d.Institution != "" {
		// The institution that diagnosed is a free text in Kith: a note, not
		// a reference (an asserter is a person).
		c.Note = []annotation{{Text: "Diagnosed at " + d.Institution}}
	}
	return c
}

func (h *handler) readCondition(w http.ResponseWriter, r *http.Request) error {
	pidPart, nPart, _ := strings.Cut(r.PathValue("id"), "-")
	pid, ok1 := care.ParseID(pidPart)
	n, ok2 := care.ParseID(nPart)
	if !ok1 || !ok2 {
		return &care.Error{Kind: care.NotFound, Message: "not found"}
	}
	p, err := h.svc.Patient(r.Context(), pid)
	if err != nil {
		return err
	}
	if int(n) > len(p.Diagnoses) {
		return &care.Error{Kind: care.NotFound, Message: "condition not found"}
	}
	writeResource(w, http.StatusOK, conditionResource(p, int(n)-1))
	return nil
}

func (h *handler) searchConditions(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("Condition")); err != nil {
		return err
	}
	id, err := reference(r, "patient", "Patient", true)
	if err != nil {
		return err
	}
	p, err := h.svc.Patient(r.Context(), id)
	if err != nil {
		return err
	}
	b := searchset(r, "")
	for i := range p.Diagnoses {
		b.add(r, conditionResource(p, i), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}

// patientIn is the part of a Patient resource that registration reads.
type patientIn struct {
	ResourceType         string         `json:"resourceType"`
	ID                   string         `json:"id"`
	Meta                 any            `json:"meta"`
	Extension            []Extension    `json:"extension"`
	Identifier           []Identifier   `json:"identifier"`
	Active               *bool          `json:"active"`
	Name                 []HumanName    `json:"name"`
	Telecom              []ContactPoint `json:"telecom"`
	Gender               string         `json:"gender"`
	BirthDate            string         `json:"birthDate"`
	Address              []Address      `json:"address"`
	Contact              []contact      `json:"contact"`
	ManagingOrganization *Reference     `json:"managingOrganization"`
}

// input is the registration a Patient resource asks for, and the path of
// the element each of its fields came from. Elements Kith does not keep (a
// second name, maritalStatus, …) are not read.
func (in *patientIn) input() (care.PatientInput, map[string]string) {
	var pi care.PatientInput
	paths := map[string]string{}
	if len(in.Name) > 0 {
		pi.Name = in.Name[0].whole()
	}
	pi.Sex, pi.BirthDate = in.Gender, in.BirthDate
	for i, id := range in.Identifier {
		if id.System == systemNationalID {
			pi.NationalID = id.Value
			paths["national_id"] = "Patient.identifier[" + strconv.Itoa(i) + "].value"
		}
	}
	for i, t := range in.Telecom {
		if t.System == "phone" && pi.Phone == "" {
			pi.Phone = t.Value
			paths["phone"] = "Patient.telecom[" + strconv.Itoa(i) + "].value"
		}
	}
	if len(in.Address) > 0 {
		pi.Address = in.Address[0].Text
	}
	if len(in.Contact) > 0 {
		c := in.Contact[0]
		if c.Name != nil {
			pi.Guardian.Name = c.Name.whole()
		}
		if len(c.Relationship) > 0 {
			pi.Guardian.Relation = c.Relationship[0].Text
		}
		for i, t := range c.Telecom {
			if t.System == "phone" && pi.Guardian.Phone == "" {
				pi.Guardian.Phone = t.Value
				paths["guardian.phone"] = "Patient.contact[0].telecom[" + strconv.Itoa(i) + "].value"
			}
		}
	}
	if in.ManagingOrganization != nil {
		pi.OrgUnit = strings.TrimPrefix(in.ManagingOrganization.Reference, "Organization/")
	}
	for i, e := range in.Extension {
		switch {
		case e.URL == extConfirmDuplicate && e.ValueBoolean != nil:
			pi.ConfirmDuplicate = *e.ValueBoolean
			paths["confirm_duplicate"] = "Patient.extension[" + strconv.Itoa(i) + "]"
		case e.URL == extRegisteredOn:
			pi.RegisteredOn = e.ValueDate
			paths["registered_on"] = "Patient.extension[" + strconv.Itoa(i) + "].valueDate"
		}
	}
	return pi, paths
}

// patientPath names the element of a Patient a registration field is;
// sent holds the paths of the fields that came from a list (see input).
func patientPath(field string, sent map[string]string) string {
	if p, ok := sent[field]; ok {
		return p
	}
	switch {
	case field == "name":
		return "Patient.name[0].text"
	case field == "sex":
		return "Patient.gender"
	case field == "birth_date":
		return "Patient.birthDate"
	case field == "national_id":
		return "Patient.identifier"
	case field == "phone":
		return "Patient.telecom"
	case field == "address":
		return "Patient.address[0].text"
	case field == "org_unit":
		return "Patient.managingOrganization.reference"
	case field == "guardian.name":
		return "Patient.contact[0].name.text"
	case field == "guardian.relation":
		return "Patient.contact[0].relationship[0].text"
	case field == "guardian.phone":
		return "Patient.contact[0].telecom"
	case field == "confirm_duplicate":
		return "Patient.extension"
	case field == "registered_on":
		return "Patient.extension"
	case field == "status", field == "consent", field == "consent_on":
		return "Patient"
	}
	return "Patient." + field
}

// createPatient registers a patient from a Patient resource: name, gender,
// birthDate, the national ID as an identifier of system
// urn:kith:fhir:national-id, phone, address, the guardian as the first
// contact, managingOrganization (the community); with the same validation
// and duplicate checks as the API. A possible duplicate (same name and birth
// date in the district) is registered only with the extension
// urn:kith:fhir:confirm-duplicate set to true; the extension
// urn:kith:fhir:registered-on (valueDate) gives the registration date of a
// patient registered earlier elsewhere (today without it).
func (h *handler) createPatient(w http.ResponseWriter, r *http.Request) error {
	var in patientIn
	if err := decodeResource(r, "Patient", &in); err != nil {
		return h.refuseFirst(r, care.WritePatient, 0, err)
	}
	if in.ID != "" {
		return h.refuseFirst(r, care.WritePatient, 0, &requestError{status: http.StatusBadRequest, code: "invalid",
			msg: "a new resource has no id: the server gives it", expression: "Patient.id"})
	}
	pi, sent := in.input()
	p, err := h.svc.RegisterPatient(r.Context(), pi)
	if err != nil {
		return fieldPaths(err, func(f string) string { return patientPath(f, sent) })
	}
	res := patientResource(p)
	w.Header().Set("Location", absURL(r, Base+"/"+res.ref()))
	writeResource(w, http.StatusCreated, res)
	return nil
}

// decodeResource reads a JSON body holding a resource of type typ into v.
func decodeResource(r *http.Request, typ string, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(ct, ContentType) && !strings.HasPrefix(ct, "application/json") {
		return &requestError{status: http.StatusUnsupportedMediaType, code: "not-supported",
			msg: "the body must be FHIR JSON (Content-Type: " + ContentType + ")"}
	}
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return &requestError{status: http.StatusBadRequest, code: "structure", msg: "the body is not a JSON object"}
	}
	if head.ResourceType != typ {
		return &requestError{status: http.StatusBadRequest, code: "invalid", msg: "the body must be a " + typ + " resource",
			expression: typ + ".resourceType"}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &requestError{status: http.StatusBadRequest, code: "structure", msg: "the " + typ + " does not have the form this server reads" + jsonWhere(err)}
	}
	return nil
}

// jsonWhere names the element a JSON decoding error is about, without the
// value (which may be personal data).
func jsonWhere(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return ": " + te.Field + " must be " + te.Type.Kind().String()
	}
	return ""
}

// readBody reads the request's body, refusing one over the server's limit.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, &requestError{status: http.StatusRequestEntityTooLarge, code: "too-costly",
			msg: "the body is larger than " + strconv.FormatInt(maxErr.Limit, 10) + " bytes"}
	}
	if err != nil {
		return nil, &requestError{status: http.StatusBadRequest, code: "structure", msg: "the body could not be read"}
	}
	return body, nil
}
