// Package bench measures Kith's main operations on a database filled by
// "kith demo -patients N": the latency of each, through the service (with
// its access checks and audit entries), as percentiles.
package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/kpi"
	"kith/internal/report"
	"kith/internal/store"
)

// Result is the latencies of one operation.
type Result struct {
	Name     string
	N        int
	P50, P99 time.Duration
	Max      time.Duration
}

type op struct {
	name string
	run  func() error
}

// Run measures n runs of each operation and writes a table to w.
func Run(ctx context.Context, db *store.DB, svc *care.Service, n int, w io.Writer) ([]Result, error) {
	rng := rand.New(rand.NewPCG(42, 7))
	var communities []string
	var districts []string
	codeOf := map[string]string{}
	rows, err := db.Query(ctx, `SELECT path, level, code FROM org_units WHERE level IN ('community', 'district')`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var path, level, code string
		if err := rows.Scan(&path, &level, &code); err != nil {
			rows.Close()
			return nil, err
		}
		codeOf[path] = code
		if level == "community" {
			communities = append(communities, path)
		} else {
			districts = append(districts, path)
		}
	}
	rows.Close()
	var maxID int64
	if err := db.QueryRow(ctx, `SELECT COALESCE(max(id), 0) FROM patients`).Scan(&maxID); err != nil {
		return nil, err
	}
	if len(communities) == 0 || maxID == 0 {
		return nil, fmt.Errorf("bench: no patients; fill the database with kith demo -patients N first")
	}
	psy := func(path string) context.Context {
		return care.WithActor(ctx, &care.Actor{Username: "bench", Role: auth.Psychiatrist, UnitPath: path})
	}
	// The province-wide view reaches any patient.
	everyone := psy("/")
	initials := []string{"wx", "lm", "zj", "lh", "cy", "yl", "hw", "zm"}
	today := time.Now().Format("2006-01-02")
	risk := 1
	ops := []op{
		{"overdue worklist, one community", func() error {
			c := communities[rng.IntN(len(communities))]
			mgr := care.WithActor(ctx, &care.Actor{Username: "bench", Role: auth.CommunityManager, UnitPath: c})
			_, _, err := svc.Worklist(mgr, care.WorklistQuery{Kind: "overdue"}, care.Page{})
			return err
		}},
		{"name-prefix search, one district", func() error {
			d := districts[rng.IntN(len(districts))]
			_, _, err := svc.Patients(psy(d), care.PatientQuery{Q: benchSurnames[rng.IntN(len(benchSurnames))]}, care.Page{})
			return err
		}},
		{"pinyin-initials search, one district", func() error {
			d := districts[rng.IntN(len(districts))]
			_, _, err := svc.Patients(psy(d), care.PatientQuery{Q: initials[rng.IntN(len(initials))]}, care.Page{})
			return err
		}},
		{"phone or ID-tail search, the province", func() error {
			q := "13" + strconv.Itoa(100+rng.IntN(900)) // a phone number's beginning
			if rng.IntN(2) == 0 {
				q = strconv.Itoa(1000 + rng.IntN(9000)) // an ID's last four
			}
			_, _, err := svc.Patients(everyone, care.PatientQuery{Q: q}, care.Page{})
			return err
		}},
		{"record page (record and timeline)", func() error {
			_, err := svc.PatientRecord(everyone, 1+rng.Int64N(maxID))
			return err
		}},
		{"follow-up submission", func() error {
			id := 1 + rng.Int64N(maxID)
			reached := true
			_, err := svc.RecordFollowUp(everyone, id, care.FollowUpInput{Date: today, Mode: "home_visit", Reached: &reached,
				RiskLevel: &risk, PsychoticSymptoms: "some", Insight: "partial", AdverseReaction: "none", PhysicalIllness: "none",
				SocialFunction:      map[string]string{"self_care": "good", "housework": "fair", "work": "fair", "learning": "fair", "social_contact": "good"},
				MedicationAdherence: "regular"})
			if care.ErrorKind(err) == care.Conflict { // deceased or moved away: not a failure
				return nil
			}
			return err
		}},
		{"PHQ-9 administered (one in ten raises an alert)", func() error {
			answers := []int{1, 2, 1, 0, 1, 2, 1, 0, 0}
			if rng.IntN(10) == 0 {
				answers[8] = 1
			}
			_, err := svc.Assess(everyone, 1+rng.Int64N(maxID), care.AssessmentInput{Instrument: "phq9", Date: today, Answers: answers})
			return err
		}},
		{"assessment history, one patient", func() error {
			_, _, err := svc.Assessments(everyone, 1+rng.Int64N(maxID), care.AssessmentQuery{Instrument: "phq9"}, care.Page{})
			return err
		}},
		{"open alerts, one district (psychiatrist)", func() error {
			_, _, err := svc.Alerts(psy(districts[rng.IntN(len(districts))]), care.AlertQuery{}, care.Page{})
			return err
		}},
		{"anonymous self-screening", func() error {
			// Each run from its own address, as residents are: the public
			// limit is per address.
			pub := care.WithRequest(ctx, care.RequestInfo{ClientAddr: "bench-" + strconv.Itoa(rng.IntN(1<<30))})
			_, err := svc.Screen(pub, care.ScreeningInput{Instrument: "gad7", Answers: []int{1, 1, 2, 0, 1, 1, 0},
				Community: codeOf[communities[rng.IntN(len(communities))]]})
			return err
		}},
		{"worklist counts, one district", func() error {
			_, err := svc.WorklistCounts(psy(districts[rng.IntN(len(districts))]), "")
			return err
		}},
		{"below-minimum worklist, one district", func() error {
			_, _, err := svc.Worklist(psy(districts[rng.IntN(len(districts))]), care.WorklistQuery{Kind: "below_min"}, care.Page{})
			return err
		}},
		{"contact requests, one community", func() error {
			c := communities[rng.IntN(len(communities))]
			mgr := care.WithActor(ctx, &care.Actor{Username: "bench", Role: auth.CommunityManager, UnitPath: c})
			_, _, err := svc.ContactRequests(mgr, care.ContactQuery{}, care.Page{})
			return err
		}},
	}
	quarter, _ := kpi.ParsePeriod(time.Now().Format("2006") + "-Q" + strconv.Itoa((int(time.Now().Month())+2)/3))
	year, _ := kpi.ParsePeriod(time.Now().Format("2006"))
	// asReader reads, with read, the figures of one of paths picked at
	// random, as a district administrator there.
	asReader := func(paths []string, read func(ctx context.Context, code string) error) func() error {
		return func() error {
			path := paths[rng.IntN(len(paths))]
			da := care.WithActor(ctx, &care.Actor{Username: "bench", Role: auth.DistrictAdmin, UnitPath: path})
			var code string
			if err := db.QueryRow(ctx, `SELECT code FROM org_units WHERE path = ?`, path).Scan(&code); err != nil {
				return err
			}
			return read(da, code)
		}
	}
	figures := func(paths []string) func() error {
		return asReader(paths, func(ctx context.Context, code string) error {
			_, err := svc.Figures(ctx, code, quarter, kpi.DefaultTargets())
			return err
		})
	}
	dashboard := func(paths []string) func() error {
		return asReader(paths, func(ctx context.Context, code string) error {
			// As the figures page asks for it: the period and the one
			// before, the units beneath, twelve months' trend.
			_, err := svc.FigureDashboard(ctx, care.DashboardQuery{OrgUnit: code, Period: quarter, Targets: kpi.DefaultTargets(),
				TrendEnd: clinical.DateOf(time.Now()), TrendMonths: 12})
			return err
		})
	}
	ops = append(ops,
		op{"figures this quarter, one community", figures(communities)},
		op{"figures this quarter, one district", figures(districts)},
		op{"figures page this quarter, one community", dashboard(communities)},
		op{"figures page this quarter, one district", dashboard(districts)},
		op{wholeList, func() error {
			d := districts[rng.IntN(len(districts))]
			_, _, err := svc.FigureList(psy(d), codeOf[d], year, kpi.ManagementRate, true, 20000)
			return err
		}},
		op{"figures this quarter, all units (province)", func() error {
			// No role's jurisdiction spans several districts yet, so the
			// province's counts are taken straight from package report,
			// through the community snapshots as the service does.
			return db.Transact(ctx, func(tx *store.Tx) error {
				_, err := report.CachedCounts(ctx, tx, report.Scope{Path: "", Period: quarter, AsOf: clinical.DateOf(time.Now())}, 0)
				return err
			})
		}},
	)
	// The first figures after a bulk load compute every community's
	// snapshot; that is timed once, apart.
	start := time.Now()
	if err := svc.WarmFigures(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "warming the figure snapshots (month, quarter, year; every district): %s\n", time.Since(start).Round(time.Millisecond))
	var out []Result
	fmt.Fprintf(w, "%-50s %6s %10s %10s %10s\n", "operation", "n", "p50", "p99", "max")
	for _, op := range ops {
		runs := n
		switch op.name {
		case "figures this quarter, all units (province)":
			runs = min(n, 100)
		case wholeList:
			runs = min(n, 20)
		}
		r, err := measure(op, runs, w)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// wholeList is the operation of an export of the list behind a figure:
// the patients of a district followed up this year (the management rate),
// read whole.
const wholeList = "list behind a figure, whole, one district's year"

// measure runs op a few times to warm caches and pools, then runs times,
// and writes a line of its latency percentiles to w.
func measure(op op, runs int, w io.Writer) (Result, error) {
	for i := 0; i < min(3, runs); i++ {
		if err := op.run(); err != nil {
			return Result{}, fmt.Errorf("bench: %s: %w", op.name, err)
		}
	}
	lat := make([]time.Duration, 0, runs)
	for i := 0; i < runs; i++ {
		start := time.Now()
		if err := op.run(); err != nil {
			return Result{}, fmt.Errorf("bench: %s: %w", op.name, err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	r := Result{Name: op.name, N: runs, P50: lat[runs/2], P99: lat[(runs*99)/100], Max: lat[runs-1]}
	fmt.Fprintf(w, "%-50s %6d %10s %10s %10s\n", r.Name, r.N, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
	return r, nil
}
