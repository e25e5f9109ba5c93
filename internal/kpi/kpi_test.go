package kpi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"kith/internal/clinical"
)

func ptr(v float64) *float64 { return &v }

func fmtValue(v *float64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

func date(t testing.TB, s string) clinical.Date {
	t.Helper()
	d, err := clinical.ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

// district is a small hand-built district: 24,500 residents, 123 registered,
// 100 managed of whom 70 stable, and so on.
var district = Counts{
	Population:        24500,
	Registered:        123,
	Managed:           100,
	Standardised:      90,
	Medicated:         80,
	RegularMedication: 61,
	FaceToFace:        41,
	Stable:            70,
	HealthChecked:     3,
	Overdue:           7,
	Lost:              2,
	Emergencies:       1,
	PlanCovered:       41,
	ReviewsOnTime:     9,
	ReviewsDue:        12,
	GoalsAchieved:     5,
	GoalsReviewed:     16,
}

func TestComputeFormulas(t *testing.T) {
	figs := Compute(district, nil)
	tests := []struct {
		name     string
		key      Key
		num, den int64
		value    *float64
		unit     string
	}{
		// 123 / 24500 × 1000 = 5.0204… → 5.02
		{"R-KPI/registered prevalence 123 of 24,500 is 5.02‰", RegisteredPrevalence, 123, 24500, ptr(5.02), PerMille},
		// 100 / 123 × 100 = 81.3008… → 81.30
		{"R-KPI/management rate managed ÷ registered", ManagementRate, 100, 123, ptr(81.3), Percent},
		// 90 / 123 × 100 = 73.1707… → 73.17
		{"R-KPI/standardised management rate standardised ÷ registered", StandardisedManagementRate, 90, 123, ptr(73.17), Percent},
		// 80 / 123 × 100 = 65.0406… → 65.04
		{"R-KPI/medication rate medicated ÷ registered", MedicationRate, 80, 123, ptr(65.04), Percent},
		// 61 / 123 × 100 = 49.5934… → 49.59
		{"R-KPI/regular medication rate regular ÷ registered", RegularMedicationRate, 61, 123, ptr(49.59), Percent},
		// 41 / 123 × 100 = 33.3333… → 33.33
		{"R-KPI/face-to-face rate face-to-face ÷ registered", FaceToFaceRate, 41, 123, ptr(33.33), Percent},
		// 70 / 100 × 100 = 70: the denominator is the managed, not the registered
		{"R-KPI/stability rate stable ÷ followed up in the period", StabilityRate, 70, 100, ptr(70), Percent},
		// 3 / 123 × 100 = 2.4390… → 2.44
		{"R-KPI/health check rate health-checked ÷ registered", HealthCheckRate, 3, 123, ptr(2.44), Percent},
		{"R-KPI/registered is a count", Registered, 123, 0, ptr(123), Count},
		{"R-KPI/overdue is a count", Overdue, 7, 0, ptr(7), Count},
		{"R-KPI/lost is a count", Lost, 2, 0, ptr(2), Count},
		{"R-KPI/emergencies is a count", Emergencies, 1, 0, ptr(1), Count},
		// Issue 11: plan coverage = managed patients with an active plan ÷ registered; 41 / 123 = 33.33 %
		{"issue 11/plan coverage managed with an active plan ÷ registered", PlanCoverage, 41, 123, ptr(33.33), Percent},
		// Issue 11: reviews on time = reviews done by their due date ÷ reviews due in the period; 9 / 12 = 75 %
		{"issue 11/reviews on time done by the due date ÷ due in the period", ReviewsOnTime, 9, 12, ptr(75), Percent},
		// Issue 11: goals achieved = achieved ÷ goals reviewed in the period; 5 / 16 = 31.25 %
		{"issue 11/goals achieved achieved ÷ reviewed in the period", GoalsAchieved, 5, 16, ptr(31.25), Percent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := Find(figs, tt.key)
			if !ok {
				t.Fatalf("no figure %q", tt.key)
			}
			if f.Numerator != tt.num || f.Denominator != tt.den || f.Unit != tt.unit {
				t.Errorf("got %d/%d %s, want %d/%d %s", f.Numerator, f.Denominator, f.Unit, tt.num, tt.den, tt.unit)
			}
			if fmtValue(f.Value) != fmtValue(tt.value) {
				t.Errorf("value %s, want %s", fmtValue(f.Value), fmtValue(tt.value))
			}
			if f.KithDefinition != (tt.key == FaceToFaceRate) {
				t.Errorf("KithDefinition = %v", f.KithDefinition)
			}
			if f.Target != nil || f.BelowTarget {
				t.Errorf("no targets given, got target %s below %v", fmtValue(f.Target), f.BelowTarget)
			}
		})
	}
}

func TestComputeOrder(t *testing.T) {
	t.Run("R-KPI/one figure per key in Keys order", func(t *testing.T) {
		figs := Compute(Counts{}, DefaultTargets())
		if len(figs) != len(Keys) || len(Keys) != 15 {
			t.Fatalf("%d figures for %d keys", len(figs), len(Keys))
		}
		for i, k := range Keys {
			if figs[i].Key != k {
				t.Errorf("figure %d is %q, want %q", i, figs[i].Key, k)
			}
			if !k.Valid() {
				t.Errorf("%q not Valid", k)
			}
		}
		for _, k := range []Key{"", "Registered", "referral_response_time", "management rate"} {
			if k.Valid() {
				t.Errorf("%q Valid", k)
			}
		}
	})
}

func TestComputeZeroDenominators(t *testing.T) {
	tests := []struct {
		name string
		c    Counts
		nil  []Key
	}{
		{"R-KPI/no population gives no prevalence", Counts{Registered: 5, Managed: 2, Stable: 1, ReviewsDue: 1, GoalsReviewed: 1},
			[]Key{RegisteredPrevalence}},
		{"R-KPI/no registered patients gives no rates", Counts{Population: 1000},
			[]Key{ManagementRate, StandardisedManagementRate, MedicationRate, RegularMedicationRate,
				FaceToFaceRate, StabilityRate, HealthCheckRate, PlanCoverage, ReviewsOnTime, GoalsAchieved}},
		{"R-KPI/stability rate with nobody followed up", Counts{Population: 1000, Registered: 4, Stable: 0},
			[]Key{StabilityRate, ReviewsOnTime, GoalsAchieved}},
		{"issue 11/no review due and no goal reviewed give no review figures", Counts{Population: 1000, Registered: 4, Managed: 1},
			[]Key{ReviewsOnTime, GoalsAchieved}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range Compute(tt.c, DefaultTargets()) {
				wantNil := false
				for _, k := range tt.nil {
					wantNil = wantNil || k == f.Key
				}
				if (f.Value == nil) != wantNil {
					t.Errorf("%s: value %s, want nil %v", f.Key, fmtValue(f.Value), wantNil)
				}
				if f.Value == nil && f.BelowTarget {
					t.Errorf("%s: nil value below target", f.Key)
				}
			}
		})
	}
	t.Run("R-KPI/zero counts are 0, not nil", func(t *testing.T) {
		for _, k := range []Key{Registered, Overdue, Lost, Emergencies} {
			f, _ := Find(Compute(Counts{}, nil), k)
			if fmtValue(f.Value) != "0" {
				t.Errorf("%s = %s, want 0", k, fmtValue(f.Value))
			}
		}
	})
	t.Run("R-KPI/nil value is JSON null", func(t *testing.T) {
		f, _ := Find(Compute(Counts{}, nil), ManagementRate)
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"key":"management_rate","numerator":0,"denominator":0,"value":null,"unit":"%"}`
		if string(b) != want {
			t.Errorf("got %s\nwant %s", b, want)
		}
	})
}

func TestRounding(t *testing.T) {
	tests := []struct {
		name            string
		num, den, scale int64
		want            float64
	}{
		{"R-KPI/rounding 2/3 is 66.67", 2, 3, 100, 66.67},
		{"R-KPI/rounding 1/3 is 33.33", 1, 3, 100, 33.33},
		{"R-KPI/rounding exact 1/2 is 50", 1, 2, 100, 50},
		{"R-KPI/rounding 1/8 half up to 0.13", 1, 800, 100, 0.13},               // 0.125
		{"R-KPI/rounding 1/16 half up to 6.25 exactly", 1, 16, 100, 6.25},       // 6.25, no rounding
		{"R-KPI/rounding 1/160 half up to 0.63", 1, 160, 100, 0.63},             // 0.625
		{"R-KPI/rounding 201/200000 half up to 0.1", 201, 200000, 100, 0.1},     // 0.1005
		{"R-KPI/rounding 1005/100000 half up to 1.01", 1005, 100000, 100, 1.01}, // 1.005, which float ×100 gets wrong
		{"R-KPI/rounding just under half goes down", 12499, 1000000, 100, 1.25}, // 1.2499
		{"R-KPI/rounding half away from zero when negative", -1, 800, 100, -0.13},
		{"R-KPI/rounding 100%", 7, 7, 100, 100},
		{"R-KPI/rounding prevalence 1 of 3 is 333.33‰", 1, 3, 1000, 333.33},
		{"R-KPI/rounding prevalence 2 of 3 is 666.67‰", 2, 3, 1000, 666.67},
		{"R-KPI/rounding huge counts do not overflow", 1 << 60, 3 << 60, 100, 33.33},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := roundRatio(tt.num, tt.den, tt.scale); got != tt.want {
				t.Errorf("roundRatio(%d, %d, %d) = %v, want %v", tt.num, tt.den, tt.scale, got, tt.want)
			}
		})
	}
	t.Run("R-KPI/rounding through Compute 2 of 3 managed is 66.67", func(t *testing.T) {
		f, _ := Find(Compute(Counts{Registered: 3, Managed: 2}, nil), ManagementRate)
		if fmtValue(f.Value) != "66.67" {
			t.Errorf("got %s", fmtValue(f.Value))
		}
	})
}

func TestTargets(t *testing.T) {
	t.Run("R-KPI/default targets", func(t *testing.T) {
		got := DefaultTargets()
		want := Targets{ManagementRate: 80, StandardisedManagementRate: 80, RegularMedicationRate: 60}
		if len(got) != len(want) {
			t.Fatalf("got %v", got)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %v, want %v", k, got[k], v)
			}
		}
	})
	tests := []struct {
		name      string
		managed   int64 // of 10,000 registered
		wantValue string
		wantBelow bool
	}{
		{"R-KPI/management rate 79.99 is below target 80", 7999, "79.99", true},
		{"R-KPI/management rate 80 is not below target 80", 8000, "80", false},
		{"R-KPI/management rate 80.01 is not below target 80", 8001, "80.01", false},
		{"R-KPI/management rate 0 is below target 80", 0, "0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := Find(Compute(Counts{Registered: 10000, Managed: tt.managed}, DefaultTargets()), ManagementRate)
			if fmtValue(f.Value) != tt.wantValue || f.BelowTarget != tt.wantBelow || fmtValue(f.Target) != "80" {
				t.Errorf("value %s target %s below %v; want %s, 80, %v",
					fmtValue(f.Value), fmtValue(f.Target), f.BelowTarget, tt.wantValue, tt.wantBelow)
			}
		})
	}
	t.Run("R-KPI/target compares the shown value 79.995 → 80.00, not below", func(t *testing.T) {
		// 15999 / 20000 = 79.995 % exactly, shown as 80 (half away from zero)
		f, _ := Find(Compute(Counts{Registered: 20000, Managed: 15999}, DefaultTargets()), ManagementRate)
		if fmtValue(f.Value) != "80" || f.BelowTarget {
			t.Errorf("value %s below %v", fmtValue(f.Value), f.BelowTarget)
		}
	})
	t.Run("R-KPI/regular medication rate 59.99 is below target 60", func(t *testing.T) {
		f, _ := Find(Compute(Counts{Registered: 10000, RegularMedication: 5999}, DefaultTargets()), RegularMedicationRate)
		if fmtValue(f.Value) != "59.99" || !f.BelowTarget || fmtValue(f.Target) != "60" {
			t.Errorf("value %s target %s below %v", fmtValue(f.Value), fmtValue(f.Target), f.BelowTarget)
		}
	})
	t.Run("R-KPI/configured targets replace the defaults and figures without one have none", func(t *testing.T) {
		figs := Compute(Counts{Registered: 10, Managed: 9, Standardised: 5}, Targets{ManagementRate: 95, "nonsense": 1})
		m, _ := Find(figs, ManagementRate)
		s, _ := Find(figs, StandardisedManagementRate)
		if fmtValue(m.Target) != "95" || !m.BelowTarget {
			t.Errorf("management: target %s below %v", fmtValue(m.Target), m.BelowTarget)
		}
		if s.Target != nil || s.BelowTarget {
			t.Errorf("standardised: target %s below %v", fmtValue(s.Target), s.BelowTarget)
		}
	})
	t.Run("R-KPI/each figure has its own target pointer", func(t *testing.T) {
		figs := Compute(district, DefaultTargets())
		m, _ := Find(figs, ManagementRate)
		s, _ := Find(figs, StandardisedManagementRate)
		*m.Target = 1
		if *s.Target != 80 {
			t.Errorf("targets share memory")
		}
	})
}

func TestFind(t *testing.T) {
	t.Run("R-KPI/find a missing figure", func(t *testing.T) {
		if _, ok := Find(nil, ManagementRate); ok {
			t.Error("found a figure in nil")
		}
		if _, ok := Find(Compute(district, nil), "nonsense"); ok {
			t.Error("found nonsense")
		}
	})
}

func TestChange(t *testing.T) {
	rate := func(v *float64) Figure { return Figure{Key: ManagementRate, Value: v, Unit: Percent} }
	tests := []struct {
		name      string
		cur, prev Figure
		want      *float64
	}{
		{"R-KPI/change in percentage points 66.67 − 33.33", rate(ptr(66.67)), rate(ptr(33.33)), ptr(33.34)},
		{"R-KPI/change in percentage points down 80 → 79.99", rate(ptr(79.99)), rate(ptr(80)), ptr(-0.01)},
		{"R-KPI/change in percentage points 0.1 + 0.2 noise", rate(ptr(0.3)), rate(ptr(0.1)), ptr(0.2)},
		{"R-KPI/no change is 0", rate(ptr(50)), rate(ptr(50)), ptr(0)},
		{"R-KPI/change without a current value", rate(nil), rate(ptr(50)), nil},
		{"R-KPI/change without a previous value", rate(ptr(50)), rate(nil), nil},
		{"R-KPI/change of a count", Figure{Key: Overdue, Value: ptr(3), Unit: Count}, Figure{Key: Overdue, Value: ptr(10), Unit: Count}, ptr(-7)},
		{"R-KPI/change between different figures", rate(ptr(50)), Figure{Key: StabilityRate, Value: ptr(40), Unit: Percent}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Change(tt.cur, tt.prev); fmtValue(got) != fmtValue(tt.want) {
				t.Errorf("got %s, want %s", fmtValue(got), fmtValue(tt.want))
			}
		})
	}
	t.Run("R-KPI/change from Compute, management 2/3 vs 1/3", func(t *testing.T) {
		cur, _ := Find(Compute(Counts{Registered: 3, Managed: 2}, nil), ManagementRate)
		prev, _ := Find(Compute(Counts{Registered: 3, Managed: 1}, nil), ManagementRate)
		if got := Change(cur, prev); fmtValue(got) != "33.34" {
			t.Errorf("got %s", fmtValue(got))
		}
	})
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		name, in, from, to, kind, str string
	}{
		{"R-KPI/month November", "2026-11", "2026-11-01", "2026-11-30", KindMonth, "2026-11"},
		{"R-KPI/month January", "2026-01", "2026-01-01", "2026-01-31", KindMonth, "2026-01"},
		{"R-KPI/month February common year", "2026-02", "2026-02-01", "2026-02-28", KindMonth, "2026-02"},
		{"R-KPI/month February leap year", "2028-02", "2028-02-01", "2028-02-29", KindMonth, "2028-02"},
		{"R-KPI/month February 2000 leap", "2000-02", "2000-02-01", "2000-02-29", KindMonth, "2000-02"},
		{"R-KPI/month February 2100 common", "2100-02", "2100-02-01", "2100-02-28", KindMonth, "2100-02"},
		{"R-KPI/month December", "2026-12", "2026-12-01", "2026-12-31", KindMonth, "2026-12"},
		{"R-KPI/month April has 30 days", "2026-04", "2026-04-01", "2026-04-30", KindMonth, "2026-04"},
		{"R-KPI/quarter Q1", "2026-Q1", "2026-01-01", "2026-03-31", KindQuarter, "2026-Q1"},
		{"R-KPI/quarter Q2", "2026-Q2", "2026-04-01", "2026-06-30", KindQuarter, "2026-Q2"},
		{"R-KPI/quarter Q3", "2026-Q3", "2026-07-01", "2026-09-30", KindQuarter, "2026-Q3"},
		{"R-KPI/quarter Q4", "2026-Q4", "2026-10-01", "2026-12-31", KindQuarter, "2026-Q4"},
		{"R-KPI/quarter lower-case q", "2026-q4", "2026-10-01", "2026-12-31", KindQuarter, "2026-Q4"},
		{"R-KPI/year", "2026", "2026-01-01", "2026-12-31", KindYear, "2026"},
		{"R-KPI/range", "2026-01-05..2026-02-10", "2026-01-05", "2026-02-10", KindRange, "2026-01-05..2026-02-10"},
		{"R-KPI/range of one day", "2026-02-10..2026-02-10", "2026-02-10", "2026-02-10", KindRange, "2026-02-10..2026-02-10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePeriod(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.From.String() != tt.from || p.To.String() != tt.to || p.Kind != tt.kind || p.String() != tt.str {
				t.Errorf("got %s..%s %s %q, want %s..%s %s %q", p.From, p.To, p.Kind, p, tt.from, tt.to, tt.kind, tt.str)
			}
		})
	}
}

func TestParsePeriodInvalid(t *testing.T) {
	for _, in := range []string{
		"", "26", "202", "20261", "2026-13", "2026-00", "2026-1", "2026-011", "2026-Q5", "2026-Q0", "2026-Q",
		"2026-Q12", "2026-H1", "0000", "0000-01", "0000-Q1", "-2026", "+026", "2026 ", " 2026", "2026/11",
		"2026-11-01", "2026-02-30", "2026-+1", "２０２６", "2026-02-10..2026-01-05", "2026-01-05..",
		"..2026-01-05", "2026-01-05...2026-02-10", "2026-01..2026-02", "2016-01-01..2026-01-01",
	} {
		t.Run(fmt.Sprintf("R-KPI/invalid period %q", in), func(t *testing.T) {
			p, err := ParsePeriod(in)
			if err == nil {
				t.Fatalf("accepted as %v", p)
			}
			if !errors.Is(err, ErrInvalidPeriod) {
				t.Errorf("error %v does not wrap ErrInvalidPeriod", err)
			}
			if p != (Period{}) {
				t.Errorf("non-zero period %v with an error", p)
			}
		})
	}
}

func TestRange(t *testing.T) {
	tests := []struct {
		name, from, to string
		ok             bool
	}{
		{"R-KPI/range from before to", "2026-01-05", "2026-02-10", true},
		{"R-KPI/range from equals to", "2026-01-05", "2026-01-05", true},
		{"R-KPI/range from after to", "2026-02-10", "2026-01-05", false},
		{"R-KPI/range of exactly 10 years", "2016-01-01", "2025-12-31", true},
		{"R-KPI/range of 10 years and a day", "2016-01-01", "2026-01-01", false},
		{"R-KPI/range of 10 years from 29 February", "2016-02-29", "2026-02-27", true},
		{"R-KPI/range of 10 years and a day from 29 February", "2016-02-29", "2026-02-28", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Range(date(t, tt.from), date(t, tt.to))
			if (err == nil) != tt.ok {
				t.Fatalf("Range(%s, %s) error %v, want ok %v", tt.from, tt.to, err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidPeriod) {
					t.Errorf("error %v does not wrap ErrInvalidPeriod", err)
				}
				return
			}
			if p.Kind != KindRange || p.String() != tt.from+".."+tt.to {
				t.Errorf("got %s %q", p.Kind, p)
			}
		})
	}
	t.Run("R-KPI/range of zero dates", func(t *testing.T) {
		if _, err := Range(clinical.Date{}, date(t, "2026-01-01")); err == nil {
			t.Error("accepted a zero from")
		}
		if _, err := Range(date(t, "2026-01-01"), clinical.Date{}); err == nil {
			t.Error("accepted a zero to")
		}
		if _, err := Range(clinical.Date{Year: 2026, Month: 2, Day: 30}, date(t, "2026-03-01")); err == nil {
			t.Error("accepted 2026-02-30")
		}
	})
}

func TestPrevious(t *testing.T) {
	tests := []struct {
		name, in, want, from, to string
	}{
		{"R-KPI/previous month", "2026-11", "2026-10", "2026-10-01", "2026-10-31"},
		{"R-KPI/previous month of January is December", "2026-01", "2025-12", "2025-12-01", "2025-12-31"},
		{"R-KPI/previous month of March is February common", "2026-03", "2026-02", "2026-02-01", "2026-02-28"},
		{"R-KPI/previous month of March is February leap", "2028-03", "2028-02", "2028-02-01", "2028-02-29"},
		{"R-KPI/previous month of December", "2026-12", "2026-11", "2026-11-01", "2026-11-30"},
		{"R-KPI/previous quarter of Q1 is Q4 of the year before", "2026-Q1", "2025-Q4", "2025-10-01", "2025-12-31"},
		{"R-KPI/previous quarter of Q4", "2026-Q4", "2026-Q3", "2026-07-01", "2026-09-30"},
		{"R-KPI/previous quarter of Q2", "2026-Q2", "2026-Q1", "2026-01-01", "2026-03-31"},
		{"R-KPI/previous year", "2026", "2025", "2025-01-01", "2025-12-31"},
		// 2026-01-05..2026-02-10 is 27 + 10 = 37 days; the 37 days ending
		// 2026-01-04 are 4 in January, 31 in December and 29–30 November.
		{"R-KPI/previous range is as many days ending the day before", "2026-01-05..2026-02-10",
			"2025-11-29..2026-01-04", "2025-11-29", "2026-01-04"},
		{"R-KPI/previous range of one day", "2026-03-01..2026-03-01", "2026-02-28..2026-02-28", "2026-02-28", "2026-02-28"},
		{"R-KPI/previous range across a leap day", "2028-03-01..2028-03-10", "2028-02-20..2028-02-29", "2028-02-20", "2028-02-29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePeriod(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			prev := p.Previous()
			if prev.String() != tt.want || prev.From.String() != tt.from || prev.To.String() != tt.to || prev.Kind != p.Kind {
				t.Errorf("got %q %s..%s %s, want %q %s..%s %s", prev, prev.From, prev.To, prev.Kind, tt.want, tt.from, tt.to, p.Kind)
			}
			if prev.To.AddDays(1) != p.From {
				t.Errorf("previous ends %s, not the day before %s", prev.To, p.From)
			}
		})
	}
}

func TestYearStart(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"R-KPI/standardised management year of a month", "2026-11", "2026-01-01"},
		{"R-KPI/standardised management year of Q1", "2026-Q1", "2026-01-01"},
		{"R-KPI/health check year of a year", "2026", "2026-01-01"},
		{"R-KPI/health check year of a range across New Year is To's year", "2025-12-15..2026-01-15", "2026-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePeriod(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.YearStart().String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	t.Run("R-KPI/zero period", func(t *testing.T) {
		if s := (Period{}).String(); s != "" {
			t.Errorf("got %q", s)
		}
	})
}

func TestLastMonths(t *testing.T) {
	t.Run("R-KPI/12-month trend ending 2026-11-25", func(t *testing.T) {
		got := LastMonths(date(t, "2026-11-25"), 12)
		want := []string{"2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05",
			"2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"}
		if len(got) != len(want) {
			t.Fatalf("got %d months", len(got))
		}
		for i, p := range got {
			if p.String() != want[i] || p.Kind != KindMonth {
				t.Errorf("month %d: %q %s, want %q", i, p, p.Kind, want[i])
			}
			if i > 0 && got[i-1].To.AddDays(1) != p.From {
				t.Errorf("gap between %s and %s", got[i-1], p)
			}
		}
		if got[0].From.String() != "2025-12-01" || got[11].To.String() != "2026-11-30" {
			t.Errorf("spans %s..%s", got[0].From, got[11].To)
		}
	})
	t.Run("R-KPI/trend ending on 31 January", func(t *testing.T) {
		got := LastMonths(date(t, "2026-01-31"), 3)
		if len(got) != 3 || got[0].String() != "2025-11" || got[1].String() != "2025-12" || got[2].String() != "2026-01" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("R-KPI/trend of one month", func(t *testing.T) {
		got := LastMonths(date(t, "2028-02-29"), 1)
		if len(got) != 1 || got[0].From.String() != "2028-02-01" || got[0].To.String() != "2028-02-29" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("R-KPI/trend of no months", func(t *testing.T) {
		if got := LastMonths(date(t, "2026-11-25"), 0); len(got) != 0 {
			t.Errorf("got %v", got)
		}
		if got := LastMonths(date(t, "2026-11-25"), -1); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{
		"2026-11", "2026-02", "2028-02", "2026-Q4", "2026-q1", "2026", "2026-01-05..2026-02-10",
		"2026-13", "2026-Q5", "26", "", "0001", "9999-12", "9999-Q4", "2026-02-10..2026-01-05",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			if p != (Period{}) {
				t.Fatalf("%q: error %v with period %v", s, err, p)
			}
			return
		}
		if !p.From.Valid() || !p.To.Valid() || p.From.After(p.To) {
			t.Fatalf("%q: bad period %s..%s", s, p.From, p.To)
		}
		switch p.Kind {
		case KindMonth, KindQuarter, KindYear, KindRange:
		default:
			t.Fatalf("%q: kind %q", s, p.Kind)
		}
		// Only canonical text is accepted, up to the case of q.
		if p.String() != strings.ToUpper(s) {
			t.Fatalf("%q: String() = %q", s, p.String())
		}
		again, err := ParsePeriod(p.String())
		if err != nil || again != p {
			t.Fatalf("%q: round trip gave %v, %v", s, again, err)
		}
		if p.YearStart().Year != p.To.Year || !p.YearStart().Valid() {
			t.Fatalf("%q: YearStart %s", s, p.YearStart())
		}
		if p.From.Year > 1 {
			prev := p.Previous()
			if prev.Kind != p.Kind || prev.To.AddDays(1) != p.From || !prev.From.Valid() || prev.From.After(prev.To) {
				t.Fatalf("%q: previous %s..%s %s", s, prev.From, prev.To, prev.Kind)
			}
			if p.Kind == KindRange && clinical.DaysBetween(prev.From, prev.To) != clinical.DaysBetween(p.From, p.To) {
				t.Fatalf("%q: previous range %s has another length", s, prev)
			}
		}
	})
}
