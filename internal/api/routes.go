package api

import (
	"net/http"
	"time"

	"kith/internal/care"
)

var routes = []route{
	{Method: "GET", Pattern: "/api/v1/openapi.json", Public: true, Handle: (*handler).openapi},
	{Method: "POST", Pattern: "/api/v1/auth/token", Public: true, Handle: (*handler).createToken},
	{Method: "DELETE", Pattern: "/api/v1/auth/token", Handle: (*handler).deleteToken, Enrol: true},
	{Method: "GET", Pattern: "/api/v1/me", Handle: (*handler).me, Enrol: true},
	{Method: "POST", Pattern: "/api/v1/me/password", Handle: (*handler).changePassword},
	{Method: "POST", Pattern: "/api/v1/org-units", Handle: (*handler).createUnit},
	{Method: "GET", Pattern: "/api/v1/org-units", Handle: (*handler).listUnits},
	{Method: "GET", Pattern: "/api/v1/org-units/{code}", Handle: (*handler).getUnit},
	{Method: "GET", Pattern: "/api/v1/colleagues", Handle: (*handler).listColleagues},
	{Method: "PATCH", Pattern: "/api/v1/org-units/{code}", Handle: (*handler).updateUnit},
	{Method: "POST", Pattern: "/api/v1/users", Handle: (*handler).createUser},
	{Method: "GET", Pattern: "/api/v1/users", Handle: (*handler).listUsers},
	{Method: "GET", Pattern: "/api/v1/users/{username}", Handle: (*handler).getUser},
	{Method: "PATCH", Pattern: "/api/v1/users/{username}", Handle: (*handler).updateUser},
	{Method: "GET", Pattern: "/api/v1/audit", Handle: (*handler).listAudit},
}

func init() { routes = append(routes, accountRoutes...) }

func (h *handler) createToken(w http.ResponseWriter, r *http.Request) error {
	var in care.Credentials
	if err := decode(r, &in); err != nil {
		return err
	}
	tok, exp, err := h.svc.Login(r.Context(), in, care.APIToken)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}{tok, exp})
	return nil
}

func (h *handler) deleteToken(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Logout(r.Context(), bearer(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// meResponse describes the caller.
type meResponse struct {
	Username string `json:"username"`
	FullName string `json:"full_name"`
	Role     string `json:"role"`
	OrgUnit  string `json:"org_unit,omitempty"`
	Language string `json:"language"`
}

func (h *handler) me(w http.ResponseWriter, r *http.Request) error {
	a := care.ActorFrom(r.Context())
	writeJSON(w, http.StatusOK, meResponse{a.Username, a.FullName, string(a.Role), a.UnitCode, a.Language})
	return nil
}

func (h *handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CurrentPassword string `json:"current_password"`
		NewPassword     string `json:"new_password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := h.svc.ChangePassword(r.Context(), in.CurrentPassword, in.NewPassword, bearer(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) createUnit(w http.ResponseWriter, r *http.Request) error {
	var in care.UnitInput
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := h.svc.CreateUnit(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/org-units/"+u.Code)
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (h *handler) listUnits(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	units, next, err := h.svc.Units(r.Context(), r.URL.Query().Get("under"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(units, next))
	return nil
}

// listColleagues lists the active staff of the caller's district, with
// their usernames, for a client that names staff by name (a team's new
// member, an event's staff) as the web forms do.
func (h *handler) listColleagues(w http.ResponseWriter, r *http.Request) error {
	list, err := h.svc.Colleagues(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list, ""))
	return nil
}

func (h *handler) getUnit(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.Unit(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (h *handler) updateUnit(w http.ResponseWriter, r *http.Request) error {
	var in care.UnitPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := h.svc.UpdateUnit(r.Context(), r.PathValue("code"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (h *handler) createUser(w http.ResponseWriter, r *http.Request) error {
	var in care.UserInput
	if err := decode(r, &in); err != nil {
		return err
	}
	u, act, err := h.svc.CreateUser(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+u.Username)
	writeJSON(w, http.StatusCreated, newUserResponse{User: u, ActivationURL: h.activationURL(r, act.Token),
		ActivationExpiresAt: act.ExpiresAt})
	return nil
}

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	users, next, err := h.svc.Users(r.Context(), r.URL.Query().Get("org_unit"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(users, next))
	return nil
}

func (h *handler) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.User(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (h *handler) updateUser(w http.ResponseWriter, r *http.Request) error {
	var in care.UserPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := h.svc.UpdateUser(r.Context(), r.PathValue("username"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (h *handler) listAudit(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	entries, next, err := h.svc.AuditLog(r.Context(), care.AuditQuery{SubjectID: q.Get("subject_id"), Actor: q.Get("actor"),
		From: q.Get("from"), To: q.Get("to")}, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(entries, next))
	return nil
}
