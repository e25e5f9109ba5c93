package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestServicesWeb(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		b := newBrowser(t, srv)
		b.signIn("district")

		// The list: the demo network as cards, phones as tel: links.
		body := b.page("/services", http.StatusOK)
		contains(t, body, `class="striped compact cards services"`, `href="tel:01055550100"`, "Add a service",
			"Riverside Psychological Counselling Room")
		// The units served, by name; the code in a tooltip.
		if !strings.Contains(body, `<span title="C0101">Anning Community 安宁社区</span>`) || strings.Contains(body, "<code>C0101</code>") {
			t.Error("the units served are not named")
		}
		body = b.page("/services?kind=partner_organisation", http.StatusOK)
		contains(t, body, "Disabled Persons", "Contact: Qian Jun")
		if strings.Contains(body, "Counselling Room") {
			t.Error("the kind filter let another kind through")
		}

		// A form with mistakes comes back with its messages; nothing is saved.
		before, _, _ := svc.Providers(asAdmin, care.ProviderQuery{}, care.Page{Limit: care.MaxLimit})
		resp, body := b.post("/services", url.Values{"name": {"新服务"}, "kind": {"partner_organisation"}, "phone": {"call me"},
			"capacity": {"12"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad form: %d", resp.StatusCode)
		}
		contains(t, body, "must be a phone number", "is required for volunteers and partner organisations",
			"name at least one org unit it serves")
		after, _, _ := svc.Providers(asAdmin, care.ProviderQuery{}, care.Page{Limit: care.MaxLimit})
		if len(after) != len(before) {
			t.Errorf("a refused form saved a service")
		}

		// A good one, then its page, then removal after confirmation.
		resp, _ = b.post("/services", url.Values{"name": {"和平社区心理服务站"}, "name_en": {"Heping wellbeing point"},
			"kind": {"counselling_room"}, "phone": {"010-5555-0177"}, "serves": {"C0102"}, "capacity": {""}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d", resp.StatusCode)
		}
		where := resp.Header.Get("Location")
		id := strings.TrimSuffix(strings.TrimPrefix(where, "/services/"), "?saved=1")
		body = b.page(where, http.StatusOK)
		contains(t, body, "Heping wellbeing point", `href="tel:01055550177"`, "Saved.")
		resp, body = b.post("/services/"+id+"/delete", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("delete asks: %d", resp.StatusCode)
		}
		contains(t, body, "Yes, remove it", `name="confirm" value="1"`)
		if _, err := svc.Provider(asAdmin, mustID(t, id)); err != nil {
			t.Fatalf("the first press removed the service: %v", err)
		}
		resp, _ = b.post("/services/"+id+"/delete", url.Values{"confirm": {"1"}})
		expectRedirect(t, resp, "/services?deleted=1")
		if _, err := svc.Provider(asAdmin, mustID(t, id)); care.ErrorKind(err) != care.NotFound {
			t.Errorf("after confirmation: %v", err)
		}

		// The audit log says these changes in words.
		body = b.page("/admin/audit?kind=service", http.StatusOK)
		contains(t, body, "Service network")
		if strings.Contains(body, ">service.create<") || strings.Contains(body, ">service.delete<") {
			t.Error("the audit log shows the service's actions by their identifiers")
		}

		// A community manager reads the network but may not edit it.
		m := newBrowser(t, srv)
		m.signIn("manager")
		body = m.page("/services", http.StatusOK)
		if strings.Contains(body, "Add a service") {
			t.Error("a manager is offered to add a service")
		}
		if resp, _ := m.post("/services", url.Values{"name": {"x"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("manager posts a service: %d", resp.StatusCode)
		}
	})
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, ok := care.ParseID(s)
	if !ok {
		t.Fatalf("not an id: %q", s)
	}
	return id
}

func TestPublicServicesPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		b := newBrowser(t, srv)
		b.header.Set("Accept-Language", "zh-CN")

		body := b.page("/public/services", http.StatusOK)
		contains(t, body, "查找身边的帮助", `name="community"`)
		// A resident of Anning: the community's station first, then the
		// street's centre and volunteers, then the district's.
		body = b.page("/public/services?community=C0101", http.StatusOK)
		contains(t, body, `<h2 class="near">服务Anning Community 安宁社区</h2>`, `<h2 class="near">服务Riverside District 河畔区全域</h2>`, "安宁社区卫生服务站", `href="tel:01055550111"`, "清河街道心理志愿者服务队", "区精神卫生中心门诊")
		if strings.Index(body, "安宁社区卫生服务站") > strings.Index(body, "区精神卫生中心门诊") {
			t.Error("the district's services come before the community's")
		}
		// No English of the page's own on the Chinese page (the demo's
		// names of places are in both languages).
		for _, en := range []string{"Serving", "Find help", "Contact:", "Hospital", "Community health centre", "Volunteer group"} {
			if strings.Contains(body, en) {
				t.Errorf("English on the Chinese directory: %q", en)
			}
		}
		contains(t, body, "联系人：Sun Li 孙丽", "志愿者团队")
		// The same list as JSON, in English.
		req, _ := http.NewRequest("GET", srv.URL+"/public/services?community=C0101", nil)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Accept-Language", "en")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			Items []care.PublicService `json:"items"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("json: %d %v", resp.StatusCode, err)
		}
		if len(got.Items) < 3 || got.Items[0].Name != "Anning Community Health Station" || got.Items[0].Near != "C0101" {
			t.Errorf("json items: %+v", got.Items)
		}
		req, _ = http.NewRequest("GET", srv.URL+"/public/services?community=NOPE", nil)
		req.Header.Set("Accept", "application/json")
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnprocessableEntity ||
			resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("unknown community as JSON: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		// An unknown community is said so.
		if resp, _ := b.get("/public/services?community=NOPE"); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("unknown community: %d", resp.StatusCode)
		}
	})
}

func TestArticlesWeb(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		b := newBrowser(t, srv)
		b.signIn("manager")

		body := b.page("/articles", http.StatusOK)
		contains(t, body, "Write an article", `href="/articles"`)
		md := "## Rest\n\nSleep well.\n\n<script>alert('x')</script>\n\n[bad](javascript:alert(1))"

		// Preview saves nothing and shows the text rendered, without the script.
		resp, body := b.post("/articles", url.Values{"title": {"Rest and recovery"}, "lang": {"en"}, "body_markdown": {md},
			"action": {"preview"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("preview: %d", resp.StatusCode)
		}
		contains(t, body, "<h2>Rest</h2>", "Preview")
		if strings.Contains(body, "<script>alert") || strings.Contains(body, `href="javascript:`) {
			t.Error("the preview lets the script through")
		}
		if _, got := b.get("/public/articles/rest-and-recovery"); !strings.Contains(got, "Page not found") && !strings.Contains(got, "not found") {
			t.Error("a preview was saved")
		}

		// A mistake comes back with its message.
		resp, body = b.post("/articles", url.Values{"title": {""}, "lang": {"en"}, "body_markdown": {md}, "action": {"save"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty title: %d", resp.StatusCode)
		}
		contains(t, body, "is required")

		// Save as published: the public site shows it, rendered safely.
		resp, _ = b.post("/articles", url.Values{"title": {"Rest and recovery"}, "lang": {"en"}, "body_markdown": {md},
			"published": {"1"}, "action": {"save"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d", resp.StatusCode)
		}
		where := resp.Header.Get("Location")
		contains(t, b.page(where, http.StatusOK), "Saved.", "/public/articles/rest-and-recovery")

		r := newBrowser(t, srv)
		r.header.Set("Accept-Language", "en")
		contains(t, r.page("/public/articles", http.StatusOK), `href="/public/articles/rest-and-recovery"`, "Rest and recovery")
		body = r.page("/public/articles/rest-and-recovery", http.StatusOK)
		contains(t, body, "<h2>Rest</h2>", "Sleep well.")
		for _, bad := range []string{"<script>alert", `href="javascript:`} {
			if strings.Contains(body, bad) {
				t.Errorf("the public article holds %q", bad)
			}
		}
		// A Chinese visitor's list holds the Chinese articles only.
		z := newBrowser(t, srv)
		z.header.Set("Accept-Language", "zh-CN")
		if body := z.page("/public/articles", http.StatusOK); strings.Contains(body, "Rest and recovery") {
			t.Error("an English article on the Chinese list")
		}

		// Withdraw it: gone from the public site.
		id := strings.TrimSuffix(strings.TrimPrefix(where, "/articles/"), "?saved=1")
		resp, _ = b.post("/articles/"+id, url.Values{"title": {"Rest and recovery"}, "lang": {"en"}, "body_markdown": {md}, "action": {"save"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("withdraw: %d", resp.StatusCode)
		}
		if resp, _ := r.get("/public/articles/rest-and-recovery"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("withdrawn article: %d", resp.StatusCode)
		}

		// A nurse has no editor right.
		n := newBrowser(t, srv)
		n.signIn("nurse")
		if resp, _ := n.get("/articles"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("nurse opens the articles: %d", resp.StatusCode)
		}
	})
}
