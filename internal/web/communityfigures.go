package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kith/internal/care"
	"kith/internal/kpi"
)

func (s *server) communityFigureRoutes(mux *http.ServeMux) {
	mux.Handle("GET /figures/community", s.handle(figureReaders, s.communityFigures))
}

// communityFigureRow is one unit's community figures with the links that
// drill down to what lies behind them.
type communityFigureRow struct {
	Set   care.CommunityFigureSet
	Self  string // the unit's own community figures
	Links map[kpi.Key]string
}

type communityFiguresData struct {
	Period   string
	Unit     string
	Units    []care.Unit
	Form     *form
	Keys     []kpi.Key
	Set      *communityFigureRow
	Children []communityFigureRow
}

// communityFigures shows the community figures of a unit and period, its
// children's beside them, each number leading to the list behind it.
func (s *server) communityFigures(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	d := communityFiguresData{Unit: strings.TrimSpace(q.Get("org_unit")), Period: strings.TrimSpace(q.Get("period")),
		Form: newForm(nil, "period"), Keys: kpi.CommunityKeys}
	if d.Period == "" {
		d.Period = s.today()[:4]
	}
	d.Form.set("period", d.Period)
	var err error
	if d.Units, err = s.unitsOf(r); err != nil {
		return err
	}
	per, perr := kpi.ParsePeriod(d.Period)
	if perr != nil {
		d.Form.fieldError(p, "period", msgPeriod)
		return s.render(w, p, http.StatusUnprocessableEntity, "figures_community", d)
	}
	set, err := s.svc.CommunityFigures(r.Context(), d.Unit, per)
	if err != nil {
		if code := p.formError(d.Form, err); code != 0 {
			return s.render(w, p, code, "figures_community", d)
		}
		return err
	}
	row := func(cs care.CommunityFigureSet) communityFigureRow {
		year := strconv.Itoa(per.To.Year)
		unit := url.QueryEscape(cs.OrgUnit)
		month := per.From.String()[:7]
		return communityFigureRow{Set: cs, Self: "/figures/community?org_unit=" + unit + "&period=" + url.QueryEscape(d.Period),
			Links: map[kpi.Key]string{
				kpi.EducationEvents:     "/events?unit=" + unit + "&month=" + month,
				kpi.MedianTrainingHours: "/training?unit=" + unit + "&year=" + year,
				kpi.TrainingTargetRate:  "/training?unit=" + unit + "&year=" + year + "&below=1",
				kpi.SubsidiesPaid:       "/subsidies?unit=" + unit + "&year=" + year + "&status=paid",
			}}
	}
	top := row(*set)
	d.Set = &top
	for _, c := range set.Children {
		d.Children = append(d.Children, row(c))
	}
	return s.render(w, p, http.StatusOK, "figures_community", d)
}

// CommunityValue formats a community figure's value.
func (p *page) CommunityValue(f kpi.Figure) string {
	if f.Value == nil {
		return "—"
	}
	switch f.Unit {
	case kpi.Percent:
		return p.printer.Sprintf("%.1f%%", *f.Value)
	case kpi.Hours:
		return p.TrainingHours(*f.Value)
	case kpi.Yuan:
		return p.Yuan(*f.Value)
	}
	return p.Num(int64(*f.Value))
}

// CommunityFigureName names a community figure.
func (p *page) CommunityFigureName(k kpi.Key) string { return p.T("figure.community." + string(k)) }
