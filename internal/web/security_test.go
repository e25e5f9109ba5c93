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
		report := manager.page(rec+"/access-report", http.StatusOK)
		contains(t, report, "Record access report", "glass-line", "Liu Yang 刘洋", "read the record", "seen at our clinic", "data-print")
		manager.header.Set("Accept-Language", "zh-CN")
		contains(t, manager.page(rec+"/access-report", http.StatusOK), "档案查阅记录", "紧急调阅", "查阅了档案")
		other.page(rec+"/access-report", http.StatusNotFound)

		admin := newBrowser(t, srv)
		admin.signIn("district")
		contains(t, admin.page("/admin/audit", http.StatusOK), "glass-flag")
	})
}
