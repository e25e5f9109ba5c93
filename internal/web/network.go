package web

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kith/internal/care"
)

// The service network's staff pages (/services: the list, a service, its
// form) and the public site's directory (/public/services); the articles
// are in articles.go. Texts are in locales/network.*.json.

func init() {
	// The kinds of service are named in the catalogues as enum.service.KIND.
	enumValues["service"] = care.ServiceKinds
}

func (s *server) networkRoutes(mux *http.ServeMux) {
	mux.Handle("GET /services", s.handle(staff, s.services))
	mux.Handle("GET /services/new", s.handle(staff, s.newService))
	mux.Handle("POST /services", s.handle(staff, s.createService))
	mux.Handle("GET /services/{id}", s.handle(staff, s.serviceDetail))
	mux.Handle("POST /services/{id}", s.handle(staff, s.updateService))
	mux.Handle("POST /services/{id}/delete", s.handle(staff, s.deleteService))
	mux.Handle("GET /public/services", s.public(s.publicDirectory))
	s.articleRoutes(mux)
}

// mayEditServices reports whether the user edits the service network
// somewhere (the service decides again on each one).
func mayEditServices(a *care.Actor) bool {
	return a != nil && care.Allow(a, care.WriteService, ownUnit(a))
}

type servicesData struct {
	List     []serviceRow
	NextURL  string
	OrgUnit  string
	Kind     string
	Kinds    []choiceOption
	Units    []care.Unit
	MayEdit  bool
	Filtered bool
}

// serviceRow is a service as the list shows it.
type serviceRow struct {
	care.Provider
	KindName string
}

// services lists the service network a page at a time, filtered by the
// unit served and the kind.
func (s *server) services(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	d := servicesData{OrgUnit: strings.TrimSpace(q.Get("org_unit")), Kind: q.Get("kind"), MayEdit: mayEditServices(p.User)}
	d.Filtered = d.OrgUnit != "" || d.Kind != ""
	if name := q.Get("deleted"); name != "" {
		p.Flash = p.T("network.deleted")
	}
	list, next, err := s.svc.Providers(r.Context(), care.ProviderQuery{OrgUnit: d.OrgUnit, Kind: d.Kind},
		care.Page{Token: q.Get("page_token")})
	if err != nil {
		return err
	}
	for _, v := range list {
		d.List = append(d.List, serviceRow{Provider: v, KindName: p.Enum("service", v.Kind)})
	}
	if next != "" {
		v := url.Values{"page_token": {next}}
		if d.OrgUnit != "" {
			v.Set("org_unit", d.OrgUnit)
		}
		if d.Kind != "" {
			v.Set("kind", d.Kind)
		}
		d.NextURL = "/services?" + v.Encode()
	}
	for _, k := range care.ServiceKinds {
		d.Kinds = append(d.Kinds, choiceOption{Value: k, Label: p.Enum("service", k), Checked: k == d.Kind})
	}
	if d.Units, _, err = s.svc.Units(r.Context(), "", care.Page{Limit: care.MaxLimit}); err != nil {
		return err
	}
	return s.render(w, p, http.StatusOK, "services", d)
}

var serviceFields = []string{"name", "name_en", "kind", "address", "address_en", "phone", "hours", "hours_en", "capacity",
	"offers", "offers_en", "contact_name", "contact_phone", "org_unit"}

type serviceData struct {
	Service *care.Provider // nil for a new one
	Form    *form
	Units   []unitChoice
	MayEdit bool
	Confirm bool // ask to confirm the deletion
}

// unitChoice is an org unit offered in the form's list of units served.
type unitChoice struct {
	care.Unit
	Checked bool
}

func (s *server) renderService(w http.ResponseWriter, r *http.Request, p *page, status int, d serviceData) error {
	units, _, err := s.svc.Units(r.Context(), "", care.Page{Limit: care.MaxLimit})
	if err != nil {
		return err
	}
	for _, u := range units {
		d.Units = append(d.Units, unitChoice{Unit: u, Checked: d.Form.Has("serves", u.Code)})
	}
	return s.render(w, p, status, "service", d)
}

// serviceInput reads the form; a capacity that is not a number is the
// form's own message.
func serviceInput(p *page, f *form) (care.ProviderInput, bool) {
	capacity, ok := parseCount(f.V("capacity"))
	if !ok {
		f.fieldError(p, "capacity", "must be a whole number")
	}
	return care.ProviderInput{Name: f.V("name"), NameEN: f.V("name_en"), Kind: f.V("kind"), Address: f.V("address"),
		AddressEN: f.V("address_en"), Phone: f.V("phone"), Hours: f.V("hours"), HoursEN: f.V("hours_en"), Capacity: int(capacity),
		Offers: f.V("offers"), OffersEN: f.V("offers_en"), ContactName: f.V("contact_name"), ContactPhone: f.V("contact_phone"),
		OrgUnit: f.V("org_unit"), Serves: f.L("serves")}, ok
}

func (s *server) newService(w http.ResponseWriter, r *http.Request, p *page) error {
	if !mayEditServices(p.User) {
		return errNoRights
	}
	return s.renderService(w, r, p, http.StatusOK, serviceData{Form: newForm(nil, serviceFields...).multi(nil, "serves"), MayEdit: true})
}

func (s *server) createService(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, serviceFields...).multi(r, "serves")
	p.Path = "/services/new"
	d := serviceData{Form: f, MayEdit: true}
	in, ok := serviceInput(p, f)
	if !ok {
		return s.renderService(w, r, p, http.StatusUnprocessableEntity, d)
	}
	v, err := s.svc.CreateProvider(r.Context(), in)
	if status := p.formError(f, err); status != 0 {
		return s.renderService(w, r, p, status, d)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/services/"+strconv.FormatInt(v.ID, 10)+"?saved=1", http.StatusSeeOther)
	return nil
}

// serviceForm is the form filled from a service.
func serviceForm(v *care.Provider) *form {
	f := newForm(nil, serviceFields...).multi(nil, "serves")
	for k, val := range map[string]string{"name": v.Name, "name_en": v.NameEN, "kind": v.Kind, "address": v.Address,
		"address_en": v.AddressEN, "phone": v.Phone, "hours": v.Hours, "hours_en": v.HoursEN, "offers": v.Offers,
		"offers_en": v.OffersEN, "contact_name": v.ContactName, "contact_phone": v.ContactPhone, "org_unit": v.OrgUnit} {
		f.set(k, val)
	}
	if v.Capacity > 0 {
		f.set("capacity", strconv.Itoa(v.Capacity))
	}
	f.setList("serves", v.Serves)
	return f
}

func (s *server) loadService(r *http.Request) (*care.Provider, error) {
	id, ok := care.ParseID(r.PathValue("id"))
	if !ok {
		return nil, errPageNotFound
	}
	return s.svc.Provider(r.Context(), id)
}

// serviceDetail shows a service, with the form to change it to those who
// may.
func (s *server) serviceDetail(w http.ResponseWriter, r *http.Request, p *page) error {
	v, err := s.loadService(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("saved") {
		p.Flash = p.T("network.saved")
	}
	return s.renderService(w, r, p, http.StatusOK, serviceData{Service: v, Form: serviceForm(v),
		MayEdit: care.Allow(p.User, care.WriteService, care.Target{Path: v.Path})})
}

func (s *server) updateService(w http.ResponseWriter, r *http.Request, p *page) error {
	v, err := s.loadService(r)
	if err != nil {
		return err
	}
	f := newForm(r, serviceFields...).multi(r, "serves")
	d := serviceData{Service: v, Form: f, MayEdit: true}
	in, ok := serviceInput(p, f)
	if !ok {
		return s.renderService(w, r, p, http.StatusUnprocessableEntity, d)
	}
	_, err = s.svc.UpdateProvider(r.Context(), v.ID, in)
	if status := p.formError(f, err); status != 0 {
		return s.renderService(w, r, p, status, d)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/services/"+strconv.FormatInt(v.ID, 10)+"?saved=1", http.StatusSeeOther)
	return nil
}

// deleteService removes a service once confirmed: the first press of the
// button shows what will go and asks again.
func (s *server) deleteService(w http.ResponseWriter, r *http.Request, p *page) error {
	v, err := s.loadService(r)
	if err != nil {
		return err
	}
	p.Path = "/services/" + strconv.FormatInt(v.ID, 10)
	if r.PostFormValue("confirm") != "1" {
		if !care.Allow(p.User, care.WriteService, care.Target{Path: v.Path}) {
			return errNoRights
		}
		return s.renderService(w, r, p, http.StatusOK, serviceData{Service: v, Form: serviceForm(v), MayEdit: true, Confirm: true})
	}
	if err := s.svc.DeleteProvider(r.Context(), v.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/services?deleted=1", http.StatusSeeOther)
	return nil
}

type publicDirectoryData struct {
	publicBase
	Communities   []publicStreet
	Community     string
	CommunityName string
	Groups        []publicGroup
}

// publicGroup is the services of one level: those of the community, of
// its street, of its district.
type publicGroup struct {
	Title    string
	Services []publicDirService
}

type publicDirService struct {
	care.PublicService
	KindName string
}

// wantsJSON reports whether the client asks for JSON rather than a page.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

// publicDirectory is the service directory for residents: choose a
// community, see the services serving it, its street and its district,
// each with its phone to tap. Asked for JSON (Accept: application/json) it
// answers with the list the API gives.
func (s *server) publicDirectory(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx := r.Context()
	d := publicDirectoryData{Community: strings.TrimSpace(r.URL.Query().Get("community"))}
	var list []care.Provider
	var err error
	if d.Community != "" {
		list, err = s.svc.ServicesFor(ctx, d.Community)
	} else if wantsJSON(r) {
		err = &care.Error{Kind: care.Invalid, Message: "please correct the fields shown",
			Fields: []care.FieldError{{Field: "community", Message: "is required: choose the community you live in"}}}
	}
	if wantsJSON(r) {
		return publicJSON(w, p, list, err)
	}
	if err != nil {
		return err
	}
	if d.Communities, d.CommunityName, err = s.publicCommunities(ctx, d.Community); err != nil {
		return err
	}
	if d.CommunityName == "" && d.Community != "" {
		d.CommunityName = s.svc.PublicUnitName(ctx, d.Community) // a street or district code
	}
	if d.Hotlines, _, err = s.publicHelp(ctx, p, ""); err != nil {
		return err
	}
	var cur *publicGroup
	last := ""
	for _, v := range care.PublicServices(list, p.Lang) {
		if v.Near != last {
			title := p.T("network.public.near.community", "Unit", d.CommunityName)
			if v.Near != d.Community {
				title = p.T("network.public.near.wider", "Unit", s.svc.PublicUnitName(ctx, v.Near))
			}
			d.Groups = append(d.Groups, publicGroup{Title: title})
			cur, last = &d.Groups[len(d.Groups)-1], v.Near
		}
		cur.Services = append(cur.Services, publicDirService{PublicService: v, KindName: p.Enum("service", v.Kind)})
	}
	return s.render(w, p, http.StatusOK, "public_services", d)
}

// publicJSON answers the directory's JSON: the list, or a problem (RFC
// 9457) in the API's shape for a community the service does not know.
func publicJSON(w http.ResponseWriter, p *page, list []care.Provider, err error) error {
	h := w.Header()
	h.Add("Vary", "Accept, Accept-Language")
	var ce *care.Error
	if errors.As(err, &ce) && ce.Kind == care.Invalid {
		h.Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		return json.NewEncoder(w).Encode(struct {
			Type   string            `json:"type"`
			Title  string            `json:"title"`
			Status int               `json:"status"`
			Detail string            `json:"detail"`
			Errors []care.FieldError `json:"errors"`
		}{"about:blank", http.StatusText(http.StatusUnprocessableEntity), http.StatusUnprocessableEntity, ce.Message, ce.Fields})
	}
	if err != nil {
		return err
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Language", p.Lang)
	return json.NewEncoder(w).Encode(struct {
		Items []care.PublicService `json:"items"`
	}{care.PublicServices(list, p.Lang)})
}
