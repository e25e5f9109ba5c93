package web

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
)

// page is what every template receives: the request's language and user,
// the navigation, and the page's own data in Data. Its methods translate.
type page struct {
	Lang    string
	User    *care.Actor
	Nav     []navItem
	Path    string // where the language switch returns to
	Flash   string // a confirmation of what was just done, translated
	Data    any
	zone    *time.Location // the installation's, for the times shown
	today   clinical.Date  // in that zone
	loc     *i18n.Localizer
	printer *message.Printer
}

type navItem struct {
	Href, Label string
	Current     bool
	// Badge is a number shown beside the label, such as the open alerts,
	// and BadgeLabel says what it counts.
	Badge, BadgeLabel string
}

func (s *server) newPage(r *http.Request, a *care.Actor) *page {
	p := &page{User: a, Lang: pickLanguage(r, a), Path: r.URL.Path, zone: s.svc.Zone(), today: s.svc.Today()}
	if r.Method == http.MethodGet && r.URL.RawQuery != "" {
		p.Path = r.URL.RequestURI()
	}
	p.loc = i18n.NewLocalizer(s.catalogue, p.Lang)
	p.printer = message.NewPrinter(language.Make(p.Lang))
	if a != nil {
		p.Nav = append(p.Nav, navItem{Href: "/", Label: p.T("nav.home")})
		if isClinical(a) {
			p.Nav = append(p.Nav,
				navItem{Href: "/worklist", Label: p.T("nav.worklist")},
				navItem{Href: "/patients", Label: p.T("nav.patients")})
		}
		s.navAlerts(r, p)
		s.navReferrals(r, p)
		p.Nav = append(p.Nav, navItem{Href: "/events", Label: p.T("nav.events")})
		if care.Allow(a, care.ReadTraining, ownUnit(a)) {
			p.Nav = append(p.Nav, navItem{Href: "/training", Label: p.T("nav.training")})
		}
		if care.Allow(a, care.ReadSubsidies, ownUnit(a)) {
			p.Nav = append(p.Nav, navItem{Href: "/subsidies", Label: p.T("nav.subsidy")})
		}
		if canReadFigures(a) {
			p.Nav = append(p.Nav, navItem{Href: "/figures", Label: p.T("nav.figures")})
		}
		p.Nav = append(p.Nav, navItem{Href: "/services", Label: p.T("nav.services")})
		if mayEdit(a) {
			p.Nav = append(p.Nav, navItem{Href: "/articles", Label: p.T("nav.articles")})
		}
		if canAdminister(a) {
			p.Nav = append(p.Nav,
				navItem{Href: "/admin/units", Label: p.T("nav.units")},
				navItem{Href: "/admin/users", Label: p.T("nav.users")})
		}
		if mayImport(a) {
			p.Nav = append(p.Nav, navItem{Href: "/admin/import", Label: p.T("nav.import")})
		}
		if care.Allow(a, care.ReadAudit, ownUnit(a)) {
			p.Nav = append(p.Nav, navItem{Href: "/admin/audit", Label: p.T("nav.audit")})
		}
		for i := range p.Nav {
			h := p.Nav[i].Href
			p.Nav[i].Current = r.URL.Path == h || (h != "/" && strings.HasPrefix(r.URL.Path, h+"/"))
		}
	}
	return p
}

// T translates the message id; args are pairs of a name and a value for
// the message's placeholders. A missing message shows its id, which tests
// catch.
func (p *page) T(id string, args ...any) string {
	return p.localize(id, nil, args)
}

// TN translates a message that depends on the count n, available to the
// message as {{.Count}}.
func (p *page) TN(id string, n int, args ...any) string {
	return p.localize(id, n, append(args, "Count", n))
}

func (p *page) localize(id string, count any, args []any) string {
	var data map[string]any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			k, _ := args[i].(string)
			data[k] = args[i+1]
		}
	}
	s, _ := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if s == "" {
		return id
	}
	return s
}

// lookup translates id, or returns fallback when the catalogue lacks it.
func (p *page) lookup(id, fallback string) string {
	if s, _ := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id}); s != "" {
		return s
	}
	return fallback
}

// Msg translates a message from the service, which speaks English: the
// catalogue holds translations keyed by the English text, under "msg.".
// A message without a translation is shown as it is.
//
// A message with numbers or dates in it, such as "must be at most 100
// characters", is looked up with # in their place ("must be at most #
// characters"), and they are put back into the translation in order.
func (p *page) Msg(s string) string {
	if s == "" {
		return ""
	}
	if t := p.allowedValues(s); t != "" {
		return t
	}
	if t := p.lookup("msg."+s, ""); t != "" {
		return t
	}
	if vals := msgValue.FindAllString(s, -1); len(vals) > 0 {
		if t := p.lookup("msg."+msgValue.ReplaceAllString(s, "#"), ""); t != "" {
			for _, v := range vals {
				t = strings.Replace(t, "#", v, 1)
			}
			return t
		}
	}
	return s
}

// oneOf matches a service message that lists the allowed values: "must be
// one of a, b, c" or "must be a, b or c".
var oneOf = regexp.MustCompile(`^must be (?:one of )?([a-z0-9_]+(?:, [a-z0-9_]+)*(?:,? or [a-z0-9_]+)?)$`)

// allowedValues translates a message that lists allowed values, naming
// each value in the page's language, so that no value of the service's
// own (basically_stable, no_need) shows on a Chinese page; "" if s is not
// such a message or a value has no name in the catalogue.
func (p *page) allowedValues(s string) string {
	m := oneOf.FindStringSubmatch(s)
	if m == nil || !p.chinese() {
		// In English the service's own message says it already.
		return ""
	}
	vals := strings.FieldsFunc(strings.ReplaceAll(m[1], " or ", ", "), func(r rune) bool { return r == ',' || r == ' ' })
	if len(vals) < 2 {
		return ""
	}
	kind := ""
	for k, all := range enumValues {
		if containsAll(all, vals) {
			kind = k
			break
		}
	}
	names := make([]string, len(vals))
	for i, v := range vals {
		if kind != "" {
			names[i] = p.lookup("enum."+kind+"."+v, "")
		} else {
			names[i] = p.lookup("value."+v, "")
		}
		if names[i] == "" {
			return ""
		}
	}
	return p.T("day.msg.one_of", "Values", strings.Join(names, p.Sep()))
}

func containsAll(all, vals []string) bool {
	for _, v := range vals {
		if !slices.Contains(all, v) {
			return false
		}
	}
	return true
}

// msgValue matches the dates and numbers in a service message.
var msgValue = regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]+`)

// Role, Level and Outcome name a role, an org unit level and an audit
// outcome in the page's language.
func (p *page) Role(r auth.Role) string        { return p.lookup("role."+string(r), string(r)) }
func (p *page) Level(l care.Level) string      { return p.lookup("level."+string(l), string(l)) }
func (p *page) Outcome(o audit.Outcome) string { return p.lookup("outcome."+string(o), string(o)) }

// LanguageName names a UI language setting; "" is "as the browser asks".
func (p *page) LanguageName(lang string) string {
	if lang == "" {
		return p.T("language.browser")
	}
	return p.lookup("language."+lang, lang)
}

// LanguageChoices are the language settings a user may choose.
func (p *page) LanguageChoices() []string { return languageChoices }

// Num formats a number with the page language's digit grouping.
func (p *page) Num(n int64) string { return p.printer.Sprint(n) }

// Time formats an instant in the installation's time zone, to the minute:
// the zone is the same for every reader, so it is not repeated, and the
// seconds add nothing a reader acts on (the audit log's FullTime keeps them).
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.zone).Format("2006-01-02 15:04")
}

// FullTime is Time with the seconds, for the audit log, where the order of
// entries within a minute matters.
func (p *page) FullTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.zone).Format("2006-01-02 15:04:05")
}

// asOf is the line that says how current a page's data is.
type asOf struct {
	Text    string
	Standby bool
}

// AsOf says as of when the data of figures or a search is, and, when it
// was read from a standby (KITH_DB_READ), that it may lag the latest
// changes: a worker who has just written should not think it lost.
func (p *page) AsOf(f care.Freshness) asOf {
	if f.Standby {
		return asOf{Text: p.T("stale.standby", "Date", p.Time(f.AsOf)), Standby: true}
	}
	return asOf{Text: p.T("stale.current", "Date", p.Time(f.AsOf))}
}

// Wait says how long to wait before trying again.
func (p *page) Wait(d time.Duration) string {
	if d < time.Minute {
		return p.TN("wait.seconds", int((d+time.Second-1)/time.Second))
	}
	return p.TN("wait.minutes", int((d+time.Minute-1)/time.Minute))
}

// FieldLabel names an input field of the service in the page's language.
func (p *page) FieldLabel(field string) string { return p.lookup("field."+field, field) }
