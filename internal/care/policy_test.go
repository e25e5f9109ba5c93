package care

import (
	"fmt"
	"strings"
	"testing"

	"kith/internal/auth"
)

// TestPolicy checks every role × action, inside and outside the actor's
// jurisdiction, against a grid written out by hand from PRODUCT.md's
// "Who uses it". A letter means allowed: I inside the jurisdiction, O outside.
func TestPolicy(t *testing.T) {
	// columns: unit.read unit.write user.read user.write audit.read
	//          patient.read patient.write followup.write emergency.write figures.read
	//          assessment.write alert.read contact.read contact.write
	//          patient.break_glass break_glass.read patient.access_report announcement.read
	//          service.write article.write team.write plan.write conference.write referral.write crisis.write
	//          event.read event.write course.write training.read subsidy.read subsidy.review subsidy.approve registry.import
	//          colleague.find
	grid := map[auth.Role]string{
		auth.Admin:            "IO IO IO IO IO -- -- -- -- -- -- -- -- -- -- -- -- -- IO -- -- -- -- -- -- IO -- -- -- -- -- -- IO --",
		auth.DistrictAdmin:    "I- I- I- I- I- -- -- -- -- I- -- -- -- -- -- I- -- -- I- I- -- -- -- -- -- I- I- I- I- I- -- I- I- IO",
		auth.Psychiatrist:     "I- -- -- -- -- I- I- I- I- I- I- I- I- I- IO I- I- I- -- I- I- I- I- I- I- I- I- I- I- -- -- -- -- IO",
		auth.Psychotherapist:  "I- -- -- -- -- I- -- -- -- I- I- -- -- -- IO -- -- -- -- -- -- I- I- -- -- I- I- -- -- -- -- -- -- IO",
		auth.SocialWorker:     "I- -- -- -- -- I- -- -- -- I- I- -- -- -- IO -- -- -- -- -- -- I- I- -- -- I- I- -- -- -- -- -- -- IO",
		auth.Nurse:            "I- -- -- -- -- I- I- I- I- I- I- -- I- I- IO -- -- -- -- -- -- I- I- I- I- I- I- -- -- -- -- -- -- IO",
		auth.CommunityManager: "I- -- -- -- -- I- I- I- I- I- I- I- I- I- IO -- I- -- -- I- I- I- I- I- I- I- I- -- -- I- I- -- -- IO",
		auth.CareGroup:        "I- -- -- -- -- I- -- -- I- -- -- -- -- -- -- -- -- -- -- -- -- -- -- -- I- I- -- -- -- -- -- -- -- --",
	}
	if len(grid) != len(auth.Roles) {
		t.Fatalf("grid covers %d roles, want %d", len(grid), len(auth.Roles))
	}
	const home, inside, outside = "/D1/S1/", "/D1/S1/C1/", "/D1/S2/C3/"
	for role, row := range grid {
		cells := strings.Fields(row)
		if len(cells) != len(Actions) {
			t.Fatalf("%s: %d cells, want %d", role, len(cells), len(Actions))
		}
		a := &Actor{Username: "u", Role: role, UnitPath: home}
		for i, act := range Actions {
			for _, c := range []struct {
				path string
				want bool
			}{{inside, cells[i][0] == 'I'}, {outside, cells[i][1] == 'O'}} {
				name := fmt.Sprintf("%s/%s/%s", role, act, c.path)
				if got := Allow(a, act, Target{Path: c.path}); got != c.want {
					t.Errorf("%s: Allow = %v, want %v", name, got, c.want)
				}
			}
		}
	}
}

func TestPolicyEdges(t *testing.T) {
	da := &Actor{Username: "da", Role: auth.DistrictAdmin, UnitPath: "/D1/"}
	tests := []struct {
		name string
		a    *Actor
		act  Action
		t    Target
		want bool
	}{
		{"no actor", nil, ReadUnit, Target{Path: "/D1/"}, false},
		{"no target path", da, ReadUnit, Target{}, false},
		{"unknown action", da, Action("patient.delete"), Target{Path: "/D1/"}, false},
		{"unknown role", &Actor{Role: "doctor", UnitPath: "/D1/"}, ReadUnit, Target{Path: "/D1/"}, false},
		{"district admin may not edit their own unit", da, WriteUnit, Target{Path: "/D1/"}, false},
		{"district admin edits a street beneath", da, WriteUnit, Target{Path: "/D1/S1/"}, true},
		{"district admin may not touch an admin account", da, WriteUser, Target{Path: "/D1/", Role: auth.Admin}, false},
		{"district admin edits a nurse", da, WriteUser, Target{Path: "/D1/S1/C1/", Role: auth.Nurse}, true},
		{"prefix is by whole codes", &Actor{Role: auth.Nurse, UnitPath: "/D1/S1/"}, ReadPatient, Target{Path: "/D1/S10/C1/"}, false},
		{"actor without a unit outside admin", &Actor{Role: auth.Nurse}, ReadPatient, Target{Path: "/D1/"}, false},
		{"a grant opens its one record outside", &Actor{Role: auth.Nurse, UnitPath: "/D1/", Glass: []int64{7}}, ReadPatient,
			Target{Path: "/D2/S1/C1/", Patient: 7}, true},
		{"the events of the units above reach one", &Actor{Role: auth.CareGroup, UnitPath: "/D1/S1/C1/"}, ReadEvents,
			Target{Path: "/D1/"}, true},
		{"but not their writing", &Actor{Role: auth.CommunityManager, UnitPath: "/D1/S1/C1/"}, WriteEvents,
			Target{Path: "/D1/"}, false},
		{"nor another community's events", &Actor{Role: auth.CommunityManager, UnitPath: "/D1/S1/C1/"}, ReadEvents,
			Target{Path: "/D1/S1/C2/"}, false},
		{"a grant opens no other record", &Actor{Role: auth.Nurse, UnitPath: "/D1/", Glass: []int64{7}}, ReadPatient,
			Target{Path: "/D2/S1/C1/", Patient: 8}, false},
		{"a grant opens no write", &Actor{Role: auth.Nurse, UnitPath: "/D1/", Glass: []int64{7}}, WritePatient,
			Target{Path: "/D2/S1/C1/", Patient: 7}, false},
		{"district admin edits a service of their district", da, WriteService, Target{Path: "/D1/"}, true},
		{"a national hotline is the admins' alone", da, WriteService, Target{Path: "/"}, false},
		{"a manager edits the articles of their community", &Actor{Role: auth.CommunityManager, UnitPath: "/D1/S1/C1/"}, WriteArticle,
			Target{Path: "/D1/S1/C1/"}, true},
		{"a manager may not edit the district's articles", &Actor{Role: auth.CommunityManager, UnitPath: "/D1/S1/C1/"}, WriteArticle,
			Target{Path: "/D1/"}, false},
		{"a grant opens nothing for the care group", &Actor{Role: auth.CareGroup, UnitPath: "/D1/", Glass: []int64{7}}, ReadPatient,
			Target{Path: "/D2/S1/C1/", Patient: 7}, false},
		{"a referral opens its one record to the institution", &Actor{Role: auth.Psychiatrist, UnitPath: "/D1/H1/", Referred: []int64{7}},
			ReadPatient, Target{Path: "/D1/S1/C1/", Patient: 7}, true},
		{"a referral opens no other record", &Actor{Role: auth.Psychiatrist, UnitPath: "/D1/H1/", Referred: []int64{7}},
			ReadPatient, Target{Path: "/D1/S1/C1/", Patient: 8}, false},
		{"a referral opens no write", &Actor{Role: auth.Psychiatrist, UnitPath: "/D1/H1/", Referred: []int64{7}},
			WriteFollowUp, Target{Path: "/D1/S1/C1/", Patient: 7}, false},
		{"a referral opens nothing to an administrator", &Actor{Role: auth.DistrictAdmin, UnitPath: "/D1/H1/", Referred: []int64{7}},
			ReadPatient, Target{Path: "/D1/S1/C1/", Patient: 7}, false},
	}
	for _, tt := range tests {
		if got := Allow(tt.a, tt.act, tt.t); got != tt.want {
			t.Errorf("%s: Allow = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPatientView(t *testing.T) {
	want := map[auth.Role]View{
		auth.Admin: ViewNone, auth.DistrictAdmin: ViewNone, auth.Psychiatrist: ViewFull, auth.Nurse: ViewFull,
		auth.CommunityManager: ViewFull, auth.Psychotherapist: ViewClinical, auth.SocialWorker: ViewSocial,
		auth.CareGroup: ViewSafety,
	}
	for _, r := range auth.Roles {
		if got := PatientView(r); got != want[r] {
			t.Errorf("PatientView(%s) = %v, want %v", r, got, want[r])
		}
	}
}
