package care

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzFollowUpInput feeds arbitrary JSON through the follow-up form's
// validation: it must never panic, and what it accepts as a reached
// follow-up must carry a risk level within R-RISK.
func FuzzFollowUpInput(f *testing.F) {
	f.Add([]byte(`{"date":"2025-03-01","mode":"home_visit","reached":true,"risk_level":3,"psychotic_symptoms":"obvious","insight":"absent",
		"adverse_reaction":"none","physical_illness":"none","social_function":{"self_care":"good","housework":"good","work":"poor","learning":"fair","social_contact":"good"}}`))
	f.Add([]byte(`{"date":"2025-03-01","mode":"phone","reached":false,"not_reached_reason":"deceased","death_date":"2025-02-30"}`))
	f.Add([]byte(`{"date":"2025-03-01","reached":true,"risk_level":-1,"symptoms":["x"],"medications":[{"name":""}],"dangerous_behaviour":{"self_harm":-5}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var in FollowUpInput
		if json.Unmarshal(data, &in) != nil {
			return
		}
		fs := fields{today: "2026-11-25"}
		in.validate(&fs, "2020-01-01")
		if fs.err() == nil && in.Reached != nil && *in.Reached && (in.RiskLevel == nil || *in.RiskLevel < 0 || *in.RiskLevel > 5) {
			t.Errorf("accepted a reached follow-up with risk level %v", in.RiskLevel)
		}
	})
}

// FuzzPatientInput does the same for the registration form.
func FuzzPatientInput(f *testing.F) {
	f.Add([]byte(`{"name":"王小明","sex":"male","birth_date":"1949-12-31","national_id":"11010519491231002x","org_unit":"C1","diagnoses":[{"code":"f20.0"}]}`))
	f.Add([]byte(`{"name":"","sex":"x","birth_date":"1990-02-30","national_id":"123","phone":"call","diagnoses":[{"code":"?"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var in PatientInput
		if json.Unmarshal(data, &in) != nil {
			return
		}
		fs := fields{today: "2026-11-25"}
		nid, _ := in.normalize(&fs)
		if fs.err() == nil && in.NationalID != "" && len(nid) != 18 {
			t.Errorf("accepted national ID %q", nid)
		}
	})
}

// FuzzCleanText: what CleanText accepts is valid UTF-8 in NFC with no bidi
// control, no control character (but newline and tab in a multi-line
// text), nothing invisible at either end, and cleaning it again changes
// nothing.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"王小明", " e\u0301 ", "\u200b", "a\u202eb", "a\x00b", "a\nb\tc", "a\r\nb", "\xed\xa0\x80", "\u2066x\u2069"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		out, p := CleanText(s, multiline)
		if p != TextOK {
			if out != "" {
				t.Errorf("refused %q but returned %q", s, out)
			}
			return
		}
		if !utf8.ValidString(out) || !norm.NFC.IsNormalString(out) {
			t.Errorf("CleanText(%q) = %q: not valid NFC", s, out)
		}
		for _, r := range out {
			if (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) ||
				(unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t'))) {
				t.Errorf("CleanText(%q) = %q keeps %U", s, out, r)
			}
		}
		if out != "" {
			first, _ := utf8.DecodeRuneInString(out)
			last, _ := utf8.DecodeLastRuneInString(out)
			if invisible(first) || invisible(last) {
				t.Errorf("CleanText(%q) = %q: invisible at an end", s, out)
			}
		}
		if again, p := CleanText(out, multiline); again != out || p != TextOK {
			t.Errorf("CleanText is not idempotent on %q: %q, %q", out, again, p)
		}
	})
}

// FuzzParseID: an id is accepted only in its one canonical form.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"1", "01", "+1", "-1", " 1", "1.0", "9223372036854775807", "9223372036854775808", "0x10", "١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ParseID(s)
		if ok != (n > 0) {
			t.Errorf("ParseID(%q) = %d, %v", s, n, ok)
		}
		if ok && strconv.FormatInt(n, 10) != s {
			t.Errorf("ParseID(%q) = %d: not canonical", s, n)
		}
	})
}

// FuzzPageToken: any page token is either one this server could have given
// out or an Invalid error naming page_token; never a panic.
func FuzzPageToken(f *testing.F) {
	f.Add("", 0)
	f.Add("YWJjHzEy", 10)
	f.Add("!!!", 201)
	f.Add("YWJj", -1)
	f.Fuzz(func(t *testing.T, token string, limit int) {
		_, c, err := Page{Token: token, Limit: limit}.start("\x1f")
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.Kind != Invalid || len(ce.Fields) != 1 {
				t.Errorf("Page{%q, %d}: %v", token, limit, err)
			}
			return
		}
		if token != "" && !c.set {
			t.Errorf("token %q read as the first page", token)
		}
	})
}
