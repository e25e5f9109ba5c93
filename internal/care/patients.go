package care

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kith/internal/clinical"
	"kith/internal/report"
	"kith/internal/store"
)

// Guardian is the patient's guardian.
type Guardian struct {
	Name     string `json:"name"`
	Relation string `json:"relation"`
	Phone    string `json:"phone"`
}

// Diagnosis is one recorded diagnosis: a code of R-TARGET or an ICD-10 code.
type Diagnosis struct {
	Code        string `json:"code"`
	DiagnosedOn string `json:"diagnosed_on,omitempty"`
	Institution string `json:"institution,omitempty"`
}

// StatusChange is one entry of a patient's status history.
type StatusChange struct {
	Status    string `json:"status"`
	ChangedOn string `json:"changed_on"`
	Reason    string `json:"reason,omitempty"`
	Actor     string `json:"actor"`
}

// Patient is a patient's record as the actor may see it: fields the actor's
// role may not see are empty (see View).
type Patient struct {
	ID                 int64          `json:"id"`
	Name               string         `json:"name"`
	Sex                string         `json:"sex,omitempty"`
	BirthDate          string         `json:"birth_date,omitempty"`
	NationalID         string         `json:"national_id,omitempty"`
	Phone              string         `json:"phone"`
	Address            string         `json:"address"`
	OrgUnit            string         `json:"org_unit"`
	OrgUnitName        string         `json:"org_unit_name"`
	Guardian           Guardian       `json:"guardian"`
	Diagnoses          []Diagnosis    `json:"diagnoses,omitempty"`
	Severe             *bool          `json:"severe,omitempty"`
	Status             string         `json:"status"`
	StatusHistory      []StatusChange `json:"status_history,omitempty"`
	RegisteredOn       string         `json:"registered_on"`
	Consent            *bool          `json:"consent,omitempty"`
	ConsentOn          string         `json:"consent_on,omitempty"`
	NextDueOn          string         `json:"next_due_on"`
	NextDueRule        string         `json:"next_due_rule"`
	LastFollowUpOn     string         `json:"last_follow_up_on"`
	LastClassification string         `json:"last_classification,omitempty"`
	LastRiskLevel      *int           `json:"last_risk_level"`
	View               string         `json:"view"`
	UpdatedAt          time.Time      `json:"updated_at"`

	path   string
	unitID int64
}

// PatientInput registers a patient or, in UpdatePatient, replaces the
// editable fields.
type PatientInput struct {
	Name         string      `json:"name"`
	Sex          string      `json:"sex"`
	BirthDate    string      `json:"birth_date"`
	NationalID   string      `json:"national_id"`
	Phone        string      `json:"phone"`
	Address      string      `json:"address"`
	OrgUnit      string      `json:"org_unit"`
	Guardian     Guardian    `json:"guardian"`
	Diagnoses    []Diagnosis `json:"diagnoses"`
	Status       string      `json:"status"`
	RegisteredOn string      `json:"registered_on"`
	Consent      bool        `json:"consent"`
	ConsentOn    string      `json:"consent_on"`
	// ConfirmDuplicate registers the patient although someone of the same
	// name and birth date is on the register of the same district.
	ConfirmDuplicate bool `json:"confirm_duplicate"`
	// ContactRequestID, when not 0, is the residents' contact request the
	// patient is registered from: it is closed as registered with them.
	ContactRequestID int64 `json:"contact_request_id,omitempty"`
}

// firstFollowUpDays: a newly registered patient's first follow-up falls due
// this many days after registration (Kith's default; the national rules
// set intervals only between follow-ups).
const firstFollowUpDays = 14

var phoneRE = regexp.MustCompile(`^\+?[0-9][0-9 -]{4,19}$`)

// checkDate validates an optional date field that may not lie in the future.
func checkDate(f *fields, field, v string, required bool) {
	if v == "" {
		if required {
			f.add(field, "is required")
		}
		return
	}
	t, ok := ParseDate(v)
	switch {
	case !ok:
		f.add(field, "must be a real date, YYYY-MM-DD")
	case v > f.date():
		f.add(field, "cannot be in the future")
	case t.Year() < 1900:
		f.add(field, "is too far in the past")
	}
}

// checkText cleans and checks a one-line free text (see CleanText).
func checkText(f *fields, field, v string, max int) string {
	return checkLength(f, field, cleanField(f, field, v, false), max)
}

// checkNote cleans and checks a free text that may hold several lines.
func checkNote(f *fields, field, v string, max int) string {
	return checkLength(f, field, cleanField(f, field, v, true), max)
}

func checkLength(f *fields, field, v string, max int) string {
	if utf8.RuneCountInString(v) > max {
		f.add(field, fmt.Sprintf("must be at most %d characters", max))
	}
	return v
}

func checkPhone(f *fields, field, v string) string {
	v = strings.TrimSpace(v)
	if v != "" && !phoneRE.MatchString(v) {
		f.add(field, "must be a phone number: digits, spaces or -, optionally starting with +")
	}
	return v
}

// normalize validates in and returns the national ID normalised and whether
// the patient has a severe disorder; field errors go to f.
func (in *PatientInput) normalize(f *fields) (nid string, severe bool) {
	in.Name = checkName(f, "name", in.Name, 100)
	in.deriveFromNationalID()
	if in.Sex != "male" && in.Sex != "female" {
		f.add("sex", "must be male or female")
	}
	checkDate(f, "birth_date", in.BirthDate, true)
	if in.NationalID = strings.TrimSpace(in.NationalID); in.NationalID != "" {
		nid, _ = clinical.NormalizeNationalID(in.NationalID)
		switch {
		case !clinical.ValidNationalID(nid):
			f.add("national_id", "is not a valid 18-character national ID number (check digit or birth date wrong)")
		case in.BirthDate != "" && nid[6:10]+"-"+nid[10:12]+"-"+nid[12:14] != in.BirthDate:
			f.add("national_id", "does not match the birth date")
		}
	}
	in.Phone = checkPhone(f, "phone", in.Phone)
	in.Address = checkText(f, "address", in.Address, 200)
	in.Guardian.Name = checkText(f, "guardian.name", in.Guardian.Name, 100)
	in.Guardian.Relation = checkText(f, "guardian.relation", in.Guardian.Relation, 50)
	in.Guardian.Phone = checkPhone(f, "guardian.phone", in.Guardian.Phone)
	if len(in.Diagnoses) > 20 {
		f.add("diagnoses", "at most 20")
	}
	codes := make([]string, len(in.Diagnoses))
	for i, d := range in.Diagnoses {
		field := "diagnoses[" + strconv.Itoa(i) + "]"
		code, ok := diagnosisCode(d.Code)
		if !ok {
			f.add(field+".code", "must be one of the six target codes (such as schizophrenia) or an ICD-10 code (such as F20.0)")
		}
		in.Diagnoses[i].Code, codes[i] = code, code
		checkDate(f, field+".diagnosed_on", d.DiagnosedOn, false)
		in.Diagnoses[i].Institution = checkText(f, field+".institution", d.Institution, 100)
	}
	severe = len(clinical.SevereDiagnoses(codes)) > 0
	if in.Status == "" {
		in.Status = string(clinical.StatusManaged)
	}
	if !clinical.PatientStatus(in.Status).Valid() {
		f.add("status", "must be managed, hospitalised, moved_away, lost or deceased")
	}
	if in.RegisteredOn == "" {
		in.RegisteredOn = f.date()
	}
	checkDate(f, "registered_on", in.RegisteredOn, true)
	if in.BirthDate != "" && in.RegisteredOn < in.BirthDate {
		f.add("registered_on", "cannot be before the birth date")
	}
	if in.Consent {
		checkDate(f, "consent_on", in.ConsentOn, false)
	} else if in.ConsentOn != "" {
		f.add("consent_on", "only with consent")
	}
	return nid, severe
}

// deriveFromNationalID fills a blank birth date and sex from a valid
// 18-character national ID, which holds both: the birth date in characters
// 7 to 14, the sex in the parity of the 17th (odd for men).
func (in *PatientInput) deriveFromNationalID() {
	nid, _ := clinical.NormalizeNationalID(strings.TrimSpace(in.NationalID))
	if !clinical.ValidNationalID(nid) {
		return
	}
	if in.BirthDate == "" {
		in.BirthDate = nid[6:10] + "-" + nid[10:12] + "-" + nid[12:14]
	}
	if in.Sex == "" {
		in.Sex = "female"
		if (nid[16]-'0')%2 == 1 {
			in.Sex = "male"
		}
	}
}

// diagnosisCode normalises a diagnosis: one of the six target codes of
// R-TARGET as it is, or an ICD-10 code in upper case.
func diagnosisCode(code string) (string, bool) {
	code = strings.TrimSpace(code)
	if clinical.Diagnosis(code).Valid() {
		return code, true
	}
	return clinical.NormalizeICD10(code)
}

// communityByCode resolves the community a patient belongs to.
func communityByCode(ctx context.Context, tx *store.Tx, f *fields, code string) (*unitRow, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		f.add("org_unit", "is required")
		return nil, nil
	}
	u, err := unitByCode(ctx, tx, code)
	if err != nil {
		return nil, err
	}
	switch {
	case u == nil:
		f.add("org_unit", "no org unit has this code")
	case u.Level != Community:
		f.add("org_unit", "must be a community")
	}
	return u, nil
}

// RegisterPatient puts a patient on the register. A national ID already on
// the register is refused (Conflict, with the existing id); someone of the
// same name and birth date in the same district needs ConfirmDuplicate.
func (s *Service) RegisterPatient(ctx context.Context, in PatientInput) (*Patient, error) {
	var id int64
	err := s.act(ctx, "patient.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "patient", a.UnitCode, a.UnitPath
		if !mayEver(a, WritePatient) {
			return errForbidden()
		}
		var err error
		id, err = s.register(ctx, tx, a, &in, sub, WritePatient)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Patient(ctx, id)
}

// register validates and inserts a patient for RegisterPatient and for an
// import, the policy asked about act (WritePatient or ImportRegistry).
func (s *Service) register(ctx context.Context, tx *store.Tx, a *Actor, in *PatientInput, sub *subject, act Action) (int64, error) {
	var id int64
	err := func() error {
		f := s.fields()
		nid, severe := in.normalize(&f)
		unit, err := communityByCode(ctx, tx, &f, in.OrgUnit)
		if err != nil {
			return err
		}
		if unit != nil {
			sub.Unit, sub.Path = unit.Code, unit.Path
		}
		if unit != nil && unit.Level == Community && !Allow(a, act, Target{Path: unit.Path}) {
			return errForbidden()
		}
		if err := f.err(); err != nil {
			return err
		}
		if !Allow(a, act, Target{Path: unit.Path}) {
			return errForbidden()
		}
		var nidHash any
		var sealed string
		if nid != "" {
			h := s.nationalIDHash(nid)
			var existing int64
			var path string
			err := tx.QueryRow(ctx, `SELECT id, org_path FROM patients WHERE national_id_hash = ?`, h).Scan(&existing, &path)
			if err == nil {
				if !Allow(a, ReadPatient, Target{Path: path}) {
					return collision(ctx, tx, sub, existing, "national_id")
				}
				return &Error{Kind: Conflict, Message: "a patient with this national ID is already on the register",
					ExistingID: strconv.FormatInt(existing, 10), Fields: []FieldError{{Field: "national_id", Message: "is already on the register"}}}
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if sealed, err = s.sealNationalID(nid); err != nil {
				return err
			}
			nidHash = h
		}
		if !in.ConfirmDuplicate {
			lo, hi := store.Beneath(districtOf(unit.Path))
			var dup int64
			var path string
			err := tx.QueryRow(ctx, `SELECT id, org_path FROM patients WHERE birth_date = ? AND name_key = ? AND org_path >= ? AND org_path < ?
				ORDER BY id LIMIT 1`, in.BirthDate, strings.ToLower(in.Name), lo, hi).Scan(&dup, &path)
			if err == nil && !Allow(a, ReadPatient, Target{Path: path}) {
				return collision(ctx, tx, sub, dup, "confirm_duplicate")
			}
			if err == nil {
				return &Error{Kind: Conflict, ExistingID: strconv.FormatInt(dup, 10),
					Message: "a patient with the same name and birth date is on the register of this district; check it is not the same person, then confirm",
					Fields:  []FieldError{{Field: "confirm_duplicate", Message: "confirm to register a possible duplicate"}}}
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		reg, _ := ParseDate(in.RegisteredOn)
		due := reg.AddDate(0, 0, firstFollowUpDays).Format(store.DateLayout)
		row := s.patientValues(in, unit, nid, sealed, nidHash, severe,
			patientState{status: in.Status, leftOn: leftOn(in.Status, in.RegisteredOn), due: due}, tx.Now())
		err = tx.QueryRow(ctx, insertPatientSQL, row...).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errConflict("a patient with this national ID is already on the register")
		}
		if err != nil {
			return err
		}
		sub.ID = strconv.FormatInt(id, 10)
		if err := insertDiagnoses(ctx, tx, id, in.Diagnoses); err != nil {
			return err
		}
		if err := setGuardian(ctx, tx, id, in.Guardian); err != nil {
			return err
		}
		if err := report.Touch(ctx, tx, id); err != nil {
			return err
		}
		if in.ContactRequestID != 0 {
			if err := s.closeAsRegistered(ctx, tx, a, in.ContactRequestID, id); err != nil {
				return err
			}
		}
		return addStatus(ctx, tx, id, in.Status, in.RegisteredOn, "registered", a.Username)
	}()
	return id, err
}

// patientColumns are the columns of a new patient's row, in the order of
// patientValues: registration inserts one (register), an import many
// (importBatch.write).
var patientColumns = []string{"org_unit_id", "org_path", "name", "name_key", "sex", "birth_date", "national_id_enc",
	"national_id_hash", "phone", "address", "guardian_name", "guardian_relation", "guardian_phone", "consent", "consent_on",
	"status", "registered_on", "severe", "next_due_on", "next_due_rule", "created_at", "updated_at", "left_on",
	"name_initials", "phone_key", "national_id_tail", "search_keys"}

var insertPatientSQL = "INSERT INTO patients (" + strings.Join(patientColumns, ", ") + ") VALUES (" +
	store.Marks(len(patientColumns)) + ") RETURNING id"

// patientState is what a new patient's row says of where they stand: a
// registration's is as registered, an import's what their history led to.
type patientState struct {
	status, leftOn, due, dueRule string
}

// patientValues is the row of a patient put on the register, validated
// (in normalized, the unit checked), in the order of patientColumns. nid is
// the national ID normalized, sealed and nidHash its stored forms (nidHash
// nil without one).
func (s *Service) patientValues(in *PatientInput, unit *unitRow, nid, sealed string, nidHash any, severe bool,
	st patientState, at time.Time) []any {
	now := store.FormatTime(at)
	initials, phoneKey, tail := s.SearchColumns(in.Name, in.Phone, nid)
	return []any{unit.id, unit.Path, in.Name, strings.ToLower(in.Name), in.Sex, in.BirthDate, sealed, nidHash, in.Phone,
		in.Address, in.Guardian.Name, in.Guardian.Relation, in.Guardian.Phone, in.Consent, in.ConsentOn, st.status,
		in.RegisteredOn, severe, st.due, st.dueRule, now, now, st.leftOn, initials, phoneKey, tail, 1}
}

// collision answers a registration that matches a record the actor may not
// see: the answer says only that the district must help (no id, no link,
// so that registration cannot tell whether someone is on the register
// elsewhere), and the attempt is recorded in the matched record's unit as
// well, where its district administrator sees it in the audit log.
func collision(ctx context.Context, tx *store.Tx, sub *subject, id int64, field string) error {
	var code string
	var path string
	if err := tx.QueryRow(ctx, `SELECT o.code, o.path FROM patients p JOIN org_units o ON o.id = p.org_unit_id WHERE p.id = ?`, id).
		Scan(&code, &path); err != nil {
		return err
	}
	sub.also = append(sub.also, extraEntry{action: "patient.register_collision", sub: subject{Type: "patient",
		ID: strconv.FormatInt(id, 10), Unit: code, Path: path, Detail: "registration attempted in " + sub.Unit + " matched by " + field}})
	msg := "needs the help of the district"
	if field == "confirm_duplicate" {
		msg = "confirm to register a possible duplicate"
	}
	return &Error{Kind: Conflict, Message: "registering this person needs the help of the district: please call the district's mental health office",
		Fields: []FieldError{{Field: field, Message: msg}}}
}

func insertDiagnoses(ctx context.Context, tx *store.Tx, id int64, ds []Diagnosis) error {
	for _, d := range ds {
		if _, err := tx.Exec(ctx, `INSERT INTO patient_diagnoses (patient_id, code, diagnosed_on, institution) VALUES (?, ?, ?, ?)`,
			id, d.Code, d.DiagnosedOn, d.Institution); err != nil {
			return err
		}
	}
	return nil
}

func addStatus(ctx context.Context, tx *store.Tx, id int64, status, on, reason, actor string) error {
	_, err := tx.Exec(ctx, `INSERT INTO patient_status_history (patient_id, status, changed_on, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, status, on, reason, actor, store.FormatTime(tx.Now()))
	return err
}

const patientSelect = `SELECT p.id, p.org_unit_id, p.org_path, o.code, o.name, p.name, p.sex, p.birth_date, p.national_id_enc, p.phone,
	p.address, p.guardian_name, p.guardian_relation, p.guardian_phone, p.consent, p.consent_on, p.status, p.registered_on, p.severe,
	p.next_due_on, p.next_due_rule, p.last_followup_on, p.last_classification, p.last_risk_level, p.updated_at
	FROM patients p JOIN org_units o ON o.id = p.org_unit_id`

// patientRow is a patient as stored, before redaction.
type patientRow struct {
	Patient
	sealedNID string
	consent   bool
	severe    bool
}

func scanPatient(sc interface{ Scan(...any) error }) (*patientRow, error) {
	var r patientRow
	var risk sql.NullInt64
	var updated string
	err := sc.Scan(&r.ID, &r.unitID, &r.path, &r.OrgUnit, &r.OrgUnitName, &r.Name, &r.Sex, &r.BirthDate, &r.sealedNID, &r.Phone,
		&r.Address, &r.Guardian.Name, &r.Guardian.Relation, &r.Guardian.Phone, &r.consent, &r.ConsentOn, &r.Status,
		&r.RegisteredOn, &r.severe, &r.NextDueOn, &r.NextDueRule, &r.LastFollowUpOn, &r.LastClassification, &risk, &updated)
	if risk.Valid {
		n := int(risk.Int64)
		r.LastRiskLevel = &n
	}
	r.UpdatedAt = store.MustTime(updated)
	return &r, err
}

// patientByID loads a patient, or nil if there is none. The queries of
// also go in the same round trip (store.Tx.QueryAll), as does the BEGIN of
// a transaction that has sent nothing yet.
func patientByID(ctx context.Context, tx *store.Tx, id int64, also ...store.Query) (*patientRow, error) {
	var r *patientRow
	err := tx.QueryAll(ctx, append([]store.Query{{SQL: patientSelect + ` WHERE p.id = ?`, Args: []any{id},
		Row: func(scan func(...any) error) (err error) {
			r, err = scanPatient(scanner(scan))
			return err
		}}}, also...)...)
	return r, err
}

// visible loads a patient for action act by the actor, or returns a hidden
// not-found (audited as denied) when the actor may not reach them. The
// reads of also go with the patient's (patientByID); what they read may
// be used only once visible has allowed the action.
func visible(ctx context.Context, tx *store.Tx, a *Actor, act Action, id int64, sub *subject, also ...store.Query) (*patientRow, error) {
	sub.Type, sub.ID = "patient", strconv.FormatInt(id, 10)
	r, err := patientByID(ctx, tx, id, also...)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errNotFound("patient")
	}
	sub.Unit, sub.Path = r.OrgUnit, r.path
	t := Target{Path: r.path, Patient: id}
	if Allow(a, act, t) {
		return r, nil
	}
	if b, err := teamGrant(ctx, tx, a, id); err != nil {
		return nil, err
	} else if b != a && Allow(b, act, t) {
		sub.Detail = TeamDetail
		return r, nil
	}
	if act == ReadPatient {
		// Outside the jurisdiction: a live break-the-glass grant lets the
		// policy allow the read, and the audit entry says so.
		reason, err := liveGrant(ctx, tx, a.Username, id)
		if err != nil {
			return nil, err
		}
		if reason != "" && Allow(a.withGlass(id), act, t) {
			sub.Detail = GlassDetail + reason
			return r, nil
		}
		// A referral up to the actor's institution lets them read it.
		if ok, err := referralGrant(ctx, tx, a, id); err != nil {
			return nil, err
		} else if ok && Allow(a.withReferred(id), act, t) {
			sub.Detail = ReferredDetail
			return r, nil
		}
	}
	return nil, errHidden("patient")
}

// redact returns the record as the actor's role may see it. Redaction
// happens here, in the service, so no transport can show more.
// The national ID is always masked (see RevealNationalID).
func (s *Service) redact(r *patientRow, v View) *Patient {
	p := r.Patient
	p.View = viewName(v)
	switch v {
	case ViewSafety:
		// Name, address, contact, guardian, current risk and follow-up dates
		// only. The due rule goes too: R-NEXT-UNSTABLE names the classification.
		p.Sex, p.BirthDate, p.Diagnoses, p.LastClassification, p.StatusHistory, p.NextDueRule = "", "", nil, "", nil, ""
		return &p
	case ViewNone:
		return &Patient{ID: r.ID, View: p.View}
	}
	sev, consent := r.severe, r.consent
	p.Severe, p.Consent = &sev, &consent
	if nid, err := s.openNationalID(r.sealedNID); err == nil && nid != "" {
		p.NationalID = clinical.MaskNationalID(nid)
	}
	return &p
}

func viewName(v View) string {
	return [...]string{"none", "full", "clinical", "social", "safety"}[v]
}

// Patient returns one patient's record, redacted for the actor's role, with
// the national ID masked (RevealNationalID shows it). The read is audited.
func (s *Service) Patient(ctx context.Context, id int64) (*Patient, error) {
	var out *Patient
	err := s.view(ctx, "patient.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		var err error
		out, err = s.readPatient(ctx, tx, a, id, sub)
		return err
	})
	return out, err
}

// readPatient loads a patient's whole record as the actor's role may see it.
func (s *Service) readPatient(ctx context.Context, tx *store.Tx, a *Actor, id int64, sub *subject) (*Patient, error) {
	r, err := visible(ctx, tx, a, ReadPatient, id, sub)
	if err != nil {
		return nil, err
	}
	v := PatientView(a.Role)
	if v != ViewSafety {
		if r.Diagnoses, err = diagnosesOf(ctx, tx, id); err != nil {
			return nil, err
		}
		if r.StatusHistory, err = statusHistoryOf(ctx, tx, id); err != nil {
			return nil, err
		}
	}
	return s.redact(r, v), nil
}

// RevealNationalID returns a patient's national ID in full, for a role whose
// view includes it. Everywhere else it is masked: seeing it whole is a
// deliberate act, audited as its own entry.
func (s *Service) RevealNationalID(ctx context.Context, id int64) (string, error) {
	var out string
	err := s.act(ctx, "patient.national_id.reveal", func(tx *store.Tx, a *Actor, sub *subject) error {
		r, err := visible(ctx, tx, a, ReadPatient, id, sub)
		if err != nil {
			return err
		}
		if v := PatientView(a.Role); v == ViewSafety || v == ViewNone {
			return &Error{Kind: Forbidden, denied: true, Message: "your role may not see national ID numbers"}
		}
		if out, err = s.openNationalID(r.sealedNID); err != nil {
			return err
		}
		if out == "" {
			return errNotFound("national ID")
		}
		return nil
	})
	return out, err
}

func diagnosesOf(ctx context.Context, tx *store.Tx, id int64) ([]Diagnosis, error) {
	rows, err := tx.Query(ctx, `SELECT code, diagnosed_on, institution FROM patient_diagnoses WHERE patient_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Diagnosis
	for rows.Next() {
		var d Diagnosis
		if err := rows.Scan(&d.Code, &d.DiagnosedOn, &d.Institution); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func statusHistoryOf(ctx context.Context, tx *store.Tx, id int64) ([]StatusChange, error) {
	rows, err := tx.Query(ctx, `SELECT status, changed_on, reason, actor FROM patient_status_history WHERE patient_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StatusChange
	for rows.Next() {
		var c StatusChange
		if err := rows.Scan(&c.Status, &c.ChangedOn, &c.Reason, &c.Actor); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PatientQuery filters the register. Q is a name prefix, the pinyin
// initials of a name, the beginning of a phone number, an exact national ID
// number or its last four characters (see searchTerm).
type PatientQuery struct {
	Q         string
	OrgUnit   string
	Diagnosis string
	Status    string
	BirthDate string // YYYY-MM-DD, exact
}

// patientScope resolves the org unit whose patients a list covers: the
// actor's own unit, or orgUnit if given, which must lie in the actor's
// jurisdiction. It fills in the audit subject's unit.
func patientScope(ctx context.Context, tx *store.Tx, a *Actor, orgUnit string, sub *subject) (string, error) {
	return scopeFor(ctx, tx, a, ReadPatient, orgUnit, sub)
}

// scopeFor is patientScope for a list governed by another action.
func scopeFor(ctx context.Context, tx *store.Tx, a *Actor, act Action, orgUnit string, sub *subject) (string, error) {
	scope := a.UnitPath
	sub.Unit, sub.Path = a.UnitCode, a.UnitPath
	if orgUnit != "" {
		u, err := unitByCode(ctx, tx, orgUnit)
		if err != nil {
			return "", err
		}
		if u == nil || !Allow(a, act, Target{Path: u.Path}) {
			return "", invalid("org_unit", "no org unit you may see has this code")
		}
		scope, sub.Unit, sub.Path = u.Path, u.Code, u.Path
	}
	if !Allow(a, act, Target{Path: scope}) {
		return "", errForbidden()
	}
	return scope, nil
}

// searchTerm turns what was typed into the search box into a condition on
// patients p: a whole national ID matches exactly; four characters that can
// end one (1234, 002X) match the ID's last four; five or more digits are
// the beginning of a phone number; Latin letters are the pinyin initials of
// the name (zs finds 张三) or the beginning of a Latin name; anything else
// is the beginning of the name.
func (s *Service) searchTerm(term string) (string, []any) {
	if nid, _ := clinical.NormalizeNationalID(term); clinical.ValidNationalID(nid) {
		return `p.national_id_hash = ?`, []any{s.nationalIDHash(nid)}
	}
	if nidTailRE.MatchString(term) {
		return `p.national_id_tail = ?`, []any{s.nationalIDTailHash(term)}
	}
	if digits := PhoneKey(term); len(digits) >= 5 && phoneRE.MatchString(term) {
		return `p.phone_key >= ? AND p.phone_key < ?`, []any{digits, digits + maxName}
	}
	key := strings.ToLower(term)
	if initialsRE.MatchString(key) {
		return `((p.name_initials >= ? AND p.name_initials < ?) OR (p.name_key >= ? AND p.name_key < ?))`,
			[]any{key, key + maxName, key, key + maxName}
	}
	return `p.name_key >= ? AND p.name_key < ?`, []any{key, key + maxName}
}

var (
	nidTailRE  = regexp.MustCompile(`^[0-9]{3}[0-9Xx]$`)
	initialsRE = regexp.MustCompile(`^[a-z]{1,10}$`)
)

// maxName is the largest code point, to bound a prefix range.
const maxName = "\U0010FFFF"

// Patients searches the register within the actor's jurisdiction, by name,
// then id. National IDs are masked in the results.
func (s *Service) Patients(ctx context.Context, q PatientQuery, p Page) ([]Patient, string, error) {
	limit, after, err := p.start("\x1f")
	if err != nil {
		return nil, "", err
	}
	afterName, afterID := after.key, after.id
	var f fields
	if q.Status != "" && !clinical.PatientStatus(q.Status).Valid() {
		f.add("status", "must be managed, hospitalised, moved_away, lost or deceased")
	}
	if _, ok := ParseDate(q.BirthDate); q.BirthDate != "" && !ok {
		f.add("birth_date", "must be a date, YYYY-MM-DD")
	}
	if err := f.err(); err != nil {
		return nil, "", err
	}
	var out []Patient
	fr, err := s.actStale(ctx, "patient.search", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type = "patient_list"
		scope, err := patientScope(ctx, tx, a, q.OrgUnit, sub)
		if err != nil {
			return err
		}
		lo, hi := store.Beneath(scope)
		sqlq := patientSelect + ` WHERE p.org_path >= ? AND p.org_path < ?`
		args := []any{lo, hi}
		if term := strings.TrimSpace(q.Q); term != "" {
			cond, cargs := s.searchTerm(term)
			sqlq += ` AND ` + cond
			args = append(args, cargs...)
		}
		if q.BirthDate != "" {
			if PatientView(a.Role) == ViewSafety {
				// The care-and-help group's view has no birth date.
				return &Error{Kind: Forbidden, denied: true, Message: "your role may not search by birth date"}
			}
			sqlq += ` AND p.birth_date = ?`
			args = append(args, q.BirthDate)
		}
		if q.Status != "" {
			sqlq += ` AND p.status = ?`
			args = append(args, q.Status)
		}
		if q.Diagnosis != "" {
			if PatientView(a.Role) == ViewSafety {
				// Filtering by diagnosis would reveal it.
				return &Error{Kind: Forbidden, denied: true, Message: "your role may not search by diagnosis"}
			}
			code, _ := diagnosisCode(q.Diagnosis)
			sqlq += ` AND EXISTS (SELECT 1 FROM patient_diagnoses d WHERE d.patient_id = p.id AND d.code = ?)`
			args = append(args, code)
		}
		if after.set {
			sqlq += ` AND (p.name_key > ? OR (p.name_key = ? AND p.id > ?))`
			args = append(args, afterName, afterName, afterID)
		}
		sqlq += ` ORDER BY p.name_key, p.id LIMIT ?`
		args = append(args, limit+1)
		// Planned for its unit and term at every run: the best index
		// depends on the unit's size (a community's patients by unit and
		// name, a district's by name), and the generic plan PostgreSQL keeps
		// after five runs guesses a few rows for both ranges and read a
		// district's 11,000 patients by unit for a common surname (9.7 ms,
		// against 0.6 ms planning and 1.0 ms reading by name).
		rows, err := tx.QueryReplanned(ctx, sqlq, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		v := PatientView(a.Role)
		for rows.Next() {
			r, err := scanPatient(rows)
			if err != nil {
				return err
			}
			out = append(out, *s.redact(r, v))
		}
		sub.Detail = fmt.Sprintf("%d results", min(len(out), limit))
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	noteFreshness(ctx, fr)
	out, next := cut(out, limit, func(p Patient) string {
		return strings.ToLower(p.Name) + "\x1f" + strconv.FormatInt(p.ID, 10)
	})
	return out, next, nil
}
