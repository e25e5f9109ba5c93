// Package kpi holds the formulas of the district figures (R-KPI in
// CLINICAL.md): the pure arithmetic that turns the counts SQL makes for one
// organisation unit and period into figures with numerator, denominator and
// value, the targets they are held to, the change from the previous period,
// and the periods themselves.
//
// Nothing here reads a database, a clock or a file: the store counts, this
// package divides.
package kpi

import (
	"math"
	"math/big"
	"slices"
)

// Key names one figure. The strings are the keys of the figures API.
type Key string

// The figures, in the order Keys lists them.
const (
	Registered                 Key = "registered"
	RegisteredPrevalence       Key = "registered_prevalence"
	ManagementRate             Key = "management_rate"
	StandardisedManagementRate Key = "standardised_management_rate"
	MedicationRate             Key = "medication_rate"
	RegularMedicationRate      Key = "regular_medication_rate"
	FaceToFaceRate             Key = "face_to_face_rate"
	StabilityRate              Key = "stability_rate"
	HealthCheckRate            Key = "health_check_rate"
	Overdue                    Key = "overdue"
	Lost                       Key = "lost"
	Emergencies                Key = "emergencies"
	// The rehabilitation figures of issue 11.
	PlanCoverage  Key = "plan_coverage"
	ReviewsOnTime Key = "reviews_on_time"
	GoalsAchieved Key = "goals_achieved"
)

// Keys lists every figure in the order Compute returns them.
var Keys = []Key{
	Registered,
	RegisteredPrevalence,
	ManagementRate,
	StandardisedManagementRate,
	MedicationRate,
	RegularMedicationRate,
	FaceToFaceRate,
	StabilityRate,
	HealthCheckRate,
	Overdue,
	Lost,
	Emergencies,
	PlanCoverage,
	ReviewsOnTime,
	GoalsAchieved,
}

// Valid reports whether k is one of Keys.
func (k Key) Valid() bool { return slices.Contains(Keys, k) }

// Counts are what SQL counts for one org unit and period.
type Counts struct {
	Population        int64 // residents of the unit (configured)
	Registered        int64 // severe-disorder patients on the register at the period's end, excluding deceased and moved away
	Managed           int64 // registered with at least one reached follow-up in the period
	Standardised      int64 // registered with >= 4 reached follow-ups in the year and a complete record
	Medicated         int64 // registered whose latest follow-up records regular or intermittent medication
	RegularMedication int64 // registered whose latest follow-up records regular medication
	FaceToFace        int64 // registered with at least one clinic or home-visit follow-up in the period
	Stable            int64 // followed up in the period whose latest follow-up in the period is stable
	HealthChecked     int64 // registered with an annual health check in the year

	Overdue, Lost, Emergencies int64

	// The rehabilitation plans (issue 11), counted live, not snapshotted.
	PlanCovered   int64 // registered patients under management with a plan version active at the period's end
	ReviewsOnTime int64 // plan reviews due in the period done by their due date
	ReviewsDue    int64 // plan reviews due in the period: those done, and those missed (due before the as-of day, not done)
	GoalsAchieved int64 // goals rated achieved at a review in the period
	GoalsReviewed int64 // goals rated at a review in the period
}

// Units of a figure's value.
const (
	Percent  = "%"
	PerMille = "‰"
	Count    = "count"
)

// Figure is one figure: numerator, denominator and value.
type Figure struct {
	Key         Key      `json:"key"`
	Numerator   int64    `json:"numerator"`
	Denominator int64    `json:"denominator"`
	Value       *float64 `json:"value"` // nil when the denominator is 0; rates in %, prevalence in ‰, counts as the count
	Unit        string   `json:"unit"`  // "%", "‰" or "count"
	// KithDefinition is true for face_to_face_rate only: no official formula
	// exists, the figure is Kith's own and the page must say so.
	KithDefinition bool     `json:"kith_definition,omitempty"`
	Target         *float64 `json:"target,omitempty"`
	BelowTarget    bool     `json:"below_target,omitempty"`
}

// Targets are the values figures should reach, by figure.
type Targets map[Key]float64

// DefaultTargets returns the targets R-KPI starts from: management rate 80 %,
// standardised management rate 80 %, regular medication rate 60 %.
func DefaultTargets() Targets {
	return Targets{
		ManagementRate:             80,
		StandardisedManagementRate: 80,
		RegularMedicationRate:      60,
	}
}

// Compute returns one Figure per Key, in the order of Keys, with the R-KPI
// formulas:
//
//   - registered, overdue, lost, emergencies: counts (numerator = the count,
//     denominator 0, value = the count, never nil);
//   - registered prevalence = registered ÷ population × 1000, in ‰;
//   - management, standardised management, medication, regular medication,
//     face-to-face and health-check rates = their count ÷ registered × 100, in %;
//   - stability rate = stable ÷ managed (the patients followed up in the
//     period) × 100, in %;
//   - plan coverage = managed patients with an active plan ÷ registered,
//     reviews on time = reviews done by their due date ÷ reviews due in the
//     period, goals achieved = achieved ÷ goals reviewed in the period, each
//     × 100 in % (issue 11's definitions).
//
// A ratio whose denominator is 0 has a nil value. Ratios are rounded to 2
// decimals, half away from zero, in exact integer arithmetic on numerator and
// denominator (so 1/8 % = 0.125 % gives 0.13, which rounding the float 0.125
// × 100 could not promise), and the value is the float64 nearest to that
// 2-decimal number.
//
// A figure with a target in t carries it, and is BelowTarget when its rounded
// value — the number the page shows — is less than the target; a nil value is
// never below target. Targets for keys that are not in Keys are ignored.
func Compute(c Counts, t Targets) []Figure {
	figs := make([]Figure, 0, len(Keys))
	for _, k := range Keys {
		var f Figure
		switch k {
		case Registered:
			f = count(k, c.Registered)
		case RegisteredPrevalence:
			f = ratio(k, c.Registered, c.Population, 1000, PerMille)
		case ManagementRate:
			f = ratio(k, c.Managed, c.Registered, 100, Percent)
		case StandardisedManagementRate:
			f = ratio(k, c.Standardised, c.Registered, 100, Percent)
		case MedicationRate:
			f = ratio(k, c.Medicated, c.Registered, 100, Percent)
		case RegularMedicationRate:
			f = ratio(k, c.RegularMedication, c.Registered, 100, Percent)
		case FaceToFaceRate:
			f = ratio(k, c.FaceToFace, c.Registered, 100, Percent)
			f.KithDefinition = true
		case StabilityRate:
			f = ratio(k, c.Stable, c.Managed, 100, Percent)
		case HealthCheckRate:
			f = ratio(k, c.HealthChecked, c.Registered, 100, Percent)
		case Overdue:
			f = count(k, c.Overdue)
		case Lost:
			f = count(k, c.Lost)
		case Emergencies:
			f = count(k, c.Emergencies)
		case PlanCoverage:
			f = ratio(k, c.PlanCovered, c.Registered, 100, Percent)
		case ReviewsOnTime:
			f = ratio(k, c.ReviewsOnTime, c.ReviewsDue, 100, Percent)
		case GoalsAchieved:
			f = ratio(k, c.GoalsAchieved, c.GoalsReviewed, 100, Percent)
		}
		if target, ok := t[k]; ok {
			f.Target = &target
			f.BelowTarget = f.Value != nil && *f.Value < target
		}
		figs = append(figs, f)
	}
	return figs
}

// count is a figure that is a plain count.
func count(k Key, n int64) Figure {
	v := float64(n)
	return Figure{Key: k, Numerator: n, Value: &v, Unit: Count}
}

// ratio is num ÷ den × scale, rounded to 2 decimals; nil value when den is 0
// (or, nonsensically, negative).
func ratio(k Key, num, den, scale int64, unit string) Figure {
	f := Figure{Key: k, Numerator: num, Denominator: den, Unit: unit}
	if den > 0 {
		v := roundRatio(num, den, scale)
		f.Value = &v
	}
	return f
}

// roundRatio returns num ÷ den × scale rounded to 2 decimals, half away from
// zero. It works in hundredths with big integers: r = num × scale × 100 ÷ den,
// rounded to the nearest integer with ties away from zero, then r ÷ 100 as the
// nearest float64. den must be positive.
func roundRatio(num, den, scale int64) float64 {
	n := new(big.Int).Mul(big.NewInt(num), big.NewInt(scale*100))
	d := big.NewInt(den)
	q, r := new(big.Int).QuoRem(n, d, new(big.Int)) // truncated toward zero; r has n's sign
	r.Abs(r).Lsh(r, 1)                              // 2|r|
	if r.Cmp(d) >= 0 {                              // |fraction| >= 1/2: away from zero
		q.Add(q, big.NewInt(int64(n.Sign())))
	}
	hundredths, _ := new(big.Float).SetInt(q).Float64()
	return hundredths / 100
}

// Find returns the figure for k in figs.
func Find(figs []Figure, k Key) (Figure, bool) {
	for _, f := range figs {
		if f.Key == k {
			return f, true
		}
	}
	return Figure{}, false
}

// Change is the difference cur − prev in the figure's unit (percentage points
// for rates, ‰ points for prevalence, patients for counts), rounded to 2
// decimals half away from zero so that float noise never shows (66.67 − 33.33
// is 33.34, not 33.340000000000003). It is nil if either value is nil, or if
// the two figures are not the same figure (different Key or Unit).
func Change(cur, prev Figure) *float64 {
	if cur.Value == nil || prev.Value == nil || cur.Key != prev.Key || cur.Unit != prev.Unit {
		return nil
	}
	// Both values are 2-decimal numbers, so d × 100 is within float noise of
	// an integer and math.Round (half away from zero) lands on it.
	d := math.Round((*cur.Value-*prev.Value)*100) / 100
	if d == 0 {
		d = 0 // no "-0" on the page
	}
	return &d
}
