package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"kith/internal/care"
	"kith/internal/catalog"
	"kith/internal/clinical"
)

// pathID reads an id of the URL, such as the patient's; one that cannot be
// an id is a page that does not exist.
func pathID(r *http.Request, name string) (int64, error) {
	id, ok := care.ParseID(r.PathValue(name))
	if !ok {
		return 0, errPageNotFound
	}
	return id, nil
}

// loadPatient returns the patient of the URL as the service shows them to
// the user (a hidden not-found for one they may not see). A form that posts
// about a patient does not read them first: the service checks the write
// itself, and the patient is read only to show the form again.
func (s *server) loadPatient(r *http.Request) (*care.Patient, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.svc.Patient(r.Context(), id)
}

// patientURL is the address of a patient's record, with an optional query.
func patientURL(id int64, query ...string) string {
	u := "/patients/" + strconv.FormatInt(id, 10)
	for i, q := range query {
		if i == 0 {
			u += "?" + q
		} else {
			u += "&" + q
		}
	}
	return u
}

// today is the date forms start with, in the server's time zone.
func (s *server) today() string { return s.svc.Today().String() }

// communities returns the communities the user may see, to suggest in
// forms; typing another code works too.
func (s *server) communities(r *http.Request) ([]care.Unit, error) {
	list, _, err := s.svc.Units(r.Context(), "", care.Page{Limit: care.MaxLimit})
	var out []care.Unit
	for _, u := range list {
		if u.Level == care.Community {
			out = append(out, u)
		}
	}
	return out, err
}

// unitsOf returns the units the user may see, for filters.
func (s *server) unitsOf(r *http.Request) ([]care.Unit, error) {
	list, _, err := s.svc.Units(r.Context(), "", care.Page{Limit: care.MaxLimit})
	return list, err
}

type patientsData struct {
	Patients    []care.Patient
	Filter      *form
	NextURL     string
	Units       []care.Unit
	CanRegister bool
	// Safety is the care-and-help group's view, which knows no diagnoses:
	// the page offers no diagnosis filter.
	Safety   bool
	Filtered bool
	// Fresh says how current the results are (a search may be read from
	// a standby); nil when the search failed.
	Fresh *care.Freshness
}

var patientFilterFields = []string{"q", "org_unit", "diagnosis", "status"}

// patients searches the register: by name prefix or exact national ID, org
// unit, diagnosis and status, a page at a time.
func (s *server) patients(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	if q.Has("transferred") {
		p.Flash = p.T("patients.transferred")
	}
	f := newForm(nil, patientFilterFields...)
	for _, n := range patientFilterFields {
		f.set(n, q.Get(n))
	}
	d := patientsData{Filter: f, CanRegister: may(p.User, care.WritePatient),
		Safety: care.PatientView(p.User.Role) == care.ViewSafety}
	if d.Safety {
		f.set("diagnosis", "")
	}
	for _, n := range patientFilterFields {
		d.Filtered = d.Filtered || f.V(n) != ""
	}
	ctx, fresh := care.WithFreshnessNote(r.Context())
	list, next, err := s.svc.Patients(ctx, care.PatientQuery{Q: f.V("q"), OrgUnit: f.V("org_unit"),
		Diagnosis: f.V("diagnosis"), Status: f.V("status")}, care.Page{Token: q.Get("page_token")})
	status := http.StatusOK
	if err != nil {
		if status = p.formError(f, err); status == 0 {
			return err
		}
	}
	d.Patients = list
	if err == nil {
		d.Fresh = fresh
	}
	if next != "" {
		v := url.Values{"page_token": {next}}
		for _, n := range patientFilterFields {
			if f.V(n) != "" {
				v.Set(n, f.V(n))
			}
		}
		d.NextURL = "/patients?" + v.Encode()
	}
	if d.Units, err = s.unitsOf(r); err != nil {
		return err
	}
	return s.render(w, p, status, "patients", d)
}

// The registration and edit forms show a few rows for diagnoses, and more
// when a patient has more.
const (
	diagnosisRows    = 3
	maxDiagnosisRows = 20
)

// patientFormData is what the registration and edit forms show.
type patientFormData struct {
	Form    *form
	Patient *care.Patient // the patient edited; nil when registering
	Rows    []int         // the diagnosis rows
	Units   []care.Unit   // communities, suggested for the org unit
	// ExistingID is the record a conflict is with: the same national ID, or
	// the same name and birth date (Duplicate, which the user may confirm).
	ExistingID string
	Duplicate  bool
	// Tree is the communities to choose from, grouped under their street
	// and district: the user's jurisdiction only.
	Tree []unitGroup
	// ICD10 is the list of ICD-10 codes to choose from, named in the
	// page's language.
	ICD10 []codeOption
	// Masked is the patient's national ID as shown, when editing: the
	// field starts blank and keeps the number unless a new one is typed.
	Masked string
	// Contact is the residents' contact request a registration comes from.
	Contact int64
}

// unitGroup is a street (or district) with the communities beneath it.
type unitGroup struct {
	Label string
	Units []care.Unit
}

type codeOption struct{ Code, Label string }

// unitTree groups communities under their parents' names (district ›
// street), in the order of their paths, for a select with optgroups.
func unitTree(all []care.Unit) []unitGroup {
	names := map[string]string{}
	for _, u := range all {
		names[u.Path] = u.Name
	}
	units := slices.Clone(all)
	slices.SortFunc(units, func(a, b care.Unit) int { return strings.Compare(a.Path, b.Path) })
	var out []unitGroup
	for _, u := range units {
		if u.Level != care.Community {
			continue
		}
		parent := u.Path[:strings.LastIndex(strings.TrimSuffix(u.Path, "/"), "/")+1]
		var label []string
		for i := 1; i < len(parent); i++ {
			if parent[i] == '/' {
				if n := names[parent[:i+1]]; n != "" {
					label = append(label, n)
				}
			}
		}
		l := strings.Join(label, " › ")
		if len(out) == 0 || out[len(out)-1].Label != l {
			out = append(out, unitGroup{Label: l})
		}
		out[len(out)-1].Units = append(out[len(out)-1].Units, u)
	}
	return out
}

// icd10Options are the ICD-10 codes offered, named in the page's language.
func icd10Options(p *page) []codeOption {
	var out []codeOption
	for _, c := range catalog.ICD10() {
		out = append(out, codeOption{Code: c.Code, Label: c.Name(p.Lang)})
	}
	return out
}

// patientFields names the fields of the patient form with rows diagnosis
// rows; registering adds the fields set only then.
func patientFields(rows int, register bool) []string {
	names := []string{"name", "sex", "birth_date", "national_id", "phone", "address", "guardian.name",
		"guardian.relation", "guardian.phone", "consent", "consent_on"}
	if register {
		names = append(names, "org_unit", "status", "registered_on", "confirm_duplicate")
	}
	for i := range rows {
		for _, n := range []string{"code", "icd10", "diagnosed_on", "institution"} {
			names = append(names, rowName("diagnoses", i, n))
		}
	}
	return names
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// patientInput reads the patient form. A diagnosis row is a disorder of
// R-TARGET chosen from the list, or an ICD-10 code typed in; empty rows are
// left out, and order[i] is the form row of diagnosis i. It returns false
// when the form has a mistake of its own to show.
func patientInput(p *page, f *form, rows int) (in care.PatientInput, order []int, ok bool) {
	in = care.PatientInput{Name: f.V("name"), Sex: f.V("sex"), BirthDate: f.V("birth_date"), NationalID: f.V("national_id"),
		Phone: f.V("phone"), Address: f.V("address"), Consent: f.V("consent") != "", ConsentOn: f.V("consent_on"),
		Guardian: care.Guardian{Name: f.V("guardian.name"), Relation: f.V("guardian.relation"), Phone: f.V("guardian.phone")}}
	ok = true
	in.Diagnoses = []care.Diagnosis{}
	for i := range rows {
		code, icd := f.V(rowName("diagnoses", i, "code")), f.V(rowName("diagnoses", i, "icd10"))
		on, inst := f.V(rowName("diagnoses", i, "diagnosed_on")), f.V(rowName("diagnoses", i, "institution"))
		if code != "" && icd != "" {
			f.fieldError(p, rowName("diagnoses", i, "code"), "choose a disorder or type an ICD-10 code, not both")
			ok = false
		}
		if code == "" {
			code = icd
		}
		if code == "" && on == "" && inst == "" {
			continue
		}
		in.Diagnoses = append(in.Diagnoses, care.Diagnosis{Code: code, DiagnosedOn: on, Institution: inst})
		order = append(order, i)
	}
	return in, order, ok
}

// newPatient shows the registration form.
func (s *server) newPatient(w http.ResponseWriter, r *http.Request, p *page) error {
	if !may(p.User, care.WritePatient) {
		return errNoRights
	}
	f := newForm(nil, patientFields(diagnosisRows, true)...)
	f.set("status", string(clinical.StatusManaged))
	f.set("registered_on", s.today())
	if c := p.User.UnitCode; c != "" {
		units, err := s.communities(r)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(units, func(u care.Unit) bool { return u.Code == c }) {
			f.set("org_unit", c)
		}
	}
	d := patientFormData{Form: f, Rows: seq(diagnosisRows)}
	if v := r.URL.Query().Get("contact"); v != "" {
		// Registering the resident of a contact request: filled from it.
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return errPageNotFound
		}
		c, err := s.svc.ContactRequest(r.Context(), id)
		if err != nil {
			return err
		}
		f.set("name", c.Name)
		f.set("phone", c.Phone)
		f.set("org_unit", c.Community)
		d.Contact = c.ID
	}
	return s.renderPatientForm(w, r, p, http.StatusOK, d)
}

func (s *server) renderPatientForm(w http.ResponseWriter, r *http.Request, p *page, status int, d patientFormData) error {
	all, err := s.unitsOf(r)
	if err != nil {
		return err
	}
	d.Tree, d.ICD10 = unitTree(all), icd10Options(p)
	for _, g := range d.Tree {
		d.Units = append(d.Units, g.Units...)
	}
	p.Path = "/patients/new"
	if d.Patient != nil {
		p.Path = patientURL(d.Patient.ID) + "/edit"
	}
	return s.render(w, p, status, "patient_form", d)
}

// registerPatient puts a patient on the register. Someone of the same name
// and birth date in the district is shown with a link, and registered only
// when the user confirms.
func (s *server) registerPatient(w http.ResponseWriter, r *http.Request, p *page) error {
	if !may(p.User, care.WritePatient) {
		return errNoRights
	}
	rows := rowCount(r, "diagnosis_rows", diagnosisRows, maxDiagnosisRows)
	f := newForm(r, patientFields(rows, true)...)
	d := patientFormData{Form: f, Rows: seq(rows)}
	d.Contact, _ = strconv.ParseInt(r.PostFormValue("contact_request"), 10, 64)
	in, order, ok := patientInput(p, f, rows)
	if !ok {
		return s.renderPatientForm(w, r, p, http.StatusUnprocessableEntity, d)
	}
	in.OrgUnit, in.Status, in.RegisteredOn = f.V("org_unit"), f.V("status"), f.V("registered_on")
	in.ContactRequestID = d.Contact
	in.ConfirmDuplicate = f.V("confirm_duplicate") != ""
	pt, err := s.svc.RegisterPatient(r.Context(), in)
	if err != nil {
		renumber(err, "diagnoses", order)
		status := p.formError(f, err)
		if care.ErrorKind(err) == care.Forbidden {
			// The policy refuses this community to this user: say so by the field.
			f.fieldError(p, "org_unit", "you may not register patients in this org unit")
			status = http.StatusForbidden
		}
		if status == 0 {
			return err
		}
		var ce *care.Error
		if errors.As(err, &ce) && ce.Kind == care.Conflict {
			d.ExistingID = ce.ExistingID
			d.Duplicate = f.E("confirm_duplicate") != ""
		}
		f.set("confirm_duplicate", "")
		unanswered(p, f, "sex", "status")
		return s.renderPatientForm(w, r, p, status, d)
	}
	http.Redirect(w, r, patientURL(pt.ID, "registered=1"), http.StatusSeeOther)
	return nil
}

// editPatient shows the form to change a patient's details.
func (s *server) editPatient(w http.ResponseWriter, r *http.Request, p *page) error {
	pt, err := s.loadPatient(r)
	if err != nil {
		return err
	}
	if !may(p.User, care.WritePatient) {
		return errNoRights
	}
	rows := min(max(diagnosisRows, len(pt.Diagnoses)+1), maxDiagnosisRows)
	f := newForm(nil, patientFields(rows, false)...)
	for n, v := range map[string]string{"name": pt.Name, "sex": pt.Sex, "birth_date": pt.BirthDate,
		"phone": pt.Phone, "address": pt.Address, "guardian.name": pt.Guardian.Name, "guardian.relation": pt.Guardian.Relation,
		"guardian.phone": pt.Guardian.Phone, "consent_on": pt.ConsentOn} {
		f.set(n, v)
	}
	if pt.Consent != nil && *pt.Consent {
		f.set("consent", "1")
	}
	for i, dg := range pt.Diagnoses {
		if clinical.Diagnosis(dg.Code).Valid() {
			f.set(rowName("diagnoses", i, "code"), dg.Code)
		} else {
			f.set(rowName("diagnoses", i, "icd10"), dg.Code)
		}
		f.set(rowName("diagnoses", i, "diagnosed_on"), dg.DiagnosedOn)
		f.set(rowName("diagnoses", i, "institution"), dg.Institution)
	}
	return s.renderPatientForm(w, r, p, http.StatusOK, patientFormData{Form: f, Patient: pt, Rows: seq(rows), Masked: pt.NationalID})
}

// updatePatient saves the edit form. Community, status and registration
// have forms of their own.
func (s *server) updatePatient(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rows := rowCount(r, "diagnosis_rows", diagnosisRows, maxDiagnosisRows)
	f := newForm(r, patientFields(rows, false)...)
	d := patientFormData{Form: f, Rows: seq(rows)}
	again := func(status int) error {
		if d.Patient, err = s.svc.Patient(r.Context(), id); err != nil {
			return err
		}
		d.Masked = d.Patient.NationalID
		return s.renderPatientForm(w, r, p, status, d)
	}
	in, order, ok := patientInput(p, f, rows)
	if !ok {
		return again(http.StatusUnprocessableEntity)
	}
	// The national ID is shown masked: a blank field keeps it.
	var nid *string
	if in.NationalID != "" {
		nid = &in.NationalID
	}
	_, err = s.svc.UpdatePatient(r.Context(), id, care.PatientPatch{Name: &in.Name, Sex: &in.Sex, BirthDate: &in.BirthDate,
		NationalID: nid, Phone: &in.Phone, Address: &in.Address, Guardian: &in.Guardian, Diagnoses: &in.Diagnoses,
		Consent: &in.Consent, ConsentOn: &in.ConsentOn})
	if err != nil {
		renumber(err, "diagnoses", order)
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		unanswered(p, f, "sex")
		return again(status)
	}
	http.Redirect(w, r, patientURL(id, "saved=1"), http.StatusSeeOther)
	return nil
}
