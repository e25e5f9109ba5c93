package care

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"kith/internal/clinical"
	"kith/internal/report"
	"kith/internal/store"
)

// Medication is one drug a patient takes.
type Medication struct {
	Name      string `json:"name"`
	Dose      string `json:"dose"`
	Frequency string `json:"frequency"`
}

// LabTests says whether tests were done and their results.
type LabTests struct {
	Done    bool   `json:"done"`
	Results string `json:"results,omitempty"`
}

// Referral records a referral made at a follow-up.
type Referral struct {
	Referred bool   `json:"referred"`
	Reason   string `json:"reason,omitempty"`
	To       string `json:"to,omitempty"`
}

// HealthCheck is the annual health check (R-CHECK) when it is combined
// with a follow-up: physical examination, blood pressure, weight, full blood
// count with differential, liver transaminases, blood glucose, ECG.
type HealthCheck struct {
	Done          bool   `json:"done"`
	Physical      string `json:"physical,omitempty"`
	BloodPressure string `json:"blood_pressure,omitempty"`
	Weight        string `json:"weight,omitempty"`
	BloodCount    string `json:"blood_count,omitempty"`
	Transaminases string `json:"transaminases,omitempty"`
	Glucose       string `json:"glucose,omitempty"`
	ECG           string `json:"ecg,omitempty"`
}

// Hospitalisation says whether the patient was in hospital since the last follow-up.
type Hospitalisation struct {
	Status          string `json:"status"` // no, in_hospital, was
	LastDischargeOn string `json:"last_discharge_on,omitempty"`
}

// FollowUpInput is the national follow-up form (R-FORM), named as in
// CLINICAL.md. For an attempt that did not reach the patient only date,
// mode, reached=false and not_reached_reason (with death date and cause if
// deceased) are given.
type FollowUpInput struct {
	Date               string            `json:"date"`
	Mode               string            `json:"mode"`
	Reached            *bool             `json:"reached"`
	NotReachedReason   string            `json:"not_reached_reason,omitempty"`
	DeathDate          string            `json:"death_date,omitempty"`
	DeathCause         string            `json:"death_cause,omitempty"`
	RiskLevel          *int              `json:"risk_level,omitempty"`
	PsychoticSymptoms  string            `json:"psychotic_symptoms,omitempty"`
	Symptoms           []string          `json:"symptoms,omitempty"`
	Insight            string            `json:"insight,omitempty"`
	Sleep              string            `json:"sleep,omitempty"`
	Diet               string            `json:"diet,omitempty"`
	SocialFunction     map[string]string `json:"social_function,omitempty"`
	DangerousBehaviour map[string]int    `json:"dangerous_behaviour,omitempty"`
	LockedUp           string            `json:"locked_up,omitempty"`
	Hospitalisation    *Hospitalisation  `json:"hospitalisation,omitempty"`
	LabTests           *LabTests         `json:"lab_tests,omitempty"`
	HealthCheck        *HealthCheck      `json:"health_check,omitempty"`
	// MedicationAdherence: regular, intermittent, none, not_needed.
	MedicationAdherence   string       `json:"medication_adherence,omitempty"`
	AdverseReaction       string       `json:"adverse_reaction,omitempty"`
	AdverseReactionDetail string       `json:"adverse_reaction_detail,omitempty"`
	PhysicalIllness       string       `json:"physical_illness,omitempty"`
	TreatmentEffect       string       `json:"treatment_effect,omitempty"`
	Referral              *Referral    `json:"referral,omitempty"`
	Medications           []Medication `json:"medications,omitempty"`
	Rehabilitation        []string     `json:"rehabilitation,omitempty"`
	Notes                 string       `json:"notes,omitempty"`
	// NextDueOn overrides the date the rules set: earlier freely, later
	// only with NextDueReason.
	NextDueOn     string `json:"next_due_on,omitempty"`
	NextDueReason string `json:"next_due_reason,omitempty"`
}

// FollowUp is a recorded follow-up or attempt.
type FollowUp struct {
	ID             int64  `json:"id"`
	PatientID      int64  `json:"patient_id"`
	Classification string `json:"classification"`
	// Rule is the R-CLASS rule that decided the classification; null for an
	// attempt that did not reach the patient.
	Rule          *string   `json:"rule"`
	RuleAction    string    `json:"rule_action,omitempty"`
	NextDueOn     string    `json:"next_due_on"`
	NextDueRule   string    `json:"next_due_rule"`
	NextDueReason string    `json:"next_due_reason,omitempty"`
	Author        string    `json:"author"`
	AuthorName    string    `json:"author_name"` // the full name of author
	CreatedAt     time.Time `json:"created_at"`
	SupersededBy  *int64    `json:"superseded_by,omitempty"`
	FollowUpInput
}

// enum is a clinical enumeration.
type enum interface {
	~string
	Valid() bool
}

// checkEnum validates an enumerated value; empty is allowed unless required.
func checkEnum[T enum](f *fields, field, v string, required bool) {
	if v == "" {
		if required {
			f.add(field, "is required")
		}
		return
	}
	if !T(v).Valid() {
		f.add(field, "is not one of the allowed values")
	}
}

// validate checks the form against R-FORM and returns the date and, for a
// reached follow-up, the assessment R-CLASS classifies.
func (in *FollowUpInput) validate(f *fields, registeredOn string) (clinical.Date, clinical.Assessment) {
	var a clinical.Assessment
	date, err := clinical.ParseDate(in.Date)
	switch {
	case in.Date == "":
		f.add("date", "is required")
	case err != nil:
		f.add("date", "must be a real date, YYYY-MM-DD")
	case in.Date > f.date():
		f.add("date", "cannot be in the future")
	case in.Date < registeredOn:
		f.add("date", "cannot be before the patient's registration ("+registeredOn+")")
	}
	checkEnum[clinical.Mode](f, "mode", in.Mode, true)
	if in.Reached == nil {
		f.add("reached", "is required (true or false)")
		return date, a
	}
	in.Notes = checkNote(f, "notes", in.Notes, 2000)
	if !*in.Reached {
		checkEnum[clinical.NotReachedReason](f, "not_reached_reason", in.NotReachedReason, true)
		if in.NotReachedReason == string(clinical.ReasonDeceased) {
			checkDate(f, "death_date", in.DeathDate, true)
			in.DeathCause = checkText(f, "death_cause", in.DeathCause, 200)
			if in.DeathCause == "" {
				f.add("death_cause", "is required when the patient has died")
			}
		} else if in.DeathDate != "" || in.DeathCause != "" {
			f.add("death_date", "only when the patient has died")
		}
		if in.RiskLevel != nil || in.PsychoticSymptoms != "" || in.NextDueOn != "" {
			f.add("reached", "an attempt that did not reach the patient records only its reason")
		}
		return date, a
	}
	if in.NotReachedReason != "" {
		f.add("not_reached_reason", "only when the patient was not reached")
	}
	if in.RiskLevel == nil {
		f.add("risk_level", "is required")
	} else if !clinical.ValidRiskLevel(*in.RiskLevel) {
		f.add("risk_level", "must be a whole number from 0 to 5")
	} else {
		a.RiskLevel = *in.RiskLevel
	}
	a.PsychoticSymptoms = clinical.PsychoticSymptoms(in.PsychoticSymptoms)
	a.Insight = clinical.Insight(in.Insight)
	a.AdverseReaction = clinical.AdverseReaction(in.AdverseReaction)
	a.PhysicalIllness = clinical.PhysicalIllness(in.PhysicalIllness)
	for k := range in.SocialFunction {
		if !clinical.SocialArea(k).Valid() {
			f.add("social_function."+k, "is not an area of social function")
		}
	}
	a.SocialFunction = clinical.SocialFunction{
		SelfCare: clinical.Rating(in.SocialFunction["self_care"]), Housework: clinical.Rating(in.SocialFunction["housework"]),
		Work: clinical.Rating(in.SocialFunction["work"]), Learning: clinical.Rating(in.SocialFunction["learning"]),
		SocialContact: clinical.Rating(in.SocialFunction["social_contact"]),
	}
	for _, e := range a.Validate() {
		if e.Field != "risk_level" {
			f.add(e.Field, e.Message)
		}
	}
	for i, s := range in.Symptoms {
		checkEnum[clinical.Symptom](f, "symptoms["+strconv.Itoa(i)+"]", s, true)
	}
	checkEnum[clinical.Rating](f, "sleep", in.Sleep, false)
	checkEnum[clinical.Rating](f, "diet", in.Diet, false)
	for k, n := range in.DangerousBehaviour {
		checkEnum[clinical.DangerousBehaviour](f, "dangerous_behaviour."+k, k, true)
		if n < 0 || n > 1000 {
			f.add("dangerous_behaviour."+k, "must be a count from 0 to 1000")
		}
	}
	checkEnum[clinical.LockedUp](f, "locked_up", in.LockedUp, false)
	if h := in.Hospitalisation; h != nil {
		checkEnum[clinical.Hospitalisation](f, "hospitalisation.status", h.Status, true)
		if h.Status == string(clinical.HospitalisationWas) {
			checkDate(f, "hospitalisation.last_discharge_on", h.LastDischargeOn, true)
		}
	}
	if in.LabTests != nil {
		in.LabTests.Results = checkText(f, "lab_tests.results", in.LabTests.Results, 1000)
	}
	if h := in.HealthCheck; h != nil {
		for _, v := range []*string{&h.Physical, &h.BloodPressure, &h.Weight, &h.BloodCount, &h.Transaminases, &h.Glucose, &h.ECG} {
			*v = checkText(f, "health_check", *v, 200)
		}
	}
	checkEnum[clinical.Adherence](f, "medication_adherence", in.MedicationAdherence, false)
	in.AdverseReactionDetail = checkText(f, "adverse_reaction_detail", in.AdverseReactionDetail, 200)
	checkEnum[clinical.TreatmentEffect](f, "treatment_effect", in.TreatmentEffect, false)
	if r := in.Referral; r != nil {
		r.Reason, r.To = checkText(f, "referral.reason", r.Reason, 200), checkText(f, "referral.to", r.To, 100)
		if r.Referred && r.To == "" {
			f.add("referral.to", "is required when the patient is referred")
		}
	}
	if len(in.Medications) > 20 {
		f.add("medications", "at most 20")
	}
	for i := range in.Medications {
		m := &in.Medications[i]
		field := "medications[" + strconv.Itoa(i) + "]"
		if m.Name = checkText(f, field+".name", m.Name, 100); m.Name == "" {
			f.add(field+".name", "is required")
		}
		m.Dose, m.Frequency = checkText(f, field+".dose", m.Dose, 50), checkText(f, field+".frequency", m.Frequency, 50)
	}
	for i, r := range in.Rehabilitation {
		checkEnum[clinical.Rehabilitation](f, "rehabilitation["+strconv.Itoa(i)+"]", r, true)
	}
	in.NextDueReason = checkNote(f, "next_due_reason", in.NextDueReason, 500)
	if in.NextDueOn != "" {
		if d, err := clinical.ParseDate(in.NextDueOn); err != nil {
			f.add("next_due_on", "must be a real date, YYYY-MM-DD")
		} else if !date.IsZero() && !d.After(date) {
			f.add("next_due_on", "must be after the follow-up's date")
		}
	}
	return date, a
}

// RecordFollowUp records a follow-up or a not-reached attempt, classifies
// the patient by R-CLASS, sets the next due date by R-NEXT (or keeps it,
// for an attempt: R-NOT-REACHED) and updates the patient's summary.
func (s *Service) RecordFollowUp(ctx context.Context, patientID int64, in FollowUpInput) (*FollowUp, error) {
	var out *FollowUp
	err := s.act(ctx, "followup.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		// The previous reached follow-up (for R-NEXT) is read with the
		// patient, and the follow-up's id reserved then, so that its insert
		// can go with the summary's read: two round trips less for every
		// follow-up (issue 16).
		prev := new(reachedFollowUp)
		var id int64
		p, err := visible(ctx, tx, a, WriteFollowUp, patientID, sub, previousReachedQuery(patientID, in.Date, 0, prev),
			tx.NextID("follow_ups", &id))
		if err != nil {
			return err
		}
		out, err = s.insertFollowUp(ctx, tx, a, p, in, 0, prev, id)
		if err == nil {
			sub.Detail = "follow-up " + strconv.FormatInt(out.ID, 10)
		}
		return err
	})
	return out, err
}

// CorrectionWindow is how long the author of a follow-up may correct it.
const CorrectionWindow = 24 * time.Hour

// CorrectFollowUp replaces a follow-up with a corrected version. Only its
// author may, within CorrectionWindow; the earlier version is kept, marked
// as superseded.
func (s *Service) CorrectFollowUp(ctx context.Context, patientID, followUpID int64, in FollowUpInput) (*FollowUp, error) {
	var out *FollowUp
	err := s.act(ctx, "followup.correct", func(tx *store.Tx, a *Actor, sub *subject) error {
		p, err := visible(ctx, tx, a, WriteFollowUp, patientID, sub)
		if err != nil {
			return err
		}
		sub.Detail = "follow-up " + strconv.FormatInt(followUpID, 10)
		var author, created string
		var superseded sql.NullInt64
		err = tx.QueryRow(ctx, `SELECT author, created_at, superseded_by FROM follow_ups WHERE id = ? AND patient_id = ?`,
			followUpID, patientID).Scan(&author, &created, &superseded)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound("follow-up")
		}
		if err != nil {
			return err
		}
		switch {
		case author != a.Username:
			return &Error{Kind: Forbidden, Message: "only the author of a follow-up may correct it", denied: true}
		case superseded.Valid:
			return errConflict("this follow-up has already been corrected; correct the latest version")
		case tx.Now().Sub(store.MustTime(created)) > CorrectionWindow:
			return errConflict("a follow-up can be corrected only within 24 hours of recording it")
		}
		out, err = s.insertFollowUp(ctx, tx, a, p, in, followUpID, nil, 0)
		return err
	})
	return out, err
}

// insertFollowUp validates, classifies and stores a follow-up; replaces,
// if not 0, is the follow-up it corrects. read is the previous reached
// follow-up if already read (previousReachedQuery), or nil: it is then
// read for a reached follow-up only. id is the follow-up's id if already
// reserved (store.Tx.NextID), or 0.
func (s *Service) insertFollowUp(ctx context.Context, tx *store.Tx, a *Actor, p *patientRow, in FollowUpInput, replaces int64,
	read *reachedFollowUp, id int64) (*FollowUp, error) {
	var prev reachedFollowUp
	pl, err := s.planFollowUp(tx.Now(), a, p, in, func() (clinical.Classification, error) {
		if read != nil {
			prev = *read
			return prev.class, nil
		}
		var err error
		prev, err = previousReached(ctx, tx, p.ID, in.Date, replaces)
		return prev.class, err
	})
	if err != nil {
		return nil, err
	}
	fu := pl.fu
	fu.ID = id
	columns, values := followUpInsertColumns, pl.values()
	if id == 0 {
		columns, values = columns[1:], values[1:]
	}
	insert := `INSERT INTO follow_ups (` + strings.Join(columns, ", ") + `) VALUES (` + store.Marks(len(columns)) + `)`
	if id != 0 {
		// Queued: it goes with the summary's read (refreshSummary).
		err = tx.Later(ctx, insert, values...)
	} else {
		err = tx.QueryRow(ctx, insert+` RETURNING id`, values...).Scan(&fu.ID)
	}
	if err != nil {
		return nil, err
	}
	if replaces != 0 {
		if _, err := tx.Exec(ctx, `UPDATE follow_ups SET superseded_by = ? WHERE id = ?`, fu.ID, replaces); err != nil {
			return nil, err
		}
	}
	if *in.Reached {
		// The risk level is the follow-up's risk assessment (R-RISK): stored
		// as a response to the risk instrument, whose flag at level 3 or more
		// raises an alert, unless the version corrected already raised one.
		risk := riskAnswers(*in.RiskLevel)
		risk.Date = in.Date
		raise := true
		if replaces != 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM alerts al JOIN assessments a ON a.id = al.assessment_id
				WHERE a.follow_up_id = ?`, replaces).Scan(&n); err != nil {
				return nil, err
			}
			raise = n == 0
		}
		if _, err := s.assess(ctx, tx, a, p, risk, &fu.ID, raise); err != nil {
			return nil, err
		}
		if replaces == 0 {
			if err := followUpAlerts(ctx, tx, p.ID, in, prev); err != nil {
				return nil, err
			}
		}
	}
	if !*in.Reached && in.NotReachedReason == string(clinical.ReasonDeceased) && p.Status != string(clinical.StatusDeceased) {
		if err := setStatus(ctx, tx, p.ID, string(clinical.StatusDeceased), in.DeathDate, "died: "+in.DeathCause, a.Username); err != nil {
			return nil, err
		}
	}
	if err := refreshSummary(ctx, tx, p.ID, a.Username, s.today()); err != nil {
		return nil, err
	}
	if err := report.Touch(ctx, tx, p.ID); err != nil {
		return nil, err
	}
	return fu, nil
}

// plannedFollowUp is a follow-up as the rules make it from the form, before
// it is stored.
type plannedFollowUp struct {
	fu          *FollowUp
	risk        any // the risk level, NULL for an attempt
	rule        string
	details     string
	healthCheck bool
}

// followUpInsertColumns are the columns of plannedFollowUp.values, in order.
var followUpInsertColumns = []string{"id", "patient_id", "date", "mode", "reached", "risk_level", "classification", "rule",
	"next_due_on", "next_due_rule", "next_due_reason", "medication_adherence", "details", "author", "created_at", "health_check"}

// values are the follow-up's row, in the order of followUpInsertColumns.
func (pl *plannedFollowUp) values() []any {
	fu := pl.fu
	return []any{fu.ID, fu.PatientID, fu.Date, fu.Mode, *fu.Reached, pl.risk, fu.Classification, pl.rule, fu.NextDueOn,
		fu.NextDueRule, fu.NextDueReason, fu.MedicationAdherence, pl.details, fu.Author, store.FormatTime(fu.CreatedAt), pl.healthCheck}
}

// planFollowUp checks a follow-up of patient p and applies the rules to it:
// R-CLASS classifies a reached follow-up and R-NEXT sets the next due date,
// which needs the classification of the previous reached follow-up (prev,
// asked only then); an attempt keeps the patient's due date
// (R-NOT-REACHED). Nothing is written.
func (s *Service) planFollowUp(at time.Time, a *Actor, p *patientRow, in FollowUpInput, prev func() (clinical.Classification, error)) (*plannedFollowUp, error) {
	if p.Status == string(clinical.StatusDeceased) || p.Status == string(clinical.StatusMovedAway) {
		return nil, errConflict("the patient is " + strings.ReplaceAll(p.Status, "_", " ") + "; follow-ups are closed")
	}
	f := s.fields()
	date, assessment := in.validate(&f, p.RegisteredOn)
	if err := f.err(); err != nil {
		return nil, err
	}
	fu := &FollowUp{PatientID: p.ID, Author: a.Username, AuthorName: a.FullName, CreatedAt: at, FollowUpInput: in}
	pl := &plannedFollowUp{fu: fu}
	if *in.Reached {
		class, rule := clinical.Classify(assessment)
		before, err := prev()
		if err != nil {
			return nil, err
		}
		due, dueRule := clinical.NextDue(date, class, before)
		fu.Classification, fu.NextDueOn, fu.NextDueRule = string(class), due.String(), string(dueRule)
		r := string(rule)
		fu.Rule, pl.rule = &r, r
		fu.RuleAction, _ = clinical.Action(class)
		if in.NextDueOn != "" {
			chosen, _ := clinical.ParseDate(in.NextDueOn)
			if err := clinical.CheckNextDueOverride(due, chosen, in.NextDueReason); err != nil {
				return nil, invalid("next_due_reason", "a next follow-up later than the rules' "+due.String()+" needs a written reason")
			}
			fu.NextDueOn, fu.NextDueReason = chosen.String(), in.NextDueReason
		}
		pl.risk = *in.RiskLevel
	} else {
		// R-NOT-REACHED: not a follow-up; the due date stays as it was.
		fu.Classification, fu.NextDueOn, fu.NextDueRule = string(clinical.NotReached), p.NextDueOn, p.NextDueRule
	}
	details := in
	details.NextDueOn, details.NextDueReason = "", ""
	blob, err := json.Marshal(details)
	if err != nil {
		return nil, err
	}
	pl.details = string(blob)
	pl.healthCheck = *in.Reached && in.HealthCheck != nil && in.HealthCheck.Done
	return pl, nil
}

// leftOn is the day a patient with this status left the register, or "".
func leftOn(status, on string) string {
	if status == string(clinical.StatusDeceased) || status == string(clinical.StatusMovedAway) {
		return on
	}
	return ""
}

// reachedFollowUp is what the rules read of a patient's previous reached
// follow-up; found is false when there is none.
type reachedFollowUp struct {
	found     bool
	class     clinical.Classification
	risk      sql.NullInt64
	adherence string
}

// previousReached returns the last reached follow-up on or before date,
// ignoring superseded versions and the one being corrected: its
// classification for R-NEXT-BASIC-PERSIST, its risk level and adherence for
// the alerts (followUpAlerts), in one read.
func previousReached(ctx context.Context, tx *store.Tx, patientID int64, date string, replaces int64) (reachedFollowUp, error) {
	var r reachedFollowUp
	err := tx.QueryAll(ctx, previousReachedQuery(patientID, date, replaces, &r))
	return r, err
}

// previousReachedQuery is previousReached's query, which reads into r.
func previousReachedQuery(patientID int64, date string, replaces int64, r *reachedFollowUp) store.Query {
	return store.Query{SQL: `SELECT classification, risk_level, medication_adherence FROM follow_ups
		WHERE patient_id = ? AND reached = ? AND superseded_by IS NULL AND date <= ? AND id <> ?
		ORDER BY date DESC, id DESC LIMIT 1`, Args: []any{patientID, true, date, replaces},
		Row: func(scan func(...any) error) error {
			var c string
			if err := scan(&c, &r.risk, &r.adherence); err != nil {
				return err
			}
			r.found, r.class = true, clinical.Classification(c)
			return nil
		}}
}

// setStatus changes a patient's status and records it in the history. A
// deceased or moved-away patient leaves the register on that day (left_on,
// which the figures read); any other status puts them back on it.
func setStatus(ctx context.Context, tx *store.Tx, id int64, status, on, reason, actor string) error {
	if _, err := tx.Exec(ctx, `UPDATE patients SET status = ?, left_on = ?, updated_at = ? WHERE id = ?`,
		status, leftOn(status, on), store.FormatTime(tx.Now()), id); err != nil {
		return err
	}
	if err := report.Touch(ctx, tx, id); err != nil {
		return err
	}
	return addStatus(ctx, tx, id, status, on, reason, actor)
}

// refreshSummary recomputes a patient's follow-up summary from the current
// (not superseded) follow-ups and open emergencies: the last reached
// follow-up gives the classification, risk and next due date (R-NEXT); an
// emergency after it brings the due date forward (R-EMERG); the attempts
// since it count towards R-LOST, which also ends when the patient is
// reached again.
func refreshSummary(ctx context.Context, tx *store.Tx, id int64, actor string, asOf clinical.Date) error {
	// One statement reads all the summary depends on: each is a round
	// trip, and this runs with every follow-up saved (issue 16).
	var status, registered string
	var last struct {
		date, class, due, rule, adherence string
		risk                              sql.NullInt64
	}
	var streak, inYear int
	var emergencyDue, discharged, flagOn sql.NullString
	var flagged bool
	found := false
	// QueryAll: what the transaction queued (a follow-up's insert and its
	// risk assessment's) goes in the same round trip.
	err := tx.QueryAll(ctx, store.Query{SQL: summaryInputsSQL, Args: summaryInputsArgs(id), Row: func(scan func(...any) error) error {
		found = true
		return scan(&status, &registered, &last.date, &last.class, &last.due, &last.rule, &last.adherence, &last.risk,
			&streak, &inYear, &emergencyDue, &discharged, &flagged)
	}})
	if err == nil && !found {
		err = sql.ErrNoRows
	}
	if err == nil && flagged {
		err = tx.QueryRow(ctx, `SELECT `+openFlagSQL+` FROM patients p WHERE p.id = ?`,
			clinical.HighRiskLevel, true, id).Scan(&flagOn)
	}
	if err != nil {
		return err
	}
	if last.due == "" {
		reg, _ := clinical.ParseDate(registered)
		last.due = reg.AddDays(firstFollowUpDays).String()
	}
	last.due, last.rule = warningDue(last.date, last.due, last.rule, discharged.String, flagOn.String)
	if emergencyDue.Valid && emergencyDue.String < last.due {
		last.due, last.rule = emergencyDue.String, string(clinical.RuleEmergency)
	}
	var risk any
	if last.risk.Valid {
		risk = last.risk.Int64
	}
	if err := tx.Later(ctx, `UPDATE patients SET next_due_on = ?, next_due_rule = ?, last_followup_on = ?, last_classification = ?,
		last_risk_level = ?, last_adherence = ?, not_reached_streak = ?, reached_in_year = ?, updated_at = ? WHERE id = ?`,
		last.due, last.rule, last.date, last.class, risk, last.adherence, streak, inYear, store.FormatTime(tx.Now()), id); err != nil {
		return err
	}
	today := asOf
	lastReached, _ := clinical.ParseDate(last.date)
	reg, _ := clinical.ParseDate(registered)
	lost := clinical.Lost(streak, lastReached, reg, today)
	switch {
	case status == string(clinical.StatusManaged) && lost:
		return setStatus(ctx, tx, id, string(clinical.StatusLost), today.String(), string(clinical.RuleLost), actor)
	case status == string(clinical.StatusLost) && !lost:
		return setStatus(ctx, tx, id, string(clinical.StatusManaged), today.String(), "reached again", actor)
	}
	return nil
}

// summaryInputsSQL reads all refreshSummary depends on, for the patient
// of summaryInputsArgs. On SQLite its counts are read from the index
// follow_ups_reached alone (migration 00029, TestSummaryInputsFromIndex).
// Whether a flag is open (openFlagSQL) is asked only of a patient with a
// flag at all, by a second statement: on PostgreSQL a prepared statement's
// plan locks and sets up every partition its query names at each run,
// taken branch or not, and openFlagSQL names five partitioned tables. With
// it here, the statement alone ran at about 4,900 a second at 8 clients;
// without, about 6,300 (pgbench, 20,000-patient demo; issue 16).
const summaryInputsSQL = `SELECT p.status, p.registered_on, COALESCE(l.date, ''), COALESCE(l.classification, ''),
	COALESCE(l.next_due_on, ''), COALESCE(l.next_due_rule, ''), COALESCE(l.medication_adherence, ''), l.risk_level,
	(SELECT count(*) FROM follow_ups f WHERE f.patient_id = p.id AND f.reached = ? AND f.superseded_by IS NULL
		AND f.date > COALESCE(l.date, '')),
	(SELECT count(*) FROM follow_ups f WHERE f.patient_id = p.id AND f.reached = ? AND f.superseded_by IS NULL
		AND f.date >= substr(COALESCE(l.date, ''), 1, 4) || '-01-01' AND f.date <= COALESCE(l.date, '')),
	(SELECT min(follow_up_by) FROM emergencies e WHERE e.patient_id = p.id AND e.occurred_at > COALESCE(l.date, '')),
	` + dischargedSQL + `, EXISTS (SELECT 1 FROM alerts al WHERE al.patient_id = p.id AND al.kind = 'flag')
	FROM patients p LEFT JOIN (SELECT date, classification, next_due_on, next_due_rule, medication_adherence, risk_level
		FROM follow_ups WHERE patient_id = ? AND reached = ? AND superseded_by IS NULL ORDER BY date DESC, id DESC LIMIT 1) l ON 1 = 1
	WHERE p.id = ?`

func summaryInputsArgs(id int64) []any {
	return []any{false, true, id, true, id}
}

var followUpColumns = `id, patient_id, classification, rule, next_due_on, next_due_rule, next_due_reason, details, author,
	created_at, superseded_by, ` + fullName("follow_ups.author")

func scanFollowUp(sc interface{ Scan(...any) error }) (*FollowUp, error) {
	var fu FollowUp
	var rule, details, created string
	var sup sql.NullInt64
	if err := sc.Scan(&fu.ID, &fu.PatientID, &fu.Classification, &rule, &fu.NextDueOn, &fu.NextDueRule, &fu.NextDueReason,
		&details, &fu.Author, &created, &sup, &fu.AuthorName); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(details), &fu.FollowUpInput); err != nil {
		return nil, err
	}
	if rule != "" {
		fu.Rule = &rule
		fu.RuleAction, _ = clinical.Action(clinical.Classification(fu.Classification))
	}
	if sup.Valid {
		fu.SupersededBy = &sup.Int64
	}
	fu.CreatedAt = store.MustTime(created)
	fu.FollowUpInput.NextDueOn, fu.FollowUpInput.NextDueReason = fu.NextDueOn, fu.NextDueReason
	return &fu, nil
}

// redactFollowUp removes what the view may not see: the care-and-help group
// sees dates, mode, whether reached and the risk level only; a social
// worker sees no medication detail.
func redactFollowUp(fu *FollowUp, v View) {
	switch v {
	case ViewSafety:
		keep := FollowUpInput{Date: fu.Date, Mode: fu.Mode, Reached: fu.Reached, RiskLevel: fu.RiskLevel, NextDueOn: fu.NextDueOn}
		fu.FollowUpInput, fu.Classification, fu.Rule, fu.RuleAction, fu.NextDueReason, fu.NextDueRule = keep, "", nil, "", "", ""
	case ViewSocial:
		fu.Medications, fu.AdverseReactionDetail = nil, ""
	}
}

// FollowUps lists a patient's follow-ups and attempts, newest first,
// including superseded versions (marked).
func (s *Service) FollowUps(ctx context.Context, patientID int64, p Page) ([]FollowUp, string, error) {
	limit, after, err := p.start("/")
	if err != nil {
		return nil, "", err
	}
	beforeDate, beforeID := after.key, after.id
	var out []FollowUp
	err = s.view(ctx, "followup.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, ReadPatient, patientID, sub); err != nil {
			return err
		}
		q := `SELECT ` + followUpColumns + ` FROM follow_ups WHERE patient_id = ?`
		args := []any{patientID}
		if after.set {
			q += ` AND (date < ? OR (date = ? AND id < ?))`
			args = append(args, beforeDate, beforeDate, beforeID)
		}
		q += ` ORDER BY date DESC, id DESC LIMIT ?`
		args = append(args, limit+1)
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		v := PatientView(a.Role)
		for rows.Next() {
			fu, err := scanFollowUp(rows)
			if err != nil {
				return err
			}
			redactFollowUp(fu, v)
			out = append(out, *fu)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(f FollowUp) string { return f.Date + "/" + strconv.FormatInt(f.ID, 10) })
	return out, next, nil
}

// latestReached returns the patient's last reached follow-up (its current
// version), or nil when there is none.
func latestReached(ctx context.Context, tx *store.Tx, patientID int64) (*FollowUp, error) {
	fu, err := scanFollowUp(tx.QueryRow(ctx, `SELECT `+followUpColumns+` FROM follow_ups
		WHERE patient_id = ? AND reached = ? AND superseded_by IS NULL ORDER BY date DESC, id DESC LIMIT 1`, patientID, true))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return fu, err
}

// FollowUpStart is what the follow-up form starts from: the patient and
// their last reached follow-up, from which the form is pre-filled (most
// items, such as medication, insight and social function, rarely change).
type FollowUpStart struct {
	Patient *Patient  `json:"patient"`
	Last    *FollowUp `json:"last,omitempty"`
}

// StartFollowUp returns the patient, as the actor may see them, and their
// last reached follow-up, for a new follow-up; one audited read.
func (s *Service) StartFollowUp(ctx context.Context, patientID int64) (*FollowUpStart, error) {
	var out FollowUpStart
	err := s.view(ctx, "patient.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		var err error
		if out.Patient, err = s.readPatient(ctx, tx, a, patientID, sub); err != nil {
			return err
		}
		if !Allow(a, WriteFollowUp, Target{Path: sub.Path}) {
			return nil
		}
		if out.Last, err = latestReached(ctx, tx, patientID); err != nil || out.Last == nil {
			return err
		}
		sub.Detail = "for a follow-up"
		redactFollowUp(out.Last, PatientView(a.Role))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
