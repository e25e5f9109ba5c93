package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestDashboardSaysAsOfWhenStale: with stale snapshots served (as kith serve
// does), the district's dashboard right after a write says as of when its
// figures are, and says nothing once they are current again.
func TestDashboardSaysAsOfWhenStale(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, svc := start(t, db)
		ctx := context.Background()
		if _, err := demo.Patients(ctx, db, svc, 30, time.Now(), 1); err != nil {
			t.Fatal(err)
		}
		svc.ServeStaleFigures(time.Hour)
		district := newBrowser(t, srv)
		district.signIn("district")
		if body := district.page("/figures", http.StatusOK); strings.Contains(body, "Figures as of") {
			t.Fatal("fresh figures say as of")
		}
		var id int64
		if err := db.QueryRow(ctx, `SELECT id FROM patients WHERE status = 'managed' ORDER BY id LIMIT 1`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		psy := care.WithActor(ctx, &care.Actor{Username: "psychiatrist", Role: auth.Psychiatrist,
			UnitCode: demo.District, UnitPath: "/" + demo.District + "/"})
		reached, risk := true, 0
		if _, err := svc.RecordFollowUp(psy, id, care.FollowUpInput{Date: time.Now().Format("2006-01-02"), Mode: "home_visit",
			Reached: &reached, RiskLevel: &risk, PsychoticSymptoms: "none", Insight: "complete", AdverseReaction: "none",
			PhysicalIllness: "none", MedicationAdherence: "regular", SocialFunction: map[string]string{"self_care": "good",
				"housework": "good", "work": "good", "learning": "good", "social_contact": "good"}}); err != nil {
			t.Fatal(err)
		}
		contains(t, district.page("/figures", http.StatusOK), "Figures as of ")
		if err := svc.WarmFigures(ctx); err != nil {
			t.Fatal(err)
		}
		if body := district.page("/figures", http.StatusOK); strings.Contains(body, "Figures as of") {
			t.Error("figures still say as of after the refresh")
		}
	})
}
