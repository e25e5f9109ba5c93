// Package e2e holds browser tests: they start the whole Kith server in the
// test process and drive Debian's Chromium through it as a person would.
package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/secrets"
	"kith/internal/server"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// testKey is the master key of the test server: 32 bytes, base64.
const testKey = "a2l0aC1lMmUtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE="

// chromium returns the path of the browser, or skips the test. Where the
// browser tests must run (KITH_E2E_REQUIRED=1, as in CI), a missing browser
// fails the test instead.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("KITH_E2E_REQUIRED") == "1" {
		t.Fatal("Chromium not found, and KITH_E2E_REQUIRED=1 says the browser tests must run: install Debian's chromium")
	}
	t.Skip("Chromium not found: install Debian's chromium to run browser tests (set KITH_E2E_REQUIRED=1 to fail instead)")
	return ""
}

// startKith serves the whole of Kith on a fresh SQLite database holding
// the demo district.
func startKith(t *testing.T) *httptest.Server {
	t.Helper()
	return startKithWithPatients(t, 0)
}

// startKithWithPatients is startKith with n patients generated in the demo
// district, with their follow-ups up to today.
func startKithWithPatients(t *testing.T, n int) *httptest.Server {
	t.Helper()
	db := storetest.Open(t, store.SQLite)
	keys, err := secrets.Load(testKey, "")
	if err != nil {
		t.Fatal(err)
	}
	svc := care.New(db, keys)
	t.Cleanup(svc.Drain) // before the database closes
	if _, err := demo.Seed(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		if _, err := demo.Patients(context.Background(), db, svc, n, time.Now(), 1); err != nil {
			t.Fatal(err)
		}
		if err := demo.Activity(context.Background(), svc, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(server.New(svc, server.Options{}))
	t.Cleanup(srv.Close)
	return srv
}

// browser starts headless Chromium with a fresh profile. Everything the
// test does must finish within the returned context's minute.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	return ctx
}

// journey runs the steps of a browser test and, when one fails, saves a
// screenshot of the page and names it in the failure.
type journey struct {
	t   *testing.T
	ctx context.Context
}

func (j *journey) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	j.t.Helper()
	if err := chromedp.Do(j.ctx, actions...); err != nil {
		j.fail(step, err)
	}
}

// load runs actions that lead to another page, such as a click on a link
// or a form's button, waits until that page has loaded, and checks that it
// came with status 200.
func (j *journey) load(step string, actions ...chromedp.Action[chromedp.Void]) {
	j.t.Helper()
	resp, err := chromedp.RunResponse(j.ctx, actions...)
	if err == nil && resp.Status != 200 {
		err = fmt.Errorf("page came with status %d", resp.Status)
	}
	if err != nil {
		j.fail(step, err)
	}
}

// text returns the visible text of the first element sel matches.
func (j *journey) text(step, sel string) string {
	j.t.Helper()
	s, err := chromedp.Run(j.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		j.fail(step, err)
	}
	return s
}

// expect checks that the element sel shows want.
func (j *journey) expect(step, sel, want string) {
	j.t.Helper()
	if got := j.text(step, sel); !strings.Contains(got, want) {
		j.fail(step, fmt.Errorf("%s shows %q, want it to contain %q", sel, got, want))
	}
}

// fail saves a full-page screenshot to $KITH_E2E_ARTIFACTS (else the
// system's temporary folder, which outlives the test) and stops the test.
func (j *journey) fail(step string, err error) {
	j.t.Helper()
	dir := os.Getenv("KITH_E2E_ARTIFACTS")
	if dir == "" {
		dir = os.TempDir()
	}
	name := filepath.Join(dir, fmt.Sprintf("kith-%s-%s.png", strings.ReplaceAll(j.t.Name(), "/", "_"),
		time.Now().Format("20060102-150405")))
	shot := "no screenshot"
	// The test's context may be what failed; give the screenshot a few
	// seconds of its own on the same tab.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(j.ctx), 5*time.Second)
	defer cancel()
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr != nil {
		shot = "screenshot failed: " + serr.Error()
	} else if werr := os.WriteFile(name, png, 0o644); werr != nil {
		shot = "screenshot not saved: " + werr.Error()
	} else {
		shot = "screenshot: " + name
	}
	j.t.Fatalf("%s: %v (%s)", step, err, shot)
}

// watchConsole collects what the pages report as errors: uncaught
// exceptions, and the browser's own error messages, such as a resource that
// failed to load or a Content-Security-Policy violation. The returned func
// stops watching and returns them.
func watchConsole(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	if err := chromedp.Do(ctx); err != nil { // start the browser and open the tab
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	messages := chromedp.Console(ctx)
	var errs []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				errs = append(errs, m.String())
			}
		}
	}()
	return func() []string {
		cancel()
		<-done
		return errs
	}
}

// TestShell walks through the web shell: sign in as the administrator,
// switch to Chinese and back, open the users page, sign out.
func TestShell(t *testing.T) {
	ctx := browser(t)
	srv := startKith(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)

	j.load("open Kith", chromedp.Navigate(srv.URL+"/"))
	j.expect("redirected to sign-in", "main h1", "Sign in")

	j.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("f-username"), "admin"),
		chromedp.SendKeys(chromedp.ID("f-password"), demo.Password),
	)
	j.load("sign in", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	j.enrolTOTP()
	j.expect("home page", "main h1", "Welcome")

	j.load("switch to Chinese", chromedp.Click(chromedp.CSS(`header button[name="lang"][value="zh-Hans"]`)))
	j.do("page in Chinese", chromedp.WaitReady(chromedp.CSS(`html[lang="zh-Hans"]`)))
	j.expect("home page in Chinese", "main h1", "您好")
	j.expect("navigation in Chinese", "nav.menu", "用户")

	j.load("switch back to English", chromedp.Click(chromedp.CSS(`header button[name="lang"][value="en"]`)))
	j.do("page in English", chromedp.WaitReady(chromedp.CSS(`html[lang="en"]`)))
	j.expect("home page in English", "main h1", "Welcome")

	j.load("open the users page", chromedp.Click(chromedp.CSS(`nav.menu a[href="/admin/users"]`)))
	j.expect("users page", "main h1", "Users")
	j.expect("users listed", "main table", "manager")

	j.load("sign out", chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)))
	j.expect("signed out", "main h1", "Sign in")
	j.expect("signed-out message", "main .flash", "signed out")

	for _, m := range consoleErrors() {
		t.Errorf("browser console: %s", m)
	}
}
