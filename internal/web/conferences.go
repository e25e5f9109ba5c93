package web

import (
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
}

func (s *server) renderConference(w http.ResponseWriter, r *http.Request, p *page, status int, f *form) error {
	d := conferenceFormData{Form: f, Outside: rows(confOutside), Patients: rows(confPatients), Decisions: rows(confDecisions)}
	var err error
	if d.Units, err = s.unitsOf(r); err != nil {
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
// or typed as usernames, outside people by name and organisation, and the
// patients with their summaries and decisions; blank rows are left out.
func (s *server) recordConference(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, conferenceFieldNames()...).multi(r, "staff")
	in := care.ConferenceInput{Date: f.V("date"), OrgUnit: f.V("org_unit")}
	names := map[string]string{}
	addStaff := func(u, field string) {
		names["participants["+strconv.Itoa(len(in.Participants))+"].username"] = field
		in.Participants = append(in.Participants, care.ConferenceParticipant{Username: u})
	}
	for _, u := range f.L("staff") {
		addStaff(u, "staff_other")
	}
	for _, u := range strings.FieldsFunc(f.V("staff_other"), func(r rune) bool { return r == ',' || r == ' ' || r == '，' || r == '、' }) {
		addStaff(u, "staff_other")
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
			d := care.Decision{Text: f.V(decField(i, j, "text")), Owner: f.V(decField(i, j, "owner")), DueOn: f.V(decField(i, j, "due_on"))}
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
	c, err := s.svc.RecordConference(r.Context(), in)
	if err != nil {
		rename(err, names)
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
