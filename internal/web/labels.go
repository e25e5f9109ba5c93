package web

import (
	"html/template"
	"strconv"
	"strings"

	"kith/internal/catalog"
	"kith/internal/clinical"
)

// enumValues lists the values of each clinical enumeration the pages offer,
// in the order the forms show them, by the kind that names them in the
// catalogues ("enum.KIND.VALUE").
var enumValues = map[string][]string{
	"sex":       strs(clinical.SexValues()),
	"status":    strs(clinical.PatientStatusValues()),
	"diagnosis": strs(clinical.DiagnosisValues()),
	"mode":      strs(clinical.ModeValues()),
	"reason":    strs(clinical.NotReachedReasonValues()),
	"risk":      {"0", "1", "2", "3", "4", "5"},
	"psychotic": strs(clinical.PsychoticSymptomsValues()),
	"symptom":   strs(clinical.SymptomValues()),
	"insight":   strs(clinical.InsightValues()),
	"rating":    strs(clinical.RatingValues()),
	"area":      strs(clinical.SocialAreaValues()),
	"danger":    strs(clinical.DangerousBehaviourValues()),
	"locked":    strs(clinical.LockedUpValues()),
	"hosp":      strs(clinical.HospitalisationValues()),
	"adherence": strs(clinical.AdherenceValues()),
	"reaction":  strs(clinical.AdverseReactionValues()),
	"illness":   strs(clinical.PhysicalIllnessValues()),
	"effect":    strs(clinical.TreatmentEffectValues()),
	"rehab":     strs(clinical.RehabilitationValues()),
	"class":     strs(clinical.ClassificationValues()),
	"trigger":   strs(clinical.EmergencyTriggerValues()),
	"attendee":  strs(clinical.EmergencyAttendeeValues()),
	"measure":   strs(clinical.EmergencyMeasureValues()),
	"yesno":     {"no", "yes"},
	"worklist":  {"due", "overdue", "lost", "below_min", "plan_review", "alert", "discharge"},
	"timeline":  {"follow_up", "attempt", "emergency", "status", "transfer"},
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// Enum names a value of a clinical enumeration in the page's language, such
// as Enum "mode" "home_visit". A value the catalogue lacks shows as it is.
func (p *page) Enum(kind, v string) string {
	if v == "" {
		return ""
	}
	return p.lookup("enum."+kind+"."+v, v)
}

// Values lists the values of a clinical enumeration, for templates.
func (p *page) Values(kind string) []string { return enumValues[kind] }

// chinese reports whether the page speaks Chinese, for the texts the
// clinical package holds in both languages.
func (p *page) chinese() bool { return p.Lang == langChinese }

func (p *page) pick(en, zh string) string {
	if p.chinese() && zh != "" {
		return zh
	}
	return en
}

// Sep separates the items of a list in the page's language.
func (p *page) Sep() string { return p.pick(", ", "、") }

// Diagnosis names a recorded diagnosis code: one of the six disorders of
// R-TARGET with its ICD-10 codes (their "with" said in the page's
// language), or an ICD-10 code with its name from the catalogue, so that
// no one reads a bare code; a code the catalogue lacks is shown as it is.
func (p *page) Diagnosis(code string) string {
	if d := clinical.Diagnosis(code); d.Valid() {
		return p.Enum("diagnosis", code) + " (" + strings.ReplaceAll(d.ICD10(), " with ", p.pick(" with ", " 伴 ")) + ")"
	}
	for _, c := range catalog.ICD10() {
		if c.Code == code {
			return c.Name(p.Lang) + " (" + code + ")"
		}
	}
	return code
}

// Risk shows a risk level, or a dash when there is none.
func (p *page) Risk(level *int) string {
	if level == nil {
		return "—"
	}
	return strconv.Itoa(*level)
}

// RiskText is the R-RISK description of a risk level in the page's language.
func (p *page) RiskText(level *int) string {
	if level == nil {
		return ""
	}
	return p.pick(clinical.RiskDescription(*level))
}

// RiskLevelText is RiskText for a level given as text, as the forms hold it.
func (p *page) RiskLevelText(level string) string {
	n, err := strconv.Atoi(level)
	if err != nil {
		return ""
	}
	return p.RiskText(&n)
}

// ruleView is a rule as a page shows it: in words, with its identifier and
// full explanation in a tooltip (Title) and on the help page.
type ruleView struct {
	ID, Words, Title string
}

// Rule says a rule of CLINICAL.md, such as R-NEXT-STABLE, in plain words
// ("稳定：3个月后随访"); the identifier goes only into the tooltip.
func (p *page) Rule(rule string) ruleView {
	v := ruleView{ID: rule, Words: p.lookup("rule."+rule, "")}
	if v.Words == "" {
		v.Words = p.T("day.rule.other")
	}
	v.Title = rule
	if rule == "R-FIRST" {
		v.Title += " · " + p.pick(firstFollowUp[0], firstFollowUp[1])
	} else if t := p.RuleText(rule); t != "" {
		v.Title += " · " + t
	}
	return v
}

// tel is the address that calls a phone number: its digits (and a leading
// +) after tel:, which html/template would otherwise refuse as a URL.
func tel(phone string) template.URL {
	var b strings.Builder
	for i, r := range strings.TrimSpace(phone) {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return template.URL("tel:" + b.String())
}

// RuleText explains a rule of CLINICAL.md, such as R-NEXT-UNSTABLE, in the
// page's language.
func (p *page) RuleText(rule string) string {
	return p.pick(clinical.Rule(rule).Explain())
}

// ActionText is what R-CLASS asks staff to do for a classification.
func (p *page) ActionText(class string) string {
	return p.pick(clinical.Action(clinical.Classification(class)))
}
