package web

import (
	"net/http"
	"strconv"

	"kith/internal/care"
)

// communityRoutes are the pages of families, events, training and the
// guardian subsidy.
func (s *server) communityRoutes(mux *http.ServeMux) {
	mux.Handle("GET /patients/{id}/family/new", s.handle(clinicians, s.newFamilyMember))
	mux.Handle("POST /patients/{id}/family", s.handle(clinicians, s.addFamilyMember))
	mux.Handle("GET /patients/{id}/family/{fid}", s.handle(clinicians, s.editFamilyMember))
	mux.Handle("POST /patients/{id}/family/{fid}", s.handle(clinicians, s.updateFamilyMember))
	mux.Handle("POST /patients/{id}/family/{fid}/delete", s.handle(clinicians, s.deleteFamilyMember))
	s.eventRoutes(mux)
	s.trainingRoutes(mux)
	s.subsidyRoutes(mux)
	s.communityFigureRoutes(mux)
}

var familyFields = []string{"name", "relation", "phone", "lives_with", "is_guardian", "notes"}

type familyData struct {
	Patient *care.Patient
	Member  *care.FamilyMember // nil for a new one
	Form    *form
	// Confirm asks to confirm the deletion.
	Confirm bool
}

func familyInput(f *form) care.FamilyInput {
	return care.FamilyInput{Name: f.V("name"), Relation: f.V("relation"), Phone: f.V("phone"), LivesWith: f.V("lives_with") != "",
		IsGuardian: f.V("is_guardian") != "", Notes: f.V("notes")}
}

func (s *server) newFamilyMember(w http.ResponseWriter, r *http.Request, p *page) error {
	pt, err := s.loadPatient(r)
	if err != nil {
		return err
	}
	if !may(p.User, care.WritePatient) {
		return errNoRights
	}
	return s.render(w, p, http.StatusOK, "family_form", familyData{Patient: pt, Form: newForm(nil, familyFields...)})
}

// familyMember finds a family member of the patient of the URL.
func (s *server) familyMember(r *http.Request) (*care.Patient, *care.FamilyMember, error) {
	pt, err := s.loadPatient(r)
	if err != nil {
		return nil, nil, err
	}
	fid, err := pathID(r, "fid")
	if err != nil {
		return nil, nil, err
	}
	list, err := s.svc.Family(r.Context(), pt.ID)
	if err != nil {
		return nil, nil, err
	}
	for i := range list {
		if list[i].ID == fid {
			return pt, &list[i], nil
		}
	}
	return nil, nil, errPageNotFound
}

func (s *server) editFamilyMember(w http.ResponseWriter, r *http.Request, p *page) error {
	pt, m, err := s.familyMember(r)
	if err != nil {
		return err
	}
	if !may(p.User, care.WritePatient) {
		return errNoRights
	}
	f := newForm(nil, familyFields...)
	f.set("name", m.Name)
	f.set("relation", m.Relation)
	f.set("phone", m.Phone)
	f.set("notes", m.Notes)
	if m.LivesWith {
		f.set("lives_with", "1")
	}
	if m.IsGuardian {
		f.set("is_guardian", "1")
	}
	return s.render(w, p, http.StatusOK, "family_form", familyData{Patient: pt, Member: m, Form: f})
}

func (s *server) addFamilyMember(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, familyFields...)
	if _, err := s.svc.AddFamilyMember(r.Context(), id, familyInput(f)); err != nil {
		code := p.formError(f, err)
		if code == 0 {
			return err
		}
		pt, err := s.svc.Patient(r.Context(), id)
		if err != nil {
			return err
		}
		return s.render(w, p, code, "family_form", familyData{Patient: pt, Form: f})
	}
	http.Redirect(w, r, patientURL(id, "saved=family")+"#family", http.StatusSeeOther)
	return nil
}

func (s *server) updateFamilyMember(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	fid, err := pathID(r, "fid")
	if err != nil {
		return err
	}
	f := newForm(r, familyFields...)
	if _, err := s.svc.UpdateFamilyMember(r.Context(), id, fid, familyInput(f)); err != nil {
		code := p.formError(f, err)
		if code == 0 {
			return err
		}
		pt, m, err := s.familyMember(r)
		if err != nil {
			return err
		}
		return s.render(w, p, code, "family_form", familyData{Patient: pt, Member: m, Form: f})
	}
	http.Redirect(w, r, patientURL(id, "saved=family")+"#family", http.StatusSeeOther)
	return nil
}

// deleteFamilyMember asks to confirm, then deletes a family member
// recorded in error.
func (s *server) deleteFamilyMember(w http.ResponseWriter, r *http.Request, p *page) error {
	pt, m, err := s.familyMember(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "1" {
		return s.render(w, p, http.StatusOK, "family_form", familyData{Patient: pt, Member: m, Form: newForm(nil, familyFields...), Confirm: true})
	}
	if err := s.svc.DeleteFamilyMember(r.Context(), pt.ID, m.ID); err != nil {
		f := newForm(nil, familyFields...)
		code := p.formError(f, err)
		if code == 0 {
			return err
		}
		return s.render(w, p, code, "family_form", familyData{Patient: pt, Member: m, Form: f, Confirm: true})
	}
	http.Redirect(w, r, patientURL(pt.ID, "saved=family")+"#family", http.StatusSeeOther)
	return nil
}

// familyURL is the address of a family member's page.
func familyURL(patientID, id int64) string {
	return patientURL(patientID) + "/family/" + strconv.FormatInt(id, 10)
}
