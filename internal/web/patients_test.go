package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// nationalID builds a valid national ID number for a birth date.
func nationalID(birth string, seq int) string {
	first := "110105" + strings.ReplaceAll(birth, "-", "") + strconv.Itoa(100+seq)
	c, _ := clinical.NationalIDCheck(first)
	return first + string(c)
}

// registration is a filled-in registration form.
func registration(name, birth, nid string) url.Values {
	return url.Values{"name": {name}, "sex": {"female"}, "birth_date": {birth}, "national_id": {nid},
		"phone": {"138 0013 8000"}, "address": {"安宁路 3 号"}, "guardian.name": {"王大明"}, "guardian.relation": {"父亲"},
		"guardian.phone": {"13900139000"}, "org_unit": {"C0101"}, "status": {"managed"}, "registered_on": {"2026-01-10"},
		"consent": {"1"}, "consent_on": {"2026-01-10"}, "diagnosis_rows": {"3"},
		"diagnoses[0].code": {"schizophrenia"}, "diagnoses[0].diagnosed_on": {"2020-03-01"}, "diagnoses[0].institution": {"区精神卫生中心"},
		"diagnoses[2].icd10": {"e11.9"}}
}

// unstableVisit is a filled-in follow-up form with risk level 3: R-CLASS-UNSTABLE.
func unstableVisit(date string) url.Values {
	return url.Values{"reached": {"yes"}, "date": {date}, "mode": {"home_visit"}, "risk_level": {"3"},
		"psychotic_symptoms": {"some"}, "symptoms": {"hallucinations", "suspiciousness"}, "insight": {"partial"},
		"sleep": {"poor"}, "diet": {"fair"}, "social_function.self_care": {"fair"}, "social_function.housework": {"poor"},
		"social_function.work": {"poor"}, "social_function.learning": {"fair"}, "social_function.social_contact": {"poor"},
		"dangerous_behaviour.causing_trouble": {"2"}, "locked_up": {"no"}, "hospitalisation.status": {"no"},
		"lab_tests.done": {"no"}, "medication_adherence": {"intermittent"}, "adverse_reaction": {"none"},
		"physical_illness": {"none"}, "treatment_effect": {"worse"}, "referral.referred": {"yes"},
		"referral.reason": {"risk level 3"}, "referral.to": {"区精神卫生中心"}, "medication_rows": {"3"},
		"medications[1].name": {"risperidone"}, "medications[1].dose": {"2 mg"}, "medications[1].frequency": {"bid"},
		"rehabilitation": {"living_skills"}, "notes": {"smashed a chair at home"}}
}

// idFrom reads the patient id from a redirect to the record.
func idFrom(t *testing.T, resp *http.Response) int64 {
	t.Helper()
	m := regexp.MustCompile(`^/patients/([0-9]+)\?`).FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("status %d to %q, want 303 to a record", resp.StatusCode, resp.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

func TestPatientPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		today, _ := time.Parse(time.DateOnly, "2026-03-10")
		svc.SetClock(func() time.Time { return today.Add(12 * time.Hour) })
		psychiatrist := care.WithActor(asAdmin, &care.Actor{Username: "psychiatrist", Role: auth.Psychiatrist, UnitPath: "/D01/"})

		manager := newBrowser(t, srv)
		manager.signIn("manager")
		nid := nationalID("1980-05-17", 1)
		var id int64
		var rec string

		t.Run("Register", func(t *testing.T) {
			contains(t, manager.page("/patients", http.StatusOK), `href="/patients/new"`, "No patients are on the register yet.")
			contains(t, manager.page("/patients/new", http.StatusOK), `name="national_id"`, `name="diagnoses[2].icd10"`,
				`name="guardian.phone"`, `value="C0101"`, `<option value="schizophrenia">Schizophrenia (F20)</option>`)

			// A bad national ID: the form comes back as it was, with the message by the field.
			bad := registration("王小明", "1980-05-17", nid[:17]+"0")
			resp, body := manager.post("/patients", bad)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("bad national ID: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "is not a valid 18-character national ID number", `value="王小明"`, `value="`+nid[:17]+`0"`,
				`id="f-national_id" name="national_id"`, `aria-invalid="true"`, `<option value="schizophrenia" selected>`,
				`value="e11.9"`, `value="区精神卫生中心"`)
			if list, _, _ := svc.Patients(psychiatrist, care.PatientQuery{}, care.Page{}); len(list) != 0 {
				t.Fatalf("a refused form registered %d patients", len(list))
			}
			// In Chinese, the message is in Chinese.
			zh := newBrowser(t, srv)
			zh.header.Set("Accept-Language", "zh-CN")
			zh.signIn("nurse")
			_, body = zh.post("/patients", bad)
			contains(t, body, "不是有效的 18 位身份证号", "登记患者")

			resp, _ = manager.post("/patients", registration("王小明", "1980-05-17", nid))
			id = idFrom(t, resp)
			rec = manager.page(resp.Header.Get("Location"), http.StatusOK)
			contains(t, rec, "Patient registered. The first follow-up is due on 2026-01-24.", "王小明", clinical.MaskNationalID(nid), "Schizophrenia (F20)",
				"E11.9", "王大明 (父亲)", "13900139000", "Anning Community", "First follow-up: 2 weeks after registration",
				`href="/patients/`+strconv.FormatInt(id, 10)+`/follow-ups/new"`)
			noInline(t, rec)
			lacks(t, rec, nid)

			// The national ID in full: only by asking (a POST), audited as its own entry.
			resp, shown := manager.post("/patients/"+strconv.FormatInt(id, 10)+"/national-id/reveal", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("reveal: status %d", resp.StatusCode)
			}
			contains(t, shown, nid, "recorded in the audit log")
			entries, _, _ := svc.AuditLog(asAdmin, care.AuditQuery{Actor: "manager"}, care.Page{})
			if len(entries) == 0 || entries[0].Action != "patient.read" || len(entries) < 2 || entries[1].Action != "patient.national_id.reveal" {
				t.Errorf("reveal not audited as its own entry: %+v", entries[:min(2, len(entries))])
			}

			// The same national ID: refused, with a link to the record that has it.
			resp, body = manager.post("/patients", registration("Someone Else", "1980-05-17", nid))
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("same national ID: status %d, want 409", resp.StatusCode)
			}
			contains(t, body, "already on the register", `href="/patients/`+strconv.FormatInt(id, 10)+`"`)

			// The same name and birth date: a warning, and registered only when confirmed.
			dup := registration("王小明", "1980-05-17", "")
			resp, body = manager.post("/patients", dup)
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("possible duplicate: status %d, want 409", resp.StatusCode)
			}
			contains(t, body, "same name and birth date", `name="confirm_duplicate"`, `href="/patients/`+strconv.FormatInt(id, 10)+`"`)
			dup.Set("confirm_duplicate", "1")
			resp, _ = manager.post("/patients", dup)
			if other := idFrom(t, resp); other == id {
				t.Errorf("confirmed duplicate got the same id")
			}

			// Search: by name prefix and by national ID, masked in the list.
			list := manager.page("/patients?q=%E7%8E%8B", http.StatusOK)
			contains(t, list, "王小明", clinical.MaskNationalID(nid), `<p class="as-of">Data as of `)
			lacks(t, list, nid)
			contains(t, manager.page("/patients?q="+nid, http.StatusOK), `href="/patients/`+strconv.FormatInt(id, 10)+`"`)
			contains(t, manager.page("/patients?q=Nobody", http.StatusOK), "No patients match.")
			refused := manager.page("/patients?status=nonsense", http.StatusUnprocessableEntity)
			contains(t, refused, "must be managed, hospitalised")
			lacks(t, refused, `class="as-of`) // nothing was read
		})

		fid := ""
		t.Run("FollowUp", func(t *testing.T) {
			base := "/patients/" + strconv.FormatInt(id, 10)
			form := manager.page(base+"/follow-ups/new", http.StatusOK)
			contains(t, form, `name="risk_level" value="3"`, "Obvious smashing or hitting", `name="social_function.work"`,
				`name="dangerous_behaviour.self_harm"`, `name="medications[2].frequency"`, `name="rehabilitation"`,
				`name="next_due_reason"`, `name="reached" value="yes"`)
			noInline(t, form)

			// Missing and impossible answers come back by their fields.
			bad := unstableVisit("2026-02-30")
			bad.Del("risk_level")
			bad.Del("social_function.work")
			resp, body := manager.post(base+"/follow-ups", bad)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("bad follow-up: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "must be a real date, YYYY-MM-DD", `value="2026-02-30"`, `<small id="f-risk_level-msg" class="error">is required`,
				"choose one", `value="risperidone"`, `value="hallucinations" checked`, "smashed a chair at home")
			bad = unstableVisit("2026-03-01")
			bad.Set("medications[2].dose", "5 mg") // a row without a name
			_, body = manager.post(base+"/follow-ups", bad)
			contains(t, body, `<small id="f-medications[2].name-msg" class="error">is required`)

			// An unstable follow-up: the record confirms the rule and the next date.
			resp, _ = manager.post(base+"/follow-ups", unstableVisit("2026-03-01"))
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, base+"?recorded=") {
				t.Fatalf("follow-up: status %d to %q", resp.StatusCode, loc)
			}
			fid = strings.TrimPrefix(loc, base+"?recorded=")
			rec = manager.page(loc, http.StatusOK)
			contains(t, rec, "Follow-up of 2026-03-01 recorded.", "R-CLASS-UNSTABLE", "R-NEXT-UNSTABLE", "2026-03-15",
				"Unstable: next follow-up in 14 days", "refer to a higher-level hospital at once",
				"Obvious smashing or hitting, in any setting, aimed at property, not stopped by persuasion.",
				`data-chart="{`, `&#34;risk&#34;:[3]`, `&#34;classes&#34;:[&#34;unstable&#34;]`, `<canvas id="risk-chart"`,
				"vendor/chart-4.6.1.umd.min.js", "kith.js")
			noInline(t, rec)

			// In Chinese, the rules explain themselves in Chinese.
			zh := newBrowser(t, srv)
			zh.header.Set("Accept-Language", "zh-CN")
			zh.signIn("nurse")
			contains(t, zh.page(base, http.StatusOK), "不稳定", "2周内随访", "明显打砸行为", "精神分裂症 (F20)")

			// The follow-up in full, with the correction its author may make.
			full := manager.page(base+"/follow-ups/"+fid, http.StatusOK)
			contains(t, full, "Hallucinations, Suspiciousness", "risperidone · 2 mg · bid", "Causing trouble: 2",
				"Housework: Poor", "smashed a chair at home", "Correct this follow-up")
			lacks(t, zh.page(base+"/follow-ups/"+fid, http.StatusOK), "更正此随访") // not the nurse's
			corr := manager.page(base+"/follow-ups/"+fid+"/correct", http.StatusOK)
			contains(t, corr, `name="risk_level" value="3" checked`, `value="risperidone"`, `value="living_skills" checked`)
			fixed := unstableVisit("2026-03-01")
			fixed.Set("risk_level", "4")
			resp, _ = manager.post(base+"/follow-ups/"+fid, fixed)
			if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "recorded=") {
				t.Fatalf("correction: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			rec = manager.page(base, http.StatusOK)
			contains(t, rec, "superseded", `&#34;risk&#34;:[4]`)
			contains(t, manager.page(base+"/follow-ups/"+fid, http.StatusOK), "This version was corrected.")
			manager.page(base+"/follow-ups/"+fid+"/correct", http.StatusConflict)
			resp, body = manager.post(base+"/follow-ups/"+fid, fixed)
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("correcting a superseded version: status %d, want 409", resp.StatusCode)
			}
			contains(t, body, "this follow-up has already been corrected", "Correct the follow-up of 2026-03-01")
			if resp, _ = zh.post(base+"/follow-ups/"+fid, fixed); resp.StatusCode != http.StatusForbidden {
				t.Errorf("someone else corrects: status %d, want 403", resp.StatusCode)
			}

			// An attempt that did not reach the patient keeps the due date.
			contains(t, manager.page(base+"/follow-ups/new?reached=no", http.StatusOK), `name="not_reached_reason"`, `name="reached" value="no"`)
			resp, _ = manager.post(base+"/follow-ups", url.Values{"reached": {"no"}, "date": {"2026-03-05"}, "mode": {"phone"},
				"not_reached_reason": {"working_away"}})
			rec = manager.page(resp.Header.Get("Location"), http.StatusOK)
			contains(t, rec, "Attempt of 2026-03-05 recorded: not reached (Working away).", "The next follow-up stays due on 2026-03-15.")
			// The timeline says why, in the page's language and punctuation.
			contains(t, rec, "not reached: Working away")
			zhRec := zh.page(base, http.StatusOK)
			contains(t, zhRec, "未访到：")
			lacks(t, zhRec, "未访到:", "not reached")

			// No page has inline script or style, which the CSP forbids.
			for _, p := range []string{"/", "/patients", "/patients/new", "/worklist", base + "/edit", base + "/status",
				base + "/transfer", base + "/emergencies/new", base + "/follow-ups/" + fid, base + "/follow-ups/new?reached=no"} {
				noInline(t, manager.page(p, http.StatusOK))
			}
		})

		t.Run("Worklist", func(t *testing.T) {
			due := manager.page("/worklist?kind=due&as_of=2026-03-10", http.StatusOK)
			contains(t, due, `aria-current="page">Due in 7 days`, "王小明", "2026-03-15", "Unstable: follow up within 2 weeks", `title="R-NEXT-UNSTABLE`, `href="tel:13900139000"`,
				`href="/patients/`+strconv.FormatInt(id, 10)+`/follow-ups/new?worklist=due"`)
			noInline(t, due)
			// The confirmed duplicate, never followed up, is overdue since 2026-01-24.
			overdue := manager.page("/worklist?as_of=2026-03-10", http.StatusOK)
			contains(t, overdue, `aria-current="page">Overdue`, "2026-01-24", ">45 days<", "Never reached")
			contains(t, manager.page("/worklist?kind=lost&as_of=2026-03-10", http.StatusOK), "No patient is lost to follow-up.")
			contains(t, manager.page("/worklist?kind=below_min&as_of=2026-03-10", http.StatusOK), "王小明")
			contains(t, manager.page("/worklist?kind=due&as_of=2026-02-30", http.StatusUnprocessableEntity), "must be a real date")
			manager.page("/worklist?kind=someday", http.StatusUnprocessableEntity)
			contains(t, manager.page("/", http.StatusOK), `href="/worklist?kind=due"`, "<strong>1</strong> <span>Due in 7 days")

			// Another community's manager sees neither the patient nor their record.
			other := newBrowser(t, srv)
			other.signIn("manager2")
			lacks(t, other.page("/worklist?kind=due&as_of=2026-03-10", http.StatusOK), "王小明")
			contains(t, other.page("/patients/"+strconv.FormatInt(id, 10), http.StatusNotFound), "Not found")
			other.page("/patients/"+strconv.FormatInt(id, 10)+"/follow-ups/new", http.StatusNotFound)
			resp, _ := other.post("/patients/"+strconv.FormatInt(id, 10)+"/follow-ups", unstableVisit("2026-03-02"))
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("other community records a follow-up: status %d, want 404", resp.StatusCode)
			}
			// Administrators see no clinical pages.
			admin := newBrowser(t, srv)
			admin.signIn("admin")
			admin.page("/patients", http.StatusForbidden)
			admin.page("/worklist", http.StatusForbidden)
			lacks(t, admin.page("/", http.StatusOK), `href="/worklist"`, `href="/patients"`)
		})

		t.Run("CareGroup", func(t *testing.T) {
			cg := newBrowser(t, srv)
			cg.signIn("caregroup")
			base := "/patients/" + strconv.FormatInt(id, 10)
			page := cg.page(base, http.StatusOK)
			contains(t, page, "王小明", "13900139000", "2026-03-15", `class="risk risk-4"`, `data-chart="{`,
				`href="`+base+`/emergencies/new"`)
			lacks(t, page, "Schizophrenia", "schizophrenia", "F20", "E11.9", "精神分裂症", "Diagnoses", "R-CLASS", `class="class class-`,
				"risperidone", "smashed a chair", nid, "Record follow-up", `href="`+base+`/edit"`)
			full := cg.page(base+"/follow-ups/"+fid, http.StatusOK)
			lacks(t, full, "risperidone", "Hallucinations", "smashed a chair", "R-CLASS", `class="class class-`)
			lacks(t, cg.page("/patients", http.StatusOK), `name="diagnosis"`, `href="/patients/new"`)
			cg.page(base+"/follow-ups/new", http.StatusForbidden)
			cg.page(base+"/edit", http.StatusForbidden)
			noInline(t, page)
		})

		t.Run("Emergency", func(t *testing.T) {
			cg := newBrowser(t, srv)
			cg.signIn("caregroup")
			base := "/patients/" + strconv.FormatInt(id, 10)
			contains(t, cg.page(base+"/emergencies/new", http.StatusOK), `name="triggers" value="risk_3_plus"`, `type="datetime-local"`)
			resp, body := cg.post(base+"/emergencies", url.Values{"occurred_at": {"2026-03-09T22:15"}, "place": {"home"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("emergency without a trigger: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "at least one trigger is required", `value="home"`)
			resp, _ = cg.post(base+"/emergencies", url.Values{"occurred_at": {"2026-03-09T22:15"}, "place": {"home"},
				"triggers": {"endangering_others"}, "attendees": {"police", "family"}, "measures": {"persuasion"}})
			rec := cg.page(resp.Header.Get("Location"), http.StatusOK)
			contains(t, rec, "Emergency handling recorded. Follow the patient up by 2026-03-23.", "until a psychiatrist completes it",
				"Endangering others or public safety", `class="tag open"`)
			lacks(t, rec, "Complete the record")

			psy := newBrowser(t, srv)
			psy.signIn("psychiatrist")
			rec = psy.page(base, http.StatusOK)
			m := regexp.MustCompile(`action="(` + base + `/emergencies/[0-9]+/complete)"`).FindStringSubmatch(rec)
			if m == nil {
				t.Fatalf("no Complete button for the psychiatrist")
			}
			resp, _ = psy.post(m[1], nil)
			expectRedirect(t, resp, base+"?completed=1")
			rec = psy.page(base+"?completed=1", http.StatusOK)
			contains(t, rec, "The emergency record is complete.")
			lacks(t, rec, `class="tag open"`)
		})

		t.Run("EditStatusTransfer", func(t *testing.T) {
			base := "/patients/" + strconv.FormatInt(id, 10)
			edit := manager.page(base+"/edit", http.StatusOK)
			contains(t, edit, `value="王小明"`, clinical.MaskNationalID(nid), `<option value="schizophrenia" selected>`, `value="E11.9"`)
			lacks(t, edit, nid)
			form := registration("王小明", "1980-05-17", nid)
			form.Set("phone", "call me")
			resp, body := manager.post(base, form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("bad phone: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "must be a phone number")
			form.Set("phone", "13700137000")
			form.Set("diagnoses[1].code", "bipolar")
			resp, _ = manager.post(base, form)
			expectRedirect(t, resp, base+"?saved=1")
			contains(t, manager.page(base+"?saved=1", http.StatusOK), "Changes saved.", "13700137000", "Bipolar disorder (F31)")

			contains(t, manager.page(base+"/status", http.StatusOK), `<option value="managed" selected>`)
			resp, _ = manager.post(base+"/status", url.Values{"status": {"hospitalised"}, "status_on": {"2026-03-08"},
				"status_reason": {"admitted to the district hospital"}})
			expectRedirect(t, resp, base+"?saved=status")
			contains(t, manager.page(base+"?saved=status", http.StatusOK), "Status saved: In hospital.",
				"admitted to the district hospital")

			resp, body = manager.post(base+"/transfer", url.Values{"org_unit": {"C0101"}, "date": {"2026-03-09"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("transfer to its own community: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "the patient already belongs to this community")
			// A nurse of the street moves the patient within it and still sees them.
			nurse := newBrowser(t, srv)
			nurse.signIn("nurse")
			resp, _ = nurse.post(base+"/transfer", url.Values{"org_unit": {"C0102"}, "date": {"2026-03-09"}, "reason": {"moved house"}})
			expectRedirect(t, resp, base+"?saved=transfer")
			contains(t, nurse.page(base+"?saved=transfer", http.StatusOK), "The patient now belongs to Heping Community", "C0101 → C0102")
			// The community manager has lost sight of them.
			manager.page(base, http.StatusNotFound)
		})

		t.Run("Pagination", func(t *testing.T) {
			for i := range care.DefaultLimit + 1 {
				if _, err := svc.RegisterPatient(psychiatrist, care.PatientInput{Name: "Page " + strconv.Itoa(100+i), Sex: "male",
					BirthDate: "1970-01-01", OrgUnit: "C0103", RegisteredOn: "2026-03-01", ConfirmDuplicate: true}); err != nil {
					t.Fatal(err)
				}
			}
			psy := newBrowser(t, srv)
			psy.signIn("psychiatrist")
			for _, start := range []string{"/patients?q=Page", "/worklist?kind=due&as_of=2026-03-10&org_unit=C0103"} {
				nextLink := regexp.MustCompile(`href="(/[a-z]+\?[^"]*page_token=[^"]+)" rel="next"`)
				seen := map[string]bool{}
				pages := 0
				for next := start; next != "" && pages < 5; pages++ {
					body := psy.page(next, http.StatusOK)
					for _, m := range regexp.MustCompile(`>(Page [0-9]+)</a>`).FindAllStringSubmatch(body, -1) {
						if seen[m[1]] {
							t.Errorf("%s: %s on two pages", start, m[1])
						}
						seen[m[1]] = true
					}
					next = ""
					if m := nextLink.FindStringSubmatch(body); m != nil {
						next = strings.ReplaceAll(m[1], "&amp;", "&")
					}
				}
				if pages != 2 || len(seen) != care.DefaultLimit+1 {
					t.Errorf("%s: %d patients on %d pages, want %d on 2", start, len(seen), pages, care.DefaultLimit+1)
				}
			}
		})

		t.Run("Static", func(t *testing.T) {
			b := newBrowser(t, srv)
			for _, p := range []string{"/static/kith.js", "/static/vendor/chart-4.6.1.umd.min.js"} {
				resp, body := b.get(p)
				if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") ||
					!strings.Contains(body, "Chart") {
					t.Errorf("%s: status %d, type %q", p, resp.StatusCode, resp.Header.Get("Content-Type"))
				}
			}
		})
	})
}
