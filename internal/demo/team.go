package demo

import (
	"context"
	"fmt"
	"time"

	"kith/internal/care"
	"kith/internal/clinical"
)

// careTeams gives the first two patients of the first community a care
// team (one member, manager2, from another community), a rehabilitation
// plan (the first with a review, the second due for review within the
// week), and brings both to one case conference, all through the service
// as the community manager (issue 11).
func careTeams(mgr context.Context, svc *care.Service, list []care.Patient, today time.Time) error {
	if len(list) < 2 {
		return nil
	}
	day := func(daysAgo int) string { return clinical.DateOf(today).AddDays(-daysAgo).String() }
	a, b := list[0].ID, list[1].ID
	for _, m := range []struct {
		patient int64
		in      care.TeamMemberInput
	}{
		{a, care.TeamMemberInput{Username: "manager", TeamRole: "community_manager", KeyWorker: true}},
		{a, care.TeamMemberInput{Username: "psychiatrist", TeamRole: "psychiatrist"}},
		{a, care.TeamMemberInput{Username: "social", TeamRole: "social_worker"}},
		{a, care.TeamMemberInput{Username: "manager2", TeamRole: "care_group"}},
		{b, care.TeamMemberInput{Username: "nurse", TeamRole: "key_worker"}},
		{b, care.TeamMemberInput{Username: "manager", TeamRole: "community_manager"}},
	} {
		if _, err := svc.AddTeamMember(mgr, m.patient, m.in); err != nil {
			return fmt.Errorf("demo team: %w", err)
		}
	}
	for _, c := range []care.TeamContactInput{
		{Kind: "family", Name: "Family member 家属", Relation: "mother 母亲", Phone: "139 0101 0001"},
		{Kind: "partner", Name: "Sun Li 孙丽", Organisation: "Disabled Persons' Federation 残联", Phone: "010 8888 0001"},
		{Kind: "volunteer", Name: "Volunteer Zhou 周志愿者"},
	} {
		if _, err := svc.AddTeamContact(mgr, a, c); err != nil {
			return fmt.Errorf("demo team contact: %w", err)
		}
	}
	pa, err := svc.CreatePlan(mgr, a, care.PlanInput{StartOn: day(60), ReviewEveryDays: 60, AgreedByPatient: true, AgreedByFamily: true,
		Needs: []care.PlanNeed{
			{Domain: "occupation", Finding: "Out of work for two years; wants a part-time job. 失业两年，希望兼职工作。"},
			{Domain: "medication", Finding: "Misses evening doses about twice a week. 每周约两次漏服晚间药物。"},
			{Domain: "family", Finding: "Mother is tired and worried. 母亲疲惫、担忧。"},
		},
		Goals: []care.PlanGoal{
			{Domain: "occupation", Description: "Works half-days at the sheltered workshop 在庇护工场工作半天", Measure: "half-days a week 每周半天数",
				Baseline: "0", Target: "3", TargetOn: clinical.DateOf(today).AddDays(120).String(),
				Interventions: []care.PlanIntervention{{Description: "Job coaching with the Disabled Persons' Federation 与残联合作的就业辅导", Assignee: "social", Frequency: "weekly 每周"}}},
			{Domain: "medication", Description: "Takes every evening dose 按时服用晚间药物", Measure: "missed doses a week 每周漏服次数",
				Baseline: "2", Target: "0", TargetOn: clinical.DateOf(today).AddDays(60).String(),
				Interventions: []care.PlanIntervention{{Description: "Pill box and a reminder call 药盒与电话提醒", Assignee: "manager", Frequency: "twice a week 每周两次"}}},
			{Domain: "family", Description: "Mother joins the carers' group 母亲参加照料者小组", Measure: "sessions attended 参加次数",
				Baseline: "0", Target: "4", TargetOn: clinical.DateOf(today).AddDays(90).String()},
		}})
	if err != nil {
		return fmt.Errorf("demo plan: %w", err)
	}
	if _, err := svc.ReviewPlan(mgr, pa.ID, care.ReviewInput{Date: day(20), PatientFeedback: "Likes the workshop. 喜欢庇护工场。",
		FamilyFeedback: "Calmer at home. 在家更平静了。", Ratings: []care.GoalRating{
			{GoalID: pa.Goals[0].ID, Progress: "improved", Value: "2"},
			{GoalID: pa.Goals[1].ID, Progress: "achieved", Value: "0"},
			{GoalID: pa.Goals[2].ID, Progress: "unchanged", Value: "0"}}}); err != nil {
		return fmt.Errorf("demo review: %w", err)
	}
	if _, err := svc.CreatePlan(mgr, b, care.PlanInput{StartOn: day(85), ReviewEveryDays: 90, AgreedByPatient: true,
		Needs: []care.PlanNeed{{Domain: "life_skills", Finding: "Cannot cook or shop alone. 不能独自做饭、购物。"}},
		Goals: []care.PlanGoal{{Domain: "life_skills", Description: "Shops and cooks one meal a week 每周独自购物并做一顿饭",
			Measure: "meals a week 每周顿数", Baseline: "0", Target: "1", TargetOn: clinical.DateOf(today).AddDays(30).String(),
			Interventions: []care.PlanIntervention{{Description: "Cooking practice at home 居家烹饪练习", Assignee: "nurse", Frequency: "weekly 每周"}}}}}); err != nil {
		return fmt.Errorf("demo plan: %w", err)
	}
	if _, err := svc.RecordConference(mgr, care.ConferenceInput{Date: day(7), OrgUnit: "C0101",
		Participants: []care.ConferenceParticipant{{Username: "manager"}, {Username: "psychiatrist"}, {Username: "social"},
			{Name: "Sun Li 孙丽", Organisation: "Disabled Persons' Federation 残联"}},
		Patients: []care.ConferencePatient{
			{PatientID: a, Summary: "Doing well at the workshop; evening doses now regular. 庇护工场表现良好，晚间服药已规律。",
				Decisions: []care.Decision{
					{Text: "Ask the Federation about a supported job 向残联了解支持性就业岗位", Owner: "social", DueOn: clinical.DateOf(today).AddDays(14).String()},
					{Text: "Review the dose at the next clinic visit 下次门诊复核剂量", Owner: "psychiatrist", DueOn: clinical.DateOf(today).AddDays(21).String()}}},
			{PatientID: b, Summary: "Needs more help at home. 居家需要更多帮助。",
				Decisions: []care.Decision{{Text: "Home visit with the family 与家属一起家访", Owner: "manager", DueOn: clinical.DateOf(today).AddDays(7).String()}}},
		}}); err != nil {
		return fmt.Errorf("demo conference: %w", err)
	}
	return nil
}
