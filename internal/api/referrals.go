package api

import (
	"net/http"
	"strconv"

	"kith/internal/care"
)

// referralRoutes are the referrals between community and hospital.
var referralRoutes = []route{
	{Method: "POST", Pattern: "/api/v1/referrals", Handle: (*handler).createReferral},
	{Method: "GET", Pattern: "/api/v1/referrals", Handle: (*handler).listReferrals},
	{Method: "GET", Pattern: "/api/v1/referrals/{id}", Handle: (*handler).getReferral},
	{Method: "PATCH", Pattern: "/api/v1/referrals/{id}", Handle: withID(http.StatusOK, (*care.Service).UpdateReferral)},
	{Method: "GET", Pattern: "/api/v1/figures/referrals", Handle: (*handler).referralFigures},
	{Method: "POST", Pattern: "/api/v1/crisis-events", Handle: (*handler).logCrisis},
	{Method: "GET", Pattern: "/api/v1/crisis-events", Handle: (*handler).listCrisis},
	{Method: "GET", Pattern: "/api/v1/crisis-events/{id}", Handle: (*handler).getCrisis},
}

func init() { routes = append(routes, referralRoutes...) }

func (h *handler) createReferral(w http.ResponseWriter, r *http.Request) error {
	var in care.ReferralInput
	if err := decode(r, &in); err != nil {
		return err
	}
	ref, err := h.svc.CreateReferral(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/referrals/"+strconv.FormatInt(ref.ID, 10))
	writeJSON(w, http.StatusCreated, ref)
	return nil
}

func (h *handler) listReferrals(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	in := care.ReferralQuery{OrgUnit: q.Get("org_unit"), Status: q.Get("status"), Direction: q.Get("direction"),
		Box: q.Get("box"), PastTarget: q.Get("past_target") == "true", From: q.Get("from"), To: q.Get("to")}
	if v := q.Get("patient_id"); v != "" {
		id, ok := care.ParseID(v)
		if !ok {
			return &care.Error{Kind: care.Invalid, Message: "please correct the fields shown",
				Fields: []care.FieldError{{Field: "patient_id", Message: "must be a patient id"}}}
		}
		in.PatientID = id
	}
	items, next, err := h.svc.Referrals(r.Context(), in, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (h *handler) getReferral(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ref, err := h.svc.Referral(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ref)
	return nil
}

func (h *handler) logCrisis(w http.ResponseWriter, r *http.Request) error {
	var in care.CrisisInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := h.svc.LogCrisis(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/crisis-events/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (h *handler) listCrisis(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, next, err := h.svc.CrisisEvents(r.Context(), care.CrisisQuery{OrgUnit: q.Get("org_unit"), From: q.Get("from"), To: q.Get("to")}, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (h *handler) getCrisis(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.svc.Crisis(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// referralFigures answers the referral response time and crisis figures of
// an org unit and period (as GET /api/v1/figures reads them).
func (h *handler) referralFigures(w http.ResponseWriter, r *http.Request) error {
	p, err := period(r, h.svc.Zone())
	if err != nil {
		return err
	}
	ctx, fresh := care.WithFreshnessNote(r.Context())
	f, err := h.svc.ReferralFigures(ctx, r.URL.Query().Get("org_unit"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		*care.ReferralFigures
		care.Freshness
	}{f, *fresh})
	return nil
}
