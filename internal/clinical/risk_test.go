package clinical

import (
	"testing"

	"kith/internal/clinical/instrument"
)

// The R-RISK descriptions live in the risk instrument; these are the national
// specification's words, pinned so that a change to the definition is seen.
func TestRiskDescriptionWording(t *testing.T) {
	want := []struct{ en, zh string }{
		{"None of the behaviours of levels 1–5.",
			"无符合以下1～5级中的任何行为。"},
		{"Verbal threats, shouting, but no smashing or hitting.",
			"口头威胁，喊叫，但没有打砸行为。"},
		{"Smashing or hitting, confined to the home, aimed at property, stopped by persuasion.",
			"打砸行为，局限在家里，针对财物，能被劝说制止。"},
		{"Obvious smashing or hitting, in any setting, aimed at property, not stopped by persuasion.",
			"明显打砸行为，不分场合，针对财物，不能接受劝说而停止。"},
		{"Persistent smashing or hitting, in any setting, aimed at property or people, not stopped by persuasion (includes self-harm and suicide attempts).",
			"持续的打砸行为，不分场合，针对财物或人，不能接受劝说而停止（包括自伤、自杀）。"},
		{"Any violence against people with a weapon, or arson, explosion and the like, at home or in public.",
			"持械针对人的任何暴力行为，或者纵火、爆炸等行为，无论在家里还是公共场合。"},
	}
	for level, w := range want {
		en, zh := RiskDescription(level)
		if en != w.en || zh != w.zh {
			t.Errorf("R-RISK level %d: got %q, %q; want %q, %q", level, en, zh, w.en, w.zh)
		}
	}
}

// The risk instrument agrees with R-RISK and R-CLASS: it scores exactly the
// levels 0–5, and its alert flag is raised exactly at the levels that make a
// patient unstable by R-CLASS-UNSTABLE.
func TestRiskInstrumentAgreesWithRules(t *testing.T) {
	d := instrument.Default().Latest(riskInstrument)
	if d == nil {
		t.Fatal("R-RISK: no risk instrument in the catalogue")
	}
	if d.MinScore != MinRiskLevel || d.MaxScore != MaxRiskLevel {
		t.Errorf("R-RISK: instrument scores %d–%d, want %d–%d", d.MinScore, d.MaxScore, MinRiskLevel, MaxRiskLevel)
	}
	for level := MinRiskLevel - 1; level <= MaxRiskLevel+1; level++ {
		r, err := d.ScoreItems(map[string]int{riskItem: level})
		if (err == nil) != ValidRiskLevel(level) {
			t.Errorf("R-RISK level %d: instrument error %v, ValidRiskLevel %v", level, err, ValidRiskLevel(level))
			continue
		}
		if err != nil {
			continue
		}
		a := stableAssessment()
		a.RiskLevel = level
		c, _ := Classify(a)
		if got, want := d.Alerts(r.Flags), c == Unstable; got != want {
			t.Errorf("R-CLASS-UNSTABLE level %d: instrument alerts %v, classified %s", level, got, c)
		}
	}
}
