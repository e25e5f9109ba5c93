package care_test

import (
	"testing"

	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// Issue 12, early warning: alerts reach the people the existing alerts
// reach and the care team — here a psychiatrist of another unit on the
// team, who sees, counts and acknowledges the patient's alert, and stops
// the moment they leave the team.
func TestAlertsReachTheTeam(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		psy2, _ := teamAccounts(t, svc)
		clock(svc, "2025-03-01")
		p := register(t, svc, manager, care.PatientInput{Name: "Li Lei"})
		if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-02-01", 3)); err != nil {
			t.Fatal(err)
		}
		seen := func() int {
			t.Helper()
			list, _, err := svc.Alerts(as(psy2), care.AlertQuery{}, care.Page{})
			if err != nil {
				t.Fatal(err)
			}
			n, err := svc.OpenAlertCount(as(psy2))
			if err != nil || n != len(list) {
				t.Errorf("open alert count = %d, %v; the list has %d", n, err, len(list))
			}
			return len(list)
		}
		if n := seen(); n != 0 {
			t.Fatalf("before joining the team psy2 sees %d alerts", n)
		}
		if _, err := svc.AddTeamMember(as(manager), p.ID, care.TeamMemberInput{Username: "psy2", TeamRole: "psychiatrist"}); err != nil {
			t.Fatal(err)
		}
		if n := seen(); n != 1 {
			t.Fatalf("on the team psy2 sees %d alerts, want 1", n)
		}
		list, _, _ := svc.Alerts(as(psy2), care.AlertQuery{}, care.Page{})
		if err := svc.RemoveTeamMember(as(manager), p.ID, "psy2"); err != nil {
			t.Fatal(err)
		}
		if n := seen(); n != 0 {
			t.Errorf("off the team psy2 still sees %d alerts", n)
		}
		if _, err := svc.AcknowledgeAlert(as(psy2), list[0].ID, care.AckInput{Action: "phoned the family"}); kind(err) != care.NotFound {
			t.Errorf("off the team psy2 acknowledges: %v, want not found", err)
		}
		if _, err := svc.AddTeamMember(as(manager), p.ID, care.TeamMemberInput{Username: "psy2", TeamRole: "psychiatrist"}); err != nil {
			t.Fatal(err)
		}
		if al, err := svc.AcknowledgeAlert(as(psy2), list[0].ID, care.AckInput{Action: "phoned the family"}); err != nil || !al.Acknowledged {
			t.Errorf("psy2 on the team acknowledges: %+v, %v", al, err)
		}
	})
}
