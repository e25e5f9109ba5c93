package web

import (
	"net/http"
	"net/url"
	"strconv"

	"kith/internal/care"
)

// The care team (issue 11): the team page lists the members, the contacts
// who are not staff and every change; those who may change the team add and
// remove people there, a removal asked to be confirmed first.

func init() {
	enumValues["team_role"] = care.TeamRoles
	enumValues["contact_kind"] = care.ContactKinds
}

func (s *server) teamRoutes(mux *http.ServeMux) {
	mux.Handle("GET /patients/{id}/team", s.handle(clinicians, s.teamPage))
	mux.Handle("POST /patients/{id}/team", s.handle(clinicians, s.addTeamMember))
	mux.Handle("POST /patients/{id}/team/contacts", s.handle(clinicians, s.addTeamContact))
	mux.Handle("GET /patients/{id}/team/remove", s.handle(clinicians, s.confirmTeamRemoval))
	mux.Handle("POST /patients/{id}/team/remove", s.handle(clinicians, s.removeFromTeam))
	mux.Handle("GET /me/patients", s.handle(clinicians, s.myPatientsPage))
}

// myPatientsData is the page of the patients on whose care team the user is.
type myPatientsData struct {
	List    []care.MyPatient
	NextURL string
}

// myPatientsPage lists the patients on whose care team the user is, all of
// them a page at a time (the home page shows the first).
func (s *server) myPatientsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	list, next, err := s.svc.MyPatients(r.Context(), care.Page{Token: r.URL.Query().Get("page_token")})
	if err != nil {
		return err
	}
	d := &myPatientsData{List: list}
	if next != "" {
		d.NextURL = "/me/patients?page_token=" + url.QueryEscape(next)
	}
	return s.render(w, p, http.StatusOK, "mypatients", d)
}

var (
	memberFields  = []string{"username", "team_role", "key_worker"}
	contactFields = []string{"kind", "name", "relation", "organisation", "phone"}
)

// colleagueList is what the colleaguelist template needs.
type colleagueList struct {
	P    *page
	List []care.Colleague
}

type teamData struct {
	Team           *care.Team
	Colleagues     []care.Colleague // suggested for a new member
	Member         *form
	Contact        *form
	ConfirmMember  *care.TeamMember
	ConfirmContact *care.TeamContact
}

func (s *server) renderTeam(w http.ResponseWriter, r *http.Request, p *page, status int, d teamData) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if d.Team, err = s.svc.Team(r.Context(), id); err != nil {
		return err
	}
	if d.Member == nil {
		d.Member = newForm(nil, memberFields...)
	}
	if d.Team.CanChange {
		if d.Colleagues, err = s.svc.Colleagues(r.Context()); err != nil && care.ErrorKind(err) != care.Forbidden {
			return err
		}
	}
	if d.Contact == nil {
		d.Contact = newForm(nil, contactFields...)
	}
	return s.render(w, p, status, "team", d)
}

func (s *server) teamPage(w http.ResponseWriter, r *http.Request, p *page) error {
	switch r.URL.Query().Get("saved") {
	case "member":
		p.Flash = p.T("team.saved.member")
	case "contact":
		p.Flash = p.T("team.saved.contact")
	case "removed":
		p.Flash = p.T("team.saved.removed")
	}
	return s.renderTeam(w, r, p, http.StatusOK, teamData{})
}

func teamURL(id int64, saved string) string {
	return "/patients/" + strconv.FormatInt(id, 10) + "/team?saved=" + saved
}

func (s *server) addTeamMember(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, memberFields...)
	// The form names the colleague (Colleague.Label); the service takes
	// the account.
	username, err := s.svc.ResolveColleague(r.Context(), f.V("username"))
	if err == nil {
		_, err = s.svc.AddTeamMember(r.Context(), id, care.TeamMemberInput{Username: username, TeamRole: f.V("team_role"),
			KeyWorker: f.V("key_worker") != ""})
	}
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		unanswered(p, f, "team_role")
		return s.renderTeam(w, r, p, status, teamData{Member: f})
	}
	http.Redirect(w, r, teamURL(id, "member"), http.StatusSeeOther)
	return nil
}

func (s *server) addTeamContact(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, contactFields...)
	_, err = s.svc.AddTeamContact(r.Context(), id, care.TeamContactInput{Kind: f.V("kind"), Name: f.V("name"),
		Relation: f.V("relation"), Organisation: f.V("organisation"), Phone: f.V("phone")})
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		unanswered(p, f, "kind")
		return s.renderTeam(w, r, p, status, teamData{Contact: f})
	}
	http.Redirect(w, r, teamURL(id, "contact"), http.StatusSeeOther)
	return nil
}

// confirmTeamRemoval shows the team page asking to confirm the removal of
// one member (?member=USERNAME) or contact (?contact=ID).
func (s *server) confirmTeamRemoval(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.svc.Team(r.Context(), id)
	if err != nil {
		return err
	}
	if !t.CanChange {
		return errNoRights
	}
	d := teamData{}
	q := r.URL.Query()
	for i, m := range t.Members {
		if m.Username == q.Get("member") {
			d.ConfirmMember = &t.Members[i]
		}
	}
	for i, c := range t.Contacts {
		if strconv.FormatInt(c.ID, 10) == q.Get("contact") {
			d.ConfirmContact = &t.Contacts[i]
		}
	}
	if d.ConfirmMember == nil && d.ConfirmContact == nil {
		return errPageNotFound
	}
	return s.renderTeam(w, r, p, http.StatusOK, d)
}

func (s *server) removeFromTeam(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if u := r.PostFormValue("member"); u != "" {
		err = s.svc.RemoveTeamMember(r.Context(), id, u)
	} else {
		cid, ok := care.ParseID(r.PostFormValue("contact"))
		if !ok {
			return errPageNotFound
		}
		err = s.svc.RemoveTeamContact(r.Context(), id, cid)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, teamURL(id, "removed"), http.StatusSeeOther)
	return nil
}

// removeLink is the confirmation page's address for removing a member or contact.
func removeLink(id int64, kind, v string) string {
	return "/patients/" + strconv.FormatInt(id, 10) + "/team/remove?" + url.Values{kind: {v}}.Encode()
}
