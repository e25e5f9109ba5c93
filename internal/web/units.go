package web

import (
	"net/http"
	"net/url"
	"strconv"

	"kith/internal/care"
)

type unitsData struct {
	Units    []care.Unit
	NextURL  string
	Form     *form // the new unit form
	Levels   []care.Level
	Parents  []care.Unit // units that can hold others, offered for parent codes
	FormOpen bool
}

var unitFields = []string{"code", "name", "level", "parent_code", "population"}

// units lists org units in tree order, a page at a time, with the form for
// a new one.
func (s *server) units(w http.ResponseWriter, r *http.Request, p *page) error {
	// The confirmation names the unit only if it exists, so that a crafted
	// link cannot put words of its own on the page.
	if c := r.URL.Query().Get("created"); c != "" {
		if u, err := s.svc.Unit(r.Context(), c); err == nil {
			p.Flash = p.T("units.created", "Code", u.Code)
		}
	}
	return s.renderUnits(w, r, p, http.StatusOK, newForm(nil, unitFields...))
}

func (s *server) renderUnits(w http.ResponseWriter, r *http.Request, p *page, status int, f *form) error {
	token := r.URL.Query().Get("page_token")
	list, next, err := s.svc.Units(r.Context(), "", care.Page{Token: token})
	if err != nil {
		return err
	}
	d := unitsData{Units: list, Form: f, Levels: append(care.Levels[:len(care.Levels):len(care.Levels)], care.Institution), FormOpen: f.Failed()}
	if next != "" {
		d.NextURL = "/admin/units?page_token=" + url.QueryEscape(next)
	}
	if d.Parents, err = s.parentUnits(r); err != nil {
		return err
	}
	return s.render(w, p, status, "units", d)
}

// parentUnits returns the first units that can hold others (districts and
// streets), to suggest in forms. Typing any other code works too.
func (s *server) parentUnits(r *http.Request) ([]care.Unit, error) {
	list, _, err := s.svc.Units(r.Context(), "", care.Page{Limit: care.MaxLimit})
	var out []care.Unit
	for _, u := range list {
		if u.Level != care.Community {
			out = append(out, u)
		}
	}
	return out, err
}

func (s *server) createUnit(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, unitFields...)
	p.Path = "/admin/units"
	pop, ok := parseCount(f.V("population"))
	if !ok {
		f.fieldError(p, "population", "must be a whole number")
		return s.renderUnits(w, r, p, http.StatusUnprocessableEntity, f)
	}
	u, err := s.svc.CreateUnit(r.Context(), care.UnitInput{Code: f.V("code"), Name: f.V("name"), Level: f.V("level"),
		ParentCode: f.V("parent_code"), Population: pop})
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return s.renderUnits(w, r, p, status, f)
	}
	http.Redirect(w, r, "/admin/units?created="+url.QueryEscape(u.Code), http.StatusSeeOther)
	return nil
}

type unitData struct {
	Unit    *care.Unit
	Form    *form
	Parents []care.Unit
}

var unitEditFields = []string{"name", "parent_code", "population"}

// unit shows one org unit with the form to change it.
func (s *server) unit(w http.ResponseWriter, r *http.Request, p *page) error {
	u, err := s.svc.Unit(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	if r.URL.Query().Has("saved") {
		p.Flash = p.T("unit.saved")
	}
	f := newForm(nil, unitEditFields...)
	f.set("name", u.Name)
	f.set("parent_code", u.ParentCode)
	f.set("population", strconv.FormatInt(u.Population, 10))
	return s.renderUnit(w, r, p, http.StatusOK, u, f)
}

func (s *server) renderUnit(w http.ResponseWriter, r *http.Request, p *page, status int, u *care.Unit, f *form) error {
	parents, err := s.parentUnits(r)
	if err != nil {
		return err
	}
	return s.render(w, p, status, "unit", unitData{Unit: u, Form: f, Parents: parents})
}

func (s *server) updateUnit(w http.ResponseWriter, r *http.Request, p *page) error {
	code := r.PathValue("code")
	u, err := s.svc.Unit(r.Context(), code)
	if err != nil {
		return err
	}
	f := newForm(r, unitEditFields...)
	pop, ok := parseCount(f.V("population"))
	if !ok {
		f.fieldError(p, "population", "must be a whole number")
		return s.renderUnit(w, r, p, http.StatusUnprocessableEntity, u, f)
	}
	name, parent := f.V("name"), f.V("parent_code")
	_, err = s.svc.UpdateUnit(r.Context(), code, care.UnitPatch{Name: &name, ParentCode: &parent, Population: &pop})
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return s.renderUnit(w, r, p, status, u, f)
	}
	http.Redirect(w, r, "/admin/units/"+url.PathEscape(code)+"?saved=1", http.StatusSeeOther)
	return nil
}
