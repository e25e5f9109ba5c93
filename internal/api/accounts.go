package api

import (
	"net/http"
	"strconv"
	"time"

	"kith/internal/care"
)

// accountRoutes: activation of new accounts, two-factor sign-in, one's own
// sessions, an administrator's ending of an account's sessions, and the
// announcements of new access to records.
var accountRoutes = []route{
	{Method: "POST", Pattern: "/api/v1/auth/activate", Public: true, Handle: (*handler).activate},
	{Method: "POST", Pattern: "/api/v1/account/totp", Handle: (*handler).startTOTP, Enrol: true},
	{Method: "POST", Pattern: "/api/v1/account/totp/confirm", Handle: (*handler).confirmTOTP, Enrol: true},
	{Method: "POST", Pattern: "/api/v1/account/totp/disable", Handle: (*handler).disableTOTP},
	{Method: "GET", Pattern: "/api/v1/account/sessions", Handle: (*handler).listSessions},
	{Method: "DELETE", Pattern: "/api/v1/account/sessions/{id}", Handle: (*handler).endSession},
	{Method: "POST", Pattern: "/api/v1/users/{username}/activation", Handle: (*handler).issueActivation},
	{Method: "POST", Pattern: "/api/v1/users/{username}/sessions/end", Handle: (*handler).endUserSessions},
	{Method: "GET", Pattern: "/api/v1/access-announcements", Handle: (*handler).listAnnouncements},
	{Method: "POST", Pattern: "/api/v1/access-announcements/{id}/dismiss", Handle: (*handler).dismissAnnouncement},
}

// newUserResponse is a new account with the link its owner activates it by.
type newUserResponse struct {
	*care.User
	ActivationURL       string    `json:"activation_url"`
	ActivationExpiresAt time.Time `json:"activation_expires_at"`
}

// activationURL is the link for an activation token: on the configured
// base URL, else on the host the request came to.
func (h *handler) activationURL(r *http.Request, token string) string {
	base := h.svc.BaseURL()
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return care.ActivationURL(base, token)
}

func (h *handler) activate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	username, err := h.svc.Activate(r.Context(), in.Token, in.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Username string `json:"username"`
	}{username})
	return nil
}

func (h *handler) issueActivation(w http.ResponseWriter, r *http.Request) error {
	act, err := h.svc.IssueActivation(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Username      string    `json:"username"`
		ActivationURL string    `json:"activation_url"`
		ExpiresAt     time.Time `json:"expires_at"`
	}{act.Username, h.activationURL(r, act.Token), act.ExpiresAt})
	return nil
}

func (h *handler) startTOTP(w http.ResponseWriter, r *http.Request) error {
	e, err := h.svc.StartTOTP(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// code is the body of the requests that carry a two-factor code.
type code struct {
	Code string `json:"code"`
}

func (h *handler) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	var in code
	if err := decode(r, &in); err != nil {
		return err
	}
	codes, err := h.svc.ConfirmTOTP(r.Context(), in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}{codes})
	return nil
}

func (h *handler) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	var in code
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := h.svc.DisableTOTP(r.Context(), in.Code); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) listSessions(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	list, next, err := h.svc.MySessions(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list, next))
	return nil
}

func (h *handler) endSession(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.EndSession(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) endUserSessions(w http.ResponseWriter, r *http.Request) error {
	n, err := h.svc.EndUserSessions(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Ended int64 `json:"ended"`
	}{n})
	return nil
}

func (h *handler) listAnnouncements(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	list, next, err := h.svc.AccessAnnouncements(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list, next))
	return nil
}

func (h *handler) dismissAnnouncement(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 || strconv.FormatInt(id, 10) != r.PathValue("id") {
		return &care.Error{Kind: care.NotFound, Message: "announcement not found"}
	}
	if err := h.svc.DismissAnnouncement(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
