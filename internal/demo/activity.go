package demo

import (
	"context"
	"fmt"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
)

// Activity gives the demo district's first community some assessments (a
// PHQ-9 series that improves, GAD-7s, an SDSS), one open alert (PHQ-9 item 9
// above 0), and residents' self-screenings with two contact requests, all
// through the service as its community manager, so that the assessment
// pages, the home page's alerts and the contact worklist have something to
// show; care teams, plans and a case conference (careTeams); and a
// break-the-glass read from another community (breakGlass). It needs
// Seed and Patients first.
func Activity(ctx context.Context, svc *care.Service, today time.Time) error {
	mgr := care.WithActor(ctx, &care.Actor{Username: "manager", Role: auth.CommunityManager, UnitCode: "C0101",
		UnitName: "Anning Community 安宁社区", UnitPath: "/" + District + "/S01/C0101/"})
	list, _, err := svc.Patients(mgr, care.PatientQuery{Status: "managed"}, care.Page{Limit: 3})
	if err != nil {
		return fmt.Errorf("demo activity: %w", err)
	}
	if len(list) < 2 {
		return nil
	}
	day := func(monthsAgo int) string { return clinical.DateOf(today).AddMonths(-monthsAgo).String() }
	type given struct {
		patient    int
		instrument string
		monthsAgo  int
		answers    []int
	}
	for _, g := range []given{
		{0, "phq9", 9, []int{3, 3, 2, 3, 2, 2, 2, 1, 0}},
		{0, "phq9", 6, []int{2, 2, 2, 2, 1, 2, 1, 1, 0}},
		{0, "phq9", 3, []int{1, 2, 1, 1, 1, 1, 1, 0, 0}},
		{0, "phq9", 0, []int{1, 1, 0, 1, 0, 1, 0, 0, 0}},
		{0, "gad7", 6, []int{2, 2, 2, 1, 1, 2, 1}},
		{0, "gad7", 0, []int{1, 1, 1, 0, 0, 1, 0}},
		{0, "sdss", 1, []int{1, 0, 0, 1, 1, 0, 0, 0, 1, 1}},
		{1, "phq9", 2, []int{2, 2, 2, 1, 1, 2, 1, 1, 0}},
		{1, "phq9", 0, []int{2, 3, 2, 2, 1, 2, 2, 1, 1}}, // item 9: raises the alert
	} {
		if g.patient >= len(list) {
			continue
		}
		in := care.AssessmentInput{Instrument: g.instrument, Date: day(g.monthsAgo), Answers: g.answers}
		if _, err := svc.Assess(mgr, list[g.patient].ID, in); err != nil {
			return fmt.Errorf("demo activity: %s: %w", g.instrument, err)
		}
	}
	for i, sc := range []care.ScreeningInput{
		{Instrument: "phq9", Answers: []int{1, 1, 0, 1, 0, 0, 0, 0, 0}, Community: "C0101"},
		{Instrument: "gad7", Answers: []int{2, 2, 1, 2, 1, 1, 1}, Community: "C0101"},
		{Instrument: "k10", Answers: []int{2, 2, 3, 2, 2, 3, 2, 2, 3, 2}, Community: "C0102"},
		{Instrument: "phq9", Answers: []int{2, 2, 2, 2, 1, 2, 1, 1, 1}, Community: "C0101"},
	} {
		// Each from its own documentation address, so that the demo does
		// not use up the public limit of a real client.
		pub := care.WithRequest(ctx, care.RequestInfo{ClientAddr: fmt.Sprintf("192.0.2.%d", i+1)})
		s, err := svc.Screen(pub, sc)
		if err != nil {
			return fmt.Errorf("demo activity: screening: %w", err)
		}
		if i == 1 || i == 3 {
			name := map[int]string{1: "Resident Gao 高女士", 3: "Resident Tang 唐先生"}[i]
			if _, err := svc.RequestContact(pub, care.ContactInput{Screening: s.ID, Name: name, Phone: "138 0101 000" + fmt.Sprint(i),
				Community: "C0101", Consent: true, Message: "Evenings are best."}); err != nil {
				return fmt.Errorf("demo activity: contact request: %w", err)
			}
		}
	}
	if err := careTeams(mgr, svc, list, today); err != nil {
		return err
	}
	if err := breakGlass(ctx, svc, list); err != nil {
		return err
	}
	if err := referralActivity(ctx, svc, today); err != nil {
		return err
	}
	return Community(ctx, svc, today)
}
