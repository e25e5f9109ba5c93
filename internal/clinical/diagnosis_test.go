package clinical

import (
	"slices"
	"testing"
)

func TestNormalizeICD10(t *testing.T) {
	tests := []struct{ in, want string }{
		{"F20", "F20"},
		{"F20.0", "F20.0"},
		{"f31.2", "F31.2"},
		{" G40.90 ", "G40.90"},
		{"F06.A", "F06.A"},
		{"z99.x", "Z99.X"},
		{"F2", ""},
		{"F200", ""},
		{"F20.", ""},
		{"F20.123", ""},
		{"F20-0", ""},
		{"20.0", ""},
		{"FF0", ""},
		{"F2A", ""},
		{"F20.0 ", "F20.0"},
		{"F20.-", ""},
		{"", ""},
		{"schizophrenia", ""},
	}
	for _, tt := range tests {
		got, ok := NormalizeICD10(tt.in)
		if got != tt.want || ok != (tt.want != "") || ValidICD10(tt.in) != ok {
			t.Errorf("NormalizeICD10(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestDiagnosisOf(t *testing.T) {
	tests := []struct {
		code string
		want Diagnosis // "" when not severe
	}{
		{"schizophrenia", Schizophrenia},
		{"schizoaffective", Schizoaffective},
		{"paranoid_psychosis", ParanoidPsychosis},
		{"bipolar", Bipolar},
		{"epilepsy_psychosis", EpilepsyPsychosis},
		{"intellectual_disability_psychosis", IntellectualDisabilityPsychosis},
		{"F20", Schizophrenia},
		{"F20.0", Schizophrenia},
		{"f20.9", Schizophrenia},
		{"F25", Schizoaffective},
		{"F25.1", Schizoaffective},
		{"F22", ParanoidPsychosis},
		{"F22.1", ParanoidPsychosis},
		{"F31", Bipolar},
		{"F31.2", Bipolar},
		{"F70", IntellectualDisabilityPsychosis},
		{"F72.1", IntellectualDisabilityPsychosis},
		{"F79.9", IntellectualDisabilityPsychosis},
		// Not severe mental disorders, or not on their own.
		{"F06", ""}, // needs G40 beside it
		{"F06.2", ""},
		{"G40", ""},
		{"F21", ""},
		{"F23", ""},
		{"F30", ""},
		{"F32.1", ""},
		{"F69", ""},
		{"F80", ""},
		{"Schizophrenia", ""},
		{"F2", ""},
		{"F20.123", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run("R-TARGET/"+tt.code, func(t *testing.T) {
			got, ok := DiagnosisOf(tt.code)
			if got != tt.want || ok != (tt.want != "") || IsSevere(tt.code) != ok {
				t.Errorf("DiagnosisOf(%q) = %q, %v; want %q", tt.code, got, ok, tt.want)
			}
		})
	}
}

func TestSevereDiagnoses(t *testing.T) {
	tests := []struct {
		name  string
		codes []string
		want  []Diagnosis
	}{
		{"F06 with G40", []string{"F06.8", "g40.9"}, []Diagnosis{EpilepsyPsychosis}},
		{"G40 with F06, other order", []string{"G40", "F32", "F06"}, []Diagnosis{EpilepsyPsychosis}},
		{"F06 alone", []string{"F06"}, nil},
		{"G40 alone", []string{"G40.1"}, nil},
		{"no codes", nil, nil},
		{"other disorders only", []string{"F32.1", "F41"}, nil},
		{"one disorder written twice", []string{"F20.0", "schizophrenia"}, []Diagnosis{Schizophrenia}},
		{"several, in table order", []string{"F72", "bipolar", "F20.0", "junk"}, []Diagnosis{Schizophrenia, Bipolar, IntellectualDisabilityPsychosis}},
	}
	for _, tt := range tests {
		t.Run("R-TARGET/"+tt.name, func(t *testing.T) {
			if got := SevereDiagnoses(tt.codes); !slices.Equal(got, tt.want) {
				t.Errorf("SevereDiagnoses(%q) = %v, want %v", tt.codes, got, tt.want)
			}
		})
	}
}

func TestDiagnosisICD10(t *testing.T) {
	want := map[Diagnosis]string{
		Schizophrenia:                   "F20",
		Schizoaffective:                 "F25",
		ParanoidPsychosis:               "F22",
		Bipolar:                         "F31",
		EpilepsyPsychosis:               "F06 with G40",
		IntellectualDisabilityPsychosis: "F70–F79",
	}
	for _, d := range DiagnosisValues() {
		if got := d.ICD10(); got != want[d] {
			t.Errorf("R-TARGET/%s.ICD10() = %q, want %q", d, got, want[d])
		}
	}
	if got := Diagnosis("depression").ICD10(); got != "" {
		t.Errorf("unknown diagnosis ICD10 = %q", got)
	}
}
