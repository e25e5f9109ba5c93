package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestFamilyPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		resp, _ := manager.post("/patients", registration("王小明", "1980-05-17", nationalID("1980-05-17", 1)))
		id := idFrom(t, resp)
		rec := "/patients/" + strconv.FormatInt(id, 10)

		// The guardian of the registration is the guardian family member.
		contains(t, manager.page(rec, http.StatusOK), `id="family"`, "王大明", `href="tel:13900139000"`, rec+"/family/new")
		contains(t, manager.page(rec+"/family/new", http.StatusOK), `name="is_guardian"`, `name="lives_with"`)

		// A second guardian: the form comes back with the message, 409.
		resp, body := manager.post(rec+"/family", url.Values{"name": {"王小红"}, "relation": {"姐姐"}, "is_guardian": {"1"}})
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("second guardian: %d", resp.StatusCode)
		}
		contains(t, body, "the patient already has a guardian", `value="王小红"`)

		resp, _ = manager.post(rec+"/family", url.Values{"name": {"王小红"}, "relation": {"姐姐"}, "phone": {"13700137000"}, "lives_with": {"1"}})
		expectRedirect(t, resp, rec+"?saved=family#family")
		page := manager.page(rec+"?saved=family", http.StatusOK)
		contains(t, page, "The family is saved.", "王小红", `href="tel:13700137000"`)

		// The care-and-help group sees the guardian, not the sister.
		group := newBrowser(t, srv)
		group.signIn("caregroup")
		page = group.page(rec, http.StatusOK)
		contains(t, page, "王大明")
		lacks(t, page, "王小红", "/family/new")

		// Chinese page: no English.
		manager.header.Set("Accept-Language", "zh-CN")
		contains(t, manager.page(rec, http.StatusOK), "家庭成员", "监护人")
	})
}

func TestEventPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		resp, _ := manager.post("/patients", registration("王小明", "1980-05-17", nationalID("1980-05-17", 1)))
		idFrom(t, resp)

		cal := manager.page("/events", http.StatusOK)
		contains(t, cal, `class="calendar"`, "No events this month.", `href="/events/new"`)
		contains(t, manager.page("/events/new", http.StatusOK), `name="starts_at"`, `type="datetime-local"`, `<option value="caregiver_education">`)

		// Bad input: the form comes back with the message.
		resp, body := manager.post("/events", url.Values{"title": {""}, "kind": {"caregiver_education"}, "starts_at": {"2026-05-20T14:00"}, "org_unit": {"C0101"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("no title: %d", resp.StatusCode)
		}
		contains(t, body, "is required")

		month := svc.Today().Time().Format("2006-01")
		start := svc.Today().String() + "T14:00"
		resp, _ = manager.post("/events", url.Values{"title": {"照护者培训"}, "kind": {"caregiver_education"}, "starts_at": {start},
			"place": {"社区活动室"}, "org_unit": {"C0101"}, "capacity": {"20"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d", resp.StatusCode)
		}
		ev := resp.Header.Get("Location")
		ev = ev[:len(ev)-len("?created=1")]
		contains(t, manager.page("/events?month="+month, http.StatusOK), "照护者培训", `href="`+ev+`"`)

		// Find the patient's family, put the guardian on the sheet, tick them.
		page := manager.page(ev+"?find=王小明", http.StatusOK)
		contains(t, page, "王大明", `name="family_member_id"`)
		fid := regexpFind(t, page, `name="family_member_id" value="([0-9]+)"`)
		resp, _ = manager.post(ev+"/attendance", url.Values{"family_member_id": {fid}})
		expectRedirect(t, resp, ev+"?added=1#sheet")
		page = manager.page(ev, http.StatusOK)
		contains(t, page, "Tick present", "王大明", "1 of 20 taken", "0 present")
		aid := regexpFind(t, page, `action="`+ev+`/attendance/([0-9]+)"`)
		resp, _ = manager.post(ev+"/attendance/"+aid, url.Values{"present": {"1"}})
		expectRedirect(t, resp, ev+"#a"+aid)
		contains(t, manager.page(ev, http.StatusOK), "1 present", `class="present"`)

		// Staff go on the sheet by name: the form suggests the district's.
		contains(t, page, `list="colleagues"`, `<option value="Li Na 李娜（`)
		resp, body = manager.post(ev+"/attendance", url.Values{"username": {"Nobody 无名"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("unknown colleague: %d", resp.StatusCode)
		}
		contains(t, body, "no colleague has this name")
		resp, _ = manager.post(ev+"/attendance", url.Values{"username": {"Li Na 李娜"}})
		expectRedirect(t, resp, ev+"?added=1#sheet")
		contains(t, manager.page(ev, http.StatusOK), "Li Na 李娜", "2 of 20 taken")

		// The organiser changes it: the form holds what it is now.
		contains(t, manager.page(ev, http.StatusOK), `href="`+ev+`/edit"`, `href="`+ev+`/cancel"`)
		edit := manager.page(ev+"/edit", http.StatusOK)
		contains(t, edit, `value="照护者培训"`, `value="`+start+`"`, `value="社区活动室"`, `value="20"`)
		resp, body = manager.post(ev+"/edit", url.Values{"title": {"照护者培训"}, "starts_at": {start}, "place": {"社区活动室"},
			"capacity": {"1"}, "notes": {""}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("capacity below the list: %d", resp.StatusCode)
		}
		contains(t, body, "is below the 2 people already on the list")
		resp, _ = manager.post(ev+"/edit", url.Values{"title": {"照护者培训（一）"}, "starts_at": {start}, "place": {"活动中心"},
			"capacity": {"30"}, "notes": {"请带上服药记录"}})
		expectRedirect(t, resp, ev+"?changed=1")
		contains(t, manager.page(ev+"?changed=1", http.StatusOK), "The event is changed.", "照护者培训（一）", "活动中心", "2 of 30 taken")
		// It took place (someone was ticked): it is not called off.
		resp, body = manager.post(ev+"/cancel", url.Values{"reason": {"下雨"}})
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("a held event called off: %d", resp.StatusCode)
		}
		contains(t, body, "people were ticked present: the event took place")

		// Another is called off, asked first, with the reason.
		resp, _ = manager.post("/events", url.Values{"title": {"家属互助会"}, "kind": {"public_lecture"}, "starts_at": {start},
			"org_unit": {"C0101"}})
		off := strings.TrimSuffix(resp.Header.Get("Location"), "?created=1")
		contains(t, manager.page(off+"/cancel", http.StatusOK), "Call off “家属互助会”", "Keep the event", `name="reason"`)
		resp, body = manager.post(off+"/cancel", url.Values{"reason": {" "}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("no reason: %d", resp.StatusCode)
		}
		contains(t, body, "is required")
		resp, _ = manager.post(off+"/cancel", url.Values{"reason": {"讲师生病，改期另行通知"}})
		expectRedirect(t, resp, off+"?cancelled=1")
		page = manager.page(off, http.StatusOK)
		contains(t, page, "Called off on", "讲师生病，改期另行通知")
		lacks(t, page, `href="`+off+`/edit"`, `action="`+off+`/attendance"`)
		contains(t, manager.page("/events?month="+month, http.StatusOK), "<s>家属互助会</s>")
		contains(t, newBrowser(t, srv).page("/public/events", http.StatusOK), "<s>家属互助会</s>", "Cancelled")
		zh := newBrowser(t, srv)
		zh.header.Set("Accept-Language", "zh-CN")
		contains(t, zh.page("/public/events", http.StatusOK), "已取消")

		// A caregroup member sees the event, cannot tick.
		group := newBrowser(t, srv)
		group.signIn("caregroup")
		lacks(t, group.page(ev, http.StatusOK), "Tick present", "events.")

		// The system administrator, who has no unit, sees every calendar.
		admin := newBrowser(t, srv)
		admin.signIn("admin")
		contains(t, admin.page("/events?month="+month, http.StatusOK), "照护者培训")

		// The public calendar shows public events only.
		if _, err := svc.CreateEvent(asDistrict, care.EventInput{Title: "世界精神卫生日讲座", Kind: "public_lecture",
			StartsAt: svc.Today().AddDays(3).String() + "T09:30", Place: "区文化馆", OrgUnit: "D01", Capacity: 200}); err != nil {
			t.Fatal(err)
		}
		pub := newBrowser(t, srv)
		body = pub.page("/public/events", http.StatusOK)
		contains(t, body, "世界精神卫生日讲座", "区文化馆")
		lacks(t, body, "照护者培训")
		pub.header.Set("Accept-Language", "zh-CN")
		contains(t, pub.page("/public/events", http.StatusOK), "活动日历", "公众讲座")
	})
}

var asDistrict = care.WithActor(context.Background(), &care.Actor{Username: "district", Role: auth.DistrictAdmin, UnitCode: "D01", UnitPath: "/D01/"})

func regexpFind(t *testing.T, body, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no match for %s", re)
	}
	return m[1]
}

func TestTrainingPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		district := newBrowser(t, srv)
		district.signIn("district")
		page := district.page("/training", http.StatusOK)
		contains(t, page, "20.00 hours", "No course yet.", "Zhang Wei 张伟", `title="C0101">Anning Community 安宁社区<`)

		resp, body := district.post("/training/courses", url.Values{"title": {"危机评估"}, "topic": {"crisis_assessment"}, "hours": {"x"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad hours: %d", resp.StatusCode)
		}
		contains(t, body, "must be a number")
		resp, _ = district.post("/training/courses", url.Values{"title": {"危机评估"}, "topic": {"crisis_assessment"}, "hours": {"21"},
			"competencies": {"风险评估、危机干预"}})
		expectRedirect(t, resp, "/training?created=1")
		courses, err := svc.Courses(asDistrict)
		if err != nil || len(courses) != 1 || len(courses[0].Competencies) != 2 {
			t.Fatalf("courses = %+v, %v", courses, err)
		}
		// A session of it; the manager attends and reaches the target.
		ev, err := svc.CreateEvent(asDistrict, care.EventInput{Title: "危机评估（第一期）", Kind: "training", CourseID: courses[0].ID,
			StartsAt: svc.Today().String() + "T09:00", OrgUnit: "D01"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddAttendance(asDistrict, ev.ID, care.AttendanceInput{Username: "manager"}); err != nil {
			t.Fatal(err)
		}
		page = district.page("/training?below=1", http.StatusOK)
		contains(t, page, "Li Na 李娜")
		lacks(t, page, "Zhang Wei 张伟")
		contains(t, district.page("/training/people/manager", http.StatusOK), "21 h", "风险评估", "危机评估（第一期）")

		// A manager sees their own training, not the page of the district.
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		contains(t, manager.page("/training/people/manager", http.StatusOK), "21 h")
		manager.page("/training", http.StatusForbidden)
		manager.page("/training/people/nurse", http.StatusNotFound)
	})
}

func TestSubsidyPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		year := svc.Today().Time().Year() - 1
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		reg := registration("王小明", "1980-05-17", nationalID("1980-05-17", 1))
		reg.Set("registered_on", strconv.Itoa(year-1)+"-03-01")
		reg.Set("consent_on", strconv.Itoa(year-1)+"-03-01")
		resp, _ := manager.post("/patients", reg)
		id := strconv.FormatInt(idFrom(t, resp), 10)

		contains(t, manager.page("/subsidies", http.StatusOK), "No subsidy on the ledger for this year.", `action="/subsidies"`)
		resp, body := manager.post("/subsidies", url.Values{"patient_id": {id}, "year": {strconv.Itoa(year)}, "amount": {"abc"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad amount: %d", resp.StatusCode)
		}
		contains(t, body, "must be a number")
		resp, _ = manager.post("/subsidies", url.Values{"patient_id": {id}, "year": {strconv.Itoa(year)}, "amount": {"600"}})
		expectRedirect(t, resp, "/subsidies?saved=1&year="+strconv.Itoa(year))
		page := manager.page("/subsidies?year="+strconv.Itoa(year), http.StatusOK)
		contains(t, page, "王大明", "¥600.00", "Eligible", `value="reviewed"`)
		sid := regexpFind(t, page, `action="/subsidies/([0-9]+)"`)
		resp, _ = manager.post("/subsidies/"+sid, url.Values{"status": {"reviewed"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("review: %d", resp.StatusCode)
		}

		district := newBrowser(t, srv)
		district.signIn("district")
		page = district.page("/subsidies?year="+strconv.Itoa(year), http.StatusOK)
		contains(t, page, "Reviewed", `value="approved"`)
		// Refusing needs a reason: the form comes back with the message.
		resp, body = district.post("/subsidies/"+sid, url.Values{"status": {"refused"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("refuse without reason: %d", resp.StatusCode)
		}
		contains(t, body, "a refusal needs a reason")
		district.post("/subsidies/"+sid, url.Values{"status": {"approved"}})
		district.post("/subsidies/"+sid, url.Values{"status": {"paid"}})
		contains(t, district.page("/subsidies?year="+strconv.Itoa(year), http.StatusOK), "Paid", "¥600.00")

		resp, csv := district.get("/subsidies/export?year=" + strconv.Itoa(year) + "&format=csv")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		contains(t, csv, "Guardian", "王大明", "王小明", "600", "Paid")

		group := newBrowser(t, srv)
		group.signIn("caregroup")
		group.page("/subsidies", http.StatusForbidden)
	})
}

func TestCommunityFigurePages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		if _, err := svc.CreateEvent(asDistrict, care.EventInput{Title: "讲座", Kind: "public_lecture",
			StartsAt: svc.Today().String() + "T09:30", OrgUnit: "S01"}); err != nil {
			t.Fatal(err)
		}
		district := newBrowser(t, srv)
		district.signIn("district")
		contains(t, district.page("/figures", http.StatusOK), `href="/figures/community?org_unit=D01"`)
		page := district.page("/figures/community", http.StatusOK)
		contains(t, page, "Education events", "Staff reaching the training target", "Qinghe Street 清河街道", `href="/events?unit=S01&amp;month=`)
		resp, body := district.get("/figures/community?period=soon")
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad period: %d", resp.StatusCode)
		}
		contains(t, body, "must be a month")
		district.header.Set("Accept-Language", "zh-CN")
		contains(t, district.page("/figures/community?org_unit=S01", http.StatusOK), "社区工作指标", "宣教活动")
	})
}
