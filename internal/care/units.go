package care

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"kith/internal/auth"
	"kith/internal/store"
)

// Level is a tier of the jurisdiction tree.
type Level string

// The levels, from the top: district (county) → street / township → community (village).
const (
	District  Level = "district"
	Street    Level = "street"
	Community Level = "community"
	// Institution is a hospital (a district mental health hospital, a
	// general hospital's psychiatry department): it has staff but no
	// residents, lies under any unit but another institution, and sees a
	// patient only through a referral (Actor.Referred).
	Institution Level = "institution"
)

// Levels lists the levels from the top down.
var Levels = []Level{District, Street, Community}

func (l Level) rank() int {
	for i, x := range Levels {
		if l == x {
			return i
		}
	}
	return -1
}

// Unit is an organisation unit.
type Unit struct {
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	Level      Level     `json:"level"`
	ParentCode string    `json:"parent_code,omitempty"`
	Path       string    `json:"path"`
	Population int64     `json:"population"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// UnitInput creates a unit.
type UnitInput struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	ParentCode string `json:"parent_code"`
	Level      string `json:"level"`
	Population int64  `json:"population"`
}

// UnitPatch changes a unit; nil fields stay as they are. A unit's level and
// code do not change; giving another parent moves the unit with everything
// beneath it.
type UnitPatch struct {
	Name       *string `json:"name"`
	ParentCode *string `json:"parent_code"`
	Level      *string `json:"level"`
	Population *int64  `json:"population"`
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

const maxPopulation = 100_000_000

// checkName cleans and checks a required one-line name (see CleanText): a
// name of only invisible characters is no name.
func checkName(f *fields, field, name string, max int) string {
	n := len(f.list)
	name = cleanField(f, field, name, false)
	switch {
	case len(f.list) > n:
	case name == "":
		f.add(field, "is required")
	case utf8.RuneCountInString(name) > max:
		f.add(field, "is too long")
	}
	return name
}

func checkPopulation(f *fields, p int64) {
	if p < 0 || p > maxPopulation {
		f.add("population", "must be between 0 and 100000000")
	}
}

const unitColumns = `u.code, u.name, u.level, COALESCE(p.code, ''), u.path, u.population, u.created_at, u.updated_at`
const unitFrom = ` FROM org_units u LEFT JOIN org_units p ON p.id = u.parent_id`

type unitRow struct {
	Unit
	id int64
}

func scanUnit(sc interface{ Scan(...any) error }) (Unit, error) {
	var u Unit
	var created, updated string
	err := sc.Scan(&u.Code, &u.Name, &u.Level, &u.ParentCode, &u.Path, &u.Population, &created, &updated)
	u.CreatedAt, u.UpdatedAt = store.MustTime(created), store.MustTime(updated)
	return u, err
}

// districtOf is the path of the district that holds a unit of this path:
// /D1/S1/C1/ → /D1/.
func districtOf(path string) string {
	if len(path) < 2 {
		return path
	}
	if i := strings.Index(path[1:], "/"); i >= 0 {
		return path[:i+2]
	}
	return path
}

// unitByCode loads a unit by code; it returns nil if there is none.
func unitByCode(ctx context.Context, tx *store.Tx, code string) (*unitRow, error) {
	r, err := scanUnitRow(tx.QueryRow(ctx, unitByCodeSQL, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// unitByCodeSQL reads the unit of a code, for scanUnitRow.
const unitByCodeSQL = `SELECT u.id, ` + unitColumns + unitFrom + ` WHERE u.code = ?`

// scanUnitRow scans u.id and unitColumns.
func scanUnitRow(sc interface{ Scan(...any) error }) (*unitRow, error) {
	var r unitRow
	var created, updated string
	err := sc.Scan(&r.id, &r.Code, &r.Name, &r.Level, &r.ParentCode, &r.Path, &r.Population, &created, &updated)
	r.CreatedAt, r.UpdatedAt = store.MustTime(created), store.MustTime(updated)
	return &r, err
}

// checkParent validates that parent may hold a unit of level l, adding field
// errors to f.
func checkParent(f *fields, l Level, parent *unitRow, parentCode string) {
	if l == Institution {
		switch {
		case parentCode != "" && parent == nil:
			f.add("parent_code", "no org unit has this code")
		case parent != nil && parent.Level == Institution:
			f.add("parent_code", "an institution cannot lie under another institution")
		}
		return
	}
	switch {
	case parent != nil && parent.Level == Institution:
		f.add("parent_code", "nothing lies under an institution")
	case l == District && parentCode != "":
		f.add("parent_code", "a district has no parent")
	case l != District && parentCode == "":
		f.add("parent_code", "is required for a "+string(l))
	case l != District && parent == nil:
		f.add("parent_code", "no org unit has this code")
	case l != District && parent.Level.rank() != l.rank()-1:
		f.add("parent_code", "a "+string(l)+" must be under a "+string(Levels[l.rank()-1])+", not a "+string(parent.Level))
	}
}

// CreateUnit adds an org unit.
func (s *Service) CreateUnit(ctx context.Context, in UnitInput) (*Unit, error) {
	var out *Unit
	err := s.act(ctx, "unit.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		in.Code = strings.TrimSpace(in.Code)
		in.ParentCode = strings.TrimSpace(in.ParentCode)
		sub.Type, sub.ID, sub.Unit = "org_unit", in.Code, in.Code
		if !mayEver(a, WriteUnit) {
			return errForbidden()
		}
		var f fields
		if !codeRE.MatchString(in.Code) {
			f.add("code", "must be 1–32 letters, digits, - or _, starting with a letter or digit")
		}
		in.Name = checkName(&f, "name", in.Name, 100)
		l := Level(in.Level)
		if l.rank() < 0 && l != Institution {
			f.add("level", "must be district, street, community or institution")
		}
		checkPopulation(&f, in.Population)
		var parent *unitRow
		if in.ParentCode != "" {
			var err error
			if parent, err = unitByCode(ctx, tx, in.ParentCode); err != nil {
				return err
			}
		}
		if l.rank() >= 0 || l == Institution {
			checkParent(&f, l, parent, in.ParentCode)
		}
		if err := f.err(); err != nil {
			return err
		}
		path := "/" + in.Code + "/"
		var parentID sql.NullInt64
		if parent != nil {
			path = parent.Path + in.Code + "/"
			parentID = sql.NullInt64{Int64: parent.id, Valid: true}
		}
		sub.Path = path
		if !Allow(a, WriteUnit, Target{Path: path}) {
			return errForbidden()
		}
		now := store.FormatTime(tx.Now())
		_, err := tx.Exec(ctx, `INSERT INTO org_units (code, name, level, parent_id, path, population, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, in.Code, in.Name, string(l), parentID, path, in.Population, now, now)
		if store.IsUniqueViolation(err) {
			return &Error{Kind: Conflict, Message: "an org unit with this code already exists", ExistingID: in.Code}
		}
		if err != nil {
			return err
		}
		out = &Unit{Code: in.Code, Name: in.Name, Level: l, ParentCode: in.ParentCode, Path: path,
			Population: in.Population, CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
		return nil
	})
	return out, err
}

// Unit returns the org unit with this code, if the actor may see it.
func (s *Service) Unit(ctx context.Context, code string) (*Unit, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, errUnauthenticated
	}
	var out *Unit
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		r, err := unitByCode(ctx, tx, code)
		if err != nil {
			return err
		}
		if r == nil || !Allow(a, ReadUnit, Target{Path: r.Path}) {
			return errNotFound("org unit")
		}
		out = &r.Unit
		return nil
	})
	return out, err
}

// Units lists the org units the actor may see, in tree order (by path).
// Under, if given, limits the list to that unit and everything beneath it.
func (s *Service) Units(ctx context.Context, under string, p Page) ([]Unit, string, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, "", errUnauthenticated
	}
	limit, err := p.limit()
	if err != nil {
		return nil, "", err
	}
	after, err := p.after()
	if err != nil {
		return nil, "", err
	}
	var out []Unit
	err = s.db.Read(ctx, func(tx *store.Tx) error {
		prefix := a.UnitPath
		if a.Role == auth.Admin {
			prefix = "" // a system administrator's jurisdiction is everything
		}
		if under != "" {
			r, err := unitByCode(ctx, tx, under)
			if err != nil {
				return err
			}
			if r == nil || !Allow(a, ReadUnit, Target{Path: r.Path}) {
				return invalid("org_unit", "no org unit you may see has this code")
			}
			prefix = r.Path
		} else if a.Role != auth.Admin && prefix == "" {
			return nil // an actor without a unit sees no units
		}
		lo, hi := store.Beneath(prefix)
		rows, err := tx.Query(ctx, `SELECT `+unitColumns+unitFrom+`
			WHERE u.path >= ? AND u.path < ? AND u.path > ? ORDER BY u.path LIMIT ?`, lo, hi, after, limit+1)
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
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(u Unit) string { return u.Path })
	return out, next, nil
}

// movedPaths are the columns that hold the org path of the unit a record
// belongs to now, which follow a unit that moves (UpdateUnit).
var movedPaths = []struct{ table, column string }{
	{"patients", "org_path"}, {"subsidies", "org_path"}, {"crisis_events", "org_path"},
	{"referrals", "from_path"}, {"referrals", "to_path"}, {"case_conferences", "org_path"},
	{"events", "org_path"}, {"courses", "org_path"}, {"articles", "org_path"}, {"services", "org_path"},
	{"screenings", "org_path"}, {"contact_requests", "org_path"},
}

// UpdateUnit changes an org unit. Moving it under another parent moves
// everything beneath it along, units and records (movedPaths).
func (s *Service) UpdateUnit(ctx context.Context, code string, in UnitPatch) (*Unit, error) {
	var out *Unit
	err := s.act(ctx, "unit.update", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit = "org_unit", code, code
		u, err := unitByCode(ctx, tx, code)
		if err != nil {
			return err
		}
		if u == nil || !Allow(a, ReadUnit, Target{Path: u.Path}) {
			return errHidden("org unit")
		}
		sub.Path = u.Path
		if !Allow(a, WriteUnit, Target{Path: u.Path}) {
			return errForbidden()
		}
		var f fields
		if in.Name != nil {
			u.Name = checkName(&f, "name", *in.Name, 100)
		}
		if in.Population != nil {
			checkPopulation(&f, *in.Population)
			u.Population = *in.Population
		}
		if in.Level != nil && Level(*in.Level) != u.Level {
			f.add("level", "cannot be changed; create a new unit instead")
		}
		oldPath, newPath := u.Path, u.Path
		var parent *unitRow
		if in.ParentCode != nil && strings.TrimSpace(*in.ParentCode) != u.ParentCode {
			pc := strings.TrimSpace(*in.ParentCode)
			if pc != "" {
				if parent, err = unitByCode(ctx, tx, pc); err != nil {
					return err
				}
			}
			switch {
			case parent != nil && strings.HasPrefix(parent.Path, u.Path):
				f.add("parent_code", "would make a cycle: the new parent lies beneath this unit")
			default:
				checkParent(&f, u.Level, parent, pc)
			}
			if parent != nil {
				newPath = parent.Path + u.Code + "/"
			} else {
				newPath = "/" + u.Code + "/"
			}
			u.ParentCode = pc
		}
		if err := f.err(); err != nil {
			return err
		}
		if newPath != oldPath && !Allow(a, WriteUnit, Target{Path: newPath}) {
			return errForbidden()
		}
		var parentID any
		if parent != nil {
			parentID = parent.id
		}
		now := store.FormatTime(tx.Now())
		if newPath != oldPath {
			lo, hi := store.Beneath(oldPath)
			sub.Detail = "moved from " + oldPath + " to " + newPath
			if _, err := tx.Exec(ctx, `UPDATE org_units SET parent_id = ? WHERE id = ?`, parentID, u.id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE org_units SET path = CAST(? AS TEXT) || substr(path, CAST(? AS INTEGER)), updated_at = ?
				WHERE path >= ? AND path < ?`, newPath, len(oldPath)+1, now, lo, hi); err != nil {
				return err
			}
			// The records that belong to the units moved carry their
			// paths, which the policy reads for jurisdiction: they move too.
			// Records of what happened at the time keep the path it
			// happened at (the audit log, break-glass accesses, access
			// announcements).
			for _, c := range movedPaths {
				if _, err := tx.Exec(ctx, `UPDATE `+c.table+` SET `+c.column+` = CAST(? AS TEXT) || substr(`+c.column+`, CAST(? AS INTEGER))
					WHERE `+c.column+` >= ? AND `+c.column+` < ?`, newPath, len(oldPath)+1, lo, hi); err != nil {
					return err
				}
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE org_units SET name = ?, population = ?, updated_at = ? WHERE id = ?`,
			u.Name, u.Population, now, u.id); err != nil {
			return err
		}
		u.Path, u.UpdatedAt = newPath, tx.Now()
		out = &u.Unit
		return nil
	})
	return out, err
}
