package clinical

import (
	"errors"
	"strings"
	"time"
)

// Rule names a rule of CLINICAL.md. The service stores the rule that decided
// a classification or a due date with the follow-up, and the pages show it.
type Rule string

const (
	RuleClassUnstable    Rule = "R-CLASS-UNSTABLE"
	RuleClassBasic       Rule = "R-CLASS-BASIC"
	RuleClassStable      Rule = "R-CLASS-STABLE"
	RuleNextUnstable     Rule = "R-NEXT-UNSTABLE"
	RuleNextBasic        Rule = "R-NEXT-BASIC"
	RuleNextBasicPersist Rule = "R-NEXT-BASIC-PERSIST"
	RuleNextStable       Rule = "R-NEXT-STABLE"
	RuleNotReached       Rule = "R-NOT-REACHED"
	RuleOverdue          Rule = "R-OVERDUE"
	RuleLost             Rule = "R-LOST"
	RuleMin4             Rule = "R-MIN4"
	RuleEmergency        Rule = "R-EMERG"
)

var ruleTexts = map[Rule]struct{ en, zh string }{
	RuleClassUnstable: {
		"Unstable: risk level 3–5, obvious psychotic symptoms, absent insight, a serious adverse drug reaction or a serious physical illness.",
		"不稳定：危险性评估3～5级，或精神症状明显、自知力缺乏、有严重药物不良反应或严重躯体疾病。"},
	RuleClassBasic: {
		"Basically stable: risk level 1–2, some psychotic symptoms, partial insight, poor social function in at least one area, or an unstable physical illness.",
		"基本稳定：危险性评估1～2级，或部分精神症状、自知力部分恢复、社会功能至少一方面较差，或躯体疾病不稳定。"},
	RuleClassStable: {
		"Stable: risk level 0, psychotic symptoms essentially gone, insight essentially recovered, no area of social function poor, no serious adverse drug reaction, physical illness none or stable.",
		"稳定：危险性评估0级，精神症状基本消失，自知力基本恢复，社会功能处于一般或良好，无严重药物不良反应，躯体疾病稳定或无。"},
	RuleNextUnstable: {
		"Unstable: next follow-up in 14 days, to learn how the referral or treatment went; if the patient could not be admitted or referred, a psychiatrist is contacted and the follow-up is done with community staff and police.",
		"不稳定：2周内随访，了解转诊或治疗情况；未能住院或转诊的，联系精神科医师，并会同社区工作人员和民警共同随访。"},
	RuleNextBasic: {
		"Basically stable: next follow-up in 14 days, for observation.",
		"基本稳定：观察2周后随访。"},
	RuleNextBasicPersist: {
		"Basically stable again at the next reached follow-up: next follow-up in 1 month, with the psychiatrist's technical guidance.",
		"连续两次随访基本稳定：1个月后随访，由精神科医师进行技术指导。"},
	RuleNextStable: {
		"Stable: next follow-up in 3 months.",
		"稳定：3个月后随访。"},
	RuleNotReached: {
		"Not reached: the attempt is recorded with its reason; it is not a follow-up, and the due date stays as it was.",
		"未访到：记录未访到的原因；不计为一次随访，下次随访日期不变。"},
	RuleOverdue: {
		"Overdue: the due date has passed without a reached follow-up.",
		"逾期：已过应随访日期，仍未访到。"},
	RuleLost: {
		"Lost to follow-up: 3 not-reached attempts in a row, or no reached follow-up for 6 months, until reached again.",
		"失访：连续3次未访到，或6个月未访到，直至再次访到。"},
	RuleMin4: {
		"Fewer than 4 reached follow-ups in this calendar year; every managed patient needs at least 4.",
		"本年度访到的随访少于4次；每名在管患者每年至少随访4次。"},
	RuleEmergency: {
		"Emergency: the psychiatrist completes the record within 24 hours of the event, and the patient is followed up within 2 weeks.",
		"应急处置：精神科医师在事件发生后24小时内完成记录，并在2周内随访。"},
}

// Explain returns a short explanation of r in English and Chinese, to show
// which rule fired; two empty strings for a rule it does not know.
func (r Rule) Explain() (en, zh string) {
	t := ruleTexts[r]
	return t.en, t.zh
}

// SocialFunction rates the five areas of social function (R-CLASS).
type SocialFunction struct {
	SelfCare      Rating `json:"self_care"`
	Housework     Rating `json:"housework"`
	Work          Rating `json:"work"`
	Learning      Rating `json:"learning"`
	SocialContact Rating `json:"social_contact"`
}

// Area returns the rating of one area, or "" for an unknown area.
func (s SocialFunction) Area(a SocialArea) Rating {
	switch a {
	case AreaSelfCare:
		return s.SelfCare
	case AreaHousework:
		return s.Housework
	case AreaWork:
		return s.Work
	case AreaLearning:
		return s.Learning
	case AreaSocialContact:
		return s.SocialContact
	}
	return ""
}

// Poor reports whether social function counts as poor: any area is poor (R-CLASS).
func (s SocialFunction) Poor() bool {
	for _, a := range socialAreas {
		if s.Area(a) == RatingPoor {
			return true
		}
	}
	return false
}

// Assessment holds the inputs of R-CLASS, taken at a reached follow-up.
type Assessment struct {
	RiskLevel         int // 0–5, R-RISK
	PsychoticSymptoms PsychoticSymptoms
	Insight           Insight
	SocialFunction    SocialFunction
	AdverseReaction   AdverseReaction
	PhysicalIllness   PhysicalIllness
}

// A FieldError says that an input field has a value the rules do not allow.
// Field is the API's name for it, such as "risk_level" or
// "social_function.work".
type FieldError struct {
	Field   string
	Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate returns a FieldError for each input of a that is missing or not
// one of its values, or nil when a can be classified.
func (a Assessment) Validate() []FieldError {
	var errs []FieldError
	check := func(ok bool, field, msg string) {
		if !ok {
			errs = append(errs, FieldError{field, msg})
		}
	}
	check(ValidRiskLevel(a.RiskLevel), "risk_level", "must be a whole number from 0 to 5")
	check(a.PsychoticSymptoms.Valid(), "psychotic_symptoms", "must be none, some or obvious")
	check(a.Insight.Valid(), "insight", "must be complete, partial or absent")
	for _, area := range socialAreas {
		check(a.SocialFunction.Area(area).Valid(), "social_function."+string(area), "must be good, fair or poor")
	}
	check(a.AdverseReaction.Valid(), "adverse_reaction", "must be none, mild or serious")
	check(a.PhysicalIllness.Valid(), "physical_illness", "must be none, stable, unstable or serious")
	return errs
}

// Classify classifies a reached follow-up by R-CLASS. The first matching row
// decides:
//
//   - R-CLASS-UNSTABLE: risk 3–5, or symptoms obvious, or insight absent, or
//     a serious adverse reaction, or a serious physical illness;
//   - R-CLASS-BASIC: risk 1–2, or some symptoms, or partial insight, or any
//     area of social function poor, or an unstable physical illness;
//   - R-CLASS-STABLE: otherwise.
//
// A mild adverse reaction alone changes nothing.
//
// Classify expects a valid Assessment (see Validate). Should an invalid one
// reach it, it still never says stable: R-CLASS-STABLE is tested as the
// positive description CLINICAL.md gives of it, and anything else that is
// not unstable is basically stable, so a missing value cannot pass for a
// good one.
func Classify(a Assessment) (Classification, Rule) {
	if a.RiskLevel >= 3 ||
		a.PsychoticSymptoms == PsychoticObvious ||
		a.Insight == InsightAbsent ||
		a.AdverseReaction == ReactionSerious ||
		a.PhysicalIllness == IllnessSerious {
		return Unstable, RuleClassUnstable
	}
	if a.RiskLevel == 0 &&
		a.PsychoticSymptoms == PsychoticNone &&
		a.Insight == InsightComplete &&
		socialFunctionFairOrGood(a.SocialFunction) &&
		(a.AdverseReaction == ReactionNone || a.AdverseReaction == ReactionMild) &&
		(a.PhysicalIllness == IllnessNone || a.PhysicalIllness == IllnessStable) {
		return Stable, RuleClassStable
	}
	return BasicallyStable, RuleClassBasic
}

func socialFunctionFairOrGood(s SocialFunction) bool {
	for _, a := range socialAreas {
		if r := s.Area(a); r != RatingGood && r != RatingFair {
			return false
		}
	}
	return true
}

// Action returns the action R-CLASS recommends for a classification, in
// English and Chinese. For NotReached it is R-NOT-REACHED's: try again, the
// due date stays as it was.
func Action(c Classification) (en, zh string) {
	switch c {
	case Unstable:
		return "Handle the symptoms, refer to a higher-level hospital at once, and report to the police where needed.",
			"对症处理后立即转诊到上级医院，必要时报告当地公安部门。"
	case BasicallyStable:
		return "Judge whether this is fluctuation or a poor effect of the medication, or an adverse reaction or a physical illness; adjust the dose within the prescribed range, or find and treat the cause; consult the psychiatrist where needed.",
			"判断是病情波动或药物疗效不佳，还是伴有药物不良反应或躯体症状恶化，分别在规定剂量范围内调整现用药物剂量，或查找原因对症治疗；必要时与精神科医师联系，在其指导下治疗。"
	case Stable:
		return "Continue the treatment plan set by the hospital.",
			"继续执行上级医院制定的治疗方案。"
	case NotReached:
		return "Try again to reach the patient; the due date stays as it was.",
			"再次尝试随访；下次随访日期不变。"
	}
	return "", ""
}

// NextDue returns the next follow-up date after a reached follow-up on date
// classified c, and the R-NEXT rule that set it. previous is the
// classification of the patient's previous reached follow-up, or "" if there
// is none; not-reached attempts in between are not follow-ups and are skipped
// by the caller (R-NOT-REACHED).
//
//   - R-NEXT-UNSTABLE: unstable, 14 days;
//   - R-NEXT-BASIC: basically stable after anything else, 14 days of observation;
//   - R-NEXT-BASIC-PERSIST: basically stable after basically stable, 1 calendar month;
//   - R-NEXT-STABLE: stable, 3 calendar months.
//
// Months are calendar months with month-end clamping (see Date.AddMonths).
// For NotReached it returns the zero Date and R-NOT-REACHED: the due date
// stays as it was. For a classification it does not know it returns the zero
// Date and "".
func NextDue(date Date, c, previous Classification) (Date, Rule) {
	switch c {
	case Unstable:
		return date.AddDays(14), RuleNextUnstable
	case BasicallyStable:
		if previous == BasicallyStable {
			return date.AddMonths(1), RuleNextBasicPersist
		}
		return date.AddDays(14), RuleNextBasic
	case Stable:
		return date.AddMonths(3), RuleNextStable
	case NotReached:
		return Date{}, RuleNotReached
	}
	return Date{}, ""
}

// ErrLaterNeedsReason is returned by CheckNextDueOverride for a chosen date
// later than the computed one without a written reason.
var ErrLaterNeedsReason = errors.New("a next follow-up date later than the computed one needs a written reason")

// CheckNextDueOverride checks a next follow-up date chosen by staff instead of
// the one NextDue computed (R-NEXT): an earlier date or the same one is
// allowed; a later one needs a written reason, which the caller stores. A
// zero chosen date means no override and is allowed. The caller must still
// refuse a chosen date before the follow-up itself, which this function does
// not see.
func CheckNextDueOverride(computed, chosen Date, reason string) error {
	switch {
	case chosen.IsZero():
		return nil
	case !chosen.Valid():
		return ErrInvalidDate
	case chosen.After(computed) && strings.TrimSpace(reason) == "":
		return ErrLaterNeedsReason
	}
	return nil
}

// Overdue reports whether a follow-up due on due is overdue on asOf, and by
// how many days (R-OVERDUE). The due date itself is still in time: a
// follow-up due on 1 March is overdue by 1 day on 2 March. A zero due date
// (nothing due) is never overdue. The caller asks only about patients with no
// reached follow-up since the due date was set, since a reached follow-up
// sets a new one.
func Overdue(due, asOf Date) (bool, int) {
	if due.IsZero() || !asOf.After(due) {
		return false, 0
	}
	return true, DaysBetween(due, asOf)
}

// Follow-up counts of R-LOST and R-MIN4.
const (
	LostAfterNotReached = 3 // not-reached attempts in a row
	LostAfterMonths     = 6 // calendar months without a reached follow-up
	MinReachedPerYear   = 4
)

// Lost reports whether a patient is lost to follow-up on asOf (R-LOST).
//
// consecutiveNotReached counts the not-reached attempts since the patient's
// last reached follow-up (all of them if never reached); 3 or more makes the
// patient lost. lastReached is the date of the last reached follow-up, or the
// zero Date if there has been none, in which case the six months count from
// registeredOn. The patient is lost from the day six calendar months after
// that date, with month-end clamping: last reached 31 August, lost from 28
// (or 29) February; 1 March, lost from 1 September. If both dates are zero
// only the count of attempts decides.
//
// A reached follow-up resets both the count and the date, so the patient is
// lost only "until reached again".
func Lost(consecutiveNotReached int, lastReached, registeredOn, asOf Date) bool {
	if consecutiveNotReached >= LostAfterNotReached {
		return true
	}
	since := lastReached
	if since.IsZero() {
		since = registeredOn
	}
	if since.IsZero() {
		return false
	}
	return !asOf.Before(since.AddMonths(LostAfterMonths))
}

// BelowMinimum reports whether a managed patient has had fewer than 4 reached
// follow-ups in the calendar year of asOf (R-MIN4); reachedThisYear is that
// count, from 1 January up to asOf (see CalendarYear). The minimum is for the
// whole year and is not pro-rated, so early in the year most patients are
// below it: the list is the work still to do before 31 December.
func BelowMinimum(reachedThisYear int, asOf Date) bool {
	return reachedThisYear < MinReachedPerYear
}

// EmergencyFollowUpDue returns the date by which a patient must be followed
// up after an emergency on eventDate: within 2 weeks (R-EMERG).
func EmergencyFollowUpDue(eventDate Date) Date { return eventDate.AddDays(14) }

// EmergencyRecordDeadline returns the time by which the psychiatrist must
// complete the record of an emergency that happened at eventTime: 24 hours
// later (R-EMERG). It is an instant, not a date, because the deadline is
// counted in hours.
func EmergencyRecordDeadline(eventTime time.Time) time.Time { return eventTime.Add(24 * time.Hour) }
