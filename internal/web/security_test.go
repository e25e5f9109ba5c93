package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestBreakGlassPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		resp, body := manager.post("/patients", registration("破窗者", "1980-05-17", nationalID("1980-05-17", 7)))
		id := idFrom(t, resp)
		rec := "/patients/" + strconv.FormatInt(id, 10)
		_ = body

		// Ids only in canonical form.
		for _, bad := range []string{"/patients/+" + strconv.FormatInt(id, 10), "/patients/0" + strconv.FormatInt(id, 10)} {
			manager.page(bad, http.StatusNotFound)
		}
		// Names of invisible or control characters are refused by the form too.
		form := registration("\u200b\u200b", "1981-05-17", "")
		resp, body = manager.post("/patients", form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("zero-width name: %d", resp.StatusCode)
		}

		other := newBrowser(t, srv)
		other.signIn("manager2")
		contains(t, other.page(rec, http.StatusNotFound), `href="`+rec+`/break-glass"`)
		contains(t, other.page(rec+"/break-glass", http.StatusOK), `name="reason"`, `name="note"`)
		resp, body = other.post(rec+"/break-glass", url.Values{"note": {"seen at our clinic"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "seen at our clinic") {
			t.Errorf("without a reason: %d", resp.StatusCode)
		}
		resp, _ = other.post(rec+"/break-glass", url.Values{"reason": {"emergency"}, "note": {"seen at our clinic"}})
		expectRedirect(t, resp, rec+"?glass=1")
		page := other.page(rec, http.StatusOK)
		contains(t, page, "破窗者", "glass-banner")
		if strings.Contains(page, rec+"/follow-ups/new") {
			t.Error("a follow-up button under break-the-glass")
		}

		for _, who := range []string{"psychiatrist", "district"} {
			b := newBrowser(t, srv)
			b.signIn(who)
			contains(t, b.page("/", http.StatusOK), "Break-the-glass access in your district", "Liu Yang 刘洋", "Emergency care of the patient")
		}
		contains(t, manager.page(rec, http.StatusOK), `id="break-glass"`, "Liu Yang 刘洋", rec+"/access-report")
		// Seeing the national ID in full is a line of its own in the report.
		if resp, _ := manager.post(rec+"/national-id/reveal", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("reveal: %d", resp.StatusCode)
		}
		report := manager.page(rec+"/access-report", http.StatusOK)
		contains(t, report, "Record access report", "glass-line", "Liu Yang 刘洋", "read the record", "seen at our clinic", "data-print",
			"looked at the national ID number in full")
		lacks(t, report, nationalID("1980-05-17", 7))
		// The whole report on one page, to print: the same lines, no paging.
		whole := manager.page(rec+"/access-report?all=1", http.StatusOK)
		contains(t, whole, "glass-line", "Liu Yang 刘洋", "registered the patient", "data-print")
		lacks(t, whole, "page_token=")
		other.page(rec+"/access-report?all=1", http.StatusNotFound)
		manager.header.Set("Accept-Language", "zh-CN")
		zh := manager.page(rec+"/access-report", http.StatusOK)
		contains(t, zh, "档案查阅记录", "紧急调阅", "查阅了档案", "查看了完整身份证号")
		// Every line of the Chinese report is in Chinese: no action's name
		// in English, or as its identifier.
		lacks(t, zh, "read the record", "national_id", "patient.", "break_glass")
		other.page(rec+"/access-report", http.StatusNotFound)

		admin := newBrowser(t, srv)
		admin.signIn("district")
		contains(t, admin.page("/admin/audit", http.StatusOK), "glass-flag")
	})
}

// Probe finding 1 in the form: a registration that matches a record outside
// the user's jurisdiction says only that the district must help, with no
// link to the record, by national ID and by name and birth date alike.
func TestRegistrationCollisionWeb(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		manager := newBrowser(t, srv)
		manager.signIn("manager")
		nid := nationalID("1980-05-17", 3)
		resp, _ := manager.post("/patients", registration("撞名者", "1980-05-17", nid))
		rec := "/patients/" + strconv.FormatInt(idFrom(t, resp), 10)

		other := newBrowser(t, srv)
		other.signIn("manager2")
		for _, form := range []url.Values{registration("撞名者", "1980-05-17", nid), registration("撞名者", "1980-05-17", "")} {
			form.Set("org_unit", "C0201")
			resp, body := other.post("/patients", form)
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("collision with %q: %d", form.Get("national_id"), resp.StatusCode)
			}
			contains(t, body, "registering this person needs the help of the district")
			lacks(t, body, `href="`+rec+`"`, "already on the register")
		}
		other.header.Set("Accept-Language", "zh-CN")
		form := registration("撞名者", "1980-05-17", nid)
		form.Set("org_unit", "C0201")
		_, body := other.post("/patients", form)
		contains(t, body, "登记此人需要区里协助")
		lacks(t, body, `href="`+rec+`"`)
	})
}
