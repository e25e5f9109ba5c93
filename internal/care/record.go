package care

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"

	"kith/internal/audit"
	"kith/internal/clinical"
	"kith/internal/report"
	"kith/internal/store"
)

// PatientPatch changes a patient's record; nil fields stay as they are.
// A status change is added to the status history with StatusOn and
// StatusReason. Moving to another community is a transfer (TransferPatient).
type PatientPatch struct {
	Name         *string      `json:"name"`
	Sex          *string      `json:"sex"`
	BirthDate    *string      `json:"birth_date"`
	NationalID   *string      `json:"national_id"`
	Phone        *string      `json:"phone"`
	Address      *string      `json:"address"`
	Guardian     *Guardian    `json:"guardian"`
	Diagnoses    *[]Diagnosis `json:"diagnoses"`
	Consent      *bool        `json:"consent"`
	ConsentOn    *string      `json:"consent_on"`
	Status       *string      `json:"status"`
	StatusOn     string       `json:"status_on"`
	StatusReason string       `json:"status_reason"`
	OrgUnit      *string      `json:"org_unit"`
}

// UpdatePatient changes a patient's record.
func (s *Service) UpdatePatient(ctx context.Context, id int64, in PatientPatch) (*Patient, error) {
	err := s.act(ctx, "patient.update", func(tx *store.Tx, a *Actor, sub *subject) error {
		p, err := visible(ctx, tx, a, WritePatient, id, sub)
		if err != nil {
			return err
		}
		f := s.fields()
		if in.OrgUnit != nil && *in.OrgUnit != p.OrgUnit {
			f.add("org_unit", "moving a patient to another community is a transfer: POST /api/v1/patients/{id}/transfer")
		}
		cur := PatientInput{Name: p.Name, Sex: p.Sex, BirthDate: p.BirthDate, Phone: p.Phone, Address: p.Address, OrgUnit: p.OrgUnit,
			Guardian: p.Guardian, Status: p.Status, RegisteredOn: p.RegisteredOn, Consent: p.consent, ConsentOn: p.ConsentOn}
		if cur.NationalID, err = s.openNationalID(p.sealedNID); err != nil {
			return err
		}
		if cur.Diagnoses, err = diagnosesOf(ctx, tx, id); err != nil {
			return err
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&cur.Name, in.Name)
		set(&cur.Sex, in.Sex)
		set(&cur.BirthDate, in.BirthDate)
		set(&cur.NationalID, in.NationalID)
		set(&cur.Phone, in.Phone)
		set(&cur.Address, in.Address)
		set(&cur.ConsentOn, in.ConsentOn)
		set(&cur.Status, in.Status)
		if in.Guardian != nil {
			cur.Guardian = *in.Guardian
		}
		if in.Diagnoses != nil {
			cur.Diagnoses = *in.Diagnoses
		}
		if in.Consent != nil {
			cur.Consent = *in.Consent
		}
		nid, severe := cur.normalize(&f)
		statusChanged := cur.Status != p.Status
		if statusChanged {
			if in.StatusOn == "" {
				in.StatusOn = f.date()
			}
			checkDate(&f, "status_on", in.StatusOn, true)
			in.StatusReason = checkText(&f, "status_reason", in.StatusReason, 200)
		}
		if err := f.err(); err != nil {
			return err
		}
		var nidHash any
		sealed := ""
		if nid != "" {
			h := s.nationalIDHash(nid)
			var other int64
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM patients WHERE national_id_hash = ? AND id <> ?`, h, id).Scan(&other); err != nil {
				return err
			}
			if other > 0 {
				return &Error{Kind: Conflict, Message: "another patient on the register has this national ID",
					Fields: []FieldError{{Field: "national_id", Message: "is already on the register"}}}
			}
			if sealed, err = s.sealNationalID(nid); err != nil {
				return err
			}
			nidHash = h
		}
		initials, phoneKey, tail := s.SearchColumns(cur.Name, cur.Phone, nid)
		if _, err := tx.Exec(ctx, `UPDATE patients SET name = ?, name_key = ?, sex = ?, birth_date = ?, national_id_enc = ?,
			national_id_hash = ?, phone = ?, address = ?, guardian_name = ?, guardian_relation = ?, guardian_phone = ?, consent = ?,
			consent_on = ?, severe = ?, updated_at = ?, name_initials = ?, phone_key = ?, national_id_tail = ?, search_keys = 1 WHERE id = ?`,
			cur.Name, strings.ToLower(cur.Name), cur.Sex, cur.BirthDate, sealed, nidHash, cur.Phone, cur.Address, cur.Guardian.Name,
			cur.Guardian.Relation, cur.Guardian.Phone, cur.Consent, cur.ConsentOn, severe, store.FormatTime(tx.Now()),
			initials, phoneKey, tail, id); err != nil {
			return err
		}
		if err := report.Touch(ctx, tx, id); err != nil {
			return err
		}
		if in.Guardian != nil {
			if err := setGuardian(ctx, tx, id, cur.Guardian); err != nil {
				return err
			}
		}
		if in.Diagnoses != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM patient_diagnoses WHERE patient_id = ?`, id); err != nil {
				return err
			}
			if err := insertDiagnoses(ctx, tx, id, cur.Diagnoses); err != nil {
				return err
			}
		}
		if statusChanged {
			sub.Detail = "status " + p.Status + " → " + cur.Status
			return setStatus(ctx, tx, id, cur.Status, in.StatusOn, in.StatusReason, a.Username)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Patient(ctx, id)
}

// TransferInput moves a patient to another community.
type TransferInput struct {
	OrgUnit string `json:"org_unit"`
	Date    string `json:"date"`
	Reason  string `json:"reason"`
}

// TransferPatient moves a patient to another community (move-out / move-in).
// The receiving community may lie outside the actor's jurisdiction: a
// patient who moves to another district is handed over, and the actor
// loses sight of the record.
// The record and all its history go along; the audit log gets an entry in
// each unit, so both see the transfer.
func (s *Service) TransferPatient(ctx context.Context, id int64, in TransferInput) (*Patient, error) {
	var to *unitRow
	var from string
	var out *Patient
	err := s.act(ctx, "patient.transfer_out", func(tx *store.Tx, a *Actor, sub *subject) error {
		p, err := visible(ctx, tx, a, WritePatient, id, sub)
		if err != nil {
			return err
		}
		f := s.fields()
		if in.Date == "" {
			in.Date = f.date()
		}
		checkDate(&f, "date", in.Date, true)
		in.Reason = checkText(&f, "reason", in.Reason, 200)
		if to, err = communityByCode(ctx, tx, &f, in.OrgUnit); err != nil {
			return err
		}
		if to != nil && to.id == p.unitID {
			f.add("org_unit", "the patient already belongs to this community")
		}
		if err := f.err(); err != nil {
			return err
		}
		from = p.OrgUnit
		sub.Detail = "to " + to.Code
		if err := report.Touch(ctx, tx, id); err != nil { // the community left
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE patients SET org_unit_id = ?, org_path = ?, updated_at = ? WHERE id = ?`,
			to.id, to.Path, store.FormatTime(tx.Now()), id); err != nil {
			return err
		}
		if err := report.Touch(ctx, tx, id); err != nil { // the community joined
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO patient_transfers (patient_id, from_unit_id, to_unit_id, transferred_on, reason, actor, at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, p.unitID, to.id, in.Date, in.Reason, a.Username, store.FormatTime(tx.Now())); err != nil {
			return err
		}
		// The transferring actor may no longer see the record; it is
		// returned to them once, as it stands now.
		r, err := patientByID(ctx, tx, id)
		if err != nil {
			return err
		}
		out = s.redact(r, PatientView(a.Role))
		// The receiving unit's entry, in the same transaction.
		return audit.Append(ctx, tx, s.entry(ctx, a.Username, "patient.transfer_in",
			subject{Type: "patient", ID: strconv.FormatInt(id, 10), Unit: to.Code, Path: to.Path, Detail: "from " + from}, audit.Allowed))
	})
	return out, err
}

// TimelineItem is one event in a patient's record.
type TimelineItem struct {
	Kind           string `json:"kind"` // follow_up, attempt, emergency, status, transfer, assessment, alert, plan, plan_review, conference
	Date           string `json:"date"`
	ID             int64  `json:"id,omitempty"`
	Mode           string `json:"mode,omitempty"`
	Classification string `json:"classification,omitempty"`
	Rule           string `json:"rule,omitempty"`
	RiskLevel      *int   `json:"risk_level,omitempty"`
	NextDueOn      string `json:"next_due_on,omitempty"`
	NextDueRule    string `json:"next_due_rule,omitempty"`
	Detail         string `json:"detail,omitempty"`
	Author         string `json:"author,omitempty"`
	AuthorName     string `json:"author_name,omitempty"` // the full name of author
	Open           bool   `json:"open,omitempty"`        // an emergency record not yet completed
	Superseded     bool   `json:"superseded,omitempty"`
	// Assessment is the response of an assessment (kind assessment; the
	// follow-ups' risk assessments are their follow-ups) or the one whose
	// alert was acknowledged (kind alert, with what was done in Detail).
	Assessment *Assessment `json:"assessment,omitempty"`
	// Conference is, for kind conference, the case conference with only
	// this patient's part (summary and decisions).
	Conference *Conference `json:"conference,omitempty"`
}

// timelineLimit bounds the timeline: a patient followed up for years has a
// few dozen events a year.
const timelineLimit = 500

// Timeline returns the patient's follow-ups, attempts, emergencies, status
// changes and transfers, newest first.
func (s *Service) Timeline(ctx context.Context, id int64) ([]TimelineItem, error) {
	var out []TimelineItem
	err := s.view(ctx, "patient.timeline", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, ReadPatient, id, sub); err != nil {
			return err
		}
		var err error
		out, err = s.timeline(ctx, tx, id, PatientView(a.Role))
		return err
	})
	return out, err
}

// timeline gathers a patient's events, newest first, as view v may see them.
func (s *Service) timeline(ctx context.Context, tx *store.Tx, id int64, v View) ([]TimelineItem, error) {
	var out []TimelineItem
	rows, err := tx.Query(ctx, `SELECT `+followUpColumns+` FROM follow_ups WHERE patient_id = ? ORDER BY date DESC, id DESC LIMIT ?`, id, timelineLimit)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		fu, err := scanFollowUp(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		it := TimelineItem{Kind: "follow_up", Date: fu.Date, ID: fu.ID, Mode: fu.Mode, Classification: fu.Classification,
			RiskLevel: fu.RiskLevel, NextDueOn: fu.NextDueOn, NextDueRule: fu.NextDueRule, Author: fu.Author, Superseded: fu.SupersededBy != nil}
		if fu.Rule != nil {
			it.Rule = *fu.Rule
		}
		if fu.Reached != nil && !*fu.Reached {
			it.Kind, it.Detail, it.NextDueOn, it.NextDueRule = "attempt", fu.NotReachedReason, "", ""
		}
		if v == ViewSafety {
			it.Classification, it.Rule, it.NextDueRule = "", "", ""
		}
		out = append(out, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ems, err := emergenciesOf(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	for _, e := range ems {
		out = append(out, TimelineItem{Kind: "emergency", Date: e.OccurredAt.Format(store.DateLayout), ID: e.ID,
			Detail: strings.Join(e.Triggers, ", "), NextDueOn: e.FollowUpBy, Author: e.Author, Open: !e.Completed})
	}
	hist, err := statusHistoryOf(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	for _, h := range hist {
		it := TimelineItem{Kind: "status", Date: h.ChangedOn, Detail: h.Status, Author: h.Actor}
		if v != ViewSafety && h.Reason != "" {
			it.Detail += ": " + h.Reason
		}
		out = append(out, it)
	}
	trows, err := tx.Query(ctx, `SELECT t.transferred_on, f.code, o.code, t.actor FROM patient_transfers t
		JOIN org_units f ON f.id = t.from_unit_id JOIN org_units o ON o.id = t.to_unit_id WHERE t.patient_id = ? ORDER BY t.id`, id)
	if err != nil {
		return nil, err
	}
	defer trows.Close()
	for trows.Next() {
		var it TimelineItem
		var fromCode, toCode string
		if err := trows.Scan(&it.Date, &fromCode, &toCode, &it.Author); err != nil {
			return nil, err
		}
		it.Kind, it.Detail = "transfer", fromCode+" → "+toCode
		out = append(out, it)
	}
	if err := trows.Err(); err != nil {
		return nil, err
	}
	if v != ViewSafety && v != ViewNone {
		if out, err = s.assessmentEvents(ctx, tx, id, out); err != nil {
			return nil, err
		}
		if out, err = planEvents(ctx, tx, id, out); err != nil {
			return nil, err
		}
		if out, err = conferenceEvents(ctx, tx, id, out); err != nil {
			return nil, err
		}
	}
	if out, err = s.warningEvents(ctx, tx, id, out); err != nil { // referrals, crisis events
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date > out[j].Date })
	return out, nameAuthors(ctx, tx, out)
}

// nameAuthors gives each timeline item its author's full name, found for
// the whole timeline in one query.
func nameAuthors(ctx context.Context, tx *store.Tx, items []TimelineItem) error {
	var users []any
	seen := map[string]bool{}
	for _, it := range items {
		if it.Author != "" && !seen[it.Author] {
			seen[it.Author] = true
			users = append(users, it.Author)
		}
	}
	if len(users) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT username, full_name FROM users WHERE username IN (?`+strings.Repeat(", ?", len(users)-1)+`)`, users...)
	if err != nil {
		return err
	}
	defer rows.Close()
	names := map[string]string{}
	for rows.Next() {
		var u, n string
		if err := rows.Scan(&u, &n); err != nil {
			return err
		}
		names[u] = n
	}
	for i := range items {
		if n, ok := names[items[i].Author]; ok {
			items[i].AuthorName = n
		} else {
			items[i].AuthorName = items[i].Author
		}
	}
	return rows.Err()
}

// assessmentEvents adds to a timeline the patient's assessments (the
// follow-ups' risk assessments show as their follow-ups) and the
// acknowledgements of their alerts, with what was done.
func (s *Service) assessmentEvents(ctx context.Context, tx *store.Tx, id int64, out []TimelineItem) ([]TimelineItem, error) {
	list, err := s.assessmentsWhere(ctx, tx, `a.patient_id = ? ORDER BY a.taken_on DESC, a.id DESC LIMIT ?`, id, timelineLimit)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*Assessment{}
	for i := range list {
		as := &list[i]
		byID[as.ID] = as
		if as.FollowUpID == nil {
			out = append(out, TimelineItem{Kind: "assessment", Date: as.Date, ID: as.ID, Author: as.Author, Assessment: as})
		}
	}
	rows, err := tx.Query(ctx, `SELECT id, COALESCE(assessment_id, 0), acknowledged_by, acknowledged_at, action FROM alerts
		WHERE patient_id = ? AND acknowledged_at IS NOT NULL ORDER BY acknowledged_at DESC LIMIT ?`, id, timelineLimit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var it TimelineItem
		var assessment int64
		var at string
		if err := rows.Scan(&it.ID, &assessment, &it.Author, &at, &it.Detail); err != nil {
			return nil, err
		}
		it.Kind, it.Date, it.Assessment = "alert", at[:len(store.DateLayout)], byID[assessment]
		out = append(out, it)
	}
	return out, rows.Err()
}

// WorklistKind names a worklist.
type WorklistKind string

// The worklists: due in the next 7 days, overdue (R-OVERDUE), lost to
// follow-up (R-LOST), fewer than 4 reached follow-ups this year (R-MIN4).
const (
	WorkDue      WorklistKind = "due"
	WorkOverdue  WorklistKind = "overdue"
	WorkLost     WorklistKind = "lost"
	WorkBelowMin WorklistKind = "below_min"
	// WorkPlanReview: the active rehabilitation plan's next review is
	// within PlanReviewSoonDays days or past (issue 11).
	WorkPlanReview WorklistKind = "plan_review"
)

// WorklistQuery chooses a worklist. AsOf defaults to today, OrgUnit to the
// actor's unit.
type WorklistQuery struct {
	Kind    string
	OrgUnit string
	AsOf    string
}

// WorklistItem is one patient on a worklist, with what a worker needs to
// reach them.
type WorklistItem struct {
	PatientID       int64    `json:"patient_id"`
	Name            string   `json:"name"`
	OrgUnit         string   `json:"org_unit"`
	Status          string   `json:"status"`
	DueOn           string   `json:"due_on"`
	DueRule         string   `json:"due_rule,omitempty"`
	DaysOverdue     int      `json:"days_overdue"`
	RiskLevel       *int     `json:"risk_level"`
	Classification  string   `json:"classification,omitempty"`
	LastFollowUpOn  string   `json:"last_follow_up_on"`
	ReachedThisYear int      `json:"reached_this_year"`
	Phone           string   `json:"phone"`
	Address         string   `json:"address"`
	Guardian        Guardian `json:"guardian"`
	// Urgency ranks the patient (clinical.Urgency): 3 high risk or
	// unstable, 2 never reached, 1 basically stable, 0 stable. Left out of
	// the care group's view, where it would tell the classification.
	Urgency *int `json:"urgency,omitempty"`
	// NeverReached says no follow-up has reached the patient since
	// registration.
	NeverReached bool `json:"never_reached"`
	// OpenAlert says an alert about the patient awaits a clinician. The
	// care group sees only this, as "contact the community doctor before
	// visiting", never the alert itself.
	OpenAlert bool `json:"open_alert"`
	rank      int  // the urgency, kept for the page token
}

// Worklist returns a worklist for the actor's jurisdiction, most urgent
// first (clinical.Urgency: high risk or unstable, then never reached, then
// basically stable, then stable), and within each the earliest due date.
func (s *Service) Worklist(ctx context.Context, q WorklistQuery, p Page) ([]WorklistItem, string, error) {
	limit, err := p.limit()
	if err != nil {
		return nil, "", err
	}
	after, err := p.after()
	if err != nil {
		return nil, "", err
	}
	f := s.fields()
	kind := WorklistKind(q.Kind)
	switch kind {
	case WorkDue, WorkOverdue, WorkLost, WorkBelowMin, WorkPlanReview, WorkAlert, WorkDischarge:
	case "":
		kind = WorkOverdue
	default:
		f.add("kind", "must be due, overdue, lost, below_min, plan_review, alert or discharge")
	}
	if q.AsOf == "" {
		q.AsOf = f.date()
	}
	asOf, perr := clinical.ParseDate(q.AsOf)
	if perr != nil {
		f.add("as_of", "must be a real date, YYYY-MM-DD")
	} else {
		checkBounds(&f, "as_of", asOf)
	}
	// The keyset is (urgency, due date, id) of the last row shown.
	var kRisk, kID int64
	var kDue string
	if after != "" {
		parts := strings.Split(after, "/")
		var e1, e2 error
		if len(parts) == 3 {
			kRisk, e1 = strconv.ParseInt(parts[0], 10, 64)
			kDue = parts[1]
			kID, e2 = strconv.ParseInt(parts[2], 10, 64)
		}
		if len(parts) != 3 || e1 != nil || e2 != nil {
			f.add("page_token", "is not a token this server gave out")
		}
	}
	if err := f.err(); err != nil {
		return nil, "", err
	}
	yearStart, _ := clinical.CalendarYear(asOf)
	var out []WorklistItem
	err = s.view(ctx, "worklist.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Detail = "worklist", string(kind), q.AsOf
		scope, err := patientScope(ctx, tx, a, q.OrgUnit, sub)
		if err != nil {
			return err
		}
		lo, hi := store.Beneath(scope)
		// The due date is the next follow-up's, or on plan_review the
		// active plan's next review.
		due, from := "p.next_due_on", ""
		if kind == WorkPlanReview {
			due, from = "cp.next_review_on", ` JOIN care_plans cp ON cp.patient_id = p.id AND cp.status = 'active'`
		}
		qs := `SELECT p.id, p.name, o.code, p.status, ` + due + `, p.next_due_rule, p.last_risk_level, p.last_classification,
			p.last_followup_on, ` + reachedInYearSQL + `, p.phone, p.address, p.guardian_name, p.guardian_relation, p.guardian_phone,
			` + clinical.UrgencySQL + ` AS urgency,
			p.id IN (SELECT al.patient_id FROM alerts al WHERE al.acknowledged_at IS NULL) AS open_alert
			FROM patients p JOIN org_units o ON o.id = p.org_unit_id` + from + `
			WHERE p.org_path >= ? AND p.org_path < ?`
		args := append(reachedInYearArgs(yearStart, asOf), lo, hi)
		switch kind {
		case WorkDue:
			qs += ` AND p.status = 'managed' AND p.next_due_on >= ? AND p.next_due_on <= ?`
			args = append(args, asOf.String(), asOf.AddDays(7).String())
		case WorkOverdue:
			qs += ` AND p.status = 'managed' AND p.next_due_on < ?`
			args = append(args, asOf.String())
		case WorkLost:
			qs += ` AND p.status = 'lost'`
		case WorkBelowMin:
			qs += ` AND p.status = 'managed' AND ` + reachedInYearSQL + ` < ?`
			args = append(append(args, reachedInYearArgs(yearStart, asOf)...), clinical.MinReachedPerYear)
		case WorkPlanReview:
			qs += ` AND cp.next_review_on <= ?`
			args = append(args, asOf.AddDays(PlanReviewSoonDays).String())
		case WorkAlert:
			qs += alertWorkSQL
		case WorkDischarge:
			qs += dischargeWorkSQL
		}
		if after != "" {
			qs += ` AND (` + clinical.UrgencySQL + ` < ? OR (` + clinical.UrgencySQL + ` = ? AND
				(` + due + ` > ? OR (` + due + ` = ? AND p.id > ?))))`
			args = append(args, kRisk, kRisk, kDue, kDue, kID)
		}
		qs += ` ORDER BY urgency DESC, ` + due + `, p.id LIMIT ?`
		args = append(args, limit+1)
		rows, err := tx.Query(ctx, qs, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		hideClass := PatientView(a.Role) == ViewSafety
		for rows.Next() {
			var it WorklistItem
			var risk *int
			var urgency int
			if err := rows.Scan(&it.PatientID, &it.Name, &it.OrgUnit, &it.Status, &it.DueOn, &it.DueRule, &risk, &it.Classification,
				&it.LastFollowUpOn, &it.ReachedThisYear, &it.Phone, &it.Address, &it.Guardian.Name, &it.Guardian.Relation,
				&it.Guardian.Phone, &urgency, &it.OpenAlert); err != nil {
				return err
			}
			it.RiskLevel, it.Urgency, it.NeverReached, it.rank = risk, &urgency, it.LastFollowUpOn == "", urgency
			if due, err := clinical.ParseDate(it.DueOn); err == nil {
				_, it.DaysOverdue = clinical.Overdue(due, asOf)
			}
			if hideClass {
				it.Classification, it.DueRule, it.Urgency = "", "", nil
			}
			if kind == WorkPlanReview {
				it.DueRule = "" // the follow-up's rule says nothing of the plan
			}
			out = append(out, it)
		}
		sub.Detail += " " + strconv.Itoa(min(len(out), limit)) + " rows"
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(it WorklistItem) string {
		return strconv.Itoa(it.rank) + "/" + it.DueOn + "/" + strconv.FormatInt(it.PatientID, 10)
	})
	return out, next, nil
}

// Record is what the record page shows: the patient and the timeline.
type Record struct {
	Patient  *Patient       `json:"patient"`
	Timeline []TimelineItem `json:"timeline"`
	// Family lists the patient's family members, the guardian first (the
	// care-and-help group: the guardian only).
	Family []FamilyMember `json:"family"`
	// Assessments holds the newest response to each instrument the patient
	// has had, for the roles whose view includes them.
	Assessments []Assessment `json:"assessments,omitempty"`
	// OpenAlerts counts the patient's alerts not yet acknowledged.
	OpenAlerts int `json:"open_alerts"`
	// BreakGlass lists who broke the glass to read this record, and why.
	BreakGlass []Glass `json:"break_glass,omitempty"`
	// UnderGlass says the actor reads this record under their own
	// break-the-glass grant: outside their jurisdiction, read only.
	UnderGlass bool `json:"under_break_glass,omitempty"`
	// UnderReferral says the actor reads this record because it was
	// referred to their institution: outside their jurisdiction, read only.
	UnderReferral bool `json:"under_referral,omitempty"`
	// ContactFirst tells the care group that a clinician has an open alert
	// about the patient, so they contact the community doctor before
	// visiting; they learn nothing of the alert itself.
	ContactFirst bool `json:"contact_first,omitempty"`
	// Medications is the current medication: that of the last reached
	// follow-up, for the roles that see medication.
	Medications []Medication `json:"medications,omitempty"`
	// KeyWorker names the patient's key worker (full name), if the care
	// team has one.
	KeyWorker string `json:"key_worker,omitempty"`
	// Team is the patient's care team.
	Team *Team `json:"team,omitempty"`
	// Plan is the active rehabilitation plan, for the roles that read plans.
	Plan *Plan `json:"plan,omitempty"`
}

// PatientRecord returns a patient's record and timeline in one read, with
// one audit entry: what the record page needs.
func (s *Service) PatientRecord(ctx context.Context, id int64) (*Record, error) {
	var out Record
	err := s.view(ctx, "patient.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		var err error
		if out.Patient, err = s.readPatient(ctx, tx, a, id, sub); err != nil {
			return err
		}
		out.UnderGlass = strings.HasPrefix(sub.Detail, GlassDetail)
		if out.Team, err = teamOf(ctx, tx, a, id, out.Patient.path); err != nil {
			return err
		}
		for _, m := range out.Team.Members {
			if m.KeyWorker {
				out.KeyWorker = m.Name
			}
		}
		out.UnderReferral = sub.Detail == ReferredDetail
		v := PatientView(a.Role)
		if out.Timeline, err = s.timeline(ctx, tx, id, v); err != nil {
			return err
		}
		if out.Family, err = familyOf(ctx, tx, id, v); err != nil {
			return err
		}
		if v == ViewSafety {
			return tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM alerts WHERE patient_id = ? AND acknowledged_at IS NULL)`, id).
				Scan(&out.ContactFirst)
		}
		if out.Assessments, err = s.latestAssessments(ctx, tx, id); err != nil {
			return err
		}
		plans, err := plansWhere(ctx, tx, v, `p.patient_id = ? AND p.status = 'active'`, id)
		if err != nil {
			return err
		}
		if len(plans) > 0 {
			out.Plan = &plans[0]
		}
		if out.BreakGlass, err = glassOf(ctx, tx, id); err != nil {
			return err
		}
		if v == ViewFull || v == ViewClinical {
			last, err := latestReached(ctx, tx, id)
			if err != nil {
				return err
			}
			if last != nil {
				out.Medications = last.Medications
			}
		}
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM alerts WHERE patient_id = ? AND acknowledged_at IS NULL`, id).Scan(&out.OpenAlerts)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// reachedInYearSQL is the number of patient p's reached follow-ups from
// the start of a year to a day in it (R-MIN4): the summary's count of the
// last reached one's year (reached_in_year) when that one is not after the
// day, else counted. A district's worklist counts counted every managed
// patient's follow-ups, 85 of their 100 ms on 11,000 patients. Its
// arguments are reachedInYearArgs.
const reachedInYearSQL = `(CASE WHEN p.last_followup_on <= ? THEN (CASE WHEN p.last_followup_on >= ? THEN p.reached_in_year ELSE 0 END)
	ELSE (SELECT count(*) FROM follow_ups f WHERE f.patient_id = p.id AND f.reached = ? AND f.superseded_by IS NULL
		AND f.date >= ? AND f.date <= ?) END)`

// reachedInYearArgs are reachedInYearSQL's arguments for the year from
// yearStart to the day asOf.
func reachedInYearArgs(yearStart, asOf clinical.Date) []any {
	return []any{asOf.String(), yearStart.String(), true, yearStart.String(), asOf.String()}
}

// WorklistCounts is how many patients are on each worklist.
type WorklistCounts struct {
	Due      int `json:"due"`
	Overdue  int `json:"overdue"`
	Lost     int `json:"lost"`
	BelowMin int `json:"below_min"`
	// Alert counts the patients with an open alert or a flag not yet
	// answered (R-ALERT-DUE).
	Alert int `json:"alert"`
	// Discharge counts the patients handed back by a hospital whose
	// discharge is not yet acknowledged.
	Discharge int `json:"discharge"`
	// Contacts counts residents' open contact requests, for the roles
	// that handle them.
	Contacts int `json:"contact_requests"`
	// PlanReview counts the active plans due for review (plan_review).
	PlanReview int `json:"plan_review"`
}

// WorklistCounts counts the four worklists of the actor's jurisdiction (or
// of orgUnit) as of today, in one query and one audit entry.
func (s *Service) WorklistCounts(ctx context.Context, orgUnit string) (*WorklistCounts, error) {
	asOf := s.today()
	var out WorklistCounts
	err := s.view(ctx, "worklist.count", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type = "worklist"
		scope, err := patientScope(ctx, tx, a, orgUnit, sub)
		if err != nil {
			return err
		}
		return worklistCounts(ctx, tx, a, scope, asOf, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// worklistCounts counts the worklists of the patients beneath scope as of
// asOf into out.
func worklistCounts(ctx context.Context, tx *store.Tx, a *Actor, scope string, asOf clinical.Date, out *WorklistCounts) error {
	yearStart, _ := clinical.CalendarYear(asOf)
	lo, hi := store.Beneath(scope)
	if err := tx.QueryRow(ctx, `SELECT
			COALESCE(sum(CASE WHEN p.status = 'managed' AND p.next_due_on >= ? AND p.next_due_on <= ? THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN p.status = 'managed' AND p.next_due_on < ? THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN p.status = 'lost' THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN p.status = 'managed' AND `+reachedInYearSQL+` < ? THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN 1 = 1`+alertWorkSQL+` THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN 1 = 1`+dischargeWorkSQL+` THEN 1 ELSE 0 END), 0)
			FROM patients p WHERE p.org_path >= ? AND p.org_path < ?`,
		slices.Concat([]any{asOf.String(), asOf.AddDays(7).String(), asOf.String()}, reachedInYearArgs(yearStart, asOf),
			[]any{clinical.MinReachedPerYear, lo, hi})...).Scan(&out.Due, &out.Overdue, &out.Lost, &out.BelowMin, &out.Alert, &out.Discharge); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM care_plans cp JOIN patients p ON p.id = cp.patient_id
		WHERE cp.status = 'active' AND cp.next_review_on <= ? AND p.org_path >= ? AND p.org_path < ?`,
		asOf.AddDays(PlanReviewSoonDays).String(), lo, hi).Scan(&out.PlanReview); err != nil {
		return err
	}
	if !Allow(a, ReadContacts, Target{Path: scope}) {
		return nil
	}
	return tx.QueryRow(ctx, `SELECT COUNT(*) FROM contact_requests WHERE org_path >= ? AND org_path < ? AND outcome IS NULL`,
		lo, hi).Scan(&out.Contacts)
}
