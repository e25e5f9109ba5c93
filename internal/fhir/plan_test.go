package fhir_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/fhir"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestFHIRFamilyTeamPlanReferral reads a patient's family, care team,
// plan versions with their goals, and referrals up and down through the
// FHIR interface, each resource validated against the R4 base definitions:
// read by id, searched by patient and paged, refused for another
// community, audited, and in the bulk export as its own type.
func TestFHIRFamilyTeamPlanReferral(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		t.Cleanup(fhir.WaitExports)
		ctx := context.Background()
		mgr, mgr2, cg := e.token("manager"), e.token("manager2"), e.token("caregroup")
		mctx := care.WithActor(ctx, &care.Actor{Username: "manager", FullName: "Zhang Wei", Role: auth.CommunityManager,
			UnitCode: "C0101", UnitPath: "/" + demo.District + "/S01/C0101/"})
		hctx := care.WithActor(ctx, &care.Actor{Username: "hospital", FullName: "Dr Sun Li", Role: auth.Psychiatrist,
			UnitCode: demo.Hospital, UnitPath: "/" + demo.District + "/" + demo.Hospital + "/"})
		fail := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}

		// A patient with a guardian (from registration) and a sister.
		p, err := e.svc.RegisterPatient(mctx, care.PatientInput{Name: "李明", Sex: "male", BirthDate: "1975-05-06", OrgUnit: "C0101",
			RegisteredOn: day(-200), Guardian: care.Guardian{Name: "李强", Relation: "父亲", Phone: "13900139001"}})
		fail("register", err)
		pid := strconv.FormatInt(p.ID, 10)
		sister, err := e.svc.AddFamilyMember(mctx, p.ID, care.FamilyInput{Name: "李红", Relation: "姐姐", Phone: "13900139002",
			LivesWith: true, Notes: "每周来一次"})
		fail("family", err)
		sid := pid + "-" + strconv.FormatInt(sister.ID, 10)

		// The team: the manager as key worker, the psychiatrist, a partner.
		for _, m := range []care.TeamMemberInput{{Username: "manager", TeamRole: "community_manager", KeyWorker: true},
			{Username: "psychiatrist", TeamRole: "psychiatrist"}} {
			_, err := e.svc.AddTeamMember(mctx, p.ID, m)
			fail("team", err)
		}
		_, err = e.svc.AddTeamContact(mctx, p.ID, care.TeamContactInput{Kind: "partner", Name: "孙丽", Organisation: "残联", Phone: "01088880001"})
		fail("contact", err)

		// A plan, adjusted to version 2, whose first goal a review rates achieved.
		goals := func(target string) []care.PlanGoal {
			return []care.PlanGoal{
				{Domain: "occupation", Description: "在庇护工场工作半天", Measure: "每周半天数", Baseline: "0", Target: care.Measure(target),
					TargetOn: day(120), Interventions: []care.PlanIntervention{{Description: "就业辅导", Assignee: "manager", Frequency: "每周"}}},
				{Domain: "medication", Description: "按时服用晚间药物", Measure: "每周漏服次数", Baseline: "2", Target: "0", TargetOn: day(60),
					Interventions: []care.PlanIntervention{{Description: "药盒与电话提醒", Assignee: "psychiatrist", Frequency: "每周两次"}}},
			}
		}
		in := care.PlanInput{StartOn: day(-30), ReviewEveryDays: 30, AgreedByPatient: true,
			Needs: []care.PlanNeed{{Domain: "occupation", Finding: "失业两年"}}, Goals: goals("3")}
		v1, err := e.svc.CreatePlan(mctx, p.ID, in)
		fail("plan", err)
		in.Goals = goals("4")
		v2, err := e.svc.AdjustPlan(mctx, v1.ID, in)
		fail("adjust", err)
		_, err = e.svc.ReviewPlan(mctx, v2.ID, care.ReviewInput{Date: day(0), Ratings: []care.GoalRating{
			{GoalID: v2.Goals[0].ID, Progress: "achieved", Value: "4"}, {GoalID: v2.Goals[1].ID, Progress: "worse"}}})
		fail("review", err)

		// Referrals: up (urgent, accepted, completed as admitted), the
		// discharge down, and a routine one up, cancelled.
		up, err := e.svc.CreateReferral(mctx, care.ReferralInput{PatientID: p.ID, Direction: "up", ToUnit: demo.Hospital, Urgency: "urgent",
			Reason: "幻听复发一周"})
		fail("refer up", err)
		_, err = e.svc.UpdateReferral(hctx, up.ID, care.ReferralPatch{Status: care.RefAccepted})
		fail("accept", err)
		_, err = e.svc.UpdateReferral(hctx, up.ID, care.ReferralPatch{Status: care.RefCompleted, Outcome: "admitted"})
		fail("complete", err)
		risk := 1
		_, err = e.svc.CreateReferral(hctx, care.ReferralInput{PatientID: p.ID, Direction: "down", ToUnit: "C0101", DischargedOn: day(0),
			Diagnoses: []care.Diagnosis{{Code: "F20.0"}}, RiskLevel: &risk, Recommendations: "出院后一个月内每周随访"})
		fail("discharge", err)
		again, err := e.svc.CreateReferral(mctx, care.ReferralInput{PatientID: p.ID, Direction: "up", ToUnit: demo.Hospital,
			Urgency: "emergency", Reason: "复查"})
		fail("refer again", err)
		_, err = e.svc.UpdateReferral(mctx, again.ID, care.ReferralPatch{Status: care.RefCancelled})
		fail("cancel", err)

		// The CapabilityStatement lists the four new types' read and search.
		meta := e.do("GET", "/fhir/R4/metadata", "", nil)
		for _, typ := range []string{"CareTeam", "CarePlan", "Goal", "ServiceRequest", "RelatedPerson"} {
			if !strings.Contains(meta.raw, `{"type":"`+typ+`","interaction":[{"code":"read"},{"code":"search-type"}],"searchParam":[{"name":"patient"`) {
				t.Errorf("metadata does not list %s: %s", typ, meta.raw)
			}
		}

		// RelatedPerson: the whole family, the guardian under its old id.
		res := e.do("GET", "/fhir/R4/RelatedPerson?patient="+pid, mgr, nil)
		list := entries(res)
		if len(list) != 2 || list[0]["id"] != pid+"-guardian" || list[1]["id"] != sid || !strings.Contains(res.raw, `"code":"GUARD"`) ||
			!strings.Contains(res.raw, `"code":"FAMMEMB"`) || !strings.Contains(res.raw, "李红") {
			t.Errorf("RelatedPerson?patient: %s", res.raw)
		}
		res = e.do("GET", "/fhir/R4/RelatedPerson?patient="+pid+"&_count=1", mgr, nil)
		next := e.link(res, "next")
		if len(entries(res)) != 1 || next == "" {
			t.Fatalf("RelatedPerson page 1: %s", res.raw)
		}
		if res := e.do("GET", next, mgr, nil); len(entries(res)) != 1 || entries(res)[0]["id"] != sid || e.link(res, "next") != "" {
			t.Errorf("RelatedPerson page 2: %s", res.raw)
		}
		if res := e.do("GET", "/fhir/R4/RelatedPerson?patient="+pid+"&_page=x", mgr, nil); res.status != 400 || expression(res) != "_page" {
			t.Errorf("a bad page token: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/RelatedPerson/"+sid, mgr, nil); res.status != 200 || !strings.Contains(res.raw, "姐姐") {
			t.Errorf("RelatedPerson read: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/RelatedPerson/"+pid+"-guardian", mgr, nil); res.status != 200 || !strings.Contains(res.raw, "李强") {
			t.Errorf("guardian read: %d %s", res.status, res.raw)
		}
		// The care-and-help group sees the guardian only, as the service gives it.
		if res := e.do("GET", "/fhir/R4/RelatedPerson?patient="+pid, cg, nil); len(entries(res)) != 1 || strings.Contains(res.raw, "李红") {
			t.Errorf("care-and-help group's family: %s", res.raw)
		}
		if res := e.do("GET", "/fhir/R4/RelatedPerson/"+sid, cg, nil); res.status != 404 {
			t.Errorf("care-and-help group reads the sister: %d %s", res.status, res.raw)
		}

		// CareTeam: members with roles and the key worker, the contact.
		res = e.do("GET", "/fhir/R4/CareTeam/"+pid, mgr, nil)
		if res.status != 200 || !strings.Contains(res.raw, `"reference":"Practitioner/manager"`) || !strings.Contains(res.raw, `"code":"key_worker"`) ||
			!strings.Contains(res.raw, `"code":"psychiatrist"`) || !strings.Contains(res.raw, `"member":{"display":"孙丽"}`) ||
			!strings.Contains(res.raw, `"onBehalfOf":{"reference":"Organization/C0101"`) {
			t.Errorf("CareTeam read: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/CareTeam?patient=Patient/"+pid+"&_count=1", mgr, nil); len(entries(res)) != 1 || e.link(res, "next") != "" {
			t.Errorf("CareTeam search: %s", res.raw)
		}

		// CarePlan: both versions, newest first; Goals with their review.
		res = e.do("GET", "/fhir/R4/CarePlan?patient="+pid, mgr, nil)
		list = entries(res)
		if len(list) != 2 || list[0]["id"] != strconv.FormatInt(v2.ID, 10) || list[0]["status"] != "active" || list[1]["status"] != "revoked" ||
			!strings.Contains(res.raw, `"value":"`+pid+`-v2"`) || !strings.Contains(res.raw, `"scheduledString":"每周两次"`) {
			t.Fatalf("CarePlan search: %s", res.raw)
		}
		res = e.do("GET", "/fhir/R4/CarePlan/"+strconv.FormatInt(v2.ID, 10), mgr, nil)
		refs, _ := res.body["goal"].([]any)
		if res.status != 200 || len(refs) != 2 || !strings.Contains(res.raw, `"reference":"CareTeam/`+pid+`"`) {
			t.Fatalf("CarePlan read: %d %s", res.status, res.raw)
		}
		// Version 2 replaces version 1; version 1 replaces nothing.
		if rep, _ := res.body["replaces"].([]any); len(rep) != 1 ||
			rep[0].(map[string]any)["reference"] != "CarePlan/"+strconv.FormatInt(v1.ID, 10) {
			t.Errorf("CarePlan.replaces: %s", res.raw)
		}
		if _, ok := list[1]["replaces"]; ok {
			t.Errorf("the first version replaces something: %v", list[1])
		}
		first := strings.TrimPrefix(refs[0].(map[string]any)["reference"].(string), "Goal/")
		res = e.do("GET", "/fhir/R4/Goal/"+first, mgr, nil)
		if res.status != 200 || res.body["lifecycleStatus"] != "completed" || !strings.Contains(res.raw, `"code":"achieved"`) ||
			!strings.Contains(res.raw, `"detailString":"4"`) || !strings.Contains(res.raw, `"valueString":"0"`) || res.body["statusDate"] != day(0) {
			t.Errorf("Goal read: %d %s", res.status, res.raw)
		}
		second := strings.TrimPrefix(refs[1].(map[string]any)["reference"].(string), "Goal/")
		if res := e.do("GET", "/fhir/R4/Goal/"+second, mgr, nil); res.status != 200 || !strings.Contains(res.raw, `"code":"worsening"`) {
			t.Errorf("second Goal: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/fhir/R4/Goal?patient="+pid+"&_count=3", mgr, nil)
		next = e.link(res, "next")
		if len(entries(res)) != 3 || next == "" {
			t.Fatalf("Goal page 1: %s", res.raw)
		}
		if res := e.do("GET", next, mgr, nil); len(entries(res)) != 1 || entries(res)[0]["lifecycleStatus"] != "cancelled" {
			t.Errorf("Goal page 2: %s", res.raw)
		}
		if res := e.do("GET", "/fhir/R4/CarePlan?patient="+pid, cg, nil); res.status != 403 || !isOutcome(res) {
			t.Errorf("care-and-help group reads plans: %d %s", res.status, res.raw)
		}

		// ServiceRequest: newest first, statuses and priorities mapped.
		res = e.do("GET", "/fhir/R4/ServiceRequest?patient="+pid, mgr, nil)
		list = entries(res)
		if len(list) != 3 || list[0]["status"] != "revoked" || list[0]["priority"] != "stat" || list[1]["status"] != "active" ||
			list[2]["status"] != "completed" || list[2]["priority"] != "urgent" || !strings.Contains(res.raw, `"valueCode":"admitted"`) ||
			!strings.Contains(res.raw, `"requester":{"reference":"Organization/`+demo.Hospital+`"`) || !strings.Contains(res.raw, "幻听复发一周") ||
			!strings.Contains(res.raw, "出院后一个月内每周随访") {
			t.Errorf("ServiceRequest search: %s", res.raw)
		}
		res = e.do("GET", "/fhir/R4/ServiceRequest?patient="+pid+"&_count=2", mgr, nil)
		next = e.link(res, "next")
		if len(entries(res)) != 2 || next == "" {
			t.Fatalf("ServiceRequest page 1: %s", res.raw)
		}
		if res := e.do("GET", next, mgr, nil); len(entries(res)) != 1 || entries(res)[0]["id"] != strconv.FormatInt(up.ID, 10) {
			t.Errorf("ServiceRequest page 2: %s", res.raw)
		}
		upID := strconv.FormatInt(up.ID, 10)
		if res := e.do("GET", "/fhir/R4/ServiceRequest/"+upID, mgr, nil); res.status != 200 || res.body["performer"] == nil {
			t.Errorf("ServiceRequest read: %d %s", res.status, res.raw)
		}

		// Another community's manager reads none of it.
		for _, path := range []string{"RelatedPerson/" + sid, "RelatedPerson/" + pid + "-guardian", "RelatedPerson?patient=" + pid,
			"CareTeam/" + pid, "CareTeam?patient=" + pid, "CarePlan/" + strconv.FormatInt(v2.ID, 10), "CarePlan?patient=" + pid,
			"Goal/" + first, "Goal?patient=" + pid, "ServiceRequest/" + upID, "ServiceRequest?patient=" + pid} {
			if res := e.do("GET", "/fhir/R4/"+path, mgr2, nil); res.status != 404 || !isOutcome(res) {
				t.Errorf("another community's %s: %d %s", path, res.status, res.raw)
			}
		}

		// Every read is audited on the patient, in words in the access report.
		for _, action := range []string{"family.read", "team.read", "plan.read", "plan.list", "referral.read", "referral.list"} {
			var n int
			db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = ? AND subject_id = ? AND actor = 'manager'`, action, pid).Scan(&n)
			if n == 0 {
				t.Errorf("no %s audit entry", action)
			}
			if w := care.AccessWhat(action); w == strings.ReplaceAll(action, "_", " ") {
				t.Errorf("%s has no words in the access report", action)
			}
		}

		// The bulk export holds each as its own type, as the reads map it.
		_, m := e.export("C0101", "?_type=RelatedPerson,CareTeam,CarePlan,Goal,ServiceRequest", mgr)
		files := e.download(m, mgr)
		mine := func(typ, field string) int {
			n := 0
			for _, r := range files[typ] {
				if ref, _ := r[field].(map[string]any); ref["reference"] == "Patient/"+pid {
					n++
				}
			}
			return n
		}
		for _, c := range []struct {
			typ, field string
			want       int
		}{{"RelatedPerson", "patient", 2}, {"CareTeam", "subject", 1}, {"CarePlan", "subject", 2}, {"Goal", "subject", 4},
			{"ServiceRequest", "subject", 3}} {
			if n := mine(c.typ, c.field); n != c.want {
				t.Errorf("export: %d %s of the patient, want %d", n, c.typ, c.want)
			}
		}
	})
}
