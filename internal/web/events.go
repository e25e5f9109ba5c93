package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
)

func init() {
	enumValues["event_kind"] = care.EventKinds
	enumValues["audience"] = care.EventAudiences
	enumValues["topic"] = care.CourseTopics
	enumValues["attendee_kind"] = []string{"staff", "patient", "family", "public"}
}

// Weekdays names the days of the week, Monday first, for the calendar.
func (p *page) Weekdays() []string {
	out := make([]string, 7)
	for i := range out {
		out[i] = p.T("events.weekday." + strconv.Itoa(i+1))
	}
	return out
}

// Clock is the time of day of an instant in the installation's zone.
func (p *page) Clock(t time.Time) string { return t.In(p.zone).Format("15:04") }

// TrainingHours says a number of training hours.
func (p *page) TrainingHours(h float64) string {
	return p.T("training.hours", "Value", strconv.FormatFloat(h, 'f', -1, 64))
}

func (s *server) eventRoutes(mux *http.ServeMux) {
	mux.Handle("GET /events", s.handle(staff, s.calendar))
	mux.Handle("GET /events/new", s.handle(staff, s.newEvent))
	mux.Handle("POST /events", s.handle(staff, s.createEvent))
	mux.Handle("GET /events/{id}", s.handle(staff, s.event))
	mux.Handle("GET /events/{id}/edit", s.handle(staff, s.editEvent))
	mux.Handle("POST /events/{id}/edit", s.handle(staff, s.updateEvent))
	mux.Handle("GET /events/{id}/cancel", s.handle(staff, s.confirmCancelEvent))
	mux.Handle("POST /events/{id}/cancel", s.handle(staff, s.cancelEvent))
	mux.Handle("POST /events/{id}/attendance", s.handle(staff, s.addAttendance))
	mux.Handle("POST /events/{id}/attendance/{aid}", s.handle(staff, s.tickAttendance))
	mux.Handle("GET /public/events", s.public(s.publicEvents))
}

// calendarDay is one day of the month grid.
type calendarDay struct {
	Date    string
	Day     int
	InMonth bool
	Today   bool
	Events  []care.Event
}

type calendarData struct {
	Month      string // YYYY-MM
	MonthTitle string
	Prev, Next string // links
	Unit       string
	Units      []care.Unit
	Kind       string
	Weeks      [][]calendarDay
	Events     []care.Event // the month's, for the list a phone shows
	More       bool         // the month holds more events than one page
	CanCreate  bool
}

// calendar shows the events of an org unit (beneath it and above it) in a
// month: a grid of weeks on a wide screen, a list on a phone.
func (s *server) calendar(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	month, err := time.ParseInLocation("2006-01", q.Get("month"), p.zone)
	if err != nil {
		t := s.svc.Today().Time()
		month = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, p.zone)
	}
	last := month.AddDate(0, 1, -1)
	d := calendarData{Month: month.Format("2006-01"), Unit: q.Get("unit"), Kind: q.Get("kind"), CanCreate: may(p.User, care.WriteEvents)}
	d.MonthTitle = p.T("events.month", "Year", month.Year(), "Month", int(month.Month()))
	link := func(m time.Time) string {
		v := url.Values{"month": {m.Format("2006-01")}}
		if d.Unit != "" {
			v.Set("unit", d.Unit)
		}
		if d.Kind != "" {
			v.Set("kind", d.Kind)
		}
		return "/events?" + v.Encode()
	}
	d.Prev, d.Next = link(month.AddDate(0, -1, 0)), link(month.AddDate(0, 1, 0))
	if d.Units, err = s.unitsOf(r); err != nil {
		return err
	}
	list, next, err := s.svc.Events(r.Context(), care.EventQuery{OrgUnit: d.Unit, From: month.Format(time.DateOnly),
		To: last.Format(time.DateOnly), Kind: d.Kind}, care.Page{Limit: care.MaxLimit})
	if err != nil {
		return err
	}
	d.Events, d.More = list, next != ""
	byDay := map[string][]care.Event{}
	for _, e := range list {
		k := e.StartsAt.In(p.zone).Format(time.DateOnly)
		byDay[k] = append(byDay[k], e)
	}
	// Weeks begin on Monday, as Chinese calendars do.
	start := month.AddDate(0, 0, -((int(month.Weekday()) + 6) % 7))
	today := s.today()
	for day := start; ; day = day.AddDate(0, 0, 1) {
		if day.Weekday() == time.Monday {
			if day.After(last) {
				break
			}
			d.Weeks = append(d.Weeks, nil)
		}
		k := day.Format(time.DateOnly)
		wk := &d.Weeks[len(d.Weeks)-1]
		*wk = append(*wk, calendarDay{Date: k, Day: day.Day(), InMonth: day.Month() == month.Month(), Today: k == today, Events: byDay[k]})
	}
	return s.render(w, p, http.StatusOK, "events", d)
}

var eventFields = []string{"title", "kind", "starts_at", "place", "org_unit", "capacity", "audience", "course_id", "hours", "notes"}

type eventFormData struct {
	Form    *form
	Units   []care.Unit
	Courses []care.Course
}

func (s *server) eventForm(w http.ResponseWriter, r *http.Request, p *page, status int, f *form) error {
	if !may(p.User, care.WriteEvents) {
		return errNoRights
	}
	units, err := s.unitsOf(r)
	if err != nil {
		return err
	}
	courses, err := s.svc.Courses(r.Context())
	if err != nil {
		return err
	}
	return s.render(w, p, status, "event_form", eventFormData{Form: f, Units: units, Courses: courses})
}

func (s *server) newEvent(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(nil, eventFields...)
	f.set("org_unit", p.User.UnitCode)
	f.set("kind", r.URL.Query().Get("kind"))
	f.set("course_id", r.URL.Query().Get("course"))
	f.set("starts_at", s.today()+"T14:00")
	return s.eventForm(w, r, p, http.StatusOK, f)
}

func (s *server) createEvent(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, eventFields...)
	in := care.EventInput{Title: f.V("title"), Kind: f.V("kind"), StartsAt: f.V("starts_at"), Place: f.V("place"),
		OrgUnit: f.V("org_unit"), Audience: f.V("audience"), Notes: f.V("notes")}
	if n, ok := parseCount(f.V("capacity")); ok && n < 1<<31 {
		in.Capacity = int(n)
	} else {
		f.fieldError(p, "capacity", "must be a whole number")
	}
	if v := strings.TrimSpace(f.V("course_id")); v != "" && in.Kind == "training" {
		in.CourseID, _ = strconv.ParseInt(v, 10, 64)
	}
	if v := strings.TrimSpace(f.V("hours")); v != "" && in.Kind == "case_discussion" {
		h, err := strconv.ParseFloat(v, 64)
		if err != nil {
			f.fieldError(p, "hours", "must be a number")
		}
		in.Hours = h
	}
	if f.Failed() {
		return s.eventForm(w, r, p, http.StatusUnprocessableEntity, f)
	}
	e, err := s.svc.CreateEvent(r.Context(), in)
	if err != nil {
		code := p.formError(f, err)
		if code == 0 {
			return err
		}
		return s.eventForm(w, r, p, code, f)
	}
	http.Redirect(w, r, "/events/"+strconv.FormatInt(e.ID, 10)+"?created=1", http.StatusSeeOther)
	return nil
}

type eventData struct {
	Event   *care.Event
	CanEdit bool
	Form    *form
	// Find is the name searched for to add a patient or family member,
	// Found what it found.
	Find  string
	Found []foundPerson
	// Colleagues are suggested for adding staff.
	Colleagues []care.Colleague
	// Blank are the empty lines printed at the foot of the sheet, for
	// people who come without being on it.
	Blank []int
}

// foundPerson is a patient found to put on the attendance sheet, with
// their family.
type foundPerson struct {
	Patient care.Patient
	Family  []care.FamilyMember
}

var attendanceFields = []string{"username", "patient_id", "family_member_id", "head_count", "present"}

func (s *server) showEvent(w http.ResponseWriter, r *http.Request, p *page, status int, f *form) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := s.svc.Event(r.Context(), id)
	if err != nil {
		return err
	}
	d := eventData{Event: e, Form: f, Find: strings.TrimSpace(r.URL.Query().Get("find"))}
	// A cancelled event takes no more attendance, and is not changed.
	d.CanEdit = s.mayOrganise(r, p, e) && e.CancelledAt == nil
	if d.CanEdit {
		if d.Colleagues, err = s.svc.Colleagues(r.Context()); err != nil && care.ErrorKind(err) != care.Forbidden {
			return err
		}
	}
	if d.CanEdit && d.Find != "" && e.Kind != "case_discussion" && isClinical(p.User) {
		list, _, err := s.svc.Patients(r.Context(), care.PatientQuery{Q: d.Find}, care.Page{Limit: 5})
		if err != nil {
			return err
		}
		for _, pt := range list {
			fam, err := s.svc.Family(r.Context(), pt.ID)
			if err != nil {
				return err
			}
			d.Found = append(d.Found, foundPerson{Patient: pt, Family: fam})
		}
	}
	blank := 10
	if e.Capacity > 0 {
		blank = max(0, min(blank, e.Capacity-e.Booked))
	}
	d.Blank = make([]int, blank)
	switch {
	case r.URL.Query().Has("created"):
		p.Flash = p.T("events.created")
	case r.URL.Query().Has("added"):
		p.Flash = p.T("events.attendance.added")
	case r.URL.Query().Has("changed"):
		p.Flash = p.T("events.changed")
	case r.URL.Query().Has("cancelled"):
		p.Flash = p.T("events.cancelled")
	}
	return s.render(w, p, status, "event", d)
}

// mayOrganise says whether the user may change the event's attendance: the
// policy on the event's unit, which the user's own unit must hold.
func (s *server) mayOrganise(r *http.Request, p *page, e *care.Event) bool {
	u, err := s.svc.Unit(r.Context(), e.OrgUnit)
	return err == nil && care.Allow(p.User, care.WriteEvents, care.Target{Path: u.Path})
}

func (s *server) event(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showEvent(w, r, p, http.StatusOK, newForm(nil, attendanceFields...))
}

func (s *server) addAttendance(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, attendanceFields...)
	// Added on the web, people go on the sheet to be ticked; a head count
	// is of people who came.
	present := f.V("present") == "1"
	in := care.AttendanceInput{Present: &present}
	if v := strings.TrimSpace(f.V("username")); v != "" {
		// Staff are named by name (Colleague.Label).
		if in.Username, err = s.svc.ResolveColleague(r.Context(), v); err != nil {
			code := p.formError(f, err)
			if code == 0 {
				return err
			}
			return s.showEvent(w, r, p, code, f)
		}
	}
	for name, dst := range map[string]*int64{"patient_id": &in.PatientID, "family_member_id": &in.FamilyMemberID} {
		if v := strings.TrimSpace(f.V(name)); v != "" {
			*dst, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if v := strings.TrimSpace(f.V("head_count")); v != "" {
		n, ok := parseCount(v)
		if !ok || n < 1 || n > 100000 {
			f.fieldError(p, "head_count", "must be between 1 and 100000")
			return s.showEvent(w, r, p, http.StatusUnprocessableEntity, f)
		}
		in.HeadCount, present = int(n), true
	}
	if _, err := s.svc.AddAttendance(r.Context(), id, in); err != nil {
		code := p.formError(f, err)
		if code == 0 {
			return err
		}
		return s.showEvent(w, r, p, code, f)
	}
	http.Redirect(w, r, "/events/"+strconv.FormatInt(id, 10)+"?added=1#sheet", http.StatusSeeOther)
	return nil
}

// tickAttendance ticks one line of the sheet present, or not.
func (s *server) tickAttendance(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	aid, err := pathID(r, "aid")
	if err != nil {
		return err
	}
	if err := s.svc.TickAttendance(r.Context(), id, aid, r.PostFormValue("present") == "1"); err != nil {
		return err
	}
	http.Redirect(w, r, "/events/"+strconv.FormatInt(id, 10)+"#a"+strconv.FormatInt(aid, 10), http.StatusSeeOther)
	return nil
}

// publicEvents is the public site's calendar: the public events to come.
func (s *server) publicEvents(w http.ResponseWriter, r *http.Request, p *page) error {
	from := s.svc.Today().Time()
	list, err := s.svc.PublicEvents(r.Context(), time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, p.zone), 100)
	if err != nil {
		return err
	}
	type month struct {
		Title  string
		Events []care.PublicEvent
	}
	var d struct {
		publicBase
		Months []month
	}
	if d.Hotlines, _, err = s.publicHelp(r.Context(), p, ""); err != nil {
		return err
	}
	months := d.Months
	for _, e := range list {
		t := e.StartsAt.In(p.zone)
		title := p.T("events.month", "Year", t.Year(), "Month", int(t.Month()))
		if len(months) == 0 || months[len(months)-1].Title != title {
			months = append(months, month{Title: title})
		}
		months[len(months)-1].Events = append(months[len(months)-1].Events, e)
	}
	d.Months = months
	return s.render(w, p, http.StatusOK, "public_events", d)
}

// Changing and calling off an event (its organisers): the change form holds
// what may change (care.EventPatch); calling off asks first, with the
// reason, which the event then shows.

var (
	eventEditFields   = []string{"title", "starts_at", "place", "capacity", "notes"}
	eventCancelFields = []string{"reason"}
)

type eventChangeData struct {
	Event *care.Event
	Form  *form
}

// organisedEvent loads an event its organiser may change, or refuses.
func (s *server) organisedEvent(r *http.Request, p *page) (*care.Event, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	e, err := s.svc.Event(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !s.mayOrganise(r, p, e) {
		return nil, errNoRights
	}
	return e, nil
}

func (s *server) editEvent(w http.ResponseWriter, r *http.Request, p *page) error {
	e, err := s.organisedEvent(r, p)
	if err != nil {
		return err
	}
	f := newForm(nil, eventEditFields...)
	f.set("title", e.Title)
	f.set("starts_at", e.StartsAt.In(p.zone).Format("2006-01-02T15:04"))
	f.set("place", e.Place)
	f.set("capacity", strconv.Itoa(e.Capacity))
	f.set("notes", e.Notes)
	return s.render(w, p, http.StatusOK, "event_edit", eventChangeData{Event: e, Form: f})
}

func (s *server) updateEvent(w http.ResponseWriter, r *http.Request, p *page) error {
	e, err := s.organisedEvent(r, p)
	if err != nil {
		return err
	}
	f := newForm(r, eventEditFields...)
	title, start, place, notes := f.V("title"), f.V("starts_at"), f.V("place"), f.V("notes")
	in := care.EventPatch{Title: &title, StartsAt: &start, Place: &place, Notes: &notes}
	if n, ok := parseCount(f.V("capacity")); ok && n < 1<<31 {
		c := int(n)
		in.Capacity = &c
	} else {
		f.fieldError(p, "capacity", "must be a whole number")
		return s.render(w, p, http.StatusUnprocessableEntity, "event_edit", eventChangeData{Event: e, Form: f})
	}
	if _, err := s.svc.UpdateEvent(r.Context(), e.ID, in); err != nil {
		code := p.formError(f, err)
		if code == 0 {
			return err
		}
		return s.render(w, p, code, "event_edit", eventChangeData{Event: e, Form: f})
	}
	http.Redirect(w, r, "/events/"+strconv.FormatInt(e.ID, 10)+"?changed=1", http.StatusSeeOther)
	return nil
}

func (s *server) confirmCancelEvent(w http.ResponseWriter, r *http.Request, p *page) error {
	e, err := s.organisedEvent(r, p)
	if err != nil {
		return err
	}
	return s.render(w, p, http.StatusOK, "event_cancel", eventChangeData{Event: e, Form: newForm(nil, eventCancelFields...)})
}

func (s *server) cancelEvent(w http.ResponseWriter, r *http.Request, p *page) error {
	e, err := s.organisedEvent(r, p)
	if err != nil {
		return err
	}
	f := newForm(r, eventCancelFields...)
	if _, err := s.svc.CancelEvent(r.Context(), e.ID, care.EventCancel{Reason: f.V("reason")}); err != nil {
		code := p.formError(f, err)
		if code == 0 {
			return err
		}
		return s.render(w, p, code, "event_cancel", eventChangeData{Event: e, Form: f})
	}
	http.Redirect(w, r, "/events/"+strconv.FormatInt(e.ID, 10)+"?cancelled=1", http.StatusSeeOther)
	return nil
}
