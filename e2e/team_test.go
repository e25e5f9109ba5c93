package e2e

import (
	"fmt"
	"time"

	"testing"

	"github.com/chromedp/chromedp"

	"kith/internal/demo"
)

// TestCareTeamAndPlan: a community manager adds a nurse to a patient's care
// team, writes a rehabilitation plan with one goal and an intervention for
// the nurse, and opens the printable plan with its signature lines (issue
// 11).
func TestCareTeamAndPlan(t *testing.T) {
	srv := startKithWithPatients(t, 20)
	ctx := browser(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)

	j.load("open the sign-in page", chromedp.Navigate(srv.URL+"/login"))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('header button[name="lang"][value="en"]').length`)); n > 0 {
		j.load("sign in in English", chromedp.Click(chromedp.CSS(`header button[name="lang"][value="en"]`)))
	}
	j.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("f-username"), "manager"),
		chromedp.SendKeys(chromedp.ID("f-password"), demo.Password))
	j.load("sign in", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))

	// A patient without a team or plan yet: the last of the register's page.
	j.load("open the register", chromedp.Navigate(srv.URL+"/patients"))
	record, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('main table a[href^="/patients/"]')).pop().getAttribute("href")`))
	if err != nil || record == "" {
		j.fail("a patient on the register", fmt.Errorf("%q, %v", record, err))
	}
	j.load("open the record", chromedp.Navigate(srv.URL+record))
	j.load("open the care team", chromedp.Click(chromedp.CSS(`#team a[href$="/team"]`)))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('datalist#colleagues option[value^="Li Na 李娜（"]').length`)); err != nil || n != 1 {
		j.fail("colleagues are suggested by name and unit", fmt.Errorf("%d, %v", n, err))
	}
	j.do("fill in a member by name",
		chromedp.SendKeys(chromedp.ID("f-username"), "Li Na 李娜"),
		chromedp.SetValue(chromedp.ID("f-team_role"), "nurse"))
	j.load("add the member", chromedp.Click(chromedp.CSS(`form[action$="/team"] button[type="submit"]`)))
	j.expect("the nurse is on the team", "table.team-members", "Li Na 李娜")

	j.load("open the record again", chromedp.Navigate(srv.URL+record))
	j.load("write a plan", chromedp.Click(chromedp.CSS(`#plan a[href$="/plans/new"]`)))
	target := time.Now().AddDate(0, 4, 0).Format("2006-01-02")
	set := func(id, v string) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(chromedp.CSS(`[id="`+id+`"]`), v)
	}
	j.do("fill in needs, a goal and an intervention",
		set("f-need.occupation", "out of work for two years"),
		set("f-goals[0].domain", "occupation"),
		set("f-goals[0].description", "sheltered work"),
		set("f-goals[0].measure", "half-days a week"),
		set("f-goals[0].baseline", "0"),
		set("f-goals[0].target", "3"),
		set("f-goals[0].target_on", target),
		set("f-goals[0].interventions[0].description", "job coaching"),
		set("f-goals[0].interventions[0].assignee", "nurse"),
		set("f-goals[0].interventions[0].frequency", "weekly"),
		chromedp.Click(chromedp.ID("f-agreed_by_patient")),
		chromedp.Click(chromedp.ID("f-agreed_by_family")))
	j.load("save the plan", chromedp.Click(chromedp.CSS(`form.plan-form button[type="submit"]`)))
	j.expect("the plan is saved", "main", "The plan is saved.")
	j.expect("the goal shows", "table.plan-goals", "sheltered work")
	j.load("print it", chromedp.Click(chromedp.CSS(`main nav.actions a[href$="/print"]`)))
	j.expect("signature lines", ".signature-lines", "Key worker")
	j.expect("the family signs too", ".signature-lines", "Family member or guardian")
	// On a phone, in Chinese as TestPhoneDay, the team, the plan and its
	// forms do not scroll sideways.
	j.load("switch to Chinese", chromedp.Click(chromedp.CSS(`header button[name="lang"][value="zh-Hans"]`)))
	j.do("a phone-sized screen", chromedp.EmulateViewport(390, 844))
	plan, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.plan-print a[href^="/plans/"]').getAttribute("href")`))
	for _, path := range []string{record, record + "/team", plan, plan + "/review", plan + "/edit", "/conferences/new?patient=" + record[len("/patients/"):], "/"} {
		j.load("open "+path, chromedp.Navigate(srv.URL+path))
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		if err != nil || !fits {
			w, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.scrollWidth + " > " + window.innerWidth + ": " +
				Array.from(document.querySelectorAll("main *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 3).map(e => e.tagName + "." + e.className).join(" ")`))
			j.fail(path+" fits 390 px", fmt.Errorf("scrolls sideways: %s %v", w, err))
		}
	}
	if errs := consoleErrors(); len(errs) > 0 {
		j.fail("no console errors", fmt.Errorf("%v", errs))
	}
}
