package clinical

import (
	"strings"
	"testing"
)

// checkChar computes the ISO 7064 MOD 11-2 check character from its
// definition, independently of the package's table of weights: the weight of
// position i (1-based, from the left, of 18) is 2^(18-i) mod 11, and the check
// value is (12 - sum mod 11) mod 11, written X for 10.
func checkChar(first17 string) string {
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for range 17 - i {
			w = w * 2 % 11
		}
		sum += int(first17[i]-'0') * w
	}
	v := (12 - sum%11) % 11
	if v == 10 {
		return "X"
	}
	return string(rune('0' + v))
}

func makeID(first17 string) string { return first17 + checkChar(first17) }

func TestValidNationalID(t *testing.T) {
	valid := []string{
		"11010519491231002X", // the published example
		makeID("44030419900101123"),
		makeID("32010219850615204"),
		makeID("51010720000229001"), // born 29 February 2000
		makeID("65010119001231999"),
	}
	for _, id := range valid {
		if !ValidNationalID(id) {
			t.Errorf("ValidNationalID(%q) = false", id)
		}
	}
	// Every check value 0–10 is reached and accepted, X included.
	checks := map[string]bool{}
	for seq := 100; seq < 400; seq++ {
		id := makeID("110105199001" + "01" + string(rune('0'+seq/100)) + string(rune('0'+seq/10%10)) + string(rune('0'+seq%10)))
		if !ValidNationalID(id) {
			t.Errorf("ValidNationalID(%q) = false", id)
		}
		checks[id[17:]] = true
	}
	if len(checks) != 11 {
		t.Errorf("check characters seen: %v", checks)
	}

	wrong := func(id string) string { // same number with a wrong check character
		c := "0"
		if id[17] == '0' {
			c = "1"
		}
		return id[:17] + c
	}
	invalid := []struct {
		name, id string
	}{
		{"wrong check character", "110105194912310021"},
		{"wrong check character, computed", wrong(makeID("44030419900101123"))},
		{"check X where a digit is due", makeID("44030419900101123")[:17] + "X"},
		{"17 characters", "11010519491231002"},
		{"19 characters", "11010519491231002X0"},
		{"empty", ""},
		{"15-digit old format", "110105491231002"},
		{"letter in the body", makeID("1101051949123100A")},
		{"X in the body", "1101051949123X002X"},
		{"spaces", " 11010519491231002X"},
		{"impossible birth date 2026-02-30", makeID("11010520260230001")},
		{"birth date 1900-02-29, not a leap year", makeID("11010519000229001")},
		{"birth month 13", makeID("11010519901301001")},
		{"birth day 00", makeID("11010519900100001")},
		{"birth year 0000", makeID("11010500000101001")},
		{"full-width digits", "１１０１０５１９４９１２３１００２X"},
	}
	for _, tt := range invalid {
		if ValidNationalID(tt.id) {
			t.Errorf("%s: ValidNationalID(%q) = true", tt.name, tt.id)
		}
	}
}

func TestNationalIDCheck(t *testing.T) {
	for _, first17 := range []string{"11010519491231002", "44030419900101123", "00000000000000000", "99999999999999999"} {
		c, ok := NationalIDCheck(first17)
		if !ok || string(c) != checkChar(first17) {
			t.Errorf("NationalIDCheck(%s) = %q, %v; want %s", first17, c, ok, checkChar(first17))
		}
	}
	for _, bad := range []string{"", "1101051949123100", "1101051949123100x", "110105194912310021"} {
		if _, ok := NationalIDCheck(bad); ok {
			t.Errorf("NationalIDCheck(%q) ok", bad)
		}
	}
}

func TestNormalizeNationalID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "11010519491231002X"},
		{"11010519491231002x", "11010519491231002X"},
		{" 11010519491231002x\n", "11010519491231002X"},
		{"110105194912310021", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := NormalizeNationalID(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("NormalizeNationalID(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	if !ValidNationalID("11010519491231002x") {
		t.Error("lower-case x refused")
	}
}

func TestNationalIDBirthDateAndSex(t *testing.T) {
	tests := []struct {
		id      string
		born    string
		sex     Sex
		wantsOK bool
	}{
		{"11010519491231002X", "1949-12-31", SexFemale, true}, // sequence 002: even
		{makeID("51010720000229001"), "2000-02-29", SexMale, true},
		{makeID("44030419900101128"), "1990-01-01", SexFemale, true},
		{"110105194912310021", "", "", false},
	}
	for _, tt := range tests {
		born, ok1 := NationalIDBirthDate(tt.id)
		sex, ok2 := NationalIDSex(tt.id)
		if born.String() != tt.born || sex != tt.sex || ok1 != tt.wantsOK || ok2 != tt.wantsOK {
			t.Errorf("%s: born %s %v, sex %q %v; want %s, %q", tt.id, born, ok1, sex, ok2, tt.born, tt.sex)
		}
	}
}

func TestMaskNationalID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "110105********002X"},
		{"11010519491231002x", "110105********002x"},
		{"12345678901", "123456*8901"},
		{"1234567890", "**********"},
		{"123", "***"},
		{"", ""},
		{"１１０１０５１９４９１２３１００２X", "１１０１０５********００２X"},
	}
	for _, tt := range tests {
		if got := MaskNationalID(tt.in); got != tt.want {
			t.Errorf("MaskNationalID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzValidNationalID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "110105194912310021", "", "X", "11010520260230001X", strings.Repeat("9", 18)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidNationalID(s)
		n, nok := NormalizeNationalID(s)
		mask := MaskNationalID(s)
		if len([]rune(mask)) != len([]rune(s)) {
			t.Errorf("MaskNationalID(%q) = %q changes the length", s, mask)
		}
		if !ok {
			return
		}
		if !nok || len(n) != 18 || !ValidNationalID(n) || strings.ContainsRune(n, 'x') {
			t.Errorf("NormalizeNationalID(%q) = %q, %v", s, n, nok)
		}
		if c, _ := NationalIDCheck(s[:17]); string(c) != checkChar(s[:17]) {
			t.Errorf("check of %q = %q, want %s", s, c, checkChar(s[:17]))
		}
		if born, ok := NationalIDBirthDate(s); !ok || !born.Valid() {
			t.Errorf("NationalIDBirthDate(%q) = %v, %v", s, born, ok)
		}
	})
}
