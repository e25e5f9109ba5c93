package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/demo"
	"kith/internal/kpi"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestFigurePages opens the figures pages of the demo district, filled with
// generated patients, as the roles that see them and as those that do not,
// and checks every number shown against the service's own.
func TestFigurePages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		now := time.Now().In(care.DefaultZone()) // the service's today is in the installation's zone
		if _, err := demo.Patients(context.Background(), db, svc, 60, now, 1); err != nil {
			t.Fatal(err)
		}
		// Last month: whole, and with follow-ups in it.
		thisMonth, _ := kpi.ParsePeriod(clinical.DateOf(now).String()[:7])
		per := thisMonth.Previous()
		period := "period=" + per.String()
		monthName := per.From.Month.String() + " " + strconv.Itoa(per.From.Year)

		psyCtx := care.WithActor(context.Background(), &care.Actor{Username: "psychiatrist", Role: auth.Psychiatrist,
			UnitCode: demo.District, UnitPath: "/" + demo.District + "/"})
		want, err := svc.Figures(psyCtx, demo.District, per, kpi.DefaultTargets())
		if err != nil {
			t.Fatal(err)
		}
		mgmt, _ := kpi.Find(want.Figures, kpi.ManagementRate)
		if mgmt.Numerator == 0 || mgmt.Denominator == 0 || mgmt.Value == nil {
			t.Fatalf("the demo district has no management rate last month: %+v", mgmt)
		}
		listed, _, err := svc.FigurePatients(psyCtx, demo.District, per, kpi.ManagementRate, care.Page{})
		if err != nil || len(listed) == 0 {
			t.Fatalf("patients behind the management rate: %v, %v", listed, err)
		}
		kids, err := svc.ChildFigures(psyCtx, demo.District, per, kpi.DefaultTargets())
		if err != nil || len(kids) != 3 {
			t.Fatalf("children: %v, %v", kids, err)
		}

		psy := newBrowser(t, srv)
		psy.signIn("psychiatrist")
		district := newBrowser(t, srv)
		district.signIn("district")

		ratio := func(f kpi.Figure) string {
			return fmt.Sprintf(`<span class="numerator">%d</span> / <span class="denominator">%s</span>`, f.Numerator,
				thousands(f.Denominator))
		}

		t.Run("Dashboard", func(t *testing.T) {
			for _, b := range []*browser{psy, district} {
				body := b.page("/figures?"+period, http.StatusOK)
				contains(t, body, `<a href="/figures" aria-current="page">Figures</a>`, "Figures: Riverside District",
					monthName, ratio(mgmt), fmt.Sprintf("%.2f%%", *mgmt.Value),
					`href="/figures/management_rate/patients?org_unit=D01&amp;`+period+`"`,
					"Kith&#39;s own definition; no official formula exists.",
					`href="/figures?org_unit=S01&amp;`+period+`"`, `href="/figures?org_unit=S02&amp;`+period+`"`,
					`id="trend-chart" data-figures="`, `id="class-chart" data-figures="`, `id="risk-chart" data-figures="`,
					"/static/vendor/chart-4.6.1.umd.min.js", "/static/kith.js", "Target 80%",
					`href="/figures/report?org_unit=D01&amp;`+period+`"`,
					`href="/figures/export?format=csv&amp;org_unit=D01&amp;`+period+`&amp;table=figures"`)
				for _, k := range kpi.Keys {
					contains(t, body, `id="fig-`+string(k)+`"`)
				}
				if mgmt.BelowTarget {
					contains(t, body, `<div class="tile below" id="fig-management_rate">`, "below target")
				}
				// Every rate shows its numerator and denominator.
				for _, f := range want.Figures {
					if f.Unit != kpi.Count {
						contains(t, body, ratio(f))
					}
				}
				// Figures without a list behind them lead nowhere.
				lacks(t, body, "/figures/emergencies/patients", "/figures/registered_prevalence/patients")
				noInline(t, body)
				// Without a read pool the figures are current, and say as of when.
				contains(t, body, `<p class="as-of">Data as of `)
			}
			// The worklist counts are for the clinical roles.
			contains(t, psy.page("/figures?"+period, http.StatusOK), "Worklists today", `href="/worklist?kind=overdue&amp;org_unit=D01"`)
			lacks(t, district.page("/figures?"+period, http.StatusOK), "Worklists today")

			// Without a period, the year to date, read and audited once.
			svc.Drain()
			var before, after int
			if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&before); err != nil {
				t.Fatal(err)
			}
			year := strconv.Itoa(thisMonth.From.Year)
			contains(t, psy.page("/figures", http.StatusOK), `<a href="/figures?period=`+year+`" aria-current="page">Year to date</a>`)
			svc.Drain() // a read of counts is audited after it is answered
			if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&after); err != nil {
				t.Fatal(err)
			}
			if after-before != 1 {
				t.Errorf("opening the dashboard wrote %d audit entries, want 1", after-before)
			}
			// The patients a rate leaves out, beside those it counts.
			left := psy.page("/figures/management_rate/patients?counted=false&"+period, http.StatusOK)
			contains(t, left, `aria-current="page">Not counted (to follow up)`, "counted=false")
			psy.page("/figures/overdue/patients?counted=false&"+period, http.StatusNotFound)
			// A child unit's own dashboard, with the way back up.
			s01 := psy.page("/figures?org_unit=S01&"+period, http.StatusOK)
			contains(t, s01, "Figures: Qinghe Street", `<p class="crumbs path"><a href="/figures?org_unit=D01&amp;`+period+`">Riverside District`,
				`href="/figures?org_unit=C0101&amp;`+period+`"`)
			// A community has no units beneath it.
			lacks(t, psy.page("/figures?org_unit=C0101&"+period, http.StatusOK), `id="units"`)
		})

		t.Run("ChildrenSorted", func(t *testing.T) {
			order := func(body string) []string {
				var out []string
				for _, k := range kids {
					out = append(out, k.OrgUnit)
				}
				slices.SortStableFunc(out, func(a, b string) int {
					return strings.Index(body, `title="`+a+`">`) - strings.Index(body, `title="`+b+`">`)
				})
				return out
			}
			value := func(code string, k kpi.Key) float64 {
				for _, s := range kids {
					if s.OrgUnit == code {
						f, _ := kpi.Find(s.Figures, k)
						if f.Value == nil {
							return -1
						}
						return *f.Value
					}
				}
				return -1
			}
			// Worst first: the lowest management rate at the top.
			body := psy.page("/figures?"+period, http.StatusOK)
			got := order(body)
			for i := 1; i < len(got); i++ {
				if value(got[i-1], kpi.ManagementRate) > value(got[i], kpi.ManagementRate) {
					t.Errorf("default order %v is not worst first by management rate", got)
				}
			}
			contains(t, body, `aria-sort="ascending"`)
			// Any column, either way.
			got = order(psy.page("/figures?"+period+"&sort=registered&dir=desc", http.StatusOK))
			for i := 1; i < len(got); i++ {
				if value(got[i-1], kpi.Registered) < value(got[i], kpi.Registered) {
					t.Errorf("order %v is not by registered, most first", got)
				}
			}
			got = order(psy.page("/figures?"+period+"&sort=name&dir=desc", http.StatusOK))
			names := map[string]string{}
			for _, k := range kids {
				names[k.OrgUnit] = k.Name
			}
			if !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(names[b], names[a]) }) {
				t.Errorf("order %v is not by name, Z to A", got)
			}
		})

		t.Run("DrillDown", func(t *testing.T) {
			body := psy.page("/figures/management_rate/patients?"+period, http.StatusOK)
			contains(t, body, "<h1>Management rate</h1>", ratio(mgmt), listed[0].Name,
				`href="/patients/`+strconv.FormatInt(listed[0].PatientID, 10)+`"`,
				`href="/figures/management_rate/patients?format=csv&amp;org_unit=D01&amp;`+period+`"`)
			noInline(t, body)
			if n := strings.Count(body, `<td><a href="/patients/`); n != len(listed) {
				t.Errorf("%d patients listed, want %d", n, len(listed))
			}
			// A list longer than a page leads to the next: the register.
			reg, _ := kpi.Find(want.Figures, kpi.Registered)
			if reg.Numerator <= care.DefaultLimit {
				t.Fatalf("only %d registered: no second page", reg.Numerator)
			}
			nextLink := regexp.MustCompile(`href="(/figures/registered/patients\?[^"]+)" rel="next"`)
			rows, pages := 0, 0
			for next := "/figures/registered/patients?" + period; next != "" && pages < 5; pages++ {
				body := psy.page(next, http.StatusOK)
				rows += strings.Count(body, `<td><a href="/patients/`)
				next = ""
				if m := nextLink.FindStringSubmatch(body); m != nil {
					next = strings.ReplaceAll(m[1], "&amp;", "&")
				}
			}
			if pages != 2 || int64(rows) != reg.Numerator {
				t.Errorf("%d patients on %d pages, want %d on 2", rows, pages, reg.Numerator)
			}
			// The district administrator sees the counts, never the names.
			body = district.page("/figures/management_rate/patients?"+period, http.StatusOK)
			contains(t, body, "Your role sees the figures but not the patients behind them.", ratio(mgmt), "break-the-glass")
			lacks(t, body, listed[0].Name, `href="/patients/`, "format=csv")
			district.page("/figures/management_rate/patients?format=csv&"+period, http.StatusForbidden)

			// Figures without a list, and figures that do not exist.
			psy.page("/figures/emergencies/patients", http.StatusNotFound)
			psy.page("/figures/nonsense/patients", http.StatusNotFound)
			contains(t, psy.page("/figures/management_rate/patients?period=2026-13", http.StatusUnprocessableEntity),
				"must be a month (2026-11)")
		})

		t.Run("NotForEveryone", func(t *testing.T) {
			for _, u := range []string{"caregroup", "admin"} {
				b := newBrowser(t, srv)
				b.signIn(u)
				lacks(t, b.page("/", http.StatusOK), `href="/figures"`)
				for _, path := range []string{"/figures", "/figures?" + period, "/figures/report", "/figures/management_rate/patients",
					"/figures/export?table=figures&format=csv"} {
					contains(t, b.page(path, http.StatusForbidden), "Not allowed")
				}
			}
			// The district administrator's home leads to the dashboard.
			contains(t, district.page("/", http.StatusOK), `<a href="/figures" role="button">Open the figures dashboard</a>`,
				`<a href="/figures">Figures</a>`)
			contains(t, psy.page("/", http.StatusOK), `<a href="/figures" role="button">Open the figures dashboard</a>`)
		})

		t.Run("ExportCSV", func(t *testing.T) {
			zh := newBrowser(t, srv)
			zh.header.Set("Accept-Language", "zh-CN,zh;q=0.9")
			zh.signIn("psychiatrist")
			resp, body := zh.get("/figures/export?table=figures&format=csv&" + period)
			rows := readCSV(t, resp, body, "attachment; filename=kith-figures-D01-"+per.String()+".csv")
			contains(t, strings.Join(rows[0], ","), "编码", "组织单位", "指标", "数值", "分子", "分母", "上期数值", "变化", "目标值", "数据截至")
			if len(rows) != 1+len(kpi.Keys) {
				t.Fatalf("%d rows, want a header and %d figures", len(rows), len(kpi.Keys))
			}
			r := rows[1+slices.Index(kpi.Keys, kpi.ManagementRate)]
			if r[0] != "D01" || r[4] != "management_rate" || r[5] != "管理率" || r[8] != strconv.FormatInt(mgmt.Numerator, 10) ||
				r[9] != strconv.FormatInt(mgmt.Denominator, 10) || r[6] != strconv.FormatFloat(*mgmt.Value, 'f', -1, 64) {
				t.Errorf("management rate row %q, want %d / %d = %v", r, mgmt.Numerator, mgmt.Denominator, *mgmt.Value)
			}
			// When the figures were counted, in the installation's zone.
			if at := r[len(r)-1]; len(at) != len("2006-01-02 15:04") || !strings.HasPrefix(at, "20") {
				t.Errorf("as of %q", at)
			}

			resp, body = zh.get("/figures/export?table=units&format=csv&" + period)
			rows = readCSV(t, resp, body, "attachment; filename=kith-units-D01-"+per.String()+".csv")
			contains(t, strings.Join(rows[0], ","), "管理率（%）", "管理率：分子", "管理率：分母", "失访")
			if len(rows) != 1+len(kids) {
				t.Errorf("%d rows, want a header and %d units", len(rows), len(kids))
			}

			svc.Drain() // the figures read before, audited after it was answered
			var before, after int
			if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&before); err != nil {
				t.Fatal(err)
			}
			resp, body = zh.get("/figures/management_rate/patients?format=csv&" + period)
			rows = readCSV(t, resp, body, "attachment; filename=kith-management_rate-D01-"+per.String()+".csv")
			// The whole list in one read (care.FigureList), audited once.
			if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'figures.patients'
				AND outcome = 'allowed' AND detail = ?`, "management_rate "+per.String()+" export").Scan(&after); err != nil || after != 1 {
				t.Errorf("%d audit entries of the export, %v; want 1", after, err)
			}
			if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&after); err != nil || after-before != 1 {
				t.Errorf("the export wrote %d audit entries, %v; want 1", after-before, err)
			}
			contains(t, strings.Join(rows[0], ","), "患者编号", "姓名", "社区", "随访分类")
			if rows[1][2] == "" || strings.HasPrefix(rows[1][2], "C0") {
				t.Errorf("the community by code, not name: %q", rows[1])
			}
			if int64(len(rows)) != 1+mgmt.Numerator {
				t.Errorf("%d rows, want a header and %d patients", len(rows), mgmt.Numerator)
			}
			if rows[1][0] != strconv.FormatInt(listed[0].PatientID, 10) || rows[1][1] != listed[0].Name {
				t.Errorf("first patient %q, want %d %s", rows[1], listed[0].PatientID, listed[0].Name)
			}

			// The district administrator exports the figures, not the names.
			resp, body = district.get("/figures/export?table=units&format=csv&" + period)
			readCSV(t, resp, body, "attachment; filename=kith-units-D01-"+per.String()+".csv")

			// In English, English headers.
			resp, body = psy.get("/figures/export?table=figures&format=csv&" + period)
			rows = readCSV(t, resp, body, "attachment; filename=kith-figures-D01-"+per.String()+".csv")
			contains(t, strings.Join(rows[0], ","), "Code,Org unit,From,To,Key,Figure,Value,Unit,Numerator,Denominator")

			for _, bad := range []string{"/figures/export?table=figures&format=pdf", "/figures/export?table=people&format=csv",
				"/figures/management_rate/patients?format=doc"} {
				psy.page(bad, http.StatusUnprocessableEntity)
			}
		})

		t.Run("ExportXLSX", func(t *testing.T) {
			for _, tt := range []struct {
				path, file string
				rows       int
			}{
				{"/figures/export?table=figures&format=xlsx&" + period, "kith-figures-D01", 1 + len(kpi.Keys)},
				{"/figures/export?table=units&format=xlsx&" + period, "kith-units-D01", 1 + len(kids)},
				{"/figures/management_rate/patients?format=xlsx&" + period, "kith-management_rate-D01", 1 + int(mgmt.Numerator)},
			} {
				resp, body := psy.get(tt.path)
				if resp.StatusCode != http.StatusOK ||
					resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
					resp.Header.Get("Content-Disposition") != "attachment; filename="+tt.file+"-"+per.String()+".xlsx" {
					t.Fatalf("%s: status %d, %q, %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"),
						resp.Header.Get("Content-Disposition"))
				}
				f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
				if err != nil {
					t.Fatalf("%s: %v", tt.path, err)
				}
				rows, err := f.GetRows(f.GetSheetList()[0])
				f.Close()
				if err != nil || len(rows) != tt.rows {
					t.Errorf("%s: %d rows, %v; want %d", tt.path, len(rows), err, tt.rows)
				}
			}
		})

		t.Run("Report", func(t *testing.T) {
			body := psy.page("/figures/report?org_unit=D01&"+period, http.StatusOK)
			contains(t, body, "Monthly figures report", "Riverside District", monthName, "Printed ", "by Dr Chen Hua",
				`data-print hidden`, "Print this page with your browser", `id="trend-chart"`, `id="class-chart"`, `id="risk-chart"`,
				"Units beneath, side by side", "Qinghe Street", fmt.Sprintf("%d / %s", mgmt.Numerator, thousands(mgmt.Denominator)),
				per.Previous().From.Month.String())
			noInline(t, body)
			contains(t, district.page("/figures/report?"+period, http.StatusOK), "Monthly figures report")
			contains(t, psy.page("/figures/report?period="+per.From.String()[:4], http.StatusOK), "<h1>Figures report</h1>")
			psy.page("/figures/report?period=last-month", http.StatusUnprocessableEntity)
		})

		t.Run("BadPeriod", func(t *testing.T) {
			for _, tt := range []struct{ query, message, value string }{
				{"period=2026-13", "must be a month (2026-11), a quarter (2026-Q4), a year (2026) or a range", ""},
				{"period_kind=month&month=nope", "must be a month, YYYY-MM", `value="nope"`},
				{"period_kind=range&from=2026-03-01&to=2026-01-31", "must not be before the start of the period", `value="2026-01-31"`},
				{"period_kind=range&from=2026-02-30&to=2026-03-31", "must be a date, YYYY-MM-DD", `value="2026-02-30"`},
				{"period_kind=week", "must be month, quarter, year or range", ""},
				{"period=0001", "must lie between the years 1900 and 2999", ""},
				{"period_kind=range&from=1000-01-01&to=1000-02-01", "must lie between the years 1900 and 2999", `value="1000-01-01"`},
				{period + "&target.management_rate=150", "must be a number from 0 to 100", `value="150"`},
				{"org_unit=NOPE", "no org unit you may see has this code", ""},
			} {
				body := psy.page("/figures?"+tt.query, http.StatusUnprocessableEntity)
				contains(t, body, tt.message, `<div class="errors" role="alert">`, `action="/figures"`, tt.value)
				lacks(t, body, `class="tiles"`)
				if !strings.HasPrefix(tt.query, "org_unit=") { // a period in error is none of the presets
					lacks(t, body, `aria-current="page">This month`)
				}
			}
			zh := newBrowser(t, srv)
			zh.header.Set("Accept-Language", "zh-CN")
			zh.signIn("district")
			contains(t, zh.page("/figures?period_kind=month&month=nope", http.StatusUnprocessableEntity), "须为月份，格式为 YYYY-MM")
		})

		t.Run("Periods", func(t *testing.T) {
			q := per.From.String()[:4] + "-Q" + strconv.Itoa((int(per.From.Month)-1)/3+1)
			contains(t, psy.page("/figures?period_kind=quarter&quarter="+q, http.StatusOK), "Q"+q[6:]+" "+q[:4],
				`href="/figures/report?org_unit=D01&amp;period=`+q+`"`)
			contains(t, psy.page("/figures?period_kind=year&year="+q[:4], http.StatusOK), `<option value="year" selected>`)
			body := psy.page("/figures?period_kind=range&from="+per.From.String()+"&to="+per.To.String(), http.StatusOK)
			contains(t, body, per.From.String()+" to "+per.To.String(), ratio(mgmt))
			contains(t, psy.page("/figures?period_kind=month&month="+per.String(), http.StatusOK), ratio(mgmt))
		})

		t.Run("Targets", func(t *testing.T) {
			body := psy.page("/figures?"+period+"&target.management_rate=0&target.stability_rate=99.5", http.StatusOK)
			contains(t, body, `<div class="tile" id="fig-management_rate">`, "Target 0%", "Target 99.5%", "<details class=\"targets\" open>",
				// Links keep the targets that differ from the defaults.
				`target.management_rate=0`, `target.stability_rate=99.5`)
			lacks(t, body, `target.regular_medication_rate=60`)
			// An empty target is none.
			body = psy.page("/figures?"+period+"&target.management_rate=", http.StatusOK)
			lacks(t, body, "Target 0%")
			tile, _, _ := strings.Cut(body[strings.Index(body, `id="fig-management_rate"`):], "</div>")
			if strings.Contains(tile, "Target ") || strings.Contains(tile, "below") {
				t.Errorf("the management rate keeps a target that was cleared:\n%s", tile)
			}
		})

		t.Run("Chinese", func(t *testing.T) {
			zh := newBrowser(t, srv)
			zh.header.Set("Accept-Language", "zh-CN")
			zh.signIn("psychiatrist")
			body := zh.page("/figures?"+period, http.StatusOK)
			contains(t, body, `<html lang="zh-Hans">`, "统计指标：Riverside District", "管理率", "规范管理率", "规律服药率", "病情稳定率", "面访率",
				"此为 Kith 自定义的口径", "下级单位对比", "近 12 个月趋势", "病情分类", "危险性等级",
				strconv.Itoa(per.From.Year)+"年"+strconv.Itoa(int(per.From.Month))+"月")
			contains(t, zh.page("/figures/report?"+period, http.StatusOK), "月度统计指标报告")
		})

		t.Run("Empty", func(t *testing.T) {
			admin := care.WithActor(context.Background(), &care.Actor{Username: "admin", Role: auth.Admin})
			if _, err := svc.CreateUnit(admin, care.UnitInput{Code: "C0104", Name: "Willow Community", Level: "community",
				ParentCode: "S01", Population: 1200}); err != nil {
				t.Fatal(err)
			}
			body := psy.page("/figures?org_unit=C0104&"+period, http.StatusOK)
			contains(t, body, "No patients were on the register of Willow Community")
			lacks(t, body, `class="tiles"`, `id="trend-chart"`)
			// Side by side, it has no rates to show.
			contains(t, psy.page("/figures?org_unit=S01&"+period, http.StatusOK), "Willow Community")
		})
	})
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// readCSV checks an exported CSV file's headers and byte order mark and
// returns its rows.
func readCSV(t *testing.T, resp *http.Response, body, disposition string) [][]string {
	t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != disposition || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Content-Type %q, Content-Disposition %q, Cache-Control %q; want 200, CSV, %q\n%s", resp.StatusCode,
			resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), resp.Header.Get("Cache-Control"), disposition, body)
	}
	rest, ok := strings.CutPrefix(body, "\uFEFF")
	if !ok {
		t.Fatal("the CSV file does not start with a UTF-8 byte order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(rest)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("CSV: %v, %d rows", err, len(rows))
	}
	return rows
}
