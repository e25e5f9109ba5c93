// Package web serves the staff UI: sign-in, the shell every page shares
// (navigation by role, language switch), the account page, the
// administration pages for org units, users and the audit log, and the
// clinical pages: worklists, the patient register, the patient record with
// its follow-ups and emergencies; and the figures (R-KPI): the dashboard,
// the lists behind the figures, the monthly report and the exports.
//
// Pages are rendered on the server with html/template and work without
// JavaScript. Every string comes from the English and Simplified Chinese
// catalogues in locales/. Handlers talk only to the care service and return
// their errors to one function, fail, that turns them into responses.
package web

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"kith/internal/care"
)

//go:embed templates static locales
var files embed.FS

type server struct {
	svc       *care.Service
	catalogue *i18n.Bundle
	pages     map[string]*template.Template
	static    map[string]string // static file → versioned URL
}

// Register adds the web UI's routes to mux.
func Register(mux *http.ServeMux, svc *care.Service) {
	s, err := newServer(svc)
	if err != nil {
		// The templates and catalogues are embedded: a broken one is a
		// programming error, which every test of this package catches.
		panic(err)
	}
	s.routes(mux)
}

func newServer(svc *care.Service) (*server, error) {
	s := &server{svc: svc}
	var err error
	if s.catalogue, err = loadCatalogue(); err != nil {
		return nil, err
	}
	if s.static, err = staticURLs(); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"static":     func(name string) string { return s.static[name] },
		"input":      input,
		"choice":     choice,
		"options":    options,
		"row":        rowName,
		"tileOf":     func(p *page, t figureTile) tileView { return tileView{P: p, Tile: t} },
		"otpauth":    otpauthURL,
		"tel":        tel,
		"removeLink": removeLink,
		"goalField":  goalField,
		"ivField":    ivField,
		"plus1":      func(i int) int { return i + 1 },
		"cpField":    cpField,
		"decField":   decField,
		"outField":   outsideField,
		"colleagues": func(p *page, list []care.Colleague) colleagueList { return colleagueList{P: p, List: list} },
	}
	if s.pages, err = parsePages(funcs); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *server) routes(mux *http.ServeMux) {
	mux.Handle("GET /static/", serveStatic())

	mux.Handle("GET /login", s.handle(anyone, s.loginPage))
	mux.Handle("POST /login", s.handle(anyone, s.login))
	mux.Handle("POST /logout", s.handle(anyone, s.logout))
	mux.Handle("POST /lang", s.handle(anyone, s.setLanguage))

	s.publicRoutes(mux)
	s.assessmentRoutes(mux)
	s.securityRoutes(mux)
	s.accountRoutes(mux)
	s.networkRoutes(mux)
	s.teamRoutes(mux)
	s.planRoutes(mux)
	s.conferenceRoutes(mux)
	s.referralRoutes(mux)
	s.communityRoutes(mux)

	mux.Handle("GET /{$}", s.handle(staff, s.home))
	mux.Handle("GET /account", s.handle(staff, s.account))
	mux.Handle("GET /help/rules", s.handle(staff, s.helpRulesPage))
	mux.Handle("POST /account/password", s.handle(staff, s.changePassword))

	mux.Handle("GET /admin/units", s.handle(admins, s.units))
	mux.Handle("POST /admin/units", s.handle(admins, s.createUnit))
	mux.Handle("GET /admin/units/{code}", s.handle(admins, s.unit))
	mux.Handle("POST /admin/units/{code}", s.handle(admins, s.updateUnit))
	mux.Handle("GET /admin/users", s.handle(admins, s.users))
	mux.Handle("POST /admin/users", s.handle(admins, s.createUser))
	mux.Handle("GET /admin/users/{username}", s.handle(admins, s.user))
	mux.Handle("POST /admin/users/{username}", s.handle(admins, s.updateUser))
	mux.Handle("GET /admin/audit", s.handle(admins, s.audit))
	mux.Handle("GET /admin/import", s.handle(importers, s.importPage))
	mux.Handle("POST /admin/import", s.handle(importers, s.uploadImport))
	mux.Handle("GET /admin/import/template", s.handle(importers, s.importTemplate))
	mux.Handle("GET /admin/import/{id}", s.handle(importers, s.importJobPage))
	mux.Handle("POST /admin/import/{id}", s.handle(importers, s.confirmImport))

	mux.Handle("GET /worklist", s.handle(clinicians, s.worklist))
	mux.Handle("GET /patients", s.handle(clinicians, s.patients))
	mux.Handle("GET /patients/new", s.handle(clinicians, s.newPatient))
	mux.Handle("POST /patients", s.handle(clinicians, s.registerPatient))
	mux.Handle("GET /patients/{id}", s.handle(clinicians, s.patient))
	mux.Handle("GET /patients/{id}/edit", s.handle(clinicians, s.editPatient))
	mux.Handle("POST /patients/{id}/national-id/reveal", s.handle(clinicians, s.revealNationalID))
	mux.Handle("POST /patients/{id}", s.handle(clinicians, s.updatePatient))
	mux.Handle("GET /patients/{id}/status", s.handle(clinicians, s.statusPage))
	mux.Handle("POST /patients/{id}/status", s.handle(clinicians, s.changeStatus))
	mux.Handle("GET /patients/{id}/transfer", s.handle(clinicians, s.transferPage))
	mux.Handle("POST /patients/{id}/transfer", s.handle(clinicians, s.transfer))
	mux.Handle("GET /patients/{id}/follow-ups/new", s.handle(clinicians, s.newFollowUp))
	mux.Handle("POST /patients/{id}/follow-ups", s.handle(clinicians, s.recordFollowUp))
	mux.Handle("GET /patients/{id}/follow-ups/{fid}", s.handle(clinicians, s.followUp))
	mux.Handle("GET /patients/{id}/follow-ups/{fid}/correct", s.handle(clinicians, s.correctionPage))
	mux.Handle("POST /patients/{id}/follow-ups/{fid}", s.handle(clinicians, s.correctFollowUp))
	mux.Handle("GET /patients/{id}/emergencies/new", s.handle(clinicians, s.newEmergency))
	mux.Handle("POST /patients/{id}/emergencies", s.handle(clinicians, s.recordEmergency))
	mux.Handle("POST /patients/{id}/emergencies/{eid}/complete", s.handle(clinicians, s.completeEmergency))

	mux.Handle("GET /figures", s.handle(figureReaders, s.figures))
	mux.Handle("GET /figures/report", s.handle(figureReaders, s.figureReport))
	mux.Handle("GET /figures/export", s.handle(figureReaders, s.figureExport))
	mux.Handle("GET /figures/{key}/patients", s.handle(figureReaders, s.figurePatients))

	// Everything else is a page that does not exist, in the user's language.
	// The JSON API answers its own unknown paths.
	mux.Handle("/", s.handle(anyone, func(w http.ResponseWriter, r *http.Request, p *page) error {
		return errPageNotFound
	}))
}

// handler is a page handler. It writes a response, or returns an error for
// fail to turn into one.
type handler func(w http.ResponseWriter, r *http.Request, p *page) error

// access is who may open a page.
type access int

const (
	anyone        access = iota // signed in or not
	staff                       // any signed-in user
	admins                      // users who manage units and accounts
	clinicians                  // users who work with patient records
	figureReaders               // users who see the figures of their jurisdiction
	enrolling                   // any signed-in user, even one who must first enrol a second factor
	importers                   // users who import an existing registry
)

// handle resolves the session (if any), picks the language, checks access
// and runs h, sending any error to fail.
func (s *server) handle(who access, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.actor(w, r)
		if a != nil {
			r = r.WithContext(care.WithActor(r.Context(), a))
		}
		p := s.newPage(r, a)
		if err == nil && r.Method == http.MethodPost {
			err = readForm(r)
		}
		switch {
		case err != nil:
		case who != anyone && a == nil:
			err = errSignIn
		case who != anyone && who != enrolling && a.MustEnrol:
			// The role requires a second factor: nothing but enrolment
			// until there is one.
			http.Redirect(w, r, enrolPath, http.StatusSeeOther)
		case who == admins && !canAdminister(a):
			err = errNoRights
		case who == clinicians && !isClinical(a):
			err = errNoRights
		case who == figureReaders && !canReadFigures(a):
			err = errNoRights
		case who == importers && !mayImport(a):
			err = errNoRights
		default:
			err = h(w, r, p)
		}
		if err != nil {
			s.fail(w, r, p, err)
		}
	})
}

// canAdminister reports whether the user manages org units and accounts:
// whether the policy lets them read the accounts of their own unit.
func canAdminister(a *care.Actor) bool {
	return care.Allow(a, care.ReadUser, ownUnit(a))
}

// isClinical reports whether the user works with patient records: whether
// the policy lets them read the patients of their own unit.
func isClinical(a *care.Actor) bool {
	return care.Allow(a, care.ReadPatient, ownUnit(a))
}

// may reports whether the policy lets the user do act to the patients of
// their jurisdiction, to decide which links and buttons to show; the
// service decides again when the action is taken. Every patient a user
// sees lies within their jurisdiction, so its own unit is the target.
func may(a *care.Actor, act care.Action) bool {
	return care.Allow(a, act, ownUnit(a))
}

// ownUnit is the policy target for the actor's own jurisdiction; a system
// administrator's is the whole tree.
func ownUnit(a *care.Actor) care.Target {
	if a.UnitPath == "" {
		return care.Target{Path: "/"}
	}
	return care.Target{Path: a.UnitPath}
}
