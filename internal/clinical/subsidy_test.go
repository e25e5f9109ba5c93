package clinical

import (
	"slices"
	"testing"
)

// TestSubsidyEligible checks the guardian subsidy's default conditions
// (issue 13: under management all year, no emergency caused by neglect of
// care) and a configured extra one.
func TestSubsidyEligible(t *testing.T) {
	def := DefaultSubsidyRules()
	strict := def
	strict.MinReachedFollowUps = 4
	loose := SubsidyRules{}
	good := SubsidyFacts{HasGuardian: true, ManagedAllYear: true, ReachedFollowUps: 6,
		EmergencyTriggers: [][]string{{"acute_drug_reaction"}}}
	for _, tt := range []struct {
		name  string
		rules SubsidyRules
		facts SubsidyFacts
		unmet []string
	}{
		{"all met", def, good, nil},
		{"no guardian", def, SubsidyFacts{ManagedAllYear: true}, []string{UnmetGuardian}},
		{"no guardian, even with no conditions", loose, SubsidyFacts{}, []string{UnmetGuardian}},
		{"hospitalised or lost during the year", def, SubsidyFacts{HasGuardian: true}, []string{UnmetManaged}},
		{"relapse emergency: neglect of care", def, SubsidyFacts{HasGuardian: true, ManagedAllYear: true,
			EmergencyTriggers: [][]string{{"risk_3_plus", "relapse_deterioration"}}}, []string{UnmetNeglect}},
		{"an emergency not of neglect", def, SubsidyFacts{HasGuardian: true, ManagedAllYear: true,
			EmergencyTriggers: [][]string{{"self_harm_suicide_risk"}}}, nil},
		{"neglect not a condition", SubsidyRules{ManagedAllYear: true}, SubsidyFacts{HasGuardian: true, ManagedAllYear: true,
			EmergencyTriggers: [][]string{{"relapse_deterioration"}}}, nil},
		{"too few follow-ups when required", strict, SubsidyFacts{HasGuardian: true, ManagedAllYear: true, ReachedFollowUps: 3}, []string{UnmetFollowUps}},
		{"enough follow-ups", strict, good, nil},
		{"everything unmet, in order", strict, SubsidyFacts{EmergencyTriggers: [][]string{{"relapse_deterioration"}}},
			[]string{UnmetGuardian, UnmetManaged, UnmetNeglect, UnmetFollowUps}},
	} {
		ok, unmet := SubsidyEligible(tt.rules, tt.facts)
		if ok != (len(tt.unmet) == 0) || !slices.Equal(unmet, tt.unmet) {
			t.Errorf("%s: eligible %v, unmet %v; want %v", tt.name, ok, unmet, tt.unmet)
		}
	}
}

// TestSubsidyStep: eligible → reviewed (community) → approved (district) →
// paid (district), or refused at any step before paid; nothing else.
func TestSubsidyStep(t *testing.T) {
	want := map[[2]string]string{
		{"eligible", "reviewed"}: "community", {"eligible", "refused"}: "community",
		{"reviewed", "approved"}: "district", {"reviewed", "refused"}: "district",
		{"approved", "paid"}: "district", {"approved", "refused"}: "district",
	}
	for _, from := range SubsidyStatuses {
		for _, to := range append(SubsidyStatuses, "cancelled") {
			if got := SubsidyStep(from, to); got != want[[2]string{from, to}] {
				t.Errorf("%s → %s: %q, want %q", from, to, got, want[[2]string{from, to}])
			}
		}
	}
}
