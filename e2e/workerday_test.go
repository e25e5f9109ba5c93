package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kith/internal/demo"
)

// TestWorkerDay is a community worker's day on a phone, in Chinese: sign in
// as the community manager, open the worklist with its call links, open
// the first patient's follow-up form pre-filled from the last follow-up,
// change one thing, "save and next patient", and land on the next
// patient's form. Every page fits the phone's width and shows no rule
// identifier (R-…), no action by its code and no Latin-script word on its
// controls.
func TestWorkerDay(t *testing.T) {
	srv := startKithWithPatients(t, 300) // before the browser's minute starts
	ctx := browser(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)
	ruleID := regexp.MustCompile(`R-[A-Z]`)
	actionCode := regexp.MustCompile(`\b[a-z]+(?:[._][a-z]+)+\b`)
	// check looks at the page as it is: no sideways scrolling, and no rule
	// identifier in the visible text (a tooltip may hold one). The journey
	// goes on after a failed check, to find every page's faults at once.
	check := func(step string) {
		t.Helper()
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		if err != nil || !fits {
			width, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			t.Errorf("%s: does not fit the phone's width: page %d px wide, %v", step, width, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			j.fail(step+": read the page", err)
		}
		if m := ruleID.FindString(text); m != "" {
			r := []rune(text)
			i := len([]rune(text[:strings.Index(text, m)]))
			t.Errorf("%s: shows a rule identifier: %q", step, string(r[max(0, i-30):min(len(r), i+30)]))
		}
		// No action named by its code (followup.create, plan_review), and
		// no Latin-script word on what a worker acts on: buttons, section
		// titles, column heads, tabs (the scales' names, such as PHQ-9, are
		// their names in Chinese too).
		if m := actionCode.FindString(text); m != "" {
			t.Errorf("%s: shows an action by its code: %q", step, m)
		}
		controls, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(
			"main button, main a[role=button], main summary, main th, main legend, main h1, main h2, main nav.tabs a"))
			.map(e => e.innerText.trim()).filter(s => /[A-Za-z]{2,}/.test(s.replace(/PHQ|GAD|SDSS|K10/g, ""))).join(" | ")`))
		if err != nil || controls != "" {
			t.Errorf("%s: Latin-script words on controls: %q, %v", step, controls, err)
		}
	}

	j.do("a phone-sized screen", chromedp.EmulateViewport(390, 844))
	j.load("open Kith", chromedp.Navigate(srv.URL+"/"))
	j.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("f-username"), "manager"),
		chromedp.SendKeys(chromedp.ID("f-password"), demo.Password),
	)
	j.load("sign in", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	j.load("switch to Chinese", chromedp.Click(chromedp.CSS(`header button[name="lang"][value="zh-Hans"]`)))
	j.do("page in Chinese", chromedp.WaitReady(chromedp.CSS(`html[lang="zh-Hans"]`)))

	j.load("open the worklist", chromedp.Navigate(srv.URL+"/worklist"))
	check("worklist")
	calls, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('main a[href^="tel:"]').length`))
	if err != nil || calls == 0 {
		t.Errorf("the worklist has no call links (tel:): %d, %v", calls, err)
	}
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(function () {
			// The first patient seen before (never-reached ones have nothing to pre-fill from).
			for (const tr of document.querySelectorAll("main table.worklist tbody tr")) {
				const a = tr.querySelector('a[href*="/follow-ups/new"]');
				if (a && !tr.querySelector("strong.never")) return a.getAttribute("href");
			}
			return "";
		})()`))
	if err != nil || first == "" {
		j.fail("the worklist links to a follow-up form", err)
	}

	j.load("open the first patient's follow-up form", chromedp.Click(chromedp.CSS(`main a[href="`+first+`"]`)))
	j.expect("the form is pre-filled from the last follow-up", "main p.prefilled", "已按")
	check("follow-up form")
	prefilled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () {
		var f = document.querySelector("form.followup");
		return f.dataset.last !== undefined && f.querySelector('input[name="risk_level"]:checked') !== null &&
			f.querySelector('input[name="insight"]:checked') !== null &&
			f.querySelector('input[name="medications[0].name"]').value !== "";
	})()`))
	if err != nil || !prefilled {
		j.fail("risk, insight and medication come from the last follow-up", fmt.Errorf("%v, %v", prefilled, err))
	}
	marked, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("form.followup .changed").length`))
	if marked != 0 {
		j.fail("nothing is marked changed before a change", fmt.Errorf("%d marked", marked))
	}

	// Change one thing only: a note about this visit.
	j.do("change one thing", chromedp.SendKeys(field("notes"), "情况平稳，按时服药。"))
	marked, _ = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("form.followup .changed").length`))
	if marked != 1 {
		j.fail("the change is marked", fmt.Errorf("%d fields marked changed, want 1", marked))
	}
	j.load("save and next patient", chromedp.Click(chromedp.CSS(`main form button[name="then"][value="next"]`)))
	j.expect("the previous follow-up is saved", "main .flash", "上一位患者的随访已保存")
	url, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if err != nil || !strings.Contains(url, "/follow-ups/new?worklist=overdue&after=") || strings.HasPrefix(first, strings.SplitN(url, "?", 2)[0]) {
		j.fail("the next patient's form", fmt.Errorf("at %q after %q, %v", url, first, err))
	}
	check("the next patient's form")

	for _, m := range consoleErrors() {
		t.Errorf("browser console: %s", m)
	}
}
