package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
)

// Emergency handling (R-EMERG): the form that records it, and the button
// with which a psychiatrist completes a record others started.

type emergencyData struct {
	Patient *care.Patient
	Form    *form
}

var (
	emergencyFields = []string{"occurred_at", "place", "outcome"}
	emergencyLists  = []string{"triggers", "attendees", "measures"}
)

// localMinute is the layout of a datetime-local input.
const localMinute = "2006-01-02T15:04"

func (s *server) newEmergency(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if !may(p.User, care.WriteEmergency) {
		return errNoRights
	}
	f := newForm(nil, emergencyFields...).multi(nil, emergencyLists...)
	f.set("occurred_at", time.Now().In(s.svc.Zone()).Format(localMinute))
	return s.renderEmergency(w, r, p, http.StatusOK, id, f)
}

// renderEmergency shows the emergency form about the patient id.
func (s *server) renderEmergency(w http.ResponseWriter, r *http.Request, p *page, status int, id int64, f *form) error {
	pt, err := s.svc.Patient(r.Context(), id)
	if err != nil {
		return err
	}
	p.Path = patientURL(id) + "/emergencies/new"
	return s.render(w, p, status, "emergency_form", emergencyData{Patient: pt, Form: f})
}

// parseLocalTime reads a datetime-local value as a time in the server's
// time zone (KITH_TZ).
func parseLocalTime(v string, zone *time.Location) (time.Time, bool) {
	for _, layout := range []string{localMinute, localMinute + ":05"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(v), zone); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// recordEmergency records emergency handling; the record page then says by
// when the patient must be followed up.
func (s *server) recordEmergency(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, emergencyFields...).multi(r, emergencyLists...)
	at, ok := parseLocalTime(f.V("occurred_at"), s.svc.Zone())
	switch {
	case f.V("occurred_at") == "":
		f.fieldError(p, "occurred_at", "is required")
	case !ok:
		f.fieldError(p, "occurred_at", "must be a date and time")
	}
	if f.Failed() {
		return s.renderEmergency(w, r, p, http.StatusUnprocessableEntity, id, f)
	}
	e, err := s.svc.RecordEmergency(r.Context(), id, care.EmergencyInput{OccurredAt: at, Place: f.V("place"),
		Triggers: f.L("triggers"), Attendees: f.L("attendees"), Measures: f.L("measures"), Outcome: f.V("outcome")})
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return s.renderEmergency(w, r, p, status, id, f)
	}
	http.Redirect(w, r, patientURL(id, "emergency="+strconv.FormatInt(e.ID, 10)), http.StatusSeeOther)
	return nil
}

// completeEmergency marks an emergency record complete; the service lets
// only a psychiatrist.
func (s *server) completeEmergency(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	eid, err := pathID(r, "eid")
	if err != nil {
		return err
	}
	if err := s.svc.CompleteEmergency(r.Context(), id, eid); err != nil {
		return err
	}
	http.Redirect(w, r, patientURL(id, "completed=1"), http.StatusSeeOther)
	return nil
}
