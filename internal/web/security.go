package web

import (
	"net/http"
	"strings"
	"time"

	"kith/internal/care"
)

// Break the glass and the patient's access report. A clinician who reaches
// a record outside their jurisdiction by its exact id (given by the other
// district by phone) finds a link on the "not found" page to a form that
// asks why; the grant then opens that one record for a few hours. The
// access report is a printable page of who read or changed a record.

func init() { enumValues["glass_reason"] = care.GlassReasons }

func (s *server) securityRoutes(mux *http.ServeMux) {
	mux.Handle("GET /patients/{id}/break-glass", s.handle(clinicians, s.glassPage))
	mux.Handle("POST /patients/{id}/break-glass", s.handle(clinicians, s.breakGlass))
	mux.Handle("GET /patients/{id}/access-report", s.handle(clinicians, s.accessReport))
}

type glassData struct {
	ID    int64
	Hours int
	Form  *form
}

var glassFields = []string{"reason", "note"}

// glassPage asks a clinician why they must read a record outside their
// jurisdiction. It shows nothing of the record: whether it exists is told
// only after the reason is given, and that attempt is audited.
func (s *server) glassPage(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if !may(p.User, care.BreakGlass) {
		return errNoRights
	}
	return s.renderGlass(w, p, http.StatusOK, id, newForm(nil, glassFields...))
}

func (s *server) renderGlass(w http.ResponseWriter, p *page, status int, id int64, f *form) error {
	return s.render(w, p, status, "break_glass", glassData{ID: id, Hours: int(s.svc.GlassFor() / time.Hour), Form: f})
}

func (s *server) breakGlass(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, glassFields...)
	if _, err := s.svc.BreakGlass(r.Context(), id, care.GlassInput{Reason: f.V("reason"), Note: f.V("note")}); err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		unanswered(p, f, "reason")
		return s.renderGlass(w, p, status, id, f)
	}
	http.Redirect(w, r, patientURL(id, "glass=1"), http.StatusSeeOther)
	return nil
}

// glassURL is the break-the-glass form for the patient a "not found" page
// was asked for, when the user may break the glass; "" otherwise.
func glassURL(r *http.Request, p *page) string {
	if r.Method != http.MethodGet || r.Pattern != "GET /patients/{id}" || p.User == nil || !may(p.User, care.BreakGlass) {
		return ""
	}
	id, err := pathID(r, "id")
	if err != nil {
		return ""
	}
	return patientURL(id) + "/break-glass"
}

type accessData struct {
	Patient *care.Patient
	Lines   []care.Access
	Next    string
	Printed time.Time
	// All is the whole report on one page, for printing (?all=1); Cut
	// says it stopped at care.AccessReportMax lines.
	All bool
	Cut bool
}

// accessReport shows the patient's access report, ready to print.
func (s *server) accessReport(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d := accessData{Printed: time.Now(), All: r.URL.Query().Get("all") == "1"}
	if d.All {
		d.Lines, d.Cut, err = s.svc.FullAccessReport(r.Context(), id)
	} else {
		d.Lines, d.Next, err = s.svc.AccessReport(r.Context(), id, care.Page{Token: r.URL.Query().Get("page_token"), Limit: care.MaxLimit})
	}
	if err != nil {
		return err
	}
	if d.Patient, err = s.svc.Patient(r.Context(), id); err != nil {
		return err
	}
	return s.render(w, p, http.StatusOK, "access_report", d)
}

// What says an access report line in plain words, in the page's language:
// an action the report has no words of its own for is named as the audit
// log names it, so that no line of a Chinese report is in English.
func (p *page) What(x care.Access) string {
	if s := p.lookup("access.what."+x.Action, ""); s != "" {
		return s
	}
	return p.Action(x.Action)
}

// homeGlass lists the district's break-the-glass events of the last days
// for those they are reported to (psychiatrists, district administrators).
func (s *server) homeGlass(r *http.Request, p *page) ([]care.Glass, bool, error) {
	if !care.Allow(p.User, care.ReadGlass, ownUnit(p.User)) {
		return nil, false, nil
	}
	list, err := s.svc.RecentGlass(r.Context())
	return list, true, err
}

// GlassFlag marks an audit entry made under break-the-glass, with its
// reason, in the page's language; "" for any other entry.
func (p *page) GlassFlag(detail string) string {
	reason, ok := strings.CutPrefix(detail, care.GlassDetail)
	if !ok {
		return ""
	}
	return p.T("access.glass") + ": " + p.Enum("glass_reason", reason)
}
