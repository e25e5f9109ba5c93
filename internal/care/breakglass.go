package care

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/auth"
	"kith/internal/store"
)

// Break the glass. A clinician who must read a record outside their
// jurisdiction (an emergency in another district; the other district gives
// the patient's id by phone) states a reason and gets read access to that
// one record for a few hours. The grant is a row the policy sees through
// Actor.Glass; every read under it is flagged in the audit log, listed on
// the record, and shown to the district's psychiatrists and administrator.

// DefaultGlassFor is how long a grant lasts unless configured otherwise.
const DefaultGlassFor = 3 * time.Hour

// GlassReasons are the reasons a clinician may give.
var GlassReasons = []string{"emergency", "crisis_call", "admission", "referral", "other"}

// GlassDetail starts the audit detail of every read under a grant; the
// reason follows.
const GlassDetail = "break-glass "

// GlassRecentDays is how far back a district's home page lists grants.
const GlassRecentDays = 2

// GlassInput asks for a grant.
type GlassInput struct {
	Reason string `json:"reason"`
	Note   string `json:"note"`
}

// Glass is a break-the-glass grant.
type Glass struct {
	ID          int64     `json:"id"`
	PatientID   int64     `json:"patient_id"`
	OrgUnit     string    `json:"org_unit"`
	OrgUnitName string    `json:"org_unit_name"`
	Username    string    `json:"username"`
	FullName    string    `json:"full_name"`
	Role        auth.Role `json:"role"`
	UserUnit    string    `json:"user_unit"`
	Reason      string    `json:"reason"`
	Note        string    `json:"note,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// SetGlassFor sets how long a break-the-glass grant lasts.
func (s *Service) SetGlassFor(d time.Duration) {
	if d > 0 {
		s.glassFor = d
	}
}

// GlassFor is how long a break-the-glass grant lasts.
func (s *Service) GlassFor() time.Duration { return s.glassFor }

// withGlass returns a copy of the actor that also holds a grant for patient.
func (a *Actor) withGlass(patient int64) *Actor {
	b := *a
	b.Glass = append(slices.Clone(a.Glass), patient)
	return &b
}

// liveGrant returns the reason of the actor's live grant for a patient, or "".
func liveGrant(ctx context.Context, tx *store.Tx, username string, patient int64) (string, error) {
	var reason string
	err := tx.QueryRow(ctx, `SELECT reason FROM break_glass WHERE username = ? AND patient_id = ? AND expires_at > ?
		ORDER BY expires_at DESC LIMIT 1`, username, patient, store.FormatTime(tx.Now())).Scan(&reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return reason, err
}

// BreakGlass grants the actor read access to one patient's record outside
// their jurisdiction for GlassFor, for the reason given. The care-and-help
// group and administrators may not; a record the actor may already read
// needs no grant (Conflict).
func (s *Service) BreakGlass(ctx context.Context, patientID int64, in GlassInput) (*Glass, error) {
	var out *Glass
	err := s.act(ctx, string(BreakGlass), func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "patient", strconv.FormatInt(patientID, 10), a.UnitCode, a.UnitPath
		if !mayEver(a, BreakGlass) {
			return errForbidden()
		}
		r, err := patientByID(ctx, tx, patientID)
		if err != nil {
			return err
		}
		if r == nil {
			return errNotFound("patient")
		}
		sub.Unit, sub.Path = r.OrgUnit, r.path
		if !Allow(a, BreakGlass, Target{Path: r.path, Patient: patientID}) {
			return errForbidden()
		}
		var f fields
		if !slices.Contains(GlassReasons, in.Reason) {
			f.add("reason", "must be one of "+strings.Join(GlassReasons, ", "))
		}
		in.Note = checkNote(&f, "note", in.Note, 500)
		if in.Reason == "other" && in.Note == "" {
			f.add("note", "say why you must read this record")
		}
		if err := f.err(); err != nil {
			return err
		}
		if Allow(a, ReadPatient, Target{Path: r.path, Patient: patientID}) {
			return errConflict("you may read this record already; no need to break the glass")
		}
		now := tx.Now()
		g := &Glass{PatientID: patientID, OrgUnit: r.OrgUnit, OrgUnitName: r.OrgUnitName, Username: a.Username,
			FullName: a.FullName, Role: a.Role, UserUnit: a.UnitName, Reason: in.Reason, Note: in.Note,
			CreatedAt: now, ExpiresAt: now.Add(s.glassFor)}
		if err := tx.QueryRow(ctx, `INSERT INTO break_glass (patient_id, org_path, username, reason, note, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, patientID, r.path, a.Username, in.Reason, in.Note,
			store.FormatTime(now), store.FormatTime(g.ExpiresAt)).Scan(&g.ID); err != nil {
			return err
		}
		sub.Detail = GlassDetail + in.Reason
		out = g
		return nil
	})
	return out, err
}

const glassSelect = `SELECT g.id, g.patient_id, o.code, o.name, g.username, COALESCE(u.full_name, g.username), COALESCE(u.role, ''),
	COALESCE(uo.name, ''), g.reason, g.note, g.created_at, g.expires_at
	FROM break_glass g JOIN patients p ON p.id = g.patient_id JOIN org_units o ON o.id = p.org_unit_id
	LEFT JOIN users u ON u.username = g.username LEFT JOIN org_units uo ON uo.id = u.org_unit_id`

func scanGlass(rows *sql.Rows) ([]Glass, error) {
	defer rows.Close()
	var out []Glass
	for rows.Next() {
		var g Glass
		var created, expires string
		if err := rows.Scan(&g.ID, &g.PatientID, &g.OrgUnit, &g.OrgUnitName, &g.Username, &g.FullName, &g.Role, &g.UserUnit,
			&g.Reason, &g.Note, &created, &expires); err != nil {
			return nil, err
		}
		g.CreatedAt, g.ExpiresAt = store.MustTime(created), store.MustTime(expires)
		out = append(out, g)
	}
	return out, rows.Err()
}

// glassOf lists a patient's grants, newest first (at most 100: each is an
// emergency, and the audit log keeps them all).
func glassOf(ctx context.Context, tx *store.Tx, patientID int64) ([]Glass, error) {
	rows, err := tx.Query(ctx, glassSelect+` WHERE g.patient_id = ? ORDER BY g.created_at DESC, g.id DESC LIMIT 100`, patientID)
	if err != nil {
		return nil, err
	}
	return scanGlass(rows)
}

// RecentGlass lists the break-the-glass grants of the last GlassRecentDays
// days on records of the actor's jurisdiction, newest first: what the
// district's psychiatrists and administrator are shown on their home page.
func (s *Service) RecentGlass(ctx context.Context) ([]Glass, error) {
	var out []Glass
	err := s.view(ctx, "break_glass.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "break_glass", a.UnitCode, a.UnitPath
		if !Allow(a, ReadGlass, Target{Path: a.UnitPath}) {
			return errForbidden()
		}
		lo, hi := store.Beneath(a.UnitPath)
		rows, err := tx.Query(ctx, glassSelect+` WHERE g.org_path >= ? AND g.org_path < ? AND g.created_at >= ?
			ORDER BY g.created_at DESC, g.id DESC LIMIT 200`, lo, hi,
			store.FormatTime(tx.Now().Add(-GlassRecentDays*24*time.Hour)))
		if err != nil {
			return err
		}
		out, err = scanGlass(rows)
		return err
	})
	return out, err
}
