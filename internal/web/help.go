package web

import (
	"net/http"

	"kith/internal/clinical"
)

// helpRules are the rules the pages name in words, in the order of a
// patient's course; R-FIRST is the first follow-up after registration.
var helpRules = []clinical.Rule{clinical.RuleClassStable, clinical.RuleClassBasic, clinical.RuleClassUnstable,
	"R-FIRST", clinical.RuleNextStable, clinical.RuleNextBasic, clinical.RuleNextBasicPersist, clinical.RuleNextUnstable,
	clinical.RuleNotReached, clinical.RuleOverdue, clinical.RuleLost, clinical.RuleMin4, clinical.RuleEmergency,
	clinical.RuleAlertDue, clinical.RuleDischarge, clinical.RuleAlertRiskRise, clinical.RuleAlertMedStop,
	clinical.RuleAlertHighRisk, clinical.RuleAlertReferral}

type helpRule struct {
	ID, Words, Text string
}

// firstFollowUp explains R-FIRST, which CLINICAL.md's rules imply rather
// than name: a new patient is first due 14 days after registration.
var firstFollowUp = [2]string{"First follow-up: 14 days after registration, until a follow-up reaches the patient.",
	"首次随访：登记后14天内随访，直至首次访到患者。"}

// helpRulesPage explains each rule in words, in the page's language only
// (no English on a Chinese page), with its identifier in the tooltip as on
// the other pages.
func (s *server) helpRulesPage(w http.ResponseWriter, r *http.Request, p *page) error {
	var list []helpRule
	for _, id := range helpRules {
		en, zh := id.Explain()
		if id == "R-FIRST" {
			en, zh = firstFollowUp[0], firstFollowUp[1]
		}
		list = append(list, helpRule{ID: string(id), Words: p.Rule(string(id)).Words, Text: p.pick(en, zh)})
	}
	return s.render(w, p, http.StatusOK, "help_rules", list)
}
