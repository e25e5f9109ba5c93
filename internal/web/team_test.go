package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestCareTeamPages: a manager builds a team with a manager of another
// community, who then finds the patient on their home page and reads the
// record, until the removal (confirmed first) takes it away.
func TestCareTeamPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		resp, _ := manager.post("/patients", registration("团队一", "1980-05-17", nationalID("1980-05-17", 31)))
		id := idFrom(t, resp)
		rec := patientURL(id)
		other := newBrowser(t, srv)
		other.signIn("manager2")
		other.page(rec, http.StatusNotFound)

		body := manager.page(rec, http.StatusOK)
		contains(t, body, `id="team"`, "No one is on this patient&#39;s care team yet.", `href="`+rec+`/team"`)
		// A colleague is named by name: the form suggests the district's
		// staff, by name and unit, never by username.
		body = manager.page(rec+"/team", http.StatusOK)
		contains(t, body, `list="colleagues"`, `<datalist id="colleagues">`, `<option value="Liu Yang 刘洋（`)
		lacks(t, body, `value="manager2"`)
		// Bad input: the form again, with the message at the field.
		resp, body = manager.post(rec+"/team", url.Values{"username": {"Nobody 无名"}, "team_role": {"nurse"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("unknown colleague: %d", resp.StatusCode)
		}
		contains(t, body, "no colleague has this name", `aria-invalid="true"`)
		resp, _ = manager.post(rec+"/team", url.Values{"username": {"Liu Yang 刘洋"}, "team_role": {"key_worker"}})
		expectRedirect(t, resp, rec+"/team?saved=member")
		resp, _ = manager.post(rec+"/team/contacts", url.Values{"kind": {"family"}, "name": {"王母"}, "relation": {"mother"}, "phone": {"13900000001"}})
		expectRedirect(t, resp, rec+"/team?saved=contact")
		body = manager.page(rec, http.StatusOK)
		contains(t, body, "Liu Yang 刘洋", "Key worker", "王母", `href="tel:13900000001"`)

		// The outsider: on their home page, and the record opens.
		contains(t, other.page("/", http.StatusOK), "My patients", `href="`+rec+`"`, "团队一")
		other.page(rec, http.StatusOK)

		// Removal asks first.
		body = manager.page(rec+"/team/remove?member=manager2", http.StatusOK)
		contains(t, body, "Remove Liu Yang 刘洋 from the care team?", `name="member" value="manager2"`)
		resp, _ = manager.post(rec+"/team/remove", url.Values{"member": {"manager2"}})
		expectRedirect(t, resp, rec+"/team?saved=removed")
		other.page(rec, http.StatusNotFound)
		contains(t, manager.page(rec+"/team", http.StatusOK), "removed Liu Yang 刘洋", "Zhang Wei 张伟")

		// In Chinese, no English.
		manager.header.Set("Accept-Language", "zh-CN")
		lacks(t, manager.page(rec+"/team", http.StatusOK), "Care team", "Key worker")
	})
}

// TestPlanPages: a manager writes a plan with the patient and family,
// prints it for signing, reviews and adjusts it; the assignee finds the
// intervention on their home page (issue 11).
func TestPlanPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		today := svc.Today()
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		resp, _ := manager.post("/patients", registration("计划一", "1980-05-17", nationalID("1980-05-17", 32)))
		id := idFrom(t, resp)
		rec := patientURL(id)
		contains(t, manager.page(rec, http.StatusOK), `id="plan"`, "No rehabilitation plan yet.", `href="`+rec+`/plans/new"`)
		resp, _ = manager.post(rec+"/team", url.Values{"username": {"nurse"}, "team_role": {"nurse"}})
		expectRedirect(t, resp, rec+"/team?saved=member")

		psychiatrist := care.WithActor(asAdmin, &care.Actor{Username: "psychiatrist", Role: auth.Psychiatrist, UnitPath: "/D01/"})
		if _, err := svc.Assess(psychiatrist, id, care.AssessmentInput{Instrument: "lifeskills", Date: today.String(),
			Answers: []int{1, 1, 2, 2, 0, 1, 1, 0, 0}}); err != nil {
			t.Fatal(err)
		}
		form := manager.page(rec+"/plans/new", http.StatusOK)
		contains(t, form, `name="need.occupation.assessment"`, "Life skills · "+today.String()+" · 8")
		contains(t, form, `name="need.occupation"`, `name="goals[0].target_on"`, `name="goals[0].interventions[0].assignee"`, `<option value="nurse">Li Na 李娜`)
		plan := url.Values{"goal_rows": {"3"}, "start_on": {today.String()}, "review_every_days": {"30"},
			"need.occupation": {"out of work"}, "goals[1].domain": {"occupation"}, "goals[1].description": {"sheltered work"},
			"goals[1].measure": {"half-days a week"}, "goals[1].baseline": {"0"}, "goals[1].target": {"3"},
			"goals[1].target_on": {today.AddDays(-1).String()}, "goals[1].interventions[1].description": {"job coaching"},
			"goals[1].interventions[1].assignee": {"nurse"}, "goals[1].interventions[1].frequency": {"weekly"},
			"agreed_by_patient": {"1"}, "agreed_by_family": {"1"}}
		resp, body := manager.post(rec+"/plans", plan)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("target before start: %d", resp.StatusCode)
		}
		// The message is at the row the user filled in (row 1, not 0).
		contains(t, body, `id="f-goals[1].target_on"`, "cannot be before the plan&#39;s start", `value="job coaching"`)
		plan.Set("goals[1].target_on", today.AddDays(120).String())
		resp, _ = manager.post(rec+"/plans", plan)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/plans/") {
			t.Fatalf("create: %d %q", resp.StatusCode, loc)
		}
		planPath, _, _ := strings.Cut(loc, "?")
		contains(t, manager.page(loc, http.StatusOK), "The plan is saved.", "sheltered work", "Li Na 李娜", "job coaching", today.AddDays(30).String())
		contains(t, manager.page(planPath+"/print", http.StatusOK), "Rehabilitation plan of 计划一", "Family member or guardian", "Key worker", "signature-line")
		contains(t, manager.page(rec, http.StatusOK), "sheltered work", `href="`+planPath+`/review"`)

		nurse := newBrowser(t, srv)
		nurse.signIn("nurse")
		contains(t, nurse.page("/", http.StatusOK), "Interventions assigned to me", "job coaching")
		lacks(t, nurse.page("/", http.StatusOK), "All interventions assigned to me") // one: no more to show
		contains(t, nurse.page("/me/interventions", http.StatusOK), "Interventions assigned to me", "job coaching", `href="`+planPath+`"`)
		nurse.page("/me/interventions?page_token=forged", http.StatusUnprocessableEntity)
		contains(t, manager.page("/me/interventions", http.StatusOK), "No intervention of an active plan is assigned to you.")
		contains(t, nurse.page("/me/patients", http.StatusOK), "My patients (care teams I am on)", "计划一")
		social := newBrowser(t, srv)
		social.signIn("social")
		contains(t, social.page("/me/patients", http.StatusOK), "You are on no patient&#39;s care team.")

		p, err := svc.Plans(psychiatrist, id)
		if err != nil || len(p) != 1 {
			t.Fatal(p, err)
		}
		gid := strconv.FormatInt(p[0].Goals[0].ID, 10)
		resp, body = manager.post(planPath+"/reviews", url.Values{"date": {today.String()}, "progress." + gid: {"great"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad progress: %d", resp.StatusCode)
		}
		contains(t, body, `id="f-progress.`+gid+`"`)
		resp, _ = manager.post(planPath+"/reviews", url.Values{"date": {today.String()}, "progress." + gid: {"improved"}, "value." + gid: {"1"},
			"patient_feedback": {"likes it"}})
		expectRedirect(t, resp, planPath+"?saved=review")
		contains(t, manager.page(planPath, http.StatusOK), "Improved", "likes it")

		// Adjusting makes version 2.
		contains(t, manager.page(planPath+"/edit", http.StatusOK), `value="sheltered work"`, "version 1 is kept")
		plan.Set("goals[1].target", "4")
		resp, _ = manager.post(planPath, plan)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") == loc {
			t.Fatalf("adjust: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		contains(t, manager.page(resp.Header.Get("Location"), http.StatusOK), "version 2")
		contains(t, manager.page(rec+"/plans", http.StatusOK), "version 1", "Superseded", "version 2")
		contains(t, manager.page(rec, http.StatusOK), "Plan review")
		contains(t, manager.page("/worklist?kind=plan_review&as_of="+today.AddDays(25).String(), http.StatusOK), "计划一")

		// A case conference whose decision reaches the nurse's home page.
		form = manager.page("/conferences/new?patient="+strconv.FormatInt(id, 10), http.StatusOK)
		contains(t, form, "计划一", `name="staff" value="nurse"`, `value="C0101" selected`)
		conf := url.Values{"date": {today.String()}, "org_unit": {"C0101"}, "staff": {"manager", "nurse"},
			"outside[1].name": {"孙丽"}, "outside[1].organisation": {"残联"},
			"patients[0].patient_id": {strconv.FormatInt(id, 10)}, "patients[0].summary": {"work going well"},
			"patients[0].decisions[1].text": {"visit the workshop"}, "patients[0].decisions[1].owner": {"Li Na 李娜"},
			"patients[0].decisions[1].due_on": {today.AddDays(-3).String()}, "staff_other": {"Nobody 无名"}}
		// Staff are named by name, suggested from the district's.
		contains(t, form, `list="colleagues"`, `<option value="Li Na 李娜（`)
		resp, body = manager.post("/conferences", conf)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("unknown colleague: %d", resp.StatusCode)
		}
		contains(t, body, `aria-describedby="f-staff_other-msg"`, "no colleague has this name")
		conf.Del("staff_other")
		resp, body = manager.post("/conferences", conf)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("due before the conference: %d", resp.StatusCode)
		}
		contains(t, body, `id="f-patients[0].decisions[1].due_on"`, "cannot be before the conference")
		conf.Set("patients[0].decisions[1].due_on", today.AddDays(7).String())
		resp, _ = manager.post("/conferences", conf)
		expectRedirect(t, resp, rec+"?saved=conference")
		contains(t, manager.page(rec, http.StatusOK), "Case conference at", "work going well", "visit the workshop", "孙丽 (残联)")
		home := nurse.page("/", http.StatusOK)
		contains(t, home, "Decisions I own", "visit the workshop")
		ds, err := svc.MyDecisions(care.WithActor(asAdmin, &care.Actor{Username: "nurse", Role: auth.Nurse, UnitPath: "/D01/S01/"}))
		if err != nil || len(ds) != 1 {
			t.Fatal(ds, err)
		}
		resp, _ = nurse.post("/decisions/"+strconv.FormatInt(ds[0].ID, 10)+"/done", url.Values{})
		expectRedirect(t, resp, "/?decision=done")
		lacks(t, nurse.page("/", http.StatusOK), "visit the workshop")

		// In Chinese, no English on the plan's pages.
		manager.header.Set("Accept-Language", "zh-CN")
		for _, path := range []string{planPath, planPath + "/print", planPath + "/review", planPath + "/edit", rec + "/plans/new",
			"/conferences/new?patient=" + strconv.FormatInt(id, 10), rec, "/worklist?kind=plan_review"} {
			lacks(t, manager.page(path, http.StatusOK), "Rehabilitation plan", "Goal", "Key worker", "Interventions", "Review",
				"Signature", "Case conference", "Decision", "Participants", "Improved", "Occupation")
		}
	})
}

// TestPlanMessagesInChinese: the service's new messages read in Chinese,
// numbers kept.
func TestPlanMessagesInChinese(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		resp, _ := manager.post("/patients", registration("计划二", "1980-05-17", nationalID("1980-05-17", 33)))
		id := idFrom(t, resp)
		manager.header.Set("Accept-Language", "zh-CN")
		resp, body := manager.post(patientURL(id)+"/plans", url.Values{"goal_rows": {"1"}, "start_on": {"2026-01-01"}, "review_every_days": {"3"},
			"goals[0].domain": {"occupation"}, "goals[0].description": {"work"}, "goals[0].measure": {"days"}, "goals[0].target": {"3"},
			"goals[0].target_on": {"2026-06-01"}, "goals[0].interventions[0].description": {"coaching"}, "goals[0].interventions[0].assignee": {"nurse"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", resp.StatusCode)
		}
		contains(t, body, "须在 7 至 365 之间", "须为患者照护团队成员")
		lacks(t, body, "must be")
	})
}
