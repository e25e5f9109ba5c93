package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kith/internal/directory"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// publicPage gets a page of the public site, checks its status, that it
// sets no cookie, that it passes the CSP checks and is in the public
// layout, and returns its body.
func publicPage(t *testing.T, b *browser, path string, want int) string {
	t.Helper()
	resp, body := b.get(path)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: status %d, want %d\n%s", path, resp.StatusCode, want, body)
	}
	publicChecks(t, resp, body)
	return body
}

// publicPost posts a form to the public site and checks the response as
// publicPage does.
func publicPost(t *testing.T, b *browser, path string, form url.Values, want int) string {
	t.Helper()
	resp, body := b.post(path, form)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: status %d, want %d\n%s", path, resp.StatusCode, want, body)
	}
	publicChecks(t, resp, body)
	return body
}

func publicChecks(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	for _, c := range resp.Cookies() {
		t.Errorf("%s sets cookie %s", resp.Request.URL.Path, c.Name)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("%s: no CSP", resp.Request.URL.Path)
	}
	noInline(t, body)
	contains(t, body, `href="/login"`, `action="/lang"`, `class="hotline-strip"`)
	lacks(t, body, `class="menu"`, `action="/logout"`)
}

// answers is a screening form with every item of an instrument answered v,
// with overrides by item ID.
func answers(items []string, v int, set map[string]int) url.Values {
	f := url.Values{}
	for _, id := range items {
		n := v
		if s, ok := set[id]; ok {
			n = s
		}
		f.Set(id, strconv.Itoa(n))
	}
	return f
}

func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPublic(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		svc.SetDirectory(directory.Demo())
		phq9 := svc.Instruments().Latest("phq9")
		var phq9Items []string
		for _, it := range phq9.Items {
			phq9Items = append(phq9Items, it.ID)
		}

		t.Run("Home", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.header.Set("Accept-Language", "en")
			body := publicPage(t, b, "/public/", http.StatusOK)
			contains(t, body, `<html lang="en">`, "Community mental health service", "Staff sign-in", "How to reach us",
				"12356", `href="tel:12356"`, "National psychological assistance hotline",
				`href="/public/screening/phq9"`, `href="/public/screening/gad7"`, `href="/public/screening/k10"`,
				`<optgroup label="Qinghe Street 清河街道">`, `<option value="C0101">Anning Community 安宁社区</option>`,
				`href="/public/contact"`)
			lacks(t, body, "/public/screening/sdss", "/public/screening/risk")

			// The nearest service of a community chosen.
			body = publicPage(t, b, "/public/?community=C0101", http.StatusOK)
			contains(t, body, "Anning Community Health Station", "010-5555-0111", `value="C0101" selected`)
			// An unknown community shows none and no error.
			lacks(t, publicPage(t, b, "/public/?community=nope", http.StatusOK), "Nearest service for")

			b.header.Set("Accept-Language", "zh-CN,zh;q=0.9")
			body = publicPage(t, b, "/public/", http.StatusOK)
			contains(t, body, `<html lang="zh-Hans">`, "社区精神卫生服务", "工作人员登录", "全国统一心理援助热线", "心理自评")

			// The language switch remembers the choice and goes back.
			resp, _ := b.post("/lang", url.Values{"lang": {"en"}, "return": {"/public/"}})
			expectRedirect(t, resp, "/public/")
			for _, c := range resp.Cookies() {
				if c.Name != "kith_lang" {
					t.Errorf("the language switch sets cookie %s", c.Name)
				}
			}
			contains(t, publicPage(t, b, "/public/", http.StatusOK), `<html lang="en">`, "Community mental health service")

			// /public without the slash leads to the home page.
			resp, _ = b.get("/public")
			if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/public/" {
				t.Errorf("/public: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})

		t.Run("Forms", func(t *testing.T) {
			b := newBrowser(t, srv)
			public := svc.Instruments().Public()
			if len(public) != 3 {
				t.Fatalf("%d public instruments, want PHQ-9, GAD-7 and K10", len(public))
			}
			for _, d := range public {
				for _, lang := range []string{"en", "zh-Hans"} {
					b.header.Set("Accept-Language", lang)
					body := publicPage(t, b, "/public/screening/"+d.ID, http.StatusOK)
					contains(t, body, html.EscapeString(d.Title.In(lang)), html.EscapeString(d.Prompt.In(lang)),
						`action="/public/screening/`+d.ID+`"`, `name="community"`, `src="/static/public.js?v=`)
					for _, it := range d.Items {
						contains(t, body, html.EscapeString(it.Text.In(lang)))
						for _, o := range d.OptionsOf(it) {
							contains(t, body, `name="`+it.ID+`" value="`+strconv.Itoa(o.Value)+`"`)
						}
					}
					contains(t, body, html.EscapeString(d.OptionsOf(d.Items[0])[0].Text.In(lang)))
					if n := strings.Count(body, `<fieldset class="item`); n != len(d.Items) {
						t.Errorf("%s: %d items shown, want %d", d.ID, n, len(d.Items))
					}
				}
			}
			b.header.Set("Accept-Language", "en")
			for _, path := range []string{"/public/screening/sdss", "/public/screening/risk", "/public/screening/nope", "/public/nope"} {
				contains(t, publicPage(t, b, path, http.StatusNotFound), "Page not found")
			}
			// Staff instruments cannot be posted either.
			publicPost(t, b, "/public/screening/sdss", url.Values{}, http.StatusNotFound)
		})

		t.Run("Crisis", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.header.Set("Accept-Language", "en")
			before := count(t, db, `SELECT COUNT(*) FROM screenings`)
			body := publicPost(t, b, "/public/screening/phq9", answers(phq9Items, 1, map[string]int{"phq9_9": 1}), http.StatusOK)
			crisis, header, result := strings.Index(body, `id="crisis"`), strings.Index(body, "<header"), strings.Index(body, `id="result"`)
			if crisis < 0 || crisis > header || crisis > result {
				t.Fatalf("the crisis box (at %d) is not above the header (%d) and the result (%d)\n%s", crisis, header, result, body)
			}
			box := body[crisis:header]
			contains(t, box, "12356", "400-161-9995", "Please talk to someone now", "Thoughts of death or self-harm")
			contains(t, body, "Your PHQ-9 result", ">9</strong>", "out of 27", "Mild", "What to do next",
				`action="/public/contact"`, `name="consent"`, `name="screening" value="`)
			if n := count(t, db, `SELECT COUNT(*) FROM screenings`); n != before+1 {
				t.Errorf("%d screenings stored, want %d", n, before+1)
			}
			// The screening keeps no community when none was chosen.
			if n := count(t, db, `SELECT COUNT(*) FROM screenings WHERE unit_id IS NULL AND score = 9 AND flags = ?`, "suicide_risk"); n != 1 {
				t.Errorf("%d anonymous screenings with the flag, want 1", n)
			}

			// Item 9 at 0: no crisis box.
			body = publicPost(t, b, "/public/screening/phq9", answers(phq9Items, 0, nil), http.StatusOK)
			lacks(t, body, `id="crisis"`)
			contains(t, body, "Minimal", "12356")

			// In Chinese: the texts of the definition.
			b.header.Set("Accept-Language", "zh-CN")
			body = publicPost(t, b, "/public/screening/phq9", answers(phq9Items, 3, nil), http.StatusOK)
			contains(t, body, `id="crisis"`, "请现在就找人谈一谈", "重度", html.EscapeString(phq9.Bands[4].Advice.ZH), "满分 27")
		})

		t.Run("Missing", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.header.Set("Accept-Language", "en")
			before := count(t, db, `SELECT COUNT(*) FROM screenings`)
			f := answers(phq9Items, 2, nil)
			f.Del("phq9_3")
			body := publicPost(t, b, "/public/screening/phq9", f, http.StatusUnprocessableEntity)
			contains(t, body, "Please answer every question", `<fieldset class="item unanswered" id="item-phq9_3"`,
				`id="msg-phq9_3" class="error">Please choose one answer.`,
				`name="phq9_1" value="2" checked`, `name="phq9_9" value="2" checked`)
			lacks(t, body, `id="crisis"`, `id="result"`)
			// A value no option has is refused alike.
			f = answers(phq9Items, 0, map[string]int{"phq9_2": 7})
			body = publicPost(t, b, "/public/screening/phq9", f, http.StatusUnprocessableEntity)
			contains(t, body, `id="msg-phq9_2" class="error"`)
			if n := count(t, db, `SELECT COUNT(*) FROM screenings`); n != before {
				t.Errorf("%d screenings stored, want %d: a form with a missing answer stored one", n, before)
			}
		})

		t.Run("Community", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.header.Set("Accept-Language", "en")
			f := answers([]string{"gad7_1", "gad7_2", "gad7_3", "gad7_4", "gad7_5", "gad7_6", "gad7_7"}, 2, nil)
			f.Set("community", "C0101")
			body := publicPost(t, b, "/public/screening/gad7", f, http.StatusOK)
			contains(t, body, "Nearest service for Anning Community 安宁社区", "Anning Community Health Station", "010-5555-0111",
				"Moderate", `value="C0101" selected`)
			if n := count(t, db, `SELECT COUNT(*) FROM screenings s JOIN org_units u ON u.id = s.unit_id
				WHERE u.code = 'C0101' AND s.instrument = 'gad7' AND s.score = 14`); n != 1 {
				t.Errorf("%d GAD-7 screenings of C0101 with score 14, want 1", n)
			}
			// A street is not a community: the form again, nothing stored.
			before := count(t, db, `SELECT COUNT(*) FROM screenings`)
			f.Set("community", "S01")
			body = publicPost(t, b, "/public/screening/gad7", f, http.StatusUnprocessableEntity)
			contains(t, body, "Please choose the community you live in from the list.", `name="gad7_1" value="2" checked`)
			if n := count(t, db, `SELECT COUNT(*) FROM screenings`); n != before {
				t.Errorf("%d screenings stored, want %d", n, before)
			}
		})

		t.Run("Contact", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.header.Set("Accept-Language", "en")
			body := publicPost(t, b, "/public/screening/phq9", answers(phq9Items, 1, nil), http.StatusOK)
			i := strings.Index(body, `name="screening" value="`)
			if i < 0 {
				t.Fatal("no screening id in the contact form")
			}
			id := body[i+len(`name="screening" value="`):]
			id = id[:strings.IndexByte(id, '"')]
			const name = "Resident Lin 林女士"
			f := url.Values{"screening": {id}, "name": {name}, "phone": {"138 0000 1234"}, "community": {"C0101"},
				"message": {"Afternoons, please."}}
			body = publicPost(t, b, "/public/contact", f, http.StatusUnprocessableEntity)
			contains(t, body, "Please tick the box to agree", `value="Resident Lin 林女士"`, `value="138 0000 1234"`,
				`value="C0101" selected`, "Afternoons, please.", `name="screening" value="`+id+`"`)
			if n := count(t, db, `SELECT COUNT(*) FROM contact_requests WHERE name = ?`, name); n != 0 {
				t.Fatalf("%d contact requests stored without consent", n)
			}
			f.Set("consent", "yes")
			body = publicPost(t, b, "/public/contact", f, http.StatusOK)
			contains(t, body, "Thank you", "Anning Community 安宁社区", "138 0000 1234", "Anning Community Health Station")
			if n := count(t, db, `SELECT COUNT(*) FROM contact_requests c JOIN org_units u ON u.id = c.unit_id
				WHERE c.name = ? AND u.code = 'C0101' AND c.screening_id = ?`, name, id); n != 1 {
				t.Errorf("%d contact requests stored, want 1", n)
			}

			// The form on its own, in Chinese, with the community chosen.
			b.header.Set("Accept-Language", "zh-CN")
			contains(t, publicPage(t, b, "/public/contact?community=C0102", http.StatusOK), "申请社区工作人员与您联系",
				`value="C0102" selected`, `name="consent"`)
		})

		t.Run("NoSession", func(t *testing.T) {
			// Signed in or with an ended session, the public pages neither
			// read nor touch the session.
			b := newBrowser(t, srv)
			b.signIn("manager")
			publicPage(t, b, "/public/", http.StatusOK)
			stale := newBrowser(t, srv)
			stale.header.Set("Cookie", "kith_session=ended")
			publicPage(t, stale, "/public/screening/k10", http.StatusOK)
		})

		t.Run("TooMany", func(t *testing.T) {
			// Run last: it uses up this client address's contact requests.
			b := newBrowser(t, srv)
			b.header.Set("Accept-Language", "en")
			f := url.Values{"name": {"Someone"}, "phone": {"123"}, "community": {"C0101"}}
			for range 10 {
				resp, body := b.post("/public/contact", f)
				if resp.StatusCode == http.StatusTooManyRequests {
					publicChecks(t, resp, body)
					contains(t, body, "Please wait a moment", "12356")
					if resp.Header.Get("Retry-After") == "" {
						t.Error("no Retry-After")
					}
					return
				}
			}
			t.Error("never asked to wait")
		})
	})
}
