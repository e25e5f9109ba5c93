package demo

import (
	"context"
	"fmt"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
)

// Community gives the demo district the work done outside the consulting
// room, all through the service: family members beside the guardians the
// generator recorded, events of every kind with their attendance, two
// training courses with sessions and a case discussion, and last year's
// guardian subsidy from proposal to payment. It needs Seed and Patients.
func Community(ctx context.Context, svc *care.Service, today time.Time) error {
	d := "/" + District + "/"
	mgr := care.WithActor(ctx, &care.Actor{Username: "manager", Role: auth.CommunityManager, UnitCode: "C0101",
		UnitPath: d + "S01/C0101/"})
	psy := care.WithActor(ctx, &care.Actor{Username: "psychiatrist", Role: auth.Psychiatrist, UnitCode: District, UnitPath: d})
	dist := care.WithActor(ctx, &care.Actor{Username: "district", Role: auth.DistrictAdmin, UnitCode: District, UnitPath: d})
	fail := func(what string, err error) error { return fmt.Errorf("demo community: %s: %w", what, err) }

	list, _, err := svc.Patients(mgr, care.PatientQuery{Status: "managed"}, care.Page{Limit: 30})
	if err != nil {
		return fail("patients", err)
	}
	if len(list) < 6 {
		return nil
	}
	// Families: a relative who lives with the patient beside the guardian.
	relatives := []care.FamilyInput{
		{Name: "陈丽 Chen Li", Relation: "妻子 wife", Phone: "13900001001", LivesWith: true, Notes: "白天上班，晚上照看。"},
		{Name: "刘强 Liu Qiang", Relation: "儿子 son", Phone: "13900001002", LivesWith: true},
		{Name: "张梅 Zhang Mei", Relation: "姐姐 sister", Phone: "13900001003", Notes: "住在邻村，每周来一次。"},
		{Name: "王建 Wang Jian", Relation: "弟弟 brother", Phone: "13900001004", LivesWith: true},
	}
	var family []care.FamilyMember
	for i, in := range relatives {
		m, err := svc.AddFamilyMember(mgr, list[i].ID, in)
		if err != nil {
			return fail("family", err)
		}
		family = append(family, *m)
		fam, err := svc.Family(mgr, list[i].ID)
		if err != nil {
			return fail("family", err)
		}
		for _, g := range fam {
			if g.IsGuardian {
				family = append(family, g)
			}
		}
	}

	day := clinical.DateOf(today)
	at := func(days int, clock string) string { return day.AddDays(days).String() + "T" + clock }
	present, absent := true, false
	attend := func(ctx context.Context, e *care.Event, ins ...care.AttendanceInput) error {
		for _, in := range ins {
			if _, err := svc.AddAttendance(ctx, e.ID, in); err != nil {
				return fail("attendance of "+e.Title, err)
			}
		}
		return nil
	}
	event := func(ctx context.Context, in care.EventInput) (*care.Event, error) {
		e, err := svc.CreateEvent(ctx, in)
		if err != nil {
			return nil, fail("event "+in.Title, err)
		}
		return e, nil
	}

	// Caregiver education and a support group in the community, past and to come.
	e, err := event(mgr, care.EventInput{Title: "照护者课堂：识别复发早期征兆 Caregivers: early signs of relapse", Kind: "caregiver_education",
		StartsAt: at(-20, "14:00"), Place: "安宁社区卫生服务站二楼 Anning health station, 2nd floor", OrgUnit: "C0101", Capacity: 20})
	if err != nil {
		return err
	}
	var lines []care.AttendanceInput
	for i, m := range family {
		lines = append(lines, care.AttendanceInput{FamilyMemberID: m.ID, Present: map[bool]*bool{true: &present, false: &absent}[i%4 != 3]})
	}
	if err := attend(mgr, e, lines...); err != nil {
		return err
	}
	e, err = event(mgr, care.EventInput{Title: "家属互助小组 Family support group", Kind: "support_group", StartsAt: at(-6, "19:00"),
		Place: "安宁社区活动室 Anning community room", OrgUnit: "C0101", Capacity: 12})
	if err != nil {
		return err
	}
	if err := attend(mgr, e, care.AttendanceInput{FamilyMemberID: family[0].ID}, care.AttendanceInput{FamilyMemberID: family[2].ID},
		care.AttendanceInput{PatientID: list[4].ID}, care.AttendanceInput{PatientID: list[5].ID, Present: &absent}); err != nil {
		return err
	}
	e, err = event(mgr, care.EventInput{Title: "照护者课堂：服药管理 Caregivers: managing medication", Kind: "caregiver_education",
		StartsAt: at(9, "14:00"), Place: "安宁社区卫生服务站二楼 Anning health station, 2nd floor", OrgUnit: "C0101", Capacity: 20})
	if err != nil {
		return err
	}
	if err := attend(mgr, e, care.AttendanceInput{FamilyMemberID: family[1].ID, Present: &absent},
		care.AttendanceInput{FamilyMemberID: family[3].ID, Present: &absent}); err != nil {
		return err
	}

	// The district's public events: a lecture to come, last mental health week.
	e, err = event(dist, care.EventInput{Title: "公益讲座：睡眠与情绪 Public talk: sleep and mood", Kind: "public_lecture",
		StartsAt: at(5, "09:30"), Place: "河畔区文化馆 Riverside cultural centre", OrgUnit: District, Capacity: 150})
	if err != nil {
		return err
	}
	if err := attend(dist, e, care.AttendanceInput{HeadCount: 37}); err != nil {
		return err
	}
	if _, err := event(dist, care.EventInput{Title: "心理健康义诊进社区 Free mental health check in the square", Kind: "mental_health_week",
		StartsAt: at(12, "09:00"), Place: "清河街道广场 Qinghe Street square", OrgUnit: "S01"}); err != nil {
		return err
	}
	e, err = event(dist, care.EventInput{Title: "精神卫生宣传周 Mental health week", Kind: "mental_health_week",
		StartsAt: at(-50, "09:00"), Place: "东山镇集市 Dongshan market", OrgUnit: District})
	if err != nil {
		return err
	}
	if err := attend(dist, e, care.AttendanceInput{HeadCount: 120}); err != nil {
		return err
	}

	// Training: two courses, sessions, and a case discussion.
	crisis, err := svc.CreateCourse(psy, care.CourseInput{Title: "危机评估与干预 Crisis assessment and intervention", Topic: "crisis_assessment",
		Hours: 6, Competencies: []string{"风险评估 risk assessment", "危机干预 crisis intervention"}})
	if err != nil {
		return fail("course", err)
	}
	nvc, err := svc.CreateCourse(dist, care.CourseInput{Title: "非暴力沟通 Non-violent communication", Topic: "nonviolent_communication",
		Hours: 4, Competencies: []string{"与家属沟通 talking with families"}})
	if err != nil {
		return fail("course", err)
	}
	if _, err := svc.CreateCourse(dist, care.CourseInput{Title: "个案康复计划 Planning rehabilitation", Topic: "rehabilitation_planning",
		Hours: 8, Competencies: []string{"康复计划 rehabilitation planning"}}); err != nil {
		return fail("course", err)
	}
	staff := func(names ...string) []care.AttendanceInput {
		var out []care.AttendanceInput
		for _, n := range names {
			out = append(out, care.AttendanceInput{Username: n})
		}
		return out
	}
	e, err = event(psy, care.EventInput{Title: "危机评估（第一期）Crisis assessment, session 1", Kind: "training", CourseID: crisis.ID,
		StartsAt: at(-40, "09:00"), Place: "区精神卫生中心 District mental health centre", OrgUnit: District, Capacity: 30})
	if err != nil {
		return err
	}
	if err := attend(psy, e, staff("manager", "nurse", "manager2", "social")...); err != nil {
		return err
	}
	e, err = event(dist, care.EventInput{Title: "非暴力沟通工作坊 Non-violent communication workshop", Kind: "training", CourseID: nvc.ID,
		StartsAt: at(-15, "13:30"), Place: "区精神卫生中心 District mental health centre", OrgUnit: District, Capacity: 30})
	if err != nil {
		return err
	}
	if err := attend(dist, e, staff("manager", "caregroup", "therapist")...); err != nil {
		return err
	}
	e, err = event(psy, care.EventInput{Title: "疑难病例讨论 Case discussion", Kind: "case_discussion", Hours: 2,
		StartsAt: at(-8, "15:00"), Place: "区精神卫生中心 District mental health centre", OrgUnit: District})
	if err != nil {
		return err
	}
	if err := attend(psy, e, staff("psychiatrist", "manager", "nurse", "therapist")...); err != nil {
		return err
	}

	// Last year's guardian subsidy: proposed for those who meet the
	// conditions, then reviewed, approved and paid; one refused.
	year := today.Year() - 1
	var proposed []*care.Subsidy
	for _, p := range list {
		x, err := svc.CreateSubsidy(mgr, care.SubsidyInput{PatientID: p.ID, Year: year, Amount: 600})
		if care.ErrorKind(err) == care.Invalid {
			continue // the conditions are not met
		}
		if err != nil {
			return fail("subsidy", err)
		}
		proposed = append(proposed, x)
		if len(proposed) == 6 {
			break
		}
	}
	for i, x := range proposed {
		steps := []care.SubsidyPatch{{Status: "reviewed"}, {Status: "approved"}, {Status: "paid"}}
		switch i {
		case 4:
			steps = steps[:1] // reviewed, waiting for the district
		case 5:
			steps = []care.SubsidyPatch{{Status: "refused", Reason: "监护人未按时陪同复诊 the guardian missed the check-ups"}}
		}
		for _, st := range steps {
			ctx := mgr
			if st.Status != "reviewed" && st.Status != "refused" {
				ctx = dist
			}
			if _, err := svc.UpdateSubsidy(ctx, x.ID, st); err != nil {
				return fail("subsidy "+st.Status, err)
			}
		}
	}
	return nil
}
