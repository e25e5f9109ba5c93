package care_test

import (
	"testing"

	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestCaseConference: a conference with staff and an outside participant
// discusses two patients; each decision reaches its owner's home page
// until marked done, and each record shows only its own part (issue 11,
// item 5).
func TestCaseConference(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		psy2, _ := teamAccounts(t, svc)
		clock(svc, "2025-03-01")
		a := register(t, svc, manager, care.PatientInput{Name: "Li Lei"}).ID
		b := register(t, svc, manager, care.PatientInput{Name: "Han Mei"}).ID
		in := care.ConferenceInput{Date: "2025-02-20", OrgUnit: "C1",
			Participants: []care.ConferenceParticipant{{Username: "mgr"}, {Username: "psy2"}, {Name: "Ms Sun", Organisation: "Disabled Persons' Federation"}},
			Patients: []care.ConferencePatient{
				{PatientID: a, Summary: "relapse risk after job loss", Decisions: []care.Decision{{Text: "refer to vocational training", Owner: "psy2", DueOn: "2025-03-15"}}},
				{PatientID: b, Summary: "stable", Decisions: []care.Decision{{Text: "home visit", Owner: "nurse1", DueOn: "2025-03-05"}}},
			}}
		// Bad input: an unknown owner, a due date before the conference, a
		// patient of another community; nothing stored.
		bad := in
		bad.Patients = []care.ConferencePatient{{PatientID: a, Summary: "x", Decisions: []care.Decision{{Text: "y", Owner: "ghost", DueOn: "2025-03-01"}}}}
		if _, err := svc.RecordConference(as(manager), bad); fieldOf(err) != "patients[0].decisions[0].owner" {
			t.Errorf("unknown owner: %v", err)
		}
		bad.Patients[0].Decisions[0] = care.Decision{Text: "y", Owner: "nurse1", DueOn: "2025-02-01"}
		if _, err := svc.RecordConference(as(manager), bad); fieldOf(err) != "patients[0].decisions[0].due_on" {
			t.Errorf("due before: %v", err)
		}
		if _, err := svc.RecordConference(as(manager2), in); kind(err) != care.Invalid {
			t.Errorf("other community: %v", err)
		}
		if n := count(t, db, `SELECT count(*) FROM case_conferences`); n != 0 {
			t.Fatalf("%d conferences after refusals", n)
		}
		c, err := svc.RecordConference(as(manager), in)
		if err != nil || len(c.Participants) != 3 || c.Participants[1].Name != "Dr Zhao" || len(c.Patients) != 2 {
			t.Fatalf("conference = %+v, %v", c, err)
		}
		// Decisions reach their owners, even one outside the jurisdiction.
		ds, err := svc.MyDecisions(as(psy2))
		if err != nil || len(ds) != 1 || ds[0].Text != "refer to vocational training" || ds[0].PatientName != "Li Lei" {
			t.Fatalf("psy2's decisions = %+v, %v", ds, err)
		}
		if err := svc.CompleteDecision(as(manager), ds[0].ID); kind(err) != care.NotFound {
			t.Errorf("someone else completes: %v", err)
		}
		if err := svc.CompleteDecision(as(psy2), ds[0].ID); err != nil {
			t.Fatal(err)
		}
		if ds, _ := svc.MyDecisions(as(psy2)); len(ds) != 0 {
			t.Errorf("after done: %+v", ds)
		}
		// A record shows its own part only.
		list, err := svc.PatientConferences(as(manager), a)
		if err != nil || len(list) != 1 || len(list[0].Patients) != 1 || list[0].Patients[0].PatientID != a || !list[0].Patients[0].Decisions[0].Done {
			t.Errorf("conferences of a = %+v, %v", list, err)
		}
		tl, _ := svc.Timeline(as(manager), b)
		found := false
		for _, it := range tl {
			if it.Kind == "conference" && it.Conference != nil && it.Conference.Patients[0].Summary == "stable" && len(it.Conference.Patients) == 1 {
				found = true
			}
		}
		if !found {
			t.Errorf("timeline of b lacks the conference: %+v", tl)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'conference.patient'`); n != 2 {
			t.Errorf("%d per-patient audit entries, want 2", n)
		}
	})
}
