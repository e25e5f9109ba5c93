package care_test

import (
	"strconv"
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// teamAccounts adds, beside the tree, the accounts a team is built from:
// the C1 manager (mgr), a psychiatrist of another district (psy2, outside
// the patient's jurisdiction), a social worker of S2 (sw2, outside too), a
// nurse of C1 and a district administrator.
func teamAccounts(t *testing.T, svc *care.Service) (psy2, sw2 *care.Actor) {
	t.Helper()
	tree(t, svc)
	if _, err := svc.CreateUnit(as(adminActor), care.UnitInput{Code: "D2", Name: "District 2", Level: "district"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []care.UserInput{
		{Username: "mgr", FullName: "Manager Wang", Role: "community_manager", OrgUnit: "C1"},
		{Username: "psy2", FullName: "Dr Zhao", Role: "psychiatrist", OrgUnit: "D2"},
		{Username: "sw2", FullName: "Social Worker Liu", Role: "social_worker", OrgUnit: "S2"},
		{Username: "nurse1", FullName: "Nurse Chen", Role: "nurse", OrgUnit: "C1"},
		{Username: "da1", FullName: "District Admin", Role: "district_admin", OrgUnit: "D1"},
	} {
		u.Password = "a long password"
		if _, err := svc.CreateUserWithPassword(as(adminActor), u); err != nil {
			t.Fatal(err)
		}
	}
	return &care.Actor{Username: "psy2", FullName: "Dr Zhao", Role: auth.Psychiatrist, UnitCode: "D2", UnitPath: "/D2/"},
		&care.Actor{Username: "sw2", FullName: "Social Worker Liu", Role: auth.SocialWorker, UnitCode: "S2", UnitPath: "/D1/S2/"}
}

// TestCareTeamGrant: a member from outside the jurisdiction reads and
// writes the record with their role's rights while on the team, and not a
// request after their removal (issue 11, "Done when").
func TestCareTeamGrant(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		psy2, sw2 := teamAccounts(t, svc)
		clock(svc, "2025-03-01")
		p := register(t, svc, manager, care.PatientInput{Name: "Li Lei"})
		id := p.ID

		if _, err := svc.Patient(as(psy2), id); kind(err) != care.NotFound {
			t.Fatalf("psy2 reads before joining: %v", err)
		}
		team, err := svc.AddTeamMember(as(manager), id, care.TeamMemberInput{Username: "psy2", TeamRole: "psychiatrist"})
		if err != nil || len(team.Members) != 1 || team.Members[0].Name != "Dr Zhao" || !team.CanChange {
			t.Fatalf("add psy2 = %+v, %v", team, err)
		}
		if e := lastAudit(t, db); e.Action != "team.add" || e.Outcome != "allowed" {
			t.Errorf("last audit = %+v", e)
		}
		got, err := svc.Patient(as(psy2), id)
		if err != nil || got.View != "full" {
			t.Fatalf("psy2 reads on the team: %+v, %v", got, err)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE actor = 'psy2' AND action = 'patient.read' AND detail = ?`, care.TeamDetail); n != 1 {
			t.Errorf("%d reads audited as under the team grant, want 1", n)
		}
		// A psychiatrist may follow up; so may they on the team.
		if _, err := svc.RecordFollowUp(as(psy2), id, form("2025-02-01", 1)); err != nil {
			t.Errorf("psy2 follows up on the team: %v", err)
		}
		// A social worker on the team reads with the social view and may not follow up.
		if _, err := svc.AddTeamMember(as(manager), id, care.TeamMemberInput{Username: "sw2", TeamRole: "social_worker", KeyWorker: true}); err != nil {
			t.Fatal(err)
		}
		if got, err := svc.Patient(as(sw2), id); err != nil || got.View != "social" {
			t.Errorf("sw2 reads: %+v, %v", got, err)
		}
		if _, err := svc.RecordFollowUp(as(sw2), id, form("2025-02-02", 1)); kind(err) != care.NotFound {
			t.Errorf("sw2 follows up: %v, want refused", err)
		}
		// The key worker may change the team though outside the jurisdiction;
		// another member who is not may not.
		if _, err := svc.AddTeamMember(as(sw2), id, care.TeamMemberInput{Username: "nurse1", TeamRole: "nurse"}); err != nil {
			t.Errorf("key worker adds a nurse: %v", err)
		}
		if err := svc.RemoveTeamMember(as(psy2), id, "nurse1"); kind(err) != care.NotFound {
			t.Errorf("psy2 (not key worker, outside) removes: %v, want refused", err)
		}
		// At most one key worker: naming another moves the part.
		team, err = svc.Team(as(manager), id)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := svc.PatientRecord(as(manager), id)
		if err != nil || rec.KeyWorker != "Social Worker Liu" {
			t.Errorf("record's key worker = %q, %v", rec.KeyWorker, err)
		}
		if err := svc.RemoveTeamMember(as(manager), id, "nurse1"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddTeamMember(as(manager), id, care.TeamMemberInput{Username: "nurse1", TeamRole: "key_worker"}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM care_team_members WHERE patient_id = ? AND key_worker = ?`, id, true); n != 1 {
			t.Errorf("%d key workers, want 1", n)
		}
		// "My patients".
		mine, _, err := svc.MyPatients(as(psy2), care.Page{})
		if err != nil || len(mine) != 1 || mine[0].PatientID != id {
			t.Errorf("psy2's patients = %+v, %v", mine, err)
		}
		// Removal revokes at once.
		if err := svc.RemoveTeamMember(as(manager), id, "psy2"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Patient(as(psy2), id); kind(err) != care.NotFound {
			t.Errorf("psy2 reads after removal: %v", err)
		}
		if e := lastAudit(t, db); e.Actor != "psy2" || e.Outcome != "denied" {
			t.Errorf("last audit = %+v, want psy2 denied", e)
		}
		if mine, _, _ := svc.MyPatients(as(psy2), care.Page{}); len(mine) != 0 {
			t.Errorf("psy2's patients after removal = %+v", mine)
		}
		// History: who, when, what.
		team, _ = svc.Team(as(manager), id)
		if len(team.History) != 7 || team.History[0].Change != "removed" || team.History[0].ActorName != "Manager Wang" {
			t.Errorf("history = %+v", team.History)
		}
	})
}

// TestCareTeamBadInput: unknown usernames, roles that see no records,
// unknown team roles and who may change the team.
func TestCareTeamBadInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		psy2, _ := teamAccounts(t, svc)
		clock(svc, "2025-03-01")
		id := register(t, svc, manager, care.PatientInput{Name: "Li Lei"}).ID
		for _, tt := range []struct {
			name  string
			in    care.TeamMemberInput
			field string
		}{
			{"unknown user", care.TeamMemberInput{Username: "nobody", TeamRole: "nurse"}, "username"},
			{"administrator", care.TeamMemberInput{Username: "da1", TeamRole: "nurse"}, "username"},
			{"bad team role", care.TeamMemberInput{Username: "nurse1", TeamRole: "boss"}, "team_role"},
		} {
			if _, err := svc.AddTeamMember(as(manager), id, tt.in); kind(err) != care.Invalid || fieldOf(err) != tt.field {
				t.Errorf("%s: %v, want 422 on %s", tt.name, err, tt.field)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM care_team_members`); n != 0 {
			t.Errorf("%d members after refused adds", n)
		}
		if _, err := svc.AddTeamMember(as(manager), id, care.TeamMemberInput{Username: "nurse1", TeamRole: "nurse"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddTeamMember(as(manager), id, care.TeamMemberInput{Username: "nurse1", TeamRole: "nurse"}); kind(err) != care.Conflict {
			t.Errorf("twice: %v, want conflict", err)
		}
		// A nurse of the community who is not key worker may not change the team; nor an outsider.
		nurse := &care.Actor{Username: "nurse1", Role: auth.Nurse, UnitCode: "C1", UnitPath: "/D1/S1/C1/"}
		if _, err := svc.AddTeamMember(as(nurse), id, care.TeamMemberInput{Username: "sw2", TeamRole: "social_worker"}); kind(err) != care.NotFound {
			t.Errorf("nurse adds: %v", err)
		}
		if _, err := svc.AddTeamMember(as(psy2), id, care.TeamMemberInput{Username: "psy2", TeamRole: "psychiatrist"}); kind(err) != care.NotFound {
			t.Errorf("outsider adds themself: %v", err)
		}
		if err := svc.RemoveTeamMember(as(manager), id, "sw2"); kind(err) != care.NotFound {
			t.Errorf("remove non-member: %v", err)
		}
		// Contacts.
		if _, err := svc.AddTeamContact(as(manager), id, care.TeamContactInput{Kind: "partner", Name: "Ms Sun"}); fieldOf(err) != "organisation" {
			t.Errorf("partner without organisation: %v", err)
		}
		c, err := svc.AddTeamContact(as(manager), id, care.TeamContactInput{Kind: "volunteer", Name: "Mr Zhou", Phone: "13800000000"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.RemoveTeamContact(as(manager), id, c.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM care_team_history WHERE patient_id = ? AND change LIKE 'contact_%'`, id); n != 2 {
			t.Errorf("%d contact changes in history, want 2", n)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action LIKE 'team.%' AND subject_id = ?`, strconv.FormatInt(id, 10)); n < 5 {
			t.Errorf("%d team audit entries", n)
		}
	})
}

// TestMyWork: the home page's care-team work is one read, audited once.
func TestMyWork(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		psy2, _ := teamAccounts(t, svc)
		clock(svc, "2025-03-01")
		id := register(t, svc, manager, care.PatientInput{Name: "Li Lei"}).ID
		if _, err := svc.AddTeamMember(as(manager), id, care.TeamMemberInput{Username: "psy2", TeamRole: "psychiatrist"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreatePlan(as(manager), id, planInput("2025-02-01", "psy2")); err != nil {
			t.Fatal(err)
		}
		before := count(t, db, `SELECT count(*) FROM audit_log`)
		w, err := svc.MyWork(as(psy2))
		if err != nil || len(w.Patients) != 1 || len(w.Interventions) != 1 || len(w.Decisions) != 0 {
			t.Fatalf("my work = %+v, %v", w, err)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log`) - before; n != 1 {
			t.Errorf("%d audit entries, want 1", n)
		}
	})
}
