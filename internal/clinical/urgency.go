package clinical

// Urgency ranks a patient on a worklist: higher comes first. A worklist is
// sorted by urgency, then by due date (the longest overdue first), so that
// a patient at high risk, or one who has never been reached, comes before a
// stable patient a week late, however late the stable patient is:
//
//	3  risk level 3 or more, or classified unstable at the last follow-up
//	2  never reached since registration (no reached follow-up yet)
//	1  risk level 1–2, or classified basically stable
//	0  stable (risk level 0 and classified stable)
//
// UrgencySQL is the same ranking as an SQL expression over the patients
// table; a test in the care package checks that the two agree.
func Urgency(risk *int, class Classification, everReached bool) int {
	switch {
	case risk != nil && *risk >= 3, class == Unstable:
		return 3
	case !everReached:
		return 2
	case risk != nil && *risk >= 1, class == BasicallyStable:
		return 1
	}
	return 0
}

// UrgencySQL is Urgency over the patients table aliased p: last_risk_level,
// last_classification and last_followup_on (the date of the last reached
// follow-up, empty when there is none).
const UrgencySQL = `(CASE
	WHEN p.last_risk_level >= 3 OR p.last_classification = 'unstable' THEN 3
	WHEN p.last_followup_on = '' OR p.last_followup_on IS NULL THEN 2
	WHEN p.last_risk_level >= 1 OR p.last_classification = 'basically_stable' THEN 1
	ELSE 0 END)`
