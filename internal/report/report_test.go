package report_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/demo"
	"kith/internal/kpi"
	"kith/internal/report"
	"kith/internal/secrets"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// demoRegister fills db with the demo org units and accounts and 300
// generated patients with their history up to now (seed picks them).
func demoRegister(t *testing.T, db *store.DB, seed uint64) (*care.Service, time.Time) {
	t.Helper()
	ctx := context.Background()
	keys, _ := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
	svc := care.New(db, keys)
	if _, err := demo.Seed(ctx, svc); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := demo.Patients(ctx, db, svc, 300, now, seed); err != nil {
		t.Fatal(err)
	}
	return svc, now
}

// bothWays counts scope directly and through the snapshots, in one
// transaction that in runs (db.Transact, which saves recounted snapshots, or
// db.Read).
func bothWays(t *testing.T, in func(context.Context, func(*store.Tx) error) error, scope report.Scope) (direct, cached kpi.Counts) {
	t.Helper()
	ctx := context.Background()
	if err := in(ctx, func(tx *store.Tx) error {
		var err error
		if direct, err = report.Counts(ctx, tx, scope, 0); err != nil {
			return err
		}
		cached, err = report.CachedCounts(ctx, tx, scope, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return direct, cached
}

// TestSnapshotsAgreeWithDirectCounts: figures summed from community
// snapshots equal the figures counted directly, before and after writes
// that change them (R-KPI counted two ways).
func TestSnapshotsAgreeWithDirectCounts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, now := demoRegister(t, db, 3)
		today := clinical.DateOf(now)
		var periods []kpi.Period
		for _, s := range []string{today.String()[:7], today.String()[:4], today.AddMonths(-3).String()[:4] + "-Q" + "1"} {
			p, err := kpi.ParsePeriod(s)
			if err != nil {
				t.Fatal(err)
			}
			periods = append(periods, p)
		}
		ranged, err := kpi.ParsePeriod(today.AddDays(-40).String() + ".." + today.String())
		if err != nil {
			t.Fatal(err)
		}
		overdue := map[clinical.Date]int64{}
		compare := func(when string, asOf clinical.Date) {
			t.Helper()
			for _, path := range []string{"/D01/", "/D01/S02/", "/D01/S01/C0101/"} {
				// First all periods read together, a range among them, as a
				// figures page and a trend read them (before the one-by-one
				// reads below bring the snapshots up to date).
				all := []kpi.Period{periods[0], ranged, periods[1], periods[2]}
				scopes := make([]report.Scope, len(all))
				direct := make([]kpi.Counts, len(all))
				var together []kpi.Counts
				if err := db.Transact(ctx, func(tx *store.Tx) error {
					if when == "cold" { // the first period's snapshots counted, the others' missing
						if _, err := report.CachedCounts(ctx, tx, report.Scope{Path: path, Period: all[0], AsOf: asOf}, 0); err != nil {
							return err
						}
					}
					for i, p := range all {
						scopes[i] = report.Scope{Path: path, Period: p, AsOf: asOf}
						var err error
						if direct[i], err = report.Counts(ctx, tx, scopes[i], 0); err != nil {
							return err
						}
					}
					var err error
					together, _, err = report.SnapshotCounts(ctx, tx, scopes, 0)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				for i := range all {
					if together[i] != direct[i] {
						t.Errorf("%s, %s %s read together: snapshots %+v, direct %+v", when, path, all[i], together[i], direct[i])
					}
				}
				for _, p := range periods {
					scope := report.Scope{Path: path, Period: p, AsOf: asOf}
					direct, cached := bothWays(t, db.Transact, scope)
					if direct != cached {
						t.Errorf("%s, %s %s: snapshots %+v, direct %+v", when, path, p, cached, direct)
					}
					if direct.Registered == 0 {
						t.Errorf("%s %s: nobody registered", path, p)
					}
					if path == "/D01/" {
						overdue[asOf] = direct.Overdue
					}
				}
			}
		}
		compare("cold", today)
		compare("warm", today)
		// A follow-up and a death in C0101 change its figures; the snapshots follow.
		mgr := care.WithActor(ctx, &care.Actor{Username: "manager", Role: auth.CommunityManager, UnitCode: "C0101", UnitPath: "/D01/S01/C0101/"})
		list, _, err := svc.Patients(mgr, care.PatientQuery{Status: "managed"}, care.Page{Limit: 2})
		if err != nil || len(list) < 2 {
			t.Fatal(list, err)
		}
		yes, no, risk := true, false, 0
		if _, err := svc.RecordFollowUp(mgr, list[0].ID, care.FollowUpInput{Date: today.String(), Mode: "clinic", Reached: &yes, RiskLevel: &risk,
			PsychoticSymptoms: "none", Insight: "complete", AdverseReaction: "none", PhysicalIllness: "none", MedicationAdherence: "regular",
			SocialFunction: map[string]string{"self_care": "good", "housework": "good", "work": "good", "learning": "good", "social_contact": "good"},
			HealthCheck:    &care.HealthCheck{Done: true}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RecordFollowUp(mgr, list[1].ID, care.FollowUpInput{Date: today.String(), Mode: "phone", Reached: &no,
			NotReachedReason: "deceased", DeathDate: today.String(), DeathCause: "stroke"}); err != nil {
			t.Fatal(err)
		}
		compare("after writes", today)
		// A month on, with nothing written, more are overdue: a snapshot
		// counted on another day is stale (R-KPI overdue, judged on the day).
		later := today.AddDays(30)
		compare("a month on", later)
		if overdue[later] <= overdue[today] {
			t.Errorf("overdue a month on %d, today %d: the check proves nothing", overdue[later], overdue[today])
		}
	})
}

// TestFiguresPlannedForTheirUnit: on PostgreSQL the figures' queries are
// planned for their arguments at every run, never kept as a prepared
// statement, whose generic plan guesses a few dozen patients for any range
// of org paths: a district's figures ran 11.4 s on it, 0.24 s planned for
// the district.
func TestFiguresPlannedForTheirUnit(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	keys, _ := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
	svc := care.New(db, keys)
	if _, err := demo.Seed(ctx, svc); err != nil {
		t.Fatal(err)
	}
	today := clinical.DateOf(time.Now())
	period, err := kpi.ParsePeriod(today.String()[:4])
	if err != nil {
		t.Fatal(err)
	}
	scope := report.Scope{Path: "/D01/", Period: period, AsOf: today}
	err = db.Transact(ctx, func(tx *store.Tx) error {
		// More runs than PostgreSQL's five before it may switch to the
		// generic plan, on the transaction's one connection.
		for range 7 {
			if _, err := report.Counts(ctx, tx, scope, 0); err != nil {
				return err
			}
			if _, err := report.Patients(ctx, tx, scope, kpi.ManagementRate, true, 0, 10); err != nil {
				return err
			}
			if _, err := report.Distribute(ctx, tx, scope.Path, today); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT left(statement, 60) FROM pg_prepared_statements
			WHERE (statement LIKE '%FROM follow_ups f JOIN patients q%' OR statement LIKE '%FROM emergencies e%'
			OR statement LIKE '%p.last_classification, COALESCE(p.last_risk_level%') AND statement NOT LIKE '%pg_prepared%'`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			t.Errorf("kept as a prepared statement, planned once for any unit: %s…", s)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestManyStaleAmongFresh: more than a few stale communities are recounted
// in one grouped pass, and the figures of the whole register still count the
// communities that were current (R-KPI counted two ways, as in
// TestSnapshotsAgreeWithDirectCounts).
func TestManyStaleAmongFresh(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, _ := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
		svc := care.New(db, keys)
		admin := care.WithActor(ctx, &care.Actor{Username: "root", Role: auth.Admin})
		units := []care.UnitInput{
			{Code: "A", Name: "District A", Level: "district"},
			{Code: "AS", Name: "Street A", Level: "street", ParentCode: "A"},
			{Code: "B", Name: "District B", Level: "district"},
			{Code: "BS", Name: "Street B", Level: "street", ParentCode: "B"},
			{Code: "B01", Name: "Community B01", Level: "community", ParentCode: "BS"},
		}
		var busy []string
		for i := range 21 {
			code := fmt.Sprintf("A%02d", i)
			busy = append(busy, code)
			units = append(units, care.UnitInput{Code: code, Name: "Community " + code, Level: "community", ParentCode: "AS"})
		}
		for _, u := range units {
			if _, err := svc.CreateUnit(admin, u); err != nil {
				t.Fatalf("unit %s: %v", u.Code, err)
			}
		}
		for i, code := range append(busy, "B01") {
			district := code[:1]
			psy := care.WithActor(ctx, &care.Actor{Username: "psy" + district, Role: auth.Psychiatrist, UnitCode: district, UnitPath: "/" + district + "/"})
			if _, err := svc.RegisterPatient(psy, care.PatientInput{Name: "Patient " + code, Sex: "female",
				BirthDate: fmt.Sprintf("1980-01-%02d", i+1), OrgUnit: code, RegisteredOn: "2025-01-10",
				Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}}); err != nil {
				t.Fatal(err)
			}
		}
		year, _ := kpi.ParsePeriod("2025")
		// The whole register: both districts.
		scope := report.Scope{Path: "", Period: year, AsOf: clinical.DateOf(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC))}
		counts := func(when string) {
			t.Helper()
			direct, cached := bothWays(t, db.Transact, scope)
			if direct != cached || direct.Registered != 22 {
				t.Errorf("%s: snapshots %+v, direct %+v (want 22 registered)", when, cached, direct)
			}
		}
		counts("cold")
		// District A's 21 communities go stale (as a busy day's writes
		// leave them); B's snapshot stays current and must still count.
		if _, err := db.Exec(ctx, `UPDATE figure_versions SET version = version + 1
			WHERE unit_id IN (SELECT id FROM org_units WHERE code LIKE 'A%' AND level = 'community')`); err != nil {
			t.Fatal(err)
		}
		counts("district A stale")
	})
}

// TestPeriodsCountedTogether: the figures of several periods counted in one
// pass (as the background refresh counts the current and previous month,
// quarter and year of a unit) equal each period counted alone (R-KPI), per
// community and in total, for a district and for one community, and the
// refresh leaves snapshots that agree with the direct counts.
func TestPeriodsCountedTogether(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, now := demoRegister(t, db, 5)
		today := clinical.DateOf(now)
		var scopes []report.Scope
		for _, s := range []string{today.String()[:7], today.String()[:4], today.String()[:4] + "-Q" + fmt.Sprint((int(today.Month)+2)/3),
			today.AddDays(-40).String() + ".." + today.String()} {
			p, err := kpi.ParsePeriod(s)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []kpi.Period{p, p.Previous()} {
				asOf := today
				if p.To.Before(today) {
					asOf = p.To
				}
				scopes = append(scopes, report.Scope{Period: p, AsOf: asOf})
			}
		}
		for _, path := range []string{"/D01/", "/D01/S01/C0101/"} {
			for i := range scopes {
				scopes[i].Path = path
			}
			for _, byCommunity := range []bool{true, false} {
				var together []map[int64]kpi.Counts
				alone := make([]map[int64]kpi.Counts, len(scopes))
				if err := db.Read(ctx, func(tx *store.Tx) error {
					var err error
					if together, err = report.CountsBy(ctx, tx, scopes, byCommunity); err != nil {
						return err
					}
					for i := range scopes {
						m, err := report.CountsBy(ctx, tx, scopes[i:i+1], byCommunity)
						if err != nil {
							return err
						}
						alone[i] = m[0]
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				for i, s := range scopes {
					var total kpi.Counts
					for unit, c := range alone[i] {
						if together[i][unit] != c {
							t.Errorf("%s %s, unit %d: together %+v, alone %+v", path, s.Period, unit, together[i][unit], c)
						}
						total.Registered += c.Registered
					}
					for unit, c := range together[i] {
						if _, ok := alone[i][unit]; !ok && c != (kpi.Counts{}) {
							t.Errorf("%s %s, unit %d: together %+v, alone nothing", path, s.Period, unit, c)
						}
					}
					if total.Registered == 0 {
						t.Errorf("%s %s: nobody registered; the check proves nothing", path, s.Period)
					}
				}
			}
		}
		// The refresh of the six snapshotted periods (the ranges are not
		// snapshotted) leaves snapshots equal to the direct counts.
		var periods []report.Scope
		for _, s := range scopes {
			if s.Period.Kind != kpi.KindRange {
				s.Path = "/D01/"
				periods = append(periods, s)
			}
		}
		if err := report.RefreshStale(ctx, db, periods...); err != nil {
			t.Fatal(err)
		}
		for _, s := range periods {
			direct, cached := bothWays(t, db.Read, s)
			if direct != cached {
				t.Errorf("%s after the refresh: snapshots %+v, direct %+v", s.Period, cached, direct)
			}
		}
	})
}

// TestConfirmCurrent: the refresh marks current snapshots counted long ago
// as current now, and leaves a snapshot that a write made stale as it was.
func TestConfirmCurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, now := demoRegister(t, db, 5)
		today := clinical.DateOf(now)
		quarter, err := kpi.ParsePeriod(today.String()[:4] + "-Q" + strconv.Itoa((int(today.Month)+2)/3))
		if err != nil {
			t.Fatal(err)
		}
		var path string
		var patient, written int64
		if err := db.QueryRow(ctx, `SELECT d.path, p.id, p.org_unit_id FROM org_units d JOIN patients p ON p.org_path >= d.path
			AND p.org_path < d.path || '~' WHERE d.level = 'district' ORDER BY p.id LIMIT 1`).Scan(&path, &patient, &written); err != nil {
			t.Fatal(err)
		}
		scope := report.Scope{Path: path, Period: quarter, AsOf: today}
		if err := db.Transact(ctx, func(tx *store.Tx) error {
			_, err := report.CachedCounts(ctx, tx, scope, 0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		hourAgo := store.FormatTime(time.Now().Add(-time.Hour))
		if _, err := db.Exec(ctx, `UPDATE figure_snapshots SET computed_at = ?`, hourAgo); err != nil {
			t.Fatal(err)
		}
		if err := db.Transact(ctx, func(tx *store.Tx) error { return report.Touch(ctx, tx, patient) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Transact(ctx, func(tx *store.Tx) error { return report.ConfirmCurrent(ctx, tx, []report.Scope{scope}) }); err != nil {
			t.Fatal(err)
		}
		var confirmed, old, stale int
		if err := db.QueryRow(ctx, `SELECT
			COALESCE(sum(CASE WHEN s.computed_at > ? AND s.unit_id <> ? THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN s.computed_at = ? AND s.unit_id <> ? THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN s.computed_at = ? AND s.unit_id = ? THEN 1 ELSE 0 END), 0)
			FROM figure_snapshots s WHERE s.period = ?`, hourAgo, written, hourAgo, written, hourAgo, written, quarter.String()).
			Scan(&confirmed, &old, &stale); err != nil {
			t.Fatal(err)
		}
		if confirmed == 0 || old != 0 || stale != 1 {
			t.Errorf("confirmed %d, left old %d of the current snapshots; the stale one left old: %d (want all, none, 1)", confirmed, old, stale)
		}
	})
}

// TestListsAgreeWithCounts: the list behind each figure holds as many
// patients as its numerator, and a rate's patients not counted are its
// denominator less its numerator (R-KPI), whether the list's condition
// reads the follow-ups' sums or only the register.
func TestListsAgreeWithCounts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, now := demoRegister(t, db, 5)
		today := clinical.DateOf(now)
		for _, name := range []string{today.String()[:7], today.String()[:4]} {
			p, err := kpi.ParsePeriod(name)
			if err != nil {
				t.Fatal(err)
			}
			scope := report.Scope{Path: "/D01/", Period: p, AsOf: today}
			if err := db.Read(ctx, func(tx *store.Tx) error {
				counts, err := report.Counts(ctx, tx, scope, 0)
				if err != nil {
					return err
				}
				for _, f := range kpi.Compute(counts, nil) {
					if !report.HasList(f.Key) {
						continue
					}
					rows, err := report.Patients(ctx, tx, scope, f.Key, true, 0, 10000)
					if err != nil {
						return fmt.Errorf("%s: %w", f.Key, err)
					}
					if int64(len(rows)) != f.Numerator {
						t.Errorf("%s %s: %d patients listed, numerator %d", name, f.Key, len(rows), f.Numerator)
					}
					if !report.HasUncounted(f.Key) {
						continue
					}
					if rows, err = report.Patients(ctx, tx, scope, f.Key, false, 0, 10000); err != nil {
						return fmt.Errorf("%s not counted: %w", f.Key, err)
					}
					if int64(len(rows)) != f.Denominator-f.Numerator {
						t.Errorf("%s %s: %d patients not counted, want %d − %d", name, f.Key, len(rows), f.Denominator, f.Numerator)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestListsCountOnlyWhatTheyRead: the lists of counts kept on the register
// (registered, overdue, lost, the plan figures) do not sum every patient's
// follow-ups of the period's year; the rates over follow-ups do.
func TestListsCountOnlyWhatTheyRead(t *testing.T) {
	for k, want := range map[kpi.Key]bool{
		kpi.Registered: false, kpi.Overdue: false, kpi.Lost: false, kpi.PlanCoverage: false, kpi.ReviewsOnTime: false,
		kpi.GoalsAchieved: false, kpi.ManagementRate: true, kpi.StandardisedManagementRate: true, kpi.MedicationRate: true,
		kpi.RegularMedicationRate: true, kpi.FaceToFaceRate: true, kpi.StabilityRate: true, kpi.HealthCheckRate: true,
	} {
		if got := report.ListReadsSums(k); got != want {
			t.Errorf("list behind %s reads the sums: %v, want %v", k, got, want)
		}
	}
}
