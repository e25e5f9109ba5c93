package api

import (
	"net/http"

	"kith/internal/care"
)

// teamRoutes are the care team's endpoints (issue 11).
var teamRoutes = []route{
	{Method: "GET", Pattern: "/api/v1/patients/{id}/team", Handle: (*handler).team},
	{Method: "POST", Pattern: "/api/v1/patients/{id}/team", Handle: withID(http.StatusCreated, (*care.Service).AddTeamMember)},
	{Method: "DELETE", Pattern: "/api/v1/patients/{id}/team/{username}", Handle: (*handler).removeTeamMember},
	{Method: "POST", Pattern: "/api/v1/patients/{id}/team-contacts", Handle: withID(http.StatusCreated, (*care.Service).AddTeamContact)},
	{Method: "DELETE", Pattern: "/api/v1/patients/{id}/team-contacts/{cid}", Handle: (*handler).removeTeamContact},
	{Method: "GET", Pattern: "/api/v1/me/patients", Handle: (*handler).myPatients},
}

func init() { routes = append(routes, teamRoutes...) }

func (h *handler) team(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := h.svc.Team(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (h *handler) removeTeamMember(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.RemoveTeamMember(r.Context(), id, r.PathValue("username")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) removeTeamContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		return err
	}
	if err := h.svc.RemoveTeamContact(r.Context(), id, cid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// myPatients lists the patients on whose care team the caller is.
func (h *handler) myPatients(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.MyPatients(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

// planRoutes are the rehabilitation plans' endpoints (issue 11).
var planRoutes = []route{
	{Method: "POST", Pattern: "/api/v1/patients/{id}/plans", Handle: withID(http.StatusCreated, (*care.Service).CreatePlan)},
	{Method: "GET", Pattern: "/api/v1/patients/{id}/plans", Handle: (*handler).plans},
	{Method: "GET", Pattern: "/api/v1/plans/{id}", Handle: (*handler).plan},
	{Method: "PUT", Pattern: "/api/v1/plans/{id}", Handle: withID(http.StatusCreated, (*care.Service).AdjustPlan)},
	{Method: "POST", Pattern: "/api/v1/plans/{id}/reviews", Handle: withID(http.StatusCreated, (*care.Service).ReviewPlan)},
	{Method: "GET", Pattern: "/api/v1/me/interventions", Handle: (*handler).myInterventions},
}

func init() { routes = append(routes, planRoutes...) }

func (h *handler) plans(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	items, err := h.svc.Plans(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, ""))
	return nil
}

func (h *handler) plan(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := h.svc.Plan(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// myInterventions lists the interventions of active plans assigned to the caller.
func (h *handler) myInterventions(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.MyInterventions(r.Context(), pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

// conferenceRoutes are the case conferences' endpoints (issue 11).
var conferenceRoutes = []route{
	{Method: "POST", Pattern: "/api/v1/case-conferences", Handle: (*handler).recordConference},
	{Method: "GET", Pattern: "/api/v1/patients/{id}/case-conferences", Handle: (*handler).patientConferences},
	{Method: "GET", Pattern: "/api/v1/me/decisions", Handle: (*handler).myDecisions},
	{Method: "POST", Pattern: "/api/v1/decisions/{id}/done", Handle: (*handler).completeDecision},
}

func init() { routes = append(routes, conferenceRoutes...) }

func (h *handler) recordConference(w http.ResponseWriter, r *http.Request) error {
	var in care.ConferenceInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := h.svc.RecordConference(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (h *handler) patientConferences(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	items, err := h.svc.PatientConferences(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, ""))
	return nil
}

// myDecisions lists the open decisions the caller owns.
func (h *handler) myDecisions(w http.ResponseWriter, r *http.Request) error {
	items, err := h.svc.MyDecisions(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, ""))
	return nil
}

func (h *handler) completeDecision(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.CompleteDecision(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
