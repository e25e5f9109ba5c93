package care

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"kith/internal/auth"
	"kith/internal/clinical"
	"kith/internal/report"
	"kith/internal/store"
)

// EmergencyInput records emergency handling (R-EMERG).
type EmergencyInput struct {
	OccurredAt time.Time `json:"occurred_at"`
	Place      string    `json:"place"`
	Triggers   []string  `json:"triggers"`
	Attendees  []string  `json:"attendees"`
	Measures   []string  `json:"measures"`
	Outcome    string    `json:"outcome"`
}

// Emergency is a recorded emergency. The psychiatrist completes the record
// within 24 hours (RecordDeadline); until then it is open.
type Emergency struct {
	ID             int64     `json:"id"`
	PatientID      int64     `json:"patient_id"`
	Completed      bool      `json:"completed"`
	RecordDeadline time.Time `json:"record_deadline"`
	FollowUpBy     string    `json:"follow_up_by"`
	Author         string    `json:"author"`
	CreatedAt      time.Time `json:"created_at"`
	EmergencyInput
}

func (in *EmergencyInput) validate(f *fields, now time.Time) {
	switch {
	case in.OccurredAt.IsZero():
		f.add("occurred_at", "is required (RFC 3339 time, such as 2026-11-25T14:30:00+08:00)")
	case in.OccurredAt.After(now.Add(5 * time.Minute)):
		f.add("occurred_at", "cannot be in the future")
	case now.Sub(in.OccurredAt) > 365*24*time.Hour:
		f.add("occurred_at", "is more than a year ago")
	}
	in.Place = checkText(f, "place", in.Place, 200)
	if len(in.Triggers) == 0 {
		f.add("triggers", "at least one trigger is required")
	}
	for i, t := range in.Triggers {
		checkEnum[clinical.EmergencyTrigger](f, "triggers["+strconv.Itoa(i)+"]", t, true)
	}
	for i, t := range in.Attendees {
		checkEnum[clinical.EmergencyAttendee](f, "attendees["+strconv.Itoa(i)+"]", t, true)
	}
	for i, t := range in.Measures {
		checkEnum[clinical.EmergencyMeasure](f, "measures["+strconv.Itoa(i)+"]", t, true)
	}
	in.Outcome = checkNote(f, "outcome", in.Outcome, 2000)
}

// RecordEmergency records emergency handling. It sets a follow-up within
// 2 weeks of the event (R-EMERG); a psychiatrist's record is complete, any
// other stays open until a psychiatrist completes it.
func (s *Service) RecordEmergency(ctx context.Context, patientID int64, in EmergencyInput) (*Emergency, error) {
	var out *Emergency
	err := s.act(ctx, "emergency.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		p, err := visible(ctx, tx, a, WriteEmergency, patientID, sub)
		if err != nil {
			return err
		}
		out, err = s.insertEmergency(ctx, tx, a, p, in)
		if err == nil {
			sub.Detail = "emergency " + strconv.FormatInt(out.ID, 10)
		}
		return err
	})
	return out, err
}

// insertEmergency validates and stores an emergency record in tx, and moves
// the patient's due date (R-EMERG); a crisis event that needs one opens it
// through here.
func (s *Service) insertEmergency(ctx context.Context, tx *store.Tx, a *Actor, p *patientRow, in EmergencyInput) (*Emergency, error) {
	var f fields
	in.validate(&f, s.now())
	if err := f.err(); err != nil {
		return nil, err
	}
	e := &Emergency{PatientID: p.ID, Completed: a.Role == auth.Psychiatrist, Author: a.Username, CreatedAt: tx.Now(),
		EmergencyInput: in}
	e.OccurredAt = in.OccurredAt.UTC()
	e.RecordDeadline = clinical.EmergencyRecordDeadline(e.OccurredAt)
	e.FollowUpBy = clinical.EmergencyFollowUpDue(clinical.DateOf(e.OccurredAt)).String()
	triggers, _ := json.Marshal(in.Triggers)
	details, _ := json.Marshal(struct {
		Attendees []string `json:"attendees"`
		Measures  []string `json:"measures"`
		Outcome   string   `json:"outcome"`
	}{in.Attendees, in.Measures, in.Outcome})
	if err := tx.QueryRow(ctx, `INSERT INTO emergencies (patient_id, occurred_at, place, triggers, details, completed, follow_up_by, author, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.ID, store.FormatTime(e.OccurredAt), in.Place, string(triggers),
		string(details), e.Completed, e.FollowUpBy, a.Username, store.FormatTime(tx.Now())).Scan(&e.ID); err != nil {
		return nil, err
	}
	if err := report.Touch(ctx, tx, p.ID); err != nil {
		return nil, err
	}
	return e, refreshSummary(ctx, tx, p.ID, a.Username, s.today())
}

// CompleteEmergency marks an emergency record complete; only a psychiatrist may.
func (s *Service) CompleteEmergency(ctx context.Context, patientID, emergencyID int64) error {
	return s.act(ctx, "emergency.complete", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, WriteEmergency, patientID, sub); err != nil {
			return err
		}
		sub.Detail = "emergency " + strconv.FormatInt(emergencyID, 10)
		if a.Role != auth.Psychiatrist {
			return &Error{Kind: Forbidden, Message: "only a psychiatrist completes an emergency record", denied: true}
		}
		r, err := tx.Exec(ctx, `UPDATE emergencies SET completed = ? WHERE id = ? AND patient_id = ?`, true, emergencyID, patientID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errNotFound("emergency")
		}
		return nil
	})
}

func scanEmergency(sc interface{ Scan(...any) error }) (*Emergency, error) {
	var e Emergency
	var occurred, created, triggers, details string
	if err := sc.Scan(&e.ID, &e.PatientID, &occurred, &e.Place, &triggers, &details, &e.Completed, &e.FollowUpBy, &e.Author, &created); err != nil {
		return nil, err
	}
	e.OccurredAt, e.CreatedAt = store.MustTime(occurred), store.MustTime(created)
	e.RecordDeadline = clinical.EmergencyRecordDeadline(e.OccurredAt)
	var d struct {
		Attendees []string `json:"attendees"`
		Measures  []string `json:"measures"`
		Outcome   string   `json:"outcome"`
	}
	if err := errors.Join(json.Unmarshal([]byte(triggers), &e.Triggers), json.Unmarshal([]byte(details), &d)); err != nil {
		return nil, err
	}
	e.Attendees, e.Measures, e.Outcome = d.Attendees, d.Measures, d.Outcome
	return &e, nil
}

const emergencyColumns = `id, patient_id, occurred_at, place, triggers, details, completed, follow_up_by, author, created_at`

func emergenciesOf(ctx context.Context, tx *store.Tx, patientID int64) ([]Emergency, error) {
	rows, err := tx.Query(ctx, `SELECT `+emergencyColumns+` FROM emergencies WHERE patient_id = ? ORDER BY occurred_at DESC, id DESC`, patientID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Emergency
	for rows.Next() {
		e, err := scanEmergency(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}
