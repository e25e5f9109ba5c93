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

func patientURL(id int64) string { return "/patients/" + strconv.FormatInt(id, 10) }

// stableVisit is a filled-in follow-up form of a stable patient (risk 0,
// no symptoms), on risperidone.
func stableVisit(date string) url.Values {
	return url.Values{"reached": {"yes"}, "date": {date}, "mode": {"home_visit"}, "risk_level": {"0"},
		"psychotic_symptoms": {"none"}, "insight": {"complete"}, "sleep": {"good"}, "diet": {"good"},
		"social_function.self_care": {"good"}, "social_function.housework": {"good"}, "social_function.work": {"fair"},
		"social_function.learning": {"good"}, "social_function.social_contact": {"good"}, "locked_up": {"no"},
		"medication_adherence": {"regular"}, "adverse_reaction": {"none"}, "physical_illness": {"none"},
		"treatment_effect": {"improved"}, "medication_rows": {"3"}, "medications[0].name": {"risperidone"},
		"medications[0].dose": {"2 mg"}, "medications[0].frequency": {"bid"}, "rehabilitation": {"living_skills"},
		"notes": {"calm"}}
}

// TestFollowUpDay: the follow-up form starts from the last reached
// follow-up with the rarely changing sections folded; its error summary
// links to the fields; "save and next patient" goes on to the next patient
// of the worklist, and to the worklist after the last.
func TestFollowUpDay(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		today, _ := time.Parse(time.DateOnly, "2026-03-10")
		svc.SetClock(func() time.Time { return today.Add(12 * time.Hour) })
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		var ids []int64
		for i, name := range []string{"甲一", "乙二"} {
			reg := registration(name, "1980-05-17", nationalID("1980-05-17", 20+i))
			reg.Set("registered_on", "2025-06-01")
			resp, _ := manager.post("/patients", reg)
			id := idFrom(t, resp)
			ids = append(ids, id)
			// Stable on 2025-12-01: due three months later, overdue now.
			if resp, body := manager.post(patientURL(id)+"/follow-ups", stableVisit("2025-12-01")); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("follow-up of %s: status %d\n%s", name, resp.StatusCode, body)
			}
		}
		first, second := patientURL(ids[0]), patientURL(ids[1])

		form := manager.page(first+"/follow-ups/new", http.StatusOK)
		contains(t, form, "Filled in from the follow-up of 2025-12-01", `data-last="{`, `name="risk_level" value="0" checked`,
			`value="risperidone"`, `value="2 mg"`, `value="living_skills" checked`, `name="insight" value="complete" checked`,
			`list="drugs"`, `<datalist id="drugs">`, `<option value="olanzapine">`, `<details class="section" id="s-social">`,
			`<details class="section" id="s-risk" open>`, `name="then" value="next"`, "Save and next patient", "kith-record.js")
		lacks(t, form, `value="calm"`) // the notes are about one visit
		noInline(t, form)

		// The error summary links each message to its field.
		bad := stableVisit("2026-03-10")
		bad.Del("risk_level")
		bad.Set("medications[1].dose", "5 mg")
		resp, body := manager.post(first+"/follow-ups", bad)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad follow-up: status %d", resp.StatusCode)
		}
		contains(t, body, `<a href="#f-risk_level">`, `<a href="#f-medications%5b1%5d.name">Medication: is required</a>`,
			`id="f-risk_level"`, `<details class="section" id="s-risk" open>`, `data-last="{`)

		// Save and next: the next patient on the overdue worklist.
		next := stableVisit("2026-03-10")
		next.Set("then", "next")
		next.Set("worklist", "overdue")
		resp, _ = manager.post(first+"/follow-ups", next)
		expectRedirect(t, resp, second+"/follow-ups/new?worklist=overdue&after="+strconv.FormatInt(ids[0], 10))
		contains(t, manager.page(resp.Header.Get("Location"), http.StatusOK), "The previous patient&#39;s follow-up is saved.",
			`name="worklist" value="overdue"`, "乙二")
		resp, _ = manager.post(second+"/follow-ups", next)
		expectRedirect(t, resp, "/worklist?kind=overdue")

		// The record's header: age, medication, risk, next due.
		rec := manager.page(first, http.StatusOK)
		contains(t, rec, `class="record-header"`, " years · Female", "Current medication", "risperidone 2 mg bid")
	})
}

// TestRegisterFromContact: "Register this resident" fills the registration
// from a contact request, and saving closes the request with the patient.
func TestRegisterFromContact(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		pub := care.WithRequest(context.Background(), care.RequestInfo{ClientAddr: "198.51.100.30", RequestID: "t"})
		c, err := svc.RequestContact(pub, care.ContactInput{Name: "周平", Phone: "139 0000 1111", Community: "C0101", Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		link := "/patients/new?contact=" + strconv.FormatInt(c.ID, 10)
		contains(t, manager.page("/worklist/contacts", http.StatusOK), `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`, "Register this resident")
		form := manager.page(link, http.StatusOK)
		contains(t, form, `value="周平"`, `value="139 0000 1111"`, `<option value="C0101" selected>`,
			`name="contact_request" value="`+strconv.FormatInt(c.ID, 10)+`"`)

		reg := registration("周平", "", nationalID("1975-08-09", 1))
		reg.Del("sex") // both from the national ID
		reg.Set("contact_request", strconv.FormatInt(c.ID, 10))
		resp, _ := manager.post("/patients", reg)
		id := idFrom(t, resp)
		psychiatrist := care.WithActor(asAdmin, &care.Actor{Username: "psychiatrist", Role: auth.Psychiatrist, UnitPath: "/D01/"})
		pt, err := svc.Patient(psychiatrist, id)
		if err != nil || pt.BirthDate != "1975-08-09" || pt.Sex != "male" {
			t.Errorf("registered %+v, %v", pt, err)
		}
		closed, _, err := svc.ContactRequests(psychiatrist, care.ContactQuery{State: "closed"}, care.Page{})
		if err != nil || len(closed) != 1 || closed[0].Outcome != "registered" || closed[0].PatientID == nil || *closed[0].PatientID != id {
			t.Errorf("closed requests = %+v, %v", closed, err)
		}
		// A request already closed cannot be registered again.
		reg.Set("national_id", nationalID("1975-08-09", 3))
		reg.Set("name", "周平平")
		if resp, _ := manager.post("/patients", reg); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("registering from a closed request: status %d", resp.StatusCode)
		}
	})
}

// TestPatientSearchPage: the search box finds by pinyin initials, phone
// and the national ID's last four.
func TestPatientSearchPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		nid := nationalID("1980-05-17", 5)
		resp, _ := manager.post("/patients", registration("张三", "1980-05-17", nid))
		href := `href="` + patientURL(idFrom(t, resp)) + `"`
		for _, q := range []string{"zs", "13800138000", nid[14:]} {
			contains(t, manager.page("/patients?q="+url.QueryEscape(q), http.StatusOK), href)
		}
		contains(t, manager.page("/patients?q=zz", http.StatusOK), "No patients match.")
	})
}
