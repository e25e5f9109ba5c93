package web

import (
	"encoding/json"
	"io/fs"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/kpi"
)

func readCatalogue(t *testing.T, lang string) map[string]any {
	t.Helper()
	all := map[string]any{}
	for _, name := range catalogueFiles(lang) {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k, v := range m {
			if _, dup := all[k]; dup {
				t.Errorf("%s: %q is defined in another file too", name, k)
			}
			all[k] = v
		}
	}
	return all
}

// usedKeys finds the message ids the templates and the Go code name, and
// adds those built at run time from roles, levels, outcomes and languages.
func usedKeys(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	tmplRE := []*regexp.Regexp{
		regexp.MustCompile(`\.TN? "([^"]+)"`),
		regexp.MustCompile(`"(?:hint|blank)=([^"]+)"`),
		regexp.MustCompile(`\((?:input|choice) \$?\.? ?\$?\w* (?:"[^"]+"|\([^)]*\)|\$\w+) "([^"]+)"`),
	}
	names, _ := fs.Glob(files, "templates/*.html")
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		for _, re := range tmplRE {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				if m[1] != "." { // {{$.T .}}: ids from Go code, found below
					seen[m[1]] = true
				}
			}
		}
	}
	goRE := regexp.MustCompile(`"((?:layout|nav|login|home|account|units|unit|users|user|audit|error|wait|language|field|form|list|hint|` +
		`worklist|patients|patient|followup|emergency|recorded|status|transfer|timeline|figures|figure|` +
		`assessment|assessments|alert|alerts|contact|contacts|public|instrument|screening)\.[A-Za-z0-9_.-]+)"`)
	src := os.DirFS(".") // this package's source files
	gofiles, _ := fs.Glob(src, "*.go")
	for _, n := range gofiles {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		b, _ := fs.ReadFile(src, n)
		for _, m := range goRE.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") { // a prefix such as "home.role."
				seen[m[1]] = true
			}
		}
	}
	for _, r := range auth.Roles {
		seen["role."+string(r)] = true
		if !canAdminister(&care.Actor{Role: r, UnitPath: "/D/"}) {
			seen["home.role."+string(r)] = true
		}
	}
	for _, l := range care.Levels {
		seen["level."+string(l)] = true
	}
	for _, o := range []audit.Outcome{audit.Allowed, audit.Denied, audit.Failed} {
		seen["outcome."+string(o)] = true
	}
	for _, l := range care.Languages {
		seen["language."+l] = true
	}
	for kind, values := range enumValues {
		if kind == "risk" { // named by clinical.RiskDescription
			continue
		}
		for _, v := range values {
			seen["enum."+kind+"."+v] = true
		}
	}
	for _, k := range worklistKinds {
		seen["worklist.about."+k], seen["worklist.none."+k] = true, true
	}
	for _, k := range kpi.Keys {
		seen["figure."+string(k)], seen["figure."+string(k)+".formula"] = true, true
	}
	for _, k := range childKeys {
		seen["figure."+string(k)+".short"] = true
	}
	for _, k := range targetKeys {
		seen["field."+targetField(k)] = true
	}
	for _, k := range periodKinds {
		seen["figures.kind."+k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestCatalogues(t *testing.T) {
	en, zh := readCatalogue(t, "en"), readCatalogue(t, "zh-Hans")
	used := usedKeys(t)
	if len(used) < 100 {
		t.Fatalf("found only %d message ids in use; is the search broken?", len(used))
	}
	for _, k := range used {
		if _, ok := en[k]; !ok {
			t.Errorf("en.json lacks %q", k)
		}
	}
	for k, v := range en {
		z, ok := zh[k]
		if !ok {
			t.Errorf("zh-Hans.json lacks %q", k)
			continue
		}
		if _, plural := v.(map[string]any); plural {
			if zm, ok := z.(map[string]any); !ok || zm["other"] == nil {
				t.Errorf("zh-Hans.json: %q needs an \"other\" form", k)
			}
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok && k != "msg" {
			t.Errorf("zh-Hans.json has %q, which en.json lacks", k)
		}
	}
	if len(care.Languages) != len(languages) {
		t.Errorf("the service knows languages %v, the web %d", care.Languages, len(languages))
	}
	for _, l := range care.Languages {
		if !validLanguage(l) {
			t.Errorf("no catalogue for the service's language %q", l)
		}
	}
}

// TestMessagesRender runs every message with its placeholders in both
// languages, so that a typo in a placeholder shows here, not on a page.
func TestMessagesRender(t *testing.T) {
	s, err := newServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	args := []any{"Name", "N", "Role", "R", "Unit", "U", "Code", "C", "Username", "u", "Wait", "W", "Date", "D", "Status", "S",
		"Reason", "R", "Value", "V", "Period", "P", "Number", "9", "Year", 2026, "Month", 11, "MonthName", "November",
		"Quarter", 4, "From", "F", "To", "T", "Figure", "F", "Actor", "A", "Expires", "E", "Browser", "B", "System", "S",
		"Kind", "K", "Verb", "V", "Values", "V", "Time", "T"}
	for _, lang := range []string{langEnglish, langChinese} {
		p := &page{Lang: lang, loc: i18n.NewLocalizer(s.catalogue, lang)}
		for k, v := range readCatalogue(t, "en") {
			var got string
			if _, plural := v.(map[string]any); plural {
				got = p.TN(k, 2)
			} else {
				got = p.T(k, args...)
			}
			if got == k || got == "" || strings.Contains(got, "<no value>") || strings.Contains(got, "{{") {
				t.Errorf("%s: %q renders as %q", lang, k, got)
			}
		}
	}
}

func TestServiceMessages(t *testing.T) {
	s, err := newServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	zh := &page{Lang: langChinese, loc: i18n.NewLocalizer(s.catalogue, langChinese)}
	en := &page{Lang: langEnglish, loc: i18n.NewLocalizer(s.catalogue, langEnglish)}
	for msg, want := range map[string]string{
		"is required":                     "此项必填",
		"wrong username or password":      "用户名或密码错误",
		"must be a date, YYYY-MM-DD":      "须为日期，格式为 YYYY-MM-DD",
		"a message the catalogue lacks":   "a message the catalogue lacks",
		"must be at least 10 characters":  "至少须有 10 个字符",
		"please correct the fields shown": "请更正标出的字段",
		// Numbers and dates in a message are kept in its translation.
		"must be at most 200 characters":                                           "最多 200 个字符",
		"cannot be before the patient's registration (2025-01-10)":                 "不能早于患者的登记日期（2025-01-10）",
		"a next follow-up later than the rules' 2026-03-15 needs a written reason": "晚于规则计算日期 2026-03-15 的下次随访须填写书面理由",
	} {
		if got := zh.Msg(msg); got != want {
			t.Errorf("zh-Hans: Msg(%q) = %q, want %q", msg, got, want)
		}
		if got := en.Msg(msg); got != msg {
			t.Errorf("en: Msg(%q) = %q, want it unchanged", msg, got)
		}
	}
	if got := zh.Role(auth.CareGroup); got != "关爱帮扶小组成员" {
		t.Errorf("zh-Hans care group role: %q", got)
	}
	if got := en.Role("no_such_role"); got != "no_such_role" {
		t.Errorf("unknown role shows as %q", got)
	}
}

func TestMatchAcceptLanguage(t *testing.T) {
	for _, tt := range []struct{ header, want string }{
		{"", "en"},
		{"zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"},
		{"zh", "zh-Hans"},
		{"zh-Hans-CN", "zh-Hans"},
		{"zh-SG", "zh-Hans"},
		{"en-US,en;q=0.9", "en"},
		{"en-GB, zh-CN;q=0.5", "en"},
		{"fr-FR, zh-CN;q=0.5", "zh-Hans"},
		{"fr-FR", "en"},
		{"not a header;;;", "en"},
	} {
		if got := care.MatchLanguage(tt.header); got != tt.want {
			t.Errorf("care.MatchLanguage(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestPickLanguage(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Language", "zh-CN")
	if got := pickLanguage(r, nil); got != langChinese {
		t.Errorf("browser: %q", got)
	}
	r.Header.Set("Cookie", langCookie+"=en")
	if got := pickLanguage(r, nil); got != langEnglish {
		t.Errorf("cookie over browser: %q", got)
	}
	if got := pickLanguage(r, &care.Actor{Language: langChinese}); got != langChinese {
		t.Errorf("setting over cookie: %q", got)
	}
	if got := pickLanguage(r, &care.Actor{Language: ""}); got != langEnglish {
		t.Errorf("no setting: cookie: %q", got)
	}
	r.Header.Set("Cookie", langCookie+"=xx")
	if got := pickLanguage(r, nil); got != langChinese {
		t.Errorf("bad cookie: browser: %q", got)
	}
}

func TestLocalPath(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/", "/"},
		{"/admin/users?unit=S01", "/admin/users?unit=S01"},
		{"/account?saved=language", "/account?saved=language"},
		{"", ""},
		{"admin", ""},
		{"//evil.example/", ""},
		{"/\\evil.example", ""},
		{"/\\/evil.example", ""},
		{"https://evil.example/", ""},
		{"javascript:alert(1)", ""},
		{"/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"},
		{"/a\r\nSet-Cookie: x", ""},
		{"/a\tb", ""},
	} {
		if got := localPath(tt.in); got != tt.want {
			t.Errorf("localPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAsOf: figures and searches read from a standby say so, with the time
// of their data, in both languages.
func TestAsOf(t *testing.T) {
	s, err := newServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 8, 15, 2, 0, time.UTC)
	zone := care.DefaultZone()
	shown := at.In(zone).Format("2006-01-02 15:04") // the installation's zone, to the minute
	for _, tt := range []struct {
		lang    string
		standby bool
		want    string
	}{
		{langEnglish, false, "Data as of " + shown},
		{langEnglish, true, "read from a standby copy"},
		{langChinese, false, "数据截至 " + shown},
		{langChinese, true, "读自数据库的备用副本"},
	} {
		p := &page{Lang: tt.lang, loc: i18n.NewLocalizer(s.catalogue, tt.lang), zone: zone}
		got := p.AsOf(care.Freshness{AsOf: at, Standby: tt.standby})
		if !strings.Contains(got.Text, tt.want) || got.Standby != tt.standby {
			t.Errorf("%s standby=%v: %+v, want it to say %q", tt.lang, tt.standby, got, tt.want)
		}
	}
}
