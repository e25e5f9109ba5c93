package care

import (
	"context"
	"strconv"
	"time"

	"kith/internal/clinical"
	"kith/internal/kpi"
	"kith/internal/report"
	"kith/internal/store"
)

// FigureSet is the figures of one org unit for one period.
type FigureSet struct {
	OrgUnit  string       `json:"org_unit"`
	Name     string       `json:"name"`
	Level    Level        `json:"level"`
	From     string       `json:"from"`
	To       string       `json:"to"`
	Figures  []kpi.Figure `json:"figures"`
	Previous []kpi.Figure `json:"previous,omitempty"`
	// AsOf is when the figures were counted: now, or, when Stale, the
	// time of the oldest community snapshot that writes have overtaken and
	// the background refresh has not yet recounted: when it was counted or
	// last found current (see ServeStaleFigures).
	AsOf  time.Time `json:"as_of"`
	Stale bool      `json:"stale"`
	// Standby says the figures were read from the read pool's standby,
	// which may lag the primary; AsOf is then no later than its data.
	Standby bool `json:"standby"`
}

// figureScope resolves the unit the actor asks figures for (their own by
// default) and checks the policy.
func (s *Service) figureScope(ctx context.Context, tx *store.Tx, a *Actor, code string, sub *subject) (*unitRow, error) {
	if code == "" {
		code = a.UnitCode
	}
	u, err := unitByCode(ctx, tx, code)
	if err != nil {
		return nil, err
	}
	if err := checkFigureScope(a, code, u, sub); err != nil {
		return nil, err
	}
	s.unitPaths.Store(code, u.Path)
	return u, nil
}

// checkFigureScope checks that the actor may read the figures of unit u,
// found by code (nil if none has it).
func checkFigureScope(a *Actor, code string, u *unitRow, sub *subject) error {
	sub.Type, sub.ID = "figures", code
	if u == nil || !Allow(a, ReadUnit, Target{Path: u.Path}) {
		return invalid("org_unit", "no org unit you may see has this code")
	}
	sub.Unit, sub.Path = u.Code, u.Path
	if !Allow(a, ReadFigures, Target{Path: u.Path}) {
		return errForbidden()
	}
	return nil
}

// figuresOf is figureScope and figureSets together: the figures of the
// unit of code for each of periods, once check (of the request's other
// fields) passes. Reading the unit first cost a round trip of its own, a
// turn to wait for a processor under write load (issue 16, item 7). So
// when the unit was read before (s.unitPaths) and the actor may read the
// figures of its path then, it is read again in the round trip of the
// figures (report.SnapshotCounts), and the policy checked on it before
// anything is answered; the figures stand if it still has that path.
// Otherwise (the first time, a unit moved since, an actor who may not)
// the unit is read and checked first.
func (s *Service) figuresOf(ctx context.Context, tx *store.Tx, a *Actor, code string, sub *subject, periods []kpi.Period,
	targets kpi.Targets, check func() error) ([]FigureSet, error) {
	if code == "" {
		code = a.UnitCode
	}
	if v, ok := s.unitPaths.Load(code); ok {
		path := v.(string)
		if Allow(a, ReadUnit, Target{Path: path}) && Allow(a, ReadFigures, Target{Path: path}) && check() == nil {
			var u *unitRow
			unit := store.Query{SQL: unitByCodeSQL, Args: []any{code}, Row: func(scan func(...any) error) (err error) {
				u, err = scanUnitRow(scanner(scan))
				return err
			}}
			counts, asOf, err := report.SnapshotCounts(ctx, tx, s.scopes(tx, path, periods), 0, unit)
			if err != nil {
				return nil, err
			}
			if u != nil && u.Path == path {
				if err := checkFigureScope(a, code, u, sub); err != nil {
					return nil, err
				}
				return s.sets(tx, u, periods, counts, asOf, targets), nil
			}
		}
	}
	u, err := s.figureScope(ctx, tx, a, code, sub)
	if err != nil {
		return nil, err
	}
	if err := check(); err != nil {
		return nil, err
	}
	return s.figureSets(ctx, tx, u, periods, targets)
}

// scanner is a row's Scan as store.Query gives it, for the scan functions
// that take a row.
type scanner func(dest ...any) error

func (f scanner) Scan(dest ...any) error { return f(dest...) }

func (s *Service) scope(u *unitRow, p kpi.Period) report.Scope { return s.scopeAt(u.Path, p) }

func (s *Service) scopeAt(path string, p kpi.Period) report.Scope {
	return report.Scope{Path: path, Period: p, AsOf: judgedOn(p, s.today()), MaxStale: s.staleFigures}
}

// scopes are the report scopes of the unit at path for periods, in tx.
func (s *Service) scopes(tx *store.Tx, path string, periods []kpi.Period) []report.Scope {
	scopes := make([]report.Scope, len(periods))
	deferred := s.deferredFor(tx)
	for i, p := range periods {
		scopes[i] = s.scopeAt(path, p)
		scopes[i].Defer = deferred
	}
	return scopes
}

// judgedOn is the day overdue is judged on for period p: its last day, or
// today if it has not ended. Readers and the snapshots' refresh both use it,
// so that a snapshot counted for one is current for the other.
func judgedOn(p kpi.Period, today clinical.Date) clinical.Date {
	if p.To.Before(today) {
		return p.To
	}
	return today
}

// ServeStaleFigures lets the figures of any unit, a community's too, be
// served from community snapshots that writes have made stale, for up to
// maxAge after they were counted, with their time, rather than recounted
// while the reader waits. The server sets it when it refreshes the
// snapshots in the background (RefreshFigures); zero (the default)
// recounts stale snapshots when read.
func (s *Service) ServeStaleFigures(maxAge time.Duration) { s.staleFigures = maxAge }

// Figures returns the figures (R-KPI) of an org unit, with everything
// beneath it, for a period, and those of the period before for comparison.
func (s *Service) Figures(ctx context.Context, unitCode string, p kpi.Period, targets kpi.Targets) (*FigureSet, error) {
	var out *FigureSet
	f, err := s.actStale(ctx, "figures.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		sets, err := s.figuresOf(ctx, tx, a, unitCode, sub, []kpi.Period{p, p.Previous()}, targets,
			func() error { return s.checkPeriod("period", p) })
		if err != nil {
			return err
		}
		sub.Detail = p.String()
		out = withPrevious(sets)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.fresh(f)
	noteFreshness(ctx, f)
	return out, nil
}

// Freshness says how current the set is, as pages show it.
func (fs FigureSet) Freshness() Freshness { return Freshness{AsOf: fs.AsOf, Standby: fs.Standby} }

// fresh marks a figure set read from a standby with the time of its data.
func (fs *FigureSet) fresh(f Freshness) {
	fs.Standby = f.Standby
	if f.Standby && f.AsOf.Before(fs.AsOf) {
		fs.AsOf = f.AsOf
	}
}

func (s *Service) figureSet(ctx context.Context, tx *store.Tx, u *unitRow, p kpi.Period, targets kpi.Targets, previous bool) (*FigureSet, error) {
	periods := []kpi.Period{p}
	if previous {
		periods = append(periods, p.Previous())
	}
	sets, err := s.figureSets(ctx, tx, u, periods, targets)
	if err != nil {
		return nil, err
	}
	return withPrevious(sets), nil
}

// withPrevious is the first of sets, with the second's figures as its
// previous period's if there is one.
func withPrevious(sets []FigureSet) *FigureSet {
	fs := &sets[0]
	if len(sets) > 1 {
		fs.Previous = sets[1].Figures
		if sets[1].Stale && sets[1].AsOf.Before(fs.AsOf) {
			fs.AsOf, fs.Stale = sets[1].AsOf, true
		}
	}
	return fs
}

// figureSets counts unit u's figures for each of periods, read together
// (report.SnapshotCounts: one round trip when no snapshot needs
// recounting).
func (s *Service) figureSets(ctx context.Context, tx *store.Tx, u *unitRow, periods []kpi.Period, targets kpi.Targets) ([]FigureSet, error) {
	// A community's figures too come from its snapshot: under write load a
	// direct count waited its turn for a processor at every read, while a
	// snapshot is one row (issue 16, item 7).
	counts, asOf, err := report.SnapshotCounts(ctx, tx, s.scopes(tx, u.Path, periods), u.Population)
	if err != nil {
		return nil, err
	}
	return s.sets(tx, u, periods, counts, asOf, targets), nil
}

// sets are unit u's figure sets for periods from their counts, and the
// times of the oldest stale snapshots they were summed from (zero if none).
func (s *Service) sets(tx *store.Tx, u *unitRow, periods []kpi.Period, counts []kpi.Counts, asOf []time.Time, targets kpi.Targets) []FigureSet {
	out := make([]FigureSet, len(periods))
	for i, p := range periods {
		counts[i].Population = u.Population
		out[i] = FigureSet{OrgUnit: u.Code, Name: u.Name, Level: u.Level, From: p.From.String(), To: p.To.String(),
			AsOf: tx.Now(), Figures: kpi.Compute(counts[i], targets)}
		if !asOf[i].IsZero() && asOf[i].Before(out[i].AsOf) {
			out[i].AsOf, out[i].Stale = asOf[i], true
		}
	}
	return out
}

// ChildFigures returns the figures of each unit directly beneath an org
// unit, side by side.
func (s *Service) ChildFigures(ctx context.Context, unitCode string, p kpi.Period, targets kpi.Targets) ([]FigureSet, error) {
	var out []FigureSet
	f, err := s.actStale(ctx, "figures.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := s.figureScope(ctx, tx, a, unitCode, sub)
		if err != nil {
			return err
		}
		if err := s.checkPeriod("period", p); err != nil {
			return err
		}
		sub.Detail = p.String() + " children"
		out, err = s.childSets(ctx, tx, u, p, targets)
		return err
	})
	for i := range out {
		out[i].fresh(f)
	}
	noteFreshness(ctx, f)
	return out, err
}

func (s *Service) childSets(ctx context.Context, tx *store.Tx, u *unitRow, p kpi.Period, targets kpi.Targets) ([]FigureSet, error) {
	// An institution has no residents: it has no figures of the register.
	rows, err := tx.Query(ctx, `SELECT code FROM org_units WHERE parent_id = ? AND level <> 'institution' ORDER BY path`, u.id)
	if err != nil {
		return nil, err
	}
	var codes []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, err
		}
		codes = append(codes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []FigureSet
	for _, code := range codes {
		child, err := unitByCode(ctx, tx, code)
		if err != nil {
			return nil, err
		}
		fs, err := s.figureSet(ctx, tx, child, p, targets, false)
		if err != nil {
			return nil, err
		}
		out = append(out, *fs)
	}
	return out, nil
}

// FigureTrend returns an org unit's figures for each of the n calendar
// months ending with the month of end.
func (s *Service) FigureTrend(ctx context.Context, unitCode string, end clinical.Date, n int, targets kpi.Targets) ([]FigureSet, error) {
	var out []FigureSet
	f, err := s.actStale(ctx, "figures.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := s.figureScope(ctx, tx, a, unitCode, sub)
		if err != nil {
			return err
		}
		if err := s.checkPeriod("period", kpi.Period{From: end, To: end}); err != nil {
			return err
		}
		sub.Detail = "trend"
		out, err = s.trendSets(ctx, tx, u, end, n, targets)
		return err
	})
	for i := range out {
		out[i].fresh(f)
	}
	noteFreshness(ctx, f)
	return out, err
}

func (s *Service) trendSets(ctx context.Context, tx *store.Tx, u *unitRow, end clinical.Date, n int, targets kpi.Targets) ([]FigureSet, error) {
	return s.figureSets(ctx, tx, u, kpi.LastMonths(end, n), targets)
}

// DashboardQuery chooses what the figures dashboard shows: a unit ("" for
// the actor's own) and period with targets, the trend's n months ending
// with the month of TrendEnd, and whether to count the worklists too.
type DashboardQuery struct {
	OrgUnit     string
	Period      kpi.Period
	Targets     kpi.Targets
	TrendEnd    clinical.Date
	TrendMonths int
	Worklists   bool
}

// Dashboard is everything the figures dashboard shows.
type Dashboard struct {
	Set          *FigureSet
	Children     []FigureSet // nil for a community
	Trend        []FigureSet
	Distribution *report.Distribution
	Screenings   []ScreeningCount
	Worklists    *WorklistCounts // nil unless asked for and the role works with patients
	Referrals    *ReferralFigures
}

// FigureDashboard reads the figures dashboard of a unit in one transaction
// with one audit entry (figures.dashboard): a reader who opens the
// dashboard has read it once, not once for each of its parts.
func (s *Service) FigureDashboard(ctx context.Context, q DashboardQuery) (*Dashboard, error) {
	var out Dashboard
	err := s.view(ctx, "figures.dashboard", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := s.figureScope(ctx, tx, a, q.OrgUnit, sub)
		if err != nil {
			return err
		}
		sub.Detail = q.Period.String()
		if out.Set, err = s.figureSet(ctx, tx, u, q.Period, q.Targets, true); err != nil {
			return err
		}
		if u.Level != Community {
			if out.Children, err = s.childSets(ctx, tx, u, q.Period, q.Targets); err != nil {
				return err
			}
		}
		if out.Trend, err = s.trendSets(ctx, tx, u, q.TrendEnd, q.TrendMonths, q.Targets); err != nil {
			return err
		}
		if out.Distribution, err = report.Distribute(ctx, tx, u.Path, s.today()); err != nil {
			return err
		}
		if out.Screenings, err = screeningCounts(ctx, tx, u.Path, q.Period); err != nil {
			return err
		}
		if out.Referrals, err = s.referralFigures(ctx, tx, u.Code, u.Path, q.Period); err != nil {
			return err
		}
		if q.Worklists && Allow(a, ReadPatient, Target{Path: u.Path}) {
			out.Worklists = &WorklistCounts{}
			return worklistCounts(ctx, tx, a, u.Path, s.today(), out.Worklists)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// FigurePatients lists the patients behind a figure, for those who may see
// the patients themselves. A district administrator sees the counts only:
// the role reads no patient record, and break-the-glass is for clinicians.
func (s *Service) FigurePatients(ctx context.Context, unitCode string, p kpi.Period, key kpi.Key, page Page) ([]report.Row, string, error) {
	return s.figurePage(ctx, unitCode, p, key, true, page)
}

// UncountedPatients lists the patients a rate leaves out: in its
// denominator, not in its numerator (such as the registered patients not
// followed up in the period), the ones a supervisor must chase.
func (s *Service) UncountedPatients(ctx context.Context, unitCode string, p kpi.Period, key kpi.Key, page Page) ([]report.Row, string, error) {
	return s.figurePage(ctx, unitCode, p, key, false, page)
}

// FigureList returns the whole list behind a figure (the patients counted,
// or when counted is false those left out), up to limit patients, for an
// export; more says the list is longer. It is one read and one audit
// entry: an export that paged through FigurePatients recounted the unit's
// follow-ups for every page of 200, a district's year 6 to 14 s for
// 11,000 patients.
func (s *Service) FigureList(ctx context.Context, unitCode string, p kpi.Period, key kpi.Key, counted bool, limit int) (rows []report.Row, more bool, err error) {
	if limit < 1 {
		return nil, false, invalid("limit", "must be at least 1")
	}
	rows, err = s.figurePatients(ctx, unitCode, p, key, counted, 0, limit+1, " export")
	if len(rows) > limit {
		rows, more = rows[:limit], true
	}
	return rows, more, err
}

func (s *Service) figurePage(ctx context.Context, unitCode string, p kpi.Period, key kpi.Key, counted bool, page Page) ([]report.Row, string, error) {
	limit, err := page.limit()
	if err != nil {
		return nil, "", err
	}
	after, err := page.after()
	if err != nil {
		return nil, "", err
	}
	var afterID int64
	if after != "" {
		if afterID, err = strconv.ParseInt(after, 10, 64); err != nil {
			return nil, "", invalid("page_token", "is not a token this server gave out")
		}
	}
	out, err := s.figurePatients(ctx, unitCode, p, key, counted, afterID, limit+1, "")
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(r report.Row) string { return strconv.FormatInt(r.PatientID, 10) })
	return out, next, nil
}

// figurePatients reads up to limit patients of the list behind figure key
// after the id afterID; note ends the audit entry's detail.
func (s *Service) figurePatients(ctx context.Context, unitCode string, p kpi.Period, key kpi.Key, counted bool, afterID int64, limit int, note string) ([]report.Row, error) {
	if !report.HasList(key) {
		return nil, invalid("key", "this figure has no list of patients behind it")
	}
	if !counted && !report.HasUncounted(key) {
		return nil, invalid("counted", "only a rate has patients not counted")
	}
	var out []report.Row
	f, err := s.actStale(ctx, "figures.patients", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := s.figureScope(ctx, tx, a, unitCode, sub)
		if err != nil {
			return err
		}
		if err := s.checkPeriod("period", p); err != nil {
			return err
		}
		sub.Detail = string(key) + " " + p.String()
		if !counted {
			sub.Detail += " not counted"
		}
		sub.Detail += note
		if !Allow(a, ReadPatient, Target{Path: u.Path}) {
			return &Error{Kind: Forbidden, denied: true,
				Message: "your role sees the figures but not the patients behind them"}
		}
		out, err = report.Patients(ctx, tx, s.scope(u, p), key, counted, afterID, limit)
		if err != nil {
			return err
		}
		if PatientView(a.Role) == ViewSafety {
			for i := range out {
				out[i].Classification = ""
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	noteFreshness(ctx, f)
	return out, nil
}

// FigureDistribution returns how an org unit's current register divides by
// latest classification and risk level.
func (s *Service) FigureDistribution(ctx context.Context, unitCode string) (*report.Distribution, error) {
	var out *report.Distribution
	f, err := s.actStale(ctx, "figures.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := s.figureScope(ctx, tx, a, unitCode, sub)
		if err != nil {
			return err
		}
		sub.Detail = "distribution"
		out, err = report.Distribute(ctx, tx, u.Path, s.today())
		return err
	})
	noteFreshness(ctx, f)
	return out, err
}

// WarmFigures brings the figure snapshots of the current and the previous
// month, quarter and year up to date for every district, so that the first reader after a
// busy day does not wait, and, when stale figures are served
// (ServeStaleFigures), the stale snapshots of other recent periods that are
// near the end of their serving time. The scheduled sweeps call it, and the
// server every few seconds (RefreshFigures in package jobs). It counts in
// read transactions and holds the writer only to save.
func (s *Service) WarmFigures(ctx context.Context) error {
	today := s.today()
	var periods []kpi.Period
	for _, p := range []string{today.String()[:7], today.String()[:4] + "-Q" + strconv.Itoa((int(today.Month)+2)/3), today.String()[:4]} {
		per, err := kpi.ParsePeriod(p)
		if err != nil {
			return err
		}
		periods = append(periods, per, per.Previous())
	}
	rows, err := s.db.Query(ctx, `SELECT path FROM org_units WHERE parent_id IS NULL ORDER BY path`)
	if err != nil {
		return err
	}
	var roots []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return err
		}
		roots = append(roots, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if s.staleFigures > 0 {
		// The other recent periods readers asked for (a trend's months, the
		// quarters before) are not kept current, but their stale snapshots
		// are served only for a while after they were counted; a district's
		// figures page then waited for ten months' recounts. Those counted
		// more than half that while ago are recounted here instead.
		kept := map[string]bool{}
		for _, p := range periods {
			kept[p.String()] = true
		}
		aging, err := report.AgingPeriods(ctx, s.db, time.Now().Add(-s.staleFigures/2))
		if err != nil {
			return err
		}
		for _, name := range aging {
			p, err := kpi.ParsePeriod(name)
			if err != nil || kept[name] || p.To.Before(today.AddMonths(-13)) {
				continue
			}
			periods = append(periods, p)
		}
	}
	for _, root := range roots {
		// All the periods of a root together: their recounts are then one
		// pass over the follow-ups (report.RefreshStale).
		scopes := make([]report.Scope, len(periods))
		for i, p := range periods {
			scopes[i] = report.Scope{Path: root, Period: p, AsOf: judgedOn(p, today)}
		}
		if err := report.RefreshStale(ctx, s.db, scopes...); err != nil {
			return err
		}
	}
	return nil
}
