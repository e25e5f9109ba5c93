package clinical

import "time"

// Rules of early warning and referral (CLINICAL.md "Discharge and alerts
// move the due date"), and Kith's rules for the alerts beside them.
const (
	RuleAlertDue      Rule = "R-ALERT-DUE"
	RuleDischarge     Rule = "R-DISCHARGE"
	RuleAlertRiskRise Rule = "R-ALERT-RISE"
	RuleAlertMedStop  Rule = "R-ALERT-MED"
	RuleAlertHighRisk Rule = "R-ALERT-OVERDUE"
	RuleAlertReferral Rule = "R-ALERT-REFERRAL"
	AlertDueDays           = 2  // R-ALERT-DUE
	DischargeDueDays       = 14 // R-DISCHARGE
	HighRiskLevel          = 3  // a risk level from which a patient counts as high risk
	RiskRiseLevels         = 2  // R-ALERT-RISE
	ReferralGrantDays      = 30 // the record stays readable this long after a referral closes
)

func init() {
	ruleTexts[RuleAlertDue] = struct{ en, zh string }{
		"Alert: a flag (PHQ-9 item 9 above 0, K10 very high, risk level 3 or more) makes the patient due within 2 days of the assessment, unless a later reached follow-up or a referral answers it; the earlier date wins.",
		"警报：评估出现警示（PHQ-9第9题大于0、K10极高或危险性3级及以上）时，2天内随访，除非之后已有访到的随访或已转诊；取较早的日期。"}
	ruleTexts[RuleDischarge] = struct{ en, zh string }{
		"Discharge: when a hospital hands a discharged patient back to the community, the first community follow-up is due within 14 days of the discharge date, and a hospitalised patient returns to managed.",
		"出院后首次随访：医院将出院患者转回社区后，出院后14天内进行首次社区随访；住院患者恢复为在管。"}
	ruleTexts[RuleAlertRiskRise] = struct{ en, zh string }{
		"Alert: the risk level rose by 2 or more levels since the last follow-up.",
		"警报：危险性等级比上次随访升高2级及以上。"}
	ruleTexts[RuleAlertMedStop] = struct{ en, zh string }{
		"Alert: medication stopped: adherence is none after regular or intermittent medication at the last follow-up.",
		"警报：停药：上次随访规律或间断服药，本次不服药。"}
	ruleTexts[RuleAlertHighRisk] = struct{ en, zh string }{
		"Alert: a high-risk patient (risk level 3 or more at the last follow-up) is overdue.",
		"警报：高风险患者（上次随访危险性3级及以上）已逾期未随访。"}
	ruleTexts[RuleAlertReferral] = struct{ en, zh string }{
		"Alert: a referral was declined, or has not been answered within its urgency's target (emergency 2 hours, urgent 24 hours, routine 72 hours).",
		"警报：转诊被拒绝，或未在紧急程度规定时限内答复（紧急2小时、急24小时、常规72小时）。"}
}

// AlertDue applies R-ALERT-DUE to a due date: a flag raised by an
// assessment on flagOn makes the patient due within 2 days of it, unless
// answered (a later reached follow-up or a referral); the earlier of that
// date and due wins. While the flag stands the rule is R-ALERT-DUE even
// when an earlier date stays (a patient already overdue stays so): the
// alert is why they must be seen now, and the pages say so.
func AlertDue(flagOn Date, answered bool, due Date, rule Rule) (Date, Rule) {
	if flagOn.IsZero() || answered {
		return due, rule
	}
	d := flagOn.AddDays(AlertDueDays)
	if due.IsZero() || d.Before(due) {
		return d, RuleAlertDue
	}
	return due, RuleAlertDue
}

// DischargeDue applies R-DISCHARGE: a patient handed back to the community
// on dischargedOn is due within 14 days of it, unless a follow-up reached
// them on or after that day (lastReached). The discharge starts the
// schedule afresh, so it replaces the due date set before the stay, even an
// earlier one.
func DischargeDue(dischargedOn, lastReached Date, due Date, rule Rule) (Date, Rule) {
	if dischargedOn.IsZero() || (!lastReached.IsZero() && !lastReached.Before(dischargedOn)) {
		return due, rule
	}
	return dischargedOn.AddDays(DischargeDueDays), RuleDischarge
}

// RiskRose reports whether the risk level rose by 2 or more levels since
// the previous reached follow-up (R-ALERT-RISE); prev is nil when there was
// none, which raises nothing: a first risk of 3 or more raises a flag of its
// own.
func RiskRose(prev *int, cur int) bool {
	return prev != nil && cur-*prev >= RiskRiseLevels
}

// MedicationStopped reports whether a follow-up records that medication
// stopped (R-ALERT-MED): adherence none after regular or intermittent at the
// previous reached follow-up.
func MedicationStopped(prev, cur Adherence) bool {
	return cur == AdherenceNone && (prev == AdherenceRegular || prev == AdherenceIntermittent)
}

// HighRiskOverdue reports whether a patient whose last reached follow-up
// recorded risk (nil: none) is high risk and overdue on asOf
// (R-ALERT-OVERDUE, with R-OVERDUE).
func HighRiskOverdue(risk *int, due, asOf Date) bool {
	late, _ := Overdue(due, asOf)
	return risk != nil && *risk >= HighRiskLevel && late
}

// Urgency of a referral up and its response target.
const (
	ReferralEmergency = "emergency"
	ReferralUrgent    = "urgent"
	ReferralRoutine   = "routine"
)

// ReferralUrgencies lists the urgencies, most urgent first.
var ReferralUrgencies = []string{ReferralEmergency, ReferralUrgent, ReferralRoutine}

// DefaultReferralTargets are the response targets of CLINICAL.md: 2 hours,
// 24 hours and 72 hours.
var DefaultReferralTargets = map[string]time.Duration{
	ReferralEmergency: 2 * time.Hour, ReferralUrgent: 24 * time.Hour, ReferralRoutine: 72 * time.Hour}

// ReferralPastTarget reports whether a referral requested with this
// response target (due is the request time plus the target) and not
// answered (answered zero) by now is past its target (R-ALERT-REFERRAL),
// or, answered, whether it was answered late.
func ReferralPastTarget(due, answered, now time.Time) bool {
	if answered.IsZero() {
		return now.After(due)
	}
	return answered.After(due)
}

// ReferralGrantEnds is when the receiving institution's access to the
// record ends after a referral closed at closed: 30 days later.
func ReferralGrantEnds(closed time.Time) time.Time { return closed.AddDate(0, 0, ReferralGrantDays) }

// Crisis events: who reported one and what was done.
var (
	CrisisReporters = []string{"family", "police", "resident", "hotline"}
	CrisisActions   = []string{"home_visit", "police", "emergency_admission", "referral", "phone_counselling"}
)

// CrisisEmergency decides whether a crisis event about a known patient
// needs the emergency record of R-EMERG, and with which triggers, measures
// and attendees: a risk level of 3 or more (trigger risk_3_plus), or an
// emergency admission or the police called (the patient endangers
// themselves or others: relapse_deterioration for an admission at a lower
// risk, endangering_others for the police). A call answered by phone or a
// visit alone at risk 0–2 needs none.
func CrisisEmergency(risk int, actions []string) (need bool, triggers, measures, attendees []string) {
	has := func(a string) bool {
		for _, x := range actions {
			if x == a {
				return true
			}
		}
		return false
	}
	if risk >= HighRiskLevel {
		triggers = append(triggers, string(TriggerRisk3Plus))
	}
	if has("police") && risk < HighRiskLevel {
		triggers = append(triggers, string(TriggerEndangeringOthers))
	}
	if has("emergency_admission") && risk < HighRiskLevel && !has("police") {
		triggers = append(triggers, string(TriggerRelapseDeterioration))
	}
	if len(triggers) == 0 {
		return false, nil, nil, nil
	}
	measures = append(measures, string(MeasureCrisisIntervention))
	if has("emergency_admission") {
		measures = append(measures, string(MeasureTransferToHospital))
	}
	if has("police") {
		attendees = append(attendees, string(AttendeePolice))
	}
	if has("home_visit") {
		attendees = append(attendees, string(AttendeeCommunityStaff))
	}
	return true, triggers, measures, attendees
}
