package care

import (
	"context"
	"strconv"

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
	// The time of the data counted, and whether it came from a standby.
	Freshness
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
	sub.Type, sub.ID = "figures", code
	if u == nil || !Allow(a, ReadUnit, Target{Path: u.Path}) {
		return nil, invalid("org_unit", "no org unit you may see has this code")
	}
	sub.Unit, sub.Path = u.Code, u.Path
	if !Allow(a, ReadFigures, Target{Path: u.Path}) {
		return nil, errForbidden()
	}
	return u, nil
}

func (s *Service) scope(u *unitRow, p kpi.Period) report.Scope {
	asOf := s.today()
	if p.To.Before(asOf) {
		asOf = p.To
	}
	return report.Scope{Path: u.Path, Period: p, AsOf: asOf}
}

// Figures returns the figures (R-KPI) of an org unit, with everything
// beneath it, for a period, and those of the period before for comparison.
func (s *Service) Figures(ctx context.Context, unitCode string, p kpi.Period, targets kpi.Targets) (*FigureSet, error) {
	var out *FigureSet
	f, err := s.actStale(ctx, "figures.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := s.figureScope(ctx, tx, a, unitCode, sub)
		if err != nil {
			return err
		}
		if err := s.checkPeriod("period", p); err != nil {
			return err
		}
		sub.Detail = p.String()
		out, err = s.figureSet(ctx, tx, u, p, targets, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	out.Freshness = f
	noteFreshness(ctx, f)
	return out, nil
}

func (s *Service) figureSet(ctx context.Context, tx *store.Tx, u *unitRow, p kpi.Period, targets kpi.Targets, previous bool) (*FigureSet, error) {
	count := report.CachedCounts
	if u.Level == Community {
		count = report.Counts // one community is counted faster directly
	}
	c, err := count(ctx, tx, s.scope(u, p), u.Population)
	if err != nil {
		return nil, err
	}
	fs := &FigureSet{OrgUnit: u.Code, Name: u.Name, Level: u.Level, From: p.From.String(), To: p.To.String(), Figures: kpi.Compute(c, targets)}
	if previous {
		pc, err := count(ctx, tx, s.scope(u, p.Previous()), u.Population)
		if err != nil {
			return nil, err
		}
		fs.Previous = kpi.Compute(pc, targets)
	}
	return fs, nil
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
		rows, err := tx.Query(ctx, `SELECT code FROM org_units WHERE parent_id = ? ORDER BY path`, u.id)
		if err != nil {
			return err
		}
		var codes []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			codes = append(codes, c)
		}
		rows.Close()
		for _, code := range codes {
			child, err := unitByCode(ctx, tx, code)
			if err != nil {
				return err
			}
			fs, err := s.figureSet(ctx, tx, child, p, targets, false)
			if err != nil {
				return err
			}
			out = append(out, *fs)
		}
		return rows.Err()
	})
	for i := range out {
		out[i].Freshness = f
	}
	noteFreshness(ctx, f)
	return out, err
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
		for _, p := range kpi.LastMonths(end, n) {
			fs, err := s.figureSet(ctx, tx, u, p, targets, false)
			if err != nil {
				return err
			}
			out = append(out, *fs)
		}
		return nil
	})
	for i := range out {
		out[i].Freshness = f
	}
	noteFreshness(ctx, f)
	return out, err
}

// FigurePatients lists the patients behind a figure, for those who may see
// the patients themselves. A district administrator sees the counts only
// (names need break-the-glass, which is not built yet).
func (s *Service) FigurePatients(ctx context.Context, unitCode string, p kpi.Period, key kpi.Key, page Page) ([]report.Row, string, error) {
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
	if !report.HasList(key) {
		return nil, "", invalid("key", "this figure has no list of patients behind it")
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
		if !Allow(a, ReadPatient, Target{Path: u.Path}) {
			return &Error{Kind: Forbidden, denied: true,
				Message: "your role sees the figures but not the patients behind them"}
		}
		out, err = report.Patients(ctx, tx, s.scope(u, p), key, afterID, limit+1)
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
		return nil, "", err
	}
	noteFreshness(ctx, f)
	out, next := cut(out, limit, func(r report.Row) string { return strconv.FormatInt(r.PatientID, 10) })
	return out, next, nil
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
// busy day does not wait. The scheduled sweeps call it.
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
	for _, root := range roots {
		for _, p := range periods {
			// One transaction per district and period keeps SQLite's writer
			// free between them.
			if err := s.db.Transact(ctx, func(tx *store.Tx) error {
				_, err := report.CachedCounts(ctx, tx, report.Scope{Path: root, Period: p, AsOf: today}, 0)
				return err
			}); err != nil {
				return err
			}
		}
	}
	return nil
}
