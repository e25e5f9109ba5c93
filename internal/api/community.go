package api

import (
	"net/http"
	"strconv"

	"kith/internal/care"
)

// communityRoutes are the endpoints of families, events, training and the
// guardian subsidy.
var communityRoutes = []route{
	{Method: "GET", Pattern: "/api/v1/patients/{id}/family", Handle: (*handler).listFamily},
	{Method: "POST", Pattern: "/api/v1/patients/{id}/family", Handle: (*handler).addFamily},
	{Method: "PUT", Pattern: "/api/v1/patients/{id}/family/{fid}", Handle: (*handler).updateFamily},
	{Method: "DELETE", Pattern: "/api/v1/patients/{id}/family/{fid}", Handle: (*handler).deleteFamily},
	{Method: "POST", Pattern: "/api/v1/events", Handle: (*handler).createEvent},
	{Method: "GET", Pattern: "/api/v1/events", Handle: (*handler).listEvents},
	{Method: "GET", Pattern: "/api/v1/events/{id}", Handle: (*handler).getEvent},
	{Method: "PATCH", Pattern: "/api/v1/events/{id}", Handle: withID(http.StatusOK, (*care.Service).UpdateEvent)},
	{Method: "POST", Pattern: "/api/v1/events/{id}/cancel", Handle: withID(http.StatusOK, (*care.Service).CancelEvent)},
	{Method: "POST", Pattern: "/api/v1/events/{id}/attendance", Handle: withID(http.StatusCreated, (*care.Service).AddAttendance)},
	{Method: "PATCH", Pattern: "/api/v1/events/{id}/attendance/{aid}", Handle: (*handler).tickAttendance},
	{Method: "POST", Pattern: "/api/v1/courses", Handle: (*handler).createCourse},
	{Method: "GET", Pattern: "/api/v1/courses", Handle: (*handler).listCourses},
	{Method: "GET", Pattern: "/api/v1/users/{username}/training", Handle: (*handler).userTraining},
	{Method: "GET", Pattern: "/api/v1/training", Handle: (*handler).staffTraining},
	{Method: "POST", Pattern: "/api/v1/subsidies", Handle: (*handler).createSubsidy},
	{Method: "GET", Pattern: "/api/v1/subsidies", Handle: (*handler).listSubsidies},
	{Method: "PATCH", Pattern: "/api/v1/subsidies/{id}", Handle: withID(http.StatusOK, (*care.Service).UpdateSubsidy)},
	{Method: "GET", Pattern: "/api/v1/figures/community", Handle: (*handler).communityFigures},
}

func init() { routes = append(routes, communityRoutes...) }

func (h *handler) listFamily(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	items, err := h.svc.Family(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, ""))
	return nil
}

func (h *handler) addFamily(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in care.FamilyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := h.svc.AddFamilyMember(r.Context(), id, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/patients/"+strconv.FormatInt(id, 10)+"/family/"+strconv.FormatInt(m.ID, 10))
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (h *handler) updateFamily(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	fid, err := pathID(r, "fid")
	if err != nil {
		return err
	}
	var in care.FamilyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := h.svc.UpdateFamilyMember(r.Context(), id, fid, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (h *handler) deleteFamily(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	fid, err := pathID(r, "fid")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteFamilyMember(r.Context(), id, fid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) createEvent(w http.ResponseWriter, r *http.Request) error {
	var in care.EventInput
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := h.svc.CreateEvent(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/events/"+strconv.FormatInt(e.ID, 10))
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (h *handler) listEvents(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, next, err := h.svc.Events(r.Context(), care.EventQuery{OrgUnit: q.Get("org_unit"), From: q.Get("from"), To: q.Get("to"),
		Kind: q.Get("kind")}, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (h *handler) getEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := h.svc.Event(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (h *handler) tickAttendance(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	aid, err := pathID(r, "aid")
	if err != nil {
		return err
	}
	var in struct {
		Present *bool `json:"present"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Present == nil {
		return &care.Error{Kind: care.Invalid, Message: "please correct the fields shown",
			Fields: []care.FieldError{{Field: "present", Message: "is required"}}}
	}
	if err := h.svc.TickAttendance(r.Context(), id, aid, *in.Present); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) createCourse(w http.ResponseWriter, r *http.Request) error {
	var in care.CourseInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := h.svc.CreateCourse(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (h *handler) listCourses(w http.ResponseWriter, r *http.Request) error {
	items, err := h.svc.Courses(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, ""))
	return nil
}

// staffTraining lists the staff of a unit with their training hours of a
// year; below=true keeps those under the yearly target.
func (h *handler) staffTraining(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	year, err := yearParam(h, r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.StaffTraining(r.Context(), care.TrainingQuery{OrgUnit: q.Get("org_unit"), Year: year,
		Below: q.Get("below") == "true"}, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		list[care.StaffHours]
		Target float64 `json:"target"`
		Year   int     `json:"year"`
	}{newList(items, next), h.svc.TrainingTarget(), year})
	return nil
}

// yearParam reads the query's year, this year by default.
func yearParam(h *handler, r *http.Request) (int, error) {
	year := h.svc.Today().Time().Year()
	if v := r.URL.Query().Get("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil {
			return 0, &care.Error{Kind: care.Invalid, Message: "please correct the fields shown",
				Fields: []care.FieldError{{Field: "year", Message: "must be a year such as 2026"}}}
		}
		year = y
	}
	return year, nil
}

// userTraining answers a person's training hours, competencies and
// sessions of a year (this year by default).
func (h *handler) userTraining(w http.ResponseWriter, r *http.Request) error {
	year, err := yearParam(h, r)
	if err != nil {
		return err
	}
	t, err := h.svc.UserTraining(r.Context(), r.PathValue("username"), year)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (h *handler) createSubsidy(w http.ResponseWriter, r *http.Request) error {
	var in care.SubsidyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	x, err := h.svc.CreateSubsidy(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/subsidies/"+strconv.FormatInt(x.ID, 10))
	writeJSON(w, http.StatusCreated, x)
	return nil
}

// listSubsidies answers the ledger of a year (this year by default) with
// its totals per status.
func (h *handler) listSubsidies(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	year, err := yearParam(h, r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	led, err := h.svc.Subsidies(r.Context(), care.SubsidyQuery{Year: year, OrgUnit: q.Get("org_unit"), Status: q.Get("status")}, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, led)
	return nil
}

// communityFigures answers the community figures of an org unit and
// period, with those of the units directly beneath it.
func (h *handler) communityFigures(w http.ResponseWriter, r *http.Request) error {
	p, err := period(r, h.svc.Zone())
	if err != nil {
		return err
	}
	set, err := h.svc.CommunityFigures(r.Context(), r.URL.Query().Get("org_unit"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, set)
	return nil
}
