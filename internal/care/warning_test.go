package care_test

import (
	"testing"

	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestAlertDueMovesSchedule checks R-ALERT-DUE end to end: a PHQ-9 with
// item 9 above 0 makes a stable patient due within 2 days and puts them on
// the worklist "alert"; a later reached follow-up answers the flag, and the
// due date is R-NEXT's again.
func TestAlertDueMovesSchedule(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		clock(svc, "2025-06-30")
		tree(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "Zhou Ping"})
		if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-06-01", 0)); err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.Patient(as(manager), p.ID); got.NextDueRule != string(clinical.RuleNextStable) {
			t.Fatalf("before the flag: due %s by %s", got.NextDueOn, got.NextDueRule)
		}
		onAlertList := func() bool {
			list, _, err := svc.Worklist(as(manager), care.WorklistQuery{Kind: "alert"}, care.Page{})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range list {
				if it.PatientID == p.ID {
					return true
				}
			}
			return false
		}
		if onAlertList() {
			t.Fatal("on the alert worklist before any flag")
		}
		if _, err := svc.Assess(as(manager), p.ID, care.AssessmentInput{Instrument: "phq9", Date: "2025-06-20", Answers: item9}); err != nil {
			t.Fatal(err)
		}
		got, _ := svc.Patient(as(manager), p.ID)
		if got.NextDueOn != "2025-06-22" || got.NextDueRule != string(clinical.RuleAlertDue) {
			t.Errorf("R-ALERT-DUE: after the flag due %s by %s, want 2025-06-22 R-ALERT-DUE", got.NextDueOn, got.NextDueRule)
		}
		if !onAlertList() {
			t.Error("R-ALERT-DUE: not on the alert worklist after the flag")
		}
		if c, err := svc.WorklistCounts(as(manager), ""); err != nil || c.Alert != 1 {
			t.Errorf("alert count %+v %v", c, err)
		}
		// Acknowledging the alert does not answer the flag: a follow-up does.
		open, _, _ := svc.Alerts(as(manager), care.AlertQuery{}, care.Page{})
		if len(open) != 1 || open[0].Kind != care.AlertFlag {
			t.Fatalf("open alerts %+v", open)
		}
		if _, err := svc.AcknowledgeAlert(as(manager), open[0].ID, care.AckInput{Action: "phoned the family"}); err != nil {
			t.Fatal(err)
		}
		if !onAlertList() {
			t.Error("R-ALERT-DUE: an acknowledged but unanswered flag left the alert worklist")
		}
		if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-06-21", 0)); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Patient(as(manager), p.ID)
		if got.NextDueRule == string(clinical.RuleAlertDue) || got.NextDueOn != "2025-09-21" {
			t.Errorf("R-ALERT-DUE: after the answering follow-up due %s by %s, want 2025-09-21 R-NEXT-STABLE", got.NextDueOn, got.NextDueRule)
		}
		if onAlertList() {
			t.Error("still on the alert worklist after the follow-up answered the flag")
		}

		// A follow-up with risk 3 raises a flag of its own: it cannot answer
		// itself, so the patient is due in 2 days, not R-NEXT-UNSTABLE's 14.
		if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-06-25", 3)); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Patient(as(manager), p.ID)
		if got.NextDueOn != "2025-06-27" || got.NextDueRule != string(clinical.RuleAlertDue) {
			t.Errorf("R-ALERT-DUE: risk 3 follow-up due %s by %s, want 2025-06-27", got.NextDueOn, got.NextDueRule)
		}
		// Risk rose from 0 to 3 (R-ALERT-RISE) beside the risk flag.
		kinds := map[string]int{}
		all, _, _ := svc.Alerts(as(psychiatrist), care.AlertQuery{}, care.Page{})
		for _, al := range all {
			kinds[al.Kind]++
		}
		if kinds[care.AlertRiskRise] != 1 || kinds[care.AlertFlag] != 1 {
			t.Errorf("R-ALERT-RISE: open alerts by kind %v", kinds)
		}
		for _, al := range all {
			if al.Kind == care.AlertRiskRise && al.Detail != "0 → 3" {
				t.Errorf("risk rise detail %q", al.Detail)
			}
		}
		// The manager of another community is not reached.
		if n, _ := svc.OpenAlertCount(as(manager2)); n != 0 {
			t.Errorf("another community's manager sees %d alerts", n)
		}
	})
}

// TestWarningKinds checks the alerts no assessment raises: medication
// stopped (R-ALERT-MED) and a high-risk patient overdue (R-ALERT-OVERDUE),
// raised once by the sweep.
func TestWarningKinds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		clock(svc, "2025-06-30")
		tree(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "Wu Lan"})
		if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-05-01", 3)); err != nil {
			t.Fatal(err)
		}
		stop := form("2025-05-02", 3)
		stop.MedicationAdherence = "none"
		if _, err := svc.RecordFollowUp(as(manager), p.ID, stop); err != nil {
			t.Fatal(err)
		}
		byKind := func() map[string]int {
			m := map[string]int{}
			all, _, err := svc.Alerts(as(manager), care.AlertQuery{State: "all"}, care.Page{})
			if err != nil {
				t.Fatal(err)
			}
			for _, al := range all {
				m[al.Kind]++
			}
			return m
		}
		if k := byKind(); k[care.AlertMedicationStop] != 1 || k[care.AlertRiskRise] != 0 {
			t.Errorf("R-ALERT-MED: alerts %v", k)
		}
		// Due by 2025-05-04 (R-ALERT-DUE) and not seen since: overdue on
		// 2025-06-30, at risk 3.
		n, err := svc.SweepAlerts(t.Context())
		if err != nil || n != 1 {
			t.Fatalf("R-ALERT-OVERDUE: sweep raised %d, %v", n, err)
		}
		if e := lastAudit(t, db); e.Actor != "system" || e.Action != "alert.raise" {
			t.Errorf("sweep audit entry %+v", e)
		}
		if n, _ := svc.SweepAlerts(t.Context()); n != 0 {
			t.Errorf("second sweep raised %d more", n)
		}
		if k := byKind(); k[care.AlertHighRiskOverdue] != 1 {
			t.Errorf("R-ALERT-OVERDUE: alerts %v", k)
		}
		// An acknowledged alert of a kind without an assessment shows on
		// the record's timeline like the others.
		open, _, _ := svc.Alerts(as(manager), care.AlertQuery{}, care.Page{})
		for _, al := range open {
			if al.Kind == care.AlertMedicationStop {
				if _, err := svc.AcknowledgeAlert(as(manager), al.ID, care.AckInput{Action: "visited; restarted risperidone"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		rec, err := svc.PatientRecord(as(manager), p.ID)
		found := false
		for _, it := range rec.Timeline {
			found = found || it.Kind == "alert" && it.Detail == "visited; restarted risperidone"
		}
		if err != nil || !found {
			t.Errorf("record after acknowledging a medication alert: %v, found %v", err, found)
		}
	})
}
