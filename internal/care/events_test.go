package care_test

import (
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "李明", Guardian: care.Guardian{Name: "李秀兰", Relation: "mother"}})
		other := register(t, svc, manager2, care.PatientInput{Name: "赵六", OrgUnit: "C2"})
		fam, _ := svc.Family(as(manager), p.ID)
		district := &care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"}

		// Bad input: field messages, nothing written.
		for _, tt := range []struct {
			name  string
			in    care.EventInput
			field string
		}{
			{"no title", care.EventInput{Kind: "support_group", StartsAt: "2026-05-20T14:00", OrgUnit: "C1"}, "title"},
			{"bad kind", care.EventInput{Title: "x", Kind: "party", StartsAt: "2026-05-20T14:00", OrgUnit: "C1"}, "kind"},
			{"bad time", care.EventInput{Title: "x", Kind: "support_group", StartsAt: "tomorrow", OrgUnit: "C1"}, "starts_at"},
			{"other community", care.EventInput{Title: "x", Kind: "support_group", StartsAt: "2026-05-20T14:00", OrgUnit: "C2"}, "org_unit"},
			{"training without course", care.EventInput{Title: "x", Kind: "training", StartsAt: "2026-05-20T14:00", OrgUnit: "C1"}, "course_id"},
			{"case discussion without hours", care.EventInput{Title: "x", Kind: "case_discussion", StartsAt: "2026-05-20T14:00", OrgUnit: "C1"}, "hours"},
		} {
			if _, err := svc.CreateEvent(as(manager), tt.in); kind(err) != care.Invalid || fieldOf(err) != tt.field {
				t.Errorf("%s: %v, want a message on %s", tt.name, err, tt.field)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM events`); n != 0 {
			t.Fatalf("%d events after refused creates", n)
		}
		if _, err := svc.CreateEvent(as(careMan), care.EventInput{Title: "x", Kind: "support_group", StartsAt: "2026-05-20T14:00", OrgUnit: "C1"}); kind(err) != care.Forbidden {
			t.Errorf("care group organises: %v", err)
		}

		ev, err := svc.CreateEvent(as(manager), care.EventInput{Title: "照护者培训", Kind: "caregiver_education",
			StartsAt: "2026-05-20T14:00", Place: "社区活动室", OrgUnit: "C1", Capacity: 2})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Audience != "families" || ev.StartsAt.Hour() != 6 || ev.OrganiserName != "mgr" && ev.Organiser != "mgr" {
			t.Errorf("event = %+v", ev)
		}
		// Attendance: a family member (sheet, not yet present), the patient;
		// the third place is over capacity.
		absent := false
		a1, err := svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{FamilyMemberID: fam[0].ID, Present: &absent})
		if err != nil || a1.Name != "李秀兰" || a1.Of != "李明" || a1.Present {
			t.Fatalf("family attendance = %+v, %v", a1, err)
		}
		if _, err := svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{FamilyMemberID: fam[0].ID}); kind(err) != care.Conflict {
			t.Errorf("twice: %v", err)
		}
		if _, err := svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{PatientID: p.ID}); err != nil {
			t.Fatal(err)
		}
		third := register(t, svc, manager, care.PatientInput{Name: "王五"})
		if _, err := svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{PatientID: third.ID}); kind(err) != care.Conflict {
			t.Errorf("over capacity: %v", err)
		}
		if _, err := svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{HeadCount: 5}); kind(err) != care.Invalid {
			t.Errorf("head count at a families' event: %v", err)
		}
		if _, err := svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{}); kind(err) != care.Invalid {
			t.Errorf("nobody: %v", err)
		}
		if _, err := svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{Username: "nobody"}); kind(err) != care.Invalid {
			t.Errorf("unknown account: %v", err)
		}
		if n := count(t, db, `SELECT booked FROM events WHERE id = ?`, ev.ID); n != 2 {
			t.Errorf("booked = %d after refused attendance, want 2", n)
		}
		// A patient of another community: hidden.
		ev2, _ := svc.CreateEvent(as(manager), care.EventInput{Title: "互助小组", Kind: "support_group", StartsAt: "2026-05-21T09:00", OrgUnit: "C1"})
		if _, err := svc.AddAttendance(as(manager), ev2.ID, care.AttendanceInput{PatientID: other.ID}); kind(err) != care.NotFound {
			t.Errorf("other community's patient: %v", err)
		}
		// Tick the family member present.
		if err := svc.TickAttendance(as(manager), ev.ID, a1.ID, true); err != nil {
			t.Fatal(err)
		}
		got, err := svc.Event(as(manager), ev.ID)
		if err != nil || got.Booked != 2 || got.Present != 2 || len(got.Attendance) != 2 || !got.Attendance[0].Present {
			t.Errorf("event after ticking = %+v, %v", got, err)
		}
		// The district sees the event, not who of the patients came.
		got, err = svc.Event(as(district), ev.ID)
		if err != nil || len(got.Attendance) != 2 || !got.Attendance[1].Hidden || got.Attendance[1].Name != "" {
			t.Errorf("district's view = %+v, %v", got, err)
		}
		// Another community's manager: not found.
		if _, err := svc.Event(as(manager2), ev.ID); kind(err) != care.NotFound {
			t.Errorf("other community reads: %v", err)
		}

		// A district lecture reaches the community's calendar; the list filters.
		if _, err := svc.CreateEvent(as(district), care.EventInput{Title: "精神卫生日讲座", Kind: "public_lecture",
			StartsAt: "2026-10-10T09:30:00+08:00", OrgUnit: "D1", Capacity: 100}); err != nil {
			t.Fatal(err)
		}
		list, _, err := svc.Events(as(manager), care.EventQuery{From: "2026-05-01", To: "2026-12-31"}, care.Page{})
		if err != nil || len(list) != 3 || list[2].Kind != "public_lecture" {
			t.Errorf("calendar = %d events, %v", len(list), err)
		}
		list, _, _ = svc.Events(as(manager), care.EventQuery{From: "2026-05-21", To: "2026-05-21"}, care.Page{})
		if len(list) != 1 || list[0].ID != ev2.ID {
			t.Errorf("one day = %+v", list)
		}
		list, next, _ := svc.Events(as(manager), care.EventQuery{Kind: "caregiver_education"}, care.Page{Limit: 1})
		if len(list) != 1 || next != "" {
			t.Errorf("by kind = %d, next %q", len(list), next)
		}
		if list, _, _ := svc.Events(as(manager2), care.EventQuery{}, care.Page{}); len(list) != 1 {
			t.Errorf("other community's calendar = %d events, want the district's only", len(list))
		}
		pub, err := svc.PublicEvents(as(nil), ev.StartsAt.AddDate(0, -1, 0), 10)
		if err != nil || len(pub) != 1 || pub[0].Title != "精神卫生日讲座" {
			t.Errorf("public events = %+v, %v", pub, err)
		}
	})
}

// TestEventChangeAndCancel: an organiser changes an event with the checks
// of creating one, and calls it off with a reason; a cancelled event stays
// on the calendars, marked, takes no attendance and is not changed; one at
// which people were ticked present took place and is not cancelled.
func TestEventChangeAndCancel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "李明"})
		start := svc.Today().AddDays(7).String()
		ev, err := svc.CreateEvent(as(manager), care.EventInput{Title: "讲座", Kind: "public_lecture",
			StartsAt: start + "T14:00", Place: "礼堂", OrgUnit: "C1", Capacity: 50})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{PatientID: p.ID, Present: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		str := func(s string) *string { return &s }
		zero := 0
		one := 1
		bad := ""
		for _, tt := range []struct {
			name  string
			in    care.EventPatch
			field string
		}{
			{"no title", care.EventPatch{Title: &bad}, "title"},
			{"bad time", care.EventPatch{StartsAt: str("soon")}, "starts_at"},
			{"negative capacity", care.EventPatch{Capacity: ptr(-1)}, "capacity"},
		} {
			if _, err := svc.UpdateEvent(as(manager), ev.ID, tt.in); kind(err) != care.Invalid || fieldOf(err) != tt.field {
				t.Errorf("%s: %v, want a message on %s", tt.name, err, tt.field)
			}
		}
		if _, err := svc.UpdateEvent(as(manager), ev.ID, care.EventPatch{Capacity: &one}); err != nil {
			t.Errorf("capacity of the one on the list: %v", err)
		}
		if _, err := svc.UpdateEvent(as(careMan), ev.ID, care.EventPatch{Title: str("x")}); kind(err) != care.Forbidden {
			t.Errorf("the care group changes an event: %v", err)
		}
		got, err := svc.UpdateEvent(as(manager), ev.ID, care.EventPatch{Title: str("心理健康讲座"), Place: str("文化馆"),
			StartsAt: str(start + "T09:30"), Capacity: &zero})
		if err != nil || got.Title != "心理健康讲座" || got.Place != "文化馆" || got.Capacity != 0 || got.Kind != "public_lecture" {
			t.Fatalf("changed = %+v, %v", got, err)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'event.update' AND detail = ?`,
			"changed title, starts_at, place, capacity"); n != 1 {
			t.Errorf("%d audit entries of the change", n)
		}

		if _, err := svc.CancelEvent(as(manager), ev.ID, care.EventCancel{Reason: " "}); kind(err) != care.Invalid || fieldOf(err) != "reason" {
			t.Errorf("no reason: %v", err)
		}
		got, err = svc.CancelEvent(as(manager), ev.ID, care.EventCancel{Reason: "讲师生病"})
		if err != nil || got.CancelledAt == nil || got.CancelReason != "讲师生病" {
			t.Fatalf("cancelled = %+v, %v", got, err)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'event.cancel' AND outcome = 'allowed'`); n != 1 {
			t.Errorf("%d audit entries of the cancelling", n)
		}
		for name, err := range map[string]error{
			"again": func() error { _, err := svc.CancelEvent(as(manager), ev.ID, care.EventCancel{Reason: "x"}); return err }(),
			"change": func() error {
				_, err := svc.UpdateEvent(as(manager), ev.ID, care.EventPatch{Title: str("x")})
				return err
			}(),
			"attend": func() error {
				_, err := svc.AddAttendance(as(manager), ev.ID, care.AttendanceInput{HeadCount: 3})
				return err
			}(),
			"tick": svc.TickAttendance(as(manager), ev.ID, got.Attendance[0].ID, true),
		} {
			if kind(err) != care.Conflict {
				t.Errorf("%s after cancelling: %v", name, err)
			}
		}
		pub, err := svc.PublicEvents(as(manager), svc.Today().Time(), 10)
		if err != nil || len(pub) != 1 || !pub[0].Cancelled {
			t.Errorf("public calendar = %+v, %v", pub, err)
		}

		// Held: people were ticked present.
		held, err := svc.CreateEvent(as(manager), care.EventInput{Title: "义诊", Kind: "mental_health_week",
			StartsAt: start + "T10:00", OrgUnit: "C1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddAttendance(as(manager), held.ID, care.AttendanceInput{HeadCount: 4}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CancelEvent(as(manager), held.ID, care.EventCancel{Reason: "x"}); kind(err) != care.Conflict {
			t.Errorf("a held event cancelled: %v", err)
		}
	})
}
