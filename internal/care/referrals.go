package care

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/auth"
	"kith/internal/clinical"
	"kith/internal/report"
	"kith/internal/store"
)

// Referrals between the community and the hospital (issue 12). A referral
// up sends a patient from their community to an institution with an
// urgency, a reason and a summary of the record as it stands; while it is
// open, and for 30 days after it closes, the institution's clinical staff
// read the record (Actor.Referred). A referral down hands a discharged
// patient back to their community with the discharge summary: the patient
// is managed again and due within 14 days (R-DISCHARGE).

// ReferredDetail is the audit detail of every read under a referral grant.
const ReferredDetail = "referral"

// The statuses of a referral.
const (
	RefRequested = "requested"
	RefAccepted  = "accepted"
	RefDeclined  = "declined"
	RefCompleted = "completed"
	RefCancelled = "cancelled"
)

// RefStatuses lists the statuses in their order.
var RefStatuses = []string{RefRequested, RefAccepted, RefDeclined, RefCompleted, RefCancelled}

// RefOutcomes are the outcomes of a completed referral up.
var RefOutcomes = []string{"admitted", "outpatient", "returned"}

// referralMoves are the transitions: from → to. Anything else is a conflict.
var referralMoves = map[string][]string{
	RefRequested: {RefAccepted, RefDeclined, RefCancelled},
	RefAccepted:  {RefCompleted},
}

// withReferred returns a copy of the actor that also holds a referral grant
// for patient.
func (a *Actor) withReferred(patient int64) *Actor {
	b := *a
	b.Referred = append(slices.Clone(a.Referred), patient)
	return &b
}

// referred is the policy's rule for a referral grant: the receiving
// institution's clinical staff read that one record, with their role's view.
func (a *Actor) referred(t Target) bool {
	return slices.Contains(a.Referred, t.Patient) &&
		oneOf(a.Role, auth.Psychiatrist, auth.Psychotherapist, auth.SocialWorker, auth.Nurse, auth.CommunityManager)
}

// referralGrant reports whether a referral up of the patient to a unit in
// the actor's jurisdiction is open, or closed (declined or completed) less
// than 30 days ago. A cancelled referral grants nothing more.
func referralGrant(ctx context.Context, tx *store.Tx, a *Actor, patientID int64) (bool, error) {
	if a.UnitPath == "" {
		return false, nil
	}
	lo, hi := store.Beneath(a.UnitPath)
	since := store.FormatTime(tx.Now().AddDate(0, 0, -clinical.ReferralGrantDays))
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM referrals WHERE patient_id = ? AND direction = 'up'
		AND to_path >= ? AND to_path < ? AND (status IN ('requested', 'accepted')
		OR (status IN ('declined', 'completed') AND closed_at > ?))`, patientID, lo, hi, since).Scan(&n)
	return n > 0, err
}

// SetReferralTargets sets the response targets of a referral up, as
// "emergency=2h,urgent=24h,routine=72h" (any urgency left out keeps its
// default).
func (s *Service) SetReferralTargets(spec string) error {
	m := map[string]time.Duration{}
	for k, v := range clinical.DefaultReferralTargets {
		m[k] = v
	}
	for part := range strings.SplitSeq(spec, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if !ok || err != nil || d <= 0 || !slices.Contains(clinical.ReferralUrgencies, strings.TrimSpace(k)) {
			return fmt.Errorf("referral targets: %q is not urgency=duration (emergency, urgent or routine; such as 2h)", part)
		}
		m[strings.TrimSpace(k)] = d
	}
	s.referralTargets = m
	return nil
}

// ReferralTargets returns the response targets by urgency.
func (s *Service) ReferralTargets() map[string]time.Duration {
	if s.referralTargets == nil {
		return clinical.DefaultReferralTargets
	}
	return s.referralTargets
}

// ReferralInput makes a referral. Up: PatientID, Direction "up", ToUnit (an
// institution), Urgency, Reason. Down: PatientID, Direction "down", ToUnit
// (the patient's community) and the discharge summary.
type ReferralInput struct {
	PatientID       int64        `json:"patient_id"`
	Direction       string       `json:"direction"`
	ToUnit          string       `json:"to_unit"`
	Urgency         string       `json:"urgency,omitempty"`
	Reason          string       `json:"reason,omitempty"`
	DischargedOn    string       `json:"discharged_on,omitempty"`
	Diagnoses       []Diagnosis  `json:"diagnoses,omitempty"`
	Medications     []Medication `json:"medications,omitempty"`
	RiskLevel       *int         `json:"risk_level,omitempty"`
	Recommendations string       `json:"recommendations,omitempty"`
}

// Discharge is the discharge summary a referral down carries.
type Discharge struct {
	DischargedOn    string       `json:"discharged_on"`
	Diagnoses       []Diagnosis  `json:"diagnoses"`
	Medications     []Medication `json:"medications,omitempty"`
	RiskLevel       *int         `json:"risk_level"`
	Recommendations string       `json:"recommendations"`
}

// ReferralSummary is the record as it stood when a referral up was made:
// what the hospital needs first.
type ReferralSummary struct {
	Diagnoses      []Diagnosis    `json:"diagnoses"`
	Medications    []Medication   `json:"medications,omitempty"`
	RiskLevel      *int           `json:"risk_level"`
	Classification string         `json:"classification,omitempty"`
	Scores         []SummaryScore `json:"scores,omitempty"`
	FollowUps      []SummaryVisit `json:"recent_follow_ups,omitempty"`
	Status         string         `json:"status"`
	Guardian       *Guardian      `json:"guardian,omitempty"`
	Emergencies    int            `json:"emergencies_last_year"`
}

// SummaryScore is an assessment's latest score in a summary.
type SummaryScore struct {
	Instrument string   `json:"instrument"`
	Date       string   `json:"date"`
	Score      int      `json:"score"`
	Band       string   `json:"band"`
	Flags      []string `json:"flags,omitempty"`
}

// SummaryVisit is a recent reached follow-up in a summary.
type SummaryVisit struct {
	Date           string `json:"date"`
	Mode           string `json:"mode"`
	Classification string `json:"classification"`
	RiskLevel      *int   `json:"risk_level"`
	Adherence      string `json:"medication_adherence,omitempty"`
}

// HospitalReferral is one referral between community and hospital. (The
// name Referral is the follow-up form's referral item.)
type HospitalReferral struct {
	ID              int64            `json:"id"`
	PatientID       int64            `json:"patient_id"`
	PatientName     string           `json:"patient_name"`
	Direction       string           `json:"direction"`
	FromUnit        string           `json:"from_unit"`
	FromUnitName    string           `json:"from_unit_name"`
	ToUnit          string           `json:"to_unit"`
	ToUnitName      string           `json:"to_unit_name"`
	Urgency         string           `json:"urgency,omitempty"`
	Reason          string           `json:"reason,omitempty"`
	Status          string           `json:"status"`
	RequestedBy     string           `json:"requested_by"`
	RequestedByName string           `json:"requested_by_name"`
	RequestedAt     time.Time        `json:"requested_at"`
	DueBy           time.Time        `json:"due_by"`
	AnsweredBy      string           `json:"answered_by,omitempty"`
	AnsweredByName  string           `json:"answered_by_name,omitempty"`
	AnsweredAt      *time.Time       `json:"answered_at,omitempty"`
	ClosedAt        *time.Time       `json:"closed_at,omitempty"`
	Note            string           `json:"note,omitempty"`
	Outcome         string           `json:"outcome,omitempty"`
	PastTarget      bool             `json:"past_target"`
	Summary         *ReferralSummary `json:"summary,omitempty"`
	Discharge       *Discharge       `json:"discharge,omitempty"`
	// Received says the referral was sent to the actor's unit (their
	// inbox); Sent that it concerns a patient of their jurisdiction.
	Received bool `json:"received"`
	Sent     bool `json:"sent"`

	patientPath, fromPath, toPath, summary, discharge string
}

// The columns of a referral, with its patient and units.
var referralColumns = `r.id, r.patient_id, p.name, r.direction, fu.code, fu.name, tu.code, tu.name, r.urgency, r.reason, r.status,
	r.requested_by, ` + fullName("r.requested_by") + `, r.requested_at, r.due_by, COALESCE(r.answered_by, ''),
	COALESCE(` + fullName("r.answered_by") + `, ''), r.answered_at, r.closed_at, r.note, r.outcome, r.summary, r.discharge,
	p.org_path, r.from_path, r.to_path`

const referralFrom = ` FROM referrals r JOIN patients p ON p.id = r.patient_id
	JOIN org_units fu ON fu.id = r.from_unit_id JOIN org_units tu ON tu.id = r.to_unit_id`

func scanReferral(sc interface{ Scan(...any) error }) (*HospitalReferral, error) {
	var r HospitalReferral
	var requested, due string
	var answered, closed sql.NullString
	if err := sc.Scan(&r.ID, &r.PatientID, &r.PatientName, &r.Direction, &r.FromUnit, &r.FromUnitName, &r.ToUnit, &r.ToUnitName,
		&r.Urgency, &r.Reason, &r.Status, &r.RequestedBy, &r.RequestedByName, &requested, &due, &r.AnsweredBy, &r.AnsweredByName,
		&answered, &closed, &r.Note, &r.Outcome, &r.summary, &r.discharge, &r.patientPath, &r.fromPath, &r.toPath); err != nil {
		return nil, err
	}
	r.RequestedAt, r.DueBy = store.MustTime(requested), store.MustTime(due)
	if answered.Valid {
		t := store.MustTime(answered.String)
		r.AnsweredAt = &t
	}
	if closed.Valid {
		t := store.MustTime(closed.String)
		r.ClosedAt = &t
	}
	return &r, nil
}

// finish fills what the actor may see of a referral read in tx at now:
// whether it is past its target, which side the actor is on, and, when
// full, the summaries as the actor's view of the record allows.
func (r *HospitalReferral) finish(a *Actor, now time.Time, full bool) error {
	var answered time.Time
	if r.AnsweredAt != nil {
		answered = *r.AnsweredAt
	}
	r.PastTarget = r.Direction == "up" && r.Status != RefCancelled && clinical.ReferralPastTarget(r.DueBy, answered, now)
	r.Received = Allow(a, WriteReferral, Target{Path: r.toPath}) || Allow(a, ReadPatient, Target{Path: r.toPath})
	r.Sent = Allow(a, ReadPatient, Target{Path: r.patientPath})
	// The receiving side reads with its role's own view, as the grant does.
	v := PatientView(a.Role)
	if v == ViewSafety || v == ViewNone {
		r.Reason, r.Note = "", ""
		return nil
	}
	if !full {
		return nil
	}
	if r.Direction == "up" {
		r.Summary = &ReferralSummary{}
		if err := json.Unmarshal([]byte(r.summary), r.Summary); err != nil {
			return err
		}
		if v == ViewSocial {
			r.Summary.Medications = nil
		}
	} else {
		r.Discharge = &Discharge{}
		if err := json.Unmarshal([]byte(r.discharge), r.Discharge); err != nil {
			return err
		}
		if v == ViewSocial {
			r.Discharge.Medications = nil
		}
	}
	return nil
}

// buildSummary gathers the record's summary for a referral up.
func (s *Service) buildSummary(ctx context.Context, tx *store.Tx, p *patientRow) (*ReferralSummary, error) {
	sum := &ReferralSummary{RiskLevel: p.LastRiskLevel, Classification: p.LastClassification, Status: p.Status}
	var err error
	if sum.Diagnoses, err = diagnosesOf(ctx, tx, p.ID); err != nil {
		return nil, err
	}
	if p.Guardian.Name != "" || p.Guardian.Phone != "" {
		g := p.Guardian
		sum.Guardian = &g
	}
	last, err := latestReached(ctx, tx, p.ID)
	if err != nil {
		return nil, err
	}
	if last != nil {
		sum.Medications = last.Medications
	}
	scores, err := s.latestAssessments(ctx, tx, p.ID)
	if err != nil {
		return nil, err
	}
	for _, as := range scores {
		sum.Scores = append(sum.Scores, SummaryScore{Instrument: as.Instrument, Date: as.Date, Score: as.Score, Band: as.Band, Flags: as.Flags})
	}
	rows, err := tx.Query(ctx, `SELECT date, mode, classification, risk_level, medication_adherence FROM follow_ups
		WHERE patient_id = ? AND reached = ? AND superseded_by IS NULL ORDER BY date DESC, id DESC LIMIT 3`, p.ID, true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v SummaryVisit
		var risk sql.NullInt64
		if err := rows.Scan(&v.Date, &v.Mode, &v.Classification, &risk, &v.Adherence); err != nil {
			return nil, err
		}
		if risk.Valid {
			n := int(risk.Int64)
			v.RiskLevel = &n
		}
		sum.FollowUps = append(sum.FollowUps, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return sum, tx.QueryRow(ctx, `SELECT count(*) FROM emergencies WHERE patient_id = ? AND occurred_at >= ?`,
		p.ID, store.FormatTime(tx.Now().AddDate(-1, 0, 0))).Scan(&sum.Emergencies)
}

// CreateReferral makes a referral up or down (see ReferralInput).
func (s *Service) CreateReferral(ctx context.Context, in ReferralInput) (*HospitalReferral, error) {
	var id int64
	err := s.act(ctx, "referral.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "patient", a.UnitCode, a.UnitPath
		if !mayEver(a, WriteReferral) {
			return errForbidden()
		}
		if in.PatientID == 0 {
			return invalid("patient_id", "is required")
		}
		switch in.Direction {
		case "up":
			return s.referUp(ctx, tx, a, sub, in, &id)
		case "down":
			return s.referDown(ctx, tx, a, sub, in, &id)
		}
		return invalid("direction", "must be up or down")
	})
	if err != nil {
		return nil, err
	}
	return s.Referral(ctx, id)
}

// referUp makes a referral up from the patient's community to an institution.
func (s *Service) referUp(ctx context.Context, tx *store.Tx, a *Actor, sub *subject, in ReferralInput, id *int64) error {
	p, err := visible(ctx, tx, a, WriteReferral, in.PatientID, sub)
	if err != nil {
		return err
	}
	f := s.fields()
	to, err := s.referralUnit(ctx, tx, &f, in.ToUnit, true)
	if err != nil {
		return err
	}
	if !slices.Contains(clinical.ReferralUrgencies, in.Urgency) {
		f.add("urgency", "must be emergency, urgent or routine")
	}
	if in.Reason = checkNote(&f, "reason", in.Reason, 2000); in.Reason == "" {
		f.add("reason", "say why the patient is referred")
	}
	if in.DischargedOn != "" || in.Recommendations != "" {
		f.add("direction", "a discharge summary goes with a referral down")
	}
	if err := f.err(); err != nil {
		return err
	}
	var open int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM referrals WHERE patient_id = ? AND to_unit_id = ? AND direction = 'up'
		AND status IN ('requested', 'accepted')`, p.ID, to.id).Scan(&open); err != nil {
		return err
	}
	if open > 0 {
		return errConflict("this patient already has an open referral to this institution")
	}
	sum, err := s.buildSummary(ctx, tx, p)
	if err != nil {
		return err
	}
	blob, _ := json.Marshal(sum)
	from, err := unitByCode(ctx, tx, a.UnitCode)
	if err != nil || from == nil {
		return errors.Join(err, errForbidden())
	}
	now := tx.Now()
	due := now.Add(s.ReferralTargets()[in.Urgency])
	if err := tx.QueryRow(ctx, `INSERT INTO referrals (patient_id, direction, from_unit_id, from_path, to_unit_id, to_path, urgency, reason,
		summary, status, requested_by, requested_at, due_by, updated_at) VALUES (?, 'up', ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?, ?) RETURNING id`,
		p.ID, from.id, from.Path, to.id, to.Path, in.Urgency, in.Reason, string(blob), a.Username, store.FormatTime(now),
		store.FormatTime(due), store.FormatTime(now)).Scan(id); err != nil {
		return err
	}
	sub.Detail = "referral " + strconv.FormatInt(*id, 10) + " up to " + to.Code + " " + in.Urgency
	// The referral answers an open flag (R-ALERT-DUE).
	return refreshSummary(ctx, tx, p.ID, a.Username, s.today())
}

// referDown hands a discharged patient back to their community. The
// institution that received the patient's referral up may, as may anyone
// who may write the record.
func (s *Service) referDown(ctx context.Context, tx *store.Tx, a *Actor, sub *subject, in ReferralInput, id *int64) error {
	p, err := patientByID(ctx, tx, in.PatientID)
	if err != nil {
		return err
	}
	if p == nil {
		return errNotFound("patient")
	}
	sub.ID, sub.Unit, sub.Path = strconv.FormatInt(p.ID, 10), p.OrgUnit, p.path
	may := Allow(a, WritePatient, Target{Path: p.path, Patient: p.ID})
	if !may {
		ok, err := referralGrant(ctx, tx, a, p.ID)
		if err != nil {
			return err
		}
		may = ok && Allow(a, WriteReferral, Target{Path: a.UnitPath})
	}
	if !may {
		return errHidden("patient")
	}
	f := s.fields()
	to, err := s.referralUnit(ctx, tx, &f, in.ToUnit, false)
	if err != nil {
		return err
	}
	if to != nil && to.id != p.unitID {
		f.add("to_unit", "must be the patient's community")
	}
	checkDate(&f, "discharged_on", in.DischargedOn, true)
	if in.DischargedOn != "" && in.DischargedOn < p.RegisteredOn {
		f.add("discharged_on", "cannot be before the patient's registration ("+p.RegisteredOn+")")
	}
	for i, d := range in.Diagnoses {
		code, ok := diagnosisCode(d.Code)
		if !ok {
			f.add("diagnoses["+strconv.Itoa(i)+"].code", "must be one of the six target codes or an ICD-10 code")
		}
		in.Diagnoses[i] = Diagnosis{Code: code, DiagnosedOn: d.DiagnosedOn, Institution: checkText(&f, "diagnoses", d.Institution, 100)}
	}
	if len(in.Diagnoses) == 0 {
		f.add("diagnoses", "at least one diagnosis at discharge")
	}
	if len(in.Medications) > 20 {
		f.add("medications", "at most 20")
	}
	for i := range in.Medications {
		m := &in.Medications[i]
		field := "medications[" + strconv.Itoa(i) + "]"
		if m.Name = checkText(&f, field+".name", m.Name, 100); m.Name == "" {
			f.add(field+".name", "is required")
		}
		m.Dose, m.Frequency = checkText(&f, field+".dose", m.Dose, 50), checkText(&f, field+".frequency", m.Frequency, 50)
	}
	if in.RiskLevel == nil {
		f.add("risk_level", "is required")
	} else if !clinical.ValidRiskLevel(*in.RiskLevel) {
		f.add("risk_level", "must be a whole number from 0 to 5")
	}
	in.Recommendations = checkNote(&f, "recommendations", in.Recommendations, 4000)
	if in.Urgency != "" {
		f.add("urgency", "only a referral up has an urgency")
	}
	if err := f.err(); err != nil {
		return err
	}
	from, err := unitByCode(ctx, tx, a.UnitCode)
	if err != nil || from == nil {
		return errors.Join(err, errForbidden())
	}
	d := Discharge{DischargedOn: in.DischargedOn, Diagnoses: in.Diagnoses, Medications: in.Medications, RiskLevel: in.RiskLevel,
		Recommendations: in.Recommendations}
	blob, _ := json.Marshal(d)
	now := tx.Now()
	due := now.Add(s.ReferralTargets()[clinical.ReferralRoutine])
	if err := tx.QueryRow(ctx, `INSERT INTO referrals (patient_id, direction, from_unit_id, from_path, to_unit_id, to_path, reason,
		status, requested_by, requested_at, due_by, discharged_on, discharge, updated_at)
		VALUES (?, 'down', ?, ?, ?, ?, ?, 'requested', ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.ID, from.id, from.Path, to.id, to.Path, in.Reason, a.Username, store.FormatTime(now), store.FormatTime(due),
		in.DischargedOn, string(blob), store.FormatTime(now)).Scan(id); err != nil {
		return err
	}
	sub.Detail = "referral " + strconv.FormatInt(*id, 10) + " down from " + from.Code
	// R-DISCHARGE: a hospitalised patient is managed again, due within 14 days.
	if p.Status == string(clinical.StatusHospitalised) {
		if err := setStatus(ctx, tx, p.ID, string(clinical.StatusManaged), in.DischargedOn, "discharged by "+from.Name, a.Username); err != nil {
			return err
		}
	}
	if err := report.Touch(ctx, tx, p.ID); err != nil {
		return err
	}
	return refreshSummary(ctx, tx, p.ID, a.Username, s.today())
}

// referralUnit resolves the receiving unit: an institution for a referral
// up, a community for one down.
func (s *Service) referralUnit(ctx context.Context, tx *store.Tx, f *fields, code string, up bool) (*unitRow, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		f.add("to_unit", "is required")
		return nil, nil
	}
	u, err := unitByCode(ctx, tx, code)
	switch {
	case err != nil:
		return nil, err
	case u == nil:
		f.add("to_unit", "no org unit has this code")
	case up && u.Level != Institution:
		f.add("to_unit", "must be an institution (a hospital)")
	case !up && u.Level != Community:
		f.add("to_unit", "must be the patient's community")
	}
	return u, nil
}

// referralByID loads a referral and checks the actor may see it: as its
// sender's side (the patient's jurisdiction) or its receiver's (the
// receiving unit lies in the actor's).
func referralByID(ctx context.Context, tx *store.Tx, a *Actor, id int64, sub *subject) (*HospitalReferral, error) {
	sub.Type, sub.ID = "referral", strconv.FormatInt(id, 10)
	r, err := scanReferral(tx.QueryRow(ctx, `SELECT `+referralColumns+referralFrom+` WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound("referral")
	}
	if err != nil {
		return nil, err
	}
	sub.Type, sub.ID, sub.Unit, sub.Path = "patient", strconv.FormatInt(r.PatientID, 10), r.ToUnit, r.toPath
	sub.Detail = "referral " + strconv.FormatInt(id, 10)
	if Allow(a, ReadPatient, Target{Path: r.patientPath, Patient: r.PatientID}) {
		sub.Path = r.patientPath
		return r, nil
	}
	if Allow(a, ReadPatient, Target{Path: r.toPath}) || Allow(a, ReadPatient, Target{Path: r.fromPath}) {
		return r, nil
	}
	return nil, errHidden("referral")
}

// Referral returns one referral with its summaries, as the actor may see it.
func (s *Service) Referral(ctx context.Context, id int64) (*HospitalReferral, error) {
	var out *HospitalReferral
	err := s.view(ctx, "referral.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		r, err := referralByID(ctx, tx, a, id, sub)
		if err != nil {
			return err
		}
		out = r
		return r.finish(a, tx.Now(), true)
	})
	return out, err
}

// ReferralPatch moves a referral on: Status accepted, declined (with a
// Note), completed (with an Outcome for a referral up) or cancelled.
type ReferralPatch struct {
	Status  string `json:"status"`
	Note    string `json:"note,omitempty"`
	Outcome string `json:"outcome,omitempty"`
}

// UpdateReferral moves a referral along its statuses: the receiver accepts
// or declines (saying why) a requested one and completes an accepted one;
// the sender may cancel it before it is accepted. Any other move is a
// conflict. A declined referral up alerts the sender's community
// (R-ALERT-REFERRAL); one completed as admitted makes the patient
// hospitalised.
func (s *Service) UpdateReferral(ctx context.Context, id int64, in ReferralPatch) (*HospitalReferral, error) {
	err := s.act(ctx, "referral.update", func(tx *store.Tx, a *Actor, sub *subject) error {
		r, err := referralByID(ctx, tx, a, id, sub)
		if err != nil {
			return err
		}
		sub.Detail += " " + r.Status + " → " + in.Status
		if !slices.Contains(RefStatuses, in.Status) {
			return invalid("status", "must be accepted, declined, completed or cancelled")
		}
		if !slices.Contains(referralMoves[r.Status], in.Status) {
			return errConflict("a referral " + r.Status + " cannot become " + in.Status)
		}
		// The receiver answers; the sender cancels.
		side := r.toPath
		if in.Status == RefCancelled {
			side = r.patientPath
			if r.Direction == "down" {
				side = r.fromPath
			}
		}
		if !Allow(a, WriteReferral, Target{Path: side}) {
			return errForbidden()
		}
		var f fields
		in.Note = checkNote(&f, "note", in.Note, 2000)
		if in.Status == RefDeclined && in.Note == "" {
			f.add("note", "say why the referral is declined")
		}
		switch {
		case in.Status == RefCompleted && r.Direction == "up" && !slices.Contains(RefOutcomes, in.Outcome):
			f.add("outcome", "must be admitted, outpatient or returned")
		case in.Outcome != "" && (in.Status != RefCompleted || r.Direction != "up"):
			f.add("outcome", "only a completed referral up has an outcome")
		}
		if err := f.err(); err != nil {
			return err
		}
		now := store.FormatTime(tx.Now())
		responded := int64(tx.Now().Sub(r.RequestedAt) / time.Second)
		q := `UPDATE referrals SET status = ?, updated_at = ?`
		args := []any{in.Status, now}
		if in.Note != "" {
			q, args = q+`, note = ?`, append(args, in.Note)
		}
		switch in.Status {
		case RefAccepted:
			q, args = q+`, answered_by = ?, answered_at = ?, response_seconds = ?`, append(args, a.Username, now, responded)
		case RefDeclined:
			q, args = q+`, answered_by = ?, answered_at = ?, response_seconds = ?, closed_by = ?, closed_at = ?`,
				append(args, a.Username, now, responded, a.Username, now)
		case RefCompleted:
			q, args = q+`, outcome = ?, closed_by = ?, closed_at = ?`, append(args, in.Outcome, a.Username, now)
		case RefCancelled:
			q, args = q+`, closed_by = ?, closed_at = ?`, append(args, a.Username, now)
		}
		res, err := tx.Exec(ctx, q+` WHERE id = ? AND status = ?`, append(args, id, r.Status)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errConflict("the referral changed meanwhile; reload it")
		}
		if r.Direction == "up" && in.Status == RefDeclined {
			rid := r.ID
			if err := raiseAlert(ctx, tx, r.PatientID, AlertReferralDeclined, "", &rid); err != nil {
				return err
			}
		}
		if r.Direction == "up" && in.Status == RefCompleted && in.Outcome == "admitted" {
			var status string
			if err := tx.QueryRow(ctx, `SELECT status FROM patients WHERE id = ?`, r.PatientID).Scan(&status); err != nil {
				return err
			}
			if status == string(clinical.StatusManaged) || status == string(clinical.StatusLost) {
				if err := setStatus(ctx, tx, r.PatientID, string(clinical.StatusHospitalised), s.today().String(),
					"admitted to "+r.ToUnitName, a.Username); err != nil {
					return err
				}
			}
		}
		if in.Status == RefCancelled || in.Status == RefDeclined {
			// A referral that no longer stands answers no flag.
			return refreshSummary(ctx, tx, r.PatientID, a.Username, s.today())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Referral(ctx, id)
}

// ReferralQuery chooses referrals: of a unit in the actor's jurisdiction
// (default their own), of a status, a direction, a patient; Box "received"
// keeps those sent to the unit, "sent" those of its patients.
type ReferralQuery struct {
	OrgUnit   string
	Status    string
	Direction string
	Box       string
	PatientID int64
	// PastTarget keeps the open referrals up past their target.
	PastTarget bool
	// From and To (dates, To included) keep those requested in a period:
	// the response-time figure's drill-down.
	From, To string
}

// Referrals lists the referrals that concern the actor's unit (or OrgUnit)
// as sender or receiver, newest first.
func (s *Service) Referrals(ctx context.Context, q ReferralQuery, pg Page) ([]HospitalReferral, string, error) {
	limit, after, err := pg.start("|")
	if err != nil {
		return nil, "", err
	}
	var f fields
	if q.Status != "" && !slices.Contains(RefStatuses, q.Status) {
		f.add("status", "must be requested, accepted, declined, completed or cancelled")
	}
	if q.Direction != "" && q.Direction != "up" && q.Direction != "down" {
		f.add("direction", "must be up or down")
	}
	if q.Box != "" && q.Box != "received" && q.Box != "sent" {
		f.add("box", "must be received or sent")
	}
	for _, d := range []struct{ name, v string }{{"from", q.From}, {"to", q.To}} {
		if _, ok := ParseDate(d.v); d.v != "" && !ok {
			f.add(d.name, "must be a real date, YYYY-MM-DD")
		}
	}
	if err := f.err(); err != nil {
		return nil, "", err
	}
	var out []HospitalReferral
	err = s.view(ctx, "referral.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type = "referral_list"
		scope, err := scopeFor(ctx, tx, a, ReadPatient, q.OrgUnit, sub)
		if err != nil {
			return err
		}
		lo, hi := store.Beneath(scope)
		received := `(r.to_path >= ? AND r.to_path < ?)`
		sent := `((p.org_path >= ? AND p.org_path < ?) OR (r.from_path >= ? AND r.from_path < ?))`
		var where string
		var args []any
		switch q.Box {
		case "received":
			where, args = received, []any{lo, hi}
		case "sent":
			where, args = sent, []any{lo, hi, lo, hi}
		default:
			where, args = "("+received+" OR "+sent+")", []any{lo, hi, lo, hi, lo, hi}
		}
		if q.Status != "" {
			where, args = where+` AND r.status = ?`, append(args, q.Status)
		}
		if q.Direction != "" {
			where, args = where+` AND r.direction = ?`, append(args, q.Direction)
		}
		if q.PatientID != 0 {
			where, args = where+` AND r.patient_id = ?`, append(args, q.PatientID)
			sub.Type, sub.ID = "patient", strconv.FormatInt(q.PatientID, 10)
		}
		if q.From != "" {
			where, args = where+` AND r.requested_at >= ?`, append(args, s.dayStart(q.From))
		}
		if q.To != "" {
			to, _ := ParseDate(q.To)
			where, args = where+` AND r.requested_at < ?`, append(args, s.dayStart(to.AddDate(0, 0, 1).Format(store.DateLayout)))
		}
		if q.PastTarget {
			where, args = where+` AND r.direction = 'up' AND r.status = 'requested' AND r.due_by < ?`, append(args, store.FormatTime(tx.Now()))
		}
		if after.set {
			where += ` AND (r.requested_at < ? OR (r.requested_at = ? AND r.id < ?))`
			args = append(args, after.key, after.key, after.id)
		}
		rows, err := tx.Query(ctx, `SELECT `+referralColumns+referralFrom+` WHERE `+where+`
			ORDER BY r.requested_at DESC, r.id DESC LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanReferral(rows)
			if err != nil {
				return err
			}
			if err := r.finish(a, tx.Now(), false); err != nil {
				return err
			}
			out = append(out, *r)
		}
		sub.Detail = fmt.Sprintf("%d results", min(len(out), limit))
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(r HospitalReferral) string {
		return store.FormatTime(r.RequestedAt) + "|" + strconv.FormatInt(r.ID, 10)
	})
	return out, next, nil
}

// ReferralCounts counts what awaits the actor's unit: referrals received
// and not yet answered, those of them past their target, and discharges
// handed down not yet acknowledged.
type ReferralCounts struct {
	Received   int `json:"received"`
	PastTarget int `json:"past_target"`
	Discharges int `json:"discharges"`
}

// ReferralCounts counts the referrals awaiting the actor's unit, for the
// home page; zero for roles that do not answer referrals.
func (s *Service) ReferralCounts(ctx context.Context) (*ReferralCounts, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, errUnauthenticated
	}
	var out ReferralCounts
	if !Allow(a, WriteReferral, Target{Path: a.UnitPath}) {
		return &out, nil
	}
	lo, hi := store.Beneath(a.UnitPath)
	err := s.db.QueryRow(ctx, `SELECT
		COALESCE(sum(CASE WHEN direction = 'up' THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN direction = 'up' AND due_by < ? THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN direction = 'down' THEN 1 ELSE 0 END), 0)
		FROM referrals WHERE status = 'requested' AND to_path >= ? AND to_path < ?`,
		store.FormatTime(time.Now()), lo, hi).Scan(&out.Received, &out.PastTarget, &out.Discharges)
	return &out, err
}

// referralEvents adds to a timeline the patient's referrals: kind referral,
// Detail the direction, status and, for a referral up, urgency as codes
// ("up accepted urgent"), Author who made it. Reasons and summaries stay on
// the referral's own page.
func (s *Service) referralEvents(ctx context.Context, tx *store.Tx, id int64, out []TimelineItem) ([]TimelineItem, error) {
	rows, err := tx.Query(ctx, `SELECT id, direction, status, urgency, requested_at, requested_by FROM referrals
		WHERE patient_id = ? ORDER BY requested_at DESC, id DESC LIMIT ?`, id, timelineLimit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var it TimelineItem
		var dir, status, urgency, at string
		if err := rows.Scan(&it.ID, &dir, &status, &urgency, &at, &it.Author); err != nil {
			return nil, err
		}
		it.Kind, it.Date = "referral", clinical.DateOf(store.MustTime(at).In(s.zone)).String()
		it.Detail = strings.TrimSpace(dir + " " + status + " " + urgency)
		it.Open = status == RefRequested || status == RefAccepted
		out = append(out, it)
	}
	return out, rows.Err()
}

// Institutions lists every institution a referral up may go to, by path:
// hospitals are no secret, and a community refers beyond its jurisdiction.
func (s *Service) Institutions(ctx context.Context) ([]Unit, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, errUnauthenticated
	}
	if !mayEver(a, WriteReferral) {
		return nil, nil
	}
	var out []Unit
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+unitColumns+unitFrom+` WHERE u.level = ? ORDER BY u.path LIMIT 500`, string(Institution))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUnit(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, err
}
