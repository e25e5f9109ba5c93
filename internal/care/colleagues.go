package care

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"kith/internal/auth"
	"kith/internal/store"
)

// Forms where staff name another member of staff (a care team's new
// member, an event's staff, a case conference's participants and the
// owners of its decisions) take the colleague's name, not their username:
// people know each other by name. The form suggests the colleagues of the
// actor's district (Colleagues) and the name typed is resolved to an
// account (ResolveColleague). The API keeps usernames.

// Colleague is a member of staff as another picks them.
type Colleague struct {
	Username string    `json:"username"`
	Name     string    `json:"name"`
	Role     auth.Role `json:"role"`
	UnitName string    `json:"unit_name"`
}

// Label is how a form writes a colleague: the name, then the unit in
// full-width brackets, which ResolveColleague reads back.
func (c Colleague) Label() string {
	if c.UnitName == "" {
		return c.Name
	}
	return c.Name + "（" + c.UnitName + "）"
}

// maxColleagues bounds the suggestions a form carries.
const maxColleagues = 500

const colleagueSelect = `SELECT u.username, u.full_name, u.role, COALESCE(o.name, '')
	FROM users u LEFT JOIN org_units o ON o.id = u.org_unit_id WHERE u.disabled = ? AND u.role <> 'admin'`

// Colleagues lists the active staff of the actor's district (the district
// holding their unit: its community health centres and hospitals), by
// name, for a form's suggestions.
func (s *Service) Colleagues(ctx context.Context) ([]Colleague, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, errUnauthenticated
	}
	if !Allow(a, FindColleagues, Target{Path: a.UnitPath}) {
		return nil, errForbidden()
	}
	lo, hi := store.Beneath(districtOf(a.UnitPath))
	var out []Colleague
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = scanColleagues(tx.Query(ctx, colleagueSelect+` AND o.path >= ? AND o.path < ?
			ORDER BY u.full_name, o.name, u.username LIMIT ?`, false, lo, hi, maxColleagues))
		return err
	})
	return out, err
}

// ResolveColleague returns the username of the account that text names: a
// username as it is; else a name, with the unit in brackets as Label writes
// it (full-width or not), which one active account must have. An unknown
// name, or one that several colleagues share, is an invalid "username" with
// a message saying what to write instead.
func (s *Service) ResolveColleague(ctx context.Context, text string) (string, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return "", errUnauthenticated
	}
	if !Allow(a, FindColleagues, Target{Path: a.UnitPath}) {
		return "", errForbidden()
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "", nil
	}
	name, unit := splitLabel(text)
	var found []Colleague
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var u string
		err := tx.QueryRow(ctx, `SELECT username FROM users WHERE username = ?`, text).Scan(&u)
		if err == nil {
			found = []Colleague{{Username: u}}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		q, args := colleagueSelect+` AND u.full_name = ?`, []any{false, name}
		if unit != "" {
			q += ` AND o.name = ?`
			args = append(args, unit)
		}
		found, err = scanColleagues(tx.Query(ctx, q+` ORDER BY o.name, u.username LIMIT 5`, args...))
		return err
	})
	switch {
	case err != nil:
		return "", err
	case len(found) == 1:
		return found[0].Username, nil
	case len(found) == 0:
		return "", invalid("username", "no colleague has this name")
	case unit == "" && found[0].UnitName != found[1].UnitName:
		return "", invalid("username", "several colleagues have this name: pick them from the list, which adds their unit")
	}
	return "", invalid("username", "several colleagues of this unit have this name: write their username")
}

// splitLabel splits "name（unit）" or "name (unit)" into its parts.
func splitLabel(s string) (name, unit string) {
	for _, b := range [][2]string{{"（", "）"}, {"(", ")"}} {
		if i := strings.Index(s, b[0]); i > 0 && strings.HasSuffix(s, b[1]) {
			return strings.TrimSpace(s[:i]), strings.TrimSpace(strings.TrimSuffix(s[i+len(b[0]):], b[1]))
		}
	}
	return s, ""
}

func scanColleagues(rows *sql.Rows, err error) ([]Colleague, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Colleague
	for rows.Next() {
		var c Colleague
		if err := rows.Scan(&c.Username, &c.Name, &c.Role, &c.UnitName); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
