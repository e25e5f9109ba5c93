package clinical

import (
	"slices"
	"strings"
)

// Diagnosis is one of the six severe mental disorders that make a patient
// count in the severe-mental-disorder figures (R-TARGET).
type Diagnosis string

const (
	Schizophrenia                   Diagnosis = "schizophrenia"                     // F20
	Schizoaffective                 Diagnosis = "schizoaffective"                   // F25
	ParanoidPsychosis               Diagnosis = "paranoid_psychosis"                // F22
	Bipolar                         Diagnosis = "bipolar"                           // F31
	EpilepsyPsychosis               Diagnosis = "epilepsy_psychosis"                // F06 with G40
	IntellectualDisabilityPsychosis Diagnosis = "intellectual_disability_psychosis" // F70–F79
)

var diagnoses = []Diagnosis{
	Schizophrenia, Schizoaffective, ParanoidPsychosis,
	Bipolar, EpilepsyPsychosis, IntellectualDisabilityPsychosis,
}

// Valid reports whether v is one of the six R-TARGET codes.
func (v Diagnosis) Valid() bool { return valid(v, diagnoses) }

// DiagnosisValues lists the six R-TARGET codes in the order of CLINICAL.md.
func DiagnosisValues() []Diagnosis { return slices.Clone(diagnoses) }

// ICD10 returns the ICD-10 codes of v as CLINICAL.md writes them:
// "F20", "F25", "F22", "F31", "F06 with G40" or "F70–F79".
func (v Diagnosis) ICD10() string {
	switch v {
	case Schizophrenia:
		return "F20"
	case Schizoaffective:
		return "F25"
	case ParanoidPsychosis:
		return "F22"
	case Bipolar:
		return "F31"
	case EpilepsyPsychosis:
		return "F06 with G40"
	case IntellectualDisabilityPsychosis:
		return "F70–F79"
	}
	return ""
}

// NormalizeICD10 checks the syntax of an ICD-10 code and returns it in upper
// case: a letter, two digits, and optionally a dot followed by one or two
// letters or digits (F20, F20.0, f31.2 → F31.2, G40.90). Surrounding spaces
// are removed. It does not check that the code exists in ICD-10.
func NormalizeICD10(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	switch {
	case len(s) == 3:
	case len(s) == 5 || len(s) == 6:
		if s[3] != '.' {
			return "", false
		}
		for i := 4; i < len(s); i++ {
			if !isDigit(s[i]) && !isUpper(s[i]) {
				return "", false
			}
		}
	default:
		return "", false
	}
	if !isUpper(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) {
		return "", false
	}
	return s, true
}

// ValidICD10 reports whether s is an ICD-10 code by the syntax of NormalizeICD10.
func ValidICD10(s string) bool {
	_, ok := NormalizeICD10(s)
	return ok
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// DiagnosisOf returns the R-TARGET disorder a single recorded diagnosis code
// stands for. The code is either one of the six Kith codes or an ICD-10 code
// in the categories F20, F25, F22, F31 or F70–F79, with any subdivision
// (F20.0, F31.2, F72). F06 alone is not enough: it counts only together with
// G40 (epilepsy), which one code cannot show; see SevereDiagnoses.
func DiagnosisOf(code string) (Diagnosis, bool) {
	if d := Diagnosis(code); d.Valid() {
		return d, true
	}
	c, ok := NormalizeICD10(code)
	if !ok {
		return "", false
	}
	switch c[:3] {
	case "F20":
		return Schizophrenia, true
	case "F25":
		return Schizoaffective, true
	case "F22":
		return ParanoidPsychosis, true
	case "F31":
		return Bipolar, true
	}
	if c[:2] == "F7" {
		return IntellectualDisabilityPsychosis, true
	}
	return "", false
}

// IsSevere reports whether a single diagnosis code makes a patient count as
// having a severe mental disorder (R-TARGET). See DiagnosisOf.
func IsSevere(code string) bool {
	_, ok := DiagnosisOf(code)
	return ok
}

// SevereDiagnoses returns the R-TARGET disorders among a patient's recorded
// diagnosis codes, each once, in the order of DiagnosisValues. Unlike
// DiagnosisOf it sees all the codes together, so an F06 code counts as
// EpilepsyPsychosis when a G40 code is also recorded. A patient counts in the
// severe-mental-disorder figures when the result is not empty.
func SevereDiagnoses(codes []string) []Diagnosis {
	found := make(map[Diagnosis]bool)
	var f06, g40 bool
	for _, code := range codes {
		if d, ok := DiagnosisOf(code); ok {
			found[d] = true
			continue
		}
		if c, ok := NormalizeICD10(code); ok {
			f06 = f06 || c[:3] == "F06"
			g40 = g40 || c[:3] == "G40"
		}
	}
	if f06 && g40 {
		found[EpilepsyPsychosis] = true
	}
	var out []Diagnosis
	for _, d := range diagnoses {
		if found[d] {
			out = append(out, d)
		}
	}
	return out
}
