package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"kith/internal/care"
)

// Case conferences (issue 11): a form that records one, reached from a
// patient's record (that patient filled in); decisions on their owner's
// home page with a button to mark them done.

const (
	confOutside   = 3 // rows for participants from outside
	confPatients  = 3 // rows for patients discussed
	confDecisions = 3 // decision rows per patient
)

func (s *server) conferenceRoutes(mux *http.ServeMux) {
	mux.Handle("GET /conferences/new", s.handle(clinicians, s.newConference))
	mux.Handle("POST /conferences", s.handle(clinicians, s.recordConference))
	mux.Handle("POST /decisions/{id}/done", s.handle(clinicians, s.completeDecision))
}

func outsideField(i int, f string) string { return "outside[" + strconv.Itoa(i) + "]." + f }
func cpField(i int, f string) string      { return "patients[" + strconv.Itoa(i) + "]." + f }
func decField(i, j int, f string) string {
	return "patients[" + strconv.Itoa(i) + "].decisions[" + strconv.Itoa(j) + "]." + f
}

func conferenceFieldNames() []string {
	names := []string{"date", "org_unit", "staff_other"}
	for i := 0; i < confOutside; i++ {
		names = append(names, outsideField(i, "name"), outsideField(i, "organisation"))
	}
	for i := 0; i < confPatients; i++ {
		names = append(names, cpField(i, "patient_id"), cpField(i, "summary"))
		for j := 0; j < confDecisions; j++ {
			names = append(names, decField(i, j, "text"), decField(i, j, "owner"), decField(i, j, "due_on"))
		}
	}
	return names
}

type conferenceFormData struct {
	Form        *form
	Units       []care.Unit
	Team        []care.TeamMember // of the patient the form was opened from
	PatientName string
	Outside     []int
	Patients    []int
	Decisions   []int
	Colleagues  []care.Colleague // suggested for the names of staff
}

func (s *server) renderConference(w http.ResponseWriter, r *http.Request, p *page, status int, f *form) error {
	d := conferenceFormData{Form: f, Outside: rows(confOutside), Patients: rows(confPatients), Decisions: rows(confDecisions)}
	var err error
	if d.Units, err = s.unitsOf(r); err != nil {
		return err
	}
	if d.Colleagues, err = s.svc.Colleagues(r.Context()); err != nil && care.ErrorKind(err) != care.Forbidden {
		return err
	}
	if id, ok := care.ParseID(f.V(cpField(0, "patient_id"))); ok {
		if t, err := s.svc.Team(r.Context(), id); err == nil {
			d.Team, d.PatientName = t.Members, t.PatientName
		}
	}
	return s.render(w, p, status, "conference_form", d)
}

func (s *server) newConference(w http.ResponseWriter, r *http.Request, p *page) error {
	if !may(p.User, care.WriteConference) {
		return errNoRights
	}
	f := newForm(nil, conferenceFieldNames()...).multi(nil, "staff")
	f.set("date", s.today())
	f.set("org_unit", p.User.UnitCode)
	f.setList("staff", []string{p.User.Username})
	if id, ok := care.ParseID(r.URL.Query().Get("patient")); ok {
		f.set(cpField(0, "patient_id"), strconv.FormatInt(id, 10))
	}
	return s.renderConference(w, r, p, http.StatusOK, f)
}

// recordConference reads the form: staff ticked from the patient's team
// or named (care.ResolveColleague), outside people by name and
// organisation, and the patients with their summaries and decisions, whose
// owners are named too; blank rows are left out.
func (s *server) recordConference(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, conferenceFieldNames()...).multi(r, "staff")
	in := care.ConferenceInput{Date: f.V("date"), OrgUnit: f.V("org_unit")}
	names := map[string]string{}
	// Colleagues named in the form, resolved to their accounts; what is
	// wrong with the names is reported at their fields, all at once. Any
	// other failure (a refusal, the database) ends the request.
	var unknown []care.FieldError
	var failed error
	colleague := func(text, field string) string {
		u, err := s.svc.ResolveColleague(r.Context(), text)
		var ce *care.Error
		switch {
		case errors.As(err, &ce) && ce.Kind == care.Invalid:
			for _, fe := range ce.Fields {
				unknown = append(unknown, care.FieldError{Field: field, Message: fe.Message})
			}
		case err != nil && failed == nil:
			failed = err
		}
		return u
	}
	addStaff := func(u, field string) {
		names["participants["+strconv.Itoa(len(in.Participants))+"].username"] = field
		in.Participants = append(in.Participants, care.ConferenceParticipant{Username: u})
	}
	for _, u := range f.L("staff") {
		addStaff(u, "staff_other")
	}
	// Names hold spaces ("Liu Yang 刘洋"): only commas and 、 part them.
	for _, n := range strings.FieldsFunc(f.V("staff_other"), func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' }) {
		if n = strings.TrimSpace(n); n != "" {
			addStaff(colleague(n, "staff_other"), "staff_other")
		}
	}
	for i := 0; i < confOutside; i++ {
		pp := care.ConferenceParticipant{Name: f.V(outsideField(i, "name")), Organisation: f.V(outsideField(i, "organisation"))}
		if strings.TrimSpace(pp.Name+pp.Organisation) == "" {
			continue
		}
		k := "participants[" + strconv.Itoa(len(in.Participants)) + "]."
		names[k+"name"], names[k+"organisation"] = outsideField(i, "name"), outsideField(i, "organisation")
		in.Participants = append(in.Participants, pp)
	}
	for i := 0; i < confPatients; i++ {
		raw := strings.TrimSpace(f.V(cpField(i, "patient_id")))
		cp := care.ConferencePatient{Summary: f.V(cpField(i, "summary"))}
		if raw == "" && strings.TrimSpace(cp.Summary) == "" {
			continue
		}
		cp.PatientID, _ = care.ParseID(raw)
		k := len(in.Patients)
		names[cpField(k, "patient_id")], names[cpField(k, "summary")] = cpField(i, "patient_id"), cpField(i, "summary")
		for j := 0; j < confDecisions; j++ {
			d := care.Decision{Text: f.V(decField(i, j, "text")), Owner: strings.TrimSpace(f.V(decField(i, j, "owner"))), DueOn: f.V(decField(i, j, "due_on"))}
			if d.Owner != "" {
				d.Owner = colleague(d.Owner, decField(i, j, "owner"))
			}
			if strings.TrimSpace(d.Text+d.Owner+d.DueOn) == "" {
				continue
			}
			for _, x := range []string{"text", "owner", "due_on"} {
				names[decField(k, len(cp.Decisions), x)] = decField(i, j, x)
			}
			cp.Decisions = append(cp.Decisions, d)
		}
		in.Patients = append(in.Patients, cp)
	}
	if failed != nil {
		return failed
	}
	var c *care.Conference
	var err error
	if len(unknown) > 0 {
		// Already at the form's fields.
		err = &care.Error{Kind: care.Invalid, Message: "a colleague named in the form is not known", Fields: unknown}
	} else if c, err = s.svc.RecordConference(r.Context(), in); err != nil {
		rename(err, names)
	}
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return s.renderConference(w, r, p, status, f)
	}
	http.Redirect(w, r, patientURL(c.Patients[0].PatientID, "saved=conference"), http.StatusSeeOther)
	return nil
}

func (s *server) completeDecision(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.CompleteDecision(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/?decision=done", http.StatusSeeOther)
	return nil
}
