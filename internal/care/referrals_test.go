package care_test

import (
	"testing"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/kpi"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

var hospitalPsy = &care.Actor{Username: "hpsy", Role: auth.Psychiatrist, UnitCode: "H1", UnitPath: "/D1/H1/"}

// hospital adds the institution H1 under D1 to tree's units.
func hospital(t *testing.T, svc *care.Service) {
	t.Helper()
	if _, err := svc.CreateUnit(as(adminActor), care.UnitInput{Code: "H1", Name: "District Mental Health Hospital",
		Level: "institution", ParentCode: "D1"}); err != nil {
		t.Fatal(err)
	}
}

func TestInstitutions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		hospital(t, svc)
		if u, err := svc.Unit(as(adminActor), "H1"); err != nil || u.Level != care.Institution || u.Path != "/D1/H1/" {
			t.Fatalf("H1 = %+v, %v", u, err)
		}
		if _, err := svc.CreateUnit(as(adminActor), care.UnitInput{Code: "H2", Name: "x", Level: "institution", ParentCode: "H1"}); fieldOf(err) != "parent_code" {
			t.Errorf("institution under an institution: %v", err)
		}
		if _, err := svc.CreateUnit(as(adminActor), care.UnitInput{Code: "C9", Name: "x", Level: "community", ParentCode: "H1"}); fieldOf(err) != "parent_code" {
			t.Errorf("community under an institution: %v", err)
		}
		// No residents: a patient cannot be registered at an institution.
		if _, err := svc.RegisterPatient(as(hospitalPsy), care.PatientInput{Name: "X", Sex: "male", BirthDate: "1980-01-01",
			OrgUnit: "H1"}); fieldOf(err) != "org_unit" {
			t.Errorf("patient at an institution: %v", err)
		}
	})
}

// TestReferralUpAndDown is the journey through the service: a
// community manager refers a patient up; the hospital reads the record
// through the grant, accepts and completes; the patient is discharged back
// down and is due within 14 days (R-DISCHARGE).
func TestReferralUpAndDown(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		clock(svc, "2025-06-30")
		tree(t, svc)
		hospital(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "Qian Hao", Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}})
		other := register(t, svc, manager, care.PatientInput{Name: "Not Referred"})
		if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-06-20", 2)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Patient(as(hospitalPsy), p.ID); kind(err) != care.NotFound {
			t.Fatalf("the hospital reads a record not referred to it: %v", err)
		}

		bad := []struct {
			name  string
			in    care.ReferralInput
			field string
		}{
			{"no urgency", care.ReferralInput{PatientID: p.ID, Direction: "up", ToUnit: "H1", Reason: "x"}, "urgency"},
			{"no reason", care.ReferralInput{PatientID: p.ID, Direction: "up", ToUnit: "H1", Urgency: "urgent"}, "reason"},
			{"to a community", care.ReferralInput{PatientID: p.ID, Direction: "up", ToUnit: "C2", Urgency: "urgent", Reason: "x"}, "to_unit"},
			{"no direction", care.ReferralInput{PatientID: p.ID, ToUnit: "H1", Urgency: "urgent", Reason: "x"}, "direction"},
		}
		for _, tt := range bad {
			if _, err := svc.CreateReferral(as(manager), tt.in); kind(err) != care.Invalid || fieldOf(err) != tt.field {
				t.Errorf("%s: %v, want invalid %s", tt.name, err, tt.field)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM referrals`); n != 0 {
			t.Fatalf("%d referrals after refused requests", n)
		}
		if _, err := svc.CreateReferral(as(manager2), care.ReferralInput{PatientID: p.ID, Direction: "up", ToUnit: "H1",
			Urgency: "urgent", Reason: "x"}); kind(err) != care.NotFound {
			t.Errorf("another community refers the patient: %v", err)
		}

		before := time.Now()
		r, err := svc.CreateReferral(as(manager), care.ReferralInput{PatientID: p.ID, Direction: "up", ToUnit: "H1",
			Urgency: "urgent", Reason: "relapse, refuses medication"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != care.RefRequested || r.DueBy.Sub(r.RequestedAt) != 24*time.Hour || r.RequestedAt.Before(before.Add(-time.Second)) {
			t.Errorf("referral = %+v", r)
		}
		if r.Summary == nil || len(r.Summary.Diagnoses) != 1 || len(r.Summary.Medications) != 1 || r.Summary.RiskLevel == nil ||
			*r.Summary.RiskLevel != 2 || len(r.Summary.FollowUps) != 1 {
			t.Errorf("summary = %+v", r.Summary)
		}
		if _, err := svc.CreateReferral(as(manager), care.ReferralInput{PatientID: p.ID, Direction: "up", ToUnit: "H1",
			Urgency: "routine", Reason: "again"}); kind(err) != care.Conflict {
			t.Errorf("a second open referral to the same hospital: %v", err)
		}

		// The record travels: the hospital reads this record, audited, with
		// the grant named; nothing else of the community.
		rec, err := svc.PatientRecord(as(hospitalPsy), p.ID)
		if err != nil || rec.Patient.Name != "Qian Hao" || len(rec.Patient.Diagnoses) != 1 {
			t.Fatalf("the hospital reads the referred record: %+v %v", rec, err)
		}
		var detail string
		if err := db.QueryRow(t.Context(), `SELECT detail FROM audit_log WHERE actor = 'hpsy' AND action = 'patient.read' ORDER BY seq DESC LIMIT 1`).Scan(&detail); err != nil || detail != care.ReferredDetail {
			t.Errorf("audit detail of the read %q %v", detail, err)
		}
		if _, err := svc.Patient(as(hospitalPsy), other.ID); kind(err) != care.NotFound {
			t.Errorf("the hospital reads another patient of the community: %v", err)
		}
		if _, err := svc.RecordFollowUp(as(hospitalPsy), p.ID, form("2025-06-29", 0)); kind(err) != care.NotFound {
			t.Errorf("the grant writes: %v", err)
		}
		if list, _, err := svc.Worklist(as(hospitalPsy), care.WorklistQuery{Kind: "overdue"}, care.Page{}); err != nil || len(list) != 0 {
			t.Errorf("the hospital's worklist: %d %v", len(list), err)
		}
		inbox, _, err := svc.Referrals(as(hospitalPsy), care.ReferralQuery{Box: "received", Status: "requested"}, care.Page{})
		if err != nil || len(inbox) != 1 || inbox[0].ID != r.ID || !inbox[0].Received || inbox[0].Sent {
			t.Errorf("hospital inbox %+v %v", inbox, err)
		}
		sent, _, err := svc.Referrals(as(manager), care.ReferralQuery{Direction: "up"}, care.Page{})
		if err != nil || len(sent) != 1 || !sent[0].Sent {
			t.Errorf("manager's referrals %+v %v", sent, err)
		}
		if list, _, _ := svc.Referrals(as(manager2), care.ReferralQuery{}, care.Page{}); len(list) != 0 {
			t.Errorf("another community lists %d referrals", len(list))
		}
		if _, err := svc.Referral(as(manager2), r.ID); kind(err) != care.NotFound {
			t.Errorf("another community reads the referral: %v", err)
		}

		// The status machine.
		patch := func(a *care.Actor, in care.ReferralPatch) error {
			_, err := svc.UpdateReferral(as(a), r.ID, in)
			return err
		}
		if err := patch(hospitalPsy, care.ReferralPatch{Status: "declined"}); kind(err) != care.Invalid || fieldOf(err) != "note" {
			t.Errorf("declined without a note: %v", err)
		}
		if err := patch(hospitalPsy, care.ReferralPatch{Status: "completed", Outcome: "admitted"}); kind(err) != care.Conflict {
			t.Errorf("requested → completed: %v", err)
		}
		if err := patch(manager, care.ReferralPatch{Status: "accepted"}); kind(err) != care.Forbidden {
			t.Errorf("the sender accepts: %v", err)
		}
		if err := patch(hospitalPsy, care.ReferralPatch{Status: "accepted"}); err != nil {
			t.Fatal(err)
		}
		if err := patch(manager, care.ReferralPatch{Status: "cancelled"}); kind(err) != care.Conflict {
			t.Errorf("cancelled after acceptance: %v", err)
		}
		if err := patch(hospitalPsy, care.ReferralPatch{Status: "completed"}); fieldOf(err) != "outcome" {
			t.Errorf("completed without an outcome: %v", err)
		}
		if err := patch(hospitalPsy, care.ReferralPatch{Status: "completed", Outcome: "admitted"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.Patient(as(manager), p.ID); got.Status != "hospitalised" {
			t.Errorf("admitted: status %s", got.Status)
		}
		if err := patch(hospitalPsy, care.ReferralPatch{Status: "accepted"}); kind(err) != care.Conflict {
			t.Errorf("completed → accepted: %v", err)
		}

		// Referral down: the discharge lands with the community (R-DISCHARGE).
		down := care.ReferralInput{PatientID: p.ID, Direction: "down", ToUnit: "C1", DischargedOn: "2025-06-28",
			Diagnoses: []care.Diagnosis{{Code: "F20.0"}}, Medications: []care.Medication{{Name: "olanzapine", Dose: "10 mg", Frequency: "nightly"}},
			RiskLevel: ptr(1), Recommendations: "follow up weekly for a month"}
		bad2 := down
		bad2.RiskLevel = nil
		if _, err := svc.CreateReferral(as(hospitalPsy), bad2); fieldOf(err) != "risk_level" {
			t.Errorf("discharge without risk: %v", err)
		}
		if _, err := svc.CreateReferral(as(manager2), down); kind(err) != care.NotFound {
			t.Errorf("another community discharges: %v", err)
		}
		d, err := svc.CreateReferral(as(hospitalPsy), down)
		if err != nil || d.Direction != "down" || d.Discharge == nil || d.Discharge.Recommendations == "" {
			t.Fatalf("discharge = %+v %v", d, err)
		}
		got, _ := svc.Patient(as(manager), p.ID)
		if got.Status != "managed" || got.NextDueOn > "2025-07-12" || got.NextDueRule != string(clinical.RuleDischarge) {
			t.Errorf("R-DISCHARGE: status %s due %s by %s, want managed ≤ 2025-07-12 by R-DISCHARGE", got.Status, got.NextDueOn, got.NextDueRule)
		}
		if list, _, _ := svc.Worklist(as(manager), care.WorklistQuery{Kind: "discharge"}, care.Page{}); len(list) != 1 || list[0].PatientID != p.ID {
			t.Errorf("discharge worklist %+v", list)
		}
		if c, _ := svc.ReferralCounts(as(manager)); c.Discharges != 1 {
			t.Errorf("counts %+v", c)
		}
		if _, err := svc.UpdateReferral(as(manager), d.ID, care.ReferralPatch{Status: "accepted"}); err != nil {
			t.Errorf("the community acknowledges the discharge: %v", err)
		}

		// The grant ends by itself 30 days after the referral closed.
		if _, err := svc.Patient(as(hospitalPsy), p.ID); err != nil {
			t.Errorf("read within 30 days of closing: %v", err)
		}
		if _, err := db.Exec(t.Context(), `UPDATE referrals SET closed_at = ? WHERE id = ?`,
			store.FormatTime(time.Now().AddDate(0, 0, -31)), r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Patient(as(hospitalPsy), p.ID); kind(err) != care.NotFound {
			t.Errorf("read 31 days after closing: %v", err)
		}
	})
}

// TestReferralDeclinedAndLate: a declined referral and one past its target
// alert the sender's community (R-ALERT-REFERRAL); the sender may cancel
// before acceptance.
func TestReferralDeclinedAndLate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		clock(svc, "2025-06-30")
		tree(t, svc)
		hospital(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "Sun Yue"})
		refer := func(urgency string) *care.HospitalReferral {
			r, err := svc.CreateReferral(as(manager), care.ReferralInput{PatientID: p.ID, Direction: "up", ToUnit: "H1",
				Urgency: urgency, Reason: "assessment"})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		r := refer("emergency")
		if r.DueBy.Sub(r.RequestedAt) != 2*time.Hour {
			t.Errorf("emergency target %v", r.DueBy.Sub(r.RequestedAt))
		}
		if _, err := svc.UpdateReferral(as(hospitalPsy), r.ID, care.ReferralPatch{Status: "declined", Note: "no bed; try the general hospital"}); err != nil {
			t.Fatal(err)
		}
		alerts, _, _ := svc.Alerts(as(manager), care.AlertQuery{}, care.Page{})
		if len(alerts) != 1 || alerts[0].Kind != care.AlertReferralDeclined || alerts[0].ReferralID == nil || *alerts[0].ReferralID != r.ID {
			t.Errorf("R-ALERT-REFERRAL declined: %+v", alerts)
		}
		r2 := refer("routine")
		if _, err := svc.UpdateReferral(as(manager2), r2.ID, care.ReferralPatch{Status: "cancelled"}); kind(err) != care.NotFound {
			t.Errorf("another community cancels: %v", err)
		}
		if _, err := svc.UpdateReferral(as(manager), r2.ID, care.ReferralPatch{Status: "cancelled"}); err != nil {
			t.Errorf("the sender cancels: %v", err)
		}
		r3 := refer("urgent")
		if _, err := db.Exec(t.Context(), `UPDATE referrals SET due_by = ? WHERE id = ?`, store.FormatTime(time.Now().Add(-time.Minute)), r3.ID); err != nil {
			t.Fatal(err)
		}
		if c, _ := svc.ReferralCounts(as(hospitalPsy)); c.Received != 1 || c.PastTarget != 1 {
			t.Errorf("hospital counts %+v", c)
		}
		late, _, err := svc.Referrals(as(hospitalPsy), care.ReferralQuery{PastTarget: true}, care.Page{})
		if err != nil || len(late) != 1 || !late[0].PastTarget {
			t.Errorf("past target %+v %v", late, err)
		}
		if n, err := svc.SweepAlerts(t.Context()); err != nil || n != 1 {
			t.Errorf("R-ALERT-REFERRAL overdue: sweep raised %d %v", n, err)
		}
		if n, _ := svc.SweepAlerts(t.Context()); n != 0 {
			t.Errorf("raised again: %d", n)
		}
	})
}

func TestReferralTargets(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		if err := svc.SetReferralTargets("emergency=1h, routine=48h"); err != nil {
			t.Fatal(err)
		}
		m := svc.ReferralTargets()
		if m["emergency"] != time.Hour || m["urgent"] != 24*time.Hour || m["routine"] != 48*time.Hour {
			t.Errorf("targets %v", m)
		}
		for _, bad := range []string{"soon=1h", "urgent", "urgent=-1h", "urgent=x"} {
			if err := svc.SetReferralTargets(bad); err == nil {
				t.Errorf("%q accepted", bad)
			}
		}
	})
}

// TestReferralFigures checks the response-time figure (R-KPI) in SQL: the
// median and 90th percentile by nearest rank, and the share answered within
// target of those requested, with the crisis count beside them.
func TestReferralFigures(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		hospital(t, svc)
		var refs []int64
		for i := range 5 {
			p := register(t, svc, manager, care.PatientInput{Name: "P" + string(rune('A'+i))})
			r, err := svc.CreateReferral(as(manager), care.ReferralInput{PatientID: p.ID, Direction: "up", ToUnit: "H1",
				Urgency: "urgent", Reason: "x"})
			if err != nil {
				t.Fatal(err)
			}
			refs = append(refs, r.ID)
		}
		// Four answered after 1, 2, 3 and 30 hours (the last past the 24-hour
		// target); one not answered.
		for i, h := range []int{1, 2, 3, 30} {
			if _, err := svc.UpdateReferral(as(hospitalPsy), refs[i], care.ReferralPatch{Status: "accepted"}); err != nil {
				t.Fatal(err)
			}
			req := time.Now().Add(-time.Duration(h) * time.Hour)
			if _, err := db.Exec(t.Context(), `UPDATE referrals SET requested_at = ?, due_by = ?, response_seconds = ? WHERE id = ?`,
				store.FormatTime(req), store.FormatTime(req.Add(24*time.Hour)), h*3600, refs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.LogCrisis(as(manager), care.CrisisInput{OccurredAt: time.Now().Add(-time.Hour), ReportedBy: "hotline",
			Description: "caller", RiskLevel: ptr(1), Actions: []string{"phone_counselling"}, Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
		today := clinical.DateOf(time.Now().In(svc.Zone()))
		period := kpi.Period{From: today.AddDays(-3), To: today, Kind: "range"}
		for _, who := range []*care.Actor{psychiatrist, hospitalPsy} {
			f, err := svc.ReferralFigures(as(who), "", period)
			if err != nil {
				t.Fatal(err)
			}
			if f.Requested != 5 || f.Answered != 4 || f.MedianSeconds == nil || *f.MedianSeconds != 2*3600 || *f.P90Seconds != 30*3600 {
				t.Errorf("%s: R-KPI response time %+v", who.Username, f.ResponseFigures)
			}
			if f.WithinTarget.Numerator != 3 || f.WithinTarget.Denominator != 5 || *f.WithinTarget.Value != 60 {
				t.Errorf("%s: R-KPI answered within target %+v", who.Username, f.WithinTarget)
			}
		}
		if f, _ := svc.ReferralFigures(as(psychiatrist), "", period); f.CrisisEvents != 1 {
			t.Errorf("crisis count %d", f.CrisisEvents)
		}
		if f, err := svc.ReferralFigures(as(manager2), "", period); err != nil || f.Requested != 0 {
			t.Errorf("another community's figures %+v %v", f, err)
		}
		if _, err := svc.ReferralFigures(as(careMan), "", period); kind(err) != care.Forbidden {
			t.Errorf("the care group reads figures: %v", err)
		}
		drill, _, err := svc.Referrals(as(psychiatrist), care.ReferralQuery{Direction: "up", From: period.From.String(), To: period.To.String()}, care.Page{})
		if err != nil || len(drill) != 5 {
			t.Errorf("drill-down %d %v", len(drill), err)
		}
	})
}
