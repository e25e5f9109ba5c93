package care

import (
	"context"
	"database/sql"
	"errors"
	"golang.org/x/text/language"
	"regexp"
	"strings"
	"time"

	"kith/internal/auth"
	"kith/internal/store"
)

// User is a staff account.
type User struct {
	Username string    `json:"username"`
	FullName string    `json:"full_name"`
	Role     auth.Role `json:"role"`
	OrgUnit  string    `json:"org_unit,omitempty"`
	// OrgUnitName is the unit's name, for people to read.
	OrgUnitName string `json:"org_unit_name,omitempty"`
	Language    string `json:"language"`
	Disabled    bool   `json:"disabled"`
	// Activated says the owner has set a password; TOTP that the account
	// signs in with a second factor.
	Activated bool      `json:"activated"`
	TOTP      bool      `json:"totp"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// UserInput creates an account.
type UserInput struct {
	Username string `json:"username"`
	// Password is set only by the internal paths (the command line's
	// bootstrap, the demo): an administrator never chooses an account's
	// password; its owner does, through the activation link.
	Password string `json:"-"`
	FullName string `json:"full_name"`
	Role     string `json:"role"`
	OrgUnit  string `json:"org_unit"`
	Language string `json:"language"`
}

// UserPatch changes an account; nil fields stay as they are.
type UserPatch struct {
	FullName *string `json:"full_name"`
	Role     *string `json:"role"`
	OrgUnit  *string `json:"org_unit"`
	Language *string `json:"language"`
	Disabled *bool   `json:"disabled"`
}

// Languages are the UI languages; "" means "as the browser asks". English
// comes first: it is the fallback.
var Languages = []string{"en", "zh-Hans"}

var languageMatcher = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// MatchLanguage returns the one of Languages that best serves an
// Accept-Language list, such as zh-Hans for "zh-CN,zh;q=0.9"; English when
// none does.
func MatchLanguage(accept string) string {
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return Languages[0]
	}
	_, i, conf := languageMatcher.Match(tags...)
	if conf == language.No {
		return Languages[0]
	}
	return Languages[i]
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,39}$`)

// NormalizeUsername is how usernames are compared: case does not matter.
func NormalizeUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

func checkLanguage(f *fields, l string) {
	if l == "" {
		return
	}
	for _, x := range Languages {
		if l == x {
			return
		}
	}
	f.add("language", "must be en or zh-Hans")
}

type userRow struct {
	User
	id       int64
	unitID   sql.NullInt64
	unitPath string
	hash     string // "" until the owner activates the account
	// totpSecret is the sealed TOTP secret, "" without a second factor;
	// totpLastStep the time step of the last code accepted.
	totpSecret   string
	totpLastStep int64
}

// target is the user as the policy sees it. An account without a unit
// (a system administrator) lies at the root: only admins reach it.
func (u *userRow) target() Target {
	p := u.unitPath
	if p == "" {
		p = "/"
	}
	return Target{Path: p, Role: u.Role}
}

const userSelect = `SELECT u.id, u.username, u.full_name, u.role, u.org_unit_id, COALESCE(o.code, ''), COALESCE(o.path, ''),
	COALESCE(o.name, ''), u.language, u.disabled, u.password_hash, u.created_at, u.updated_at, u.totp_secret, u.totp_last_step
	FROM users u LEFT JOIN org_units o ON o.id = u.org_unit_id`

func scanUser(sc interface{ Scan(...any) error }) (*userRow, error) {
	var r userRow
	var created, updated string
	err := sc.Scan(&r.id, &r.Username, &r.FullName, &r.Role, &r.unitID, &r.OrgUnit, &r.unitPath, &r.OrgUnitName,
		&r.Language, &r.Disabled, &r.hash, &created, &updated, &r.totpSecret, &r.totpLastStep)
	r.Activated, r.TOTP = r.hash != "", r.totpSecret != ""
	r.CreatedAt, r.UpdatedAt = store.MustTime(created), store.MustTime(updated)
	return &r, err
}

// managedUser finds the account an actor would change, filling in the audit
// subject: an account the actor may not see is not found, one they may see
// but not change is forbidden.
func managedUser(ctx context.Context, tx *store.Tx, a *Actor, username string, sub *subject) (*userRow, error) {
	username = NormalizeUsername(username)
	sub.Type, sub.ID = "user", username
	u, err := userByName(ctx, tx, username)
	if err != nil {
		return nil, err
	}
	if u == nil || !Allow(a, ReadUser, u.target()) {
		return nil, errHidden("user")
	}
	sub.Unit, sub.Path = u.OrgUnit, u.unitPath
	if !Allow(a, WriteUser, u.target()) {
		return nil, errForbidden()
	}
	return u, nil
}

func userByName(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) *sql.Row
}, username string) (*userRow, error) {
	r, err := scanUser(q.QueryRow(ctx, userSelect+` WHERE u.username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// checkUserUnit resolves an org unit code for an account of role r.
func checkUserUnit(ctx context.Context, tx *store.Tx, f *fields, r auth.Role, code string) (*unitRow, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		if r != auth.Admin {
			f.add("org_unit", "is required")
		}
		return nil, nil
	}
	u, err := unitByCode(ctx, tx, code)
	if err != nil {
		return nil, err
	}
	if u == nil {
		f.add("org_unit", "no org unit has this code")
	}
	return u, nil
}

// CreateUser adds a staff account without a password, and returns the
// one-time activation its owner sets the password with.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (*User, *Activation, error) {
	var out *User
	var act *Activation
	in.Password = ""
	err := s.act(ctx, "user.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		if !mayEver(a, WriteUser) {
			return errForbidden()
		}
		var err error
		out, err = s.createUser(ctx, tx, in, sub, a, func(t Target) bool { return Allow(a, WriteUser, t) })
		if err != nil {
			return err
		}
		act, err = s.newActivation(ctx, tx, out.Username, a.Username)
		return err
	})
	return out, act, err
}

// CreateUserWithPassword adds a staff account with its password set, for
// the demo and tests, which hold the database in hand; no transport calls
// it. It is audited as the actor in ctx.
func (s *Service) CreateUserWithPassword(ctx context.Context, in UserInput) (*User, error) {
	var out *User
	err := s.act(ctx, "user.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		if in.Password == "" {
			return invalid("password", "is required")
		}
		var err error
		out, err = s.createUser(ctx, tx, in, sub, a, func(t Target) bool { return Allow(a, WriteUser, t) })
		return err
	})
	return out, err
}

// CreateAdmin adds a system administrator from the command line, where the
// operator already has the database in hand; it is audited as "cli".
func (s *Service) CreateAdmin(ctx context.Context, username, fullName, password string) (*User, error) {
	var out *User
	err := s.record(ctx, "cli", "user.create", func(tx *store.Tx, sub *subject) error {
		var err error
		in := UserInput{Username: username, FullName: fullName, Password: password, Role: string(auth.Admin)}
		out, err = s.createUser(ctx, tx, in, sub, nil, func(Target) bool { return true })
		return err
	})
	return out, err
}

// createUser adds an account, with a password when in has one (the
// internal paths) and else none until its owner activates it. An account
// of a role that reads records is announced; by is the acting user, nil on
// the command line.
func (s *Service) createUser(ctx context.Context, tx *store.Tx, in UserInput, sub *subject, by *Actor, allow func(Target) bool) (*User, error) {
	in.Username = NormalizeUsername(in.Username)
	sub.Type, sub.ID = "user", in.Username
	var f fields
	if !usernameRE.MatchString(in.Username) {
		f.add("username", "must be 3–40 lower-case letters, digits, '.', '-' or '_'")
	}
	if in.Password != "" {
		if msg := auth.CheckPassword(in.Password); msg != "" {
			f.add("password", msg)
		}
	}
	in.FullName = checkName(&f, "full_name", in.FullName, 100)
	role := auth.Role(in.Role)
	if !role.Valid() {
		f.add("role", "is not a known role")
	}
	checkLanguage(&f, in.Language)
	unit, err := checkUserUnit(ctx, tx, &f, role, in.OrgUnit)
	if err != nil {
		return nil, err
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	t := Target{Path: "/", Role: role}
	var unitID any
	if unit != nil {
		t.Path, sub.Unit, sub.Path, unitID = unit.Path, unit.Code, unit.Path, unit.id
	}
	if !allow(t) {
		return nil, errForbidden()
	}
	// A username already taken: the answer names neither the account nor
	// where it is. If the account lies outside what the caller may see,
	// the attempt is recorded in that account's unit as well, where its
	// district administrator sees it (a probe for who works where).
	taken, err := userByName(ctx, tx, in.Username)
	if err != nil {
		return nil, err
	}
	if taken != nil {
		if by != nil && !Allow(by, ReadUser, taken.target()) {
			sub.also = append(sub.also, extraEntry{action: "user.create_collision", sub: subject{Type: "user",
				ID: taken.Username, Unit: taken.OrgUnit, Path: taken.target().Path,
				Detail: "account creation attempted in " + sub.Unit + " with this username"}})
		}
		return nil, errUsernameTaken()
	}
	var hash string
	if in.Password != "" {
		if hash, err = auth.HashPassword(in.Password); err != nil {
			return nil, err
		}
	}
	now := store.FormatTime(tx.Now())
	_, err = tx.Exec(ctx, `INSERT INTO users (username, full_name, role, org_unit_id, language, password_hash, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.Username, in.FullName, string(role), unitID, in.Language, hash, false, now, now)
	if store.IsUniqueViolation(err) { // taken meanwhile
		return nil, errUsernameTaken()
	}
	if err != nil {
		return nil, err
	}
	out := &User{Username: in.Username, FullName: in.FullName, Role: role, OrgUnit: strings.TrimSpace(in.OrgUnit),
		Language: in.Language, Activated: hash != "", CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
	if by != nil {
		if err := s.announce(ctx, tx, by, out, t.Path, ChangeCreated); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// errUsernameTaken answers a username already in use, with no
// existing_id and no word of where: the account may lie in another
// district, which this answer must not confirm.
func errUsernameTaken() error {
	return &Error{Kind: Conflict, Message: "this username cannot be used; choose another",
		Fields: []FieldError{{Field: "username", Message: "cannot be used; choose another"}}}
}

// User returns one account, if the actor may see it.
func (s *Service) User(ctx context.Context, username string) (*User, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, errUnauthenticated
	}
	r, err := userByName(ctx, s.db, NormalizeUsername(username))
	if err != nil {
		return nil, err
	}
	if r == nil || !Allow(a, ReadUser, r.target()) {
		return nil, errNotFound("user")
	}
	return &r.User, nil
}

// Users lists the accounts the actor may manage, by username. Under, if
// given, limits the list to that unit and everything beneath it.
func (s *Service) Users(ctx context.Context, under string, p Page) ([]User, string, error) {
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
	var out []User
	err = s.db.Read(ctx, func(tx *store.Tx) error {
		q := userSelect + ` WHERE u.username > ?`
		args := []any{after}
		prefix := ""
		if under != "" {
			r, err := unitByCode(ctx, tx, under)
			if err != nil {
				return err
			}
			if r == nil || !Allow(a, ReadUser, Target{Path: r.Path}) {
				return invalid("org_unit", "no org unit you may see has this code")
			}
			prefix = r.Path
		}
		switch {
		case prefix != "":
		case a.Role == auth.Admin:
		case Allow(a, ReadUser, Target{Path: a.UnitPath}):
			prefix = a.UnitPath
		default:
			return errForbidden()
		}
		if prefix != "" {
			lo, hi := store.Beneath(prefix)
			q += ` AND o.path >= ? AND o.path < ?`
			args = append(args, lo, hi)
		}
		q += ` ORDER BY u.username LIMIT ?`
		args = append(args, limit+1)
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, r.User)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(u User) string { return u.Username })
	return out, next, nil
}

// UpdateUser changes an account: name, role, unit, language, disabled, or
// a password reset. Disabling an account ends its sessions.
func (s *Service) UpdateUser(ctx context.Context, username string, in UserPatch) (*User, error) {
	var out *User
	err := s.act(ctx, "user.update", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := managedUser(ctx, tx, a, username, sub)
		if err != nil {
			return err
		}
		var f fields
		var changes []string
		before := *u
		if in.FullName != nil {
			u.FullName = checkName(&f, "full_name", *in.FullName, 100)
		}
		if in.Role != nil && auth.Role(*in.Role) != u.Role {
			if r := auth.Role(*in.Role); !r.Valid() {
				f.add("role", "is not a known role")
			} else {
				u.Role = r
				changes = append(changes, "role")
			}
		}
		if in.Language != nil {
			checkLanguage(&f, *in.Language)
			u.Language = *in.Language
		}
		if in.OrgUnit != nil && strings.TrimSpace(*in.OrgUnit) != u.OrgUnit {
			unit, err := checkUserUnit(ctx, tx, &f, u.Role, *in.OrgUnit)
			if err != nil {
				return err
			}
			u.OrgUnit, u.unitPath, u.unitID = strings.TrimSpace(*in.OrgUnit), "", sql.NullInt64{}
			if unit != nil {
				u.unitPath, u.unitID = unit.Path, sql.NullInt64{Int64: unit.id, Valid: true}
			}
			changes = append(changes, "org_unit")
		} else if u.Role != auth.Admin && !u.unitID.Valid {
			f.add("org_unit", "is required for this role")
		}
		if in.Disabled != nil && *in.Disabled != u.Disabled {
			u.Disabled = *in.Disabled
			changes = append(changes, "disabled")
		}
		if err := f.err(); err != nil {
			return err
		}
		// The account after the change must still be one the actor may manage.
		if !Allow(a, WriteUser, u.target()) {
			return errForbidden()
		}
		if u.Username == a.Username && (u.Disabled || u.Role != a.Role) {
			return errConflict("you cannot disable your own account or change your own role")
		}
		now := store.FormatTime(tx.Now())
		if _, err := tx.Exec(ctx, `UPDATE users SET full_name = ?, role = ?, org_unit_id = ?, language = ?, disabled = ?, updated_at = ?
			WHERE id = ?`, u.FullName, string(u.Role), u.unitID, u.Language, u.Disabled, now, u.id); err != nil {
			return err
		}
		if err := lastAdminGuard(ctx, tx); err != nil {
			return err
		}
		if change := accessChange(&before, u); change != "" {
			if err := s.announce(ctx, tx, a, &u.User, u.unitPath, change); err != nil {
				return err
			}
		}
		if u.Disabled {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.id); err != nil {
				return err
			}
		}
		sub.Detail = strings.Join(changes, ",")
		u.UpdatedAt = tx.Now()
		out = &u.User
		return nil
	})
	return out, err
}

// lastAdminGuard refuses a change that leaves no enabled system administrator.
func lastAdminGuard(ctx context.Context, tx *store.Tx) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = ?`, false).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errConflict("this would leave no enabled system administrator")
	}
	return nil
}

// ChangePassword changes the actor's own password after checking the
// current one, and ends the actor's other sessions.
func (s *Service) ChangePassword(ctx context.Context, current, next, keepToken string) error {
	a := ActorFrom(ctx)
	if a == nil {
		return errUnauthenticated
	}
	u, err := userByName(ctx, s.db, a.Username)
	if err != nil {
		return err
	}
	if u == nil {
		return errUnauthenticated
	}
	var f fields
	if ok, _ := auth.VerifyPassword(u.hash, current); !ok {
		f.add("current_password", "is not your current password")
	}
	if msg := auth.CheckPassword(next); msg != "" {
		f.add("new_password", msg)
	} else if next == current {
		f.add("new_password", "must differ from the current password")
	}
	if len(f.list) > 0 {
		return s.act(ctx, "user.password", func(_ *store.Tx, _ *Actor, sub *subject) error {
			sub.Type, sub.ID, sub.Unit, sub.Path = "user", a.Username, a.UnitCode, a.UnitPath
			return f.err()
		})
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return err
	}
	return s.act(ctx, "user.password", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "user", a.Username, a.UnitCode, a.UnitPath
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`,
			hash, store.FormatTime(tx.Now()), u.id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, u.id,
			auth.TokenHash(s.keys.Session, keepToken))
		return err
	})
}

// SetLanguage sets the actor's own UI language ("" to follow the browser).
func (s *Service) SetLanguage(ctx context.Context, lang string) error {
	var f fields
	checkLanguage(&f, lang)
	if err := f.err(); err != nil {
		return err
	}
	a := ActorFrom(ctx)
	if a == nil {
		return errUnauthenticated
	}
	err := s.db.Transact(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE users SET language = ?, updated_at = ? WHERE id = ?`, lang, store.FormatTime(tx.Now()), a.UserID)
		return err
	})
	s.tokens.Clear()
	return err
}
