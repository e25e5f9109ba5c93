package care

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"kith/internal/clinical"
	"kith/internal/kpi"
)

// Text cleaning. Every free text that comes from outside (the API's JSON,
// the web forms, an import) passes through CleanText before it is
// validated or stored: the service's checkText and checkName call it, so no
// input path can skip it. A name that looks empty or that reorders what is
// shown around it (a bidi override) would let one patient pass for another
// on a worklist; a control character would break exports and logs.

// TextProblem says why CleanText refused a value; "" means it is fine.
type TextProblem string

// The reasons a text is refused.
const (
	TextOK          TextProblem = ""
	TextInvalidUTF8 TextProblem = "is not valid UTF-8 text"
	TextControl     TextProblem = "contains a control character"
	TextLineBreak   TextProblem = "must be on one line (no line break or tab)"
	TextBidi        TextProblem = "contains a character that reverses or isolates the text direction"
)

// CleanText normalises s to NFC and trims it; a value with no visible
// character (only spaces and zero-width characters) becomes "". It refuses
// invalid UTF-8, bidi overrides, embeddings and isolates (U+202A–U+202E,
// U+2066–U+2069), and control characters: newline and tab are allowed only
// when multiline is true.
func CleanText(s string, multiline bool) (string, TextProblem) {
	if !utf8.ValidString(s) {
		return "", TextInvalidUTF8
	}
	s = norm.NFC.String(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	visible := false
	for _, r := range s {
		switch {
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return "", TextBidi
		case r == '\n' || r == '\t':
			if !multiline {
				return "", TextLineBreak
			}
		case unicode.IsControl(r):
			return "", TextControl
		case !invisible(r):
			visible = true
		}
	}
	if !visible {
		return "", TextOK
	}
	return strings.TrimFunc(s, invisible), TextOK
}

// invisible reports whether r shows nothing: a space or a zero-width or
// other format character (such as U+200B, U+200D, U+FEFF, U+2060).
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || r == '\u3164' || r == '\u115F' || r == '\u1160' || r == '\uFFA0'
}

// cleanField cleans v for field, adding the problem, if any, to f.
func cleanField(f *fields, field, v string, multiline bool) string {
	out, p := CleanText(v, multiline)
	if p != TextOK {
		f.add(field, string(p))
		return strings.TrimSpace(strings.ToValidUTF8(v, ""))
	}
	return out
}

// ParseID reads a record id as written in a URL or a query: a positive
// decimal number in canonical form, so "+1", "01", " 1" and "1.0" are not
// record 1. Every transport uses it, so one record has one address.
func ParseID(s string) (int64, bool) {
	if s == "" || len(s) > 19 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// Dates that come from outside (a query's as_of, a period, a date field)
// must lie between MinYear and YearsAhead years after today: anything else
// is a typing mistake or a probe, and a far date would make a figure or a
// worklist count over centuries.
const (
	MinYear    = 1900
	YearsAhead = 5
)

// DateInBounds reports whether d lies within the dates Kith accepts, today
// being today.
func DateInBounds(d, today clinical.Date) bool {
	return d.Year >= MinYear && !today.AddMonths(12*YearsAhead).Before(d)
}

// checkBounds adds a field error when d lies outside the accepted dates.
func checkBounds(f *fields, field string, d clinical.Date) {
	today, err := clinical.ParseDate(f.date())
	if err == nil && !DateInBounds(d, today) {
		f.add(field, "must lie between the year "+strconv.Itoa(MinYear)+" and "+strconv.Itoa(YearsAhead)+" years from today")
	}
}

// checkPeriod refuses a period that reaches outside the accepted dates.
func (s *Service) checkPeriod(field string, p kpi.Period) error {
	f := s.fields()
	checkBounds(&f, field, p.From)
	if len(f.list) == 0 {
		checkBounds(&f, field, p.To)
	}
	return f.err()
}
