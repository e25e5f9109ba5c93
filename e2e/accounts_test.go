package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"kith/internal/demo"
)

// signIn signs in as username with the demo password from the sign-in page.
func (j *journey) signIn(base, username string) {
	j.t.Helper()
	j.load("open the sign-in page", chromedp.Navigate(base+"/login"))
	j.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("f-username"), username),
		chromedp.SendKeys(chromedp.ID("f-password"), demo.Password),
	)
	j.load("sign in", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
}

// enrolTOTP goes through the enrolment a role that requires two-factor
// sign-in (admin, district) meets on its first sign-in: it reads the secret
// shown, as a person would type it into an authenticator app, and enters
// the code the app would show.
func (j *journey) enrolTOTP() {
	j.t.Helper()
	j.expect("sent to enrol a second factor", "main h1", "Two-factor sign-in")
	j.expect("told why", "main .warning", "requires two-factor sign-in")
	j.load("start the enrolment", chromedp.Click(chromedp.CSS(`main form[action="/account/totp/start"] button`)))
	j.do("a QR code is shown", chromedp.WaitVisible(chromedp.CSS(`main img.qr`)))
	secret := strings.TrimSpace(j.text("read the secret", "#totp-secret"))
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		j.fail("compute the code", err)
	}
	j.do("type the code", chromedp.SendKeys(chromedp.ID("f-code"), code))
	j.load("confirm the code", chromedp.Click(chromedp.CSS(`main form[action="/account/totp/confirm"] button`)))
	j.expect("recovery codes shown", "main h2", "recovery codes")
	j.load("continue", chromedp.Click(chromedp.CSS(`main a[href="/"]`)))
}

// TestActivationJourney: a district administrator creates an account and
// gets a one-time link instead of choosing a password; its owner opens the
// link on a phone, sets the password and lands signed in. (The
// psychiatrist's announcement is tested in internal/web.)
func TestActivationJourney(t *testing.T) {
	srv := startKith(t) // first: seeding the demo is not the browser's minute
	ctx := browser(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)

	j.signIn(srv.URL, "district")
	j.enrolTOTP()
	j.expect("home page", "main h1", "Welcome")

	j.load("open the users page", chromedp.Navigate(srv.URL+"/admin/users"))
	j.do("open the new account form", chromedp.Click(chromedp.CSS(`details.newform summary`)))
	j.do("fill in the new account",
		chromedp.SendKeys(chromedp.ID("f-username"), "nurse9"),
		chromedp.SendKeys(chromedp.ID("f-full_name"), "Sun Li 孙丽"),
		chromedp.SetValue(chromedp.ID("f-role"), "nurse"),
		chromedp.SendKeys(chromedp.ID("f-org_unit"), "C0102"),
	)
	j.load("create the account", chromedp.Click(chromedp.CSS(`details.newform form button[type="submit"]`)))
	j.expect("activation link page", "main h1", "Activation link")
	j.do("the copy button works here", chromedp.WaitVisible(chromedp.CSS(`button[data-copy="f-link"]`)))
	link, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("f-link")))
	if err != nil || !strings.HasPrefix(link, srv.URL+"/activate?token=") {
		j.fail("read the link", err)
	}
	if u, _ := url.Parse(link); u == nil || u.Query().Get("token") == "" {
		j.fail("read the link", nil)
	}
	j.load("sign out", chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)))

	j.do("a phone-sized screen", chromedp.EmulateViewport(390, 844))
	j.load("the owner opens the link", chromedp.Navigate(link))
	j.expect("activation page", "main h1", "Set your password")
	j.do("choose a password",
		chromedp.SendKeys(chromedp.ID("f-password"), "my own passphrase"),
		chromedp.SendKeys(chromedp.ID("f-confirm_password"), "my own passphrase"),
	)
	j.load("set it", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	j.expect("signed in", "main h1", "Welcome, Sun Li")
	j.load("open the account page", chromedp.Navigate(srv.URL+"/account"))
	j.expect("sessions listed", "main ul.sessions", "this one")
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	if err != nil || !fits {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + "." + e.className + ":" + Math.round(e.getBoundingClientRect().right)).slice(0, 15).join(" ")`))
		t.Log("wider than the screen:", wide)
		j.fail("the account page fits a phone", err)
	}
	for _, m := range consoleErrors() {
		t.Errorf("browser console: %s", m)
	}
}
