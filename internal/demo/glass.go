package demo

import (
	"context"
	"fmt"

	"kith/internal/auth"
	"kith/internal/care"
)

// breakGlass has manager2, of Dongshan Village, break the glass on a
// patient of Anning Community (list[2], on no team manager2 is on) and read
// the record, as in an emergency in another community: so the record's
// break-the-glass list, its access report, the audit log's flag and the
// home page of the district's psychiatrist and administrator have one to
// show.
func breakGlass(ctx context.Context, svc *care.Service, list []care.Patient) error {
	if len(list) < 3 {
		return nil
	}
	m2 := care.WithActor(ctx, &care.Actor{Username: "manager2", FullName: "Liu Yang 刘洋", Role: auth.CommunityManager,
		UnitCode: "C0201", UnitName: "Dongshan Village 东山村", UnitPath: "/" + District + "/S02/C0201/"})
	id := list[2].ID
	if _, err := svc.BreakGlass(m2, id, care.GlassInput{Reason: "emergency",
		Note: "Found confused at Dongshan bus station; needs his medication list. 在东山车站被发现，意识混乱，需查用药。"}); err != nil {
		return fmt.Errorf("demo break-glass: %w", err)
	}
	if _, err := svc.PatientRecord(m2, id); err != nil {
		return fmt.Errorf("demo break-glass: read: %w", err)
	}
	return nil
}
