package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"kith/internal/audit"
	"kith/internal/care"
)

// latin finds a word in Latin script, which a Chinese page must not show
// in its own words (names and codes from the data aside).
var latin = regexp.MustCompile(`[A-Za-z]{2,}`)

// TestPlainWordsAfterIssue17: the pages added after the day's pages said
// some things by their codes on a Chinese page: the access report's
// actions on referrals, plans and family members, the epilepsy diagnosis's
// "with", and the audit log's subjects (a username, a worklist's key).
func TestPlainWordsAfterIssue17(t *testing.T) {
	s, err := newServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	zh := &page{Lang: langChinese, loc: i18n.NewLocalizer(s.catalogue, langChinese)}
	en := &page{Lang: langEnglish, loc: i18n.NewLocalizer(s.catalogue, langEnglish)}

	// The access report: every action a record's report can hold is said
	// in words in both languages, in Chinese without Latin script.
	for _, action := range []string{"family.read", "family.create", "family.update", "referral.read", "referral.create",
		"referral.update", "plan.read", "plan.create", "plan.review", "plan.adjust", "team.read", "team.add", "team.remove",
		"crisis.read", "crisis.create", "conference.create", "subsidy.read", "alert.read", "alert.acknowledge",
		"patient.read", "followup.create", "assessment.create"} {
		x := care.Access{Action: action, What: action}
		if got := zh.What(x); got == action || latin.MatchString(got) {
			t.Errorf("access report, Chinese: %s says %q", action, got)
		}
		if got := en.What(x); got == action || strings.Contains(got, ".") {
			t.Errorf("access report, English: %s says %q", action, got)
		}
	}

	// Diagnoses: the six disorders' codes joined in the page's language,
	// another ICD-10 code named from the catalogue.
	if got := zh.Diagnosis("epilepsy_psychosis"); strings.Contains(got, "with") || !strings.Contains(got, "F06 伴 G40") {
		t.Errorf("Chinese epilepsy diagnosis: %q", got)
	}
	if got := en.Diagnosis("epilepsy_psychosis"); !strings.Contains(got, "F06 with G40") {
		t.Errorf("English epilepsy diagnosis: %q", got)
	}
	if got := zh.Diagnosis("F05"); got != "谵妄 (F05)" {
		t.Errorf("Chinese ICD-10 diagnosis: %q, want its name and code", got)
	}
	if got := en.Diagnosis("F99.9"); got != "F99.9" {
		t.Errorf("a code the catalogue lacks: %q, want it as it is", got)
	}

	// The audit log's subjects: a person by name, a worklist in words.
	for _, tt := range []struct {
		e    audit.Entry
		want string
	}{
		{audit.Entry{SubjectType: "user", SubjectID: "nurse", SubjectName: "Li Na 李娜"}, "账号 Li Na 李娜"},
		{audit.Entry{SubjectType: "worklist", SubjectID: "overdue"}, "工作清单 逾期"},
		{audit.Entry{SubjectType: "worklist", SubjectID: "plan_review"}, "工作清单 待评估的康复计划"},
		{audit.Entry{SubjectType: "patient", SubjectID: "73"}, "患者 73"},
		{audit.Entry{SubjectType: "figures"}, "统计指标"},
	} {
		if got := zh.Subject(tt.e); got != tt.want {
			t.Errorf("audit subject %+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestWorklistColumns: a worklist drops the days-overdue column when no
// one listed is overdue, and names communities rather than coding them.
func TestWorklistColumns(t *testing.T) {
	d := worklistData{Units: []care.Unit{{Code: "C0101", Name: "Anning Community 安宁社区"}}}
	if got := d.UnitName("C0101"); got != "Anning Community 安宁社区" {
		t.Errorf("UnitName: %q", got)
	}
	if got := d.UnitName("C9999"); got != "C9999" {
		t.Errorf("a unit outside the list: %q", got)
	}
	r := referralsData{Items: []care.HospitalReferral{{Direction: "down"}}}
	if r.AnyUp() {
		t.Error("discharges alone have an answer-due column")
	}
	r.Items = append(r.Items, care.HospitalReferral{Direction: "up"})
	if !r.AnyUp() {
		t.Error("a referral up has no answer-due column")
	}
}
