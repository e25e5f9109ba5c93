package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"kith/internal/demo"
)

// TestReferralAccepted is a referral from request to acceptance as the
// hospital sees it: the community manager refers a patient up from the
// record; the hospital's psychiatrist finds it on the home page and in the
// inbox, reads the summary and the record, and accepts it.
func TestReferralAccepted(t *testing.T) {
	srv := startKithWithPatients(t, 30) // before the browser's minute starts
	ctx := browser(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)

	signIn := func(user string) {
		j.load("open Kith as "+user, chromedp.Navigate(srv.URL+"/"))
		j.do("fill in the sign-in form as "+user,
			chromedp.SendKeys(chromedp.ID("f-username"), user),
			chromedp.SendKeys(chromedp.ID("f-password"), demo.Password),
		)
		j.load("sign in as "+user, chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	}
	signIn("manager")
	j.load("open the register", chromedp.Click(chromedp.CSS(`nav.menu a[href="/patients"]`)))
	j.load("open a record", chromedp.Click(chromedp.CSS(`main table a[href^="/patients/"]`)))
	name := j.text("the patient's name", "main h1")
	j.load("open the referral form", chromedp.Click(chromedp.CSS(`nav.actions a[href$="/referrals/new"]`)))
	j.expect("referral form", "main h1", "Refer to hospital")
	j.do("fill in the referral",
		chromedp.SetValue(field("to_unit"), demo.Hospital),
		chromedp.Click(radio("urgency", "urgent")),
		chromedp.SendKeys(field("reason"), "Relapse: hears voices again, stopped medication"),
	)
	j.load("send the referral", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	j.expect("referral sent", "main .flash", "The referral is sent")
	j.load("sign out", chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)))

	signIn("hospital")
	j.expect("the hospital's home page counts the referral", "main .home-referrals", "received, awaiting an answer")
	j.load("open the inbox", chromedp.Click(chromedp.CSS(`main .home-referrals a[href*="box=received"]`)))
	j.expect("the referral is in the inbox", "main table", firstWord(name))
	j.load("open the referral", chromedp.Click(chromedp.CSS(`main table td.card-title a`)))
	j.expect("the referral with the record's summary", "main", "Summary of the record")
	j.expect("the reason", "main", "hears voices again")
	ref, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		j.fail("the referral's address", err)
	}
	j.load("open the record through the referral", chromedp.Click(chromedp.CSS(`main h1 a[href^="/patients/"]`)))
	j.expect("the record, read only", "main .glass-banner", "referred to your institution")
	j.load("back to the referral", chromedp.Navigate(ref))
	j.load("accept", chromedp.Click(chromedp.ID("accept")))
	j.expect("accepted", "main .flash", "The referral is accepted")
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#accept").length`)); err != nil || n != 0 {
		j.fail("no second acceptance offered", fmt.Errorf("%d accept buttons, %v", n, err))
	}

	for _, m := range consoleErrors() {
		t.Errorf("browser console: %s", m)
	}
}

// firstWord is a name's first word, as a table shows it whatever follows.
func firstWord(s string) string {
	for i, r := range s {
		if r == ' ' {
			return s[:i]
		}
	}
	return s
}
