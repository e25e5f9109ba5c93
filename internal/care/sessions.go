package care

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"time"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/store"
)

// SessionKind tells a web sign-in from an API token.
type SessionKind string

// The kinds of session.
const (
	WebSession SessionKind = "web"
	APIToken   SessionKind = "api"
)

// Session lifetimes. A web session ends after WebIdle without a request or
// WebAbsolute after sign-in, whichever is first; an API token after APILifetime.
const (
	WebIdle     = 30 * time.Minute
	WebAbsolute = 12 * time.Hour
	APILifetime = 12 * time.Hour
	// touchEvery limits the writes that keep a session alive to one a minute.
	touchEvery = time.Minute
)

// Sign-in throttling: after freeFailures wrong passwords in a row for one
// username from one client address, further attempts from that address wait
// lockBase, doubling with each failure up to lockMax. Someone guessing from
// elsewhere therefore cannot keep the owner out; a slower limit per
// username alone (globalFreeFailures, then globalLockBase, doubling) stops
// guessing spread over many addresses.
const (
	freeFailures       = 5
	lockBase           = 30 * time.Second
	globalFreeFailures = 50
	globalLockBase     = time.Minute
	lockMax            = 15 * time.Minute
)

// lockFor returns how long a username is locked from one address after n
// consecutive failures from it.
func lockFor(n int) time.Duration { return backoff(n, freeFailures, lockBase) }

// globalLockFor returns how long a username is locked from every address
// after n consecutive failures from anywhere.
func globalLockFor(n int) time.Duration { return backoff(n, globalFreeFailures, globalLockBase) }

// The rows of login_failures: one per username ("u:" and the username) and
// one per username and client address ("a:", the address's keyed hash in
// hex, a space and the username; the hash holds no space, so the two never
// meet). The address itself is not stored, as in the public site's rate
// limits: a copy of the database does not say where anyone signed in from.
func (s *Service) failureKeys(ctx context.Context, username string) (global, pair string) {
	m := hmac.New(sha256.New, s.keys.RateLimit)
	m.Write([]byte("sign-in " + RequestFrom(ctx).ClientAddr))
	return "u:" + username, "a:" + hex.EncodeToString(m.Sum(nil)[:16]) + " " + username
}

func backoff(n, free int, base time.Duration) time.Duration {
	if n < free {
		return 0
	}
	d := time.Duration(float64(base) * math.Pow(2, float64(n-free)))
	if d > lockMax || d <= 0 {
		d = lockMax
	}
	return d
}

// Credentials is what a user signs in with.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// TOTP is the code of the authenticator app, or one of the account's
	// recovery codes, for an account with a second factor.
	TOTP string `json:"totp"`
}

// Login checks credentials and opens a session of the given kind. Wrong
// credentials and an unknown username get the same answer, after the same
// work; repeated failures lock the username for a growing time.
func (s *Service) Login(ctx context.Context, c Credentials, kind SessionKind) (token string, expires time.Time, err error) {
	username := NormalizeUsername(c.Username)
	if _, p := CleanText(username, false); p != TextOK {
		// No account has such a name; it is kept (in the audit log, in the
		// failure count) escaped, so that it cannot disguise itself there.
		username = strconv.QuoteToASCII(username)
	}
	var f fields
	if username == "" {
		f.add("username", "is required")
	}
	if c.Password == "" {
		f.add("password", "is required")
	}
	if err := f.err(); err != nil {
		return "", time.Time{}, err
	}
	if len(username) > 100 || len(c.Password) > 1024 {
		return "", time.Time{}, &Error{Kind: Unauthenticated, Message: "wrong username or password"}
	}
	global, pair := s.failureKeys(ctx, username)
	var lockedUntil string
	err = s.db.QueryRow(ctx, `SELECT COALESCE(MAX(locked_until), '') FROM login_failures WHERE username IN (?, ?)`, global, pair).Scan(&lockedUntil)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, err
	}
	if t, perr := store.ParseTime(lockedUntil); perr == nil && time.Now().Before(t) {
		return "", time.Time{}, &Error{Kind: TooManyRequests, RetryAfter: time.Until(t).Round(time.Second) + time.Second,
			Message: "too many failed sign-ins; try again later"}
	}
	u, err := userByName(ctx, s.db, username)
	if err != nil {
		return "", time.Time{}, err
	}
	// Verify outside any transaction: it is slow on purpose and must not hold
	// SQLite's writer.
	ok := false
	if u == nil || u.hash == "" { // unknown, or not yet activated
		auth.BurnTime(c.Password)
	} else {
		ok, _ = auth.VerifyPassword(u.hash, c.Password)
		ok = ok && !u.Disabled
	}
	sub := subject{Type: "user", ID: username, Detail: string(kind)}
	if u != nil {
		sub.Unit, sub.Path = u.OrgUnit, u.unitPath
	}
	if !ok {
		if err := s.loginFailed(ctx, username, sub); err != nil {
			return "", time.Time{}, err
		}
		return "", time.Time{}, &Error{Kind: Unauthenticated, Message: "wrong username or password"}
	}
	return s.secondFactor(ctx, u, sub, c.TOTP, kind)
}

// openSession clears the sign-in failures and stores a new session of the
// user, returning its token and end.
func (s *Service) openSession(ctx context.Context, tx *store.Tx, u *userRow, kind SessionKind) (token string, expires time.Time, err error) {
	global, pair := s.failureKeys(ctx, u.Username)
	if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE username IN (?, ?)`, global, pair); err != nil {
		return "", time.Time{}, err
	}
	life := WebAbsolute
	if kind == APIToken {
		life = APILifetime
	}
	token, expires = auth.NewToken(), tx.Now().Add(life)
	now := store.FormatTime(tx.Now())
	r := RequestFrom(ctx)
	_, err = tx.Exec(ctx, `INSERT INTO sessions (token_hash, id, user_id, kind, created_at, last_seen_at, expires_at, user_agent, client_addr)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, auth.TokenHash(s.keys.Session, token), newID(), u.id, string(kind), now, now,
		store.FormatTime(expires), clip(r.UserAgent, 300), clip(r.ClientAddr, 100))
	return token, expires, err
}

// loginFailed counts a failed sign-in, locks the username when there have
// been too many, and records the attempt as denied, all in one transaction
// that commits although the sign-in failed.
func (s *Service) loginFailed(ctx context.Context, username string, sub subject) error {
	global, pair := s.failureKeys(ctx, username)
	return s.db.Transact(ctx, func(tx *store.Tx) error {
		if err := countFailure(ctx, tx, global, globalLockFor); err != nil {
			return err
		}
		if err := countFailure(ctx, tx, pair, lockFor); err != nil {
			return err
		}
		return audit.Append(ctx, tx, s.entry(ctx, username, "auth.login", sub, audit.Denied))
	})
}

// countFailure counts one more failure under key and locks it for as long
// as lock says.
func countFailure(ctx context.Context, tx *store.Tx, key string, lock func(int) time.Duration) error {
	var n int
	err := tx.QueryRow(ctx, `INSERT INTO login_failures (username, failures, last_at) VALUES (?, 1, ?)
		ON CONFLICT (username) DO UPDATE SET failures = login_failures.failures + 1, last_at = excluded.last_at
		RETURNING failures`, key, store.FormatTime(tx.Now())).Scan(&n)
	if err != nil {
		return err
	}
	if d := lock(n); d > 0 {
		_, err = tx.Exec(ctx, `UPDATE login_failures SET locked_until = ? WHERE username = ?`, store.FormatTime(tx.Now().Add(d)), key)
	}
	return err
}

// ResolveSession returns the actor a session or API token belongs to.
func (s *Service) ResolveSession(ctx context.Context, token string, kind SessionKind) (*Actor, error) {
	if token == "" {
		return nil, errUnauthenticated
	}
	h := auth.TokenHash(s.keys.Session, token)
	a, seen, expires, err := s.resolve(ctx, h, kind)
	if kind == APIToken {
		if err != nil {
			s.tokens.Delete(h)
		} else {
			s.tokens.Store(h, &knownToken{actor: *a, seen: seen, expires: expires})
		}
	}
	return a, err
}

// A knownToken is an API token as the database last had it (ResolveToken).
type knownToken struct {
	actor         Actor
	seen, expires time.Time
}

// ResolveToken is ResolveSession for an API token, without a round trip
// of its own when the token was resolved in the last minute: the actor is
// taken from memory and the context it is put in (WithActor) carries a
// store.Check that the token's row still says the same — same user, role,
// unit, second factor, not disabled, not expired, not ended — which goes to
// the database with the request's first statements (see store.Check for
// why that is as safe as asking first). A request whose check fails has
// written nothing and must answer nothing but a refusal: the API holds its
// response back until Verify. Issue 16, item 7: the round trip was half of
// what a community's figures cost under load.
func (s *Service) ResolveToken(ctx context.Context, token string) (*Actor, error) {
	if token == "" {
		return nil, errUnauthenticated
	}
	h := auth.TokenHash(s.keys.Session, token)
	now := time.Now()
	if v, ok := s.tokens.Load(h); ok {
		k := v.(*knownToken)
		if now.Sub(k.seen) <= touchEvery && now.Before(k.expires) {
			a := k.actor
			a.check = &store.Check{SQL: tokenCheckSQL,
				Args: []any{h, store.FormatTime(now), a.UserID, string(a.Role), a.UnitCode, a.UnitPath, a.TOTP}}
			return &a, nil
		}
	}
	return s.ResolveSession(ctx, token, APIToken)
}

// tokenCheckSQL is true while an API token's row says what ResolveToken
// remembered of it.
const tokenCheckSQL = `SELECT EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
	LEFT JOIN org_units o ON o.id = u.org_unit_id
	WHERE s.token_hash = ? AND s.kind = 'api' AND s.expires_at > ? AND u.id = ? AND u.role = ?
	AND NOT u.disabled AND COALESCE(o.code, '') = ? AND COALESCE(o.path, '') = ? AND (u.totp_secret <> '') = ?)`

// Verify makes sure that the token of ctx's actor (ResolveToken) was
// found as remembered, asking the database if no transaction of the
// request did yet; an error for which TokenChanged is true if it was not.
func (s *Service) Verify(ctx context.Context) error { return s.db.Verify(ctx) }

// TokenChanged reports whether err came from a request whose remembered
// API token no longer stands (ResolveToken): nothing was written, and the
// caller may resolve the token afresh and answer.
func TokenChanged(err error) bool { return errors.Is(err, store.ErrCheckFailed) }

// resolve reads the session with hash h and returns its actor, when it was
// last seen and when it expires.
func (s *Service) resolve(ctx context.Context, h string, kind SessionKind) (*Actor, time.Time, time.Time, error) {
	var a Actor
	var lastSeen, expires string
	var disabled bool
	err := s.db.QueryRow(ctx, `SELECT u.id, u.username, u.full_name, u.role, COALESCE(o.code, ''), COALESCE(o.name, ''),
		COALESCE(o.path, ''), u.language, u.disabled, s.last_seen_at, s.expires_at, s.id, u.totp_secret <> ''
		FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN org_units o ON o.id = u.org_unit_id
		WHERE s.token_hash = ? AND s.kind = ?`, h, string(kind)).
		Scan(&a.UserID, &a.Username, &a.FullName, &a.Role, &a.UnitCode, &a.UnitName, &a.UnitPath, &a.Language,
			&disabled, &lastSeen, &expires, &a.SessionID, &a.TOTP)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, time.Time{}, errUnauthenticated
	}
	if err != nil {
		return nil, time.Time{}, time.Time{}, err
	}
	now := time.Now()
	seen, until := store.MustTime(lastSeen), store.MustTime(expires)
	if disabled || !now.Before(until) || (kind == WebSession && now.Sub(seen) > WebIdle) {
		s.db.Transact(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, h)
			return err
		})
		return nil, time.Time{}, time.Time{}, errUnauthenticated
	}
	if now.Sub(seen) > touchEvery {
		// A short write that serving the request needs first: on SQLite
		// it goes ahead of the writes queued for the writer, as a read's
		// audit entry does, rather than behind them (a reader's request
		// waited for eight follow-ups once a minute).
		if err := s.db.TransactForRead(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`, store.FormatTime(tx.Now()), h)
			return err
		}); err != nil {
			return nil, time.Time{}, time.Time{}, err
		}
		seen = now
	}
	a.MustEnrol = !a.TOTP && s.RequiresTOTP(a.Role)
	return &a, seen, until, nil
}

// Logout ends the session or token.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.db.Transact(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, auth.TokenHash(s.keys.Session, token))
		return err
	})
}

// SweepSessions removes expired sessions and stale sign-in failure counts;
// it returns how many rows it removed.
func (s *Service) SweepSessions(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.Transact(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		r, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR (kind = 'web' AND last_seen_at < ?)`,
			store.FormatTime(now), store.FormatTime(now.Add(-WebIdle)))
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		r, err = tx.Exec(ctx, `DELETE FROM login_failures WHERE last_at < ?`, store.FormatTime(now.Add(-24*time.Hour)))
		if err != nil {
			return err
		}
		m, _ := r.RowsAffected()
		n += m
		m, err = sweepAccounts(ctx, tx)
		n += m
		return err
	})
	now := time.Now()
	s.tokens.Range(func(h, v any) bool {
		if !now.Before(v.(*knownToken).expires) {
			s.tokens.Delete(h)
		}
		return true
	})
	return n, err
}
