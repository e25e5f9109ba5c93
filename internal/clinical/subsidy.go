package clinical

import "slices"

// The guardian subsidy (以奖代补): a yearly reward to the guardian who looks
// after a patient well. Whether a guardian may have it for a year is
// decided by conditions kept as data (SubsidyRules), so that a district can
// set its own; SubsidyEligible applies them to the facts of one patient and
// year.

// SubsidyRules are the conditions of the guardian subsidy.
type SubsidyRules struct {
	// ManagedAllYear: the patient was registered by the first day of the
	// year and under management (status managed) the whole year.
	ManagedAllYear bool `json:"managed_all_year"`
	// NoNeglectEmergency: no emergency in the year was caused by neglect of
	// care; an emergency counts as such when one of its triggers is among
	// NeglectTriggers.
	NoNeglectEmergency bool     `json:"no_neglect_emergency"`
	NeglectTriggers    []string `json:"neglect_triggers"`
	// MinReachedFollowUps: at least this many reached follow-ups in the
	// year (0: no such condition).
	MinReachedFollowUps int `json:"min_reached_follow_ups"`
}

// DefaultSubsidyRules are the conditions the issue sets: under management
// all year and no emergency caused by neglect of care, which Kith reads as
// a relapse or deterioration (the guardian's supervision of medication and
// daily life is what prevents it).
func DefaultSubsidyRules() SubsidyRules {
	return SubsidyRules{ManagedAllYear: true, NoNeglectEmergency: true, NeglectTriggers: []string{string(TriggerRelapseDeterioration)}}
}

// SubsidyFacts are what the records say of one patient and year.
type SubsidyFacts struct {
	HasGuardian       bool
	ManagedAllYear    bool
	EmergencyTriggers [][]string // the triggers of each emergency of the year
	ReachedFollowUps  int
}

// The conditions a patient may fail, as SubsidyEligible names them.
const (
	UnmetGuardian  = "no_guardian"
	UnmetManaged   = "not_managed_all_year"
	UnmetNeglect   = "neglect_emergency"
	UnmetFollowUps = "too_few_follow_ups"
)

// SubsidyEligible applies the rules to the facts: eligible when every
// condition holds; otherwise the conditions not met, in a fixed order. A
// patient without a guardian never is: the subsidy is the guardian's.
func SubsidyEligible(r SubsidyRules, f SubsidyFacts) (bool, []string) {
	var unmet []string
	if !f.HasGuardian {
		unmet = append(unmet, UnmetGuardian)
	}
	if r.ManagedAllYear && !f.ManagedAllYear {
		unmet = append(unmet, UnmetManaged)
	}
	if r.NoNeglectEmergency {
		for _, triggers := range f.EmergencyTriggers {
			if slices.ContainsFunc(triggers, func(t string) bool { return slices.Contains(r.NeglectTriggers, t) }) {
				unmet = append(unmet, UnmetNeglect)
				break
			}
		}
	}
	if r.MinReachedFollowUps > 0 && f.ReachedFollowUps < r.MinReachedFollowUps {
		unmet = append(unmet, UnmetFollowUps)
	}
	return len(unmet) == 0, unmet
}

// The statuses of a subsidy.
const (
	SubsidyEligibleStatus = "eligible"
	SubsidyReviewed       = "reviewed"
	SubsidyApproved       = "approved"
	SubsidyPaid           = "paid"
	SubsidyRefused        = "refused"
)

// SubsidyStatuses lists them in the order of the workflow.
var SubsidyStatuses = []string{SubsidyEligibleStatus, SubsidyReviewed, SubsidyApproved, SubsidyPaid, SubsidyRefused}

// SubsidyStep says who may move a subsidy from one status to another: the
// community manager reviews (or refuses) an eligible one, the district
// approves (or refuses) a reviewed one and marks an approved one paid (or
// refuses it). Any other move is not a step of the workflow ("").
func SubsidyStep(from, to string) (who string) {
	switch {
	case from == SubsidyEligibleStatus && (to == SubsidyReviewed || to == SubsidyRefused):
		return "community"
	case from == SubsidyReviewed && (to == SubsidyApproved || to == SubsidyRefused):
		return "district"
	case from == SubsidyApproved && (to == SubsidyPaid || to == SubsidyRefused):
		return "district"
	}
	return ""
}
