package care

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"kith/internal/store"
)

// Alert is raised when an assessment's flag calls for one (a PHQ-9 item 9
// above 0, a K10 total of 30 or more, a risk level of 3 or more). It reaches
// the community managers and psychiatrists whose jurisdiction holds the
// patient and stays on their home page until one of them acknowledges it,
// saying what was done.
type Alert struct {
	ID             int64     `json:"id"`
	PatientID      int64     `json:"patient_id"`
	PatientName    string    `json:"patient_name"`
	OrgUnit        string    `json:"org_unit"`
	OrgUnitName    string    `json:"org_unit_name"`
	AssessmentID   int64     `json:"assessment_id"`
	Instrument     string    `json:"instrument"`
	Score          int       `json:"score"`
	Flags          []string  `json:"flags"`
	Date           string    `json:"date"` // the assessment's date
	RaisedBy       string    `json:"raised_by"`
	RaisedByName   string    `json:"raised_by_name"` // the full name of raised_by
	RaisedAt       time.Time `json:"raised_at"`
	Acknowledged   bool      `json:"acknowledged"`
	AcknowledgedBy string    `json:"acknowledged_by,omitempty"`
	// AcknowledgedByName is the full name of acknowledged_by.
	AcknowledgedByName string     `json:"acknowledged_by_name,omitempty"`
	AcknowledgedAt     *time.Time `json:"acknowledged_at,omitempty"`
	Action             string     `json:"action,omitempty"` // what was done
	// Kind is flag (an assessment's flag) or one of the kinds of early
	// warning that no assessment raises (see AlertKinds); Detail says what
	// it needs said (the risk levels, the due date missed), ReferralID the
	// referral it is about.
	Kind       string `json:"kind"`
	Detail     string `json:"detail,omitempty"`
	ReferralID *int64 `json:"referral_id,omitempty"`
	path       string // the patient's org unit path, for the policy
}

// AlertQuery chooses alerts: the open ones (the default), the acknowledged
// ones or all, of the actor's jurisdiction or of one patient.
type AlertQuery struct {
	State     string // open, acknowledged, all
	PatientID int64
}

// The kinds of alert other than flag have no assessment: their date is the
// day they were raised, and the system raised them.
var alertColumns = `al.id, al.patient_id, p.name, u.code, u.name, COALESCE(al.assessment_id, 0), COALESCE(a.instrument, ''),
	COALESCE(a.score, 0), al.flags, COALESCE(a.taken_on, substr(al.raised_at, 1, 10)), COALESCE(a.author, 'system'), al.raised_at,
	al.acknowledged_by, al.acknowledged_at, al.action, p.org_path, COALESCE(` + fullName("a.author") + `, 'system'),
	` + fullName("al.acknowledged_by") + `, al.kind, al.detail, al.referral_id`

const alertFrom = ` FROM alerts al
	LEFT JOIN assessments a ON a.id = al.assessment_id
	JOIN patients p ON p.id = al.patient_id
	JOIN org_units u ON u.id = p.org_unit_id`

func scanAlert(sc interface{ Scan(...any) error }) (Alert, error) {
	var al Alert
	var flags, raised string
	var by, at, byName sql.NullString
	var referral sql.NullInt64
	err := sc.Scan(&al.ID, &al.PatientID, &al.PatientName, &al.OrgUnit, &al.OrgUnitName, &al.AssessmentID, &al.Instrument, &al.Score, &flags,
		&al.Date, &al.RaisedBy, &raised, &by, &at, &al.Action, &al.path, &al.RaisedByName, &byName, &al.Kind, &al.Detail, &referral)
	al.ReferralID = idOf(referral)
	al.Flags = strings.Fields(flags)
	al.RaisedAt = store.MustTime(raised)
	if at.Valid {
		t := store.MustTime(at.String)
		al.Acknowledged, al.AcknowledgedBy, al.AcknowledgedAt, al.AcknowledgedByName = true, by.String, &t, byName.String
	}
	return al, err
}

// Alerts lists the alerts that reach the actor, newest first.
func (s *Service) Alerts(ctx context.Context, q AlertQuery, pg Page) ([]Alert, string, error) {
	limit, after, err := pg.start("|")
	if err != nil {
		return nil, "", err
	}
	raised, id := after.key, after.id
	var state string
	switch q.State {
	case "", "open":
		state = " AND al.acknowledged_at IS NULL"
	case "acknowledged":
		state = " AND al.acknowledged_at IS NOT NULL"
	case "all":
	default:
		return nil, "", invalid("state", "must be open, acknowledged or all")
	}
	var out []Alert
	err = s.view(ctx, "alert.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "alerts", a.UnitCode, a.UnitCode, a.UnitPath
		if !Allow(a, ReadAlerts, Target{Path: a.UnitPath}) {
			return errForbidden()
		}
		where, args := alertScope(a)
		where += state
		if q.PatientID != 0 {
			sub.Type, sub.ID = "patient", strconv.FormatInt(q.PatientID, 10)
			where, args = where+" AND al.patient_id = ?", append(args, q.PatientID)
		}
		if after.set {
			where += " AND (al.raised_at < ? OR (al.raised_at = ? AND al.id < ?))"
			args = append(args, raised, raised, id)
		}
		rows, err := tx.Query(ctx, `SELECT `+alertColumns+alertFrom+` WHERE `+where+`
			ORDER BY al.raised_at DESC, al.id DESC LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			al, err := scanAlert(rows)
			if err != nil {
				return err
			}
			out = append(out, al)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(al Alert) string {
		return store.FormatTime(al.RaisedAt) + "|" + strconv.FormatInt(al.ID, 10)
	})
	return out, next, nil
}

// OpenAlertCount counts the open alerts that reach the actor (0 for roles
// that alerts do not reach), for the navigation badge and the home page.
func (s *Service) OpenAlertCount(ctx context.Context) (int, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return 0, errUnauthenticated
	}
	if !Allow(a, ReadAlerts, Target{Path: a.UnitPath}) {
		return 0, nil
	}
	where, args := alertScope(a)
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM alerts al JOIN patients p ON p.id = al.patient_id
		WHERE al.acknowledged_at IS NULL AND `+where, args...).Scan(&n)
	return n, err
}

// alertScope is the SQL condition, on alerts al of patients p, for the
// alerts that reach the actor, whose role reads alerts: those of the
// patients of their jurisdiction and of the patients on whose care team
// they are, wherever those live (the policy's team grant, teamActs).
func alertScope(a *Actor) (string, []any) {
	lo, hi := store.Beneath(a.UnitPath)
	return `(p.org_path >= ? AND p.org_path < ? OR EXISTS (SELECT 1 FROM care_team_members m
		WHERE m.patient_id = al.patient_id AND m.username = ?))`, []any{lo, hi, a.Username}
}

// AckInput acknowledges an alert: what was done about it.
type AckInput struct {
	Action string `json:"action"`
}

// AcknowledgeAlert closes an alert for everyone it reached, recording who
// acknowledged it and what was done.
func (s *Service) AcknowledgeAlert(ctx context.Context, id int64, in AckInput) (*Alert, error) {
	var out Alert
	err := s.act(ctx, "alert.acknowledge", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID = "alert", strconv.FormatInt(id, 10)
		al, err := scanAlert(tx.QueryRow(ctx, `SELECT `+alertColumns+alertFrom+` WHERE al.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound("alert")
		}
		if err != nil {
			return err
		}
		sub.Unit, sub.Path, sub.Detail = al.OrgUnit, al.path, "patient "+strconv.FormatInt(al.PatientID, 10)
		b, err := teamGrant(ctx, tx, a, al.PatientID)
		if err != nil {
			return err
		}
		if !Allow(b, ReadAlerts, Target{Path: al.path, Patient: al.PatientID}) {
			return errHidden("alert")
		}
		var f fields
		in.Action = checkNote(&f, "action", in.Action, 2000)
		if in.Action == "" {
			f.add("action", "say what was done about the alert")
		}
		if err := f.err(); err != nil {
			return err
		}
		if al.Acknowledged {
			return errConflict("this alert was already acknowledged; see the acknowledged alerts for who did what")
		}
		now := tx.Now()
		if _, err := tx.Exec(ctx, `UPDATE alerts SET acknowledged_by = ?, acknowledged_at = ?, action = ? WHERE id = ? AND acknowledged_at IS NULL`,
			a.Username, store.FormatTime(now), in.Action, id); err != nil {
			return err
		}
		al.Acknowledged, al.AcknowledgedBy, al.AcknowledgedAt, al.Action = true, a.Username, &now, in.Action
		out = al
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
