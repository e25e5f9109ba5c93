package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"kith/internal/care"
)

// sessionCookie holds the web session token. It has no Max-Age: it ends
// with the browser, and the server ends the session itself after idle and
// absolute timeouts.
const sessionCookie = "kith_session"

// actor returns the signed-in user, or nil. A session that has ended is
// not an error: its cookie is removed and the request goes on signed out.
func (s *server) actor(w http.ResponseWriter, r *http.Request) (*care.Actor, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	a, err := s.svc.ResolveSession(r.Context(), c.Value, care.WebSession)
	if care.ErrorKind(err) == care.Unauthenticated {
		clearSession(w, r)
		return nil, nil
	}
	return a, err
}

func setSession(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// localPath returns s if it is a path on this site (such as /admin/users?unit=S01),
// else "". It keeps redirects after sign-in and language switches from
// leading to another site: "//host", "/\host" and absolute URLs are refused.
func localPath(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\x00\r\n\t") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return s
}

type loginData struct {
	Form *form
	Next string
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request, p *page) error {
	next := localPath(r.URL.Query().Get("next"))
	if p.User != nil {
		if next == "" {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	p.Path = "/login"
	if next != "" {
		p.Path += "?next=" + url.QueryEscape(next)
	}
	if r.URL.Query().Has("signedout") {
		p.Flash = p.T("login.signedout")
	}
	return s.render(w, p, http.StatusOK, "login", loginData{Form: newForm(nil, "username", "password"), Next: next})
}

// login signs in. A wrong password and an unknown username get the same
// answer; after repeated failures the service asks to wait.
func (s *server) login(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, "username", "password")
	next := localPath(r.PostFormValue("next"))
	token, _, err := s.svc.Login(r.Context(), care.Credentials{Username: f.V("username"), Password: r.PostFormValue("password")},
		care.WebSession)
	if err == nil {
		// Signing in over another session ends that one.
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
	f.values["password"] = "" // never sent back to the browser
	var ce *care.Error
	if errors.As(err, &ce) && ce.Challenge != "" {
		return s.askCode(w, r, p, ce.Challenge, next)
	}
	p.Path = "/login"
	if next != "" {
		p.Path += "?next=" + url.QueryEscape(next)
	}
	status := http.StatusUnauthorized
	switch care.ErrorKind(err) {
	case care.Unauthenticated:
		f.Message = p.T("login.wrong")
	case care.TooManyRequests:
		status = http.StatusTooManyRequests
		f.Message = p.T("login.toomany", "Wait", p.Wait(ce.RetryAfter))
		w.Header().Set("Retry-After", retryAfter(ce.RetryAfter))
	case care.Invalid:
		status = p.formError(f, err)
	default:
		return err
	}
	return s.render(w, p, status, "login", loginData{Form: f, Next: next})
}

// logout ends the session, if there is one, and returns to the sign-in page.
func (s *server) logout(w http.ResponseWriter, r *http.Request, p *page) error {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.svc.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	clearSession(w, r)
	http.Redirect(w, r, "/login?signedout=1", http.StatusSeeOther)
	return nil
}
