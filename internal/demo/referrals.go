package demo

import (
	"context"
	"fmt"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
)

// referralActivity gives the demo referrals in every status between the
// first community and the district's hospital (H01, account "hospital"), a
// discharge handed back down, and crisis events, all through the service as
// the community manager and the hospital's psychiatrist would make them.
func referralActivity(ctx context.Context, svc *care.Service, today time.Time) error {
	mgr := care.WithActor(ctx, &care.Actor{Username: "manager", FullName: "Zhang Wei 张伟", Role: auth.CommunityManager,
		UnitCode: "C0101", UnitName: "Anning Community 安宁社区", UnitPath: "/" + District + "/S01/C0101/"})
	hosp := care.WithActor(ctx, &care.Actor{Username: "hospital", FullName: "Dr Sun Li 孙立", Role: auth.Psychiatrist,
		UnitCode: Hospital, UnitPath: "/" + District + "/" + Hospital + "/"})
	all, _, err := svc.Patients(mgr, care.PatientQuery{Status: "managed"}, care.Page{Limit: 60})
	if err != nil {
		return fmt.Errorf("demo referrals: %w", err)
	}
	// Not the patients Activity assessed (the first three), nor those
	// overdue, whom the overdue worklist shows: a referral or a crisis
	// moves a patient's due date.
	var list []care.Patient
	for i, p := range all {
		if i >= 3 && p.NextDueOn >= clinical.DateOf(today).String() {
			list = append(list, p)
		}
	}
	if len(list) < 10 && len(all) >= 13 {
		list = all[3:] // a small district: some overdue patients are used too
	}
	if len(list) < 10 {
		return nil
	}
	refer := func(i int, urgency, reason string) (int64, error) {
		r, err := svc.CreateReferral(mgr, care.ReferralInput{PatientID: list[i].ID, Direction: "up", ToUnit: Hospital,
			Urgency: urgency, Reason: reason})
		if err != nil {
			return 0, fmt.Errorf("demo referrals: refer: %w", err)
		}
		return r.ID, nil
	}
	move := func(id int64, status, note, outcome string) error {
		if _, err := svc.UpdateReferral(hosp, id, care.ReferralPatch{Status: status, Note: note, Outcome: outcome}); err != nil {
			return fmt.Errorf("demo referrals: %s: %w", status, err)
		}
		return nil
	}
	// Requested, awaiting the hospital's answer.
	if _, err := refer(2, "urgent", "Hallucinations again for a week; stopped olanzapine. 幻听复发一周，已自行停药。"); err != nil {
		return err
	}
	// Accepted.
	id, err := refer(3, "routine", "Medication review: weight gain on clozapine. 氯氮平致体重增加，请调整用药。")
	if err == nil {
		err = move(id, care.RefAccepted, "", "")
	}
	if err != nil {
		return err
	}
	// Declined: the community is told by an alert.
	if id, err = refer(4, "urgent", "Aggressive at home; family cannot cope. 在家冲动，家属难以照料。"); err == nil {
		err = move(id, care.RefDeclined, "No bed free this week; please refer to the general hospital's psychiatry department. 本周无床位，请转综合医院精神科。", "")
	}
	if err != nil {
		return err
	}
	// Cancelled by the community.
	if id, err = refer(5, "routine", "Second opinion on the diagnosis. 诊断复核。"); err == nil {
		_, err = svc.UpdateReferral(mgr, id, care.ReferralPatch{Status: care.RefCancelled})
	}
	if err != nil {
		return fmt.Errorf("demo referrals: cancel: %w", err)
	}
	// Completed as outpatient treatment.
	if id, err = refer(6, "routine", "Sleep worse for a month. 睡眠变差一个月。"); err == nil {
		if err = move(id, care.RefAccepted, "", ""); err == nil {
			err = move(id, care.RefCompleted, "Seen in clinic; dose adjusted. 门诊调整剂量。", "outpatient")
		}
	}
	if err != nil {
		return err
	}
	// Admitted, then discharged back down: the community sees the discharge
	// summary on its worklist, the patient due within 14 days (R-DISCHARGE).
	if id, err = refer(7, "emergency", "Threatened neighbours with a knife last night. 昨晚持刀威胁邻居。"); err == nil {
		if err = move(id, care.RefAccepted, "", ""); err == nil {
			err = move(id, care.RefCompleted, "", "admitted")
		}
	}
	if err != nil {
		return err
	}
	risk := 1
	if _, err := svc.CreateReferral(hosp, care.ReferralInput{PatientID: list[7].ID, Direction: "down", ToUnit: "C0101",
		DischargedOn: clinical.DateOf(today).AddDays(-3).String(), Diagnoses: []care.Diagnosis{{Code: "F20.0"}},
		Medications: []care.Medication{{Name: "olanzapine 奥氮平", Dose: "10 mg", Frequency: "nightly 每晚"}}, RiskLevel: &risk,
		Recommendations: "Follow up weekly for a month; blood count in 4 weeks; the family keeps the medicines. 出院后一个月内每周随访；4周后复查血常规；药物由家属保管。"}); err != nil {
		return fmt.Errorf("demo referrals: discharge: %w", err)
	}
	// Crisis events: a known patient at risk 3 (opens the emergency record),
	// a hotline call from someone unknown, a family's call answered by phone.
	three, one := 3, 1
	for _, c := range []care.CrisisInput{
		{OccurredAt: today.Add(-26 * time.Hour), ReportedBy: "family", PatientID: list[8].ID, RiskLevel: &three,
			Actions: []string{"home_visit", "police"}, Place: "home 家中",
			Outcome: "Calmed by the community doctor and police; family stays with him tonight. 社区医生和民警到场安抚，家属今晚陪护。"},
		{OccurredAt: today.Add(-5 * time.Hour), ReportedBy: "hotline", RiskLevel: &one, Actions: []string{"phone_counselling"},
			Description: "Woman about 30, crying, would not give her name; lives near the market. 女性约30岁，哭泣，不愿留姓名，住菜市场附近。",
			Outcome:     "Agreed to come to the clinic tomorrow morning. 同意明早来门诊。"},
		{OccurredAt: today.Add(-50 * time.Hour), ReportedBy: "family", PatientID: list[9].ID, RiskLevel: &one,
			Actions: []string{"phone_counselling"}, Outcome: "Sleeping again after a talk; visit booked. 电话疏导后入睡，已预约上门。"},
	} {
		if _, err := svc.LogCrisis(mgr, c); err != nil {
			return fmt.Errorf("demo crisis: %w", err)
		}
	}
	return nil
}
