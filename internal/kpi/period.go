package kpi

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"kith/internal/clinical"
)

// Kinds of Period.
const (
	KindMonth   = "month"
	KindQuarter = "quarter"
	KindYear    = "year"
	KindRange   = "range"
)

// MaxRangeYears is the longest Range accepted, in calendar years.
const MaxRangeYears = 10

// ErrInvalidPeriod is wrapped by every error ParsePeriod and Range return.
var ErrInvalidPeriod = errors.New("invalid period")

// Period is the stretch of days a figure counts over, both ends included.
type Period struct {
	From, To clinical.Date
	Kind     string // "month", "quarter", "year" or "range"
}

// ParsePeriod parses "2026-11" (a month), "2026-Q4" (a quarter, Q1–Q4, the q
// in either case), "2026" (a year), or "2026-01-05..2026-02-10" (a range, as
// Range; this is what String writes for one). Years are four digits,
// 0001–9999, as in clinical.ParseDate; nothing else is accepted, not even
// surrounding spaces, so that p.String() == strings.ToUpper(s).
func ParsePeriod(s string) (Period, error) {
	if from, to, ok := strings.Cut(s, ".."); ok {
		f, err1 := clinical.ParseDate(from)
		t, err2 := clinical.ParseDate(to)
		if err1 != nil || err2 != nil {
			return Period{}, fmt.Errorf("%w %q: a range is YYYY-MM-DD..YYYY-MM-DD", ErrInvalidPeriod, s)
		}
		return Range(f, t)
	}
	bad := func() (Period, error) {
		return Period{}, fmt.Errorf("%w %q: want a month 2026-11, a quarter 2026-Q4 or a year 2026", ErrInvalidPeriod, s)
	}
	if len(s) < 4 {
		return bad()
	}
	y, ok := digits(s[:4])
	if !ok || y < 1 {
		return bad()
	}
	switch {
	case len(s) == 4:
		return yearPeriod(y), nil
	case len(s) == 7 && s[4] == '-' && (s[5] == 'Q' || s[5] == 'q'):
		q, ok := digits(s[6:])
		if !ok || q < 1 || q > 4 {
			return bad()
		}
		return quarterPeriod(y, q), nil
	case len(s) == 7 && s[4] == '-':
		m, ok := digits(s[5:])
		if !ok || m < 1 || m > 12 {
			return bad()
		}
		return monthPeriod(y, time.Month(m)), nil
	}
	return bad()
}

// digits parses a non-empty string of ASCII digits only (no signs, no spaces).
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Range returns the period from..to, both days included. Both must be real
// dates, from must not be after to, and the range may span at most
// MaxRangeYears years: to must be before from + 10 years, so 2016-01-01..
// 2025-12-31 is accepted and 2016-01-01..2026-01-01 is not.
func Range(from, to clinical.Date) (Period, error) {
	switch {
	case !from.Valid() || !to.Valid():
		return Period{}, fmt.Errorf("%w: %q..%q is not a pair of real dates", ErrInvalidPeriod, from, to)
	case from.After(to):
		return Period{}, fmt.Errorf("%w: from %s is after to %s", ErrInvalidPeriod, from, to)
	case !to.Before(from.AddMonths(12 * MaxRangeYears)):
		return Period{}, fmt.Errorf("%w: %s..%s is longer than %d years", ErrInvalidPeriod, from, to, MaxRangeYears)
	}
	return Period{From: from, To: to, Kind: KindRange}, nil
}

func monthPeriod(y int, m time.Month) Period {
	from := clinical.Date{Year: y, Month: m, Day: 1}
	return Period{From: from, To: from.AddMonths(1).AddDays(-1), Kind: KindMonth}
}

func quarterPeriod(y, q int) Period {
	from := clinical.Date{Year: y, Month: time.Month(3*(q-1) + 1), Day: 1}
	return Period{From: from, To: from.AddMonths(3).AddDays(-1), Kind: KindQuarter}
}

func yearPeriod(y int) Period {
	from, to := clinical.CalendarYear(clinical.Date{Year: y, Month: time.January, Day: 1})
	return Period{From: from, To: to, Kind: KindYear}
}

// quarter returns the quarter (1–4) month m falls in.
func quarter(m time.Month) int { return (int(m)-1)/3 + 1 }

// Previous returns the period of the same kind just before p: the previous
// month, quarter or year (December before January, Q4 of the year before
// before Q1); for a range, the range of as many days (both ends counted)
// ending the day before p.From, so 2026-01-05..2026-02-10 (37 days) gives
// 2025-11-29..2026-01-04. Before a period starting in the year 0001 lies the
// year 0000, which is no valid date: do not ask.
func (p Period) Previous() Period {
	switch p.Kind {
	case KindMonth:
		prev := p.From.AddMonths(-1)
		return monthPeriod(prev.Year, prev.Month)
	case KindQuarter:
		prev := p.From.AddMonths(-3)
		return quarterPeriod(prev.Year, quarter(prev.Month))
	case KindYear:
		return yearPeriod(p.From.Year - 1)
	}
	days := clinical.DaysBetween(p.From, p.To) + 1
	to := p.From.AddDays(-1)
	return Period{From: to.AddDays(1 - days), To: to, Kind: p.Kind}
}

// String returns "2026-11" for a month, "2026-Q4" for a quarter, "2026" for a
// year, "2026-01-05..2026-02-10" for a range, and "" for the zero Period.
// ParsePeriod reads every one of them back.
func (p Period) String() string {
	switch p.Kind {
	case KindMonth:
		return fmt.Sprintf("%04d-%02d", p.From.Year, int(p.From.Month))
	case KindQuarter:
		return fmt.Sprintf("%04d-Q%d", p.From.Year, quarter(p.From.Month))
	case KindYear:
		return fmt.Sprintf("%04d", p.From.Year)
	}
	if p == (Period{}) {
		return ""
	}
	return p.From.String() + ".." + p.To.String()
}

// YearStart returns 1 January of To's year: the year the standardised
// management rate (at least 4 reached follow-ups in the year) and the
// health-check rate count over is YearStart()..To.
func (p Period) YearStart() clinical.Date {
	first, _ := clinical.CalendarYear(p.To)
	return first
}

// LastMonths returns the n whole calendar months ending with end's month,
// oldest first: the months of a 12-month trend. The last month runs to its
// last day even if end is earlier in it. n <= 0 gives nil.
func LastMonths(end clinical.Date, n int) []Period {
	if n <= 0 {
		return nil
	}
	months := make([]Period, n)
	first := clinical.Date{Year: end.Year, Month: end.Month, Day: 1}
	for i := range n {
		m := first.AddMonths(i - (n - 1))
		months[i] = monthPeriod(m.Year, m.Month)
	}
	return months
}
