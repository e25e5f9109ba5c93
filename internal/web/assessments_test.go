package web_test

import (
	"context"
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

// phq9Form is a filled-in PHQ-9 with every item 0 but item 9, which is 1:
// a total of 1 (minimal) that raises the alert of R-SCORE-PHQ9-ITEM9.
func phq9Form(date string) url.Values {
	v := url.Values{"date": {date}}
	for i := range 9 {
		v.Set("answers["+strconv.Itoa(i)+"]", "0")
	}
	v.Set("answers[8]", "1")
	return v
}

func TestAssessmentPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		psyCtx := care.WithActor(context.Background(), &care.Actor{Username: "psychiatrist", Role: auth.Psychiatrist,
			UnitCode: "D01", UnitPath: "/D01/"})

		manager := newBrowser(t, srv)
		manager.signIn("manager")
		resp, _ := manager.post("/patients", registration("李梅", "1975-02-03", nationalID("1975-02-03", 7)))
		id := idFrom(t, resp)
		base := "/patients/" + strconv.FormatInt(id, 10)
		administer := base + "/assessments/new?instrument=phq9"
		history := base + "/assessments?instrument=phq9"

		stored := func() int {
			t.Helper()
			list, _, err := svc.Assessments(psyCtx, id, care.AssessmentQuery{}, care.Page{})
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}

		t.Run("Administer", func(t *testing.T) {
			rec := manager.page(base, http.StatusOK)
			contains(t, rec, `id="assessments"`, "No assessment is recorded yet.", `href="`+base+`/assessments/new?instrument=phq9"`,
				`href="`+base+`/assessments/new?instrument=gad7"`, `href="`+base+`/assessments/new?instrument=k10"`,
				`href="`+base+`/assessments/new?instrument=sdss"`, `href="`+base+`/assessments/new?instrument=risk"`)

			form := manager.page(administer, http.StatusOK)
			contains(t, form, "Administer PHQ-9", "Over the last 2 weeks", `name="answers[0]"`, `name="answers[8]"`,
				"Thoughts that you would be better off dead", `value="3"`, "Nearly every day", `name="date"`,
				`action="`+base+`/assessments/new?instrument=phq9"`)
			noInline(t, form)
			noInline(t, manager.page(base+"/assessments/new?instrument=sdss", http.StatusOK))
			noInline(t, manager.page(base+"/assessments/new?instrument=risk", http.StatusOK))
			manager.page(base+"/assessments/new?instrument=bdi", http.StatusNotFound)

			// An item left out: the form comes back as it was, the message by the item.
			bad := phq9Form("2026-02-01")
			bad.Del("answers[3]")
			resp, body := manager.post(administer, bad)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("missing item: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, `<small id="f-answers[3]-msg" class="error">choose one</small>`,
				`name="answers[8]" value="1" checked`, `value="2026-02-01"`, "please correct the fields shown")
			// An answer the item does not offer: the service's message, by the item.
			bad = phq9Form("2026-02-01")
			bad.Set("answers[3]", "4")
			resp, body = manager.post(administer, bad)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("bad answer: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, `id="f-answers[3]-msg" class="error">(phq9_4) must be one of 0, 1, 2, 3</small>`)
			if n := stored(); n != 0 {
				t.Fatalf("refused forms stored %d assessments", n)
			}

			resp, _ = manager.post(administer, phq9Form("2026-02-01"))
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/assessments?instrument=phq9&recorded=") {
				t.Fatalf("status %d to %q, want 303 to the history", resp.StatusCode, loc)
			}
			page := manager.page(loc, http.StatusOK)
			contains(t, page, "PHQ-9 of 2026-02-01 recorded and scored.", `<strong class="score">1</strong>`, "Minimal",
				"Thoughts of death or self-harm (PHQ-9 item 9)", "the community manager and the district&#39;s psychiatrists have been alerted",
				`data-assessment-id="`, `id="score-chart" data-figures="`, "Zhang Wei 张伟")
			noInline(t, page)
			if n := stored(); n != 1 {
				t.Fatalf("%d assessments stored, want 1", n)
			}

			// A second, later response: newest first in the table.
			later := phq9Form("2026-03-01")
			for i := range 8 {
				later.Set("answers["+strconv.Itoa(i)+"]", "2")
			}
			later.Set("answers[8]", "0")
			resp, _ = manager.post(administer, later)
			expectRedirectPrefix(t, resp, base+"/assessments?instrument=phq9&recorded=")
			hist := manager.page(history, http.StatusOK)
			contains(t, hist, "Moderately severe", "2026-03-01", "2026-02-01")
			lacks(t, hist, "PHQ-9 of 2026-03-01 recorded")
			if i, j := strings.Index(hist, ">2026-03-01<"), strings.Index(hist, ">2026-02-01<"); i < 0 || j < i {
				t.Error("the history is not newest first")
			}
			// Other instruments: an empty state.
			gad := manager.page(base+"/assessments?instrument=gad7", http.StatusOK)
			contains(t, gad, "No GAD-7 response is recorded for this patient yet.")
			noInline(t, gad)

			// The record's summary shows the newest score of each instrument.
			rec = manager.page(base, http.StatusOK)
			contains(t, rec, `<dd data-instrument="phq9"><strong class="score">16</strong>`, "Moderately severe",
				`href="`+base+`/assessments?instrument=phq9"`, "1 open alert")
			// and its timeline has each response.
			contains(t, rec, `<tr class="kind-assessment">`, `<a href="`+base+`/assessments?instrument=phq9">PHQ-9</a> <strong>16</strong>`)
			noInline(t, rec)

			// In Chinese, the instrument speaks Chinese.
			zh := newBrowser(t, srv)
			zh.header.Set("Accept-Language", "zh-CN")
			zh.signIn("nurse")
			contains(t, zh.page(administer, http.StatusOK), "有不如死掉或用某种方式伤害自己的念头", "几乎每天", "进行 PHQ-9 评估")
			contains(t, zh.page(history, http.StatusOK), "中重度", "没有或极轻微", "有死亡或自伤的念头")
		})

		t.Run("CareGroup", func(t *testing.T) {
			cg := newBrowser(t, srv)
			cg.signIn("caregroup")
			rec := cg.page(base, http.StatusOK)
			contains(t, rec, "李梅")
			lacks(t, rec, `id="assessments"`, "/assessments", "PHQ-9", "open alert")
			cg.page(history, http.StatusForbidden)
			cg.page(administer, http.StatusForbidden)
			if resp, _ := cg.post(administer, phq9Form("2026-02-02")); resp.StatusCode != http.StatusForbidden {
				t.Errorf("care group administers: status %d, want 403", resp.StatusCode)
			}
			cg.page("/alerts", http.StatusForbidden)
			lacks(t, cg.page("/", http.StatusOK), `href="/alerts"`, "Open alerts")
		})

		t.Run("Alerts", func(t *testing.T) {
			open, _, err := svc.Alerts(psyCtx, care.AlertQuery{}, care.Page{})
			if err != nil || len(open) != 1 {
				t.Fatalf("open alerts: %v, %v", open, err)
			}
			alert := strconv.FormatInt(open[0].ID, 10)
			ack := "/alerts/" + alert + "/acknowledge"

			home := manager.page("/", http.StatusOK)
			contains(t, home, "Open alerts", "李梅", "Thoughts of death or self-harm (PHQ-9 item 9)", `action="`+ack+`"`,
				`data-alert-id="`+alert+`"`, `href="/alerts"`, `<span class="visually-hidden">1 open alert</span>`)
			noInline(t, home)
			psy := newBrowser(t, srv)
			psy.signIn("psychiatrist")
			contains(t, psy.page("/", http.StatusOK), "李梅", `action="`+ack+`"`)
			other := newBrowser(t, srv)
			other.signIn("manager2")
			home2 := other.page("/", http.StatusOK)
			contains(t, home2, "No open alert.")
			lacks(t, home2, "李梅", ack)
			if resp, _ := other.post(ack, url.Values{"action": {"called"}}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("another community acknowledges: status %d, want 404", resp.StatusCode)
			}
			// Roles the alerts do not reach have no alert pages.
			nurse := newBrowser(t, srv)
			nurse.signIn("nurse")
			nurse.page("/alerts", http.StatusForbidden)
			lacks(t, nurse.page("/", http.StatusOK), "Open alerts", `href="/alerts"`)

			list := manager.page("/alerts", http.StatusOK)
			contains(t, list, "李梅", `action="`+ack+`"`, `name="from" value="alerts"`)
			noInline(t, list)
			contains(t, manager.page("/alerts?patient="+strconv.FormatInt(id, 10), http.StatusOK), "李梅")

			// Without saying what was done: refused, the message by the form.
			resp, body := manager.post(ack, url.Values{"action": {"  "}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("empty acknowledgement: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "say what was done about the alert", `id="f-action-`+alert+`"`, `aria-invalid="true"`, "Open alerts")
			noInline(t, body)
			if n, _ := svc.OpenAlertCount(psyCtx); n != 1 {
				t.Fatalf("%d open alerts after a refused acknowledgement, want 1", n)
			}
			// The same from the list of alerts shows the list again.
			resp, body = manager.post(ack, url.Values{"action": {""}, "from": {"alerts"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("empty acknowledgement from the list: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "say what was done about the alert", `name="from" value="alerts"`)

			resp, _ = manager.post(ack, url.Values{"action": {"Phoned her the same day; psychiatrist visit booked."}})
			expectRedirect(t, resp, "/?acknowledged=1")
			home = manager.page("/?acknowledged=1", http.StatusOK)
			contains(t, home, "Alert acknowledged.", "No open alert.")
			lacks(t, home, `action="`+ack+`"`)
			lacks(t, psy.page("/", http.StatusOK), ack)
			done := manager.page("/alerts?state=acknowledged", http.StatusOK)
			contains(t, done, "李梅", "Phoned her the same day; psychiatrist visit booked.", "Acknowledged by Zhang Wei 张伟")
			noInline(t, done)
			// Twice: a conflict, said on the page.
			resp, body = manager.post(ack, url.Values{"action": {"again"}})
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("second acknowledgement: status %d, want 409", resp.StatusCode)
			}
			contains(t, body, "already acknowledged")
			lacks(t, manager.page(base, http.StatusOK), "open alert")
		})

		t.Run("ContactRequests", func(t *testing.T) {
			pub := care.WithRequest(context.Background(), care.RequestInfo{ClientAddr: "198.51.100.20", RequestID: "t"})
			flagged, err := svc.Screen(pub, care.ScreeningInput{Instrument: "phq9", Answers: []int{0, 0, 0, 0, 0, 0, 0, 0, 1},
				Community: "C0101"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Screen(pub, care.ScreeningInput{Instrument: "gad7", Answers: []int{3, 3, 3, 3, 3, 3, 3},
				Community: "C0102"}); err != nil {
				t.Fatal(err)
			}
			calm, err := svc.RequestContact(pub, care.ContactInput{Name: "Zhou Ping", Phone: "139 0000 1111", Community: "C0101",
				Message: "Evenings are best.", Consent: true})
			if err != nil {
				t.Fatal(err)
			}
			urgent, err := svc.RequestContact(pub, care.ContactInput{Screening: flagged.ID, Name: "Qian Yu 钱宇", Phone: "139 0000 2222",
				Community: "C0101", Consent: true})
			if err != nil {
				t.Fatal(err)
			}
			row := func(c *care.ContactRequest) string { return `data-contact-id="` + strconv.FormatInt(c.ID, 10) + `"` }

			work := manager.page("/worklist", http.StatusOK)
			contains(t, work, `href="/worklist/contacts"`, "Contact requests <small class=\"tab-count\">2</small>")
			contains(t, manager.page("/", http.StatusOK), `href="/worklist/contacts"`, "<strong>2</strong> <span>Contact requests")

			page := manager.page("/worklist/contacts", http.StatusOK)
			contains(t, page, row(calm), row(urgent), "Zhou Ping", "Qian Yu 钱宇", "139 0000 2222", "Evenings are best.",
				"Anning Community", "Urgent", "PHQ-9", "Minimal", `aria-current="page">Contact requests`,
				`action="/worklist/contacts/`+strconv.FormatInt(urgent.ID, 10)+`/outcome"`)
			if i, j := strings.Index(page, row(urgent)), strings.Index(page, row(calm)); j < i {
				t.Error("the urgent request is not first")
			}
			noInline(t, page)
			// Another community's manager does not see them.
			other := newBrowser(t, srv)
			other.signIn("manager2")
			lacks(t, other.page("/worklist/contacts", http.StatusOK), "Zhou Ping", "Qian Yu")
			// The care-and-help group has no such list.
			cg := newBrowser(t, srv)
			cg.signIn("caregroup")
			cg.page("/worklist/contacts", http.StatusForbidden)
			lacks(t, cg.page("/worklist", http.StatusOK), `href="/worklist/contacts"`)

			outcome := "/worklist/contacts/" + strconv.FormatInt(urgent.ID, 10) + "/outcome"
			resp, body := manager.post(outcome, url.Values{"outcome": {""}, "note": {"no answer yet"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("no outcome: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, `id="f-outcome-`+strconv.FormatInt(urgent.ID, 10)+`-msg" class="error">choose one`, "no answer yet")
			noInline(t, body)
			resp, body = manager.post(outcome, url.Values{"outcome": {"cured"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("unknown outcome: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "must be one of reached, registered, referred, no_need")

			resp, _ = manager.post(outcome, url.Values{"outcome": {"referred"}, "note": {"Booked at the district centre."},
				"state": {"open"}})
			expectRedirect(t, resp, "/worklist/contacts?saved=1")
			page = manager.page("/worklist/contacts?saved=1", http.StatusOK)
			contains(t, page, "Outcome recorded; the request is closed.", "Zhou Ping")
			lacks(t, page, "Qian Yu")
			closed := manager.page("/worklist/contacts?state=closed", http.StatusOK)
			contains(t, closed, "Qian Yu 钱宇", "Referred to a service", "Booked at the district centre.")
			lacks(t, closed, "Zhou Ping")
			if resp, _ = manager.post(outcome, url.Values{"outcome": {"reached"}}); resp.StatusCode != http.StatusConflict {
				t.Errorf("second outcome: status %d, want 409", resp.StatusCode)
			}
			// Registered: the outcome links the patient's record.
			calmOutcome := "/worklist/contacts/" + strconv.FormatInt(calm.ID, 10) + "/outcome"
			resp, body = manager.post(calmOutcome, url.Values{"outcome": {"registered"}, "patient_id": {"abc"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("a patient number that is not one: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "must be the number of the patient&#39;s record")
			resp, _ = manager.post(calmOutcome, url.Values{"outcome": {"registered"}, "patient_id": {strconv.FormatInt(id, 10)}})
			expectRedirect(t, resp, "/worklist/contacts?saved=1")
			contains(t, manager.page("/worklist/contacts?state=closed", http.StatusOK),
				`<a href="/patients/`+strconv.FormatInt(id, 10)+`">record `+strconv.FormatInt(id, 10)+`</a>`)

			// The figures count the screenings, anonymously, by band.
			period := "period=" + flagged.Week[:7]
			psy := newBrowser(t, srv)
			psy.signIn("psychiatrist")
			fig := psy.page("/figures?"+period, http.StatusOK)
			contains(t, fig, "Self-screenings by band", "anonymous", "PHQ-9", "GAD-7", "K10", "Minimal", "Severe")
			sect := fig[strings.Index(fig, `id="h-screenings"`):]
			contains(t, sect, `<span class="band band-0">Minimal</span></td><td class="num">1</td>`,
				`<span class="band band-4">Severe</span></td><td class="num">1</td>`)
			noInline(t, fig)
			// Of one community: only its own.
			c1 := manager.page("/figures?org_unit=C0101&"+period, http.StatusOK)
			sect = c1[strings.Index(c1, `id="h-screenings"`):]
			contains(t, sect, `<span class="band band-4">Severe</span></td><td class="num">0</td>`)
			contains(t, psy.page("/figures?period=2020-01", http.StatusOK), "No self-check was taken")
		})
	})
}

func expectRedirectPrefix(t *testing.T, resp *http.Response, prefix string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), prefix) {
		t.Fatalf("got status %d to %q, want 303 to %s…", resp.StatusCode, resp.Header.Get("Location"), prefix)
	}
}
