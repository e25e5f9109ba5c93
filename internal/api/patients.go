package api

import (
	"context"
	"net/http"
	"strconv"

	"kith/internal/care"
)

// patientRoutes are the registry and follow-up endpoints.
var patientRoutes = []route{
	{Method: "POST", Pattern: "/api/v1/patients", Handle: (*handler).createPatient},
	{Method: "GET", Pattern: "/api/v1/patients", Handle: (*handler).listPatients},
	{Method: "GET", Pattern: "/api/v1/patients/{id}", Handle: (*handler).getPatient},
	{Method: "PATCH", Pattern: "/api/v1/patients/{id}", Handle: withID(http.StatusOK, (*care.Service).UpdatePatient)},
	{Method: "POST", Pattern: "/api/v1/patients/{id}/transfer", Handle: withID(http.StatusOK, (*care.Service).TransferPatient)},
	{Method: "POST", Pattern: "/api/v1/patients/{id}/follow-ups", Handle: withID(http.StatusCreated, (*care.Service).RecordFollowUp)},
	{Method: "GET", Pattern: "/api/v1/patients/{id}/follow-ups", Handle: (*handler).listFollowUps},
	{Method: "PUT", Pattern: "/api/v1/patients/{id}/follow-ups/{fid}", Handle: (*handler).correctFollowUp},
	{Method: "POST", Pattern: "/api/v1/patients/{id}/emergencies", Handle: withID(http.StatusCreated, (*care.Service).RecordEmergency)},
	{Method: "POST", Pattern: "/api/v1/patients/{id}/emergencies/{eid}/complete", Handle: (*handler).completeEmergency},
	{Method: "GET", Pattern: "/api/v1/patients/{id}/timeline", Handle: (*handler).timeline},
	{Method: "POST", Pattern: "/api/v1/patients/{id}/national-id/reveal", Handle: (*handler).revealNationalID},
	{Method: "GET", Pattern: "/api/v1/worklist", Handle: (*handler).worklist},
	{Method: "GET", Pattern: "/api/v1/worklist/counts", Handle: (*handler).worklistCounts},
}

func init() { routes = append(routes, patientRoutes...) }

// pathID reads a numeric path parameter; a malformed one is a missing record.
func pathID(r *http.Request, name string) (int64, error) {
	id, ok := care.ParseID(r.PathValue(name))
	if !ok {
		return 0, &care.Error{Kind: care.NotFound, Message: "not found"}
	}
	return id, nil
}

// withID handles a route that sends a JSON body to the record named by the
// path's {id}: decode the body, call the service, answer with status and
// what it returns.
func withID[In, Out any](status int, call func(*care.Service, context.Context, int64, In) (Out, error)) func(*handler, http.ResponseWriter, *http.Request) error {
	return func(h *handler, w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var in In
		if err := decode(r, &in); err != nil {
			return err
		}
		out, err := call(h.svc, r.Context(), id, in)
		if err != nil {
			return err
		}
		writeJSON(w, status, out)
		return nil
	}
}

func (h *handler) createPatient(w http.ResponseWriter, r *http.Request) error {
	var in care.PatientInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := h.svc.RegisterPatient(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/patients/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (h *handler) listPatients(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	ctx, fresh := care.WithFreshnessNote(r.Context())
	items, next, err := h.svc.Patients(ctx, care.PatientQuery{Q: q.Get("q"), OrgUnit: q.Get("org_unit"),
		Diagnosis: q.Get("diagnosis"), Status: q.Get("status")}, p)
	if err != nil {
		return err
	}
	// A search may come from a standby: say how fresh it is.
	writeJSON(w, http.StatusOK, struct {
		list[care.Patient]
		care.Freshness
	}{newList(items, next), *fresh})
	return nil
}

func (h *handler) getPatient(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := h.svc.Patient(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// revealNationalID answers a patient's national ID in full: everywhere else
// it is masked, and this read is audited as its own entry.
func (h *handler) revealNationalID(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	nid, err := h.svc.RevealNationalID(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"national_id": nid})
	return nil
}

func (h *handler) correctFollowUp(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	fid, err := pathID(r, "fid")
	if err != nil {
		return err
	}
	var in care.FollowUpInput
	if err := decode(r, &in); err != nil {
		return err
	}
	fu, err := h.svc.CorrectFollowUp(r.Context(), id, fid, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fu)
	return nil
}

func (h *handler) listFollowUps(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.FollowUps(r.Context(), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (h *handler) completeEmergency(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	eid, err := pathID(r, "eid")
	if err != nil {
		return err
	}
	if err := h.svc.CompleteEmergency(r.Context(), id, eid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) timeline(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	items, err := h.svc.Timeline(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, ""))
	return nil
}

func (h *handler) worklist(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, next, err := h.svc.Worklist(r.Context(), care.WorklistQuery{Kind: q.Get("kind"), OrgUnit: q.Get("org_unit"), AsOf: q.Get("as_of")}, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (h *handler) worklistCounts(w http.ResponseWriter, r *http.Request) error {
	c, err := h.svc.WorklistCounts(r.Context(), r.URL.Query().Get("org_unit"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
