package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/demo"
	"kith/internal/secrets"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestDemoDistrictLooksAlive: the demo has staff of every role, 300
// patients with two years of follow-ups by the rules, and every worklist
// has someone on it.
func TestDemoDistrictLooksAlive(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, _ := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
		svc := care.New(db, keys)
		accounts, err := demo.Seed(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		roles := map[auth.Role]bool{}
		for _, a := range accounts {
			roles[a.Role] = true
		}
		if len(roles) != len(auth.Roles) {
			t.Errorf("demo accounts cover %d roles, want all %d", len(roles), len(auth.Roles))
		}
		today := time.Now()
		st, err := demo.Patients(ctx, db, svc, 420, today, 7)
		if err != nil {
			t.Fatal(err)
		}
		if st.Patients != 420 || st.FollowUps < 420*4 || st.Communities != 1 {
			t.Errorf("stats = %+v", st)
		}
		psy := care.WithActor(ctx, &care.Actor{Username: "psychiatrist", Role: auth.Psychiatrist, UnitCode: demo.District, UnitPath: "/" + demo.District + "/"})
		for _, kind := range []string{"due", "overdue", "lost", "below_min"} {
			items, _, err := svc.Worklist(psy, care.WorklistQuery{Kind: kind}, care.Page{Limit: 200})
			if err != nil || len(items) == 0 {
				t.Errorf("worklist %s: %d items, %v", kind, len(items), err)
			}
		}
		// The generated count of the last reached follow-up's year is the
		// one every write keeps (care.refreshSummary).
		var wrong int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM patients p WHERE p.reached_in_year <> (SELECT count(*) FROM follow_ups f
			WHERE f.patient_id = p.id AND f.reached = ? AND f.superseded_by IS NULL
			AND f.date >= substr(p.last_followup_on, 1, 4) || '-01-01' AND f.date <= p.last_followup_on)`, true).Scan(&wrong); err != nil || wrong != 0 {
			t.Errorf("%d patients with a wrong reached_in_year, %v", wrong, err)
		}
		// Generated summaries agree with the rules: a patient's next due date
		// is the one its last reached follow-up set.
		list, _, err := svc.Patients(psy, care.PatientQuery{Status: "managed"}, care.Page{Limit: 20})
		if err != nil || len(list) == 0 {
			t.Fatal(list, err)
		}
		for _, p := range list {
			fus, _, err := svc.FollowUps(psy, p.ID, care.Page{Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fus {
				if f.Reached != nil && *f.Reached {
					if f.NextDueOn != p.NextDueOn || f.Date != p.LastFollowUpOn {
						t.Errorf("patient %d: summary due %s last %s, last reached follow-up %s sets %s", p.ID, p.NextDueOn, p.LastFollowUpOn, f.Date, f.NextDueOn)
					}
					break
				}
			}
			// Shown in full only when revealed.
			nid, err := svc.RevealNationalID(psy, p.ID)
			if care.ErrorKind(err) == care.NotFound {
				continue // generated without one
			}
			if err != nil {
				t.Fatal(err)
			}
			if !clinical.ValidNationalID(nid) {
				t.Errorf("patient %d: generated national ID is invalid", p.ID)
			}
		}
		if err := demo.Activity(ctx, svc, today); err != nil {
			t.Fatal(err)
		}
		mgr := care.WithActor(ctx, &care.Actor{Username: "manager", Role: auth.CommunityManager, UnitCode: "C0101", UnitPath: "/" + demo.District + "/S01/C0101/"})
		// The PHQ-9 flag, and the referral the hospital declined.
		if alerts, _, err := svc.Alerts(mgr, care.AlertQuery{}, care.Page{}); err != nil || len(alerts) != 2 {
			t.Errorf("demo alerts: %d, %v; want 2", len(alerts), err)
		}
		refs, _, err := svc.Referrals(mgr, care.ReferralQuery{}, care.Page{})
		statuses := map[string]int{}
		for _, r := range refs {
			statuses[r.Direction+" "+r.Status]++
		}
		for _, st := range []string{"up requested", "up accepted", "up declined", "up cancelled", "up completed", "down requested"} {
			if statuses[st] == 0 {
				t.Errorf("demo referrals: none %s (%v, %v)", st, statuses, err)
			}
		}
		if c, _, err := svc.CrisisEvents(mgr, care.CrisisQuery{}, care.Page{}); err != nil || len(c) != 3 {
			t.Errorf("demo crisis events: %d, %v", len(c), err)
		}
		if reqs, _, err := svc.ContactRequests(mgr, care.ContactQuery{}, care.Page{}); err != nil || len(reqs) != 2 || !reqs[0].Urgent {
			t.Errorf("demo contact requests: %+v, %v; want 2, the urgent first", reqs, err)
		}
		// Care teams, plans and a conference (issue 11): manager2, of
		// another community, is on a team; a plan is due for review; the
		// conference's decisions reach their owners.
		m2 := care.WithActor(ctx, &care.Actor{Username: "manager2", Role: auth.CommunityManager, UnitCode: "C0201", UnitPath: "/" + demo.District + "/S02/C0201/"})
		if mine, _, err := svc.MyPatients(m2, care.Page{}); err != nil || len(mine) != 1 {
			t.Errorf("manager2's patients: %+v, %v", mine, err)
		} else if _, err := svc.Patient(m2, mine[0].PatientID); err != nil {
			t.Errorf("manager2 reads their team's patient: %v", err)
		}
		if wl, _, err := svc.Worklist(mgr, care.WorklistQuery{Kind: "plan_review"}, care.Page{}); err != nil || len(wl) != 1 {
			t.Errorf("plan_review worklist: %+v, %v", wl, err)
		}
		if ds, err := svc.MyDecisions(mgr); err != nil || len(ds) != 1 {
			t.Errorf("manager's decisions: %+v, %v", ds, err)
		}
		// A break-the-glass read from another community: on the district's
		// list, on the record and in its access report.
		dadmin := care.WithActor(ctx, &care.Actor{Username: "district", Role: auth.DistrictAdmin, UnitCode: demo.District, UnitPath: "/" + demo.District + "/"})
		for _, who := range []context.Context{psy, dadmin} {
			if g, err := svc.RecentGlass(who); err != nil || len(g) != 1 || g[0].Username != "manager2" {
				t.Errorf("demo break-glass on the district's list: %+v, %v", g, err)
			}
		}
		if g, _ := svc.RecentGlass(psy); len(g) == 1 {
			if rec, err := svc.PatientRecord(mgr, g[0].PatientID); err != nil || len(rec.BreakGlass) != 1 {
				t.Errorf("demo break-glass on the record: %v", err)
			}
			lines, _, err := svc.AccessReport(mgr, g[0].PatientID, care.Page{})
			glass := 0
			for _, l := range lines {
				if l.BreakGlass && l.Username == "manager2" {
					glass++
				}
			}
			if err != nil || glass != 2 { // the grant and the read under it
				t.Errorf("demo break-glass in the access report: %d lines, %v", glass, err)
			}
		}
		// The community's work: every kind of event, attendance, a paid
		// subsidy of last year.
		for _, q := range []string{`SELECT count(DISTINCT kind) FROM events`, `SELECT count(*) FROM event_attendance WHERE present = ?`,
			`SELECT count(*) FROM subsidies WHERE status = 'paid'`, `SELECT count(*) FROM family_members WHERE is_guardian = ?`} {
			var n int
			args := []any{}
			if strings.Contains(q, "?") {
				args = append(args, true)
			}
			if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil || n == 0 || strings.Contains(q, "kind") && n != len(care.EventKinds) {
				t.Errorf("%s = %d, %v", q, n, err)
			}
		}
		if _, err := audit.Seal(ctx, db); err != nil {
			t.Fatal(err)
		}
		if n, err := audit.Verify(ctx, db); err != nil || n == 0 {
			t.Errorf("Verify = %d, %v", n, err)
		}
	})
}
