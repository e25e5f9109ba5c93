package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

var (
	secretRE   = regexp.MustCompile(`<code id="totp-secret" class="secret">([A-Z2-7]+)</code>`)
	otpauthRE  = regexp.MustCompile(`name="otpauth_url" value="([^"]+)"`)
	recoveryRE = regexp.MustCompile(`<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>`)
	linkRE     = regexp.MustCompile(`id="f-link" type="text" readonly value="([^"]+)"`)
)

// enrol goes through the enrolment pages as a person would, typing the
// code their app computes from the secret shown, and returns the secret
// and the recovery codes.
func (b *browser) enrol() (string, []string) {
	b.t.Helper()
	resp, body := b.post("/account/totp/start", url.Values{})
	m := secretRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		b.t.Fatalf("start enrolment: %d\n%s", resp.StatusCode, body)
	}
	contains(b.t, body, `src="data:image/png;base64,`, `href="otpauth://totp/Kith:`)
	noInline(b.t, body)
	secret, otpauth := m[1], html.UnescapeString(otpauthRE.FindStringSubmatch(body)[1])
	resp, body = b.post("/account/totp/confirm", url.Values{"code": {"000000"}, "secret": {secret}, "otpauth_url": {otpauth}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		b.t.Errorf("wrong code: status %d", resp.StatusCode)
	}
	contains(b.t, body, "is not the code your app shows now", secret)
	code, _ := totp.GenerateCode(secret, time.Now())
	resp, body = b.post("/account/totp/confirm", url.Values{"code": {code}, "secret": {secret}, "otpauth_url": {otpauth}})
	var codes []string
	for _, m := range recoveryRE.FindAllStringSubmatch(body, -1) {
		codes = append(codes, m[1])
	}
	if resp.StatusCode != http.StatusOK || len(codes) != care.RecoveryCodes {
		b.t.Fatalf("confirm enrolment: %d, %d codes\n%s", resp.StatusCode, len(codes), body)
	}
	return secret, codes
}

func TestTwoFactorWeb(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		svc.SetTOTPRoles(care.DefaultTOTPRoles)

		// The district administrator must enrol before anything else.
		b := newBrowser(t, srv)
		b.signIn("district")
		for _, p := range []string{"/", "/admin/users", "/account", "/figures"} {
			resp, _ := b.get(p)
			expectRedirect(t, resp, "/account/totp")
		}
		contains(t, b.page("/account/totp", http.StatusOK), "Your role requires two-factor sign-in", `action="/account/totp/start"`)
		secret, codes := b.enrol()
		contains(t, b.page("/", http.StatusOK), "Welcome, Zhou Min")
		contains(t, b.page("/account", http.StatusOK), "On: you sign in with your password and a code",
			"10 recovery codes left.", "Your role requires it")

		// Signing in again asks for the code on a second step.
		b2 := newBrowser(t, srv)
		resp, body := b2.post("/login", url.Values{"username": {"district"}, "password": {demo.Password}})
		if resp.StatusCode != http.StatusOK || cookie(resp, "kith_challenge") == nil || cookie(resp, "kith_session") != nil {
			t.Fatalf("first step: %d\n%s", resp.StatusCode, body)
		}
		contains(t, body, "Two-factor sign-in", `action="/login/code"`, `autocomplete="one-time-code"`)
		lacks(t, body, demo.Password)
		resp, body = b2.post("/login/code", url.Values{"code": {"123456"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong code: %d", resp.StatusCode)
		}
		contains(t, body, "This code is wrong or has already been used.")
		code, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
		resp, _ = b2.post("/login/code", url.Values{"code": {code}})
		expectRedirect(t, resp, "/")
		contains(t, b2.page("/", http.StatusOK), "Welcome, Zhou Min")

		// A recovery code in place of the app's, once.
		for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
			b3 := newBrowser(t, srv)
			b3.post("/login", url.Values{"username": {"district"}, "password": {demo.Password}})
			resp, _ := b3.post("/login/code", url.Values{"code": {codes[0]}})
			if resp.StatusCode != want {
				t.Errorf("recovery code, use %d: %d, want %d", i+1, resp.StatusCode, want)
			}
		}

		// Optional for a nurse: on, then off again from the account page.
		n := newBrowser(t, srv)
		n.signIn("nurse")
		contains(t, n.page("/account", http.StatusOK), "Off: you sign in with your password only.", `href="/account/totp"`)
		nsecret, _ := n.enrol()
		resp, body = n.post("/account/totp/disable", url.Values{"code": {"000000"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("disable with a wrong code: %d", resp.StatusCode)
		}
		contains(t, body, "is not the code your app shows now")
		ncode, _ := totp.GenerateCode(nsecret, time.Now().Add(30*time.Second))
		resp, _ = n.post("/account/totp/disable", url.Values{"code": {ncode}})
		expectRedirect(t, resp, "/account?saved=totp")
		contains(t, n.page("/account?saved=totp", http.StatusOK), "Two-factor sign-in is off.")
	})
}

func TestActivationWeb(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		d := newBrowser(t, srv)
		d.signIn("district")
		users := d.page("/admin/users", http.StatusOK)
		lacks(t, users, `name="password"`)
		contains(t, users, "one-time activation link")

		resp, body := d.post("/admin/users", url.Values{"username": {"nurse9"}, "full_name": {"Sun Li 孙丽"}, "role": {"nurse"},
			"org_unit": {"C0102"}, "language": {""}})
		m := linkRE.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("create: %d\n%s", resp.StatusCode, body)
		}
		contains(t, body, "The account of Sun Li 孙丽 is created.", `data-copy="f-link"`, "shown only now")
		noInline(t, body)
		link := html.UnescapeString(m[1])
		if !strings.HasPrefix(link, srv.URL+"/activate?token=") {
			t.Fatalf("link %q is not on this server", link)
		}
		path := strings.TrimPrefix(link, srv.URL)

		// The owner opens it, signed out.
		o := newBrowser(t, srv)
		contains(t, o.page(path, http.StatusOK), "Set your password", `name="token"`, `name="confirm_password"`)
		token := strings.TrimPrefix(path, "/activate?token=")
		resp, body = o.post("/activate", url.Values{"token": {token}, "password": {"my own passphrase"}, "confirm_password": {"other"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("mismatched confirmation: %d", resp.StatusCode)
		}
		contains(t, body, "does not match the new password")
		resp, _ = o.post("/activate", url.Values{"token": {token}, "password": {"my own passphrase"}, "confirm_password": {"my own passphrase"}})
		expectRedirect(t, resp, "/?activated=1")
		contains(t, o.page("/?activated=1", http.StatusOK), "Welcome, Sun Li", "Your password is set.")
		resp, body = newBrowser(t, srv).post("/activate", url.Values{"token": {token}, "password": {"my own passphrase"}, "confirm_password": {"my own passphrase"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("second use: %d", resp.StatusCode)
		}
		contains(t, body, "this activation link is not valid")

		// The district's psychiatrist is told, in their language, and dismisses it.
		p := newBrowser(t, srv)
		p.signIn("psychiatrist")
		home := p.page("/", http.StatusOK)
		contains(t, home, "New access to records", "Zhou Min 周敏 created an account for Sun Li 孙丽 as Nurse in C0102.")
		lacks(t, home, ">nurse9<")
		id := regexp.MustCompile(`action="/announcements/([0-9]+)/dismiss"`).FindStringSubmatch(home)
		if id == nil {
			t.Fatal("no dismiss button")
		}
		resp, _ = p.post("/announcements/"+id[1]+"/dismiss", url.Values{})
		expectRedirect(t, resp, "/?dismissed=1")
		lacks(t, p.page("/?dismissed=1", http.StatusOK), "for Sun Li 孙丽 as Nurse")
		zh := newBrowser(t, srv)
		zh.header.Set("Accept-Language", "zh-CN")
		zh.signIn("psychiatrist")
		contains(t, zh.page("/", http.StatusOK), "新增病历访问权限", "System Administrator 系统管理员为Zhao Lei 赵磊创建了账户，角色为关爱帮扶小组成员，单位 C0101。")

		// The administrator's reset issues a new link and ends the owner's sessions.
		user := d.page("/admin/users/nurse9", http.StatusOK)
		contains(t, user, `action="/admin/users/nurse9/activation"`, `action="/admin/users/nurse9/sessions/end"`)
		lacks(t, user, `type="password"`)
		resp, body = d.post("/admin/users/nurse9/activation", url.Values{})
		if resp.StatusCode != http.StatusOK || linkRE.FindStringSubmatch(body) == nil {
			t.Fatalf("new link: %d\n%s", resp.StatusCode, body)
		}
		contains(t, body, "A new activation link for Sun Li 孙丽 is ready.")
		resp, _ = o.get("/")
		expectRedirect(t, resp, "/login")
	})
}

func TestSessionsWeb(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		phone := newBrowser(t, srv)
		phone.header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")
		phone.signIn("manager")
		desk := newBrowser(t, srv)
		desk.header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		desk.signIn("manager")
		account := desk.page("/account", http.StatusOK)
		contains(t, account, "Where you are signed in", "Chrome on Android", "Firefox on Linux", "this one", "127.0.0.1")
		noInline(t, account)
		ends := regexp.MustCompile(`<strong>([^<]+)</strong> <small>\(browser\)</small>( <mark>this one</mark>)?</p>(?s:.*?)action="/account/sessions/([^"]+)/end"`).FindAllStringSubmatch(account, -1)
		var phoneID string
		for _, m := range ends {
			if strings.HasPrefix(m[1], "Chrome on Android") {
				phoneID = m[3]
			}
		}
		if phoneID == "" {
			t.Fatalf("no End button for the phone's session\n%s", account)
		}
		resp, _ := desk.post("/account/sessions/"+phoneID+"/end", url.Values{})
		expectRedirect(t, resp, "/account?saved=session")
		resp, _ = phone.get("/")
		expectRedirect(t, resp, "/login")
		lacks(t, desk.page("/account", http.StatusOK), "Chrome on Android")

		zh := newBrowser(t, srv)
		zh.header.Set("Accept-Language", "zh-CN")
		zh.header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		zh.signIn("nurse")
		contains(t, zh.page("/account", http.StatusOK), "您的登录位置", "Linux 上的 Firefox", "当前会话")

		// The administrator signs the manager out everywhere.
		a := newBrowser(t, srv)
		a.signIn("admin")
		resp, _ = a.post("/admin/users/manager/sessions/end", url.Values{})
		expectRedirect(t, resp, "/admin/users/manager?ended=1")
		contains(t, a.page("/admin/users/manager?ended=1", http.StatusOK), "1 session ended.")
		resp, _ = desk.get("/")
		expectRedirect(t, resp, "/login")
		// Ending one's own current session signs out.
		resp, body := zh.get("/account")
		m := regexp.MustCompile(`action="/account/sessions/([^"]+)/end"`).FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatal("no session to end")
		}
		resp, _ = zh.post("/account/sessions/"+m[1]+"/end", url.Values{})
		expectRedirect(t, resp, "/login?signedout=1")
	})
}
