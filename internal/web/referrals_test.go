package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestReferralPages walks a referral through the pages: the community
// refers up, the hospital (in Chinese) sees it and the record, declines
// without a reason and is told, accepts, completes and hands the patient
// back down; the community sees the discharge on its worklist. Then a
// crisis call is logged from a phone-sized form.
func TestReferralPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		mgrActor := &care.Actor{Username: "manager", Role: auth.CommunityManager, UnitCode: "C0101", UnitPath: "/D01/S01/C0101/"}
		pt, err := svc.RegisterPatient(care.WithActor(context.Background(), mgrActor), care.PatientInput{Name: "转诊测试", Sex: "male",
			BirthDate: "1975-02-03", OrgUnit: "C0101", RegisteredOn: time.Now().AddDate(0, -2, 0).Format("2006-01-02"), Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}})
		if err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(pt.ID, 10)
		mgr := newBrowser(t, srv)
		mgr.signIn("manager")
		contains(t, mgr.page("/patients/"+id, http.StatusOK), `href="/patients/`+id+`/referrals/new"`, `href="/crisis/new?patient=`+id+`"`)
		form := mgr.page("/patients/"+id+"/referrals/new", http.StatusOK)
		contains(t, form, "Riverside Mental Health Centre", `name="urgency" value="urgent"`, "Urgent (24 h)")
		noInline(t, form)
		resp, body := mgr.post("/patients/"+id+"/referrals", url.Values{"to_unit": {"H01"}, "reason": {"relapse"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("referral without urgency: %d", resp.StatusCode)
		}
		contains(t, body, `>relapse</textarea>`, `<small id="f-urgency-msg" class="error">choose one`)
		resp, _ = mgr.post("/patients/"+id+"/referrals", url.Values{"to_unit": {"H01"}, "urgency": {"urgent"}, "reason": {"relapse, stopped medication"}})
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/referrals/") {
			t.Fatalf("refer: %d to %q", resp.StatusCode, loc)
		}
		ref := strings.TrimSuffix(loc, "?created=1")
		contains(t, mgr.page(loc, http.StatusOK), "The referral is sent.", "Cancel the referral", "Summary of the record", "Schizophrenia")

		// The hospital, in Chinese.
		hosp := newBrowser(t, srv)
		hosp.header.Set("Accept-Language", "zh-CN")
		hosp.signIn("hospital")
		home := hosp.page("/", http.StatusOK)
		contains(t, home, "收到、待答复", `href="/referrals"`)
		inbox := hosp.page("/referrals?box=received", http.StatusOK)
		contains(t, inbox, "转诊测试", "已申请", "急（24小时）")
		lacks(t, inbox, "Requested", "Urgent")
		page := hosp.page(ref, http.StatusOK)
		contains(t, page, "接收", "拒绝", "病历摘要", "精神分裂症")
		lacks(t, page, "Accept", "Decline", "Summary")
		rec := hosp.page("/patients/"+id, http.StatusOK)
		contains(t, rec, "因患者转诊至贵机构")
		lacks(t, rec, `/follow-ups/new"`, `/emergencies/new"`, `/edit"`)
		resp, body = hosp.post(ref, url.Values{"status": {"declined"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("decline without a reason: %d", resp.StatusCode)
		}
		contains(t, body, "请说明拒绝理由")
		resp, _ = hosp.post(ref, url.Values{"status": {"accepted"}})
		expectRedirect(t, resp, ref+"?moved=accepted")
		resp, body = hosp.post(ref, url.Values{"status": {"accepted"}})
		if resp.StatusCode != http.StatusConflict {
			t.Errorf("accept twice: %d", resp.StatusCode)
		}
		contains(t, body, "该转诊已有新的变化")
		resp, _ = hosp.post(ref, url.Values{"status": {"completed"}, "outcome": {"admitted"}})
		expectRedirect(t, resp, ref+"?moved=completed")
		contains(t, hosp.page("/patients/"+id, http.StatusOK), `href="/patients/`+id+`/discharge/new"`)
		dis := hosp.page("/patients/"+id+"/discharge/new", http.StatusOK)
		contains(t, dis, "出院小结", "出院后首次随访")
		noInline(t, dis)
		resp, body = hosp.post("/patients/"+id+"/discharge", url.Values{"discharged_on": {time.Now().AddDate(0, 0, -1).Format("2006-01-02")},
			"diagnoses[0].code": {"F20.0"}, "medications[0].name": {"olanzapine"}, "medications[0].dose": {"10 mg"},
			"risk_level": {"1"}, "recommendations": {"weekly follow-up"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("discharge: %d %s", resp.StatusCode, body)
		}

		// The community sees the discharge on its worklist, due by R-DISCHARGE.
		wl := mgr.page("/worklist?kind=discharge", http.StatusOK)
		contains(t, wl, "转诊测试", "After discharge: follow up within 14 days", `title="R-DISCHARGE`)
		contains(t, mgr.page("/", http.StatusOK), "discharges to acknowledge")

		// A crisis call, logged by the care-and-help group.
		cg := newBrowser(t, srv)
		cg.signIn("caregroup")
		cf := cg.page("/crisis/new?patient="+id, http.StatusOK)
		contains(t, cf, `name="reported_by"`, `name="actions" value="police"`, `type="datetime-local"`)
		noInline(t, cf)
		resp, body = cg.post("/crisis", url.Values{"patient_id": {id}, "occurred_at": {time.Now().Add(-time.Hour).Format("2006-01-02T15:04")},
			"reported_by": {"family"}, "risk_level": {"4"}, "actions": {"home_visit", "police"}, "outcome": {"calmed"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("crisis: %d %s", resp.StatusCode, body)
		}
		contains(t, cg.page(resp.Header.Get("Location"), http.StatusOK), "The crisis event is logged.", "Emergency record")
		contains(t, mgr.page("/patients/"+id, http.StatusOK), "Crisis event", "Referred up", "Discharged down")
		// Units by name, the code in a tooltip.
		contains(t, mgr.page("/crisis", http.StatusOK), "转诊测试", "Home visit", `title="C0101">Anning Community 安宁社区<`)

		// A declined referral tells the sender: an alert on the home page.
		resp, _ = mgr.post("/patients/"+id+"/referrals", url.Values{"to_unit": {"H01"}, "urgency": {"routine"}, "reason": {"review"}})
		ref2 := strings.TrimSuffix(resp.Header.Get("Location"), "?created=1")
		resp, _ = hosp.post(ref2, url.Values{"status": {"declined"}, "note": {"no bed"}})
		expectRedirect(t, resp, ref2+"?moved=declined")
		contains(t, mgr.page("/", http.StatusOK), "Referral declined", `href="`+ref2+`"`, "Raised by Kith&#39;s rules")

		// The rules explain themselves, in both languages.
		contains(t, mgr.page("/help/rules", http.StatusOK), "R-ALERT-DUE", "R-DISCHARGE", "within 2 days of the assessment")
		contains(t, hosp.page("/help/rules", http.StatusOK), "警报：2天内随访", "出院后14天内")
	})
}
