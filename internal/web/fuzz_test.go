package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// FuzzFormDecoding posts arbitrary bodies to the registration and
// follow-up forms' decoding: it must never panic, and what it hands the
// service keeps the form's text as sent (the service cleans it).
func FuzzFormDecoding(f *testing.F) {
	f.Add("name=%E7%8E%8B&sex=female&birth_date=1980-05-17&diagnosis_rows=3&diagnoses%5B0%5D.code=schizophrenia")
	f.Add("reached=yes&risk_level=9999999999999999999&medication_rows=-5&dangerous_behaviour.self_harm=x&symptoms=a&symptoms=b")
	f.Add("name=%00%E2%80%AE&diagnosis_rows=99999&medications%5B7%5D.name=x")
	f.Add("%zz=1&&=&name")
	s, err := newServer(nil)
	if err != nil {
		f.Fatal(err)
	}
	p := &page{Lang: langChinese, loc: i18n.NewLocalizer(s.catalogue, langChinese)}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/patients", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if readForm(r) != nil {
			return
		}
		rows := rowCount(r, "diagnosis_rows", diagnosisRows, maxDiagnosisRows)
		fm := newForm(r, patientFields(rows, true)...)
		in, _, _ := patientInput(p, fm, rows)
		if in.Name != r.PostFormValue("name") {
			t.Errorf("name %q became %q", r.PostFormValue("name"), in.Name)
		}
		for _, reached := range []bool{true, false} {
			rows := rowCount(r, "medication_rows", medicationRows, maxMedicationRows)
			fu := followUpForm(r, reached, rows)
			in, _, ok := followUpInput(p, fu, reached, rows)
			if ok && reached && in.RiskLevel != nil && r.PostFormValue("risk_level") == "" {
				t.Error("a risk level from nowhere")
			}
			if !utf8.ValidString(fu.Message) {
				t.Errorf("message %q", fu.Message)
			}
		}
	})
}
