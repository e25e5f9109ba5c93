package report

import "kith/internal/kpi"

// CountsBy is countsBy, for the external tests.
var CountsBy = countsBy

// ConfirmCurrent is confirmCurrent, for the external tests.
var ConfirmCurrent = confirmCurrent

// ListReadsSums says whether the list behind figure k counts the
// follow-ups' sums per patient.
func ListReadsSums(k kpi.Key) bool { return readsSums.MatchString(numerator[k]) }
