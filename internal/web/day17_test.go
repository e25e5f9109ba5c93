package web_test

import (
	"net/http"
	"strings"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestDayPagesSayNoCodes: the rules' help page speaks the page's language
// only; a worklist with no one overdue has no blank days-overdue column
// and names its communities; the audit log names the accounts it concerns.
func TestDayPagesSayNoCodes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		mgr := newBrowser(t, srv)
		mgr.signIn("manager")
		mgr.header.Set("Accept-Language", "zh-CN")
		help := mgr.page("/help/rules", http.StatusOK)
		contains(t, help, "稳定：3个月后随访", `title="R-NEXT-STABLE"`)
		lacks(t, help, "Stable: next follow-up in 3 months", "First follow-up:")

		for _, kind := range []string{"overdue", "due", "alert", "discharge"} {
			page := mgr.page("/worklist?kind="+kind, http.StatusOK)
			if strings.Contains(page, "逾期天数") != strings.Contains(page, `class="overdue"`) {
				t.Errorf("%s: the days-overdue column is there only if someone is overdue", kind)
			}
			if strings.Contains(page, `table class="striped compact worklist cards"`) {
				contains(t, page, "安宁社区")
				lacks(t, page, "<code>C0101</code>")
			}
		}

		mgr.header.Set("Accept-Language", "en")
		contains(t, mgr.page("/help/rules", http.StatusOK), "Stable: next follow-up in 3 months")
		lacks(t, mgr.page("/help/rules", http.StatusOK), "稳定：3个月后随访。")

		admin := newBrowser(t, srv)
		admin.signIn("district")
		admin.header.Set("Accept-Language", "zh-CN")
		log := admin.page("/admin/audit", http.StatusOK)
		contains(t, log, "账号 Zhang Wei 张伟", "工作清单 逾期", `title="C0101">Anning Community 安宁社区<`)
		lacks(t, log, "<code>manager</code>", "<code>overdue</code>", "<code>C0101</code>")
	})
}
