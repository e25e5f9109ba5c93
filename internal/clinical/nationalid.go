package clinical

import (
	"strings"
	"time"
)

// A national ID number (resident identity card number, GB 11643) has 18
// characters: a 6-digit area code, the birth date as YYYYMMDD, a 3-digit
// sequence number whose last digit is odd for men and even for women, and a
// check character computed by ISO 7064 MOD 11-2 over the first 17 digits.

var nationalIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const nationalIDCheckChars = "10X98765432" // indexed by the weighted sum mod 11

// NationalIDCheck returns the check character for the first 17 characters of
// a national ID number, which must all be digits.
func NationalIDCheck(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if !isDigit(c) {
			return 0, false
		}
		sum += int(c-'0') * nationalIDWeights[i]
	}
	return nationalIDCheckChars[sum%11], true
}

// ValidNationalID reports whether s is a valid national ID number: 18
// characters, 17 digits and the right check character (a digit or X, lower
// case x accepted), with a birth date that exists.
func ValidNationalID(s string) bool {
	if len(s) != 18 {
		return false
	}
	check, ok := NationalIDCheck(s[:17])
	if !ok || check != upperX(s[17]) {
		return false
	}
	_, ok = birthDate(s)
	return ok
}

func upperX(c byte) byte {
	if c == 'x' {
		return 'X'
	}
	return c
}

// NormalizeNationalID returns s, without surrounding spaces and with a lower
// case x check character made upper case, if it is a valid national ID
// number. Store and compare the normalised form, so that one number is never
// on the register twice.
func NormalizeNationalID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !ValidNationalID(s) {
		return "", false
	}
	return s[:17] + string(upperX(s[17])), true
}

// NationalIDBirthDate returns the birth date held in a valid national ID number.
func NationalIDBirthDate(id string) (Date, bool) {
	if !ValidNationalID(id) {
		return Date{}, false
	}
	return birthDate(id)
}

// birthDate reads characters 7–14 as YYYYMMDD.
func birthDate(id string) (Date, bool) {
	y, ok1 := digits(id[6:10])
	m, ok2 := digits(id[10:12])
	d, ok3 := digits(id[12:14])
	date := Date{y, time.Month(m), d}
	return date, ok1 && ok2 && ok3 && date.Valid()
}

// NationalIDSex returns the sex held in a valid national ID number: the 17th
// character is odd for men and even for women.
func NationalIDSex(id string) (Sex, bool) {
	if !ValidNationalID(id) {
		return "", false
	}
	if (id[16]-'0')%2 == 1 {
		return SexMale, true
	}
	return SexFemale, true
}

// MaskNationalID hides the middle of a national ID number for lists and
// pages other than the record itself: the first 6 and last 4 characters show,
// each other character becomes '*' (110105********002X). A string of 10
// characters or fewer is masked whole, so that nothing short or malformed
// leaks either.
func MaskNationalID(s string) string {
	r := []rune(s)
	if len(r) <= 10 {
		return strings.Repeat("*", len(r))
	}
	for i := 6; i < len(r)-4; i++ {
		r[i] = '*'
	}
	return string(r)
}
