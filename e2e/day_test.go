package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kith/internal/demo"
)

// TestPhoneDay walks the staff pages on a phone-sized screen in Chinese as
// a community manager, as the care-and-help group and as the district
// administrator, and checks on each page that nothing scrolls sideways and
// that no rule identifier (R-…) shows; on the worklist, that every phone
// number is a link that calls it; on the audit log, that the actions are
// said in Chinese; and on the care group's record of a patient with an
// open alert, the neutral "contact the community doctor" marker.
func TestPhoneDay(t *testing.T) {
	srv := startKithWithPatients(t, 120)
	ctx := browser(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)
	j.do("a phone-sized screen", chromedp.EmulateViewport(390, 844))

	signIn := func(username string, totp bool) {
		j.t.Helper()
		j.load("open the sign-in page", chromedp.Navigate(srv.URL+"/login"))
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('header button[name="lang"][value="en"]').length`)); n > 0 {
			j.load("sign in in English", chromedp.Click(chromedp.CSS(`header button[name="lang"][value="en"]`)))
		}
		j.do("fill in the sign-in form as "+username,
			chromedp.SendKeys(chromedp.ID("f-username"), username),
			chromedp.SendKeys(chromedp.ID("f-password"), demo.Password),
		)
		j.load("sign in as "+username, chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
		if totp {
			j.enrolTOTP() // the district administrator's role requires a second factor
		}
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('header button[name="lang"][value="zh-Hans"]').length`)); n > 0 {
			j.load("switch to Chinese", chromedp.Click(chromedp.CSS(`header button[name="lang"][value="zh-Hans"]`)))
		}
		j.do("page in Chinese", chromedp.WaitReady(chromedp.CSS(`html[lang="zh-Hans"]`)))
	}
	signOut := func() {
		j.load("sign out", chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)))
	}
	ruleID := regexp.MustCompile(`R-[A-Z]`)
	visit := func(path string) {
		j.t.Helper()
		j.load("open "+path, chromedp.Navigate(srv.URL+path))
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		if err != nil || !fits {
			w, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.scrollWidth + " > " + window.innerWidth + ": " +
				Array.from(document.querySelectorAll("main *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 3).map(e => e.tagName + "." + e.className).join(" ")`))
			j.fail(path+" fits 390 px", fmt.Errorf("scrolls sideways: %s %v", w, err))
		}
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			j.fail(path+" text", err)
		}
		if m := ruleID.FindString(text); m != "" {
			i := strings.Index(text, m)
			j.fail(path+" shows no rule identifier", fmt.Errorf("visible text has %q: …%s…", m, text[max(0, i-40):min(len(text), i+40)]))
		}
	}

	// The community manager's day.
	signIn("manager", false)
	for _, path := range []string{"/", "/worklist", "/worklist?kind=due", "/worklist?kind=lost", "/worklist?kind=below_min",
		"/worklist/contacts", "/patients", "/alerts", "/help/rules", "/account", "/worklist?kind=alert", "/worklist?kind=discharge",
		"/referrals", "/crisis", "/crisis/new", "/me/patients", "/me/interventions"} {
		visit(path)
	}
	visit("/worklist")
	calls, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.worklist a.call[href^="tel:"]').length`))
	if err != nil || calls == 0 {
		j.fail("the worklist has call links", fmt.Errorf("%d tel: links, %v", calls, err))
	}
	// Every phone number on the worklist is inside a link that calls it.
	bare, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () {
		var w = document.createTreeWalker(document.querySelector("table.worklist"), NodeFilter.SHOW_TEXT), out = [], n;
		while ((n = w.nextNode())) {
			if (/1[0-9]{10}/.test(n.nodeValue) && !n.parentElement.closest('a[href^="tel:"]')) { out.push(n.nodeValue.trim()); }
		}
		return out.join(", ");
	})()`))
	if err != nil || bare != "" {
		j.fail("every phone number on the worklist is a tel: link", fmt.Errorf("not links: %q, %v", bare, err))
	}
	order := j.text("the worklist states its order", "main p.order")
	if !strings.Contains(order, "危险性3级") {
		j.fail("the worklist states its order in words", fmt.Errorf("%q", order))
	}
	// The worklist is cards on a phone: the follow-up button shows, the
	// table's heading does not.
	j.do("a card's follow-up button", chromedp.WaitVisible(chromedp.CSS(`table.worklist tbody tr:first-child td.card-actions a`)))
	record, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("table.worklist tbody tr:first-child td.card-title a").getAttribute("href")`))
	visit(record)
	// The patient with the demo's open alert, as the alerts page links it.
	visit("/alerts")
	alerted, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('ul.alerts li:not(.done) p.what a[href^="/patients/"]') || {getAttribute: () => ""}).getAttribute("href")`))
	if err != nil || alerted == "" {
		j.fail("the demo's open alert", fmt.Errorf("no open alert listed: %v", err))
	}
	visit(alerted)
	signOut()

	// The care-and-help group: no classification, no blank columns, and a
	// neutral marker on the patient with the open alert.
	signIn("caregroup", false)
	for _, path := range []string{"/", "/worklist", "/worklist?kind=due", "/patients", record, alerted} {
		visit(path)
	}
	j.load("the alerted patient's record", chromedp.Navigate(srv.URL+alerted))
	j.expect("contact the doctor first", "main .contact-first-note", "上门前请先联系社区医生")
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
	for _, hidden := range []string{"PHQ-9", "首次随访", "诊断"} {
		if strings.Contains(text, hidden) {
			j.fail("the care group's record says nothing it may not", fmt.Errorf("shows %q", hidden))
		}
	}
	visit("/worklist")
	cols, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("table.worklist thead th")).map(th => th.innerText).join("|")`))
	if strings.Contains(cols, "分类") {
		j.fail("the care group's worklist has no classification column", fmt.Errorf("columns %q", cols))
	}
	signOut()

	// The district administrator: figures and the audit log.
	signIn("district", true)
	for _, path := range []string{"/", "/figures", "/figures/management_rate/patients?counted=false", "/admin/audit",
		"/admin/audit?changes=1", "/admin/audit?kind=patient", "/admin/users", "/admin/units"} {
		visit(path)
	}
	visit("/admin/audit")
	latin, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("table.audit tbody td:nth-child(3)")).map(td => td.innerText.trim()).filter(s => /[A-Za-z]/.test(s)).join(", ")`))
	rows, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.audit tbody tr").length`))
	if err != nil || latin != "" || rows == 0 {
		j.fail("the audit log says its actions in Chinese", fmt.Errorf("%d rows; Latin action names: %q, %v", rows, latin, err))
	}
	who, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("table.audit tbody td:nth-child(2)")).map(td => td.innerText.trim()).join(",")`))
	if regexp.MustCompile(`(^|,)(manager|caregroup|district)(,|$)`).MatchString(who) {
		j.fail("the audit log names people, not usernames", fmt.Errorf("actors %q", who))
	}

	for _, m := range consoleErrors() {
		t.Errorf("browser console: %s", m)
	}
}
