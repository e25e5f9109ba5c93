package fhir

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"kith/internal/care"
	"kith/internal/clinical/instrument"
)

// FuzzResponse: any QuestionnaireResponse body gives either an assessment
// with one answer per item of a known instrument, or an Invalid error whose
// every field is an element of the QuestionnaireResponse; never a panic.
func FuzzResponse(f *testing.F) {
	f.Add([]byte(`{"resourceType":"QuestionnaireResponse","status":"completed","questionnaire":"http://x/fhir/R4/Questionnaire/gad7",
		"subject":{"reference":"Patient/3"},"authored":"2026-11-30T10:00:00+08:00","item":[{"linkId":"gad7_1","answer":[{"valueInteger":2}]}]}`))
	f.Add([]byte(`{"questionnaire":"Questionnaire/phq9|1","status":"completed","subject":{"reference":"Patient/1"},
		"item":[{"linkId":"phq9_1","answer":[{"valueCoding":{"code":"x"}}]}]}`))
	f.Add([]byte(`{"questionnaire":"/","subject":{"reference":"Patient/"},"item":[{"linkId":"a"},{"linkId":"a"}]}`))
	f.Add([]byte(`{"authored":"2","status":"completed","questionnaire":"Questionnaire/risk","subject":{"reference":"Patient/9"},
		"item":[{"linkId":"risk_level","answer":[{}]}]}`))
	cat := instrument.Default()
	f.Fuzz(func(t *testing.T, body []byte) {
		var in responseIn
		if json.Unmarshal(body, &in) != nil {
			return
		}
		pid, as, err := assessmentOf(cat, &in, "2026-12-01")
		if err == nil {
			d := cat.Latest(as.Instrument)
			if pid < 1 || d == nil || len(as.Answers) != len(d.Items) || as.Date == "" {
				t.Errorf("assessmentOf(%s) = %d %+v", body, pid, as)
			}
			return
		}
		var ce *care.Error
		if !errors.As(err, &ce) || ce.Kind != care.Invalid || len(ce.Fields) == 0 {
			t.Fatalf("assessmentOf(%s): %v, want an Invalid error", body, err)
		}
		for _, fe := range ce.Fields {
			if !strings.HasPrefix(fe.Field, "QuestionnaireResponse.") {
				t.Errorf("assessmentOf(%s): field %q is not an element", body, fe.Field)
			}
		}
	})
}

// FuzzPatient: any Patient body maps to a registration without a panic,
// and every field of it that came from a list names the element it came
// from.
func FuzzPatient(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Patient","name":[{"family":"张","given":["三"]}],"gender":"male","birthDate":"1980-01-01",
		"identifier":[{"system":"other","value":"1"},{"system":"urn:kith:fhir:national-id","value":"11010519491231002X"}],
		"telecom":[{"system":"email","value":"a@b"},{"system":"phone","value":"138"}],
		"contact":[{"name":{"given":["John"],"family":"Smith"},"telecom":[{"system":"phone","value":"1"}]}],
		"extension":[{"url":"urn:kith:fhir:confirm-duplicate","valueBoolean":true}]}`))
	f.Add([]byte(`{"name":[{}],"contact":[{}],"managingOrganization":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in patientIn
		if json.Unmarshal(body, &in) != nil {
			return
		}
		pi, sent := in.input()
		for field, path := range sent {
			if !strings.HasPrefix(path, "Patient.") {
				t.Errorf("input(%s): %s came from %q", body, field, path)
			}
		}
		if pi.NationalID != "" && sent["national_id"] == "" {
			t.Errorf("input(%s): the national ID's element is not known", body)
		}
	})
}
