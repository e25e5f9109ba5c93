package clinical

import (
	"strings"
	"testing"
	"time"
)

func TestAlertDue(t *testing.T) {
	tests := []struct {
		rule     Rule
		name     string
		flagOn   string
		answered bool
		due      string
		dueRule  Rule
		want     string
		wantRule Rule
	}{
		{RuleAlertDue, "flag brings a stable patient's 3 months forward", "2026-03-01", false, "2026-05-20", RuleNextStable, "2026-03-03", RuleAlertDue},
		{RuleAlertDue, "flag on the day before the due date: the date stays, the alert is named", "2026-03-01", false, "2026-03-02", RuleNextUnstable, "2026-03-02", RuleAlertDue},
		{RuleAlertDue, "already overdue: stays overdue, the alert is named", "2026-03-01", false, "2026-01-15", "", "2026-01-15", RuleAlertDue},
		{RuleAlertDue, "same day: the alert is named", "2026-03-01", false, "2026-03-03", RuleNextBasic, "2026-03-03", RuleAlertDue},
		{RuleAlertDue, "answered by a later follow-up or a referral", "2026-03-01", true, "2026-05-20", RuleNextStable, "2026-05-20", RuleNextStable},
		{RuleAlertDue, "no flag", "", false, "2026-05-20", RuleNextStable, "2026-05-20", RuleNextStable},
		{RuleAlertDue, "nothing due yet", "2026-12-31", false, "", "", "2027-01-02", RuleAlertDue},
	}
	for _, tt := range tests {
		var flag, due Date
		if tt.flagOn != "" {
			flag = d(tt.flagOn)
		}
		if tt.due != "" {
			due = d(tt.due)
		}
		got, rule := AlertDue(flag, tt.answered, due, tt.dueRule)
		if got.String() != tt.want || rule != tt.wantRule {
			t.Errorf("%s: %s: AlertDue = %s %s, want %s %s", tt.rule, tt.name, got, rule, tt.want, tt.wantRule)
		}
	}
}

func TestDischargeDue(t *testing.T) {
	tests := []struct {
		rule                  Rule
		name                  string
		discharged, last, due string
		dueRule               Rule
		want                  string
		wantRule              Rule
	}{
		{RuleDischarge, "discharged after the last follow-up: 14 days", "2026-04-10", "2026-02-01", "2026-05-01", RuleNextStable, "2026-04-24", RuleDischarge},
		{RuleDischarge, "replaces an earlier, stale due date", "2026-04-10", "2026-01-01", "2026-01-15", RuleNextUnstable, "2026-04-24", RuleDischarge},
		{RuleDischarge, "never reached before", "2026-04-10", "", "2026-02-01", "", "2026-04-24", RuleDischarge},
		{RuleDischarge, "a follow-up on the discharge day answers it", "2026-04-10", "2026-04-10", "2026-04-24", RuleNextBasic, "2026-04-24", RuleNextBasic},
		{RuleDischarge, "a follow-up after discharge answers it", "2026-04-10", "2026-04-12", "2026-07-12", RuleNextStable, "2026-07-12", RuleNextStable},
		{RuleDischarge, "month end", "2026-12-25", "", "", "", "2027-01-08", RuleDischarge},
	}
	for _, tt := range tests {
		var last, due Date
		if tt.last != "" {
			last = d(tt.last)
		}
		if tt.due != "" {
			due = d(tt.due)
		}
		got, rule := DischargeDue(d(tt.discharged), last, due, tt.dueRule)
		if got.String() != tt.want || rule != tt.wantRule {
			t.Errorf("%s: %s: DischargeDue = %s %s, want %s %s", tt.rule, tt.name, got, rule, tt.want, tt.wantRule)
		}
	}
}

func TestAlertKinds(t *testing.T) {
	n := func(i int) *int { return &i }
	for _, tt := range []struct {
		rule Rule
		name string
		got  bool
		want bool
	}{
		{RuleAlertRiskRise, "0 → 2 rose by 2", RiskRose(n(0), 2), true},
		{RuleAlertRiskRise, "1 → 5", RiskRose(n(1), 5), true},
		{RuleAlertRiskRise, "1 → 2 rose by 1", RiskRose(n(1), 2), false},
		{RuleAlertRiskRise, "4 → 1 fell", RiskRose(n(4), 1), false},
		{RuleAlertRiskRise, "no previous follow-up", RiskRose(nil, 4), false},
		{RuleAlertMedStop, "regular → none", MedicationStopped(AdherenceRegular, AdherenceNone), true},
		{RuleAlertMedStop, "intermittent → none", MedicationStopped(AdherenceIntermittent, AdherenceNone), true},
		{RuleAlertMedStop, "not needed → none", MedicationStopped(AdherenceNotNeeded, AdherenceNone), false},
		{RuleAlertMedStop, "none → none", MedicationStopped(AdherenceNone, AdherenceNone), false},
		{RuleAlertMedStop, "no previous", MedicationStopped("", AdherenceNone), false},
		{RuleAlertMedStop, "regular → intermittent", MedicationStopped(AdherenceRegular, AdherenceIntermittent), false},
		{RuleAlertHighRisk, "risk 3, a day overdue", HighRiskOverdue(n(3), d("2026-03-01"), d("2026-03-02")), true},
		{RuleAlertHighRisk, "risk 3, due today", HighRiskOverdue(n(3), d("2026-03-01"), d("2026-03-01")), false},
		{RuleAlertHighRisk, "risk 2, overdue", HighRiskOverdue(n(2), d("2026-03-01"), d("2026-04-01")), false},
		{RuleAlertHighRisk, "no risk recorded", HighRiskOverdue(nil, d("2026-03-01"), d("2026-04-01")), false},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %s = %v, want %v", tt.rule, tt.name, tt.got, tt.want)
		}
	}
}

func TestReferralPastTarget(t *testing.T) {
	req := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	due := req.Add(DefaultReferralTargets[ReferralEmergency])
	for _, tt := range []struct {
		name          string
		answered, now time.Time
		want          bool
	}{
		{"open, within 2 hours", time.Time{}, req.Add(time.Hour), false},
		{"open, at the target", time.Time{}, due, false},
		{"open, past the target", time.Time{}, due.Add(time.Minute), true},
		{"answered in time, asked later", req.Add(90 * time.Minute), due.Add(24 * time.Hour), false},
		{"answered late", due.Add(time.Second), due.Add(time.Hour), true},
	} {
		if got := ReferralPastTarget(due, tt.answered, tt.now); got != tt.want {
			t.Errorf("%s: %s = %v, want %v", RuleAlertReferral, tt.name, got, tt.want)
		}
	}
	if g := ReferralGrantEnds(req); !g.Equal(req.AddDate(0, 0, 30)) {
		t.Errorf("grant ends %v", g)
	}
}

func TestCrisisEmergency(t *testing.T) {
	for _, tt := range []struct {
		name                string
		risk                int
		actions             []string
		need                bool
		triggers, attendees string
	}{
		{"phone counselling at risk 1: no record", 1, []string{"phone_counselling"}, false, "", ""},
		{"home visit at risk 2: no record", 2, []string{"home_visit"}, false, "", ""},
		{"risk 3", 3, []string{"home_visit"}, true, "risk_3_plus", "community_staff"},
		{"police at risk 2", 2, []string{"police"}, true, "endangering_others", "police"},
		{"admission at risk 1", 1, []string{"emergency_admission"}, true, "relapse_deterioration", ""},
		{"risk 5, police and admission", 5, []string{"police", "emergency_admission"}, true, "risk_3_plus", "police"},
	} {
		need, trig, _, att := CrisisEmergency(tt.risk, tt.actions)
		if need != tt.need || strings.Join(trig, " ") != tt.triggers || strings.Join(att, " ") != tt.attendees {
			t.Errorf("%s: %s: CrisisEmergency = %v %v %v, want %v %q %q", RuleEmergency, tt.name, need, trig, att, tt.need, tt.triggers, tt.attendees)
		}
	}
}
