package clinical

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// stableAssessment is the R-CLASS-STABLE case; each test changes one thing.
func stableAssessment() Assessment {
	return Assessment{
		RiskLevel:         0,
		PsychoticSymptoms: PsychoticNone,
		Insight:           InsightComplete,
		SocialFunction:    SocialFunction{RatingGood, RatingGood, RatingGood, RatingGood, RatingGood},
		AdverseReaction:   ReactionNone,
		PhysicalIllness:   IllnessNone,
	}
}

func withArea(area SocialArea, r Rating) Assessment {
	a := stableAssessment()
	switch area {
	case AreaSelfCare:
		a.SocialFunction.SelfCare = r
	case AreaHousework:
		a.SocialFunction.Housework = r
	case AreaWork:
		a.SocialFunction.Work = r
	case AreaLearning:
		a.SocialFunction.Learning = r
	case AreaSocialContact:
		a.SocialFunction.SocialContact = r
	}
	return a
}

func TestClassify(t *testing.T) {
	type tc struct {
		rule Rule
		name string
		in   Assessment
		want Classification
	}
	with := func(f func(*Assessment)) Assessment {
		a := stableAssessment()
		f(&a)
		return a
	}
	tests := []tc{
		{RuleClassStable, "risk 0, all good", stableAssessment(), Stable},
		{RuleClassStable, "all areas fair", with(func(a *Assessment) {
			a.SocialFunction = SocialFunction{RatingFair, RatingFair, RatingFair, RatingFair, RatingFair}
		}), Stable},
		{RuleClassStable, "mild adverse reaction alone", with(func(a *Assessment) { a.AdverseReaction = ReactionMild }), Stable},
		{RuleClassStable, "physical illness stable", with(func(a *Assessment) { a.PhysicalIllness = IllnessStable }), Stable},

		{RuleClassBasic, "risk 1", with(func(a *Assessment) { a.RiskLevel = 1 }), BasicallyStable},
		{RuleClassBasic, "risk 2", with(func(a *Assessment) { a.RiskLevel = 2 }), BasicallyStable},
		{RuleClassBasic, "symptoms some", with(func(a *Assessment) { a.PsychoticSymptoms = PsychoticSome }), BasicallyStable},
		{RuleClassBasic, "insight partial", with(func(a *Assessment) { a.Insight = InsightPartial }), BasicallyStable},
		{RuleClassBasic, "physical illness unstable", with(func(a *Assessment) { a.PhysicalIllness = IllnessUnstable }), BasicallyStable},
		{RuleClassBasic, "all areas poor", with(func(a *Assessment) {
			a.SocialFunction = SocialFunction{RatingPoor, RatingPoor, RatingPoor, RatingPoor, RatingPoor}
		}), BasicallyStable},
		{RuleClassBasic, "risk 1 with mild adverse reaction", with(func(a *Assessment) {
			a.RiskLevel = 1
			a.AdverseReaction = ReactionMild
		}), BasicallyStable},

		{RuleClassUnstable, "risk 3", with(func(a *Assessment) { a.RiskLevel = 3 }), Unstable},
		{RuleClassUnstable, "risk 4", with(func(a *Assessment) { a.RiskLevel = 4 }), Unstable},
		{RuleClassUnstable, "risk 5", with(func(a *Assessment) { a.RiskLevel = 5 }), Unstable},
		{RuleClassUnstable, "symptoms obvious", with(func(a *Assessment) { a.PsychoticSymptoms = PsychoticObvious }), Unstable},
		{RuleClassUnstable, "insight absent", with(func(a *Assessment) { a.Insight = InsightAbsent }), Unstable},
		{RuleClassUnstable, "adverse reaction serious", with(func(a *Assessment) { a.AdverseReaction = ReactionSerious }), Unstable},
		{RuleClassUnstable, "physical illness serious", with(func(a *Assessment) { a.PhysicalIllness = IllnessSerious }), Unstable},
		// The first matching row decides: an unstable input wins over basic ones.
		{RuleClassUnstable, "first row wins: risk 2 and symptoms obvious", with(func(a *Assessment) {
			a.RiskLevel = 2
			a.PsychoticSymptoms = PsychoticObvious
		}), Unstable},
		{RuleClassUnstable, "first row wins: insight partial, poor area, physical illness serious", with(func(a *Assessment) {
			a.Insight = InsightPartial
			a.SocialFunction.Work = RatingPoor
			a.PhysicalIllness = IllnessSerious
		}), Unstable},

		// Invalid input never comes out stable (see Classify).
		{RuleClassBasic, "invalid: zero assessment", Assessment{}, BasicallyStable},
		{RuleClassBasic, "invalid: risk -1", with(func(a *Assessment) { a.RiskLevel = -1 }), BasicallyStable},
		{RuleClassBasic, "invalid: one area missing", withArea(AreaLearning, ""), BasicallyStable},
		{RuleClassUnstable, "invalid: risk 6", with(func(a *Assessment) { a.RiskLevel = 6 }), Unstable},
	}
	// Social function counts as poor when any one area is poor.
	for _, area := range SocialAreaValues() {
		tests = append(tests, tc{RuleClassBasic, "social function: only " + string(area) + " poor", withArea(area, RatingPoor), BasicallyStable})
	}
	// Each risk level alone, 0–5 (R-RISK boundaries of R-CLASS).
	for level, rule := range []Rule{RuleClassStable, RuleClassBasic, RuleClassBasic, RuleClassUnstable, RuleClassUnstable, RuleClassUnstable} {
		a := stableAssessment()
		a.RiskLevel = level
		want := map[Rule]Classification{RuleClassStable: Stable, RuleClassBasic: BasicallyStable, RuleClassUnstable: Unstable}[rule]
		tests = append(tests, tc{rule, fmt.Sprintf("risk level %d alone", level), a, want})
	}

	for _, tt := range tests {
		t.Run(string(tt.rule)+"/"+tt.name, func(t *testing.T) {
			c, rule := Classify(tt.in)
			if c != tt.want || rule != tt.rule {
				t.Errorf("Classify = %s, %s; want %s, %s", c, rule, tt.want, tt.rule)
			}
		})
	}
}

func TestSocialFunctionPoor(t *testing.T) {
	if stableAssessment().SocialFunction.Poor() {
		t.Error("all good: Poor() = true")
	}
	for _, area := range SocialAreaValues() {
		if !withArea(area, RatingPoor).SocialFunction.Poor() {
			t.Errorf("R-CLASS-BASIC/%s poor: Poor() = false", area)
		}
		if withArea(area, RatingFair).SocialFunction.Poor() {
			t.Errorf("%s fair: Poor() = true", area)
		}
		if got := withArea(area, RatingFair).SocialFunction.Area(area); got != RatingFair {
			t.Errorf("Area(%s) = %q, want fair", area, got)
		}
	}
	if got := stableAssessment().SocialFunction.Area("sleeping"); got != "" {
		t.Errorf("Area(unknown) = %q", got)
	}
}

func TestAssessmentValidate(t *testing.T) {
	if errs := stableAssessment().Validate(); errs != nil {
		t.Errorf("valid assessment: %v", errs)
	}
	for _, level := range []int{-1, 6, 100} {
		a := stableAssessment()
		a.RiskLevel = level
		errs := a.Validate()
		if len(errs) != 1 || errs[0].Field != "risk_level" {
			t.Errorf("R-RISK/risk %d: Validate = %v, want one risk_level error", level, errs)
		}
	}
	a := stableAssessment()
	a.Insight = "good"
	a.SocialFunction.Work = "excellent"
	errs := a.Validate()
	if len(errs) != 2 || errs[0].Field != "insight" || errs[1].Field != "social_function.work" {
		t.Errorf("Validate = %v, want insight and social_function.work", errs)
	}
	// The zero assessment misses every enumerated input (risk 0 is valid).
	want := []string{"psychotic_symptoms", "insight",
		"social_function.self_care", "social_function.housework", "social_function.work",
		"social_function.learning", "social_function.social_contact",
		"adverse_reaction", "physical_illness"}
	errs = Assessment{}.Validate()
	if len(errs) != len(want) {
		t.Fatalf("zero Assessment: Validate = %v", errs)
	}
	for i, e := range errs {
		if e.Field != want[i] || e.Message == "" || e.Error() == "" {
			t.Errorf("error %d = %+v, want field %s", i, e, want[i])
		}
	}
}

func TestAction(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range ClassificationValues() {
		en, zh := Action(c)
		if en == "" || zh == "" || seen[en] {
			t.Errorf("Action(%s) = %q, %q", c, en, zh)
		}
		seen[en] = true
	}
	if en, zh := Action("excellent"); en != "" || zh != "" {
		t.Errorf("Action(unknown) = %q, %q", en, zh)
	}
}

func TestRuleExplain(t *testing.T) {
	rules := []Rule{
		RuleClassUnstable, RuleClassBasic, RuleClassStable,
		RuleNextUnstable, RuleNextBasic, RuleNextBasicPersist, RuleNextStable,
		RuleNotReached, RuleOverdue, RuleLost, RuleMin4, RuleEmergency,
	}
	for _, r := range rules {
		en, zh := r.Explain()
		if en == "" || zh == "" {
			t.Errorf("%s: Explain = %q, %q", r, en, zh)
		}
	}
	if en, zh := Rule("R-NONE").Explain(); en != "" || zh != "" {
		t.Errorf("unknown rule explained: %q, %q", en, zh)
	}
}

func d(s string) Date {
	date, err := ParseDate(s)
	if err != nil {
		panic(s + ": " + err.Error())
	}
	return date
}

func TestNextDue(t *testing.T) {
	tests := []struct {
		rule     Rule
		name     string
		date     string
		c        Classification
		previous Classification
		want     string
	}{
		{RuleNextUnstable, "14 days", "2026-03-10", Unstable, "", "2026-03-24"},
		{RuleNextUnstable, "across a month", "2026-01-25", Unstable, Stable, "2026-02-08"},
		{RuleNextUnstable, "across a year", "2026-12-25", Unstable, Unstable, "2027-01-08"},
		{RuleNextUnstable, "previous basically stable does not matter", "2026-04-20", Unstable, BasicallyStable, "2026-05-04"},
		{RuleNextUnstable, "across 29 February, leap year", "2028-02-20", Unstable, "", "2028-03-05"},
		{RuleNextUnstable, "across February, common year", "2027-02-20", Unstable, "", "2027-03-06"},

		{RuleNextBasic, "first follow-up", "2026-03-10", BasicallyStable, "", "2026-03-24"},
		{RuleNextBasic, "after stable", "2026-05-31", BasicallyStable, Stable, "2026-06-14"},
		{RuleNextBasic, "after unstable", "2026-12-20", BasicallyStable, Unstable, "2027-01-03"},
		{RuleNextBasic, "not_reached as previous is not basically stable", "2026-06-01", BasicallyStable, NotReached, "2026-06-15"},
		{RuleNextBasic, "28 February, common year", "2027-02-28", BasicallyStable, "", "2027-03-14"},

		{RuleNextBasicPersist, "1 month", "2026-04-15", BasicallyStable, BasicallyStable, "2026-05-15"},
		{RuleNextBasicPersist, "31 January, common year", "2026-01-31", BasicallyStable, BasicallyStable, "2026-02-28"},
		{RuleNextBasicPersist, "31 January, leap year", "2028-01-31", BasicallyStable, BasicallyStable, "2028-02-29"},
		{RuleNextBasicPersist, "30 January, leap year", "2028-01-30", BasicallyStable, BasicallyStable, "2028-02-29"},
		{RuleNextBasicPersist, "29 January, common year", "2027-01-29", BasicallyStable, BasicallyStable, "2027-02-28"},
		{RuleNextBasicPersist, "31 March", "2026-03-31", BasicallyStable, BasicallyStable, "2026-04-30"},
		{RuleNextBasicPersist, "31 May", "2026-05-31", BasicallyStable, BasicallyStable, "2026-06-30"},
		{RuleNextBasicPersist, "29 February", "2028-02-29", BasicallyStable, BasicallyStable, "2028-03-29"},
		{RuleNextBasicPersist, "across a year", "2026-12-31", BasicallyStable, BasicallyStable, "2027-01-31"},

		{RuleNextStable, "3 months", "2026-01-15", Stable, "", "2026-04-15"},
		{RuleNextStable, "30 November, common year", "2026-11-30", Stable, Stable, "2027-02-28"},
		{RuleNextStable, "30 November, leap year", "2027-11-30", Stable, Stable, "2028-02-29"},
		{RuleNextStable, "29 November, common year", "2026-11-29", Stable, "", "2027-02-28"},
		{RuleNextStable, "28 November, common year", "2026-11-28", Stable, "", "2027-02-28"},
		{RuleNextStable, "31 December", "2026-12-31", Stable, BasicallyStable, "2027-03-31"},
		{RuleNextStable, "31 October", "2026-10-31", Stable, "", "2027-01-31"},
		{RuleNextStable, "31 March", "2026-03-31", Stable, "", "2026-06-30"},
		{RuleNextStable, "30 November 2099, 2100 is not a leap year", "2099-11-30", Stable, "", "2100-02-28"},
		{RuleNextStable, "30 November 2399, 2400 is a leap year", "2399-11-30", Stable, "", "2400-02-29"},
	}
	for _, tt := range tests {
		t.Run(string(tt.rule)+"/"+tt.name, func(t *testing.T) {
			got, rule := NextDue(d(tt.date), tt.c, tt.previous)
			if got.String() != tt.want || rule != tt.rule {
				t.Errorf("NextDue(%s, %s, %q) = %s, %s; want %s, %s", tt.date, tt.c, tt.previous, got, rule, tt.want, tt.rule)
			}
		})
	}

	t.Run("R-NOT-REACHED/due date stays", func(t *testing.T) {
		got, rule := NextDue(d("2026-03-10"), NotReached, Stable)
		if !got.IsZero() || rule != RuleNotReached {
			t.Errorf("NextDue(not_reached) = %v, %s; want zero, R-NOT-REACHED", got, rule)
		}
	})
	t.Run("unknown classification", func(t *testing.T) {
		got, rule := NextDue(d("2026-03-10"), "", "")
		if !got.IsZero() || rule != "" {
			t.Errorf("NextDue(\"\") = %v, %q", got, rule)
		}
	})
}

func TestCheckNextDueOverride(t *testing.T) {
	computed := d("2026-06-15")
	tests := []struct {
		rule    Rule
		name    string
		chosen  Date
		reason  string
		wantErr error
	}{
		{RuleNextStable, "no override", Date{}, "", nil},
		{RuleNextStable, "earlier, no reason", d("2026-06-01"), "", nil},
		{RuleNextStable, "same day, no reason", computed, "", nil},
		{RuleNextStable, "one day later, no reason", d("2026-06-16"), "", ErrLaterNeedsReason},
		{RuleNextStable, "later, blank reason", d("2026-07-15"), " \t\n", ErrLaterNeedsReason},
		{RuleNextStable, "later, with reason", d("2026-07-15"), "patient working away until July", nil},
		{RuleNextStable, "impossible date", Date{2026, time.February, 30}, "x", ErrInvalidDate},
	}
	for _, tt := range tests {
		t.Run(string(tt.rule)+"/"+tt.name, func(t *testing.T) {
			if err := CheckNextDueOverride(computed, tt.chosen, tt.reason); !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckNextDueOverride(%s, %s, %q) = %v, want %v", computed, tt.chosen, tt.reason, err, tt.wantErr)
			}
		})
	}
}

func TestOverdue(t *testing.T) {
	tests := []struct {
		name     string
		due      Date
		asOf     string
		want     bool
		wantDays int
	}{
		{"day before due", d("2026-03-01"), "2026-02-28", false, 0},
		{"on the due date", d("2026-03-01"), "2026-03-01", false, 0},
		{"day after due", d("2026-03-01"), "2026-03-02", true, 1},
		{"a month after", d("2026-03-01"), "2026-04-01", true, 31},
		{"across a year", d("2026-12-31"), "2027-01-01", true, 1},
		{"across 29 February", d("2028-02-28"), "2028-03-01", true, 2},
		{"nothing due", Date{}, "2026-03-01", false, 0},
	}
	for _, tt := range tests {
		t.Run("R-OVERDUE/"+tt.name, func(t *testing.T) {
			got, days := Overdue(tt.due, d(tt.asOf))
			if got != tt.want || days != tt.wantDays {
				t.Errorf("Overdue(%s, %s) = %v, %d; want %v, %d", tt.due, tt.asOf, got, days, tt.want, tt.wantDays)
			}
		})
	}
}

func TestLost(t *testing.T) {
	tests := []struct {
		name         string
		notReached   int
		lastReached  Date
		registeredOn Date
		asOf         string
		want         bool
	}{
		{"2 not reached in a row", 2, d("2026-05-01"), d("2020-01-01"), "2026-06-01", false},
		{"3 not reached in a row", 3, d("2026-05-01"), d("2020-01-01"), "2026-06-01", true},
		{"4 not reached in a row", 4, d("2026-05-01"), d("2020-01-01"), "2026-06-01", true},
		{"reached, day before 6 months", 0, d("2026-03-01"), d("2020-01-01"), "2026-08-31", false},
		{"reached, exactly 6 months", 0, d("2026-03-01"), d("2020-01-01"), "2026-09-01", true},
		{"reached 31 August, day before 6 months", 1, d("2026-08-31"), d("2020-01-01"), "2027-02-27", false},
		{"reached 31 August, 6 months clamped to 28 February", 1, d("2026-08-31"), d("2020-01-01"), "2027-02-28", true},
		{"reached 31 August, leap year, 28 February", 0, d("2027-08-31"), d("2020-01-01"), "2028-02-28", false},
		{"reached 31 August, leap year, 29 February", 0, d("2027-08-31"), d("2020-01-01"), "2028-02-29", true},
		{"last reached counts, not registration", 0, d("2026-03-01"), d("2020-01-01"), "2026-04-01", false},
		{"never reached, day before 6 months from registration", 2, Date{}, d("2026-01-15"), "2026-07-14", false},
		{"never reached, 6 months from registration", 0, Date{}, d("2026-01-15"), "2026-07-15", true},
		{"never reached, 3 attempts", 3, Date{}, d("2026-01-15"), "2026-02-01", true},
		{"no dates, 2 attempts", 2, Date{}, Date{}, "2026-02-01", false},
		{"no dates, 3 attempts", 3, Date{}, Date{}, "2026-02-01", true},
	}
	for _, tt := range tests {
		t.Run("R-LOST/"+tt.name, func(t *testing.T) {
			if got := Lost(tt.notReached, tt.lastReached, tt.registeredOn, d(tt.asOf)); got != tt.want {
				t.Errorf("Lost(%d, %s, %s, %s) = %v, want %v", tt.notReached, tt.lastReached, tt.registeredOn, tt.asOf, got, tt.want)
			}
		})
	}
}

func TestBelowMinimum(t *testing.T) {
	tests := []struct {
		reached int
		asOf    string
		want    bool
	}{
		{0, "2026-01-01", true},
		{3, "2026-12-31", true},
		{4, "2026-12-31", false},
		{4, "2026-03-01", false},
		{5, "2026-06-30", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("R-MIN4/%d reached by %s", tt.reached, tt.asOf), func(t *testing.T) {
			if got := BelowMinimum(tt.reached, d(tt.asOf)); got != tt.want {
				t.Errorf("BelowMinimum(%d, %s) = %v, want %v", tt.reached, tt.asOf, got, tt.want)
			}
		})
	}
}

func TestEmergency(t *testing.T) {
	for _, tt := range []struct{ event, want string }{
		{"2026-03-10", "2026-03-24"},
		{"2026-12-20", "2027-01-03"},
		{"2028-02-20", "2028-03-05"},
	} {
		t.Run("R-EMERG/follow-up within 2 weeks of "+tt.event, func(t *testing.T) {
			if got := EmergencyFollowUpDue(d(tt.event)); got.String() != tt.want {
				t.Errorf("EmergencyFollowUpDue(%s) = %s, want %s", tt.event, got, tt.want)
			}
		})
	}
	t.Run("R-EMERG/record within 24 hours", func(t *testing.T) {
		cst := time.FixedZone("CST", 8*60*60)
		event := time.Date(2026, time.December, 31, 22, 15, 0, 0, cst)
		want := time.Date(2027, time.January, 1, 22, 15, 0, 0, cst)
		if got := EmergencyRecordDeadline(event); !got.Equal(want) {
			t.Errorf("EmergencyRecordDeadline(%v) = %v, want %v", event, got, want)
		}
	})
}

func TestRiskDescription(t *testing.T) {
	seen := map[string]bool{}
	for level := MinRiskLevel; level <= MaxRiskLevel; level++ {
		en, zh := RiskDescription(level)
		if en == "" || zh == "" || seen[en] || seen[zh] {
			t.Errorf("R-RISK/level %d: %q, %q", level, en, zh)
		}
		seen[en], seen[zh] = true, true
		if !ValidRiskLevel(level) {
			t.Errorf("R-RISK/level %d not valid", level)
		}
	}
	for _, level := range []int{-1, 6} {
		if en, zh := RiskDescription(level); en != "" || zh != "" || ValidRiskLevel(level) {
			t.Errorf("R-RISK/level %d: described or valid", level)
		}
	}
}
