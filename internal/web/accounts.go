package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pquerna/otp"

	"kith/internal/care"
)

// The pages of owners' own passwords, two-factor sign-in and sessions:
// the public activation page, the second sign-in step, the enrolment of an
// authenticator app, the account's sessions, an administrator's activation
// links and ending of an account's sessions, and the psychiatrists'
// announcements of new access to records.

func (s *server) accountRoutes(mux *http.ServeMux) {
	mux.Handle("GET /activate", s.handle(anyone, s.activatePage))
	mux.Handle("POST /activate", s.handle(anyone, s.activate))
	mux.Handle("POST /login/code", s.handle(anyone, s.loginCode))

	mux.Handle("GET /account/totp", s.handle(enrolling, s.totpPage))
	mux.Handle("POST /account/totp/start", s.handle(enrolling, s.totpStart))
	mux.Handle("POST /account/totp/confirm", s.handle(enrolling, s.totpConfirm))
	mux.Handle("POST /account/totp/disable", s.handle(staff, s.totpDisable))
	mux.Handle("POST /account/sessions/{id}/end", s.handle(staff, s.endSession))

	mux.Handle("POST /admin/users/{username}/activation", s.handle(admins, s.issueActivation))
	mux.Handle("POST /admin/users/{username}/sessions/end", s.handle(admins, s.endUserSessions))

	mux.Handle("POST /announcements/{id}/dismiss", s.handle(staff, s.dismissAnnouncement))
}

// enrolPath is where an account that must enrol a second factor is sent.
const enrolPath = "/account/totp"

// activationLink is the link for an activation token: on the configured
// base URL, else on the host the request came to.
func (s *server) activationLink(r *http.Request, token string) string {
	base := s.svc.BaseURL()
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return care.ActivationURL(base, token)
}

// activationData is the page that shows an activation link, once.
type activationData struct {
	User    *care.User
	Link    string
	Created bool // a new account, rather than a new link for an existing one
	Expires string
}

func (s *server) showActivation(w http.ResponseWriter, r *http.Request, p *page, u *care.User, act *care.Activation, created bool) error {
	p.Path = "/admin/users/" + url.PathEscape(u.Username)
	return s.render(w, p, http.StatusOK, "activation_link", activationData{User: u, Link: s.activationLink(r, act.Token),
		Created: created, Expires: p.Time(act.ExpiresAt)})
}

// issueActivation gives an account a new activation link (the password
// reset), which ends its sessions.
func (s *server) issueActivation(w http.ResponseWriter, r *http.Request, p *page) error {
	u, err := s.svc.User(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	act, err := s.svc.IssueActivation(r.Context(), u.Username)
	if err != nil {
		return err
	}
	return s.showActivation(w, r, p, u, act, false)
}

func (s *server) endUserSessions(w http.ResponseWriter, r *http.Request, p *page) error {
	n, err := s.svc.EndUserSessions(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(r.PathValue("username"))+"?ended="+strconv.FormatInt(n, 10), http.StatusSeeOther)
	return nil
}

type activateData struct {
	Form  *form
	Token string
}

var activateFields = []string{"password", "confirm_password"}

// activatePage is the public page where an account's owner sets the password.
func (s *server) activatePage(w http.ResponseWriter, r *http.Request, p *page) error {
	p.Path = "/activate"
	return s.render(w, p, http.StatusOK, "activate", activateData{Form: newForm(nil, activateFields...), Token: r.URL.Query().Get("token")})
}

// activate sets the password, then signs the owner in: an account whose role
// requires a second factor goes on to enrol one.
func (s *server) activate(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, activateFields...)
	token := r.PostFormValue("token")
	p.Path = "/activate"
	d := activateData{Form: f, Token: token}
	if f.V("password") != f.V("confirm_password") {
		f.fieldError(p, "confirm_password", "does not match the new password")
		f.values["password"], f.values["confirm_password"] = "", ""
		return s.render(w, p, http.StatusUnprocessableEntity, "activate", d)
	}
	username, err := s.svc.Activate(r.Context(), token, f.V("password"))
	if err != nil {
		f.values["password"], f.values["confirm_password"] = "", ""
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return s.render(w, p, status, "activate", d)
	}
	tok, _, err := s.svc.Login(r.Context(), care.Credentials{Username: username, Password: f.V("password")}, care.WebSession)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	setSession(w, r, tok)
	http.Redirect(w, r, "/?activated=1", http.StatusSeeOther)
	return nil
}

// challengeCookie carries the web's second sign-in step: the password was
// right, the code is awaited.
const challengeCookie = "kith_challenge"

type codeData struct {
	Form *form
	Next string
}

// askCode shows the second sign-in step.
func (s *server) askCode(w http.ResponseWriter, r *http.Request, p *page, challenge, next string) error {
	http.SetCookie(w, &http.Cookie{Name: challengeCookie, Value: challenge, Path: "/login", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 300})
	p.Path = "/login"
	return s.render(w, p, http.StatusOK, "login_code", codeData{Form: newForm(nil, "code"), Next: next})
}

// loginCode finishes a sign-in with the code of the authenticator app or a
// recovery code.
func (s *server) loginCode(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, "code")
	next := localPath(r.PostFormValue("next"))
	var challenge string
	if c, err := r.Cookie(challengeCookie); err == nil {
		challenge = c.Value
	}
	p.Path = "/login"
	token, _, err := s.svc.LoginCode(r.Context(), challenge, f.V("code"))
	if err == nil {
		http.SetCookie(w, &http.Cookie{Name: challengeCookie, Path: "/login", HttpOnly: true, Secure: r.TLS != nil, MaxAge: -1})
		if c, cerr := r.Cookie(sessionCookie); cerr == nil && c.Value != "" {
			if err := s.svc.Logout(r.Context(), c.Value); err != nil {
				return err
			}
		}
		setSession(w, r, token)
		if next == "" {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	f.values["code"] = ""
	var ce *care.Error
	errors.As(err, &ce)
	status := http.StatusUnauthorized
	switch {
	case ce != nil && ce.TOTPRequired:
		f.errors["code"] = p.T("login.code.wrong")
		f.Message = p.T("login.code.wrong")
	case care.ErrorKind(err) == care.Unauthenticated:
		// The challenge has expired: start again.
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	case care.ErrorKind(err) == care.TooManyRequests:
		status = http.StatusTooManyRequests
		f.Message = p.T("login.toomany", "Wait", p.Wait(ce.RetryAfter))
		w.Header().Set("Retry-After", retryAfter(ce.RetryAfter))
	default:
		if status = p.formError(f, err); status == 0 {
			return err
		}
	}
	return s.render(w, p, status, "login_code", codeData{Form: f, Next: next})
}

// totpData is the enrolment page at its three stages: the introduction
// (Enrolment nil), the secret with its QR code and the code form, and the
// recovery codes once enrolled.
type totpData struct {
	Required      bool
	Enrolment     *care.Enrolment
	QR            template.URL // a PNG data: URL of the otpauth URL, or ""
	Form          *form
	RecoveryCodes []string
}

func (s *server) totpPage(w http.ResponseWriter, r *http.Request, p *page) error {
	if p.User.TOTP {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return nil
	}
	return s.render(w, p, http.StatusOK, "totp", totpData{Required: p.User.MustEnrol})
}

func (s *server) totpStart(w http.ResponseWriter, r *http.Request, p *page) error {
	e, err := s.svc.StartTOTP(r.Context())
	if err != nil {
		return err
	}
	p.Path = enrolPath
	return s.render(w, p, http.StatusOK, "totp", totpData{Required: p.User.MustEnrol, Enrolment: e, QR: qrCode(e.OtpauthURL),
		Form: newForm(nil, "code", "secret", "otpauth_url")})
}

func (s *server) totpConfirm(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, "code", "secret", "otpauth_url")
	p.Path = enrolPath
	codes, err := s.svc.ConfirmTOTP(r.Context(), f.V("code"))
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		// Show the same secret again: the one the service still holds.
		e := &care.Enrolment{Secret: f.V("secret"), OtpauthURL: f.V("otpauth_url")}
		f.values["code"] = ""
		return s.render(w, p, status, "totp", totpData{Required: p.User.MustEnrol, Enrolment: e, QR: qrCode(e.OtpauthURL), Form: f})
	}
	p.User.TOTP, p.User.MustEnrol = true, false
	return s.render(w, p, http.StatusOK, "totp", totpData{RecoveryCodes: codes})
}

// otpauthURL lets an otpauth:// link (which opens an authenticator app)
// through html/template, which refuses unknown schemes; anything else is
// refused still.
func otpauthURL(u string) template.URL {
	if strings.HasPrefix(u, "otpauth://totp/") {
		return template.URL(u)
	}
	return "#"
}

// qrCode draws an otpauth URL as a QR code, a PNG data: URL (the CSP allows
// data: images), or "" if it cannot.
func qrCode(otpauth string) template.URL {
	key, err := otp.NewKeyFromURL(otpauth)
	if err != nil {
		return ""
	}
	img, err := key.Image(200, 200)
	if err != nil {
		return ""
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
}

func (s *server) totpDisable(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, "code")
	if err := s.svc.DisableTOTP(r.Context(), f.V("code")); err != nil {
		f.values["code"] = ""
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		p.Path = "/account"
		d, derr := s.accountData(r, p)
		if derr != nil {
			return derr
		}
		d.TOTPForm = f
		return s.render(w, p, status, "account", d)
	}
	http.Redirect(w, r, "/account?saved=totp", http.StatusSeeOther)
	return nil
}

func (s *server) endSession(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.svc.EndSession(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	if r.PathValue("id") == p.User.SessionID {
		clearSession(w, r)
		http.Redirect(w, r, "/login?signedout=1", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/account?saved=session", http.StatusSeeOther)
	return nil
}

// homeAnnouncements reads the announcements of new access to records that
// a psychiatrist's home page shows; nil for everyone else.
func (s *server) homeAnnouncements(r *http.Request, p *page) ([]care.AccessAnnouncement, error) {
	if !care.Allow(p.User, care.ReadAnnouncements, ownUnit(p.User)) {
		return nil, nil
	}
	list, _, err := s.svc.AccessAnnouncements(r.Context(), care.Page{Limit: 20})
	return list, err
}

func (s *server) dismissAnnouncement(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return errPageNotFound
	}
	if err := s.svc.DismissAnnouncement(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/?dismissed=1", http.StatusSeeOther)
	return nil
}

// Device names a session's device in the page's language: care.Device's
// "BROWSER on SYSTEM", with "on" translated.
func (p *page) Device(d string) string {
	if d == "unknown" {
		return p.T("session.device.unknown")
	}
	if b, sys, ok := strings.Cut(d, " on "); ok {
		return p.T("session.device.on", "Browser", b, "System", sys)
	}
	return d
}
