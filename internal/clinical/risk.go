package clinical

import "kith/internal/clinical/instrument"

// Risk levels run from 0 to 5 (R-RISK).
const (
	MinRiskLevel = 0
	MaxRiskLevel = 5
)

// ValidRiskLevel reports whether n is a risk level of R-RISK.
func ValidRiskLevel(n int) bool { return MinRiskLevel <= n && n <= MaxRiskLevel }

// riskInstrument and riskItem name the risk assessment in the instrument
// catalogue, whose options hold the R-RISK descriptions; the Chinese is the
// wording of the national specification, which staff know by heart.
const (
	riskInstrument = "risk"
	riskItem       = "risk_level"
)

// RiskDescription returns the R-RISK description of a risk level in English
// and Chinese, or two empty strings for a level outside 0–5.
func RiskDescription(level int) (en, zh string) {
	if !ValidRiskLevel(level) {
		return "", ""
	}
	d := instrument.Default().Latest(riskInstrument)
	if d == nil {
		return "", ""
	}
	for _, it := range d.Items {
		if it.ID != riskItem {
			continue
		}
		for _, o := range d.OptionsOf(it) {
			if o.Value == level {
				return o.Text.EN, o.Text.ZH
			}
		}
	}
	return "", ""
}
