package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"kith/internal/demo"
)

// TestPublicScreening is a resident's journey on a phone: open the public
// site, switch to Chinese, take PHQ-9 one question at a time, answer item 9
// above 0 and see the crisis box with the hotlines above the result, ask a
// community worker to call; then the community's manager signs in and
// finds the request on the contacts worklist.
func TestPublicScreening(t *testing.T) {
	ctx := browser(t)
	srv := startKith(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)
	const name = "Resident Wu 吴先生"

	j.do("a phone-sized screen", chromedp.EmulateViewport(390, 844))
	j.load("open the public site", chromedp.Navigate(srv.URL+"/public/"))
	j.expect("home page", "main h1", "Community mental health service")
	j.expect("hotlines in the header", "header .hotline-strip", "12356")

	j.load("switch to Chinese", chromedp.Click(chromedp.CSS(`header button[name="lang"][value="zh-Hans"]`)))
	j.do("page in Chinese", chromedp.WaitReady(chromedp.CSS(`html[lang="zh-Hans"]`)))
	j.expect("home page in Chinese", "main h1", "社区精神卫生服务")

	j.load("open PHQ-9", chromedp.Click(chromedp.CSS(`main a[href="/public/screening/phq9"]`)))
	j.expect("PHQ-9 in Chinese", "main h1", "患者健康问卷")
	j.do("one question at a time",
		chromedp.WaitVisible(chromedp.ID("item-phq9_1")),
		chromedp.WaitNotVisible(chromedp.ID("item-phq9_2")),
		chromedp.WaitNotVisible(chromedp.ID("s-community")),
	)
	j.expect("progress count", "form.screening .progress", "第 1 题，共 9 题")

	// Answers 1, 1, 0, 1, 0, 0, 0, 0 and item 9 at 1: a score of 4, with
	// thoughts of self-harm.
	values := []string{"1", "1", "0", "1", "0", "0", "0", "0", "1"}
	for i, v := range values {
		item := fmt.Sprintf("item-phq9_%d", i+1)
		j.do("answer question "+fmt.Sprint(i+1),
			chromedp.WaitVisible(chromedp.ID(item)),
			chromedp.Click(radio(fmt.Sprintf("phq9_%d", i+1), v)),
			chromedp.WaitNotVisible(chromedp.ID(item)),
		)
		if i == 2 {
			// Back to question 3: the answer is kept; on again with Next.
			j.do("go back", chromedp.Click(chromedp.CSS(`form.screening .stepper button.back`)),
				chromedp.WaitVisible(chromedp.ID("item-phq9_3")))
			checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('input[name="phq9_3"][value="0"]').checked`))
			if err != nil || !checked {
				j.fail("the answer to question 3 is kept", fmt.Errorf("checked %v, %v", checked, err))
			}
			j.do("go on", chromedp.Click(chromedp.CSS(`form.screening .stepper button.next`)),
				chromedp.WaitVisible(chromedp.ID("item-phq9_4")))
			j.expect("progress count", "form.screening .progress", "第 4 题，共 9 题")
		}
	}
	j.do("the last step: community and submit",
		chromedp.WaitVisible(chromedp.ID("s-community")),
		chromedp.SetValue(chromedp.ID("s-community"), "C0101"),
	)
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	if err != nil || !fits {
		j.fail("the form fits the phone's width", fmt.Errorf("fits %v, %v", fits, err))
	}
	j.load("see the result", chromedp.Click(chromedp.CSS(`form.screening button[type="submit"]`)))
	j.expect("the crisis box", "#crisis", "12356")
	j.expect("the crisis box in Chinese", "#crisis h2", "请现在就找人谈一谈")
	above, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () {
		var crisis = document.getElementById("crisis"), result = document.getElementById("result");
		var header = document.querySelector("header");
		return document.querySelector("body > section, body > header") === crisis &&
			crisis.getBoundingClientRect().bottom <= header.getBoundingClientRect().top + 1 &&
			crisis.getBoundingClientRect().top < result.getBoundingClientRect().top;
	})()`))
	if err != nil || !above {
		j.fail("the crisis box is above everything", fmt.Errorf("above %v, %v", above, err))
	}
	j.expect("the result", "#result", "4")
	j.expect("the band in Chinese", "#result .band", "没有或极轻微")

	j.do("fill in the contact request",
		chromedp.SendKeys(chromedp.ID("c-name"), name),
		chromedp.SendKeys(chromedp.ID("c-phone"), "13800138000"),
		chromedp.SetValue(chromedp.ID("c-community"), "C0101"),
		chromedp.Click(chromedp.ID("c-consent")),
	)
	j.load("send the request", chromedp.Click(chromedp.CSS(`form.contact button[type="submit"]`)))
	j.expect("thank-you page", "main h1", "谢谢您")
	j.expect("the community will call", "main .thanks", "安宁社区")

	j.do("a desktop screen", chromedp.EmulateViewport(1280, 900))
	j.load("open the sign-in page", chromedp.Navigate(srv.URL+"/login"))
	j.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("f-username"), "manager"),
		chromedp.SendKeys(chromedp.ID("f-password"), demo.Password),
	)
	j.load("sign in", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	j.load("open the contact requests", chromedp.Navigate(srv.URL+"/worklist/contacts"))
	row := fmt.Sprintf(`//*[@data-contact-id][contains(., %q)]`, name)
	if _, err := chromedp.Run(ctx, chromedp.Text(chromedp.Search(row), chromedp.NodeVisible)); err != nil {
		j.fail("find the resident's request on the worklist", err)
	}

	for _, m := range consoleErrors() {
		t.Errorf("browser console: %s", m)
	}
}

// TestPublicDesktop checks that on a wide screen every question of a
// screening shows at once, without the step buttons.
func TestPublicDesktop(t *testing.T) {
	ctx := browser(t)
	srv := startKith(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)

	j.load("open GAD-7", chromedp.Navigate(srv.URL+"/public/screening/gad7"))
	j.do("all questions at once",
		chromedp.WaitVisible(chromedp.ID("item-gad7_1")),
		chromedp.WaitVisible(chromedp.ID("item-gad7_7")),
		chromedp.WaitVisible(chromedp.ID("s-community")),
		chromedp.WaitNotVisible(chromedp.CSS("form.screening .stepper")),
	)
	for i := 1; i <= 7; i++ {
		j.do("answer", chromedp.Click(radio(fmt.Sprintf("gad7_%d", i), "2")))
	}
	j.load("see the result", chromedp.Click(chromedp.CSS(`form.screening button[type="submit"]`)))
	j.expect("the result", "#result", "14")
	j.expect("the band", "#result .band", "Moderate")
	j.do("no crisis box", chromedp.WaitNotPresent(chromedp.ID("crisis")))

	for _, m := range consoleErrors() {
		t.Errorf("browser console: %s", m)
	}
}
