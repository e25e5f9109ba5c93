package clinical

// Risk levels run from 0 to 5 (R-RISK).
const (
	MinRiskLevel = 0
	MaxRiskLevel = 5
)

// ValidRiskLevel reports whether n is a risk level of R-RISK.
func ValidRiskLevel(n int) bool { return MinRiskLevel <= n && n <= MaxRiskLevel }

// riskLevels holds the R-RISK descriptions; the Chinese is the wording of the
// national specification, which staff know by heart.
var riskLevels = [...]struct{ en, zh string }{
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

// RiskDescription returns the R-RISK description of a risk level in English
// and Chinese, or two empty strings for a level outside 0–5.
func RiskDescription(level int) (en, zh string) {
	if !ValidRiskLevel(level) {
		return "", ""
	}
	r := riskLevels[level]
	return r.en, r.zh
}
