package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"kith/internal/care"
	"kith/internal/clinical/instrument"
	"kith/internal/directory"
)

// The public site: what the community mental health service is and how to
// reach it, anonymous self-screening (the public instruments: PHQ-9, GAD-7,
// K10) that scores at once and explains the result, the hotlines and the
// nearest services, and a resident's request to be contacted by a
// community worker. No sign-in: its pages never read or set a session, so
// that nothing a resident does here is linked to a staff account, and they
// set no cookie but the language one. Nothing about the answers is logged.
//
// The pages have a layout of their own (templates/public_layout.html) and
// their texts in locales/public.*.json; item texts, answers, bands and
// advice come from the instrument definitions.

// publicRoutes adds the public site: no sign-in, its own layout.
func (s *server) publicRoutes(mux *http.ServeMux) {
	mux.Handle("GET /public", http.RedirectHandler("/public/", http.StatusMovedPermanently))
	mux.Handle("GET /public/{$}", s.public(s.publicHome))
	mux.Handle("GET /public/screening/{instrument}", s.public(s.publicScreening))
	mux.Handle("POST /public/screening/{instrument}", s.public(s.publicScreen))
	mux.Handle("GET /public/contact", s.public(s.publicContactPage))
	mux.Handle("POST /public/contact", s.public(s.publicContact))
	mux.Handle("/public/", s.public(func(w http.ResponseWriter, r *http.Request, p *page) error {
		return errPageNotFound
	}))
}

// public wraps a page of the public site. Unlike handle it resolves no
// session: the page is the same for everyone, in the language of the
// cookie or the browser. Errors go to publicFail.
func (s *server) public(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := s.newPage(r, nil)
		var err error
		if r.Method == http.MethodPost {
			err = readForm(r)
		}
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			s.publicFail(w, r, p, err)
		}
	})
}

// publicBase is what every public page's layout shows: the hotlines, and
// the crisis box above everything when a result calls for it.
type publicBase struct {
	Hotlines    []publicHotline
	Crisis      bool
	CrisisFlags []string // what in the answers raised it, in plain words
}

type publicHotline struct{ Name, Number, Hours string }

type publicService struct{ Name, Address, Phone, Hours string }

// publicStreet is a street with its communities, for a grouped select.
type publicStreet struct {
	Name        string
	Communities []publicCommunity
}

type publicCommunity struct {
	Code, Name string
	Selected   bool
}

// publicInstrument is a public instrument as the home page lists it.
type publicInstrument struct {
	ID, Title, Short, About string
}

// publicHelp returns the hotlines and the services nearest a community
// (none when community is empty) in the page's language.
func (s *server) publicHelp(ctx context.Context, p *page, community string) ([]publicHotline, []publicService, error) {
	h, err := s.svc.Help(ctx, community)
	if err != nil {
		return nil, nil, err
	}
	hot := make([]publicHotline, len(h.Hotlines))
	for i, l := range h.Hotlines {
		hot[i] = publicHotline{Name: l.Name.In(p.Lang), Number: l.Number, Hours: l.Hours.In(p.Lang)}
	}
	return hot, publicServices(p, h.Services), nil
}

func publicServices(p *page, list []directory.Service) []publicService {
	out := make([]publicService, len(list))
	for i, v := range list {
		out[i] = publicService{Name: v.Name.In(p.Lang), Address: v.Address.In(p.Lang), Phone: v.Phone, Hours: v.Hours.In(p.Lang)}
	}
	return out
}

// publicCommunities lists the communities by street, the one with code
// selected marked, and returns the name of that one ("" if none).
func (s *server) publicCommunities(ctx context.Context, selected string) ([]publicStreet, string, error) {
	units, err := s.svc.Communities(ctx)
	if err != nil {
		return nil, "", err
	}
	var out []publicStreet
	name := ""
	for _, u := range units {
		if len(out) == 0 || out[len(out)-1].Name != u.Street {
			out = append(out, publicStreet{Name: u.Street})
		}
		st := &out[len(out)-1]
		st.Communities = append(st.Communities, publicCommunity{Code: u.Code, Name: u.Name, Selected: u.Code == selected})
		if u.Code == selected {
			name = u.Name
		}
	}
	return out, name, nil
}

// publicDefinition returns the newest version of a public instrument, or
// nil: instruments for staff only are not offered here.
func (s *server) publicDefinition(id string) *instrument.Definition {
	d := s.svc.Instruments().Latest(id)
	if d == nil || !d.Public {
		return nil
	}
	return d
}

type publicHomeData struct {
	publicBase
	Instruments   []publicInstrument
	Communities   []publicStreet
	Community     string // the community chosen to see its nearest services
	CommunityName string
	Services      []publicService
}

// publicHome says what the service is and how to reach it, with the
// hotlines, the services nearest a chosen community and the screenings.
func (s *server) publicHome(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx := r.Context()
	d := publicHomeData{Community: r.URL.Query().Get("community")}
	var err error
	if d.Communities, d.CommunityName, err = s.publicCommunities(ctx, d.Community); err != nil {
		return err
	}
	if d.CommunityName == "" {
		d.Community = ""
	}
	if d.Hotlines, d.Services, err = s.publicHelp(ctx, p, d.Community); err != nil {
		return err
	}
	for _, def := range s.svc.Instruments().Public() {
		d.Instruments = append(d.Instruments, publicInstrument{ID: def.ID, Title: def.Title.In(p.Lang), Short: def.Short.In(p.Lang),
			About: p.lookup("public.about."+def.ID, p.TN("public.screening.items", len(def.Items)))})
	}
	return s.render(w, p, http.StatusOK, "public_home", d)
}

type publicFormData struct {
	publicBase
	ID, Short, Title, Prompt string
	Items                    []publicItem
	Communities              []publicStreet
	Failed                   bool   // answers are missing or wrong
	CommunityError           string // the message about the community chosen
}

type publicItem struct {
	ID, Text, Error string
	Number          int // from 1
	Options         []publicOption
}

type publicOption struct {
	Value, Text string
	Checked     bool
}

// publicScreening is a screening's form: every item with its answers.
func (s *server) publicScreening(w http.ResponseWriter, r *http.Request, p *page) error {
	d := s.publicDefinition(r.PathValue("instrument"))
	if d == nil {
		return errPageNotFound
	}
	return s.renderScreening(w, r, p, http.StatusOK, d, nil, nil, "")
}

// renderScreening shows the form of d with the answers sent (nil: none),
// the messages about items by item ID, and one about the community.
func (s *server) renderScreening(w http.ResponseWriter, r *http.Request, p *page, status int, d *instrument.Definition,
	answers map[string]string, errs map[string]string, communityErr string) error {
	ctx := r.Context()
	data := publicFormData{ID: d.ID, Short: d.Short.In(p.Lang), Title: d.Title.In(p.Lang), Prompt: d.Prompt.In(p.Lang),
		Failed: len(errs) > 0 || communityErr != "", CommunityError: communityErr}
	var err error
	if data.Hotlines, _, err = s.publicHelp(ctx, p, ""); err != nil {
		return err
	}
	if data.Communities, _, err = s.publicCommunities(ctx, r.PostFormValue("community")); err != nil {
		return err
	}
	for i, it := range d.Items {
		item := publicItem{ID: it.ID, Text: it.Text.In(p.Lang), Error: errs[it.ID], Number: i + 1}
		for _, o := range d.OptionsOf(it) {
			v := strconv.Itoa(o.Value)
			item.Options = append(item.Options, publicOption{Value: v, Text: o.Text.In(p.Lang), Checked: answers[it.ID] == v})
		}
		data.Items = append(data.Items, item)
	}
	return s.render(w, p, status, "public_form", data)
}

// publicScreen scores a screening and shows the result at once, on this
// response: the answers never travel in a URL.
func (s *server) publicScreen(w http.ResponseWriter, r *http.Request, p *page) error {
	d := s.publicDefinition(r.PathValue("instrument"))
	if d == nil {
		return errPageNotFound
	}
	sent := make(map[string]string, len(d.Items))
	errs := map[string]string{}
	answers := make([]int, len(d.Items))
	for i, it := range d.Items {
		sent[it.ID] = r.PostFormValue(it.ID)
		v, err := strconv.Atoi(sent[it.ID])
		if err != nil {
			errs[it.ID] = p.T("public.err.answer")
			continue
		}
		answers[i] = v
	}
	if len(errs) > 0 {
		return s.renderScreening(w, r, p, http.StatusUnprocessableEntity, d, sent, errs, "")
	}
	sc, err := s.svc.Screen(r.Context(), care.ScreeningInput{Instrument: d.ID, Answers: answers,
		Community: r.PostFormValue("community")})
	var ce *care.Error
	if errors.As(err, &ce) && ce.Kind == care.Invalid {
		communityErr := ""
		for _, fe := range ce.Fields {
			if fe.Field == "community" {
				communityErr = p.publicMsg(fe.Message)
				continue
			}
			// answers[i]: an answer that is not one of the item's.
			if n, ok := strings.CutPrefix(fe.Field, "answers["); ok {
				if i, err := strconv.Atoi(strings.TrimSuffix(n, "]")); err == nil && i >= 0 && i < len(d.Items) {
					errs[d.Items[i].ID] = p.T("public.err.answer")
					continue
				}
			}
			return err
		}
		return s.renderScreening(w, r, p, http.StatusUnprocessableEntity, d, sent, errs, communityErr)
	}
	if err != nil {
		return err
	}
	return s.renderResult(w, r, p, d, sc)
}

type publicResultData struct {
	publicBase
	Short, Title    string
	Score, MaxScore int
	Band, Advice    string
	Level           string   // low, middle or high: how strongly to urge help
	Next            []string // what to do next
	Services        []publicService
	CommunityName   string
	Contact         *form
	Communities     []publicStreet
}

// renderResult shows a screening's score, band and advice, what to do
// next, the help nearest the community chosen, and the contact request
// form. A result that would raise an alert for a patient (PHQ-9 item 9
// above 0) puts the crisis box with the hotlines above everything.
func (s *server) renderResult(w http.ResponseWriter, r *http.Request, p *page, d *instrument.Definition, sc *care.Screening) error {
	ctx := r.Context()
	data := publicResultData{Short: d.Short.In(p.Lang), Title: d.Title.In(p.Lang), Score: sc.Score, MaxScore: d.MaxScore,
		Level: "middle"}
	data.Crisis = sc.Urgent
	for _, k := range sc.Flags {
		if f := d.Flag(k); f != nil && f.Alert {
			data.CrisisFlags = append(data.CrisisFlags, f.Label.In(p.Lang))
		}
	}
	for i, b := range d.Bands {
		if b.Key != sc.Band {
			continue
		}
		data.Band, data.Advice = b.Label.In(p.Lang), b.Advice.In(p.Lang)
		switch i {
		case 0:
			data.Level = "low"
		case len(d.Bands) - 1:
			data.Level = "high"
		}
	}
	if sc.Urgent {
		data.Level = "high"
	}
	switch data.Level {
	case "low":
		data.Next = []string{p.T("public.next.low.1"), p.T("public.next.low.2")}
	case "middle":
		data.Next = []string{p.T("public.next.middle.1"), p.T("public.next.contact")}
	default:
		data.Next = []string{p.T("public.next.high.1"), p.T("public.next.high.2"), p.T("public.next.contact")}
	}
	data.Next = append(data.Next, p.T("public.next.note"))
	var err error
	if data.Hotlines, data.Services, err = s.publicHelp(ctx, p, sc.Community); err != nil {
		return err
	}
	if data.Communities, data.CommunityName, err = s.publicCommunities(ctx, sc.Community); err != nil {
		return err
	}
	data.Contact = newForm(nil, publicContactFields...)
	data.Contact.set("screening", sc.ID)
	data.Contact.set("community", sc.Community)
	return s.render(w, p, http.StatusOK, "public_result", data)
}

var publicContactFields = []string{"screening", "name", "phone", "community", "message", "consent"}

type publicContactData struct {
	publicBase
	Contact     *form
	Communities []publicStreet
}

// publicContactPage is the contact request form on its own, for a resident
// who wants to be contacted without a screening.
func (s *server) publicContactPage(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(nil, publicContactFields...)
	f.set("community", r.URL.Query().Get("community"))
	return s.renderContact(w, r, p, http.StatusOK, f)
}

func (s *server) renderContact(w http.ResponseWriter, r *http.Request, p *page, status int, f *form) error {
	ctx := r.Context()
	d := publicContactData{Contact: f}
	var err error
	if d.Hotlines, _, err = s.publicHelp(ctx, p, ""); err != nil {
		return err
	}
	if d.Communities, _, err = s.publicCommunities(ctx, f.V("community")); err != nil {
		return err
	}
	return s.render(w, p, status, "public_contact", d)
}

type publicThanksData struct {
	publicBase
	Community, Phone string
	Services         []publicService
}

// publicContact records a contact request: it lands on the community's
// worklist. A form with mistakes is shown again with its messages.
func (s *server) publicContact(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, publicContactFields...)
	c, err := s.svc.RequestContact(r.Context(), care.ContactInput{Screening: f.V("screening"), Name: f.V("name"),
		Phone: f.V("phone"), Community: f.V("community"), Message: f.V("message"), Consent: f.V("consent") == "yes"})
	if status := p.publicFormError(f, err); status != 0 {
		return s.renderContact(w, r, p, status, f)
	}
	if err != nil {
		return err
	}
	d := publicThanksData{Community: c.CommunityName, Phone: c.Phone}
	if d.Hotlines, d.Services, err = s.publicHelp(r.Context(), p, c.Community); err != nil {
		return err
	}
	return s.render(w, p, http.StatusOK, "public_thanks", d)
}

// publicMessages are the public site's own words for the service's
// messages to residents; others are translated as on the staff pages.
var publicMessages = map[string]string{
	"please correct the fields shown":                                         "public.err.form",
	"is required, so that the worker knows whom to ask for":                   "public.err.name",
	"is required, so that a worker can call you":                              "public.err.phone",
	"must be a phone number: digits, spaces or -, optionally starting with +": "public.err.phoneformat",
	"please agree that a community worker may contact you":                    "public.err.consent",
	"is required: choose the community you live in":                           "public.err.community",
	"is not a community; choose one from the list":                            "public.err.community",
	"is not a screening this server holds":                                    "public.err.screening",
}

// publicMsg translates a message of the service for a resident.
func (p *page) publicMsg(msg string) string {
	if id, ok := publicMessages[msg]; ok {
		return p.T(id)
	}
	return p.Msg(msg)
}

// publicFormError puts an Invalid error of the service into f, as
// formError does with the public site's words, and returns the status to
// show the form with; any other error gives 0.
func (p *page) publicFormError(f *form, err error) int {
	var ce *care.Error
	if !errors.As(err, &ce) || ce.Kind != care.Invalid {
		return 0
	}
	f.Message = p.publicMsg(ce.Message)
	for _, fe := range ce.Fields {
		if _, ok := f.values[fe.Field]; ok && fe.Field != "screening" {
			f.errors[fe.Field] = p.publicMsg(fe.Message)
		} else {
			f.Other = append(f.Other, p.publicMsg(fe.Message))
		}
	}
	return http.StatusUnprocessableEntity
}

type publicErrorData struct {
	publicBase
	Status         int
	Title, Message string
	Details        []string
}

// publicFail is fail for the public site: the same mapping of errors, on
// pages in the public layout that lead back to the public site. Too many
// requests gets a friendly page asking to wait, with the hotlines.
func (s *server) publicFail(w http.ResponseWriter, r *http.Request, p *page, err error) {
	d := publicErrorData{}
	d.Hotlines, _, _ = s.publicHelp(r.Context(), p, "")
	var se statusError
	var ce *care.Error
	switch {
	case errors.As(err, &se):
		d.Status, d.Title, d.Message = se.status, p.T("public.error.badrequest"), p.T("public.error.badrequest.text")
	case errors.As(err, &ce) && ce.Kind == care.NotFound:
		d.Status, d.Title, d.Message = http.StatusNotFound, p.T("public.error.notfound"), p.T("public.error.notfound.text")
	case errors.As(err, &ce) && ce.Kind == care.TooManyRequests:
		d.Status, d.Title = http.StatusTooManyRequests, p.T("public.wait.title")
		d.Message = p.T("public.wait.text", "Wait", p.Wait(ce.RetryAfter))
		w.Header().Set("Retry-After", retryAfter(ce.RetryAfter))
	case errors.As(err, &ce) && ce.Kind == care.Invalid:
		d.Status, d.Title, d.Message = http.StatusUnprocessableEntity, p.T("public.error.invalid"), p.publicMsg(ce.Message)
		for _, f := range ce.Fields {
			d.Details = append(d.Details, p.publicMsg(f.Message))
		}
	default:
		// The error, never the form: it would hold the answers.
		slog.ErrorContext(r.Context(), "web: public page failed", "route", r.Pattern, "error", err)
		d.Status, d.Title, d.Message = http.StatusInternalServerError, p.T("public.error.internal"), p.T("public.error.internal.text")
	}
	if rerr := s.render(w, p, d.Status, "public_error", d); rerr != nil {
		slog.ErrorContext(r.Context(), "web: rendering the public error page failed", "error", rerr)
		http.Error(w, http.StatusText(d.Status), d.Status)
	}
}
