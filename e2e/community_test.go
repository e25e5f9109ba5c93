package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kith/internal/demo"
)

// TestCaregiverSession: a community manager records a family member of a
// patient, puts a caregiver education session on the calendar, finds the
// patient's family for the attendance sheet and ticks the new family
// member present on screen.
func TestCaregiverSession(t *testing.T) {
	srv := startKithWithPatients(t, 30)
	ctx := browser(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)

	j.load("open Kith", chromedp.Navigate(srv.URL+"/login"))
	j.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("f-username"), "manager"),
		chromedp.SendKeys(chromedp.ID("f-password"), demo.Password),
	)
	j.load("sign in", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('header button[name="lang"][value="en"]').length`)); n > 0 {
		j.load("in English", chromedp.Click(chromedp.CSS(`header button[name="lang"][value="en"]`)))
	}

	j.load("open the register", chromedp.Navigate(srv.URL+"/patients"))
	name := j.text("a patient", `main table a[href^="/patients/"]`)
	j.load("open the record", chromedp.Click(chromedp.CSS(`main table a[href^="/patients/"]`)))
	j.load("add a family member", chromedp.Click(chromedp.CSS(`#family a[href$="/family/new"]`)))
	j.do("fill in the family member",
		chromedp.SendKeys(field("name"), "Wu Lan 吴兰"),
		chromedp.SendKeys(field("relation"), "sister"),
		chromedp.SendKeys(field("phone"), "13700137000"),
		chromedp.Click(chromedp.ID("f-lives_with")),
	)
	j.load("save the family member", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	j.expect("family saved", "main .flash", "The family is saved.")
	j.expect("the family section lists her", "#family", "Wu Lan 吴兰")

	j.load("open the calendar", chromedp.Click(chromedp.CSS(`nav.menu a[href="/events"]`)))
	j.load("new event", chromedp.Click(chromedp.CSS(`main a[href="/events/new"]`)))
	start := time.Now().AddDate(0, 0, 2).Format("2006-01-02") + "T14:00"
	j.do("fill in the session",
		chromedp.SendKeys(field("title"), "Caregivers: early signs of relapse"),
		chromedp.SetValue(field("kind"), "caregiver_education"),
		chromedp.SetValue(field("starts_at"), start),
		chromedp.SendKeys(field("place"), "Anning health station"),
		chromedp.SetValue(field("capacity"), "15"),
	)
	j.load("create the session", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	j.expect("on the calendar", "main .flash", "The event is on the calendar.")

	j.do("find the patient", chromedp.SendKeys(chromedp.ID("find"), name))
	j.load("search", chromedp.Click(chromedp.CSS(`form[method="get"] button[type="submit"]`)))
	j.load("put her on the sheet", chromedp.Click(chromedp.CSS(`main ul.found li form:last-of-type button`)))
	j.expect("on the sheet, not yet ticked", "#sheet", "Wu Lan 吴兰")
	j.expect("nobody present yet", "main dl.facts", "0 present")
	j.load("tick her present", chromedp.Click(chromedp.CSS(`#sheet form button`)))
	j.expect("ticked", "#sheet", "Present")
	j.expect("one present", "main dl.facts", "1 present")
	ev, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		j.fail("the event's address", err)
	}
	j.load("change the event", chromedp.Click(chromedp.CSS(`main nav.actions a[href$="/edit"]`)))
	j.do("move it", chromedp.SetValue(field("place"), "Anning community hall"))
	j.load("save the change", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	j.expect("changed", "main .flash", "The event is changed.")
	j.expect("the new place", "main dl.facts", "Anning community hall")
	// On a phone: the sheet, its change and call-off pages, the calendar (a
	// list) and the training page fit.
	j.do("a phone-sized screen", chromedp.EmulateViewport(390, 844))
	for _, path := range []string{"", ev + "/edit", ev + "/cancel", "/events", "/training/people/manager", "/public/events"} {
		if path != "" {
			j.load("open "+path, chromedp.Navigate(srv.URL+path))
		}
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		if err != nil || !fits {
			w, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.scrollWidth + " > " + window.innerWidth + ": " +
				Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + "." + e.className).join(" ")`))
			j.fail(path+" fits 390 px", fmt.Errorf("scrolls sideways: %s (%v)", w, err))
		}
	}
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
