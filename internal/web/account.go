package web

import (
	"net/http"

	"kith/internal/auth"
	"kith/internal/care"
)

type homeData struct {
	// Abilities are message ids saying what the user can do here.
	Abilities []string
	// Worklists are the sizes of the clinical user's worklists.
	Worklists []worklistCount
	// Figures says whether the user sees the figures dashboard.
	Figures bool
	// Alerts are the open alerts that reach the user (community managers
	// and psychiatrists), nil for the others.
	Alerts *homeAlerts
	// Referrals awaiting the user's unit, with those past their target;
	// nil when none or for roles that do not answer referrals.
	Referrals *homeReferrals
	// Glass lists the break-the-glass events of the district's records in
	// the last days, for the psychiatrists and district administrators
	// (ShowGlass) they are reported to.
	Glass     []care.Glass
	ShowGlass bool
	// Announcements are the accounts recently given access to records in
	// a psychiatrist's jurisdiction, nil for the others.
	Announcements []care.AccessAnnouncement
	// MyPatients are the patients on whose care team the user is (the
	// first of them; MorePatients says there are more).
	MyPatients   []care.MyPatient
	MorePatients bool
	// Interventions are those of active plans assigned to the user (the
	// first of them; MoreInterventions says there are more).
	Interventions     []care.MyIntervention
	MoreInterventions bool
	// Decisions are the open decisions of case conferences the user owns;
	// Conference says whether they may record a conference.
	Decisions  []care.MyDecision
	Conference bool
}

// home greets the user and says what this installation lets them do; a
// clinical user sees the size of each of their worklists.
func (s *server) home(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.homeData(r, p)
	if err != nil {
		return err
	}
	switch q := r.URL.Query(); {
	case q.Has("acknowledged"):
		p.Flash = p.T("alerts.acknowledged")
	case q.Has("dismissed"):
		p.Flash = p.T("announcements.dismissed")
	case q.Get("decision") == "done":
		p.Flash = p.T("conference.decision.done")
	case q.Has("activated"):
		p.Flash = p.T("activate.done")
	}
	return s.render(w, p, http.StatusOK, "home", d)
}

// homeData reads what the home page shows, for the page and for a form on
// it that is shown again.
func (s *server) homeData(r *http.Request, p *page) (homeData, error) {
	var d homeData
	switch p.User.Role {
	case auth.Admin:
		d.Abilities = []string{"home.can.units", "home.can.users", "home.can.audit", "home.admin.noclinical"}
	case auth.DistrictAdmin:
		d.Abilities = []string{"home.can.units.district", "home.can.users.district", "home.can.audit.district", "home.can.figures.district"}
	default:
		d.Abilities = []string{"home.role." + string(p.User.Role)}
	}
	d.Figures = canReadFigures(p.User)
	var err error
	if isClinical(p.User) {
		if d.Worklists, err = s.worklistCounts(r); err != nil {
			return d, err
		}
		work, err := s.svc.MyWork(r.Context())
		if err != nil {
			return d, err
		}
		d.MyPatients, d.Interventions, d.Decisions = work.Patients, work.Interventions, work.Decisions
		d.MorePatients, d.MoreInterventions = work.MorePatients, work.MoreInterventions
		d.Conference = may(p.User, care.WriteConference)
	}
	if d.Glass, d.ShowGlass, err = s.homeGlass(r, p); err != nil {
		return d, err
	}
	if d.Alerts, err = s.homeAlerts(r, p); err != nil {
		return d, err
	}
	if d.Referrals, err = s.homeReferrals(r, p); err != nil {
		return d, err
	}
	d.Announcements, err = s.homeAnnouncements(r, p)
	return d, err
}

type accountData struct {
	Password *form
	// TOTPForm disables two-factor sign-in; TOTPRequired says the role
	// requires it (so it cannot be turned off); RecoveryLeft counts the
	// unused recovery codes.
	TOTPForm     *form
	TOTPRequired bool
	RecoveryLeft int
	Sessions     []care.SessionInfo
}

// accountData reads what the account page shows besides its forms.
func (s *server) accountData(r *http.Request, p *page) (accountData, error) {
	d := accountData{Password: newForm(nil, passwordFields...), TOTPForm: newForm(nil, "code"),
		TOTPRequired: s.svc.RequiresTOTP(p.User.Role)}
	var err error
	if d.RecoveryLeft, err = s.svc.RecoveryCodesLeft(r.Context()); err != nil {
		return d, err
	}
	d.Sessions, _, err = s.svc.MySessions(r.Context(), care.Page{Limit: care.MaxLimit})
	return d, err
}

func (s *server) account(w http.ResponseWriter, r *http.Request, p *page) error {
	switch r.URL.Query().Get("saved") {
	case "password":
		p.Flash = p.T("account.password.saved")
	case "language":
		p.Flash = p.T("account.language.saved")
	case "totp":
		p.Flash = p.T("account.totp.off")
	case "session":
		p.Flash = p.T("account.session.ended")
	}
	d, err := s.accountData(r, p)
	if err != nil {
		return err
	}
	return s.render(w, p, http.StatusOK, "account", d)
}

var passwordFields = []string{"current_password", "new_password", "confirm_password"}

// changePassword changes the user's own password. The session it is done
// in stays open; the service ends the user's other sessions.
func (s *server) changePassword(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, passwordFields...)
	p.Path = "/account"
	d, err := s.accountData(r, p)
	if err != nil {
		return err
	}
	d.Password = f
	if f.V("new_password") != f.V("confirm_password") {
		f.fieldError(p, "confirm_password", "does not match the new password")
		return s.render(w, p, http.StatusUnprocessableEntity, "account", d)
	}
	var token string
	if c, err := r.Cookie(sessionCookie); err == nil {
		token = c.Value
	}
	if err := s.svc.ChangePassword(r.Context(), f.V("current_password"), f.V("new_password"), token); err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return s.render(w, p, status, "account", d)
	}
	http.Redirect(w, r, "/account?saved=password", http.StatusSeeOther)
	return nil
}
