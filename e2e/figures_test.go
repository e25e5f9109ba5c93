package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kith/internal/demo"
)

// TestFiguresDashboard is the district figures as a psychiatrist uses
// them: open the dashboard of the demo district, see the charts drawn,
// choose last month, click the management rate and find the patients
// behind it, then open the printable report.
func TestFiguresDashboard(t *testing.T) {
	ctx := browser(t)
	srv := startKithWithPatients(t, 120)
	j := &journey{t: t, ctx: ctx}
	consoleErrors := watchConsole(t, ctx)

	j.load("open Kith", chromedp.Navigate(srv.URL+"/"))
	j.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("f-username"), "psychiatrist"),
		chromedp.SendKeys(chromedp.ID("f-password"), demo.Password),
	)
	j.load("sign in", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	j.load("open the figures", chromedp.Click(chromedp.CSS(`nav.menu a[href="/figures"]`)))
	j.expect("dashboard", "main h1", "Figures: Riverside District")

	j.load("choose last month", chromedp.Click(chromedp.CSS(`nav.presets li:nth-child(2) a`)))
	j.expect("last month chosen", `nav.presets a[aria-current="page"]`, "Last month")
	j.do("the charts are drawn", chromedp.WaitVisible(chromedp.ID("trend-chart")), chromedp.WaitVisible(chromedp.ID("risk-chart")))
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`Array.from(document.querySelectorAll("canvas[data-figures]")).filter(c => window.Chart.getChart(c) !== undefined).length`))
	if err != nil || drawn != 3 {
		j.fail("Chart.js drew the trend, classification and risk charts", fmt.Errorf("%d of 3 drawn, %v", drawn, err))
	}
	// The period form shows the month's field only.
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`Array.from(document.querySelectorAll("[data-period]")).filter(e => !e.hidden).map(e => e.dataset.period).join(",")`))
	if err != nil || shown != "month" {
		j.fail("only the month field of the period form shows", fmt.Errorf("shown %q, %v", shown, err))
	}

	ratio := j.text("the management rate's numerator and denominator", "#fig-management_rate .ratio")
	m := regexp.MustCompile(`^([0-9,]+) / ([0-9,]+)$`).FindStringSubmatch(strings.TrimSpace(ratio))
	if m == nil || m[1] == "0" {
		j.fail("the management rate has patients behind it", fmt.Errorf("ratio %q", ratio))
	}
	j.load("click the management rate", chromedp.Click(chromedp.CSS(`#fig-management_rate .value a`)))
	j.expect("the list behind the management rate", "main h1", "Management rate")
	j.expect("the same numbers", "main .tile .ratio", m[1]+" / "+m[2])
	name := j.text("a patient's name on the list", "table.figure-list tbody tr:first-child td:first-child a")
	if strings.TrimSpace(name) == "" {
		j.fail("a patient's name on the list", fmt.Errorf("empty name"))
	}
	j.load("open the patient's record", chromedp.Click(chromedp.CSS(`table.figure-list tbody tr:first-child td:first-child a`)))
	j.expect("the patient's record", "main h1", strings.TrimSpace(name))

	j.load("back to the figures", chromedp.Click(chromedp.CSS(`nav.menu a[href="/figures"]`)))
	j.load("open the monthly report", chromedp.Click(chromedp.CSS(`main .titlebar a[href^="/figures/report"]`)))
	j.expect("report", "main h1", "Figures report")
	j.do("the report's charts and Print button", chromedp.WaitVisible(chromedp.ID("trend-chart")),
		chromedp.WaitVisible(chromedp.CSS(`button[data-print]`)))

	for _, m := range consoleErrors() {
		t.Errorf("browser console: %s", m)
	}
}
