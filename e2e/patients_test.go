package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kith/internal/clinical"
	"kith/internal/demo"
)

// nationalID builds a valid national ID number for a birth date.
func nationalID(birth string) string {
	first := "110105" + strings.ReplaceAll(birth, "-", "") + "123"
	c, _ := clinical.NationalIDCheck(first)
	return first + string(c)
}

// radio is the radio button or checkbox of a form field with a value.
func radio(name, value string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`input[name=%q][value=%q]`, name, value))
}

// field is the input, select or textarea of a form field.
func field(name string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`[name=%q]`, name))
}

// TestPatientJourney is the core loop as a community manager does it:
// register a patient through the form, record an unstable follow-up (risk
// level 3) through the national form, find the patient on the "due" worklist
// with the date R-NEXT-UNSTABLE sets (the follow-up's date + 14 days), and
// see the risk chart on the record.
func TestPatientJourney(t *testing.T) {
	srv := startKith(t) // before the browser's minute starts
	ctx := browser(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)

	// Dates relative to today, so that the follow-up falls due within the
	// next 7 days: registered 60 days ago, followed up 10 days ago, due in 4.
	now := time.Now()
	day := func(n int) string { return now.AddDate(0, 0, n).Format(time.DateOnly) }
	registered, visited, due := day(-60), day(-10), day(4)
	const name = "Zhou Xiaomei 周晓梅"
	const birth = "1985-04-12"

	j.load("open Kith", chromedp.Navigate(srv.URL+"/"))
	j.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("f-username"), "manager"),
		chromedp.SendKeys(chromedp.ID("f-password"), demo.Password),
	)
	j.load("sign in", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	j.expect("home page shows the worklists", "main", "Your worklists")

	j.load("open the register", chromedp.Click(chromedp.CSS(`nav.menu a[href="/patients"]`)))
	j.expect("register page", "main h1", "Patients")
	j.load("open the registration form", chromedp.Click(chromedp.CSS(`main a[href="/patients/new"]`)))
	j.expect("registration form", "main h1", "Register patient")
	j.do("fill in the registration form",
		chromedp.SendKeys(field("name"), name),
		chromedp.Click(radio("sex", "female")),
		chromedp.SetValue(field("birth_date"), birth),
		chromedp.SendKeys(field("national_id"), nationalID(birth)),
		chromedp.SendKeys(field("phone"), "13800138000"),
		chromedp.SendKeys(field("address"), "Anning Road 3"),
		chromedp.SendKeys(field("guardian.name"), "Zhou Da 周大"),
		chromedp.SendKeys(field("guardian.relation"), "father"),
		chromedp.SendKeys(field("guardian.phone"), "13900139000"),
		chromedp.SetValue(field("registered_on"), registered),
		chromedp.SetValue(field("diagnoses[0].code"), "schizophrenia"),
		chromedp.Click(chromedp.ID("f-consent")),
		chromedp.SetValue(field("consent_on"), registered),
	)
	j.load("register", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	j.expect("registered", "main .flash", "Patient registered")
	j.expect("record page", "main h1", name)

	j.load("open the follow-up form", chromedp.Click(chromedp.CSS(`nav.actions a[href$="/follow-ups/new"]`)))
	j.expect("follow-up form", "main h1", "Record a follow-up")
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(field("date"), visited),
		chromedp.Click(radio("mode", "home_visit")),
		chromedp.Click(radio("risk_level", "3")),
		chromedp.Click(radio("psychotic_symptoms", "some")),
		chromedp.Click(radio("symptoms", "suspiciousness")),
		chromedp.Click(radio("insight", "partial")),
		chromedp.Click(radio("sleep", "fair")),
		chromedp.Click(radio("diet", "good")),
	}
	for _, area := range []string{"self_care", "housework", "work", "learning", "social_contact"} {
		actions = append(actions, chromedp.Click(radio("social_function."+area, "fair")))
	}
	actions = append(actions,
		chromedp.SendKeys(field("dangerous_behaviour.causing_trouble"), "1"),
		chromedp.Click(radio("medication_adherence", "intermittent")),
		chromedp.Click(radio("adverse_reaction", "none")),
		chromedp.Click(radio("physical_illness", "none")),
		chromedp.SendKeys(field("medications[0].name"), "risperidone"),
		chromedp.SendKeys(field("medications[0].dose"), "2 mg"),
		chromedp.SendKeys(field("medications[0].frequency"), "twice a day"),
		chromedp.SendKeys(field("notes"), "Smashed a chair; referred."),
		// The follow-up records the referral it made, which answers the
		// risk flag (R-ALERT-DUE): the due date stays R-NEXT-UNSTABLE's.
		chromedp.SetAttributeValue(chromedp.ID("s-referral"), "open", ""),
		chromedp.Click(radio("referral.referred", "yes")),
		chromedp.SendKeys(field("referral.to"), "District hospital"),
	)
	j.do("fill in the follow-up form", actions...)
	j.load("record the follow-up", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	j.expect("follow-up recorded as unstable (R-CLASS-UNSTABLE, in words)", "main .flash.recorded", "refer to a higher-level hospital at once")
	j.expect("next follow-up by R-NEXT-UNSTABLE, in words", "main .flash.recorded", "Unstable: follow up within 2 weeks")
	j.expect("next follow-up date", "main .flash.recorded", due)

	j.load("open the worklist", chromedp.Click(chromedp.CSS(`nav.menu a[href="/worklist"]`)))
	j.load("open the due tab", chromedp.Click(chromedp.CSS(`nav.tabs a[href*="kind=due"]`)))
	j.expect("due tab", "nav.tabs a[aria-current]", "Due in 7 days")
	row := fmt.Sprintf(`//table//tr[td/a[contains(., %q)]]`, name)
	rowText, err := chromedp.Run(ctx, chromedp.Text(chromedp.Search(row), chromedp.NodeVisible))
	if err != nil {
		j.fail("find the patient on the due worklist", err)
	}
	if !strings.Contains(rowText, due) || !strings.Contains(rowText, "Unstable: follow up within 2 weeks") || strings.Contains(rowText, "R-NEXT") {
		j.fail("due date on the worklist", fmt.Errorf("row shows %q, want due %s by R-NEXT-UNSTABLE in words", rowText, due))
	}
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(
		`document.evaluate(%q, document, null, XPathResult.STRING_TYPE, null).stringValue`, row+`//small[@class="rule"]/@title`)))
	if err != nil || !strings.Contains(title, "R-NEXT-UNSTABLE") {
		j.fail("the rule's identifier in the tooltip", fmt.Errorf("title %q, %v", title, err))
	}

	j.load("open the record from the worklist", chromedp.Click(chromedp.Search(row+`/td/a[contains(., "Zhou")]`)))
	j.expect("record page", "main h1", name)
	j.do("the chart is drawn", chromedp.WaitVisible(chromedp.ID("risk-chart")))
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.Chart.getChart(document.getElementById("risk-chart")) !== undefined`))
	if err != nil || !drawn {
		j.fail("Chart.js drew the risk chart", fmt.Errorf("drawn %v, %v", drawn, err))
	}

	for _, m := range consoleErrors() {
		t.Errorf("browser console: %s", m)
	}
}
