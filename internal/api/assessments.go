package api

import (
	"net/http"
	"slices"
	"strconv"

	"kith/internal/care"
	"kith/internal/clinical/instrument"
)

// assessmentRoutes are the instruments, assessments and alerts, and the
// public self-screening with its contact requests.
var assessmentRoutes = []route{
	{Method: "GET", Pattern: "/api/v1/instruments", Public: true, Handle: (*handler).listInstruments},
	{Method: "GET", Pattern: "/api/v1/instruments/{id}", Public: true, Handle: (*handler).getInstrument},
	{Method: "POST", Pattern: "/api/v1/patients/{id}/assessments", Handle: withID(http.StatusCreated, (*care.Service).Assess)},
	{Method: "GET", Pattern: "/api/v1/patients/{id}/assessments", Handle: (*handler).listAssessments},
	{Method: "GET", Pattern: "/api/v1/alerts", Handle: (*handler).listAlerts},
	{Method: "PATCH", Pattern: "/api/v1/alerts/{id}", Handle: withID(http.StatusOK, (*care.Service).AcknowledgeAlert)},
	{Method: "POST", Pattern: "/api/v1/screenings", Public: true, Handle: (*handler).createScreening},
	{Method: "GET", Pattern: "/api/v1/communities", Public: true, Handle: (*handler).listCommunities},
	{Method: "POST", Pattern: "/api/v1/contact-requests", Public: true, Handle: (*handler).createContactRequest},
	{Method: "GET", Pattern: "/api/v1/contact-requests", Handle: (*handler).listContactRequests},
	{Method: "PATCH", Pattern: "/api/v1/contact-requests/{id}", Handle: withID(http.StatusOK, (*care.Service).RecordContactOutcome)},
	{Method: "GET", Pattern: "/api/v1/figures/screenings", Handle: (*handler).screeningFigures},
}

func init() { routes = append(routes, assessmentRoutes...) }

// lang picks the language of the texts in a response: ?lang= (en or
// zh-Hans), else the best match of Accept-Language, else English. It sets
// Content-Language and Vary accordingly.
func lang(w http.ResponseWriter, r *http.Request) (string, error) {
	w.Header().Add("Vary", "Accept-Language")
	l := r.URL.Query().Get("lang")
	if l != "" && !slices.Contains(care.Languages, l) {
		return "", fieldErr("lang", "must be en or zh-Hans")
	}
	if l == "" {
		l = care.MatchLanguage(r.Header.Get("Accept-Language"))
	}
	w.Header().Set("Content-Language", l)
	return l, nil
}

// instrumentSummary is an instrument in the list of instruments.
type instrumentSummary struct {
	ID        string `json:"id"`
	Version   int    `json:"version"`
	Title     string `json:"title"`
	Short     string `json:"short"`
	Public    bool   `json:"public"`
	ItemCount int    `json:"item_count"`
	MinScore  int    `json:"min_score"`
	MaxScore  int    `json:"max_score"`
	Source    string `json:"source"`
	Licence   string `json:"licence"`
}

// instrumentJSON is one version of an instrument with its texts in one language.
type instrumentJSON struct {
	ID       string     `json:"id"`
	Version  int        `json:"version"`
	Title    string     `json:"title"`
	Short    string     `json:"short"`
	Prompt   string     `json:"prompt"`
	Scoring  string     `json:"scoring"`
	Public   bool       `json:"public"`
	MinScore int        `json:"min_score"`
	MaxScore int        `json:"max_score"`
	Items    []itemJSON `json:"items"`
	Bands    []bandJSON `json:"bands"`
	Flags    []flagJSON `json:"flags"`
	Source   string     `json:"source"`
	Licence  string     `json:"licence"`
}

type itemJSON struct {
	ID       string       `json:"id"`
	Text     string       `json:"text"`
	Subscale string       `json:"subscale,omitempty"`
	Options  []optionJSON `json:"options"`
}

type optionJSON struct {
	Value int    `json:"value"`
	Text  string `json:"text"`
}

type bandJSON struct {
	Key    string `json:"key"`
	Min    int    `json:"min"`
	Max    int    `json:"max"`
	Label  string `json:"label"`
	Advice string `json:"advice"`
}

type flagJSON struct {
	Key   string `json:"key"`
	Rule  string `json:"rule"`
	Item  string `json:"item,omitempty"`
	Min   int    `json:"min"`
	Alert bool   `json:"alert"`
	Label string `json:"label"`
}

func definitionJSON(d *instrument.Definition, l string) instrumentJSON {
	out := instrumentJSON{ID: d.ID, Version: d.Version, Title: d.Title.In(l), Short: d.Short.In(l), Prompt: d.Prompt.In(l),
		Scoring: d.Scoring, Public: d.Public, MinScore: d.MinScore, MaxScore: d.MaxScore, Source: d.Source, Licence: d.Licence,
		Items: make([]itemJSON, len(d.Items)), Bands: make([]bandJSON, len(d.Bands)), Flags: make([]flagJSON, len(d.Flags))}
	for i, it := range d.Items {
		opts := d.OptionsOf(it)
		item := itemJSON{ID: it.ID, Text: it.Text.In(l), Subscale: it.Subscale, Options: make([]optionJSON, len(opts))}
		for j, o := range opts {
			item.Options[j] = optionJSON{Value: o.Value, Text: o.Text.In(l)}
		}
		out.Items[i] = item
	}
	for i, b := range d.Bands {
		out.Bands[i] = bandJSON{Key: b.Key, Min: b.Min, Max: b.Max, Label: b.Label.In(l), Advice: b.Advice.In(l)}
	}
	for i, f := range d.Flags {
		out.Flags[i] = flagJSON{Key: f.Key, Rule: f.Rule, Item: f.Item, Min: f.Min, Alert: f.Alert, Label: f.Label.In(l)}
	}
	return out
}

// cacheable lets shared caches keep a response that is the same for
// everyone, such as an instrument's definition.
func cacheable(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "public, max-age=300")
}

func (h *handler) listInstruments(w http.ResponseWriter, r *http.Request) error {
	l, err := lang(w, r)
	if err != nil {
		return err
	}
	var out []instrumentSummary
	for _, d := range h.svc.Instruments().All() {
		out = append(out, instrumentSummary{ID: d.ID, Version: d.Version, Title: d.Title.In(l), Short: d.Short.In(l),
			Public: d.Public, ItemCount: len(d.Items), MinScore: d.MinScore, MaxScore: d.MaxScore, Source: d.Source, Licence: d.Licence})
	}
	cacheable(w)
	writeJSON(w, http.StatusOK, newList(out, ""))
	return nil
}

func (h *handler) getInstrument(w http.ResponseWriter, r *http.Request) error {
	l, err := lang(w, r)
	if err != nil {
		return err
	}
	cat, id := h.svc.Instruments(), r.PathValue("id")
	d := cat.Latest(id)
	if s := r.URL.Query().Get("version"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return fieldErr("version", "must be a whole number from 1")
		}
		d = cat.Version(id, v)
	}
	if d == nil {
		return &care.Error{Kind: care.NotFound, Message: "no such instrument or version; see GET /api/v1/instruments"}
	}
	cacheable(w)
	writeJSON(w, http.StatusOK, definitionJSON(d, l))
	return nil
}

func (h *handler) listAssessments(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.Assessments(r.Context(), id, care.AssessmentQuery{Instrument: r.URL.Query().Get("instrument")}, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (h *handler) listAlerts(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := care.AlertQuery{State: r.URL.Query().Get("state")}
	if s := r.URL.Query().Get("patient"); s != "" {
		var ok bool
		if q.PatientID, ok = care.ParseID(s); !ok {
			return fieldErr("patient", "must be a patient's id")
		}
	}
	items, next, err := h.svc.Alerts(r.Context(), q, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

// screeningJSON is a self-screening's result as a resident is shown it:
// the band's label and advice, and the help at hand, in one language.
// Nothing the resident sent is echoed beyond the result.
type screeningJSON struct {
	ID         string        `json:"id"`
	Instrument string        `json:"instrument"`
	Version    int           `json:"version"`
	Week       string        `json:"week"`
	Score      int           `json:"score"`
	Band       string        `json:"band"`
	Flags      []string      `json:"flags"`
	Urgent     bool          `json:"urgent"`
	Label      string        `json:"label"`
	Advice     string        `json:"advice"`
	Hotlines   []hotlineJSON `json:"hotlines"`
	Services   []serviceJSON `json:"services"`
}

type hotlineJSON struct {
	Name   string `json:"name"`
	Number string `json:"number"`
	Hours  string `json:"hours"`
}

type serviceJSON struct {
	Unit    string `json:"unit"`
	Name    string `json:"name"`
	Address string `json:"address"`
	Phone   string `json:"phone"`
	Hours   string `json:"hours"`
}

func helpJSON(hp *care.Help, l string) ([]hotlineJSON, []serviceJSON) {
	hl, sv := []hotlineJSON{}, []serviceJSON{}
	for _, x := range hp.Hotlines {
		hl = append(hl, hotlineJSON{Name: x.Name.In(l), Number: x.Number, Hours: x.Hours.In(l)})
	}
	for _, x := range hp.Services {
		sv = append(sv, serviceJSON{Unit: x.Unit, Name: x.Name.In(l), Address: x.Address.In(l), Phone: x.Phone, Hours: x.Hours.In(l)})
	}
	return hl, sv
}

func (h *handler) createScreening(w http.ResponseWriter, r *http.Request) error {
	l, err := lang(w, r)
	if err != nil {
		return err
	}
	var in care.ScreeningInput
	if err := decode(r, &in); err != nil {
		return err
	}
	sc, err := h.svc.Screen(r.Context(), in)
	if err != nil {
		return err
	}
	help, err := h.svc.Help(r.Context(), sc.Community)
	if err != nil {
		return err
	}
	out := screeningJSON{ID: sc.ID, Instrument: sc.Instrument, Version: sc.Version, Week: sc.Week, Score: sc.Score, Band: sc.Band,
		Flags: sc.Flags, Urgent: sc.Urgent}
	if out.Flags == nil {
		out.Flags = []string{}
	}
	if d := h.svc.Instruments().Version(sc.Instrument, sc.Version); d != nil {
		if b := d.Band(sc.Band); b != nil {
			out.Label, out.Advice = b.Label.In(l), b.Advice.In(l)
		}
	}
	out.Hotlines, out.Services = helpJSON(help, l)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (h *handler) listCommunities(w http.ResponseWriter, r *http.Request) error {
	units, err := h.svc.Communities(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(units, ""))
	return nil
}

// thanks is what a resident is told when their contact request is taken.
var thanks = instrument.Text{
	EN: "Thank you. A community worker will contact you by phone, usually within a few working days. If you are in danger now, please call one of the hotlines.",
	ZH: "谢谢您。社区工作人员会通过电话与您联系，通常在几个工作日内。如果您现在有危险，请立即拨打热线电话。",
}

func (h *handler) createContactRequest(w http.ResponseWriter, r *http.Request) error {
	l, err := lang(w, r)
	if err != nil {
		return err
	}
	var in care.ContactInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := h.svc.RequestContact(r.Context(), in)
	if err != nil {
		return err
	}
	// The name and phone are not echoed back.
	writeJSON(w, http.StatusCreated, struct {
		ID      int64  `json:"id"`
		Message string `json:"message"`
	}{c.ID, thanks.In(l)})
	return nil
}

func (h *handler) listContactRequests(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, next, err := h.svc.ContactRequests(r.Context(), care.ContactQuery{State: q.Get("state"), OrgUnit: q.Get("org_unit")}, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (h *handler) screeningFigures(w http.ResponseWriter, r *http.Request) error {
	p, err := period(r, h.svc.Zone())
	if err != nil {
		return err
	}
	unit := r.URL.Query().Get("org_unit")
	counts, err := h.svc.ScreeningCounts(r.Context(), unit, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		OrgUnit string                `json:"org_unit,omitempty"`
		From    string                `json:"from"`
		To      string                `json:"to"`
		Items   []care.ScreeningCount `json:"items"`
	}{unit, p.From.String(), p.To.String(), counts})
	return nil
}
