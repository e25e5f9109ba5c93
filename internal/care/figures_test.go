package care_test

import (
	"context"
	"testing"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/kpi"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestFigures checks every R-KPI formula on a small register whose answers
// are worked out by hand below, for the first quarter of 2025.
func TestFigures(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc) // C1 under S1, C2 under S2; C1 has 400 residents
		clock(svc, "2025-04-15")
		ctx := as(manager)
		mk := func(name, reg string, diag string, guardian bool) int64 {
			in := care.PatientInput{Name: name, RegisteredOn: reg, Diagnoses: []care.Diagnosis{{Code: diag}}, Consent: guardian}
			if guardian {
				in.Guardian = care.Guardian{Name: "guardian"}
			}
			return register(t, svc, manager, in).ID
		}
		fu := func(id int64, date, mode string, risk int, adherence string, check bool) {
			in := form(date, risk)
			in.Mode, in.MedicationAdherence = mode, adherence
			if check {
				in.HealthCheck = &care.HealthCheck{Done: true, BloodPressure: "120/80"}
			}
			if _, err := svc.RecordFollowUp(ctx, id, in); err != nil {
				t.Fatal(err)
			}
		}
		// P1: 4 reached follow-ups this year, the last on the quarter's last
		// day, stable, regular medication, health check, guardian and consent.
		p1 := mk("P1", "2024-06-01", "schizophrenia", true)
		fu(p1, "2025-01-10", "home_visit", 0, "regular", true)
		fu(p1, "2025-02-10", "phone", 0, "regular", false)
		fu(p1, "2025-03-10", "clinic", 0, "regular", false)
		fu(p1, "2025-03-31", "home_visit", 0, "regular", false)
		// P2: one phone follow-up, basically stable, intermittent; due 14
		// days later, so overdue at the quarter's end; an emergency in March.
		p2 := mk("P2", "2024-01-01", "bipolar", false)
		fu(p2, "2025-02-01", "phone", 1, "intermittent", false)
		for _, at := range []string{"2025-03-15T10:00:00Z", "2025-04-05T10:00:00Z"} {
			if _, err := svc.RecordEmergency(as(careMan), p2, care.EmergencyInput{OccurredAt: mustTime(t, at), Triggers: []string{"relapse_deterioration"}}); err != nil {
				t.Fatal(err)
			}
		}
		// P3: followed up only after the quarter.
		p3 := mk("P3", "2024-01-01", "schizophrenia", false)
		fu(p3, "2025-04-01", "home_visit", 0, "none", false)
		// P4 died in February, P5 moved away in March: off the register.
		p4 := mk("P4", "2024-01-01", "schizophrenia", false)
		if _, err := svc.RecordFollowUp(ctx, p4, care.FollowUpInput{Date: "2025-02-20", Mode: "phone", Reached: boolp(false),
			NotReachedReason: "deceased", DeathDate: "2025-02-15", DeathCause: "pneumonia"}); err != nil {
			t.Fatal(err)
		}
		p5 := mk("P5", "2024-01-01", "schizophrenia", false)
		if _, err := svc.UpdatePatient(ctx, p5, care.PatientPatch{Status: ptr("moved_away"), StatusOn: "2025-03-01"}); err != nil {
			t.Fatal(err)
		}
		// P6 has no severe disorder; P7 registered after the quarter.
		mk("P6", "2024-01-01", "F32.1", false)
		mk("P7", "2025-04-02", "schizophrenia", false)
		// P8: registered, never followed up, overdue.
		mk("P8", "2024-10-01", "schizophrenia", false)

		q1, err := kpi.ParsePeriod("2025-Q1")
		if err != nil {
			t.Fatal(err)
		}
		district := &care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"}
		set, err := svc.Figures(as(district), "C1", q1, kpi.DefaultTargets())
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			key      kpi.Key
			num, den int64
			value    float64
		}{
			{kpi.Registered, 4, 0, 4},                  // P1, P2, P3, P8
			{kpi.RegisteredPrevalence, 4, 400, 10},     // 4 ÷ 400 residents × 1000
			{kpi.ManagementRate, 2, 4, 50},             // P1, P2
			{kpi.StandardisedManagementRate, 1, 4, 25}, // P1
			{kpi.MedicationRate, 2, 4, 50},             // P1 regular, P2 intermittent
			{kpi.RegularMedicationRate, 1, 4, 25},      // P1
			{kpi.FaceToFaceRate, 1, 4, 25},             // P1 (P2 by phone only)
			{kpi.StabilityRate, 1, 2, 50},              // P1 stable of P1, P2 followed up
			{kpi.HealthCheckRate, 1, 4, 25},            // P1
			{kpi.Overdue, 2, 0, 2},                     // P2 (due 2025-02-15), P8 (due 2024-10-15)
			{kpi.Lost, 0, 0, 0},
			{kpi.Emergencies, 1, 0, 1}, // the March one
		}
		for _, w := range want {
			f, ok := kpi.Find(set.Figures, w.key)
			if !ok || f.Numerator != w.num || f.Denominator != w.den || f.Value == nil || *f.Value != w.value {
				t.Errorf("R-KPI %s = %+v (value %v), want %d/%d = %v", w.key, f, deref(f.Value), w.num, w.den, w.value)
			}
		}
		if f, _ := kpi.Find(set.Figures, kpi.FaceToFaceRate); !f.KithDefinition {
			t.Error("the face-to-face rate is not marked as Kith's own definition")
		}
		if f, _ := kpi.Find(set.Figures, kpi.ManagementRate); !f.BelowTarget {
			t.Error("a 50 % management rate is not flagged below the 80 % target")
		}

		// The list behind a figure is the patients counted in it.
		psy := &care.Actor{Username: "psy", Role: auth.Psychiatrist, UnitCode: "D1", UnitPath: "/D1/"}
		rows, _, err := svc.FigurePatients(as(psy), "C1", q1, kpi.ManagementRate, care.Page{})
		if err != nil || len(rows) != 2 || rows[0].PatientID != p1 || rows[1].PatientID != p2 {
			t.Errorf("patients behind the management rate = %+v, %v; want P1, P2", rows, err)
		}
		// And those it leaves out: registered, not followed up in the
		// quarter, the patients a supervisor must chase.
		mr, _ := kpi.Find(set.Figures, kpi.ManagementRate)
		left, _, err := svc.UncountedPatients(as(psy), "C1", q1, kpi.ManagementRate, care.Page{})
		if err != nil || int64(len(left)) != mr.Denominator-mr.Numerator {
			t.Errorf("patients the management rate leaves out = %+v, %v; want %d", left, err, mr.Denominator-mr.Numerator)
		}
		for _, r := range left {
			if r.PatientID == p1 || r.PatientID == p2 {
				t.Errorf("patient %d is counted and also left out", r.PatientID)
			}
		}
		if _, _, err := svc.UncountedPatients(as(psy), "C1", q1, kpi.Overdue, care.Page{}); care.ErrorKind(err) != care.Invalid {
			t.Errorf("patients a count leaves out: %v, want invalid", err)
		}
		// An export reads the whole list at once, with one audit entry,
		// and says when the list is longer than it may be.
		before := count(t, db, `SELECT count(*) FROM audit_log`)
		all, more, err := svc.FigureList(as(psy), "C1", q1, kpi.ManagementRate, false, len(left))
		if err != nil || more || len(all) != len(left) || all[0].PatientID != left[0].PatientID {
			t.Errorf("whole list left out = %+v, more %v, %v; want the %d of the pages", all, more, err, len(left))
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log`) - before; n != 1 {
			t.Errorf("the export wrote %d audit entries, want 1", n)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'figures.patients' AND detail = ?`,
			"management_rate 2025-Q1 not counted export"); n != 1 {
			t.Errorf("%d entries for the export, want 1", n)
		}
		all, more, err = svc.FigureList(as(psy), "C1", q1, kpi.ManagementRate, true, 1)
		if err != nil || !more || len(all) != 1 || all[0].PatientID != p1 {
			t.Errorf("list of 2 cut at 1 = %+v, more %v, %v; want P1 and more", all, more, err)
		}
		if _, _, err := svc.FigureList(as(district), "C1", q1, kpi.ManagementRate, true, 10); care.ErrorKind(err) != care.Forbidden {
			t.Errorf("district admin exports names: %v", err)
		}
		// The dashboard is one read, audited once.
		svc.Drain()
		before = count(t, db, `SELECT count(*) FROM audit_log`)
		dash, err := svc.FigureDashboard(as(psy), care.DashboardQuery{OrgUnit: "S1", Period: q1, TrendEnd: q1.To, TrendMonths: 12, Worklists: true})
		if err != nil || dash.Set == nil || len(dash.Trend) != 12 || len(dash.Children) != 1 || dash.Distribution == nil || dash.Worklists == nil {
			t.Fatalf("dashboard = %+v, %v", dash, err)
		}
		svc.Drain() // a read of counts is audited after it is answered
		if n := count(t, db, `SELECT count(*) FROM audit_log`) - before; n != 1 {
			t.Errorf("the dashboard wrote %d audit entries, want 1", n)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'figures.dashboard' AND subject_id = 'S1'`); n != 1 {
			t.Errorf("%d figures.dashboard entries for S1, want 1", n)
		}
		rows, _, _ = svc.FigurePatients(as(psy), "C1", q1, kpi.Overdue, care.Page{})
		if len(rows) != 2 {
			t.Errorf("patients behind overdue = %+v, want 2", rows)
		}
		// A district administrator sees the numbers, not the names.
		if _, _, err := svc.FigurePatients(as(district), "C1", q1, kpi.ManagementRate, care.Page{}); care.ErrorKind(err) != care.Forbidden {
			t.Errorf("district admin drills down to names: %v", err)
		}
		if _, err := svc.Figures(as(careMan), "C1", q1, nil); care.ErrorKind(err) != care.Forbidden {
			t.Errorf("care group reads figures: %v", err)
		}
		if _, err := svc.Figures(as(manager2), "C1", q1, nil); care.ErrorKind(err) != care.Invalid {
			t.Errorf("another community's manager reads C1's figures: %v", err)
		}

		dist, err := svc.FigureDistribution(as(district), "C1")
		if err != nil || dist.Classification["stable"] != 2 || dist.Classification[""] != 2 || dist.RiskLevel[-1] != 2 {
			// now: P1 stable, P3 stable (April), P2 basically stable, P8 and P7 never followed up
			t.Errorf("distribution = %+v, %v", dist, err)
		}

		// Children side by side; the district is the sum of its parts.
		kids, err := svc.ChildFigures(as(district), "D1", q1, nil)
		if err != nil || len(kids) != 2 || kids[0].OrgUnit != "S1" {
			t.Fatalf("children = %+v, %v", kids, err)
		}
		if f, _ := kpi.Find(kids[0].Figures, kpi.Registered); f.Numerator != 4 {
			t.Errorf("S1 registered = %d, want 4", f.Numerator)
		}
		trend, err := svc.FigureTrend(as(district), "C1", clinical.Date{Year: 2025, Month: time.March, Day: 31}, 3, nil)
		if err != nil || len(trend) != 3 || trend[2].From != "2025-03-01" {
			t.Fatalf("trend = %+v, %v", trend, err)
		}
		if f, _ := kpi.Find(trend[2].Figures, kpi.ManagementRate); f.Numerator != 1 { // only P1 in March
			t.Errorf("March management numerator = %d, want 1", f.Numerator)
		}
	})
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// TestFiguresOfAMovedUnit: a unit's figures are read together with the
// unit, at the path it last had (figuresOf). Once it moves, a reader of
// its old place is refused and a reader of its new place gets its figures,
// the same as a service that never read it before; so does a reader of
// both, who read it at its old place.
func TestFiguresOfAMovedUnit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-04-15")
		register(t, svc, manager, care.PatientInput{Name: "P", RegisteredOn: "2024-01-01", Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}})
		q, _ := kpi.ParsePeriod("2025-Q2")
		street1 := &care.Actor{Username: "sw1", Role: auth.SocialWorker, UnitCode: "S1", UnitPath: "/D1/S1/"}
		street2 := &care.Actor{Username: "sw2", Role: auth.SocialWorker, UnitCode: "S2", UnitPath: "/D1/S2/"}
		registered := func(svc *care.Service, a *care.Actor) (int64, error) {
			set, err := svc.Figures(as(a), "C1", q, kpi.DefaultTargets())
			if err != nil {
				return 0, err
			}
			if set.OrgUnit != "C1" || set.Name != "安宁社区" || set.Level != "community" {
				t.Fatalf("figures of %s %q (%s), want C1", set.OrgUnit, set.Name, set.Level)
			}
			f, _ := kpi.Find(set.Figures, kpi.Registered)
			return f.Numerator, nil
		}
		for i := range 2 { // the unit read first, then with its figures
			for _, a := range []*care.Actor{street1, districtAdm} {
				if n, err := registered(svc, a); err != nil || n != 1 {
					t.Fatalf("read %d by %s: registered %d, %v; want 1", i+1, a.Username, n, err)
				}
			}
		}
		if _, err := registered(svc, street2); kind(err) != care.Invalid || fieldOf(err) != "org_unit" {
			t.Fatalf("another street's reader: %v; want org_unit refused", err)
		}
		if _, err := svc.UpdateUnit(as(adminActor), "C1", care.UnitPatch{ParentCode: ptr("S2")}); err != nil {
			t.Fatal(err)
		}
		if n, err := registered(svc, street1); kind(err) != care.Invalid || fieldOf(err) != "org_unit" {
			t.Fatalf("the old street's reader after the move: registered %d, %v; want org_unit refused", n, err)
		}
		want, err := registered(newService(t, db), street2)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			// The district's reader read it where it lay before.
			for _, a := range []*care.Actor{districtAdm, street2} {
				if n, err := registered(svc, a); err != nil || n != want {
					t.Fatalf("read %d by %s after the move: registered %d, %v; want %d", i+1, a.Username, n, err, want)
				}
			}
		}
	})
}

// TestStaleFiguresServedWithTheirTime: with stale snapshots allowed (as
// kith serve runs), a district's or a community's figures right after a
// write are the last snapshot's, marked stale with the time it was
// counted, and the reading waits for no recount; once the background
// refresh has run they are current again and include the write.
func TestStaleFiguresServedWithTheirTime(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-04-15")
		svc.ServeStaleFigures(time.Hour)
		ctx := as(manager)
		q, _ := kpi.ParsePeriod("2025-Q2")
		managed := func(unit string) (int64, *care.FigureSet) {
			t.Helper()
			set, err := svc.Figures(as(districtAdm), unit, q, kpi.DefaultTargets())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range set.Figures {
				if f.Key == kpi.ManagementRate {
					return f.Numerator, set
				}
			}
			t.Fatal("no managed figure")
			return 0, nil
		}
		p := register(t, svc, manager, care.PatientInput{Name: "P", RegisteredOn: "2024-01-01",
			Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}}).ID
		units := []string{"D1", "C1"}
		before := map[string]int64{}
		for _, u := range units {
			n, set := managed(u)
			if set.Stale {
				t.Fatalf("%s: first figures stale: %+v", u, set)
			}
			before[u] = n
		}
		if _, err := svc.RecordFollowUp(ctx, p, form("2025-04-10", 0)); err != nil {
			t.Fatal(err)
		}
		for _, u := range units {
			stale, set := managed(u)
			if !set.Stale || stale != before[u] || set.AsOf.IsZero() {
				t.Fatalf("%s after a write: managed %d (before %d), stale %v as of %v; want the last snapshot, marked stale",
					u, stale, before[u], set.Stale, set.AsOf)
			}
		}
		if err := svc.WarmFigures(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, u := range units {
			after, set := managed(u)
			if set.Stale || after != before[u]+1 {
				t.Fatalf("%s after the refresh: managed %d (before %d), stale %v; want the write counted", u, after, before[u], set.Stale)
			}
		}
	})
}

// TestCurrentSnapshotsConfirmed: the background refresh marks a current
// snapshot counted long ago as current now, so that after the first write
// in a long while a reader is served it, stale, with that time, instead of
// waiting for its recount.
func TestCurrentSnapshotsConfirmed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-04-15")
		svc.ServeStaleFigures(5 * time.Minute)
		ctx := context.Background()
		q, _ := kpi.ParsePeriod("2025-Q2")
		managed := func() (int64, *care.FigureSet) {
			t.Helper()
			set, err := svc.Figures(as(districtAdm), "D1", q, kpi.DefaultTargets())
			if err != nil {
				t.Fatal(err)
			}
			f, _ := kpi.Find(set.Figures, kpi.ManagementRate)
			return f.Numerator, set
		}
		p := register(t, svc, manager, care.PatientInput{Name: "P", RegisteredOn: "2024-01-01",
			Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}}).ID
		before, _ := managed()
		// Counted an hour ago, and nothing written since.
		if _, err := db.Exec(ctx, `UPDATE figure_snapshots SET computed_at = ?`, store.FormatTime(time.Now().Add(-time.Hour))); err != nil {
			t.Fatal(err)
		}
		if err := svc.WarmFigures(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RecordFollowUp(as(manager), p, form("2025-04-10", 0)); err != nil {
			t.Fatal(err)
		}
		n, set := managed()
		if !set.Stale || n != before || time.Since(set.AsOf) > time.Minute {
			t.Errorf("after the first write in an hour: managed %d (before %d), stale %v as of %v; want the snapshot confirmed by the refresh, served stale",
				n, before, set.Stale, set.AsOf)
		}
	})
}

// TestAgingSnapshotsRecounted: besides the six periods it keeps current,
// the background refresh recounts the stale snapshots of other recent
// periods readers asked for (a trend's months) once they were counted more
// than half the serving time ago, before a reader would have to wait for
// their recount; younger ones it leaves.
func TestAgingSnapshotsRecounted(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-04-15")
		svc.ServeStaleFigures(time.Hour)
		jan, _ := kpi.ParsePeriod("2025-01") // not among 2025-04, 2025-03, 2025-Q2, 2025-Q1, 2025, 2024
		managed := func() (int64, bool) {
			t.Helper()
			set, err := svc.Figures(as(districtAdm), "D1", jan, kpi.DefaultTargets())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range set.Figures {
				if f.Key == kpi.ManagementRate {
					return f.Numerator, set.Stale
				}
			}
			t.Fatal("no managed figure")
			return 0, false
		}
		p := register(t, svc, manager, care.PatientInput{Name: "P", RegisteredOn: "2024-01-01",
			Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}}).ID
		before, _ := managed()
		if _, err := svc.RecordFollowUp(as(manager), p, form("2025-01-20", 0)); err != nil {
			t.Fatal(err)
		}
		if err := svc.WarmFigures(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n, stale := managed(); !stale || n != before {
			t.Fatalf("a young stale snapshot after the refresh: managed %d (before %d), stale %v; want it left as it was", n, before, stale)
		}
		svc.ServeStaleFigures(2 * time.Millisecond)
		time.Sleep(5 * time.Millisecond)
		if err := svc.WarmFigures(context.Background()); err != nil {
			t.Fatal(err)
		}
		svc.ServeStaleFigures(time.Hour)
		if n, stale := managed(); stale || n != before+1 {
			t.Fatalf("an aging snapshot after the refresh: managed %d (before %d), stale %v; want it recounted", n, before, stale)
		}
	})
}

// TestLatestAdherenceUpToThePeriodsEnd: the medication rates count each
// patient's latest follow-up up to the period's end (R-KPI), also when that
// follow-up is before the period and a later one came after it: a closed
// quarter's figures do not change with the next follow-up.
func TestLatestAdherenceUpToThePeriodsEnd(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-04-15")
		id := register(t, svc, manager, care.PatientInput{Name: "P9", RegisteredOn: "2024-01-01",
			Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}}).ID
		for _, f := range []struct{ date, adherence string }{{"2024-12-10", "regular"}, {"2025-04-10", "none"}} {
			in := form(f.date, 0)
			in.MedicationAdherence = f.adherence
			if _, err := svc.RecordFollowUp(as(manager), id, in); err != nil {
				t.Fatal(err)
			}
		}
		district := as(&care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"})
		psy := as(&care.Actor{Username: "psy", Role: auth.Psychiatrist, UnitCode: "D1", UnitPath: "/D1/"})
		for _, tt := range []struct {
			period string
			num    int64 // the latest follow-up up to the period's end
		}{
			{"2025-Q1", 1}, // 2024-12-10, regular: none in the quarter, the April one after it
			{"2025-03", 1},
			{"2025-Q2", 0}, // 2025-04-10, none
		} {
			p, err := kpi.ParsePeriod(tt.period)
			if err != nil {
				t.Fatal(err)
			}
			set, err := svc.Figures(district, "C1", p, kpi.DefaultTargets())
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []kpi.Key{kpi.MedicationRate, kpi.RegularMedicationRate} {
				if f, _ := kpi.Find(set.Figures, k); f.Numerator != tt.num || f.Denominator != 1 {
					t.Errorf("%s: R-KPI %s = %d/%d, want %d/1", tt.period, k, f.Numerator, f.Denominator, tt.num)
				}
				rows, _, err := svc.FigurePatients(psy, "C1", p, k, care.Page{})
				if err != nil || int64(len(rows)) != tt.num {
					t.Errorf("%s: patients behind %s = %+v, %v; want %d", tt.period, k, rows, err, tt.num)
				}
			}
		}
	})
}

// TestLatestStableInThePeriod: the stability rate counts each patient
// followed up in the period whose latest follow-up in the period is stable
// (R-KPI), also when a later one, after the period, is not: a closed
// quarter's figure does not change with the next follow-up.
func TestLatestStableInThePeriod(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-04-15")
		id := register(t, svc, manager, care.PatientInput{Name: "P8", RegisteredOn: "2024-01-01",
			Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}}).ID
		for _, f := range []struct {
			date  string
			risk  int
			class string
		}{{"2025-02-10", 0, "stable"}, {"2025-04-10", 4, "unstable"}} {
			fu, err := svc.RecordFollowUp(as(manager), id, form(f.date, f.risk))
			if err != nil {
				t.Fatal(err)
			}
			if fu.Classification != f.class {
				t.Fatalf("%s: classified %s, want %s (the test's premise)", f.date, fu.Classification, f.class)
			}
		}
		district := as(&care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"})
		psy := as(&care.Actor{Username: "psy", Role: auth.Psychiatrist, UnitCode: "D1", UnitPath: "/D1/"})
		for _, tt := range []struct {
			period   string
			num, den int64
		}{
			{"2025-Q1", 1, 1}, // 2025-02-10, stable; the April one is after the quarter
			{"2025-02", 1, 1},
			{"2025-03", 0, 0}, // no follow-up in March
			{"2025-Q2", 0, 1}, // 2025-04-10, unstable
			{"2025", 0, 1},    // the latest in the year, April's
		} {
			p, err := kpi.ParsePeriod(tt.period)
			if err != nil {
				t.Fatal(err)
			}
			set, err := svc.Figures(district, "C1", p, kpi.DefaultTargets())
			if err != nil {
				t.Fatal(err)
			}
			if f, _ := kpi.Find(set.Figures, kpi.StabilityRate); f.Numerator != tt.num || f.Denominator != tt.den {
				t.Errorf("%s: R-KPI stability = %d/%d, want %d/%d", tt.period, f.Numerator, f.Denominator, tt.num, tt.den)
			}
			rows, _, err := svc.FigurePatients(psy, "C1", p, kpi.StabilityRate, care.Page{})
			if err != nil || int64(len(rows)) != tt.num {
				t.Errorf("%s: patients behind the stability rate = %+v, %v; want %d", tt.period, rows, err, tt.num)
			}
			rows, _, err = svc.UncountedPatients(psy, "C1", p, kpi.StabilityRate, care.Page{})
			if err != nil || int64(len(rows)) != tt.den-tt.num {
				t.Errorf("%s: patients not counted in the stability rate = %+v, %v; want %d", tt.period, rows, err, tt.den-tt.num)
			}
		}
	})
}
