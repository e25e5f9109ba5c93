package care

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"kith/internal/auth"
	"kith/internal/store"
)

// Owners set their own passwords: an account is created without one, with
// a one-time activation link for its owner. New access to records is
// announced to the psychiatrists of the account's jurisdiction. People see
// and end their own sessions.

// ActivationLife is how long an activation link works.
const ActivationLife = 72 * time.Hour

// Activation is a one-time token with which an account's owner sets the
// password. Only its keyed hash is stored.
type Activation struct {
	Username  string    `json:"username"`
	Token     string    `json:"-"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ActivationPath is the path of the public page an activation token opens.
const ActivationPath = "/activate"

// ActivationURL is the link an activation token is handed out as, on the
// server at base (such as https://kith.example.org).
func ActivationURL(base, token string) string {
	return strings.TrimRight(base, "/") + ActivationPath + "?token=" + token
}

// newActivation replaces the account's activation link with a new one.
func (s *Service) newActivation(ctx context.Context, tx *store.Tx, username, by string) (*Activation, error) {
	out := &Activation{Username: username, Token: auth.NewToken(), ExpiresAt: tx.Now().Add(ActivationLife)}
	_, err := tx.Exec(ctx, `DELETE FROM activations WHERE user_id = (SELECT id FROM users WHERE username = ?)`, username)
	if err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO activations (token_hash, user_id, created_by, created_at, expires_at)
		SELECT ?, id, ?, ?, ? FROM users WHERE username = ?`, auth.TokenHash(s.keys.Session, out.Token), by,
		store.FormatTime(tx.Now()), store.FormatTime(out.ExpiresAt), username)
	return out, err
}

// IssueActivation gives an account a new activation link, as an
// administrator's password reset: the password, the second factor and every
// session of the account end, and its owner starts again from the link.
// For an account that reads records this is announced like new access,
// since whoever holds the link can take the account over.
func (s *Service) IssueActivation(ctx context.Context, username string) (*Activation, error) {
	var out *Activation
	err := s.act(ctx, "user.activation", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := managedUser(ctx, tx, a, username, sub)
		if err != nil {
			return err
		}
		if u.Username == a.Username {
			return errConflict("change your own password on your account page")
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = '', updated_at = ? WHERE id = ?`,
			store.FormatTime(tx.Now()), u.id); err != nil {
			return err
		}
		if err := clearTOTP(ctx, tx, u.id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.id); err != nil {
			return err
		}
		if readsRecords(u.Role) {
			if err := s.announce(ctx, tx, a, &u.User, u.unitPath, ChangeActivation); err != nil {
				return err
			}
		}
		out, err = s.newActivation(ctx, tx, u.Username, a.Username)
		return err
	})
	return out, err
}

var errBadActivation = &Error{Kind: Invalid, Message: "this activation link is not valid: it has been used, replaced or has expired",
	Fields: []FieldError{{Field: "token", Message: "has been used, replaced or has expired"}}}

// Activate sets the password of the account an activation token belongs
// to, once: the token is used up. It returns the account's username.
func (s *Service) Activate(ctx context.Context, token, password string) (string, error) {
	h := auth.TokenHash(s.keys.Session, strings.TrimSpace(token))
	var username, expires string
	err := s.db.QueryRow(ctx, `SELECT u.username, a.expires_at FROM activations a JOIN users u ON u.id = a.user_id
		WHERE a.token_hash = ?`, h).Scan(&username, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !time.Now().Before(store.MustTime(expires))) {
		return "", errBadActivation
	}
	if err != nil {
		return "", err
	}
	if msg := auth.CheckPassword(password); msg != "" {
		return "", invalid("password", msg)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return "", err
	}
	err = s.record(ctx, username, "user.activate", func(tx *store.Tx, sub *subject) error {
		u, err := userByName(ctx, tx, username)
		if err != nil {
			return err
		}
		sub.Type, sub.ID, sub.Unit, sub.Path = "user", username, u.OrgUnit, u.unitPath
		r, err := tx.Exec(ctx, `DELETE FROM activations WHERE token_hash = ?`, h)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return errBadActivation
		}
		_, err = tx.Exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, store.FormatTime(tx.Now()), u.id)
		return err
	})
	return username, err
}

// The changes to an account that give it access to records.
const (
	ChangeCreated    = "created"    // a new account of a role that reads records
	ChangeRole       = "role"       // changed to a role that reads records
	ChangeUnit       = "org_unit"   // an account that reads records moved to another unit
	ChangeEnabled    = "enabled"    // an account that reads records enabled again
	ChangeActivation = "activation" // a new activation link for an account that reads records
)

// readsRecords reports whether accounts of role r read patient records.
func readsRecords(r auth.Role) bool { return PatientView(r) != ViewNone }

// accessChange names the change from before to after that gives the
// account access to records it did not have, or "".
func accessChange(before, after *userRow) string {
	switch {
	case !readsRecords(after.Role) || after.Disabled:
		return ""
	case !readsRecords(before.Role):
		return ChangeRole
	case before.unitPath != after.unitPath:
		return ChangeUnit
	case before.Disabled:
		return ChangeEnabled
	}
	return ""
}

// announce records, in the transaction of the change, that the account u
// in the unit at path was given access to records by a.
func (s *Service) announce(ctx context.Context, tx *store.Tx, a *Actor, u *User, path, change string) error {
	if !readsRecords(u.Role) {
		return nil
	}
	name := a.FullName
	if name == "" { // an actor made by hand, as the demo's
		if err := tx.QueryRow(ctx, `SELECT full_name FROM users WHERE username = ?`, a.Username).Scan(&name); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO access_announcements (username, full_name, role, org_unit, org_path, change, actor, actor_name, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, u.Username, u.FullName, string(u.Role), u.OrgUnit, path, change, a.Username,
		name, store.FormatTime(tx.Now()))
	return err
}

// AccessAnnouncement says that an account was given access to records.
type AccessAnnouncement struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	FullName  string    `json:"full_name"`
	Role      auth.Role `json:"role"`
	OrgUnit   string    `json:"org_unit"`
	Change    string    `json:"change"`
	Actor     string    `json:"actor"`
	ActorName string    `json:"actor_name"`
	At        time.Time `json:"at"`
}

// AccessAnnouncements lists, newest first, the announcements of access to
// records given to accounts in the actor's jurisdiction that the actor has
// not dismissed (a psychiatrist's; nobody else's). The actor's own account
// is left out.
func (s *Service) AccessAnnouncements(ctx context.Context, p Page) ([]AccessAnnouncement, string, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, "", errUnauthenticated
	}
	if !Allow(a, ReadAnnouncements, Target{Path: a.UnitPath}) {
		return nil, "", errForbidden()
	}
	limit, err := p.limit()
	if err != nil {
		return nil, "", err
	}
	after, err := p.after()
	if err != nil {
		return nil, "", err
	}
	before := int64(1) << 62
	if after != "" {
		if before, err = strconv.ParseInt(after, 10, 64); err != nil {
			return nil, "", invalid("page_token", "is not a token this server gave out")
		}
	}
	lo, hi := store.Beneath(a.UnitPath)
	rows, err := s.db.Query(ctx, `SELECT n.id, n.username, n.full_name, n.role, n.org_unit, n.change, n.actor, n.actor_name, n.at
		FROM access_announcements n
		WHERE n.org_path >= ? AND n.org_path < ? AND n.id < ? AND n.username <> ?
		AND NOT EXISTS (SELECT 1 FROM announcement_dismissals d WHERE d.announcement_id = n.id AND d.user_id = ?)
		ORDER BY n.id DESC LIMIT ?`, lo, hi, before, a.Username, a.UserID, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []AccessAnnouncement
	for rows.Next() {
		var n AccessAnnouncement
		var at string
		if err := rows.Scan(&n.ID, &n.Username, &n.FullName, &n.Role, &n.OrgUnit, &n.Change, &n.Actor, &n.ActorName, &at); err != nil {
			return nil, "", err
		}
		n.At = store.MustTime(at)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(n AccessAnnouncement) string { return strconv.FormatInt(n.ID, 10) })
	return out, next, nil
}

// DismissAnnouncement hides an announcement from the actor's home page.
func (s *Service) DismissAnnouncement(ctx context.Context, id int64) error {
	return s.act(ctx, "announcement.dismiss", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID = "announcement", strconv.FormatInt(id, 10)
		var path, username string
		err := tx.QueryRow(ctx, `SELECT org_path, username FROM access_announcements WHERE id = ?`, id).Scan(&path, &username)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound("announcement")
		}
		if err != nil {
			return err
		}
		sub.Path, sub.Detail = path, username
		if !Allow(a, ReadAnnouncements, Target{Path: path}) {
			return errHidden("announcement")
		}
		_, err = tx.Exec(ctx, `INSERT INTO announcement_dismissals (announcement_id, user_id, at) VALUES (?, ?, ?)
			ON CONFLICT (announcement_id, user_id) DO NOTHING`, id, a.UserID, store.FormatTime(tx.Now()))
		return err
	})
}

// SessionInfo describes one of a person's sessions or API tokens; never
// the token or its hash.
type SessionInfo struct {
	ID         string      `json:"id"`
	Kind       SessionKind `json:"kind"`
	Device     string      `json:"device"`
	UserAgent  string      `json:"user_agent"`
	ClientAddr string      `json:"client_addr"`
	CreatedAt  time.Time   `json:"created_at"`
	LastSeenAt time.Time   `json:"last_seen_at"`
	ExpiresAt  time.Time   `json:"expires_at"`
	Current    bool        `json:"current"`
}

// MySessions lists the actor's open sessions and API tokens, newest first.
func (s *Service) MySessions(ctx context.Context, p Page) ([]SessionInfo, string, error) {
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
	q := `SELECT id, kind, user_agent, client_addr, created_at, last_seen_at, expires_at FROM sessions
		WHERE user_id = ? AND expires_at > ?`
	args := []any{a.UserID, store.FormatTime(time.Now())}
	if after != "" {
		at, id, ok := strings.Cut(after, " ")
		if !ok {
			return nil, "", invalid("page_token", "is not a token this server gave out")
		}
		q += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, at, at, id)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []SessionInfo
	var keys = map[string]string{}
	for rows.Next() {
		var si SessionInfo
		var kind, created, seen, expires string
		if err := rows.Scan(&si.ID, &kind, &si.UserAgent, &si.ClientAddr, &created, &seen, &expires); err != nil {
			return nil, "", err
		}
		si.Kind, si.Device, si.Current = SessionKind(kind), Device(si.UserAgent), si.ID == a.SessionID
		si.CreatedAt, si.LastSeenAt, si.ExpiresAt = store.MustTime(created), store.MustTime(seen), store.MustTime(expires)
		keys[si.ID] = created
		out = append(out, si)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(si SessionInfo) string { return keys[si.ID] + " " + si.ID })
	return out, next, nil
}

// EndSession ends one of the actor's own sessions or API tokens.
func (s *Service) EndSession(ctx context.Context, id string) error {
	return s.act(ctx, "session.end", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path, sub.Detail = "user", a.Username, a.UnitCode, a.UnitPath, clip(id, 40)
		r, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, id, a.UserID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return errNotFound("session")
		}
		return nil
	})
}

// EndUserSessions ends every session and API token of an account the actor
// manages, and returns how many there were.
func (s *Service) EndUserSessions(ctx context.Context, username string) (int64, error) {
	var n int64
	err := s.act(ctx, "user.sessions.end", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := managedUser(ctx, tx, a, username, sub)
		if err != nil {
			return err
		}
		r, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.id)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		sub.Detail = strconv.FormatInt(n, 10)
		return nil
	})
	return n, err
}

// Device names the browser and system a User-Agent header describes, such
// as "Firefox on Linux", for a person to recognise their sessions.
func Device(ua string) string {
	browser := ""
	for _, b := range []struct{ key, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go"}, {"python", "Python"},
	} {
		if strings.Contains(ua, b.key) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ key, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"},
		{"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.key) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return system
	case ua == "":
		return "unknown"
	}
	return clip(ua, 40)
}

// newID returns a random opaque id.
func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clip cuts s to at most n bytes, at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// sweepAccounts removes expired activation links and sign-in challenges.
func sweepAccounts(ctx context.Context, tx *store.Tx) (int64, error) {
	now := store.FormatTime(tx.Now())
	var n int64
	for _, q := range []string{`DELETE FROM activations WHERE expires_at <= ?`, `DELETE FROM login_challenges WHERE expires_at <= ?`} {
		r, err := tx.Exec(ctx, q, now)
		if err != nil {
			return n, err
		}
		m, _ := r.RowsAffected()
		n += m
	}
	return n, nil
}
