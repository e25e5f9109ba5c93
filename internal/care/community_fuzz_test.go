package care

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzEventInput feeds arbitrary JSON through an event's validation: it
// must never panic, and what it accepts has a kind and audience of the
// lists, a start within the years it allows, and hours only where they
// count (a training session's come from its course, later).
func FuzzEventInput(f *testing.F) {
	f.Add([]byte(`{"title":"照护者课堂","kind":"caregiver_education","starts_at":"2026-05-20T14:00","org_unit":"C1","capacity":20}`))
	f.Add([]byte(`{"title":"病例讨论","kind":"case_discussion","starts_at":"2026-05-20T14:00:00+08:00","hours":1.5,"audience":"staff"}`))
	f.Add([]byte(`{"title":" ","kind":"party","starts_at":"9999-99-99T99:99","capacity":-1,"hours":1e309}`))
	s := &Service{zone: DefaultZone()}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in EventInput
		if json.Unmarshal(data, &in) != nil {
			return
		}
		fs := fields{today: "2026-11-25"}
		start := in.normalize(s, &fs)
		if fs.err() != nil {
			return
		}
		if !slices.Contains(EventKinds, in.Kind) || !slices.Contains(EventAudiences, in.Audience) {
			t.Errorf("accepted kind %q audience %q", in.Kind, in.Audience)
		}
		if start.Year() < 2000 || start.Year() > 2100 {
			t.Errorf("accepted start %v", start)
		}
		if in.Kind != "case_discussion" && in.Hours != 0 || in.Hours < 0 || in.Hours > maxHours {
			t.Errorf("accepted %v hours for a %s", in.Hours, in.Kind)
		}
	})
}
