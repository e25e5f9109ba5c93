package api

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"kith/internal/care"
)

// FuzzDecode: any body gives either a decoded value or a badRequest with a
// 4xx status; never a panic or another error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"date":"2026-01-01","reached":true,"risk_level":2}`))
	f.Add([]byte(`{"risk_level":"high"}`))
	f.Add([]byte(`{"unknown":1}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`[`))
	f.Add([]byte(`{"occurred_at":"yesterday"}`))
	f.Add([]byte(`{"occurred_at":5,"place":"\u202e"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/api/v1/patients/1/follow-ups", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var in care.FollowUpInput
		err := decode(r, &in)
		var br *badRequest
		if err != nil && (!errors.As(err, &br) || br.status < 400 || br.status > 499) {
			t.Errorf("decode(%q) = %v, want a 4xx badRequest", body, err)
		}
		// An emergency's time too, and no message in the decoder's own words.
		r = httptest.NewRequest("POST", "/api/v1/patients/1/emergencies", bytes.NewReader(body))
		var em care.EmergencyInput
		if err := decode(r, &em); err != nil {
			if !errors.As(err, &br) || br.status < 400 || br.status > 499 {
				t.Errorf("decode(%q) = %v, want a 4xx badRequest", body, err)
			} else if strings.Contains(br.msg, "json") || strings.Contains(br.msg, "parsing") || strings.Contains(br.msg, "Go ") {
				t.Errorf("decode(%q): Go error text %q", body, br.msg)
			}
		}
	})
}
