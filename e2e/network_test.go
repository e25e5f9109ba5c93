package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestResidentReadsAndFindsHelp: on a phone, in Chinese, a resident opens
// the public site, reads an article, and finds the services serving their
// community, each phone number a link that calls it; a community manager
// finds the same network as cards.
func TestResidentReadsAndFindsHelp(t *testing.T) {
	ctx := browser(t)
	srv := startKith(t)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)

	j.do("a phone-sized screen", chromedp.EmulateViewport(390, 844))
	j.load("open the public site", chromedp.Navigate(srv.URL+"/public/"))
	j.load("switch to Chinese", chromedp.Click(chromedp.CSS(`header button[name="lang"][value="zh-Hans"]`)))
	j.do("page in Chinese", chromedp.WaitReady(chromedp.CSS(`html[lang="zh-Hans"]`)))

	j.load("open the articles", chromedp.Click(chromedp.CSS(`main a[href="/public/articles"]`)))
	j.expect("the articles in Chinese", "main h1", "心理健康科普")
	j.load("open an article", chromedp.Click(chromedp.CSS(`main ul.articles a[href="/public/articles/renshi-yiyu"]`)))
	j.expect("the article", "main article h1", "认识抑郁")
	j.expect("its Markdown rendered", "main article h2", "常见表现")
	fits := func(step string) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		if err != nil || !ok {
			j.fail(step, fmt.Errorf("the page scrolls sideways at 390 px: %v", err))
		}
	}
	fits("the article fits a phone")

	j.load("find services", chromedp.Click(chromedp.CSS(`main section.help a[href="/public/services"]`)))
	j.expect("the directory", "main h1", "查找身边的帮助")
	j.do("choose the community", chromedp.SetValue(chromedp.ID("d-community"), "C0101"))
	j.load("show its services", chromedp.Click(chromedp.CSS(`main form.nearest button[type="submit"]`)))
	j.expect("the community's own first", "main h2", "安宁社区")
	j.expect("the station", "main ul.services", "安宁社区卫生服务站")
	calls, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('main ul.services a.phone[href^="tel:"]').length`))
	if err != nil || calls < 3 {
		j.fail("every service has a number to call", fmt.Errorf("%d tel: links, %v", calls, err))
	}
	text := j.text("the district's services too", "main")
	if !strings.Contains(text, "区精神卫生中心门诊") {
		j.fail("the district hospital is listed", fmt.Errorf("%q", text))
	}
	fits("the directory fits a phone")

	// A community manager looks the network up on a phone: cards with
	// numbers to call.
	j.signIn(srv.URL, "manager")
	j.load("the service network", chromedp.Navigate(srv.URL+"/services"))
	j.do("cards with a number to call", chromedp.WaitVisible(chromedp.CSS(`table.services tbody tr:first-child td a.call[href^="tel:"]`)))
	fits("the staff list fits a phone")
	j.load("a service", chromedp.Click(chromedp.CSS(`table.services tbody tr:first-child td.card-title a`)))
	fits("a service fits a phone")
	j.load("write an article", chromedp.Navigate(srv.URL+"/articles/new"))
	j.do("write it",
		chromedp.SendKeys(chromedp.ID("f-title"), "Sleep"),
		chromedp.SendKeys(chromedp.ID("f-body_markdown"), "## Rest\n\n| a | b |\n|---|---|\n| 1 | 2 |"),
	)
	j.load("preview it", chromedp.Click(chromedp.CSS(`main button[value="preview"]`)))
	j.expect("the preview", "main section.preview h2 + article h2", "Rest")
	fits("the article form fits a phone")
	if errs := consoleErrors(); len(errs) > 0 {
		j.fail("no console errors", fmt.Errorf("%v", errs))
	}
}
