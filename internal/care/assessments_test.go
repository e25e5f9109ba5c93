package care_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"testing/fstest"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical/instrument"
	"kith/internal/kpi"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

var (
	psychiatrist = &care.Actor{Username: "psy", Role: auth.Psychiatrist, UnitCode: "D1", UnitPath: "/D1/"}
	therapist    = &care.Actor{Username: "ther", Role: auth.Psychotherapist, UnitCode: "D1", UnitPath: "/D1/"}
	nurseS1      = &care.Actor{Username: "nurse", Role: auth.Nurse, UnitCode: "S1", UnitPath: "/D1/S1/"}
	districtAdm  = &care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"}
)

// phq9 answers with a total of 1 from item 9 alone (R-SCORE-PHQ9-ITEM9).
var item9 = []int{0, 0, 0, 0, 0, 0, 0, 0, 1}

func TestAssess(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		clock(svc, "2025-06-30")
		tree(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "Wu Lan"})

		// R-SCORE: the engine scores; the flag raises an alert.
		as1, err := svc.Assess(as(social), p.ID, care.AssessmentInput{Instrument: "phq9", Date: "2025-06-01", Answers: item9})
		if err != nil {
			t.Fatal(err)
		}
		if as1.Score != 1 || as1.Band != "minimal" || !slices.Equal(as1.Flags, []string{"suicide_risk"}) || as1.AlertID == nil {
			t.Fatalf("PHQ-9 item 9 = 1: got score %d band %s flags %v alert %v", as1.Score, as1.Band, as1.Flags, as1.AlertID)
		}
		if _, err := svc.Assess(as(therapist), p.ID, care.AssessmentInput{Instrument: "gad7", Date: "2025-06-02",
			Answers: []int{3, 3, 3, 3, 3, 0, 0}}); err != nil {
			t.Fatal(err)
		}

		// Bad input: the item is named and nothing is written.
		before := count(t, db, `SELECT COUNT(*) FROM assessments`)
		for _, c := range []struct {
			in    care.AssessmentInput
			field string
		}{
			{care.AssessmentInput{Instrument: "phq9", Date: "2025-06-01", Answers: []int{0, 0}}, "answers"},
			{care.AssessmentInput{Instrument: "phq9", Date: "2025-06-01", Answers: []int{0, 0, 0, 4, 0, 0, 0, 0, 0}}, "answers[3]"},
			{care.AssessmentInput{Instrument: "k10", Date: "2025-06-01", Answers: []int{0, 1, 1, 1, 1, 1, 1, 1, 1, 1}}, "answers[0]"},
			{care.AssessmentInput{Instrument: "bdi", Date: "2025-06-01", Answers: item9}, "instrument"},
			{care.AssessmentInput{Instrument: "phq9", Date: "2025-07-01", Answers: item9}, "date"},
		} {
			_, err := svc.Assess(as(manager), p.ID, c.in)
			if kind(err) != care.Invalid || fieldOf(err) != c.field {
				t.Errorf("%+v: got %v on %q, want Invalid on %q", c.in, err, fieldOf(err), c.field)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM assessments`); n != before {
			t.Errorf("bad input left %d assessments behind", n-before)
		}

		// The care-and-help group neither administers nor reads them.
		if _, err := svc.Assess(as(careMan), p.ID, care.AssessmentInput{Instrument: "phq9", Date: "2025-06-01", Answers: item9}); err == nil {
			t.Error("the care-and-help group administered an assessment")
		}
		if _, _, err := svc.Assessments(as(careMan), p.ID, care.AssessmentQuery{}, care.Page{}); kind(err) != care.Forbidden {
			t.Errorf("care group read assessments: %v", err)
		}
		rec, err := svc.PatientRecord(as(careMan), p.ID)
		if err != nil || len(rec.Assessments) != 0 {
			t.Errorf("care group record shows %d assessments (%v)", len(rec.Assessments), err)
		}

		// The follow-up's risk level is a risk assessment (R-RISK); 3 or
		// more raises an alert, and its correction does not raise another.
		fu, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-06-10", 3))
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM alerts WHERE patient_id = ?`, p.ID); n != 2 {
			t.Errorf("%d alerts after a risk-3 follow-up, want 2", n)
		}
		if _, err := svc.CorrectFollowUp(as(manager), p.ID, fu.ID, form("2025-06-10", 4)); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM alerts WHERE patient_id = ?`, p.ID); n != 2 {
			t.Errorf("%d alerts after correcting the follow-up, want still 2", n)
		}
		risk, _, err := svc.Assessments(as(manager), p.ID, care.AssessmentQuery{Instrument: "risk"}, care.Page{})
		if err != nil || len(risk) != 1 || risk[0].Score != 4 || risk[0].FollowUpID == nil {
			t.Fatalf("risk assessments after a correction: %+v, %v; want the corrected one only (level 4)", risk, err)
		}

		// The record's summary has the latest of each instrument.
		if _, err := svc.Assess(as(manager), p.ID, care.AssessmentInput{Instrument: "phq9", Date: "2025-06-20",
			Answers: []int{2, 2, 2, 2, 2, 2, 2, 2, 0}}); err != nil {
			t.Fatal(err)
		}
		rec, err = svc.PatientRecord(as(manager), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		latest := map[string]int{}
		for _, a := range rec.Assessments {
			latest[a.Instrument] = a.Score
		}
		if want := map[string]int{"phq9": 16, "gad7": 15, "risk": 4}; !mapsEqual(latest, want) {
			t.Errorf("latest scores %v, want %v", latest, want)
		}
		if rec.OpenAlerts != 2 {
			t.Errorf("record shows %d open alerts, want 2", rec.OpenAlerts)
		}

		// History of one instrument, newest first, a page at a time.
		page1, next, err := svc.Assessments(as(manager), p.ID, care.AssessmentQuery{Instrument: "phq9"}, care.Page{Limit: 1})
		if err != nil || len(page1) != 1 || page1[0].Date != "2025-06-20" || next == "" {
			t.Fatalf("page 1: %+v %q %v", page1, next, err)
		}
		page2, next, err := svc.Assessments(as(manager), p.ID, care.AssessmentQuery{Instrument: "phq9"}, care.Page{Limit: 1, Token: next})
		if err != nil || len(page2) != 1 || page2[0].Date != "2025-06-01" || next != "" {
			t.Fatalf("page 2: %+v %q %v", page2, next, err)
		}
	})
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestAlertsReach checks that an alert reaches the community manager of the
// patient's community and the district's psychiatrists, and no one else.
func TestAlertsReach(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		clock(svc, "2025-06-30")
		tree(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "Sun Qi"})
		k10 := []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 3} // 30: very high (R-SCORE-K10)
		a1, err := svc.Assess(as(manager), p.ID, care.AssessmentInput{Instrument: "k10", Date: "2025-06-01", Answers: k10})
		if err != nil || a1.AlertID == nil {
			t.Fatalf("K10 of 30 raised no alert: %v", err)
		}
		for _, c := range []struct {
			who  *care.Actor
			sees bool
		}{
			{manager, true}, {psychiatrist, true},
			{manager2, false}, {nurseS1, false}, {therapist, false}, {social, false}, {careMan, false}, {districtAdm, false},
		} {
			list, _, err := svc.Alerts(as(c.who), care.AlertQuery{}, care.Page{})
			n, _ := svc.OpenAlertCount(as(c.who))
			got := err == nil && len(list) == 1 && list[0].PatientName == "Sun Qi"
			if got != c.sees || (n == 1) != c.sees {
				t.Errorf("%s (%s): sees=%v (list %d, count %d, err %v), want %v", c.who.Username, c.who.Role, got, len(list), n, err, c.sees)
			}
		}

		// Acknowledging asks what was done, once, and is audited.
		if _, err := svc.AcknowledgeAlert(as(manager2), *a1.AlertID, care.AckInput{Action: "x"}); kind(err) != care.NotFound {
			t.Errorf("manager of another community acknowledged: %v", err)
		}
		if _, err := svc.AcknowledgeAlert(as(manager), *a1.AlertID, care.AckInput{Action: "  "}); fieldOf(err) != "action" {
			t.Errorf("acknowledged without saying what was done: %v", err)
		}
		al, err := svc.AcknowledgeAlert(as(psychiatrist), *a1.AlertID, care.AckInput{Action: "Phoned; home visit tomorrow with the nurse"})
		if err != nil || !al.Acknowledged || al.AcknowledgedBy != "psy" {
			t.Fatalf("acknowledge: %+v %v", al, err)
		}
		if e := lastAudit(t, db); e.Action != "alert.acknowledge" || e.Actor != "psy" {
			t.Errorf("last audit entry %+v", e)
		}
		if _, err := svc.AcknowledgeAlert(as(manager), *a1.AlertID, care.AckInput{Action: "again"}); kind(err) != care.Conflict {
			t.Errorf("second acknowledgement: %v", err)
		}
		if list, _, _ := svc.Alerts(as(manager), care.AlertQuery{}, care.Page{}); len(list) != 0 {
			t.Errorf("%d open alerts after acknowledgement", len(list))
		}
		done, _, err := svc.Alerts(as(manager), care.AlertQuery{State: "acknowledged"}, care.Page{})
		if err != nil || len(done) != 1 || done[0].Action == "" {
			t.Errorf("acknowledged alerts: %+v %v", done, err)
		}

		// The record's timeline shows the assessment and what was done
		// about its alert; the care-and-help group sees neither.
		kinds := func(a *care.Actor) map[string]string {
			rec, err := svc.PatientRecord(as(a), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			for _, it := range rec.Timeline {
				if it.Assessment != nil {
					m[it.Kind] = it.Assessment.Instrument + " " + it.Detail
				}
			}
			return m
		}
		if got := kinds(manager); got["assessment"] != "k10 " || got["alert"] != "k10 Phoned; home visit tomorrow with the nurse" {
			t.Errorf("timeline events %v", got)
		}
		if got := kinds(careMan); len(got) != 0 {
			t.Errorf("care group's timeline shows %v", got)
		}
	})
}

// TestInstrumentVersions: a stored response still reads with its own
// version after a new version of the instrument is added (R-SCORE).
func TestInstrumentVersions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		clock(svc, "2025-06-30")
		tree(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "Ma Jun"})
		answers := []int{3, 2, 1, 0, 0, 0, 0, 0, 1}
		if _, err := svc.Assess(as(manager), p.ID, care.AssessmentInput{Instrument: "phq9", Date: "2025-06-01", Answers: answers}); err != nil {
			t.Fatal(err)
		}

		// Version 2 asks the same items in reverse order.
		v1, err := os.ReadFile("../clinical/instrument/defs/phq9.v1.json")
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(v1, &d); err != nil {
			t.Fatal(err)
		}
		d["version"] = 2
		items := d["items"].([]any)
		slices.Reverse(items)
		v2, _ := json.Marshal(d)
		cat, err := instrument.Load(fstest.MapFS{"phq9.v1.json": {Data: v1}, "phq9.v2.json": {Data: v2}})
		if err != nil {
			t.Fatal(err)
		}
		svc.SetInstruments(cat)

		got, _, err := svc.Assessments(as(manager), p.ID, care.AssessmentQuery{Instrument: "phq9"}, care.Page{})
		if err != nil || len(got) != 1 {
			t.Fatalf("%v %v", got, err)
		}
		if g := got[0]; g.Version != 1 || !slices.Equal(g.Answers, answers) || g.Score != 7 || g.Band != "mild" ||
			!slices.Equal(g.Flags, []string{"suicide_risk"}) {
			t.Errorf("v1 response read after v2 exists: %+v", g)
		}
		// New responses take the new version and its order.
		rev := slices.Clone(answers)
		slices.Reverse(rev)
		a2, err := svc.Assess(as(manager), p.ID, care.AssessmentInput{Instrument: "phq9", Date: "2025-06-02", Answers: rev})
		if err != nil || a2.Version != 2 || a2.Score != 7 || !slices.Equal(a2.Flags, []string{"suicide_risk"}) {
			t.Errorf("v2 response: %+v %v", a2, err)
		}
	})
}

// TestScreeningsAndContacts: an anonymous screening keeps only the
// instrument, answers, score, week and community; a contact request lands
// on the community's list; the figures count screenings by band.
func TestScreeningsAndContacts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		clock(svc, "2025-06-25") // a Wednesday
		tree(t, svc)
		pub := care.WithRequest(context.Background(), care.RequestInfo{ClientAddr: "198.51.100.7", RequestID: "r1"})

		sc, err := svc.Screen(pub, care.ScreeningInput{Instrument: "phq9", Answers: item9, Community: "C1"})
		if err != nil {
			t.Fatal(err)
		}
		if sc.Week != "2025-06-23" || sc.Band != "minimal" || !sc.Urgent || sc.Community != "C1" || len(sc.ID) != 32 {
			t.Errorf("screening %+v", sc)
		}
		if _, err := svc.Screen(pub, care.ScreeningInput{Instrument: "gad7", Answers: []int{3, 3, 3, 3, 3, 3, 3}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			in    care.ScreeningInput
			field string
		}{
			{care.ScreeningInput{Instrument: "sdss", Answers: make([]int, 10)}, "instrument"},
			{care.ScreeningInput{Instrument: "risk", Answers: []int{0}}, "instrument"},
			{care.ScreeningInput{Instrument: "phq9", Answers: item9, Community: "S1"}, "community"},
			{care.ScreeningInput{Instrument: "gad7", Answers: []int{0, 0, 0}}, "answers"},
		} {
			if _, err := svc.Screen(pub, c.in); fieldOf(err) != c.field {
				t.Errorf("%+v: %v, want Invalid on %s", c.in, err, c.field)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM screenings`); n != 2 {
			t.Errorf("%d screenings stored, want 2", n)
		}

		// A contact request needs consent, lands on C1's list, urgent first.
		bad := care.ContactInput{Screening: sc.ID, Name: "A resident", Phone: "138 0000 0000", Community: "C1"}
		if _, err := svc.RequestContact(pub, bad); fieldOf(err) != "consent" {
			t.Errorf("without consent: %v", err)
		}
		if _, err := svc.RequestContact(pub, care.ContactInput{Name: "Early", Phone: "139 0000 0000", Community: "C1", Consent: true}); err != nil {
			t.Fatal(err)
		}
		ok := bad
		ok.Consent = true
		cr, err := svc.RequestContact(pub, ok)
		if err != nil || !cr.Urgent {
			t.Fatalf("contact request %+v %v", cr, err)
		}
		var actor, addr string
		if err := db.QueryRow(context.Background(), `SELECT actor, client_addr FROM audit_log WHERE action = 'contact.create'
			AND outcome = 'allowed' ORDER BY seq DESC LIMIT 1`).Scan(&actor, &addr); err != nil || actor != "public" || addr != "" {
			t.Errorf("audit of the request: actor %q address %q (%v); want public and no address", actor, addr, err)
		}
		list, _, err := svc.ContactRequests(as(manager), care.ContactQuery{}, care.Page{})
		if err != nil || len(list) != 2 || list[0].Name != "A resident" || list[0].Screening == nil || list[0].Screening.Score != 1 {
			t.Fatalf("manager's contact requests: %+v %v", list, err)
		}
		if other, _, _ := svc.ContactRequests(as(manager2), care.ContactQuery{}, care.Page{}); len(other) != 0 {
			t.Errorf("another community's manager sees %d requests", len(other))
		}
		if _, _, err := svc.ContactRequests(as(careMan), care.ContactQuery{}, care.Page{}); kind(err) != care.Forbidden {
			t.Errorf("care group reads contact requests: %v", err)
		}
		if _, err := svc.RecordContactOutcome(as(manager), cr.ID, care.ContactOutcome{Outcome: "called"}); fieldOf(err) != "outcome" {
			t.Errorf("unknown outcome: %v", err)
		}
		if _, err := svc.RecordContactOutcome(as(manager2), cr.ID, care.ContactOutcome{Outcome: "reached"}); kind(err) != care.NotFound {
			t.Errorf("outcome by another community's manager: %v", err)
		}
		done, err := svc.RecordContactOutcome(as(manager), cr.ID, care.ContactOutcome{Outcome: "referred", Note: "to the district hospital"})
		if err != nil || done.Outcome != "referred" {
			t.Fatalf("outcome: %+v %v", done, err)
		}
		if _, err := svc.RecordContactOutcome(as(manager), cr.ID, care.ContactOutcome{Outcome: "reached"}); kind(err) != care.Conflict {
			t.Errorf("second outcome: %v", err)
		}
		wc, err := svc.WorklistCounts(as(manager), "")
		if err != nil || wc.Contacts != 1 {
			t.Errorf("worklist counts %+v %v, want 1 contact request open", wc, err)
		}

		// Figures: the week of 2025-06-23 lies in June and Q2; the
		// screening without a community counts in no unit.
		counts, err := svc.ScreeningCounts(as(psychiatrist), "D1", june2025(t))
		if err != nil || len(counts) != 1 || counts[0] != (care.ScreeningCount{Instrument: "phq9", Band: "minimal", Count: 1}) {
			t.Errorf("screening counts %+v %v", counts, err)
		}
		if _, err := svc.ScreeningCounts(as(careMan), "C1", june2025(t)); err == nil {
			t.Error("care group read screening figures")
		}

		// The rate limit: 20 screenings per address, then wait.
		other := care.WithRequest(context.Background(), care.RequestInfo{ClientAddr: "203.0.113.9"})
		var limited error
		for range 25 {
			if _, limited = svc.Screen(other, care.ScreeningInput{Instrument: "phq9", Answers: make([]int, 9)}); limited != nil {
				break
			}
		}
		if kind(limited) != care.TooManyRequests {
			t.Errorf("25 screenings from one address: %v, want TooManyRequests", limited)
		}
	})
}

func june2025(t *testing.T) kpi.Period {
	p, err := kpi.ParsePeriod("2025-06")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
