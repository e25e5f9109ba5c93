package api

import (
	"net/http"
	"strconv"
	"time"

	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/kpi"
)

var figureRoutes = []route{
	{Method: "GET", Pattern: "/api/v1/figures", Handle: (*handler).figures},
	{Method: "GET", Pattern: "/api/v1/figures/children", Handle: (*handler).childFigures},
	{Method: "GET", Pattern: "/api/v1/figures/trend", Handle: (*handler).figureTrend},
	{Method: "GET", Pattern: "/api/v1/figures/distribution", Handle: (*handler).figureDistribution},
	{Method: "GET", Pattern: "/api/v1/figures/{key}/patients", Handle: (*handler).figurePatients},
}

func init() { routes = append(routes, figureRoutes...) }

func fieldErr(field, msg string) error {
	return &care.Error{Kind: care.Invalid, Message: "invalid query", Fields: []care.FieldError{{Field: field, Message: msg}}}
}

// period reads from and to (dates) or period (2026-11, 2026-Q4, 2026);
// without either it is the current month.
func period(r *http.Request, zone *time.Location) (kpi.Period, error) {
	q := r.URL.Query()
	if s := q.Get("period"); s != "" {
		p, err := kpi.ParsePeriod(s)
		if err != nil {
			return p, fieldErr("period", "must be a month (2026-11), a quarter (2026-Q4) or a year (2026)")
		}
		return p, nil
	}
	if q.Get("from") == "" && q.Get("to") == "" {
		today := clinical.DateOf(timeNow().In(zone))
		p, _ := kpi.ParsePeriod(today.String()[:7])
		return p, nil
	}
	from, err := clinical.ParseDate(q.Get("from"))
	if err != nil {
		return kpi.Period{}, fieldErr("from", "must be a date, YYYY-MM-DD")
	}
	to, err := clinical.ParseDate(q.Get("to"))
	if err != nil {
		return kpi.Period{}, fieldErr("to", "must be a date, YYYY-MM-DD")
	}
	p, err := kpi.Range(from, to)
	if err != nil {
		return p, fieldErr("to", err.Error())
	}
	return p, nil
}

// figureJSON is a figure set as the API shows it: counts as numbers, rates
// as objects with numerator, denominator and value.
type figureJSON struct {
	OrgUnit  string         `json:"org_unit"`
	Name     string         `json:"name"`
	Level    string         `json:"level"`
	From     string         `json:"from"`
	To       string         `json:"to"`
	Figures  map[string]any `json:"figures"`
	Previous map[string]any `json:"previous,omitempty"`
	AsOf     time.Time      `json:"as_of"`
	Stale    bool           `json:"stale"`
	// Standby: read from a standby, which may lag the primary.
	Standby bool `json:"standby"`
}

func figureMap(figs []kpi.Figure) map[string]any {
	if figs == nil {
		return nil
	}
	m := make(map[string]any, len(figs))
	for _, f := range figs {
		if f.Unit == "count" {
			m[string(f.Key)] = f.Numerator
			continue
		}
		m[string(f.Key)] = f
	}
	return m
}

func toJSON(fs care.FigureSet) figureJSON {
	return figureJSON{OrgUnit: fs.OrgUnit, Name: fs.Name, Level: string(fs.Level), From: fs.From, To: fs.To,
		Figures: figureMap(fs.Figures), Previous: figureMap(fs.Previous), AsOf: fs.AsOf, Stale: fs.Stale, Standby: fs.Standby}
}

func (h *handler) figures(w http.ResponseWriter, r *http.Request) error {
	p, err := period(r, h.svc.Zone())
	if err != nil {
		return err
	}
	fs, err := h.svc.Figures(r.Context(), r.URL.Query().Get("org_unit"), p, kpi.DefaultTargets())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toJSON(*fs))
	return nil
}

func (h *handler) childFigures(w http.ResponseWriter, r *http.Request) error {
	p, err := period(r, h.svc.Zone())
	if err != nil {
		return err
	}
	sets, err := h.svc.ChildFigures(r.Context(), r.URL.Query().Get("org_unit"), p, kpi.DefaultTargets())
	if err != nil {
		return err
	}
	out := make([]figureJSON, len(sets))
	for i, fs := range sets {
		out[i] = toJSON(fs)
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
	return nil
}

func (h *handler) figureTrend(w http.ResponseWriter, r *http.Request) error {
	n := 12
	if s := r.URL.Query().Get("months"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 36 {
			return fieldErr("months", "must be a whole number from 1 to 36")
		}
		n = v
	}
	sets, err := h.svc.FigureTrend(r.Context(), r.URL.Query().Get("org_unit"), clinical.DateOf(timeNow().In(h.svc.Zone())), n, kpi.DefaultTargets())
	if err != nil {
		return err
	}
	out := make([]figureJSON, len(sets))
	for i, fs := range sets {
		out[i] = toJSON(fs)
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
	return nil
}

func (h *handler) figurePatients(w http.ResponseWriter, r *http.Request) error {
	key := kpi.Key(r.PathValue("key"))
	if !key.Valid() {
		return &care.Error{Kind: care.NotFound, Message: "no such figure"}
	}
	p, err := period(r, h.svc.Zone())
	if err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	list := h.svc.FigurePatients
	switch r.URL.Query().Get("counted") {
	case "", "true":
	case "false":
		list = h.svc.UncountedPatients
	default:
		return fieldErr("counted", "must be true or false")
	}
	rows, next, err := list(r.Context(), r.URL.Query().Get("org_unit"), p, key, pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(rows, next))
	return nil
}

func (h *handler) figureDistribution(w http.ResponseWriter, r *http.Request) error {
	d, err := h.svc.FigureDistribution(r.Context(), r.URL.Query().Get("org_unit"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}
