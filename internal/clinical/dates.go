package clinical

import (
	"cmp"
	"errors"
	"fmt"
	"time"
)

// Date is a civil date: a day in the calendar, with no time and no zone.
// Follow-up dates and due dates are dates, not instants, so that "14 days" and
// "3 months" never depend on a time zone or daylight saving.
//
// The zero Date means "no date". Dates are comparable with ==.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ErrInvalidDate is returned for text that is not a real YYYY-MM-DD date.
var ErrInvalidDate = errors.New("not a real date in the form YYYY-MM-DD")

// ParseDate parses a date written YYYY-MM-DD, with exactly those ten
// characters. It refuses dates that do not exist, such as 2026-02-30 or
// 2026-13-01, and the year 0000.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, ErrInvalidDate
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, ErrInvalidDate
	}
	date := Date{y, time.Month(m), d}
	if !date.Valid() {
		return Date{}, ErrInvalidDate
	}
	return date, nil
}

// digits parses a string of ASCII digits only; strconv.Atoi would also take
// signs, which have no place in a date.
func digits(s string) (int, bool) {
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

// Valid reports whether d is a real date between 0001-01-01 and 9999-12-31.
func (d Date) Valid() bool {
	return d.Year >= 1 && d.Year <= 9999 &&
		d.Month >= time.January && d.Month <= time.December &&
		d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

// IsZero reports whether d is the zero Date, meaning no date.
func (d Date) IsZero() bool { return d == Date{} }

// String returns d as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// AddDays returns the date n days after d (before d if n is negative).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// AddMonths returns the same day n calendar months after d. Where that day
// does not exist in the target month it is the month's last day (R-NEXT):
// 31 January + 1 month is 28 February, or 29 February in a leap year.
// time.Time.AddDate would roll over into March instead.
func (d Date) AddMonths(n int) Date {
	first := time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	y, m, _ := first.Date()
	return Date{y, m, min(d.Day, daysIn(y, m))}
}

// Compare returns -1 if d is before u, 0 if they are the same day, +1 if d is after u.
func (d Date) Compare(u Date) int {
	if c := cmp.Compare(d.Year, u.Year); c != 0 {
		return c
	}
	if c := cmp.Compare(d.Month, u.Month); c != 0 {
		return c
	}
	return cmp.Compare(d.Day, u.Day)
}

// Before reports whether d is before u.
func (d Date) Before(u Date) bool { return d.Compare(u) < 0 }

// After reports whether d is after u.
func (d Date) After(u Date) bool { return d.Compare(u) > 0 }

// DaysBetween returns the number of days from from to to: positive when to is
// later, 0 on the same day. DaysBetween(d, d.AddDays(n)) == n.
func DaysBetween(from, to Date) int {
	// Unix seconds, not Time.Sub: a Duration overflows after 292 years.
	return int((to.Time().Unix() - from.Time().Unix()) / (24 * 60 * 60))
}

// CalendarYear returns the first and last day of d's calendar year, the
// period R-MIN4 counts in.
func CalendarYear(d Date) (first, last Date) {
	return Date{d.Year, time.January, 1}, Date{d.Year, time.December, 31}
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	// Day 0 of the next month is the last day of this one.
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// WeekOf returns the Monday of the ISO week that holds d: anonymous
// screenings are kept by week, never by a finer time.
func WeekOf(d Date) Date {
	wd := int(d.Time().Weekday()) // Sunday is 0; the ISO week starts on Monday
	return d.AddDays(-((wd + 6) % 7))
}
