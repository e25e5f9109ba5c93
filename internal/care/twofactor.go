package care

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"kith/internal/auth"
	"kith/internal/store"
)

// Two-factor sign-in: TOTP (RFC 6238, through github.com/pquerna/otp) with
// single-use recovery codes. The secret is stored sealed with a key derived
// from the master key; recovery codes as keyed hashes.

// DefaultTOTPRoles are the roles that must sign in with a second factor
// unless configured otherwise (KITH_TOTP_ROLES).
var DefaultTOTPRoles = []auth.Role{auth.Admin, auth.DistrictAdmin}

// totpOpts are the code's parameters: those every authenticator app uses.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// RecoveryCodes is how many recovery codes an enrolment gives.
const RecoveryCodes = 10

// challengeLife is how long the web's second sign-in step waits for a code.
const challengeLife = 5 * time.Minute

// SetTOTPRoles sets the roles that must sign in with a second factor.
func (s *Service) SetTOTPRoles(roles []auth.Role) {
	s.totpRoles = make(map[auth.Role]bool, len(roles))
	for _, r := range roles {
		s.totpRoles[r] = true
	}
}

// RequiresTOTP reports whether accounts of role r must have a second factor.
func (s *Service) RequiresTOTP(r auth.Role) bool { return s.totpRoles[r] }

// ParseRoles reads a comma-separated list of roles, such as the value of
// KITH_TOTP_ROLES; "none" or "" is no role.
func ParseRoles(list string) ([]auth.Role, error) {
	var out []auth.Role
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" || f == "none" {
			continue
		}
		if !auth.Role(f).Valid() {
			return nil, errors.New("unknown role " + f)
		}
		out = append(out, auth.Role(f))
	}
	return out, nil
}

var errTOTPRequired = &Error{Kind: Unauthenticated, Message: "a code from your authenticator app is required", TOTPRequired: true}

// secondFactor finishes a sign-in whose password was right: an account
// without a second factor gets its session at once; one with a second
// factor needs code (a TOTP code or a recovery code). Without a code, a web
// sign-in gets a challenge for LoginCode to finish.
func (s *Service) secondFactor(ctx context.Context, u *userRow, sub subject, code string, kind SessionKind) (string, time.Time, error) {
	if u.totpSecret != "" && strings.TrimSpace(code) == "" {
		if kind != WebSession {
			return "", time.Time{}, errTOTPRequired
		}
		challenge := auth.NewToken()
		err := s.db.Transact(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO login_challenges (token_hash, user_id, kind, expires_at) VALUES (?, ?, ?, ?)`,
				auth.TokenHash(s.keys.Session, challenge), u.id, string(kind), store.FormatTime(tx.Now().Add(challengeLife)))
			return err
		})
		if err != nil {
			return "", time.Time{}, err
		}
		e := *errTOTPRequired
		e.Challenge = challenge
		return "", time.Time{}, &e
	}
	var use func(tx *store.Tx) error
	if u.totpSecret != "" {
		var ok bool
		if use, ok = s.matchFactor(ctx, u, code); !ok {
			if err := s.loginFailed(ctx, u.Username, sub); err != nil {
				return "", time.Time{}, err
			}
			e := *errTOTPRequired
			e.Message = "wrong code"
			return "", time.Time{}, &e
		}
	}
	var token string
	var expires time.Time
	err := s.record(ctx, u.Username, "auth.login", func(tx *store.Tx, rec *subject) error {
		*rec = sub
		if use != nil {
			if err := use(tx); err != nil {
				return err
			}
		}
		var err error
		token, expires, err = s.openSession(ctx, tx, u, kind)
		return err
	})
	return token, expires, err
}

// LoginCode is the web's second sign-in step: the challenge given when the
// password was right, and the code.
func (s *Service) LoginCode(ctx context.Context, challenge, code string) (string, time.Time, error) {
	if challenge == "" {
		return "", time.Time{}, errUnauthenticated
	}
	h := auth.TokenHash(s.keys.Session, challenge)
	var username, kind, expires string
	err := s.db.QueryRow(ctx, `SELECT u.username, c.kind, c.expires_at FROM login_challenges c JOIN users u ON u.id = c.user_id
		WHERE c.token_hash = ?`, h).Scan(&username, &kind, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !time.Now().Before(store.MustTime(expires))) {
		return "", time.Time{}, &Error{Kind: Unauthenticated, Message: "the sign-in has expired; please sign in again"}
	}
	if err != nil {
		return "", time.Time{}, err
	}
	if strings.TrimSpace(code) == "" {
		return "", time.Time{}, invalid("code", "is required")
	}
	if err := s.lockedOut(ctx, username); err != nil {
		return "", time.Time{}, err
	}
	u, err := userByName(ctx, s.db, username)
	if err != nil {
		return "", time.Time{}, err
	}
	if u == nil || u.Disabled || u.totpSecret == "" {
		return "", time.Time{}, errUnauthenticated
	}
	sub := subject{Type: "user", ID: username, Detail: kind, Unit: u.OrgUnit, Path: u.unitPath}
	token, exp, err := s.secondFactor(ctx, u, sub, code, SessionKind(kind))
	if err == nil {
		s.db.Transact(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM login_challenges WHERE token_hash = ?`, h)
			return err
		})
	}
	return token, exp, err
}

// lockedOut refuses a sign-in step for a username locked after failures.
func (s *Service) lockedOut(ctx context.Context, username string) error {
	global, pair := s.failureKeys(ctx, username)
	var lockedUntil string
	err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(locked_until), '') FROM login_failures WHERE username IN (?, ?)`, global, pair).Scan(&lockedUntil)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if t, perr := store.ParseTime(lockedUntil); perr == nil && time.Now().Before(t) {
		return &Error{Kind: TooManyRequests, RetryAfter: time.Until(t).Round(time.Second) + time.Second,
			Message: "too many failed sign-ins; try again later"}
	}
	return nil
}

// matchFactor checks a code against the account's TOTP secret (the time
// step before, now and after, for clocks a little apart) or its recovery
// codes. It returns the write that uses the code up, to run in the sign-in's
// transaction: it fails when the code was used meanwhile, so a code is never
// accepted twice, even by two servers at once.
func (s *Service) matchFactor(ctx context.Context, u *userRow, code string) (func(tx *store.Tx) error, bool) {
	code = strings.TrimSpace(code)
	if isDigits(code) {
		secret, err := s.openSecret(u.totpSecret)
		if err != nil {
			return nil, false
		}
		step, ok := matchStep(secret, code, time.Now())
		if !ok || step <= u.totpLastStep {
			return nil, false
		}
		return func(tx *store.Tx) error { return useStep(ctx, tx, u.id, step) }, true
	}
	h := s.recoveryHash(code)
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND code_hash = ?`, u.id, h).Scan(&n); err != nil || n == 0 {
		return nil, false
	}
	return func(tx *store.Tx) error {
		r, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?`, u.id, h)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return errCodeUsed
		}
		return nil
	}, true
}

var errCodeUsed = &Error{Kind: Unauthenticated, Message: "this code has already been used", TOTPRequired: true}

// useStep records the time step of an accepted code, failing when that
// step (or a later one) was already used.
func useStep(ctx context.Context, tx *store.Tx, userID, step int64) error {
	r, err := tx.Exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, userID, step)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return errCodeUsed
	}
	return nil
}

// matchStep returns the time step whose code is code, among the steps
// around now that the options' skew allows.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	period := int64(totpOpts.Period)
	for d := -int64(totpOpts.Skew); d <= int64(totpOpts.Skew); d++ {
		t := now.Add(time.Duration(d*period) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / period, true
		}
	}
	return 0, false
}

func isDigits(s string) bool {
	if len(s) != int(totpOpts.Digits) {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Enrolment is a new TOTP secret for the authenticator app, as text and as
// an otpauth:// URL (which a QR code carries).
type Enrolment struct {
	Secret     string `json:"secret"`
	OtpauthURL string `json:"otpauth_url"`
}

// StartTOTP offers the actor a new TOTP secret; it takes effect when
// ConfirmTOTP receives a code made from it.
func (s *Service) StartTOTP(ctx context.Context) (*Enrolment, error) {
	var out *Enrolment
	err := s.act(ctx, "account.totp.start", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "user", a.Username, a.UnitCode, a.UnitPath
		if a.TOTP {
			return errConflict("two-factor sign-in is already on; turn it off first to enrol a new device")
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "Kith", AccountName: a.Username})
		if err != nil {
			return err
		}
		sealed, err := s.sealSecret(key.Secret())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_pending = ? WHERE id = ?`, sealed, a.UserID); err != nil {
			return err
		}
		out = &Enrolment{Secret: key.Secret(), OtpauthURL: key.URL()}
		return nil
	})
	return out, err
}

// ConfirmTOTP turns two-factor sign-in on with the secret StartTOTP
// offered, once code shows the app has it, and returns the recovery codes:
// shown this once, stored only hashed.
func (s *Service) ConfirmTOTP(ctx context.Context, code string) ([]string, error) {
	var codes []string
	err := s.act(ctx, "account.totp.enrol", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "user", a.Username, a.UnitCode, a.UnitPath
		var pending string
		if err := tx.QueryRow(ctx, `SELECT totp_pending FROM users WHERE id = ?`, a.UserID).Scan(&pending); err != nil {
			return err
		}
		if pending == "" {
			return errConflict("start the enrolment first")
		}
		secret, err := s.openSecret(pending)
		if err != nil {
			return err
		}
		code = strings.TrimSpace(code)
		step, ok := matchStep(secret, code, time.Now())
		if !isDigits(code) || !ok {
			return invalid("code", "is not the code your app shows now")
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = '', totp_last_step = ?, updated_at = ?
			WHERE id = ?`, step, store.FormatTime(tx.Now()), a.UserID); err != nil {
			return err
		}
		codes, err = s.newRecoveryCodes(ctx, tx, a.UserID)
		return err
	})
	return codes, err
}

// DisableTOTP turns the actor's two-factor sign-in off, given a current
// code; a role that requires it cannot.
func (s *Service) DisableTOTP(ctx context.Context, code string) error {
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
	return s.act(ctx, "account.totp.disable", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "user", a.Username, a.UnitCode, a.UnitPath
		if u.totpSecret == "" {
			return errConflict("two-factor sign-in is not on")
		}
		if s.RequiresTOTP(a.Role) {
			return errConflict("your role requires two-factor sign-in")
		}
		use, ok := s.matchFactor(ctx, u, code)
		if !ok {
			return invalid("code", "is not the code your app shows now")
		}
		if err := use(tx); err != nil {
			return err
		}
		return clearTOTP(ctx, tx, u.id)
	})
}

// clearTOTP removes an account's second factor and recovery codes.
func clearTOTP(ctx context.Context, tx *store.Tx, userID int64) error {
	if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = '', totp_pending = '', totp_last_step = 0 WHERE id = ?`, userID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID)
	return err
}

// RecoveryCodesLeft counts the actor's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context) (int, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return 0, errUnauthenticated
	}
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ?`, a.UserID).Scan(&n)
	return n, err
}

// recoveryEncoding avoids characters read alike (0/o, 1/l).
var recoveryEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// newRecoveryCodes replaces the account's recovery codes with new ones.
func (s *Service) newRecoveryCodes(ctx context.Context, tx *store.Tx, userID int64) ([]string, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return nil, err
	}
	codes := make([]string, RecoveryCodes)
	for i := range codes {
		b := make([]byte, 7)
		rand.Read(b)
		c := recoveryEncoding.EncodeToString(b)[:10]
		codes[i] = c[:5] + "-" + c[5:]
		if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, s.recoveryHash(codes[i])); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// recoveryHash is the keyed hash of a recovery code as typed: case, spaces
// and dashes do not matter.
func (s *Service) recoveryHash(code string) string {
	code = strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(code))
	return auth.TokenHash(s.keys.Session, "recovery:"+code)
}

// sealSecret and openSecret encrypt a TOTP secret with AES-256-GCM under
// the TOTP key, as national IDs are under theirs.
func (s *Service) sealSecret(secret string) (string, error) {
	gcm, err := newGCM(s.keys.TOTP)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(secret), []byte("totp"))), nil
}

func (s *Service) openSecret(sealed string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", err
	}
	gcm, err := newGCM(s.keys.TOTP)
	if err != nil {
		return "", err
	}
	if len(raw) < gcm.NonceSize() {
		return "", errors.New("care: sealed secret too short")
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte("totp"))
	return string(plain), err
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
