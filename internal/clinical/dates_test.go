package clinical

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	good := []string{"2026-02-28", "2028-02-29", "2000-02-29", "2026-12-31", "2026-04-30", "0001-01-01", "9999-12-31"}
	for _, s := range good {
		got, err := ParseDate(s)
		if err != nil || got.String() != s || !got.Valid() {
			t.Errorf("ParseDate(%q) = %v, %v", s, got, err)
		}
	}
	bad := []string{
		"2026-02-30", // does not exist
		"2027-02-29", // not a leap year
		"2100-02-29", // centuries are leap years only when divisible by 400
		"2026-04-31",
		"2026-13-01",
		"2026-00-10",
		"2026-01-00",
		"2026-01-32",
		"0000-01-01",
		"",
		"2026-1-01",
		"2026-01-1",
		"20260101",
		"2026/01/01",
		" 2026-01-01",
		"2026-01-01 ",
		"2026-01-01T00:00:00Z",
		"+026-01-01",
		"2026-+1-01",
		"2026-0a-01",
		"２０２６-01-01",
	}
	for _, s := range bad {
		if got, err := ParseDate(s); err != ErrInvalidDate || !got.IsZero() {
			t.Errorf("ParseDate(%q) = %v, %v; want error", s, got, err)
		}
	}
}

func TestDateValid(t *testing.T) {
	tests := []struct {
		d    Date
		want bool
	}{
		{Date{2026, time.February, 28}, true},
		{Date{2026, time.February, 29}, false},
		{Date{2028, time.February, 29}, true},
		{Date{2026, 0, 1}, false},
		{Date{2026, 13, 1}, false},
		{Date{10000, time.January, 1}, false},
		{Date{}, false},
	}
	for _, tt := range tests {
		if got := tt.d.Valid(); got != tt.want {
			t.Errorf("%#v.Valid() = %v, want %v", tt.d, got, tt.want)
		}
	}
	if s := (Date{}).String(); s != "" {
		t.Errorf("zero Date String() = %q, want empty", s)
	}
}

func TestDateOf(t *testing.T) {
	// Half past midnight in Beijing is still the previous day in UTC: the date
	// is the one of t's own location.
	cst := time.FixedZone("CST", 8*60*60)
	if got := DateOf(time.Date(2026, time.March, 1, 0, 30, 0, 0, cst)); got.String() != "2026-03-01" {
		t.Errorf("DateOf = %s, want 2026-03-01", got)
	}
	if got := d("2026-03-01").Time(); !got.Equal(time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Time() = %v", got)
	}
}

func TestAddDays(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-03-10", 14, "2026-03-24"},
		{"2026-01-25", 14, "2026-02-08"},
		{"2026-12-25", 14, "2027-01-08"},
		{"2028-02-28", 1, "2028-02-29"},
		{"2027-02-28", 1, "2027-03-01"},
		{"2026-03-01", -1, "2026-02-28"},
		{"2026-01-01", -1, "2025-12-31"},
		{"2026-01-01", 365, "2027-01-01"},
		{"2028-01-01", 366, "2029-01-01"},
		{"2026-06-15", 0, "2026-06-15"},
	}
	for _, tt := range tests {
		if got := d(tt.from).AddDays(tt.n); got.String() != tt.want {
			t.Errorf("%s.AddDays(%d) = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func TestAddMonths(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-01-15", 1, "2026-02-15"},
		{"2026-01-31", 1, "2026-02-28"},
		{"2028-01-31", 1, "2028-02-29"},
		{"2026-03-31", 1, "2026-04-30"},
		{"2026-11-30", 3, "2027-02-28"},
		{"2027-11-30", 3, "2028-02-29"},
		{"2026-12-31", 3, "2027-03-31"},
		{"2026-12-15", 1, "2027-01-15"},
		{"2026-08-31", 6, "2027-02-28"},
		{"2028-02-29", 12, "2029-02-28"},
		{"2026-03-31", -1, "2026-02-28"},
		{"2026-01-31", -2, "2025-11-30"},
		{"2026-05-31", 0, "2026-05-31"},
		{"2026-05-31", 25, "2028-06-30"},
	}
	for _, tt := range tests {
		if got := d(tt.from).AddMonths(tt.n); got.String() != tt.want {
			t.Errorf("%s.AddMonths(%d) = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2026-03-01", "2026-03-01", 0},
		{"2026-03-01", "2026-03-02", -1},
		{"2026-03-31", "2026-04-01", -1},
		{"2026-12-31", "2027-01-01", -1},
		{"2027-01-01", "2026-12-31", +1},
	}
	for _, tt := range tests {
		a, b := d(tt.a), d(tt.b)
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, tt.want)
		}
		if a.Before(b) != (tt.want < 0) || a.After(b) != (tt.want > 0) {
			t.Errorf("%s Before/After %s disagree with Compare", a, b)
		}
	}
}

func TestDaysBetween(t *testing.T) {
	tests := []struct {
		from, to string
		want     int
	}{
		{"2026-03-01", "2026-03-01", 0},
		{"2026-03-01", "2026-03-02", 1},
		{"2026-03-02", "2026-03-01", -1},
		{"2026-02-01", "2026-03-01", 28},
		{"2028-02-01", "2028-03-01", 29},
		{"2026-01-01", "2027-01-01", 365},
		{"2028-01-01", "2029-01-01", 366},
		{"1969-12-31", "1970-01-02", 2},
		{"0001-01-01", "9999-12-31", 3652058}, // more than a time.Duration holds
	}
	for _, tt := range tests {
		if got := DaysBetween(d(tt.from), d(tt.to)); got != tt.want {
			t.Errorf("DaysBetween(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
	start := d("2027-12-20")
	for n := -400; n <= 400; n += 7 {
		if got := DaysBetween(start, start.AddDays(n)); got != n {
			t.Errorf("DaysBetween(%s, +%d days) = %d", start, n, got)
		}
	}
}

func TestCalendarYear(t *testing.T) {
	first, last := CalendarYear(d("2026-06-15"))
	if first.String() != "2026-01-01" || last.String() != "2026-12-31" {
		t.Errorf("R-MIN4/CalendarYear(2026-06-15) = %s, %s", first, last)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-02-28", "2026-02-30", "2026-13-01", "", "0000-00-00", "9999-12-31", "2026-1-1", "-026-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDate(s)
		if err != nil {
			if !got.IsZero() {
				t.Errorf("ParseDate(%q) = %v with error %v", s, got, err)
			}
			return
		}
		// A date that parses is real and prints back as written.
		if !got.Valid() || got.String() != s {
			t.Errorf("ParseDate(%q) = %#v, String %q", s, got, got.String())
		}
		if want, err := time.Parse(time.DateOnly, s); err != nil || DateOf(want) != got {
			t.Errorf("ParseDate(%q) = %v; time.Parse = %v, %v", s, got, want, err)
		}
	})
}

func TestWeekOf(t *testing.T) {
	// Anonymous screenings keep the week, as its Monday (capability 9).
	for _, c := range []struct{ in, want string }{
		{"2026-11-23", "2026-11-23"}, // a Monday
		{"2026-11-25", "2026-11-23"}, // a Wednesday
		{"2026-11-29", "2026-11-23"}, // a Sunday ends the ISO week
		{"2026-11-30", "2026-11-30"},
		{"2027-01-01", "2026-12-28"}, // a week across the new year
		{"2024-03-03", "2024-02-26"}, // across a leap day
	} {
		d, _ := ParseDate(c.in)
		if got := WeekOf(d).String(); got != c.want {
			t.Errorf("WeekOf(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
