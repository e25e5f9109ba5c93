package care

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"kith/internal/clinical"
	"kith/internal/store"
)

// SetSubsidyRules sets the conditions of the guardian subsidy.
func (s *Service) SetSubsidyRules(r clinical.SubsidyRules) { s.subsidyRules = &r }

// SubsidyRules are the conditions of the guardian subsidy in force.
func (s *Service) SubsidyRules() clinical.SubsidyRules {
	if s.subsidyRules == nil {
		return clinical.DefaultSubsidyRules()
	}
	return *s.subsidyRules
}

// Subsidy is one guardian's subsidy of a year, for one patient.
type Subsidy struct {
	ID            int64   `json:"id"`
	PatientID     int64   `json:"patient_id"`
	PatientName   string  `json:"patient_name"`
	GuardianID    int64   `json:"guardian_id"`
	GuardianName  string  `json:"guardian_name"`
	GuardianPhone string  `json:"guardian_phone,omitempty"`
	OrgUnit       string  `json:"org_unit"`
	OrgUnitName   string  `json:"org_unit_name"`
	Year          int     `json:"year"`
	Amount        float64 `json:"amount"` // yuan
	Status        string  `json:"status"`
	Reason        string  `json:"reason,omitempty"`
	ReviewedBy    string  `json:"reviewed_by,omitempty"`
	ApprovedBy    string  `json:"approved_by,omitempty"`
	PaidOn        string  `json:"paid_on,omitempty"`

	path string
}

// SubsidyInput proposes a guardian's subsidy of a year.
type SubsidyInput struct {
	PatientID int64   `json:"patient_id"`
	Year      int     `json:"year"`
	Amount    float64 `json:"amount"`
}

// SubsidyPatch moves a subsidy on in its workflow (clinical.SubsidyStep).
type SubsidyPatch struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// maxSubsidy is the largest amount, in yuan, a subsidy may have.
const maxSubsidy = 100000

// CreateSubsidy proposes the subsidy of a patient's guardian for a year:
// the community manager, for a patient of their community, when the
// patient meets the conditions (SubsidyRules) — otherwise an Invalid error
// naming the conditions not met. A second one for the same patient and
// year is a Conflict.
func (s *Service) CreateSubsidy(ctx context.Context, in SubsidyInput) (*Subsidy, error) {
	var id int64
	err := s.act(ctx, "subsidy.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "patient", a.UnitCode, a.UnitPath
		if !mayEver(a, ReviewSubsidy) {
			return errForbidden()
		}
		f := s.fields()
		this := s.today().Time().Year()
		if in.Year < 2000 || in.Year > this {
			f.add("year", fmt.Sprintf("must be a year from 2000 to %d", this))
		}
		if in.Amount <= 0 || in.Amount > maxSubsidy || math.IsNaN(in.Amount) {
			f.add("amount", "must be more than 0 and at most 100000 yuan")
		}
		if in.PatientID == 0 {
			f.add("patient_id", "is required")
		}
		if err := f.err(); err != nil {
			return err
		}
		p, err := visible(ctx, tx, a, ReadPatient, in.PatientID, sub)
		if err != nil {
			return err
		}
		if !Allow(a, ReviewSubsidy, Target{Path: p.path, Patient: p.ID}) {
			return errForbidden()
		}
		sub.Detail = "subsidy " + strconv.Itoa(in.Year)
		facts, guardian, err := s.subsidyFacts(ctx, tx, p, in.Year)
		if err != nil {
			return err
		}
		if ok, unmet := clinical.SubsidyEligible(s.SubsidyRules(), facts); !ok {
			return &Error{Kind: Invalid, Message: "the patient's guardian is not eligible for this year's subsidy",
				Fields: []FieldError{{Field: "patient_id", Message: "not eligible: " + strings.Join(unmet, ", ")}}}
		}
		now := store.FormatTime(tx.Now())
		err = tx.QueryRow(ctx, `INSERT INTO subsidies (patient_id, guardian_id, year, amount_fen, status, org_path, created_by, created_at,
			updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.ID, guardian, in.Year, int64(math.Round(in.Amount*100)),
			clinical.SubsidyEligibleStatus, p.path, a.Username, now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return &Error{Kind: Conflict, Message: "this patient's guardian already has a subsidy for this year",
				Fields: []FieldError{{Field: "year", Message: "already has a subsidy"}}}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.subsidy(ctx, "subsidy.read", id)
}

// subsidyFacts reads what the records say of a patient and year, and the
// guardian's family member id (0 without one).
func (s *Service) subsidyFacts(ctx context.Context, tx *store.Tx, p *patientRow, year int) (clinical.SubsidyFacts, int64, error) {
	var f clinical.SubsidyFacts
	guardian, err := guardianID(ctx, tx, p.ID)
	if err != nil {
		return f, 0, err
	}
	f.HasGuardian = guardian != 0
	first, last := fmt.Sprintf("%d-01-01", year), fmt.Sprintf("%d-12-31", year)
	// Under management all year: registered by the first day, the status
	// then in force managed, and no other status during the year.
	var atStart sql.NullString
	if err := tx.QueryRow(ctx, `SELECT status FROM patient_status_history WHERE patient_id = ? AND changed_on <= ?
		ORDER BY changed_on DESC, id DESC LIMIT 1`, p.ID, first).Scan(&atStart); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, 0, err
	}
	var other int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM patient_status_history WHERE patient_id = ? AND changed_on > ? AND changed_on <= ?
		AND status <> ?`, p.ID, first, last, string(clinical.StatusManaged)).Scan(&other); err != nil {
		return f, 0, err
	}
	f.ManagedAllYear = p.RegisteredOn <= first && atStart.String == string(clinical.StatusManaged) && other == 0
	lo, hi := s.yearRange(year)
	rows, err := tx.Query(ctx, `SELECT triggers FROM emergencies WHERE patient_id = ? AND occurred_at >= ? AND occurred_at < ?`, p.ID, lo, hi)
	if err != nil {
		return f, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var js string
		var t []string
		if err := rows.Scan(&js); err != nil {
			return f, 0, err
		}
		if err := json.Unmarshal([]byte(js), &t); err != nil {
			return f, 0, err
		}
		f.EmergencyTriggers = append(f.EmergencyTriggers, t)
	}
	if err := rows.Err(); err != nil {
		return f, 0, err
	}
	err = tx.QueryRow(ctx, `SELECT count(*) FROM follow_ups WHERE patient_id = ? AND reached = ? AND superseded_by IS NULL AND date >= ? AND date <= ?`,
		p.ID, true, first, last).Scan(&f.ReachedFollowUps)
	return f, guardian, err
}

const subsidySelect = `SELECT s.id, s.patient_id, p.name, s.guardian_id, g.name, g.phone, o.code, o.name, s.year, s.amount_fen, s.status,
	s.reason, COALESCE(ru.full_name, s.reviewed_by), COALESCE(au.full_name, s.approved_by), s.paid_on, s.org_path
	FROM subsidies s JOIN patients p ON p.id = s.patient_id JOIN family_members g ON g.id = s.guardian_id
	JOIN org_units o ON o.id = p.org_unit_id
	LEFT JOIN users ru ON ru.username = s.reviewed_by LEFT JOIN users au ON au.username = s.approved_by`

func scanSubsidy(sc interface{ Scan(...any) error }) (*Subsidy, error) {
	var x Subsidy
	var fen int64
	if err := sc.Scan(&x.ID, &x.PatientID, &x.PatientName, &x.GuardianID, &x.GuardianName, &x.GuardianPhone, &x.OrgUnit, &x.OrgUnitName,
		&x.Year, &fen, &x.Status, &x.Reason, &x.ReviewedBy, &x.ApprovedBy, &x.PaidOn, &x.path); err != nil {
		return nil, err
	}
	x.Amount = float64(fen) / 100
	return &x, nil
}

// subsidy reads one subsidy the actor may see.
func (s *Service) subsidy(ctx context.Context, action string, id int64) (*Subsidy, error) {
	var out *Subsidy
	err := s.act(ctx, action, func(tx *store.Tx, a *Actor, sub *subject) error {
		var err error
		out, err = visibleSubsidy(ctx, tx, a, id, sub)
		return err
	})
	return out, err
}

func visibleSubsidy(ctx context.Context, tx *store.Tx, a *Actor, id int64, sub *subject) (*Subsidy, error) {
	sub.Type, sub.ID = "subsidy", strconv.FormatInt(id, 10)
	x, err := scanSubsidy(tx.QueryRow(ctx, subsidySelect+` WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound("subsidy")
	}
	if err != nil {
		return nil, err
	}
	sub.Unit, sub.Path = x.OrgUnit, x.path
	if !Allow(a, ReadSubsidies, Target{Path: x.path}) {
		return nil, errHidden("subsidy")
	}
	return x, nil
}

// UpdateSubsidy moves a subsidy on: the community manager reviews or
// refuses an eligible one; the district administrator approves or refuses
// a reviewed one, and marks an approved one paid or refuses it. Refusing
// needs a reason. Any other move is a Conflict.
func (s *Service) UpdateSubsidy(ctx context.Context, id int64, in SubsidyPatch) (*Subsidy, error) {
	err := s.act(ctx, "subsidy.update", func(tx *store.Tx, a *Actor, sub *subject) error {
		x, err := visibleSubsidy(ctx, tx, a, id, sub)
		if err != nil {
			return err
		}
		f := s.fields()
		if !slices.Contains(clinical.SubsidyStatuses, in.Status) {
			f.add("status", "must be one of "+strings.Join(clinical.SubsidyStatuses, ", "))
		}
		in.Reason = checkText(&f, "reason", in.Reason, 200)
		if in.Status == clinical.SubsidyRefused && in.Reason == "" {
			f.add("reason", "a refusal needs a reason")
		}
		if err := f.err(); err != nil {
			return err
		}
		sub.Detail = x.Status + " → " + in.Status
		var act Action
		switch clinical.SubsidyStep(x.Status, in.Status) {
		case "community":
			act = ReviewSubsidy
		case "district":
			act = ApproveSubsidy
		default:
			return &Error{Kind: Conflict, Message: fmt.Sprintf("a subsidy that is %s cannot become %s", x.Status, in.Status)}
		}
		if !Allow(a, act, Target{Path: x.path}) {
			return errForbidden()
		}
		now := store.FormatTime(tx.Now())
		q := `UPDATE subsidies SET status = ?, reason = ?, updated_at = ?`
		args := []any{in.Status, in.Reason, now}
		switch in.Status {
		case clinical.SubsidyReviewed:
			q += `, reviewed_by = ?`
			args = append(args, a.Username)
		case clinical.SubsidyApproved:
			q += `, approved_by = ?`
			args = append(args, a.Username)
		case clinical.SubsidyPaid:
			q += `, paid_on = ?`
			args = append(args, s.today().String())
		}
		// The status in the WHERE makes two racing moves of one subsidy
		// a conflict for the second.
		res, err := tx.Exec(ctx, q+` WHERE id = ? AND status = ?`, append(args, id, x.Status)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errConflict("the subsidy was changed meanwhile: reload it")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.subsidy(ctx, "subsidy.read", id)
}

// SubsidyQuery filters the ledger: a year and an org unit (the actor's own
// by default), and a status.
type SubsidyQuery struct {
	Year    int
	OrgUnit string
	Status  string
}

// SubsidyTotal is the count and amount of a ledger's subsidies of one
// status.
type SubsidyTotal struct {
	Status string  `json:"status"`
	Count  int     `json:"count"`
	Amount float64 `json:"amount"`
}

// Ledger is a page of a year's subsidies beneath an org unit, with the
// totals per status of all of them (not only of the page), summed in SQL.
type Ledger struct {
	Year    int            `json:"year"`
	OrgUnit string         `json:"org_unit"`
	Items   []Subsidy      `json:"items"`
	Next    string         `json:"next_page_token,omitempty"`
	Totals  []SubsidyTotal `json:"totals"`
}

// Subsidies returns the ledger: by community, patient name, id.
func (s *Service) Subsidies(ctx context.Context, q SubsidyQuery, p Page) (*Ledger, error) {
	limit, after, err := p.start("\x1f")
	if err != nil {
		return nil, err
	}
	if q.Year < 2000 || q.Year > 2100 {
		return nil, invalid("year", "must be a year such as 2026")
	}
	if q.Status != "" && !slices.Contains(clinical.SubsidyStatuses, q.Status) {
		return nil, invalid("status", "must be one of "+strings.Join(clinical.SubsidyStatuses, ", "))
	}
	out := &Ledger{Year: q.Year, Items: []Subsidy{}, Totals: []SubsidyTotal{}}
	err = s.readAct(ctx, "subsidy.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type = "subsidy_list"
		scope, err := scopeFor(ctx, tx, a, ReadSubsidies, q.OrgUnit, sub)
		if err != nil {
			return err
		}
		out.OrgUnit = sub.Unit
		lo, hi := store.Beneath(scope)
		rows, err := tx.Query(ctx, `SELECT status, count(*), COALESCE(sum(amount_fen), 0) FROM subsidies
			WHERE year = ? AND org_path >= ? AND org_path < ? GROUP BY status`, q.Year, lo, hi)
		if err != nil {
			return err
		}
		totals := map[string]SubsidyTotal{}
		for rows.Next() {
			var t SubsidyTotal
			var fen int64
			if err := rows.Scan(&t.Status, &t.Count, &fen); err != nil {
				rows.Close()
				return err
			}
			t.Amount = float64(fen) / 100
			totals[t.Status] = t
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, st := range clinical.SubsidyStatuses {
			if t, ok := totals[st]; ok {
				out.Totals = append(out.Totals, t)
			}
		}
		sqlq := subsidySelect + ` WHERE s.year = ? AND s.org_path >= ? AND s.org_path < ?`
		args := []any{q.Year, lo, hi}
		if q.Status != "" {
			sqlq += ` AND s.status = ?`
			args = append(args, q.Status)
		}
		if after.set {
			sqlq += ` AND s.id > ?`
			args = append(args, after.id)
		}
		rows, err = tx.Query(ctx, sqlq+` ORDER BY s.id LIMIT ?`, append(args, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scanSubsidy(rows)
			if err != nil {
				return err
			}
			out.Items = append(out.Items, *x)
		}
		sub.Detail = fmt.Sprintf("%d results", min(len(out.Items), limit))
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	out.Items, out.Next = cut(out.Items, limit, func(x Subsidy) string { return "\x1f" + strconv.FormatInt(x.ID, 10) })
	return out, nil
}
