package clinical

import "testing"

// TestUrgency checks the worklist's order of urgency: high risk or unstable
// first, then never reached, then basically stable, then stable.
func TestUrgency(t *testing.T) {
	lvl := func(n int) *int { return &n }
	tests := []struct {
		name    string
		risk    *int
		class   Classification
		reached bool
		want    int
	}{
		{"risk 3 is most urgent", lvl(3), Stable, true, 3},
		{"risk 5, never reached since", lvl(5), "", false, 3},
		{"unstable at risk 0", lvl(0), Unstable, true, 3},
		{"never reached, no risk known", nil, "", false, 2},
		{"never reached comes before basically stable", nil, "", false, 2},
		{"risk 2", lvl(2), BasicallyStable, true, 1},
		{"basically stable at risk 0", lvl(0), BasicallyStable, true, 1},
		{"risk 1 classified stable", lvl(1), Stable, true, 1},
		{"stable", lvl(0), Stable, true, 0},
		{"reached, last attempt not reached, no risk", nil, NotReached, true, 0},
	}
	for _, tt := range tests {
		if got := Urgency(tt.risk, tt.class, tt.reached); got != tt.want {
			t.Errorf("%s: Urgency = %d, want %d", tt.name, got, tt.want)
		}
	}
	// The example: a never-seen patient months late and a high-risk
	// patient come before a stable patient a week late.
	if !(Urgency(nil, "", false) > Urgency(lvl(0), Stable, true) && Urgency(lvl(4), Unstable, true) > Urgency(lvl(0), Stable, true)) {
		t.Error("a never-seen or high-risk patient must come before a stable one")
	}
}
