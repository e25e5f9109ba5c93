package care

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/clinical"
	"kith/internal/store"
)

// The crisis log (issue 12). Whoever takes a call or sees a crisis logs it:
// when, who reported it, the patient if known (else a description), the
// risk, what was done and the outcome. One about a known patient that needs
// the emergency record of R-EMERG opens that record (an emergency, with its
// 24-hour completion and its follow-up within 2 weeks), linked, not copied.

// CrisisInput logs a crisis event. OrgUnit is where it happened when the
// patient is not known (default the logger's unit).
type CrisisInput struct {
	OccurredAt  time.Time `json:"occurred_at"`
	ReportedBy  string    `json:"reported_by"`
	PatientID   int64     `json:"patient_id,omitempty"`
	Description string    `json:"description,omitempty"`
	RiskLevel   *int      `json:"risk_level"`
	Actions     []string  `json:"actions"`
	Outcome     string    `json:"outcome"`
	OrgUnit     string    `json:"org_unit,omitempty"`
	Place       string    `json:"place,omitempty"` // for the emergency record it may open
}

// CrisisEvent is a logged crisis event.
type CrisisEvent struct {
	ID          int64     `json:"id"`
	OccurredAt  time.Time `json:"occurred_at"`
	ReportedBy  string    `json:"reported_by"`
	PatientID   *int64    `json:"patient_id,omitempty"`
	PatientName string    `json:"patient_name,omitempty"`
	Description string    `json:"description,omitempty"`
	RiskLevel   int       `json:"risk_level"`
	Actions     []string  `json:"actions"`
	Outcome     string    `json:"outcome"`
	OrgUnit     string    `json:"org_unit"`
	OrgUnitName string    `json:"org_unit_name"`
	EmergencyID *int64    `json:"emergency_id,omitempty"`
	Author      string    `json:"author"`
	AuthorName  string    `json:"author_name"`
	CreatedAt   time.Time `json:"created_at"`
}

func (in *CrisisInput) validate(f *fields, now time.Time) {
	switch {
	case in.OccurredAt.IsZero():
		f.add("occurred_at", "is required (RFC 3339 time, such as 2026-11-25T14:30:00+08:00)")
	case in.OccurredAt.After(now.Add(5 * time.Minute)):
		f.add("occurred_at", "cannot be in the future")
	case now.Sub(in.OccurredAt) > 365*24*time.Hour:
		f.add("occurred_at", "is more than a year ago")
	}
	if !slices.Contains(clinical.CrisisReporters, in.ReportedBy) {
		f.add("reported_by", "must be family, police, resident or hotline")
	}
	in.Description = checkNote(f, "description", in.Description, 2000)
	if in.PatientID == 0 && in.Description == "" {
		f.add("description", "describe the person when the patient is not known")
	}
	if in.RiskLevel == nil {
		f.add("risk_level", "is required")
	} else if !clinical.ValidRiskLevel(*in.RiskLevel) {
		f.add("risk_level", "must be a whole number from 0 to 5")
	}
	if len(in.Actions) == 0 {
		f.add("actions", "say at least one action taken")
	}
	for i, a := range in.Actions {
		if !slices.Contains(clinical.CrisisActions, a) {
			f.add("actions["+strconv.Itoa(i)+"]", "must be home_visit, police, emergency_admission, referral or phone_counselling")
		}
	}
	in.Outcome = checkNote(f, "outcome", in.Outcome, 2000)
	if in.Outcome == "" {
		f.add("outcome", "say how it ended")
	}
	in.Place = checkText(f, "place", in.Place, 200)
}

// LogCrisis logs a crisis event and, for a known patient who needs it
// (clinical.CrisisEmergency), opens the emergency record.
func (s *Service) LogCrisis(ctx context.Context, in CrisisInput) (*CrisisEvent, error) {
	var id int64
	err := s.act(ctx, "crisis.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "crisis", a.UnitCode, a.UnitPath
		if !mayEver(a, WriteCrisis) {
			return errForbidden()
		}
		var p *patientRow
		var unit *unitRow
		var err error
		if in.PatientID != 0 {
			if p, err = visible(ctx, tx, a, WriteCrisis, in.PatientID, sub); err != nil {
				return err
			}
			unit = &unitRow{Unit: Unit{Code: p.OrgUnit, Path: p.path}, id: p.unitID}
		} else {
			code := in.OrgUnit
			if code == "" {
				code = a.UnitCode
			}
			if unit, err = unitByCode(ctx, tx, code); err != nil {
				return err
			}
			if unit == nil || !Allow(a, ReadUnit, Target{Path: unit.Path}) {
				return invalid("org_unit", "no org unit you may see has this code")
			}
			sub.Unit, sub.Path = unit.Code, unit.Path
			if !Allow(a, WriteCrisis, Target{Path: unit.Path}) {
				return errForbidden()
			}
		}
		f := s.fields()
		in.validate(&f, s.now())
		if err := f.err(); err != nil {
			return err
		}
		var emergency *int64
		if need, triggers, measures, attendees := clinical.CrisisEmergency(*in.RiskLevel, in.Actions); need && p != nil {
			e, err := s.insertEmergency(ctx, tx, a, p, EmergencyInput{OccurredAt: in.OccurredAt, Place: in.Place,
				Triggers: triggers, Attendees: attendees, Measures: measures, Outcome: in.Outcome})
			if err != nil {
				return err
			}
			emergency = &e.ID
		}
		var patient any
		if p != nil {
			patient = p.ID
		}
		if err := tx.QueryRow(ctx, `INSERT INTO crisis_events (occurred_at, reported_by, patient_id, description, risk_level, actions,
			outcome, emergency_id, org_unit_id, org_path, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			store.FormatTime(in.OccurredAt.UTC()), in.ReportedBy, patient, in.Description, *in.RiskLevel, strings.Join(in.Actions, " "),
			in.Outcome, emergency, unit.id, unit.Path, a.Username, store.FormatTime(tx.Now())).Scan(&id); err != nil {
			return err
		}
		sub.Detail = "crisis " + strconv.FormatInt(id, 10)
		if emergency != nil {
			sub.Detail += " emergency " + strconv.FormatInt(*emergency, 10)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Crisis(ctx, id)
}

var crisisColumns = `c.id, c.occurred_at, c.reported_by, c.patient_id, COALESCE(p.name, ''), c.description, c.risk_level, c.actions,
	c.outcome, o.code, o.name, c.emergency_id, c.author, ` + fullName("c.author") + `, c.created_at, c.org_path, COALESCE(p.org_path, '')`

const crisisFrom = ` FROM crisis_events c JOIN org_units o ON o.id = c.org_unit_id LEFT JOIN patients p ON p.id = c.patient_id`

func scanCrisis(sc interface{ Scan(...any) error }) (*CrisisEvent, string, error) {
	var c CrisisEvent
	var occurred, created, actions, path, ppath string
	var patient, emergency sql.NullInt64
	if err := sc.Scan(&c.ID, &occurred, &c.ReportedBy, &patient, &c.PatientName, &c.Description, &c.RiskLevel, &actions, &c.Outcome,
		&c.OrgUnit, &c.OrgUnitName, &emergency, &c.Author, &c.AuthorName, &created, &path, &ppath); err != nil {
		return nil, "", err
	}
	c.OccurredAt, c.CreatedAt = store.MustTime(occurred), store.MustTime(created)
	c.PatientID, c.EmergencyID = idOf(patient), idOf(emergency)
	c.Actions = strings.Fields(actions)
	if ppath != "" {
		path = ppath // a patient's event lies where the patient does now
	}
	return &c, path, nil
}

// Crisis returns one crisis event, for those who may read the patient's
// record, or, with no patient, whose jurisdiction holds where it happened.
func (s *Service) Crisis(ctx context.Context, id int64) (*CrisisEvent, error) {
	var out *CrisisEvent
	err := s.view(ctx, "crisis.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID = "crisis", strconv.FormatInt(id, 10)
		c, path, err := scanCrisis(tx.QueryRow(ctx, `SELECT `+crisisColumns+crisisFrom+` WHERE c.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound("crisis event")
		}
		if err != nil {
			return err
		}
		sub.Unit, sub.Path = c.OrgUnit, path
		if c.PatientID != nil {
			sub.Type, sub.ID, sub.Detail = "patient", strconv.FormatInt(*c.PatientID, 10), "crisis "+strconv.FormatInt(id, 10)
			if _, err := visible(ctx, tx, a, ReadPatient, *c.PatientID, sub); err != nil {
				return err
			}
		} else if !Allow(a, WriteCrisis, Target{Path: path}) && !Allow(a, ReadPatient, Target{Path: path}) {
			return errHidden("crisis event")
		}
		out = c
		return nil
	})
	return out, err
}

// CrisisQuery chooses crisis events of a unit in the actor's jurisdiction
// (default their own) that occurred in [From, To) (dates; empty for open).
type CrisisQuery struct {
	OrgUnit  string
	From, To string
}

// CrisisEvents lists crisis events, newest first: the figures' drill-down.
func (s *Service) CrisisEvents(ctx context.Context, q CrisisQuery, pg Page) ([]CrisisEvent, string, error) {
	limit, after, err := pg.start("|")
	if err != nil {
		return nil, "", err
	}
	var f fields
	for _, d := range []struct{ name, v string }{{"from", q.From}, {"to", q.To}} {
		if _, ok := ParseDate(d.v); d.v != "" && !ok {
			f.add(d.name, "must be a real date, YYYY-MM-DD")
		}
	}
	if err := f.err(); err != nil {
		return nil, "", err
	}
	var out []CrisisEvent
	err = s.view(ctx, "crisis.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type = "crisis_list"
		scope, err := scopeFor(ctx, tx, a, ReadPatient, q.OrgUnit, sub)
		if err != nil {
			return err
		}
		lo, hi := store.Beneath(scope)
		where, args := `c.org_path >= ? AND c.org_path < ?`, []any{lo, hi}
		if q.From != "" {
			where, args = where+` AND c.occurred_at >= ?`, append(args, s.dayStart(q.From))
		}
		if q.To != "" {
			where, args = where+` AND c.occurred_at < ?`, append(args, s.dayStart(q.To))
		}
		if after.set {
			where += ` AND (c.occurred_at < ? OR (c.occurred_at = ? AND c.id < ?))`
			args = append(args, after.key, after.key, after.id)
		}
		rows, err := tx.Query(ctx, `SELECT `+crisisColumns+crisisFrom+` WHERE `+where+`
			ORDER BY c.occurred_at DESC, c.id DESC LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		hide := PatientView(a.Role) == ViewSafety
		for rows.Next() {
			c, _, err := scanCrisis(rows)
			if err != nil {
				return err
			}
			if hide {
				c.Outcome = ""
			}
			out = append(out, *c)
		}
		sub.Detail = fmt.Sprintf("%d results", min(len(out), limit))
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(c CrisisEvent) string {
		return store.FormatTime(c.OccurredAt) + "|" + strconv.FormatInt(c.ID, 10)
	})
	return out, next, nil
}

// dayStart is the instant a day begins in the installation's zone, as stored.
func (s *Service) dayStart(day string) string {
	t, _ := time.ParseInLocation(store.DateLayout, day, s.zone)
	return store.FormatTime(t)
}

// crisisEvents adds a patient's crisis events to a timeline: kind crisis,
// Detail the reporter and the actions as codes.
func (s *Service) crisisEvents(ctx context.Context, tx *store.Tx, id int64, out []TimelineItem) ([]TimelineItem, error) {
	rows, err := tx.Query(ctx, `SELECT id, occurred_at, reported_by, actions, risk_level, author, emergency_id FROM crisis_events
		WHERE patient_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ?`, id, timelineLimit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var it TimelineItem
		var at, by, actions string
		var risk int
		var emergency sql.NullInt64
		if err := rows.Scan(&it.ID, &at, &by, &actions, &risk, &it.Author, &emergency); err != nil {
			return nil, err
		}
		it.Kind, it.Date = "crisis", clinical.DateOf(store.MustTime(at).In(s.zone)).String()
		it.Detail, it.RiskLevel = strings.TrimSpace(by+" "+actions), &risk
		out = append(out, it)
	}
	return out, rows.Err()
}
