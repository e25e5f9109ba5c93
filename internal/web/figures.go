package web

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/kpi"
	"kith/internal/report"
)

// The figures pages (R-KPI): the dashboard of an org unit, the list of
// patients behind each figure, the printable monthly report and the
// exports. Every number comes from the service, which counts in SQL and
// checks who may see what; this file only arranges and formats.

// canReadFigures reports whether the user may see the figures of their own
// jurisdiction: a district administrator and the clinical roles except the
// care-and-help group.
func canReadFigures(a *care.Actor) bool {
	return care.Allow(a, care.ReadFigures, ownUnit(a))
}

// figureUnits are the units of the figures' values, by figure, from kpi.
var figureUnits = func() map[kpi.Key]string {
	m := make(map[kpi.Key]string)
	for _, f := range kpi.Compute(kpi.Counts{}, nil) {
		m[f.Key] = f.Unit
	}
	return m
}()

// targetKeys are the figures a target may be set for: the rates.
var targetKeys = func() []kpi.Key {
	var out []kpi.Key
	for _, k := range kpi.Keys {
		if figureUnits[k] == kpi.Percent {
			out = append(out, k)
		}
	}
	return out
}()

// higherIsWorse names the figures where more is worse: the counts of work
// left undone and of crises.
var higherIsWorse = map[kpi.Key]bool{kpi.Overdue: true, kpi.Lost: true, kpi.Emergencies: true}

// childKeys are the columns of the table of child units.
var childKeys = []kpi.Key{kpi.Registered, kpi.RegisteredPrevalence, kpi.ManagementRate, kpi.StandardisedManagementRate,
	kpi.RegularMedicationRate, kpi.StabilityRate, kpi.FaceToFaceRate, kpi.Overdue, kpi.Lost}

// trendKeys are the rates the trend chart follows, with their colours.
var trendKeys = []struct {
	key    kpi.Key
	colour string
}{
	{kpi.ManagementRate, "#2f6f5e"},
	{kpi.StandardisedManagementRate, "#1f5fa8"},
	{kpi.RegularMedicationRate, "#c98a12"},
	{kpi.StabilityRate, "#8e3b8f"},
}

// trendMonths is how many months the trend shows.
const trendMonths = 12

// Period kinds as the form names them.
var periodKinds = []string{kpi.KindMonth, kpi.KindQuarter, kpi.KindYear, kpi.KindRange}

// figureQuery is what a figures page is about, read from its URL: the org
// unit ("" for the user's own), the period and the targets, with the form
// that shows them and any mistakes in them.
type figureQuery struct {
	Unit    string
	Period  kpi.Period
	Targets kpi.Targets
	Form    *form
	// Quarters and Years are the choices of the period form.
	Quarters, Years []string
	// TargetKeys are the figures the form offers targets for.
	TargetKeys []kpi.Key
	// carry is what links to other figures pages keep: the unit, the
	// period and targets other than the defaults.
	carry url.Values
}

func figureFields() []string {
	// period is the period as the pages' links give it, shown in the form
	// by the fields after it.
	names := []string{"org_unit", "period", "period_kind", "month", "quarter", "year", "from", "to"}
	for _, k := range targetKeys {
		names = append(names, targetField(k))
	}
	return names
}

func targetField(k kpi.Key) string { return "target." + string(k) }

// TargetField names the form field of a figure's target, for templates.
func (q *figureQuery) TargetField(k kpi.Key) string { return targetField(k) }

// Kinds are the kinds of period the form offers.
func (q *figureQuery) Kinds() []string { return periodKinds }

// TargetsChanged reports whether the form has a mistake in a target or
// targets other than the defaults, to open that part of the form.
func (q *figureQuery) TargetsChanged() bool {
	for _, k := range targetKeys {
		if q.Form.E(targetField(k)) != "" || q.carry.Has(targetField(k)) {
			return true
		}
	}
	return false
}

// readFigureQuery reads the unit, period and targets of a figures page. A
// period is given as period=2026-11 (any form kpi.ParsePeriod reads, as the
// pages' own links give it), or by the form's kind with month, quarter,
// year or from and to; without either it is the current month. Mistakes
// are put in the returned form.
func readFigureQuery(p *page, r *http.Request) *figureQuery {
	v := r.URL.Query()
	f := newForm(nil, figureFields()...)
	q := &figureQuery{Unit: strings.TrimSpace(v.Get("org_unit")), Form: f, TargetKeys: targetKeys, carry: url.Values{}}
	f.set("org_unit", q.Unit)
	if q.Unit != "" {
		q.carry.Set("org_unit", q.Unit)
	}
	// The pages open on the year to date: a supervisor reads the figures
	// against the year's targets, and a month in progress says little.
	// A year's figures are counted as of today until it ends.
	now := p.today
	q.Period, _ = kpi.ParsePeriod(now.String()[:4])
	kind := v.Get("period_kind")
	switch {
	case kind != "":
		for _, n := range []string{"period_kind", "month", "quarter", "year", "from", "to"} {
			f.set(n, strings.TrimSpace(v.Get(n)))
		}
		if per, ok := periodFromForm(p, f); ok {
			q.Period = per
		}
	case v.Has("period"):
		per, err := kpi.ParsePeriod(strings.TrimSpace(v.Get("period")))
		if err != nil {
			f.fieldError(p, "period", msgPeriod)
		} else {
			q.Period = per
		}
	}
	if !f.Failed() && (q.Period.From.Year < minYear || q.Period.To.Year > maxYear) {
		f.fieldError(p, "period", "must lie between the years 1900 and 2999")
		q.Period, _ = kpi.ParsePeriod(now.String()[:4])
	}
	if !f.Failed() || kind == "" {
		setPeriodFields(f, q.Period)
	}
	q.carry.Set("period", q.Period.String())

	q.Targets = kpi.DefaultTargets()
	defaults := kpi.DefaultTargets()
	for _, k := range targetKeys {
		name := targetField(k)
		if !v.Has(name) {
			if t, ok := defaults[k]; ok {
				f.set(name, formatTarget(t))
			}
			continue
		}
		s := strings.TrimSpace(v.Get(name))
		f.set(name, s)
		if s == "" { // no target for this figure
			delete(q.Targets, k)
			if _, ok := defaults[k]; ok {
				q.carry.Set(name, "")
			}
			continue
		}
		t, err := strconv.ParseFloat(s, 64)
		if err != nil || t < 0 || t > 100 {
			f.fieldError(p, name, "must be a number from 0 to 100")
			continue
		}
		q.Targets[k] = t
		if d, ok := defaults[k]; !ok || d != t {
			q.carry.Set(name, s)
		}
	}

	// The choices of the period form: the last 8 quarters and 6 years, and
	// the one shown if it is older.
	for i := range 8 {
		m := clinical.Date{Year: now.Year, Month: now.Month, Day: 1}.AddMonths(-3 * i)
		qp, _ := kpi.ParsePeriod(strconv.Itoa(m.Year) + "-Q" + strconv.Itoa((int(m.Month)-1)/3+1))
		q.Quarters = append(q.Quarters, qp.String())
	}
	for i := range 6 {
		q.Years = append(q.Years, strconv.Itoa(now.Year-i))
	}
	if s := f.V("quarter"); s != "" && !slices.Contains(q.Quarters, s) {
		q.Quarters = append(q.Quarters, s)
	}
	if s := f.V("year"); s != "" && !slices.Contains(q.Years, s) {
		q.Years = append(q.Years, s)
	}
	return q
}

// The years a period may fall in: a year outside them is a typing mistake.
const (
	minYear = 1900
	maxYear = 2999
)

// msgPeriod is the message about a period that cannot be read.
const msgPeriod = "must be a month (2026-11), a quarter (2026-Q4), a year (2026) or a range (2026-01-05..2026-02-10)"

// periodFromForm reads the period the form's kind chooses.
func periodFromForm(p *page, f *form) (kpi.Period, bool) {
	var per kpi.Period
	var err error
	switch f.V("period_kind") {
	case kpi.KindMonth:
		if per, err = kpi.ParsePeriod(f.V("month")); err != nil || per.Kind != kpi.KindMonth {
			f.fieldError(p, "month", "must be a month, YYYY-MM")
			return per, false
		}
	case kpi.KindQuarter:
		if per, err = kpi.ParsePeriod(strings.ToUpper(f.V("quarter"))); err != nil || per.Kind != kpi.KindQuarter {
			f.fieldError(p, "quarter", "must be a quarter, such as 2026-Q4")
			return per, false
		}
	case kpi.KindYear:
		if per, err = kpi.ParsePeriod(f.V("year")); err != nil || per.Kind != kpi.KindYear {
			f.fieldError(p, "year", "must be a year, such as 2026")
			return per, false
		}
	case kpi.KindRange:
		from, err1 := clinical.ParseDate(f.V("from"))
		to, err2 := clinical.ParseDate(f.V("to"))
		if err1 != nil {
			f.fieldError(p, "from", "must be a date, YYYY-MM-DD")
		}
		if err2 != nil {
			f.fieldError(p, "to", "must be a date, YYYY-MM-DD")
		}
		if err1 != nil || err2 != nil {
			return per, false
		}
		switch per, err = kpi.Range(from, to); {
		case err == nil:
		case from.After(to):
			f.fieldError(p, "to", "must not be before the start of the period")
			return per, false
		default:
			f.fieldError(p, "to", "the period may be at most 10 years long")
			return per, false
		}
	default:
		f.fieldError(p, "period_kind", "must be month, quarter, year or range")
		return per, false
	}
	return per, true
}

// setPeriodFields fills the period form from a period: its kind and its
// own field, and the dates of a custom range from its first and last day.
func setPeriodFields(f *form, per kpi.Period) {
	f.set("period_kind", per.Kind)
	f.set("from", per.From.String())
	f.set("to", per.To.String())
	last := per.To
	f.set("month", last.String()[:7])
	f.set("quarter", strconv.Itoa(last.Year)+"-Q"+strconv.Itoa((int(last.Month)-1)/3+1))
	f.set("year", strconv.Itoa(last.Year))
}

// url is the address of a figures page for the query's unit, period and
// targets, with more parameters as name, value pairs; an empty value
// removes the parameter.
func (q *figureQuery) url(path string, params ...string) string {
	v := url.Values{}
	for k, vs := range q.carry {
		v[k] = slices.Clone(vs)
	}
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] == "" {
			v.Del(params[i])
		} else {
			v.Set(params[i], params[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// drillURL is the address of the list behind a figure of a unit, or ""
// when the figure has none.
func (q *figureQuery) drillURL(k kpi.Key, unit string) string {
	if !report.HasList(k) {
		return ""
	}
	return q.url("/figures/"+string(k)+"/patients", "org_unit", unit)
}

// invalidQuery turns the form's mistakes into an error for fail, on pages
// that do not show the form.
func invalidQuery(f *form) error {
	e := &care.Error{Kind: care.Invalid, Message: "please correct the fields shown"}
	for _, n := range figureFields() {
		if m := f.E(n); m != "" {
			e.Fields = append(e.Fields, care.FieldError{Field: n, Message: m})
		}
	}
	return e
}

// Formatting

// Decimal formats a value with two decimals and the page language's digit
// grouping.
func (p *page) Decimal(v float64) string { return p.printer.Sprintf("%.2f", v) }

// FigureValue shows a figure's value with its unit, or a dash when there is
// none (a rate with no one to count).
func (p *page) FigureValue(f kpi.Figure) string {
	if f.Value == nil {
		return "—"
	}
	switch f.Unit {
	case kpi.Percent:
		return p.Decimal(*f.Value) + "%"
	case kpi.PerMille:
		return p.Decimal(*f.Value) + "‰"
	}
	return p.Num(int64(*f.Value))
}

// formatTarget shows a target as typed: 80, 62.5.
func formatTarget(t float64) string { return strconv.FormatFloat(t, 'f', -1, 64) }

// FigureName names a figure in the page's language.
func (p *page) FigureName(k kpi.Key) string { return p.lookup("figure."+string(k), string(k)) }

// PeriodName names a period in the page's language: November 2026, Q4
// 2026, 2026, or a range of dates.
func (p *page) PeriodName(per kpi.Period) string {
	switch per.Kind {
	case kpi.KindMonth:
		return p.T("figures.period.month", "Year", per.From.Year, "Month", int(per.From.Month), "MonthName", per.From.Month.String())
	case kpi.KindQuarter:
		return p.T("figures.period.quarter", "Year", per.From.Year, "Quarter", (int(per.From.Month)-1)/3+1)
	case kpi.KindYear:
		return p.T("figures.period.year", "Year", per.From.Year)
	}
	return p.T("figures.period.range", "From", per.From.String(), "To", per.To.String())
}

// The dashboard's parts

// figureTile is one figure as a tile: its value, numerator and
// denominator, the change from the previous period and its target.
type figureTile struct {
	Key                kpi.Key
	Name, Value        string
	Num, Den           string // Den is "" for a count
	Formula            string
	Change, ChangeWord string // "▲ 3.20 pp"; "" when there is nothing to compare
	ChangeClass        string // "good", "bad" or ""
	Previous           string // the previous period's value
	Target             string
	Below, Kith, None  bool
	Href               string // the list behind it
}

// tileView is a tile with the page, for the "tile" template.
type tileView struct {
	P    *page
	Tile figureTile
}

func (p *page) tile(q *figureQuery, unit string, f kpi.Figure, prev []kpi.Figure) figureTile {
	t := figureTile{Key: f.Key, Name: p.FigureName(f.Key), Value: p.FigureValue(f), Num: p.Num(f.Numerator),
		Formula: p.T("figure." + string(f.Key) + ".formula"), Below: f.BelowTarget, Kith: f.KithDefinition,
		None: f.Value == nil, Href: q.drillURL(f.Key, unit)}
	if f.Unit != kpi.Count {
		t.Den = p.Num(f.Denominator)
	}
	if f.Target != nil {
		t.Target = formatTarget(*f.Target) + f.Unit
	}
	if pf, ok := kpi.Find(prev, f.Key); ok && prev != nil {
		t.Previous = p.FigureValue(pf)
		t.Change, t.ChangeClass = p.change(f, pf)
	}
	return t
}

// change shows the change from the previous period with an arrow, in
// percentage points for a rate, and whether it is for the better.
func (p *page) change(cur, prev kpi.Figure) (string, string) {
	d := kpi.Change(cur, prev)
	if d == nil {
		return "", ""
	}
	if *d == 0 {
		return p.T("figures.change.none"), ""
	}
	arrow, better := "▲ ", *d > 0
	if *d < 0 {
		arrow = "▼ "
	}
	if higherIsWorse[cur.Key] {
		better = !better
	}
	class := "bad"
	if better {
		class = "good"
	}
	if cur.Key == kpi.Registered || cur.Key == kpi.RegisteredPrevalence { // more or fewer patients is neither
		class = ""
	}
	abs := *d
	if abs < 0 {
		abs = -abs
	}
	var s string
	switch cur.Unit {
	case kpi.Percent:
		s = p.T("figures.change.pp", "Value", p.Decimal(abs))
	case kpi.PerMille:
		s = p.T("figures.change.permille", "Value", p.Decimal(abs))
	default:
		s = p.Num(int64(abs))
	}
	return arrow + s, class
}

// childTable is the table of the units directly beneath, side by side.
type childTable struct {
	Columns []childColumn
	Rows    []childRow
	Sort    string // the figure sorted by, or "name"
	Desc    bool
}

type childColumn struct {
	Key         string
	Label, Href string
	Sorted      string // "ascending", "descending" or ""
	Unit        string
}

type childRow struct {
	Code, Name, Href string
	Level            care.Level
	Cells            []childCell
}

type childCell struct {
	Value, Num, Den, Href string
	Below, None           bool
}

// sortDefault is the direction a column sorts in first: worst first for
// the rates (the lowest) and for overdue and lost (the highest); the
// largest first for the other counts; names A to Z.
func sortDefault(key string) bool {
	if key == "name" {
		return false
	}
	return figureUnits[kpi.Key(key)] != kpi.Percent
}

// readSort reads the sort of the table of child units; the default is the
// management rate, worst first.
func readSort(v url.Values) (string, bool) {
	key := v.Get("sort")
	if key != "name" && !slices.Contains(childKeys, kpi.Key(key)) {
		key = string(kpi.ManagementRate)
	}
	desc := sortDefault(key)
	switch v.Get("dir") {
	case "asc":
		desc = false
	case "desc":
		desc = true
	}
	return key, desc
}

// sortSets sorts figure sets by a figure (or name), units without a value
// last whatever the direction, ties in tree order.
func sortSets(sets []care.FigureSet, key string, desc bool) []care.FigureSet {
	out := slices.Clone(sets)
	slices.SortStableFunc(out, func(a, b care.FigureSet) int {
		if key == "name" {
			c := strings.Compare(a.Name, b.Name)
			if desc {
				c = -c
			}
			return c
		}
		fa, _ := kpi.Find(a.Figures, kpi.Key(key))
		fb, _ := kpi.Find(b.Figures, kpi.Key(key))
		switch {
		case fa.Value == nil && fb.Value == nil:
			return 0
		case fa.Value == nil:
			return 1
		case fb.Value == nil:
			return -1
		}
		c := cmp.Compare(*fa.Value, *fb.Value)
		if desc {
			c = -c
		}
		return c
	})
	return out
}

func (p *page) childTable(q *figureQuery, sets []care.FigureSet, sortKey string, desc bool, sortLinks bool) *childTable {
	t := &childTable{Sort: sortKey, Desc: desc}
	col := func(key, label, unit string) childColumn {
		c := childColumn{Key: key, Label: label, Unit: unit}
		d := sortDefault(key)
		if key == sortKey {
			d = !desc
			c.Sorted = "ascending"
			if desc {
				c.Sorted = "descending"
			}
		}
		if sortLinks {
			dir := "asc"
			if d {
				dir = "desc"
			}
			c.Href = q.url("/figures", "sort", key, "dir", dir) + "#units"
		}
		return c
	}
	t.Columns = append(t.Columns, col("name", p.T("figures.col.unit"), ""))
	for _, k := range childKeys {
		unit := figureUnits[k]
		if unit == kpi.Count {
			unit = ""
		}
		t.Columns = append(t.Columns, col(string(k), p.lookup("figure."+string(k)+".short", string(k)), unit))
	}
	for _, s := range sortSets(sets, sortKey, desc) {
		row := childRow{Code: s.OrgUnit, Name: s.Name, Level: s.Level, Href: q.url("/figures", "org_unit", s.OrgUnit)}
		for _, k := range childKeys {
			f, _ := kpi.Find(s.Figures, k)
			c := childCell{Value: p.FigureValue(f), Num: p.Num(f.Numerator), Below: f.BelowTarget, None: f.Value == nil,
				Href: q.drillURL(k, s.OrgUnit)}
			if f.Unit != kpi.Count {
				c.Den = p.Num(f.Denominator)
			}
			row.Cells = append(row.Cells, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// figureChart is what kith.js draws with Chart.js, from the canvas's
// data-figures attribute.
type figureChart struct {
	Type   string        `json:"type"` // "line", "bar" or "doughnut"
	Labels []string      `json:"labels"`
	Series []chartSeries `json:"series"`
	Max    *float64      `json:"max,omitempty"`
	Min    *float64      `json:"min,omitempty"` // 0 when not given
	Unit   string        `json:"unit,omitempty"`
	// TargetLabel names the dashed target lines in tooltips.
	TargetLabel string `json:"targetLabel,omitempty"`
	// Lines are level lines drawn across a line chart, such as where an
	// instrument's bands begin.
	Lines []chartLine `json:"lines,omitempty"`
	// Decimals is how many decimals the tooltips show; 2 when not given.
	Decimals *int `json:"decimals,omitempty"`
}

type chartLine struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

type chartSeries struct {
	Label   string     `json:"label"`
	Data    []*float64 `json:"data"`
	Colour  string     `json:"colour,omitempty"`
	Colours []string   `json:"colours,omitempty"` // one a bar or slice
	Target  *float64   `json:"target,omitempty"`
}

func chartJSON(c figureChart) (string, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

// trendData is the trend of the main rates over the last 12 months: a
// chart, and the same numbers as a table.
type trendData struct {
	Chart  string
	Months []string
	Rows   []trendRow
	Empty  bool
}

type trendRow struct {
	Name   string
	Values []string
	Below  []bool
}

func (p *page) trend(sets []care.FigureSet) (*trendData, error) {
	c := figureChart{Type: "line", Unit: "%", TargetLabel: p.T("figures.target")}
	hundred := 100.0
	c.Max = &hundred
	t := &trendData{Empty: true}
	for _, s := range sets {
		c.Labels = append(c.Labels, s.From[:7])
		t.Months = append(t.Months, s.From[:7])
	}
	for _, tk := range trendKeys {
		series := chartSeries{Label: p.FigureName(tk.key), Colour: tk.colour}
		row := trendRow{Name: p.lookup("figure."+string(tk.key)+".short", series.Label)}
		for _, s := range sets {
			f, _ := kpi.Find(s.Figures, tk.key)
			series.Data = append(series.Data, f.Value)
			row.Values = append(row.Values, p.FigureValue(f))
			row.Below = append(row.Below, f.BelowTarget)
			if f.Target != nil {
				series.Target = f.Target
			}
			if f.Value != nil {
				t.Empty = false
			}
		}
		c.Series = append(c.Series, series)
		t.Rows = append(t.Rows, row)
	}
	var err error
	t.Chart, err = chartJSON(c)
	return t, err
}

// distData is how the register divides by classification and by risk
// level: two charts, and the same numbers as tables.
type distData struct {
	Classes, Risks        []distRow
	ClassChart, RiskChart string
	Total                 int64
}

type distRow struct {
	Key, Label, Share string
	Note              string // what a risk level means
	Count             string
	N                 int64
}

// Colours of the classifications and risk levels, as kith.css gives them.
var (
	classColours = map[string]string{"stable": "#2f6f5e", "basically_stable": "#c98a12", "unstable": "#c62828", "": "#9aa5b1"}
	riskColours  = []string{"#7b8794", "#e0b44c", "#c98a12", "#d9534f", "#c62828", "#8b1a1a"}
)

func (p *page) distribution(d *report.Distribution) (*distData, error) {
	out := &distData{}
	for _, n := range d.Classification {
		out.Total += n
	}
	share := func(n int64) string {
		if out.Total == 0 {
			return "—"
		}
		return p.Decimal(float64(n)*100/float64(out.Total)) + "%"
	}
	order := []string{"stable", "basically_stable", "unstable"}
	for c := range d.Classification {
		if c != "" && !slices.Contains(order, c) {
			order = append(order, c)
		}
	}
	slices.Sort(order[3:])
	order = append(order, "")
	cc := figureChart{Type: "doughnut"}
	cs := chartSeries{Label: p.T("figures.patients")}
	for _, c := range order {
		n := d.Classification[c]
		label := p.Enum("class", c)
		if c == "" {
			label = p.T("figures.class.none")
		}
		out.Classes = append(out.Classes, distRow{Key: c, Label: label, N: n, Count: p.Num(n), Share: share(n)})
		v := float64(n)
		cc.Labels = append(cc.Labels, label)
		cs.Data = append(cs.Data, &v)
		cs.Colours = append(cs.Colours, cmp.Or(classColours[c], "#9aa5b1"))
	}
	cc.Series = []chartSeries{cs}
	rc := figureChart{Type: "bar"}
	rs := chartSeries{Label: p.T("figures.patients")}
	// Levels 0 to 5, then the patients not yet assessed.
	for _, level := range []int{0, 1, 2, 3, 4, 5, -1} {
		n := d.RiskLevel[level]
		short, note, colour := strconv.Itoa(level), "", "#9aa5b1"
		if level < 0 {
			short = p.T("figures.risk.none")
		} else {
			note = p.RiskText(&level)
			colour = riskColours[level]
		}
		out.Risks = append(out.Risks, distRow{Key: strconv.Itoa(level), Label: short, Note: note, N: n, Count: p.Num(n), Share: share(n)})
		v := float64(n)
		rc.Labels = append(rc.Labels, short)
		rs.Data = append(rs.Data, &v)
		rs.Colours = append(rs.Colours, colour)
	}
	rc.Series = []chartSeries{rs}
	var err error
	if out.ClassChart, err = chartJSON(cc); err != nil {
		return nil, err
	}
	out.RiskChart, err = chartJSON(rc)
	return out, err
}

// The pages

// figuresData is what the dashboard shows.
type figuresData struct {
	Query      *figureQuery
	Set        *care.FigureSet
	PeriodName string
	PrevName   string
	Tiles      []figureTile
	Empty      bool // no patient on the register and nothing counted
	figureDetail
	Worklists []worklistCount
	Referrals *referralFigures // response time and crisis events
	Units     []unitOption
	UnitInput bool // too many units for a select: a code to type
	UnitCodes []care.Unit
	Crumbs    []crumb
	Presets   []preset
	Links     figureLinks
}

type figureLinks struct {
	Report, FiguresCSV, FiguresXLSX, ChildrenCSV, ChildrenXLSX string
}

type unitOption struct {
	Code, Label string
	Selected    bool
}

type crumb struct{ Name, Href string }

type preset struct {
	Label, Href string
	Current     bool
}

// figures shows the dashboard of an org unit for a period: a tile for each
// figure with its change from the previous period, the child units side by
// side, the trend of the main rates and how the register divides by
// classification and risk level. Every number opens the list behind it.
func (s *server) figures(w http.ResponseWriter, r *http.Request, p *page) error {
	q := readFigureQuery(p, r)
	d := &figuresData{Query: q}
	if err := s.unitChoices(r, p, q, d); err != nil {
		return err
	}
	d.Presets = presets(p, q)
	if q.Form.Failed() {
		return s.render(w, p, http.StatusUnprocessableEntity, "figures", d)
	}
	dash, err := s.dashboard(r, p, q, isClinical(p.User))
	if err != nil {
		status := p.formError(q.Form, err)
		if status == 0 {
			return err
		}
		return s.render(w, p, status, "figures", d)
	}
	set := dash.Set
	d.Set, d.PeriodName, d.PrevName = set, p.PeriodName(q.Period), p.PeriodName(q.Period.Previous())
	d.Empty = true
	for _, f := range set.Figures {
		d.Tiles = append(d.Tiles, p.tile(q, set.OrgUnit, f, set.Previous))
		d.Empty = d.Empty && f.Numerator == 0
	}
	d.Crumbs = crumbs(q, d.UnitCodes, set.OrgUnit)
	if d.figureDetail, err = s.figureDetail(r, p, q, dash, true); err != nil {
		return err
	}
	d.Referrals = s.referralFigures(p, dash.Referrals)
	if c := dash.Worklists; c != nil {
		for _, k := range worklistKinds {
			d.Worklists = append(d.Worklists, worklistCount{Kind: k, Count: p.Num(int64(countOf(c, k))),
				Href: "/worklist?" + url.Values{"kind": {k}, "org_unit": {set.OrgUnit}}.Encode()})
		}
	}
	unit := "org_unit"
	sortKey, desc := readSort(r.URL.Query())
	d.Links = figureLinks{
		Report:       q.url("/figures/report", unit, set.OrgUnit),
		FiguresCSV:   q.url("/figures/export", unit, set.OrgUnit, "table", "figures", "format", "csv"),
		FiguresXLSX:  q.url("/figures/export", unit, set.OrgUnit, "table", "figures", "format", "xlsx"),
		ChildrenCSV:  q.url("/figures/export", unit, set.OrgUnit, "table", "units", "format", "csv", "sort", sortKey, "dir", dirName(desc)),
		ChildrenXLSX: q.url("/figures/export", unit, set.OrgUnit, "table", "units", "format", "xlsx", "sort", sortKey, "dir", dirName(desc)),
	}
	return s.render(w, p, http.StatusOK, "figures", d)
}

func dirName(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}

// trendOf reads the trend of the 12 months that end with the period's last
// month (or this month, if the period has not ended).
func trendEnd(p *page, q *figureQuery) clinical.Date {
	end := q.Period.To
	if now := p.today; now.Before(end) {
		end = now
	}
	return end
}

// dashboard reads all a figures page shows in one service call, which the
// service records as one audit entry; worklists asks for the worklists'
// sizes too.
func (s *server) dashboard(r *http.Request, p *page, q *figureQuery, worklists bool) (*care.Dashboard, error) {
	return s.svc.FigureDashboard(r.Context(), care.DashboardQuery{OrgUnit: q.Unit, Period: q.Period, Targets: q.Targets,
		TrendEnd: trendEnd(p, q), TrendMonths: trendMonths, Worklists: worklists})
}

// unitChoices lists the units the user may choose among: a select when
// they fit in one page, else a code to type with suggestions.
func (s *server) unitChoices(r *http.Request, p *page, q *figureQuery, d *figuresData) error {
	list, next, err := s.svc.Units(r.Context(), "", care.Page{Limit: care.MaxLimit})
	if err != nil {
		return err
	}
	d.UnitCodes = list
	d.UnitInput = next != ""
	selected := q.Unit
	if selected == "" {
		selected = p.User.UnitCode
	}
	top := 0
	if len(list) > 0 {
		top = strings.Count(list[0].Path, "/")
	}
	for _, u := range list {
		indent := strings.Repeat("\u00a0\u00a0\u00a0", max(0, strings.Count(u.Path, "/")-top))
		d.Units = append(d.Units, unitOption{Code: u.Code, Label: indent + u.Name + " (" + u.Code + ")", Selected: u.Code == selected})
	}
	if !slices.ContainsFunc(d.Units, func(o unitOption) bool { return o.Selected }) && q.Unit != "" {
		// A code the user may not see, or typed by hand: keep it in the form.
		d.UnitInput = true
	}
	return nil
}

// crumbs leads from the top of the user's jurisdiction down to the unit.
func crumbs(q *figureQuery, units []care.Unit, code string) []crumb {
	byCode := make(map[string]care.Unit, len(units))
	var path string
	for _, u := range units {
		byCode[u.Code] = u
		if u.Code == code {
			path = u.Path
		}
	}
	var out []crumb
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for _, c := range parts[:max(0, len(parts)-1)] {
		if u, ok := byCode[c]; ok {
			out = append(out, crumb{Name: u.Name, Href: q.url("/figures", "org_unit", c)})
		}
	}
	return out
}

// presets are links to the periods most asked for.
func presets(p *page, q *figureQuery) []preset {
	now := p.today
	month, _ := kpi.ParsePeriod(now.String()[:7])
	quarter, _ := kpi.ParsePeriod(strconv.Itoa(now.Year) + "-Q" + strconv.Itoa((int(now.Month)-1)/3+1))
	year, _ := kpi.ParsePeriod(strconv.Itoa(now.Year))
	var out []preset
	for _, x := range []struct {
		id  string
		per kpi.Period
	}{
		{"figures.preset.month", month}, {"figures.preset.last_month", month.Previous()},
		{"figures.preset.quarter", quarter}, {"figures.preset.last_quarter", quarter.Previous()},
		{"figures.preset.year", year}, {"figures.preset.last_year", year.Previous()},
	} {
		out = append(out, preset{Label: p.T(x.id), Href: q.url("/figures", "period", x.per.String()),
			Current: x.per == q.Period && !q.Form.Failed()})
	}
	return out
}

// figurePatientsData is what the list behind a figure shows.
type figurePatientsData struct {
	Query      *figureQuery
	Set        *care.FigureSet
	Tile       figureTile
	PeriodName string
	Rows       []report.Row
	NextURL    string
	// NoNames is set for a role that sees the figures but not the patients
	// behind them: the page shows the counts and says why there are no names.
	NoNames   bool
	Back      string
	CSV, XLSX string
	// Counted is false on the list of a rate's patients not counted; the
	// two lists' addresses are CountedURL and UncountedURL ("" for a
	// figure that is not a rate).
	Counted                  bool
	CountedURL, UncountedURL string
}

// countedParam reads whether a list behind a figure is of the patients
// counted (the default) or of those a rate leaves out (counted=false).
func countedParam(r *http.Request, key kpi.Key) (bool, error) {
	switch r.URL.Query().Get("counted") {
	case "", "true":
		return true, nil
	case "false":
		if report.HasUncounted(key) {
			return false, nil
		}
	}
	return false, errPageNotFound
}

// figureKey reads the figure of the URL; a figure without a list behind it
// is a page that does not exist.
func figureKey(r *http.Request) (kpi.Key, error) {
	k := kpi.Key(r.PathValue("key"))
	if !k.Valid() || !report.HasList(k) {
		return "", errPageNotFound
	}
	return k, nil
}

// figurePatients lists the patients behind a figure of a unit and period,
// a page at a time, each leading to their record; or exports the whole
// list.
func (s *server) figurePatients(w http.ResponseWriter, r *http.Request, p *page) error {
	key, err := figureKey(r)
	if err != nil {
		return err
	}
	counted, err := countedParam(r, key)
	if err != nil {
		return err
	}
	q := readFigureQuery(p, r)
	if q.Form.Failed() {
		return invalidQuery(q.Form)
	}
	if format := r.URL.Query().Get("format"); format != "" {
		return s.exportPatients(w, r, p, q, key, format)
	}
	ctx := r.Context()
	set, err := s.svc.Figures(ctx, q.Unit, q.Period, q.Targets)
	if err != nil {
		return err
	}
	f, _ := kpi.Find(set.Figures, key)
	d := figurePatientsData{Query: q, Set: set, Tile: p.tile(q, set.OrgUnit, f, set.Previous), PeriodName: p.PeriodName(q.Period),
		Back: q.url("/figures", "org_unit", set.OrgUnit), Counted: counted}
	base := "/figures/" + string(key) + "/patients"
	if report.HasUncounted(key) {
		d.CountedURL = q.url(base, "org_unit", set.OrgUnit)
		d.UncountedURL = q.url(base, "org_unit", set.OrgUnit, "counted", "false")
	}
	list, which := s.svc.FigurePatients, []string{}
	if !counted {
		list, which = s.svc.UncountedPatients, []string{"counted", "false"}
	}
	link := func(params ...string) string {
		return q.url(base, append(append([]string{"org_unit", set.OrgUnit}, which...), params...)...)
	}
	rows, next, err := list(ctx, set.OrgUnit, q.Period, key, care.Page{Token: r.URL.Query().Get("page_token")})
	switch {
	case care.ErrorKind(err) == care.Forbidden:
		d.NoNames = true
	case err != nil:
		return err
	default:
		d.Rows = rows
		if next != "" {
			d.NextURL = link("page_token", next)
		}
		d.CSV, d.XLSX = link("format", "csv"), link("format", "xlsx")
	}
	return s.render(w, p, http.StatusOK, "figure_patients", d)
}

// figureDetail is what the dashboard and the printable report show below a
// unit's figures: the child units side by side, the trend, the mix of
// classifications and risk levels, and the self-screenings.
type figureDetail struct {
	Children   *childTable
	Trend      *trendData
	Dist       *distData
	Screenings *screeningData // residents' anonymous self-screenings
}

// figureDetail shows the detail of a dashboard's unit and period;
// sortLinks says whether the child units' table has links that sort it.
func (s *server) figureDetail(r *http.Request, p *page, q *figureQuery, dash *care.Dashboard, sortLinks bool) (figureDetail, error) {
	var d figureDetail
	if dash.Set.Level != care.Community {
		sortKey, desc := readSort(r.URL.Query())
		d.Children = p.childTable(q, dash.Children, sortKey, desc, sortLinks)
	}
	var err error
	if d.Trend, err = p.trend(dash.Trend); err != nil {
		return d, err
	}
	if d.Dist, err = p.distribution(dash.Distribution); err != nil {
		return d, err
	}
	d.Screenings = s.screeningView(p, dash.Screenings)
	return d, nil
}

// reportData is what the printable report shows.
type reportData struct {
	Set        *care.FigureSet
	Query      *figureQuery
	PeriodName string
	PrevName   string
	Rows       []figureTile
	figureDetail
	Printed string
	Back    string
}

// figureReport is the monthly report for the district meeting: the unit's
// figures against the previous period, the child units, the trend and the
// distribution, on one printable page.
func (s *server) figureReport(w http.ResponseWriter, r *http.Request, p *page) error {
	q := readFigureQuery(p, r)
	if q.Form.Failed() {
		return invalidQuery(q.Form)
	}
	dash, err := s.dashboard(r, p, q, false)
	if err != nil {
		return err
	}
	set := dash.Set
	d := reportData{Set: set, Query: q, PeriodName: p.PeriodName(q.Period), PrevName: p.PeriodName(q.Period.Previous()),
		Printed: p.Time(time.Now()), Back: q.url("/figures", "org_unit", set.OrgUnit)}
	for _, f := range set.Figures {
		d.Rows = append(d.Rows, p.tile(q, set.OrgUnit, f, set.Previous))
	}
	if d.figureDetail, err = s.figureDetail(r, p, q, dash, false); err != nil {
		return err
	}
	return s.render(w, p, http.StatusOK, "figure_report", d)
}
