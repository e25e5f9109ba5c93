package care_test

import (
	"fmt"
	"strings"
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/kpi"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// planInput is a plan starting on start with one goal whose intervention
// is assigned to assignee.
func planInput(start, assignee string) care.PlanInput {
	return care.PlanInput{StartOn: start, ReviewEveryDays: 90,
		Needs: []care.PlanNeed{{Domain: "occupation", Finding: "out of work for two years"}, {Domain: "medication", Finding: "misses evening doses"}},
		Goals: []care.PlanGoal{
			{Domain: "occupation", Description: "sheltered work", Measure: "half-days worked a week", Baseline: "0", Target: "3", TargetOn: "2025-09-30",
				Interventions: []care.PlanIntervention{{Description: "job coaching", Assignee: assignee, Frequency: "weekly"}}},
			{Domain: "medication", Description: "regular medication", Measure: "missed doses a week", Baseline: "4", Target: "0", TargetOn: "2025-06-30"},
		},
		AgreedByPatient: true, AgreedByFamily: true}
}

// TestPlans: versions, reviews and the plan_review worklist (issue 11,
// items 3 and 4).
func TestPlans(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		_, sw2 := teamAccounts(t, svc)
		clock(svc, "2025-03-01")
		id := register(t, svc, manager, care.PatientInput{Name: "Li Lei"}).ID
		if _, err := svc.AddTeamMember(as(manager), id, care.TeamMemberInput{Username: "sw2", TeamRole: "social_worker", KeyWorker: true}); err != nil {
			t.Fatal(err)
		}
		p, err := svc.CreatePlan(as(manager), id, planInput("2025-02-01", "sw2"))
		if err != nil {
			t.Fatal(err)
		}
		// next_review_on = start_on + review_every_days.
		if p.Version != 1 || p.Status != "active" || p.NextReviewOn != "2025-05-02" || len(p.Goals) != 2 || p.Goals[0].ID == 0 ||
			p.Goals[0].Interventions[0].AssigneeName != "Social Worker Liu" || p.KeyWorker != "Social Worker Liu" {
			t.Fatalf("created plan = %+v", p)
		}
		if _, err := svc.CreatePlan(as(manager), id, planInput("2025-02-01", "sw2")); kind(err) != care.Conflict {
			t.Errorf("second plan: %v, want conflict", err)
		}
		// The social worker on the team (outside the jurisdiction) sees the
		// plan, less the medication domain.
		mine, err := svc.Plans(as(sw2), id)
		if err != nil || len(mine) != 1 || len(mine[0].Goals) != 1 || len(mine[0].Needs) != 1 || mine[0].Goals[0].Domain != "occupation" {
			t.Errorf("sw2 sees %+v, %v", mine, err)
		}
		ivs, _, err := svc.MyInterventions(as(sw2), care.Page{})
		if err != nil || len(ivs) != 1 || ivs[0].Description != "job coaching" || ivs[0].PatientName != "Li Lei" {
			t.Errorf("sw2's interventions = %+v, %v", ivs, err)
		}
		// The care group reads no plans.
		if _, err := svc.Plans(as(careMan), id); kind(err) != care.Forbidden {
			t.Errorf("care group reads plans: %v", err)
		}
		// Due for review within 7 days of 2025-04-28.
		wl, _, err := svc.Worklist(as(manager), care.WorklistQuery{Kind: "plan_review", AsOf: "2025-04-25"}, care.Page{})
		if err != nil || len(wl) != 1 || wl[0].PatientID != id || wl[0].DueOn != "2025-05-02" {
			t.Errorf("plan_review worklist = %+v, %v", wl, err)
		}
		if wl, _, _ := svc.Worklist(as(manager), care.WorklistQuery{Kind: "plan_review", AsOf: "2025-04-24"}, care.Page{}); len(wl) != 0 {
			t.Errorf("plan_review 8 days ahead = %+v", wl)
		}
		// A review rates goals and moves the next review.
		rv, err := svc.ReviewPlan(as(sw2), p.ID, care.ReviewInput{Date: "2025-02-28",
			Ratings:         []care.GoalRating{{GoalID: p.Goals[0].ID, Progress: "improved", Value: "1"}, {GoalID: p.Goals[1].ID, Progress: "achieved"}},
			PatientFeedback: "likes the workshop", FamilyFeedback: "calmer at home"})
		if err != nil || rv.NextReviewOn != "2025-05-29" || rv.DueOn != "2025-05-02" {
			t.Fatalf("review = %+v, %v", rv, err)
		}
		got, _ := svc.Plan(as(manager), p.ID)
		if got.NextReviewOn != "2025-05-29" || len(got.Reviews) != 1 || got.Goals[1].LastProgress != "achieved" {
			t.Errorf("after review: %+v", got)
		}
		// Adjusting makes version 2; version 1 is kept, superseded, and may no longer be reviewed.
		in := planInput("2025-03-01", "sw2")
		in.ReviewEveryDays = 60
		v2, err := svc.AdjustPlan(as(manager), p.ID, in)
		if err != nil || v2.Version != 2 || v2.Status != "active" || v2.NextReviewOn != "2025-04-30" {
			t.Fatalf("adjusted = %+v, %v", v2, err)
		}
		all, _ := svc.Plans(as(manager), id)
		if len(all) != 2 || all[0].Version != 2 || all[1].Status != "superseded" || len(all[1].Reviews) != 1 {
			t.Errorf("versions = %+v", all)
		}
		if _, err := svc.ReviewPlan(as(manager), p.ID, care.ReviewInput{Date: "2025-03-01",
			Ratings: []care.GoalRating{{GoalID: p.Goals[0].ID, Progress: "improved"}}}); kind(err) != care.Conflict {
			t.Errorf("review of superseded: %v, want conflict", err)
		}
		if _, err := svc.AdjustPlan(as(manager), p.ID, in); kind(err) != care.Conflict {
			t.Errorf("adjust superseded: %v, want conflict", err)
		}
		// The timeline shows the versions and the review.
		tl, _ := svc.Timeline(as(manager), id)
		kinds := map[string]int{}
		for _, it := range tl {
			kinds[it.Kind]++
		}
		if kinds["plan"] != 2 || kinds["plan_review"] != 1 {
			t.Errorf("timeline kinds = %v", kinds)
		}
		// Removing the assignee from the team takes the intervention off their home page.
		if err := svc.RemoveTeamMember(as(manager), id, "sw2"); err != nil {
			t.Fatal(err)
		}
		if ivs, _, _ := svc.MyInterventions(as(sw2), care.Page{}); len(ivs) != 0 {
			t.Errorf("after removal: %+v", ivs)
		}
	})
}

// TestPlanBadInput: the 422 cases of issue 11, each naming its field,
// nothing stored.
func TestPlanBadInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		teamAccounts(t, svc)
		clock(svc, "2025-03-01")
		id := register(t, svc, manager, care.PatientInput{Name: "Li Lei"}).ID
		if _, err := svc.AddTeamMember(as(manager), id, care.TeamMemberInput{Username: "nurse1", TeamRole: "nurse"}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name  string
			edit  func(*care.PlanInput)
			field string
		}{
			{"goal without domain", func(in *care.PlanInput) { in.Goals[0].Domain = "" }, "goals[0].domain"},
			{"target before start", func(in *care.PlanInput) { in.Goals[1].TargetOn = "2025-01-01" }, "goals[1].target_on"},
			{"assignee not on team", func(in *care.PlanInput) { in.Goals[0].Interventions[0].Assignee = "sw2" }, "goals[0].interventions[0].assignee"},
			{"unknown assignee", func(in *care.PlanInput) { in.Goals[0].Interventions[0].Assignee = "ghost" }, "goals[0].interventions[0].assignee"},
			{"bad need domain", func(in *care.PlanInput) { in.Needs[0].Domain = "money" }, "needs[0].domain"},
			{"no interval", func(in *care.PlanInput) { in.ReviewEveryDays = 0 }, "review_every_days"},
			{"no goals", func(in *care.PlanInput) { in.Goals = nil }, "goals"},
		} {
			in := planInput("2025-02-01", "nurse1")
			tt.edit(&in)
			if _, err := svc.CreatePlan(as(manager), id, in); kind(err) != care.Invalid || fieldOf(err) != tt.field {
				t.Errorf("%s: %v (field %q), want 422 on %s", tt.name, err, fieldOf(err), tt.field)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM care_plans`) + count(t, db, `SELECT count(*) FROM plan_goals`); n != 0 {
			t.Errorf("%d rows after refused plans", n)
		}
		// A need may cite an assessment of this patient, not another's.
		other := register(t, svc, manager, care.PatientInput{Name: "Han Mei"}).ID
		theirs, err := svc.Assess(as(manager), other, care.AssessmentInput{Instrument: "lifeskills", Date: "2025-01-20", Answers: []int{1, 1, 2, 2, 0, 1, 1, 0, 0}})
		if err != nil {
			t.Fatal(err)
		}
		ours, err := svc.Assess(as(manager), id, care.AssessmentInput{Instrument: "lifeskills", Date: "2025-01-20", Answers: []int{1, 1, 2, 2, 0, 1, 1, 0, 0}})
		if err != nil || ours.Score != 8 || ours.Band != "some_needs" {
			t.Fatalf("life-skills profile = %+v, %v", ours, err)
		}
		in := planInput("2025-02-01", "nurse1")
		in.Needs[0].AssessmentID = &theirs.ID
		if _, err := svc.CreatePlan(as(manager), id, in); fieldOf(err) != "needs[0].assessment_id" {
			t.Errorf("another patient's assessment: %v", err)
		}
		in.Needs[0].AssessmentID = &ours.ID
		p, err := svc.CreatePlan(as(manager), id, in)
		if err != nil || p.Needs[0].AssessmentDate != "2025-01-20" || p.Needs[0].AssessmentInstrument != "lifeskills" {
			t.Fatalf("plan citing an assessment = %+v, %v", p, err)
		}
		for _, tt := range []struct {
			name  string
			in    care.ReviewInput
			field string
		}{
			{"bad progress", care.ReviewInput{Date: "2025-02-20", Ratings: []care.GoalRating{{GoalID: p.Goals[0].ID, Progress: "great"}}}, "ratings[0].progress"},
			{"other plan's goal", care.ReviewInput{Date: "2025-02-20", Ratings: []care.GoalRating{{GoalID: 999999, Progress: "improved"}}}, "ratings[0].goal_id"},
			{"before start", care.ReviewInput{Date: "2025-01-20", Ratings: []care.GoalRating{{GoalID: p.Goals[0].ID, Progress: "improved"}}}, "date"},
			{"future", care.ReviewInput{Date: "2025-03-20", Ratings: []care.GoalRating{{GoalID: p.Goals[0].ID, Progress: "improved"}}}, "date"},
		} {
			if _, err := svc.ReviewPlan(as(manager), p.ID, tt.in); kind(err) != care.Invalid || fieldOf(err) != tt.field {
				t.Errorf("%s: %v, want 422 on %s", tt.name, err, tt.field)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM plan_reviews`); n != 0 {
			t.Errorf("%d reviews after refused reviews", n)
		}
		// Who may write: not the care group, not another community.
		cg := &care.Actor{Username: "police", Role: auth.CareGroup, UnitCode: "C1", UnitPath: "/D1/S1/C1/"}
		if _, err := svc.AdjustPlan(as(cg), p.ID, planInput("2025-02-01", "nurse1")); kind(err) != care.NotFound {
			t.Errorf("care group adjusts: %v", err)
		}
		if _, err := svc.Plan(as(manager2), p.ID); kind(err) != care.NotFound {
			t.Errorf("other community reads: %v", err)
		}
	})
}

// TestPlanFigures checks issue 11's figures on a register worked out by
// hand, for the first quarter of 2025: plan coverage (managed patients with
// an active plan ÷ registered), reviews on time (done by the due date ÷ due
// in the period) and goals achieved (achieved ÷ goals reviewed).
func TestPlanFigures(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		teamAccounts(t, svc)
		clock(svc, "2025-04-15")
		severe := []care.Diagnosis{{Code: "schizophrenia"}}
		p1 := register(t, svc, manager, care.PatientInput{Name: "P1", RegisteredOn: "2024-06-01", Diagnoses: severe}).ID
		p2 := register(t, svc, manager, care.PatientInput{Name: "P2", RegisteredOn: "2024-06-01", Diagnoses: severe}).ID
		if _, err := svc.AddTeamMember(as(manager), p1, care.TeamMemberInput{Username: "nurse1", TeamRole: "nurse"}); err != nil {
			t.Fatal(err)
		}
		q1, _ := kpi.ParsePeriod("2025-Q1")
		da := &care.Actor{Username: "da1", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"}
		// The figures are kept in the community snapshots: each plan write
		// must make them stale, or the reads below get the counts of before.
		figure := func(unit string, k kpi.Key) kpi.Figure {
			t.Helper()
			set, err := svc.Figures(as(da), unit, q1, nil)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := kpi.Find(set.Figures, k)
			return f
		}
		if f := figure("C1", kpi.PlanCoverage); f.Numerator != 0 || f.Denominator != 2 {
			t.Errorf("plan coverage before any plan = %d/%d, want 0/2", f.Numerator, f.Denominator)
		}
		in := planInput("2025-01-10", "nurse1")
		in.ReviewEveryDays = 30 // due 2025-02-09
		pl, err := svc.CreatePlan(as(manager), p1, in)
		if err != nil {
			t.Fatal(err)
		}
		if f := figure("D1", kpi.PlanCoverage); f.Numerator != 1 || f.Denominator != 2 {
			t.Errorf("district plan coverage after a plan = %d/%d, want 1/2", f.Numerator, f.Denominator)
		}
		if f := figure("C1", kpi.ReviewsOnTime); f.Numerator != 0 || f.Denominator != 1 {
			t.Errorf("reviews on time before the review = %d/%d, want 0/1 (missed)", f.Numerator, f.Denominator)
		}
		// Reviewed on 2025-02-05, before its due date; the next, due
		// 2025-03-07, is missed.
		if _, err := svc.ReviewPlan(as(manager), pl.ID, care.ReviewInput{Date: "2025-02-05", Ratings: []care.GoalRating{
			{GoalID: pl.Goals[0].ID, Progress: "improved"}, {GoalID: pl.Goals[1].ID, Progress: "achieved"}}}); err != nil {
			t.Fatal(err)
		}
		set, err := svc.Figures(as(da), "C1", q1, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []struct {
			key      kpi.Key
			num, den int64
			value    float64
		}{
			{kpi.PlanCoverage, 1, 2, 50},  // P1 of P1, P2
			{kpi.ReviewsOnTime, 1, 2, 50}, // the February review on time; the March one missed
			{kpi.GoalsAchieved, 1, 2, 50}, // one of the two goals rated
		} {
			f, _ := kpi.Find(set.Figures, w.key)
			if f.Numerator != w.num || f.Denominator != w.den || f.Value == nil || *f.Value != w.value {
				t.Errorf("issue 11 %s = %d/%d (%v), want %d/%d = %v", w.key, f.Numerator, f.Denominator, deref(f.Value), w.num, w.den, w.value)
			}
		}
		psy := &care.Actor{Username: "psy", Role: auth.Psychiatrist, UnitCode: "D1", UnitPath: "/D1/"}
		rows, _, err := svc.FigurePatients(as(psy), "C1", q1, kpi.PlanCoverage, care.Page{})
		if err != nil || len(rows) != 1 || rows[0].PatientID != p1 {
			t.Errorf("patients behind plan coverage = %+v, %v", rows, err)
		}
		left, _, err := svc.UncountedPatients(as(psy), "C1", q1, kpi.PlanCoverage, care.Page{})
		if err != nil || len(left) != 1 || left[0].PatientID != p2 {
			t.Errorf("patients without a plan = %+v, %v", left, err)
		}
		for _, k := range []kpi.Key{kpi.ReviewsOnTime, kpi.GoalsAchieved} {
			if rows, _, err := svc.FigurePatients(as(psy), "C1", q1, k, care.Page{}); err != nil || len(rows) != 1 || rows[0].PatientID != p1 {
				t.Errorf("patients behind %s = %+v, %v", k, rows, err)
			}
		}
		// The district's figures (from the community snapshots) agree.
		set, err = svc.Figures(as(da), "D1", q1, nil)
		if f, _ := kpi.Find(set.Figures, kpi.PlanCoverage); err != nil || f.Numerator != 1 || f.Denominator != 2 {
			t.Errorf("district plan coverage = %+v, %v", f, err)
		}
	})
}

// TestMyInterventionsPaged: the interventions assigned to a worker come a
// page at a time, by patient name, every one once, with patients of the
// same name kept apart; the home page shows the first and says there are
// more.
func TestMyInterventionsPaged(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		_, sw2 := teamAccounts(t, svc)
		clock(svc, "2025-03-01")
		for i, name := range []string{"Wang Fang", "Li Lei", "Wang Fang"} {
			id := register(t, svc, manager, care.PatientInput{Name: name, ConfirmDuplicate: true}).ID
			if _, err := svc.AddTeamMember(as(manager), id, care.TeamMemberInput{Username: "sw2", TeamRole: "social_worker"}); err != nil {
				t.Fatal(err)
			}
			in := planInput("2025-02-01", "sw2")
			for k := range 9 {
				in.Goals[0].Interventions = append(in.Goals[0].Interventions,
					care.PlanIntervention{Description: fmt.Sprintf("task %d-%d", i, k), Assignee: "sw2"})
			}
			if _, err := svc.CreatePlan(as(manager), id, in); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		var pages int
		for pg := (care.Page{Limit: 7}); ; pages++ {
			list, next, err := svc.MyInterventions(as(sw2), pg)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range list {
				got = append(got, fmt.Sprintf("%s#%d %s", m.PatientName, m.PatientID, m.Description))
			}
			if next == "" {
				break
			}
			pg.Token = next
		}
		if len(got) != 30 || pages != 4 {
			t.Fatalf("%d interventions in %d pages, want 30 in 5: %v", len(got), pages+1, got)
		}
		seen := map[string]bool{}
		for i, g := range got {
			if seen[g] {
				t.Errorf("%q twice", g)
			}
			seen[g] = true
			// By name, and the two patients named Wang Fang one after the other.
			if i > 0 && strings.Split(g, " ")[0] < strings.Split(got[i-1], " ")[0] {
				t.Errorf("out of order: %q after %q", g, got[i-1])
			}
		}
		if !strings.HasPrefix(got[0], "Li Lei") || got[10] == got[20] || strings.Split(got[10], " ")[1] == strings.Split(got[20], " ")[1] {
			t.Errorf("order: %v", got)
		}
		if _, _, err := svc.MyInterventions(as(sw2), care.Page{Token: "bm90IGEgdG9rZW4"}); kind(err) != care.Invalid {
			t.Errorf("a forged token: %v, want invalid", err)
		}
		work, err := svc.MyWork(as(sw2))
		if err != nil || len(work.Interventions) != 20 || !work.MoreInterventions {
			t.Errorf("home page: %d interventions, more %v, %v", len(work.Interventions), work.MoreInterventions, err)
		}
	})
}
