package care

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"

	"kith/internal/audit"
	"kith/internal/store"
)

// The reads in this file serve the FHIR interface, which reads records one
// by one (Encounter/{id}) and searches them by date: the same policy,
// redaction and audit as the lists beside them.

// DateRange limits a list to the records dated From to To, both inclusive
// (YYYY-MM-DD); an empty bound is open.
type DateRange struct {
	From, To string
}

// check validates the bounds; field names the query parameter.
func (d DateRange) check(field string) error {
	f := fields{}
	for _, v := range []string{d.From, d.To} {
		if _, ok := ParseDate(v); v != "" && !ok {
			f.add(field, "must be a date, YYYY-MM-DD")
			break
		}
	}
	return f.err()
}

// where adds the range to a condition on column.
func (d DateRange) where(column string, cond string, args []any) (string, []any) {
	if d.From != "" {
		cond, args = cond+" AND "+column+" >= ?", append(args, d.From)
	}
	if d.To != "" {
		cond, args = cond+" AND "+column+" <= ?", append(args, d.To)
	}
	return cond, args
}

// FollowUp returns one follow-up or attempt, as the actor's view of the
// patient's record shows it; superseded versions too (SupersededBy says so).
func (s *Service) FollowUp(ctx context.Context, id int64) (*FollowUp, error) {
	var out *FollowUp
	err := s.readAct(ctx, "followup.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		fu, err := scanFollowUp(tx.QueryRow(ctx, `SELECT `+followUpColumns+` FROM follow_ups WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			sub.Type, sub.ID = "follow_up", strconv.FormatInt(id, 10)
			return errNotFound("follow-up")
		}
		if err != nil {
			return err
		}
		if _, err := visible(ctx, tx, a, ReadPatient, fu.PatientID, sub); err != nil {
			return err
		}
		sub.Detail = "follow-up " + strconv.FormatInt(id, 10)
		redactFollowUp(fu, PatientView(a.Role))
		out = fu
		return nil
	})
	return out, err
}

// CurrentFollowUps lists a patient's follow-ups and attempts in a date
// range, newest first, leaving out the versions a correction superseded.
// Its page tokens are those of FollowUps.
func (s *Service) CurrentFollowUps(ctx context.Context, patientID int64, d DateRange, p Page) ([]FollowUp, string, error) {
	limit, after, err := p.start("/")
	if err != nil {
		return nil, "", err
	}
	if err := d.check("date"); err != nil {
		return nil, "", err
	}
	var out []FollowUp
	err = s.readAct(ctx, "followup.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, ReadPatient, patientID, sub); err != nil {
			return err
		}
		cond, args := d.where("date", "patient_id = ? AND superseded_by IS NULL", []any{patientID})
		if after.set {
			cond += ` AND (date < ? OR (date = ? AND id < ?))`
			args = append(args, after.key, after.key, after.id)
		}
		rows, err := tx.Query(ctx, `SELECT `+followUpColumns+` FROM follow_ups WHERE `+cond+
			` ORDER BY date DESC, id DESC LIMIT `+strconv.Itoa(limit+1), args...)
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

// Assessment returns one assessment, for the roles whose view includes
// assessments.
func (s *Service) Assessment(ctx context.Context, id int64) (*Assessment, error) {
	var out *Assessment
	err := s.readAct(ctx, "assessment.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		var patientID int64
		err := tx.QueryRow(ctx, `SELECT patient_id FROM assessments WHERE id = ?`, id).Scan(&patientID)
		if errors.Is(err, sql.ErrNoRows) {
			sub.Type, sub.ID = "assessment", strconv.FormatInt(id, 10)
			return errNotFound("assessment")
		}
		if err != nil {
			return err
		}
		if _, err := s.assessmentReader(ctx, tx, a, patientID, sub); err != nil {
			return err
		}
		sub.Detail = "assessment " + strconv.FormatInt(id, 10)
		list, err := s.assessmentsWhere(ctx, tx, "a.id = ?", id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			// The risk assessment of a superseded follow-up.
			return errNotFound("assessment")
		}
		out = &list[0]
		return nil
	})
	return out, err
}

// AssessmentsIn is Assessments limited to a date range; its page tokens
// are those of Assessments.
func (s *Service) AssessmentsIn(ctx context.Context, patientID int64, q AssessmentQuery, d DateRange, pg Page) ([]Assessment, string, error) {
	limit, after, err := pg.start("|")
	if err != nil {
		return nil, "", err
	}
	if q.Instrument != "" && s.instruments.Latest(q.Instrument) == nil {
		return nil, "", invalid("instrument", "is not an instrument Kith knows")
	}
	if err := d.check("date"); err != nil {
		return nil, "", err
	}
	var out []Assessment
	err = s.readAct(ctx, "assessment.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := s.assessmentReader(ctx, tx, a, patientID, sub); err != nil {
			return err
		}
		sub.Detail = q.Instrument
		cond, args := d.where("a.taken_on", "a.patient_id = ?", []any{patientID})
		if q.Instrument != "" {
			cond, args = cond+" AND a.instrument = ?", append(args, q.Instrument)
		}
		if after.set {
			cond += " AND (a.taken_on < ? OR (a.taken_on = ? AND a.id < ?))"
			args = append(args, after.key, after.key, after.id)
		}
		out, err = s.assessmentsWhere(ctx, tx, cond+" ORDER BY a.taken_on DESC, a.id DESC LIMIT "+strconv.Itoa(limit+1), args...)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(as Assessment) string { return as.Date + "|" + strconv.FormatInt(as.ID, 10) })
	return out, next, nil
}

// Alert returns one alert, to those it reaches (see Alerts).
func (s *Service) Alert(ctx context.Context, id int64) (*Alert, error) {
	var out *Alert
	err := s.readAct(ctx, "alert.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID = "alert", strconv.FormatInt(id, 10)
		al, err := scanAlert(tx.QueryRow(ctx, `SELECT `+alertColumns+alertFrom+` WHERE al.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound("alert")
		}
		if err != nil {
			return err
		}
		sub.Type, sub.ID, sub.Unit, sub.Path = "patient", strconv.FormatInt(al.PatientID, 10), al.OrgUnit, al.path
		sub.Detail = "alert " + strconv.FormatInt(id, 10)
		if !Allow(a, ReadAlerts, Target{Path: al.path, Patient: al.PatientID}) {
			return errHidden("alert")
		}
		out = &al
		return nil
	})
	return out, err
}

// AuditEntry returns one entry of the audit log, to those who may read the
// log where it lies (see AuditLog, whose read it is).
func (s *Service) AuditEntry(ctx context.Context, seq int64) (*audit.Entry, error) {
	if seq < 1 {
		return nil, errNotFound("audit entry")
	}
	tok := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(seq+1, 10)))
	list, _, err := s.AuditLog(ctx, AuditQuery{}, Page{Token: tok, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 || list[0].Seq != seq {
		return nil, errNotFound("audit entry")
	}
	return &list[0], nil
}

// PatientReferrals lists a patient's referrals, up and down, newest first,
// to those who may read the record (whose history lists them too): a
// patient the actor may not read is not found, as for the follow-ups.
// Each comes with its summaries as the actor's view allows (finish).
func (s *Service) PatientReferrals(ctx context.Context, patientID int64, p Page) ([]HospitalReferral, string, error) {
	limit, after, err := p.start("|")
	if err != nil {
		return nil, "", err
	}
	var out []HospitalReferral
	err = s.readAct(ctx, "referral.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, ReadPatient, patientID, sub); err != nil {
			return err
		}
		out, err = patientReferrals(ctx, tx, a, patientID, after, limit+1)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(r HospitalReferral) string {
		return store.FormatTime(r.RequestedAt) + "|" + strconv.FormatInt(r.ID, 10)
	})
	return out, next, nil
}

// patientReferrals reads up to limit of a patient's referrals after the
// cursor, newest first, finished for the actor.
func patientReferrals(ctx context.Context, tx *store.Tx, a *Actor, patientID int64, after cursor, limit int) ([]HospitalReferral, error) {
	cond, args := `r.patient_id = ?`, []any{patientID}
	if after.set {
		cond += ` AND (r.requested_at < ? OR (r.requested_at = ? AND r.id < ?))`
		args = append(args, after.key, after.key, after.id)
	}
	rows, err := tx.Query(ctx, `SELECT `+referralColumns+referralFrom+` WHERE `+cond+`
		ORDER BY r.requested_at DESC, r.id DESC LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HospitalReferral
	for rows.Next() {
		r, err := scanReferral(rows)
		if err != nil {
			return nil, err
		}
		if err := r.finish(a, tx.Now(), true); err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}
