package web_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/secrets"
	"kith/internal/server"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

const testKey = "a2l0aC13ZWItdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE="

// start serves the whole of Kith over a fresh database holding the demo
// district, as a browser would reach it.
func start(t *testing.T, db *store.DB) (*httptest.Server, *care.Service) {
	t.Helper()
	keys, err := secrets.Load(testKey, "")
	if err != nil {
		t.Fatal(err)
	}
	svc := care.New(db, keys)
	if _, err := demo.Seed(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	// These tests are about the pages, not the second factor, which
	// TestTwoFactorWeb and the browser tests cover with the default roles.
	svc.SetTOTPRoles(nil)
	srv := httptest.NewServer(server.New(svc, server.Options{}))
	t.Cleanup(srv.Close)
	t.Cleanup(svc.Drain) // before the database closes
	return srv, svc
}

// asAdmin is a context acting as the demo administrator, for checking what
// the service holds.
var asAdmin = care.WithActor(context.Background(), &care.Actor{Username: "admin", Role: auth.Admin})

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so that tests see each one.
type browser struct {
	t      *testing.T
	base   string
	c      *http.Client
	header http.Header // sent with every request, such as Accept-Language
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: t, base: srv.URL, c: c, header: http.Header{}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	for k, v := range b.header {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// page gets path and checks that it answers with status want.
func (b *browser) page(path string, want int) string {
	b.t.Helper()
	resp, body := b.get(path)
	if resp.StatusCode != want {
		b.t.Fatalf("GET %s: status %d, want %d\n%s", path, resp.StatusCode, want, body)
	}
	return body
}

// signIn signs in with the demo password and checks the redirect home.
func (b *browser) signIn(username string) {
	b.t.Helper()
	resp, body := b.post("/login", url.Values{"username": {username}, "password": {demo.Password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		b.t.Fatalf("sign in as %s: status %d, location %q\n%s", username, resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

func expectRedirect(t *testing.T, resp *http.Response, want string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Fatalf("got status %d to %q, want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

func contains(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
	}
}

func lacks(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("page shows %q", u)
		}
	}
}

// noInline checks that a page has no inline script or style, which the
// CSP forbids: a page that had them would break in the browser.
func noInline(t *testing.T, body string) {
	t.Helper()
	for _, bad := range []string{"<style", " style=", "javascript:"} {
		if strings.Contains(body, bad) {
			t.Errorf("page has %q", bad)
		}
	}
	if m := regexp.MustCompile(`\son[a-z]+=`).FindString(body); m != "" {
		t.Errorf("page has an inline event handler %q", m)
	}
	for _, m := range regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script: %s", m[0])
		}
	}
}

func cookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestWeb(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)

		t.Run("SignIn", func(t *testing.T) {
			b := newBrowser(t, srv)
			contains(t, b.page("/login", http.StatusOK), `<html lang="en">`, `name="username"`, `name="password"`)
			resp, _ := b.post("/login", url.Values{"username": {"admin"}, "password": {demo.Password}})
			expectRedirect(t, resp, "/")
			c := cookie(resp, "kith_session")
			switch {
			case c == nil || c.Value == "":
				t.Fatal("no session cookie")
			case !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 0 || !c.Expires.IsZero():
				t.Errorf("session cookie %s: want HttpOnly, SameSite=Lax, Path=/, no Max-Age or Expires", c)
			case c.Secure:
				t.Error("session cookie is Secure over plain HTTP")
			}
			home := b.page("/", http.StatusOK)
			contains(t, home, "Welcome, System Administrator", "System administrator", `action="/logout"`,
				`href="/admin/units"`, `href="/admin/users"`, `href="/admin/audit"`)
			// Signed in, the sign-in page sends the user on.
			resp, _ = b.get("/login?next=/admin/users")
			expectRedirect(t, resp, "/admin/users")
		})

		t.Run("SignInReturnsToPage", func(t *testing.T) {
			b := newBrowser(t, srv)
			resp, _ := b.get("/admin/users?unit=S01")
			expectRedirect(t, resp, "/login?next=%2Fadmin%2Fusers%3Funit%3DS01")
			contains(t, b.page("/login?next=%2Fadmin%2Fusers%3Funit%3DS01", http.StatusOK),
				`name="next" value="/admin/users?unit=S01"`)
			resp, _ = b.post("/login", url.Values{"username": {"district"}, "password": {demo.Password},
				"next": {"/admin/users?unit=S01"}})
			expectRedirect(t, resp, "/admin/users?unit=S01")
		})

		t.Run("SignInRefusesOtherSites", func(t *testing.T) {
			for _, next := range []string{"//evil.example/", "https://evil.example/", `/\evil.example`, "javascript:alert(1)"} {
				b := newBrowser(t, srv)
				resp, _ := b.post("/login", url.Values{"username": {"therapist"}, "password": {demo.Password}, "next": {next}})
				expectRedirect(t, resp, "/")
			}
		})

		t.Run("SignInFailure", func(t *testing.T) {
			for _, username := range []string{"nurse", "nobody-here"} {
				b := newBrowser(t, srv)
				resp, body := b.post("/login", url.Values{"username": {username}, "password": {"not-the-password"}})
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401", username, resp.StatusCode)
				}
				contains(t, body, "Wrong username or password.", `value="`+username+`"`)
				lacks(t, body, "not-the-password")
				if c := cookie(resp, "kith_session"); c != nil && c.Value != "" {
					t.Errorf("%s: a failed sign-in set a session cookie", username)
				}
			}
			b := newBrowser(t, srv)
			resp, body := b.post("/login", url.Values{"username": {""}, "password": {""}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("empty form: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "is required")
		})

		t.Run("SignInLockout", func(t *testing.T) {
			b := newBrowser(t, srv)
			var resp *http.Response
			var body string
			for range 6 {
				resp, body = b.post("/login", url.Values{"username": {"manager2"}, "password": {"wrong-password"}})
			}
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("status %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			contains(t, body, "Too many failed sign-ins", "Try again in")
		})

		t.Run("RedirectWhenSignedOut", func(t *testing.T) {
			b := newBrowser(t, srv)
			resp, _ := b.get("/")
			expectRedirect(t, resp, "/login")
			resp, _ = b.get("/admin/users")
			expectRedirect(t, resp, "/login?next=%2Fadmin%2Fusers")
			// A session the server no longer knows counts as none.
			u, _ := url.Parse(srv.URL)
			b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "kith_session", Value: "made-up"}})
			resp, _ = b.get("/account")
			expectRedirect(t, resp, "/login?next=%2Faccount")
		})

		t.Run("ChineseFromBrowser", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")
			login := b.page("/login", http.StatusOK)
			contains(t, login, `<html lang="zh-Hans">`, "<h1>登录</h1>", "用户名", "密码")
			lacks(t, login, "Sign in")
			b.signIn("district")
			home := b.page("/", http.StatusOK)
			contains(t, home, "周敏", "区级管理员", "组织单位", "审计日志", "退出登录")
			b.header.Set("Accept-Language", "en-GB,en;q=0.9")
			contains(t, b.page("/", http.StatusOK), `<html lang="en">`, "District administrator")
		})

		t.Run("LanguageSwitch", func(t *testing.T) {
			b := newBrowser(t, srv)
			// Signed out, the switch is remembered in a cookie.
			resp, _ := b.post("/lang", url.Values{"lang": {"zh-Hans"}, "return": {"/login"}})
			expectRedirect(t, resp, "/login")
			contains(t, b.page("/login", http.StatusOK), `<html lang="zh-Hans">`, "<h1>登录</h1>")
			resp, _ = b.post("/lang", url.Values{"lang": {"en"}, "return": {"https://evil.example/"}})
			expectRedirect(t, resp, "/")

			// Signed in, it is saved as the user's setting too.
			b.signIn("psychiatrist")
			resp, _ = b.post("/lang", url.Values{"lang": {"zh-Hans"}, "return": {"/account"}})
			expectRedirect(t, resp, "/account")
			contains(t, b.page("/account", http.StatusOK), `<html lang="zh-Hans">`, "我的账户", "精神科医生")
			if u, err := svc.User(asAdmin, "psychiatrist"); err != nil || u.Language != "zh-Hans" {
				t.Fatalf("psychiatrist's language setting: %v, %v; want zh-Hans", u, err)
			}
			// The setting wins over the browser's wishes, on another browser too.
			other := newBrowser(t, srv)
			other.header.Set("Accept-Language", "en")
			other.signIn("psychiatrist")
			contains(t, other.page("/", http.StatusOK), `<html lang="zh-Hans">`)

			resp, _ = b.post("/lang", url.Values{"lang": {"en"}, "return": {"/"}})
			expectRedirect(t, resp, "/")
			contains(t, b.page("/", http.StatusOK), `<html lang="en">`, "Welcome, Dr Chen Hua")
			// "Follow the browser" clears the setting.
			resp, _ = b.post("/lang", url.Values{"lang": {""}, "return": {"/account?saved=language"}})
			expectRedirect(t, resp, "/account?saved=language")
			if u, _ := svc.User(asAdmin, "psychiatrist"); u.Language != "" {
				t.Errorf("language setting %q after choosing the browser's", u.Language)
			}
			resp, _ = b.post("/lang", url.Values{"lang": {"fr"}, "return": {"/"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("unknown language: status %d, want 422", resp.StatusCode)
			}
		})

		t.Run("AdminPages", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.signIn("admin")
			units := b.page("/admin/units", http.StatusOK)
			contains(t, units, "D01", "Riverside District", "S01", "C0101", "C0303", "Community / village", "24,500")
			if i, j := strings.Index(units, ">S02<"), strings.Index(units, ">C0201<"); i < 0 || j < i {
				t.Error("units are not in tree order")
			}
			contains(t, b.page("/admin/units/S01", http.StatusOK), "Qinghe Street", `value="D01"`, "/D01/S01/")
			users := b.page("/admin/users", http.StatusOK)
			contains(t, users, ">manager<", ">manager2<", ">caregroup<", "Community mental health manager", "C0101")
			inS01 := b.page("/admin/users?unit=S01", http.StatusOK)
			contains(t, inS01, ">nurse<", ">social<", ">manager<")
			lacks(t, inS01, ">psychiatrist<", ">manager2<")
			contains(t, b.page("/admin/users/manager", http.StatusOK), "Zhang Wei", `value="C0101"`)
			contains(t, b.page("/admin/audit", http.StatusOK), "unit.create", "user.create", "auth.login", "Allowed")
			contains(t, b.page("/admin/audit?subject_id=C0101", http.StatusOK), "unit.create")
			// In Chinese: actions in words, people by name, filters by kind
			// and changes only, allowed values named in Chinese.
			zh := newBrowser(t, srv)
			zh.signIn("admin")
			zh.post("/lang", url.Values{"lang": {"zh-Hans"}, "return": {"/account"}})
			changes := zh.page("/admin/audit?changes=1", http.StatusOK)
			contains(t, changes, "新建机构", "新建账号", `title="unit.create"`)
			lacks(t, changes, ">unit.create<", ">auth.login<", "查阅审计日志")
			unitLog := zh.page("/admin/audit?kind=unit", http.StatusOK)
			contains(t, unitLog, "新建机构")
			lacks(t, unitLog, "新建账号")
			contains(t, zh.page("/admin/audit?kind=nope", http.StatusUnprocessableEntity), "须为以下之一：患者、随访")
			zh.post("/lang", url.Values{"lang": {"en"}, "return": {"/account"}}) // the setting is the account's
			bad := b.page("/admin/audit?from=2026-02-30", http.StatusUnprocessableEntity)
			contains(t, bad, "must be a date, YYYY-MM-DD", `value="2026-02-30"`)
			b.page("/admin/units/NOPE", http.StatusNotFound)
			b.page("/admin/users/nobody-here", http.StatusNotFound)
		})

		t.Run("Pagination", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.signIn("admin")
			// Each reading of the log is logged: make more than a page.
			for range care.DefaultLimit {
				b.page("/admin/audit?actor=nobody", http.StatusOK)
			}
			nextLink := regexp.MustCompile(`href="(/admin/audit\?page_token=[^"]+)" rel="next"`)
			pages, rows := 0, 0
			for next := "/admin/audit"; next != "" && pages < 10; pages++ {
				body := b.page(next, http.StatusOK)
				rows += strings.Count(body, "<tr>") - 1 // less the header row
				next = ""
				if m := nextLink.FindStringSubmatch(body); m != nil {
					next = strings.ReplaceAll(m[1], "&amp;", "&")
				}
			}
			if pages < 2 || rows <= care.DefaultLimit {
				t.Errorf("%d rows on %d pages; want more than %d rows over several pages", rows, pages, care.DefaultLimit)
			}
		})

		t.Run("CreateUnit", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.signIn("admin")
			before, _, err := svc.Units(asAdmin, "", care.Page{Limit: care.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			resp, body := b.post("/admin/units", url.Values{"code": {"bad code!"}, "name": {"Willow Community"},
				"level": {"community"}, "parent_code": {"S01"}, "population": {"1200"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("bad code: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "must be 1–32 letters, digits, - or _", `value="bad code!"`, `value="Willow Community"`,
				`value="1200"`, `aria-invalid="true"`, "<details class=\"newform\" open>")

			resp, body = b.post("/admin/units", url.Values{"code": {"C0104"}, "name": {"Willow Community"},
				"level": {"community"}, "parent_code": {"S01"}, "population": {"lots"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("bad population: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "must be a whole number", `value="lots"`)

			resp, body = b.post("/admin/units", url.Values{"code": {"S01"}, "name": {"Again"}, "level": {"street"},
				"parent_code": {"D01"}})
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("duplicate code: status %d, want 409", resp.StatusCode)
			}
			contains(t, body, "an org unit with this code already exists")

			after, _, _ := svc.Units(asAdmin, "", care.Page{Limit: care.MaxLimit})
			if len(after) != len(before) {
				t.Fatalf("refused forms wrote units: %d before, %d after", len(before), len(after))
			}

			// The same mistake in Chinese gets the message in Chinese.
			b.header.Set("Accept-Language", "zh-CN")
			b.post("/lang", url.Values{"lang": {"zh-Hans"}, "return": {"/"}})
			_, body = b.post("/admin/units", url.Values{"code": {"bad code!"}, "name": {""}, "level": {"community"},
				"parent_code": {"S01"}})
			contains(t, body, "须为 1–32 个字母", "此项必填")
			b.post("/lang", url.Values{"lang": {"en"}, "return": {"/"}})

			resp, _ = b.post("/admin/units", url.Values{"code": {"C0104"}, "name": {"Willow Community"},
				"level": {"community"}, "parent_code": {"S01"}, "population": {"1200"}})
			expectRedirect(t, resp, "/admin/units?created=C0104")
			contains(t, b.page("/admin/units?created=C0104", http.StatusOK), "Org unit C0104 created.", "Willow Community")
			lacks(t, b.page("/admin/units?created=Call+555", http.StatusOK), "Call 555")
			if u, err := svc.Unit(asAdmin, "C0104"); err != nil || u.Population != 1200 || u.ParentCode != "S01" {
				t.Fatalf("created unit: %+v, %v", u, err)
			}

			// Edit it: a bad move is refused, a good change saved.
			resp, body = b.post("/admin/units/C0104", url.Values{"name": {"Willow"}, "parent_code": {"C0101"}, "population": {"1300"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("community under a community: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "a community must be under a street, not a community", `value="Willow"`)
			resp, _ = b.post("/admin/units/C0104", url.Values{"name": {"Willow"}, "parent_code": {"S02"}, "population": {"1300"}})
			expectRedirect(t, resp, "/admin/units/C0104?saved=1")
			contains(t, b.page("/admin/units/C0104?saved=1", http.StatusOK), "Changes saved.", "/D01/S02/C0104/")
		})

		t.Run("Users", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.signIn("district")
			resp, body := b.post("/admin/users", url.Values{"username": {"Ab"}, "full_name": {"Sun Li 孙丽"},
				"role": {"nurse"}, "org_unit": {"C0102"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("bad user: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "must be 3–40 lower-case letters", `value="Sun Li 孙丽"`)
			if _, err := svc.User(asAdmin, "ab"); care.ErrorKind(err) != care.NotFound {
				t.Fatalf("a refused form made a user: %v", err)
			}
			resp, body = b.post("/admin/users", url.Values{"username": {"sunli"}, "full_name": {"Sun Li 孙丽"},
				"role": {"nurse"}, "org_unit": {"C0102"}, "language": {"zh-Hans"}})
			m := linkRE.FindStringSubmatch(body)
			if resp.StatusCode != http.StatusOK || m == nil {
				t.Fatalf("create: status %d, want 200 with the activation link", resp.StatusCode)
			}

			// Disabling asks once more, then signs the user out.
			nurse := newBrowser(t, srv)
			token := strings.TrimPrefix(html.UnescapeString(m[1]), srv.URL+"/activate?token=")
			resp, _ = nurse.post("/activate", url.Values{"token": {token}, "password": {"a-long-password"}, "confirm_password": {"a-long-password"}})
			expectRedirect(t, resp, "/?activated=1")
			form := url.Values{"full_name": {"Sun Li 孙丽"}, "role": {"nurse"}, "org_unit": {"C0102"}, "language": {"zh-Hans"},
				"disabled": {"1"}}
			resp, body = b.post("/admin/users/sunli", form)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("disable without confirmation: status %d, want 200", resp.StatusCode)
			}
			contains(t, body, "Disable the account sunli?", `name="confirm_disable"`)
			if u, _ := svc.User(asAdmin, "sunli"); u.Disabled {
				t.Fatal("disabled without confirmation")
			}
			form.Set("confirm_disable", "1")
			resp, _ = b.post("/admin/users/sunli", form)
			expectRedirect(t, resp, "/admin/users/sunli?saved=1")
			contains(t, b.page("/admin/users/sunli?saved=1", http.StatusOK), "This account is disabled")
			resp, _ = nurse.get("/")
			expectRedirect(t, resp, "/login")

			// A district administrator cannot make a system administrator.
			resp, body = b.post("/admin/users", url.Values{"username": {"boss"}, "full_name": {"Boss"},
				"role": {"admin"}, "org_unit": {"D01"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("district admin making an admin: status %d, want 403", resp.StatusCode)
			}
			contains(t, body, "Not allowed")

			// Nor change their own role.
			resp, body = b.post("/admin/users/district", url.Values{"full_name": {"Zhou Min 周敏"}, "role": {"nurse"},
				"org_unit": {"D01"}})
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("own role: status %d, want 409", resp.StatusCode)
			}
			contains(t, body, "you cannot disable your own account or change your own role")
		})

		t.Run("Forbidden", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.signIn("manager")
			home := b.page("/", http.StatusOK)
			contains(t, home, "Welcome, Zhang Wei", "Community mental health manager", "Anning Community",
				`href="/worklist"`, `href="/patients"`, "Your worklists", `href="/worklist?kind=overdue"`)
			lacks(t, home, `href="/admin/units"`, `href="/admin/users"`, `href="/admin/audit"`)
			for _, path := range []string{"/admin/users", "/admin/units", "/admin/audit", "/admin/users/nurse"} {
				contains(t, b.page(path, http.StatusForbidden), "Not allowed", `<html lang="en">`)
			}
			resp, _ := b.post("/admin/units", url.Values{"code": {"X1"}, "name": {"X"}, "level": {"district"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST /admin/units as manager: status %d, want 403", resp.StatusCode)
			}
		})

		t.Run("Account", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.signIn("social")
			contains(t, b.page("/account", http.StatusOK), "social", "Wang Fang", "Social worker", "Qinghe Street",
				`<option value="" selected>Follow the browser</option>`)
			resp, body := b.post("/account/password", url.Values{"current_password": {"wrong-password"},
				"new_password": {"a-new-password"}, "confirm_password": {"a-new-password"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("wrong current password: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "is not your current password")
			lacks(t, body, "wrong-password", "a-new-password")
			resp, body = b.post("/account/password", url.Values{"current_password": {demo.Password},
				"new_password": {"a-new-password"}, "confirm_password": {"a-new-passw0rd"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("mismatched confirmation: status %d, want 422", resp.StatusCode)
			}
			contains(t, body, "does not match the new password")
			resp, _ = b.post("/account/password", url.Values{"current_password": {demo.Password},
				"new_password": {"a-new-password"}, "confirm_password": {"a-new-password"}})
			expectRedirect(t, resp, "/account?saved=password")
			contains(t, b.page("/account?saved=password", http.StatusOK), "Your password is changed.")
			other := newBrowser(t, srv)
			resp, _ = other.post("/login", url.Values{"username": {"social"}, "password": {"a-new-password"}})
			expectRedirect(t, resp, "/")
		})

		t.Run("Logout", func(t *testing.T) {
			b := newBrowser(t, srv)
			b.signIn("caregroup")
			u, _ := url.Parse(srv.URL)
			var token string
			for _, c := range b.c.Jar.Cookies(u) {
				if c.Name == "kith_session" {
					token = c.Value
				}
			}
			resp, _ := b.post("/logout", nil)
			expectRedirect(t, resp, "/login?signedout=1")
			if c := cookie(resp, "kith_session"); c == nil || c.MaxAge >= 0 {
				t.Errorf("logout did not delete the session cookie: %v", c)
			}
			contains(t, b.page("/login?signedout=1", http.StatusOK), "You have signed out.")
			// The old token is dead on the server, not only in this browser.
			if _, err := svc.ResolveSession(context.Background(), token, care.WebSession); care.ErrorKind(err) != care.Unauthenticated {
				t.Errorf("session after logout: %v, want Unauthenticated", err)
			}
			thief := newBrowser(t, srv)
			thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: "kith_session", Value: token}})
			resp, _ = thief.get("/")
			expectRedirect(t, resp, "/login")
		})

		t.Run("ErrorPages", func(t *testing.T) {
			b := newBrowser(t, srv)
			contains(t, b.page("/no/such/page", http.StatusNotFound), "Not found", `<html lang="en">`)
			b.header.Set("Accept-Language", "zh-Hans")
			contains(t, b.page("/no/such/page", http.StatusNotFound), "未找到", `<html lang="zh-Hans">`)
		})

		t.Run("Static", func(t *testing.T) {
			b := newBrowser(t, srv)
			resp, body := b.get("/static/kith.css?v=1")
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") ||
				!strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") || !strings.Contains(body, "header.site") {
				t.Errorf("kith.css: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
			}
			for _, p := range []string{"/static/vendor/htmx-2.0.8.min.js", "/static/vendor/pico-2.1.1.min.css"} {
				b.page(p, http.StatusOK)
			}
			b.page("/static/", http.StatusNotFound)
			b.page("/static/vendor/", http.StatusNotFound)
		})

		t.Run("NoInlineScriptOrStyle", func(t *testing.T) {
			// The CSP forbids inline scripts and styles; a page that had
			// them would break in the browser, so none may.
			b := newBrowser(t, srv)
			pages := []string{b.page("/login", http.StatusOK)}
			b.signIn("admin")
			for _, p := range []string{"/", "/account", "/admin/units", "/admin/units/D01", "/admin/users",
				"/admin/users/nurse", "/admin/audit", "/nope"} {
				resp, body := b.get(p)
				if resp.StatusCode >= 500 {
					t.Fatalf("%s: status %d", p, resp.StatusCode)
				}
				pages = append(pages, body)
			}
			for _, body := range pages {
				noInline(t, body)
			}
		})
	})
}
