package care

import (
	"encoding/json"
	"testing"
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
