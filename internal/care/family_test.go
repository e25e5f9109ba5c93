package care_test

import (
	"testing"

	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestFamily(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "李明", Guardian: care.Guardian{Name: "李秀兰", Relation: "mother", Phone: "13800000001"}})

		// The guardian given at registration is the guardian family member.
		fam, err := svc.Family(as(manager), p.ID)
		if err != nil || len(fam) != 1 || !fam[0].IsGuardian || fam[0].Name != "李秀兰" || fam[0].Phone != "13800000001" {
			t.Fatalf("family after registration = %+v, %v", fam, err)
		}
		guardian := fam[0].ID

		// A second guardian is a conflict, and nothing is written.
		_, err = svc.AddFamilyMember(as(manager), p.ID, care.FamilyInput{Name: "李强", Relation: "brother", IsGuardian: true})
		if kind(err) != care.Conflict || fieldOf(err) != "is_guardian" {
			t.Errorf("second guardian: %v, want a conflict on is_guardian", err)
		}
		if n := count(t, db, `SELECT count(*) FROM family_members WHERE patient_id = ?`, p.ID); n != 1 {
			t.Errorf("%d family members after a refused add, want 1", n)
		}
		// Bad input: field messages, nothing written.
		_, err = svc.AddFamilyMember(as(manager), p.ID, care.FamilyInput{Name: " ", Phone: "call me"})
		if kind(err) != care.Invalid || fieldOf(err) != "name" {
			t.Errorf("blank name: %v", err)
		}
		brother, err := svc.AddFamilyMember(as(manager), p.ID, care.FamilyInput{Name: "李强", Relation: "brother", Phone: "13900000002",
			LivesWith: true, Notes: "works nights"})
		if err != nil {
			t.Fatal(err)
		}

		// Making the brother the guardian needs the mother unmarked first;
		// then the patient's guardian follows.
		in := care.FamilyInput{Name: "李强", Relation: "brother", Phone: "13900000002", LivesWith: true, IsGuardian: true}
		if _, err := svc.UpdateFamilyMember(as(manager), p.ID, brother.ID, in); kind(err) != care.Conflict {
			t.Errorf("brother as second guardian: %v", err)
		}
		if _, err := svc.UpdateFamilyMember(as(manager), p.ID, guardian, care.FamilyInput{Name: "李秀兰", Relation: "mother"}); err != nil {
			t.Fatal(err)
		}
		if pt, _ := svc.Patient(as(manager), p.ID); pt.Guardian != (care.Guardian{}) {
			t.Errorf("guardian after unmarking = %+v, want none", pt.Guardian)
		}
		if _, err := svc.UpdateFamilyMember(as(manager), p.ID, brother.ID, in); err != nil {
			t.Fatal(err)
		}
		pt, _ := svc.Patient(as(manager), p.ID)
		if pt.Guardian != (care.Guardian{Name: "李强", Relation: "brother", Phone: "13900000002"}) {
			t.Errorf("patient's guardian = %+v, want the brother", pt.Guardian)
		}

		// Editing the guardian on the patient's record edits that person.
		g := care.Guardian{Name: "李强", Relation: "elder brother", Phone: "13900000009"}
		if _, err := svc.UpdatePatient(as(manager), p.ID, care.PatientPatch{Guardian: &g}); err != nil {
			t.Fatal(err)
		}
		fam, _ = svc.Family(as(manager), p.ID)
		if len(fam) != 2 || fam[0].ID != brother.ID || fam[0].Relation != "elder brother" || fam[0].Notes != "" {
			t.Errorf("family after editing the guardian on the record = %+v", fam)
		}

		// The care-and-help group sees the guardian's contact only.
		fam, err = svc.Family(as(careMan), p.ID)
		if err != nil || len(fam) != 1 || fam[0].Phone != "13900000009" || fam[0].Notes != "" {
			t.Errorf("care group's family = %+v, %v", fam, err)
		}
		rec, err := svc.PatientRecord(as(careMan), p.ID)
		if err != nil || len(rec.Family) != 1 {
			t.Errorf("care group's record family = %+v, %v", rec, err)
		}
		// It may not write; another community sees nothing.
		if _, err := svc.AddFamilyMember(as(careMan), p.ID, care.FamilyInput{Name: "x"}); kind(err) != care.NotFound {
			t.Errorf("care group adds: %v", err)
		}
		if _, err := svc.Family(as(manager2), p.ID); kind(err) != care.NotFound {
			t.Errorf("other community reads: %v", err)
		}
		if e := lastAudit(t, db); e.Action != "family.read" || e.Outcome != "denied" {
			t.Errorf("last audit = %+v, want a denied family.read", e)
		}

		// Deleting the guardian clears the patient's guardian.
		if err := svc.DeleteFamilyMember(as(manager), p.ID, brother.ID); err != nil {
			t.Fatal(err)
		}
		if pt, _ := svc.Patient(as(manager), p.ID); pt.Guardian != (care.Guardian{}) {
			t.Errorf("guardian after deleting them = %+v", pt.Guardian)
		}
		if err := svc.DeleteFamilyMember(as(manager), p.ID, brother.ID); kind(err) != care.NotFound {
			t.Errorf("delete twice: %v", err)
		}
	})
}
