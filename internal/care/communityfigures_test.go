package care_test

import (
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/kpi"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestCommunityFigures(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2026-06-30")
		district := &care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"}
		for _, u := range []care.UserInput{
			{Username: "dadm", FullName: "区管理员", Role: string(auth.DistrictAdmin), OrgUnit: "D1"},
			{Username: "mgr", FullName: "张伟", Role: string(auth.CommunityManager), OrgUnit: "C1"},
			{Username: "mgr2", FullName: "刘洋", Role: string(auth.CommunityManager), OrgUnit: "C2"},
			{Username: "nurse1", FullName: "李娜", Role: string(auth.Nurse), OrgUnit: "S1"},
		} {
			u.Password = "a long enough password 1"
			if _, err := svc.CreateUserWithPassword(as(adminActor), u); err != nil {
				t.Fatal(err)
			}
		}
		p := register(t, svc, manager, care.PatientInput{Name: "李明", Guardian: care.Guardian{Name: "李秀兰"}})
		fam, _ := svc.Family(as(manager), p.ID)

		ev, err := svc.CreateEvent(as(manager), care.EventInput{Title: "照护者课堂", Kind: "caregiver_education", StartsAt: "2026-05-20T14:00", OrgUnit: "C1"})
		if err != nil {
			t.Fatal(err)
		}
		svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{FamilyMemberID: fam[0].ID})
		svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{PatientID: p.ID, Present: new(bool)}) // absent: not counted
		lecture, _ := svc.CreateEvent(as(district), care.EventInput{Title: "讲座", Kind: "public_lecture", StartsAt: "2026-06-01T09:00", OrgUnit: "D1"})
		svc.AddAttendance(as(district), lecture.ID, care.AttendanceInput{HeadCount: 40})
		outside, _ := svc.CreateEvent(as(district), care.EventInput{Title: "去年的讲座", Kind: "public_lecture", StartsAt: "2025-06-01T09:00", OrgUnit: "D1"})
		svc.AddAttendance(as(district), outside.ID, care.AttendanceInput{HeadCount: 99})

		course, err := svc.CreateCourse(as(district), care.CourseInput{Title: "危机评估", Topic: "crisis_assessment", Hours: 21})
		if err != nil {
			t.Fatal(err)
		}
		s1, _ := svc.CreateEvent(as(district), care.EventInput{Title: "危机评估", Kind: "training", CourseID: course.ID, StartsAt: "2026-03-01T09:00", OrgUnit: "D1"})
		cd, _ := svc.CreateEvent(as(district), care.EventInput{Title: "病例讨论", Kind: "case_discussion", Hours: 3, StartsAt: "2026-04-01T09:00", OrgUnit: "D1"})
		svc.AddAttendance(as(district), s1.ID, care.AttendanceInput{Username: "mgr"})
		svc.AddAttendance(as(district), cd.ID, care.AttendanceInput{Username: "mgr"})
		svc.AddAttendance(as(district), cd.ID, care.AttendanceInput{Username: "nurse1"})

		set, err := svc.CommunityFigures(as(district), "", mustPeriod(t, "2026"))
		if err != nil {
			t.Fatal(err)
		}
		// Staff hours: da 0, mgr 24, mgr2 0, n1 3.
		want := map[kpi.Key]float64{kpi.EducationEvents: 2, kpi.EducationAttendance: 41, kpi.FamiliesReached: 1,
			kpi.MedianTrainingHours: kpi.Median([]float64{0, 24, 0, 3}), kpi.TrainingTargetRate: 25, kpi.SubsidiesPaid: 0}
		for _, f := range set.Figures {
			if w, ok := want[f.Key]; ok && (f.Value == nil || *f.Value != w) {
				t.Errorf("D1 %s = %v, want %v", f.Key, fmtV(f.Value), w)
			}
		}
		if len(set.Children) != 2 || set.Children[0].OrgUnit != "S1" {
			t.Fatalf("children = %+v", set.Children)
		}
		// Street 1: its community's session and family; mgr (24 h) and n1 (3 h).
		s1set := set.Children[0]
		for k, w := range map[kpi.Key]float64{kpi.EducationEvents: 1, kpi.EducationAttendance: 1, kpi.FamiliesReached: 1,
			kpi.MedianTrainingHours: 13.5, kpi.TrainingTargetRate: 50} {
			f, _ := kpi.Find(s1set.Figures, k)
			if f.Value == nil || *f.Value != w {
				t.Errorf("S1 %s = %v, want %v", k, fmtV(f.Value), w)
			}
		}
		if _, err := svc.CommunityFigures(as(careMan), "", mustPeriod(t, "2026")); kind(err) != care.Forbidden {
			t.Errorf("care group reads figures: %v", err)
		}
	})
}

func mustPeriod(t *testing.T, s string) kpi.Period {
	t.Helper()
	p, err := kpi.ParsePeriod(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fmtV(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}
