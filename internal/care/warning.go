package care

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"kith/internal/audit"
	"kith/internal/clinical"
	"kith/internal/store"
)

// Early warning that acts (issue 12). An alert's flag makes the patient due
// within 2 days (R-ALERT-DUE) and puts them on the worklist "alert"; alerts
// that no assessment raises join the flags on the same list, reaching the
// same people (the policy's ReadAlerts on the patient's unit).

// The kinds of alert. AlertFlag is raised by an assessment's flag; the
// others by a follow-up, a referral or the sweep.
const (
	AlertFlag             = "flag"
	AlertRiskRise         = "risk_rise"          // R-ALERT-RISE
	AlertMedicationStop   = "medication_stopped" // R-ALERT-MED
	AlertHighRiskOverdue  = "high_risk_overdue"  // R-ALERT-OVERDUE
	AlertReferralDeclined = "referral_declined"  // R-ALERT-REFERRAL
	AlertReferralOverdue  = "referral_overdue"   // R-ALERT-REFERRAL
)

// AlertKinds lists the kinds of alert.
var AlertKinds = []string{AlertFlag, AlertRiskRise, AlertMedicationStop, AlertHighRiskOverdue, AlertReferralDeclined, AlertReferralOverdue}

// WorkAlert is the worklist of patients with an open alert or an unanswered
// flag (R-ALERT-DUE).
const WorkAlert WorklistKind = "alert"

// WorkDischarge is the worklist of patients handed back by a hospital
// (a referral down) whose discharge the community has not yet acknowledged.
const WorkDischarge WorklistKind = "discharge"

// dischargeWorkSQL selects, on patients p, the worklist "discharge": the
// discharges waiting are few, read once as a set (as alertWorkSQL's
// alerts).
const dischargeWorkSQL = ` AND p.id IN (SELECT r.patient_id FROM referrals r WHERE r.direction = 'down'
	AND r.status = 'requested')`

// alertWorkSQL selects, on patients p, the worklist "alert". The open
// alerts are few: read once as a set (IN), not looked up for each patient
// (EXISTS), which went through all of them for each of a district's
// patients, 54 ms of its worklist counts on 11,000.
const alertWorkSQL = ` AND p.status NOT IN ('deceased', 'moved_away') AND (p.next_due_rule = 'R-ALERT-DUE'
	OR p.id IN (SELECT al.patient_id FROM alerts al WHERE al.acknowledged_at IS NULL))`

// raiseAlert raises an alert of a kind no assessment raises.
func raiseAlert(ctx context.Context, tx *store.Tx, patientID int64, kind, detail string, referral *int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO alerts (patient_id, flags, raised_at, kind, detail, referral_id) VALUES (?, '', ?, ?, ?, ?)`,
		patientID, store.FormatTime(tx.Now()), kind, detail, referral)
	return err
}

// followUpAlerts raises the alerts a new reached follow-up calls for
// against prev, the reached follow-up before it: the risk level rose by 2
// or more (R-ALERT-RISE), medication stopped (R-ALERT-MED).
func followUpAlerts(ctx context.Context, tx *store.Tx, patientID int64, in FollowUpInput, prev reachedFollowUp) error {
	if !prev.found {
		return nil
	}
	var risk *int
	if prev.risk.Valid {
		n := int(prev.risk.Int64)
		risk = &n
	}
	if in.RiskLevel != nil && clinical.RiskRose(risk, *in.RiskLevel) {
		if err := raiseAlert(ctx, tx, patientID, AlertRiskRise, strconv.Itoa(*risk)+" → "+strconv.Itoa(*in.RiskLevel), nil); err != nil {
			return err
		}
	}
	if clinical.MedicationStopped(clinical.Adherence(prev.adherence), clinical.Adherence(in.MedicationAdherence)) {
		return raiseAlert(ctx, tx, patientID, AlertMedicationStop, "", nil)
	}
	return nil
}

// warningDue applies R-DISCHARGE and R-ALERT-DUE to the due date that the
// last reached follow-up (on lastDate; "" if none) set: a discharge back to
// the community since then (discharged, the latest discharge's date, or "")
// starts the schedule afresh, and the earliest flag not answered since it
// was raised (flagOn, the date it was raised on, or "") brings the date
// forward. refreshSummary reads both, in one statement with the rest of the
// summary, in the transaction that changed what they depend on.
func warningDue(lastDate, due, rule, discharged, flagOn string) (string, string) {
	d, _ := clinical.ParseDate(due)
	last, _ := clinical.ParseDate(lastDate)
	r := clinical.Rule(rule)
	if discharged != "" {
		on, _ := clinical.ParseDate(discharged)
		d, r = clinical.DischargeDue(on, last, d, r)
	}
	if flagOn != "" {
		on, _ := clinical.ParseDate(flagOn)
		d, r = clinical.AlertDue(on, false, d, r)
	}
	if d.IsZero() {
		return due, rule
	}
	return d.String(), string(r)
}

// The latest discharge back to the community, and the earliest open flag:
// a flag not answered since it was raised, by a later reached follow-up, a
// follow-up recording a referral or a referral up. A follow-up's risk flag
// whose follow-up was corrected counts only while the correction keeps the
// risk at 3 or more; a correction answers nothing, being no new contact.
// Both are scalar subqueries on patient p; openFlagSQL's arguments are
// clinical.HighRiskLevel and true.
const (
	dischargedSQL = `(SELECT max(discharged_on) FROM referrals WHERE patient_id = p.id AND direction = 'down'
		AND status <> 'cancelled')`
	openFlagSQL = `(SELECT min(a.taken_on) FROM alerts al JOIN assessments a ON a.id = al.assessment_id
		LEFT JOIN follow_ups fx ON fx.id = a.follow_up_id
		WHERE al.patient_id = p.id AND al.kind = 'flag'
		AND (fx.superseded_by IS NULL OR EXISTS (SELECT 1 FROM follow_ups fy WHERE fy.id = fx.superseded_by AND fy.risk_level >= ?))
		AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.patient_id = al.patient_id AND f.reached = ? AND f.superseded_by IS NULL
			AND f.date >= a.taken_on AND ((f.created_at > al.raised_at AND NOT EXISTS (SELECT 1 FROM follow_ups o WHERE o.superseded_by = f.id))
				OR f.details LIKE '` + referredLike + `'))
		AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.patient_id = al.patient_id AND r.direction = 'up'
			AND r.status <> 'cancelled' AND r.requested_at >= al.raised_at))`
)

// referredLike matches the details of a follow-up that records a referral
// (the form's item "referral: yes", FollowUpInput.Referral), which answers a
// flag on or before its date: R-CLASS-UNSTABLE's "refer at once" done. The
// details are the form as encoding/json writes it, in field order. It is
// written into the query, not bound: SQLite compiles a statement again at
// every run whose LIKE pattern is a bound value.
const referredLike = `%"referral":{"referred":true%`

// SweepAlerts raises the alerts that time alone calls for, as of now: a
// high-risk patient overdue (R-ALERT-OVERDUE, once per due date missed) and
// a referral up not answered within its urgency's target
// (R-ALERT-REFERRAL, once per referral). Each is audited, by "system".
func (s *Service) SweepAlerts(ctx context.Context) (int, error) {
	asOf := s.today()
	type cand struct {
		id         int64
		kind, det  string
		referral   *int64
		unit, path string
	}
	var cands []cand
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT p.id, p.next_due_on, p.last_risk_level, o.code, p.org_path
			FROM patients p JOIN org_units o ON o.id = p.org_unit_id
			WHERE p.status = 'managed' AND p.last_risk_level >= ? AND p.next_due_on < ?
			AND NOT EXISTS (SELECT 1 FROM alerts al WHERE al.patient_id = p.id AND al.kind = ? AND al.detail = p.next_due_on)`,
			clinical.HighRiskLevel, asOf.String(), AlertHighRiskOverdue)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c cand
			var risk sql.NullInt64
			if err := rows.Scan(&c.id, &c.det, &risk, &c.unit, &c.path); err != nil {
				rows.Close()
				return err
			}
			due, _ := clinical.ParseDate(c.det)
			n := int(risk.Int64)
			if clinical.HighRiskOverdue(&n, due, asOf) {
				c.kind = AlertHighRiskOverdue
				cands = append(cands, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT r.id, r.patient_id, o.code, p.org_path FROM referrals r
			JOIN patients p ON p.id = r.patient_id JOIN org_units o ON o.id = p.org_unit_id
			WHERE r.direction = 'up' AND r.status = 'requested' AND r.due_by < ?
			AND NOT EXISTS (SELECT 1 FROM alerts al WHERE al.referral_id = r.id AND al.kind = ?)`,
			store.FormatTime(time.Now()), AlertReferralOverdue) // instants are real time, as tx.Now
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c cand
			var ref int64
			if err := rows.Scan(&ref, &c.id, &c.unit, &c.path); err != nil {
				return err
			}
			c.kind, c.referral = AlertReferralOverdue, &ref
			cands = append(cands, c)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cands {
		err := s.db.Transact(ctx, func(tx *store.Tx) error {
			if err := raiseAlert(ctx, tx, c.id, c.kind, c.det, c.referral); err != nil {
				return err
			}
			n++
			return audit.Append(ctx, tx, s.entry(ctx, "system", "alert.raise",
				subject{Type: "patient", ID: strconv.FormatInt(c.id, 10), Unit: c.unit, Path: c.path, Detail: c.kind}, audit.Allowed))
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// warningEvents adds a patient's referrals and crisis events to a timeline.
func (s *Service) warningEvents(ctx context.Context, tx *store.Tx, id int64, out []TimelineItem) ([]TimelineItem, error) {
	out, err := s.referralEvents(ctx, tx, id, out)
	if err != nil {
		return nil, err
	}
	return s.crisisEvents(ctx, tx, id, out)
}
