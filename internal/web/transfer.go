package web

import (
	"net/http"

	"kith/internal/care"
)

// The status change and transfer forms: small forms of their own, because
// each writes history (the status history, a transfer in both units'
// audit) rather than correcting the record.

type statusData struct {
	Patient *care.Patient
	Form    *form
}

var statusFields = []string{"status", "status_on", "status_reason"}

func (s *server) statusPage(w http.ResponseWriter, r *http.Request, p *page) error {
	pt, err := s.loadPatient(r)
	if err != nil {
		return err
	}
	if !may(p.User, care.WritePatient) {
		return errNoRights
	}
	f := newForm(nil, statusFields...)
	f.set("status", pt.Status)
	f.set("status_on", s.today())
	return s.render(w, p, http.StatusOK, "patient_status", statusData{Patient: pt, Form: f})
}

// changeStatus records a new status in the patient's status history.
func (s *server) changeStatus(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p.Path = patientURL(id) + "/status"
	f := newForm(r, statusFields...)
	status := f.V("status")
	if _, err := s.svc.UpdatePatient(r.Context(), id, care.PatientPatch{Status: &status, StatusOn: f.V("status_on"),
		StatusReason: f.V("status_reason")}); err != nil {
		code := p.formError(f, err)
		if code == 0 {
			return err
		}
		unanswered(p, f, "status")
		pt, err := s.svc.Patient(r.Context(), id)
		if err != nil {
			return err
		}
		return s.render(w, p, code, "patient_status", statusData{Patient: pt, Form: f})
	}
	http.Redirect(w, r, patientURL(id, "saved=status"), http.StatusSeeOther)
	return nil
}

type transferData struct {
	Patient *care.Patient
	Form    *form
	Units   []care.Unit
}

var transferFields = []string{"org_unit", "date", "reason"}

func (s *server) transferPage(w http.ResponseWriter, r *http.Request, p *page) error {
	pt, err := s.loadPatient(r)
	if err != nil {
		return err
	}
	if !may(p.User, care.WritePatient) {
		return errNoRights
	}
	f := newForm(nil, transferFields...)
	f.set("date", s.today())
	return s.renderTransfer(w, r, p, http.StatusOK, transferData{Patient: pt, Form: f})
}

func (s *server) renderTransfer(w http.ResponseWriter, r *http.Request, p *page, status int, d transferData) error {
	p.Path = patientURL(d.Patient.ID) + "/transfer"
	var err error
	if d.Units, err = s.communities(r); err != nil {
		return err
	}
	return s.render(w, p, status, "patient_transfer", d)
}

// transfer moves the patient to another community. If the user may not see
// the new community, the record leaves their sight: they go back to the
// register, with a word about where the patient went.
func (s *server) transfer(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, transferFields...)
	moved, err := s.svc.TransferPatient(r.Context(), id, care.TransferInput{OrgUnit: f.V("org_unit"), Date: f.V("date"),
		Reason: f.V("reason")})
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		pt, err := s.svc.Patient(r.Context(), id)
		if err != nil {
			return err
		}
		return s.renderTransfer(w, r, p, status, transferData{Patient: pt, Form: f})
	}
	if u, err := s.svc.Unit(r.Context(), moved.OrgUnit); err == nil && care.Allow(p.User, care.ReadPatient, care.Target{Path: u.Path}) {
		http.Redirect(w, r, patientURL(id, "saved=transfer"), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/patients?transferred=1", http.StatusSeeOther)
	return nil
}
