package care_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

var (
	manager  = &care.Actor{Username: "mgr", Role: auth.CommunityManager, UnitCode: "C1", UnitPath: "/D1/S1/C1/"}
	manager2 = &care.Actor{Username: "mgr2", Role: auth.CommunityManager, UnitCode: "C2", UnitPath: "/D1/S2/C2/"}
	careMan  = &care.Actor{Username: "police", Role: auth.CareGroup, UnitCode: "C1", UnitPath: "/D1/S1/C1/"}
	social   = &care.Actor{Username: "sw", Role: auth.SocialWorker, UnitCode: "S1", UnitPath: "/D1/S1/"}
)

// validID builds a valid national ID for a birth date and sequence.
func validID(birth string, seq int) string {
	first := "110105" + strings.ReplaceAll(birth, "-", "") + strconv.Itoa(100+seq)
	c, _ := clinical.NationalIDCheck(first)
	return first + string(c)
}

func register(t *testing.T, svc *care.Service, a *care.Actor, in care.PatientInput) *care.Patient {
	t.Helper()
	if in.Sex == "" {
		in.Sex = "female"
	}
	if in.BirthDate == "" {
		in.BirthDate = "1980-05-17"
	}
	if in.OrgUnit == "" {
		in.OrgUnit = "C1"
	}
	if in.RegisteredOn == "" {
		in.RegisteredOn = "2025-01-10"
	}
	p, err := svc.RegisterPatient(as(a), in)
	if err != nil {
		t.Fatalf("register %s: %v", in.Name, err)
	}
	return p
}

// clock fixes the service's today, so that the rules that read it (R-LOST,
// dates in the future) do not depend on when the test runs.
func clock(svc *care.Service, day string) {
	t, _ := time.Parse("2006-01-02", day)
	svc.SetClock(func() time.Time { return t.Add(12 * time.Hour) })
}

func intp(n int) *int    { return &n }
func boolp(b bool) *bool { return &b }

// form returns a reached follow-up with the given risk and, by default,
// every other input at its stable value.
func form(date string, risk int) care.FollowUpInput {
	return care.FollowUpInput{Date: date, Mode: "home_visit", Reached: boolp(true), RiskLevel: intp(risk),
		PsychoticSymptoms: "none", Insight: "complete", AdverseReaction: "none", PhysicalIllness: "none",
		SocialFunction:      map[string]string{"self_care": "good", "housework": "good", "work": "fair", "learning": "good", "social_contact": "good"},
		MedicationAdherence: "regular", Medications: []care.Medication{{Name: "risperidone", Dose: "2 mg", Frequency: "bid"}},
		Symptoms: []string{"hallucinations"}, Notes: "sleeps better"}
}

func attempt(date, reason string) care.FollowUpInput {
	return care.FollowUpInput{Date: date, Mode: "phone", Reached: boolp(false), NotReachedReason: reason}
}

func TestRegisterPatient(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-03-01")
		nid := validID("1980-05-17", 1)
		p := register(t, svc, manager, care.PatientInput{Name: "王小明", NationalID: strings.ToLower(nid), Phone: "138 0013 8000",
			Guardian:  care.Guardian{Name: "王大明", Relation: "父亲", Phone: "13900139000"},
			Diagnoses: []care.Diagnosis{{Code: "schizophrenia", DiagnosedOn: "2020-03-01", Institution: "区精神卫生中心"}, {Code: "e11.9"}},
			Consent:   true, ConsentOn: "2025-01-10"})
		if p.Name != "王小明" || p.NationalID != clinical.MaskNationalID(nid) || p.Guardian.Relation != "父亲" || p.Status != "managed" || p.OrgUnit != "C1" {
			t.Errorf("registered = %+v", p)
		}
		if p.Severe == nil || !*p.Severe || len(p.Diagnoses) != 2 || p.Diagnoses[1].Code != "E11.9" {
			t.Errorf("diagnoses = %+v severe = %v", p.Diagnoses, p.Severe)
		}
		if p.NextDueOn != "2025-01-24" {
			t.Errorf("first due = %s, want registration + 14 days", p.NextDueOn)
		}
		var raw string
		db.QueryRow(context.Background(), `SELECT national_id_enc FROM patients WHERE id = ?`, p.ID).Scan(&raw)
		if raw == "" || strings.Contains(raw, nid) || strings.Contains(raw, nid[6:14]) {
			t.Errorf("national ID stored as %q: not encrypted", raw)
		}

		// The same national ID: refused, naming the existing record.
		_, err := svc.RegisterPatient(as(manager), care.PatientInput{Name: "Other", Sex: "male", BirthDate: "1980-05-17", NationalID: nid, OrgUnit: "C1"})
		var ce *care.Error
		if !errors.As(err, &ce) || ce.Kind != care.Conflict || ce.ExistingID != strconv.FormatInt(p.ID, 10) {
			t.Errorf("duplicate national ID: %v", err)
		}
		// Same name and birth date in the district, elsewhere: must confirm.
		in := care.PatientInput{Name: "王小明", Sex: "male", BirthDate: "1980-05-17", OrgUnit: "C2", RegisteredOn: "2025-02-01"}
		if _, err := svc.RegisterPatient(as(&care.Actor{Username: "n", Role: auth.Nurse, UnitPath: "/D1/"}), in); care.ErrorKind(err) != care.Conflict || fieldOf(err) != "confirm_duplicate" {
			t.Errorf("possible duplicate without confirmation: %v", err)
		}
		in.ConfirmDuplicate = true
		if _, err := svc.RegisterPatient(as(&care.Actor{Username: "n", Role: auth.Nurse, UnitPath: "/D1/"}), in); err != nil {
			t.Errorf("confirmed duplicate: %v", err)
		}

		before := count(t, db, `SELECT count(*) FROM patients`)
		for _, tt := range []struct {
			name  string
			in    care.PatientInput
			field string
		}{
			{"no name", care.PatientInput{Sex: "male", BirthDate: "1990-01-01", OrgUnit: "C1"}, "name"},
			{"bad sex", care.PatientInput{Name: "A", Sex: "x", BirthDate: "1990-01-01", OrgUnit: "C1"}, "sex"},
			{"impossible birth date", care.PatientInput{Name: "A", Sex: "male", BirthDate: "1990-02-30", OrgUnit: "C1"}, "birth_date"},
			{"future birth date", care.PatientInput{Name: "A", Sex: "male", BirthDate: "2099-01-01", OrgUnit: "C1"}, "birth_date"},
			{"bad check digit", care.PatientInput{Name: "A", Sex: "male", BirthDate: "1980-05-17", NationalID: nid[:17] + "0", OrgUnit: "C1"}, "national_id"},
			{"ID of another birth date", care.PatientInput{Name: "A", Sex: "male", BirthDate: "1981-05-17", NationalID: validID("1980-05-17", 2), OrgUnit: "C1"}, "national_id"},
			{"street, not community", care.PatientInput{Name: "A", Sex: "male", BirthDate: "1990-01-01", OrgUnit: "S1"}, "org_unit"},
			{"unknown diagnosis", care.PatientInput{Name: "A", Sex: "male", BirthDate: "1990-01-01", OrgUnit: "C1", Diagnoses: []care.Diagnosis{{Code: "madness"}}}, "diagnoses[0].code"},
			{"bad phone", care.PatientInput{Name: "A", Sex: "male", BirthDate: "1990-01-01", OrgUnit: "C1", Phone: "call me"}, "phone"},
		} {
			if _, err := svc.RegisterPatient(as(manager), tt.in); care.ErrorKind(err) != care.Invalid || fieldOf(err) != tt.field {
				t.Errorf("%s: %v, want invalid %s", tt.name, err, tt.field)
			}
		}
		if _, err := svc.RegisterPatient(as(manager), care.PatientInput{Name: "A", Sex: "male", BirthDate: "1990-01-01", OrgUnit: "C2"}); care.ErrorKind(err) != care.Forbidden {
			t.Errorf("manager registers in another community: %v", err)
		}
		if n := count(t, db, `SELECT count(*) FROM patients`); n != before {
			t.Errorf("%d patients after refused registrations, want %d", n, before)
		}

		// Search: by name prefix, by exact national ID; masked in lists.
		list, _, err := svc.Patients(as(manager), care.PatientQuery{Q: "王"}, care.Page{})
		if err != nil || len(list) != 1 || list[0].NationalID != clinical.MaskNationalID(nid) {
			t.Errorf("search 王 as C1 manager = %+v, %v", list, err)
		}
		list, _, _ = svc.Patients(as(manager), care.PatientQuery{Q: nid}, care.Page{})
		if len(list) != 1 || list[0].ID != p.ID {
			t.Errorf("search by national ID = %+v", list)
		}
		list, _, _ = svc.Patients(as(&care.Actor{Username: "d", Role: auth.Psychiatrist, UnitPath: "/D1/"}), care.PatientQuery{Q: "王小"}, care.Page{})
		if len(list) != 2 {
			t.Errorf("district psychiatrist finds %d 王小…, want 2", len(list))
		}
	})
}

// TestNationalIDMasked: the national ID is masked in every read; revealing
// it is its own audited entry, refused to the care-and-help group.
func TestNationalIDMasked(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-03-01")
		nid := validID("1980-05-17", 1)
		p := register(t, svc, manager, care.PatientInput{Name: "王小明", NationalID: nid})
		rec, err := svc.PatientRecord(as(manager), p.ID)
		if err != nil || rec.Patient.NationalID != clinical.MaskNationalID(nid) {
			t.Fatalf("record shows national ID %q (%v), want masked", rec.Patient.NationalID, err)
		}
		got, err := svc.RevealNationalID(as(manager), p.ID)
		if err != nil || got != nid {
			t.Fatalf("reveal = %q, %v", got, err)
		}
		if e := lastAudit(t, db); e.Action != "patient.national_id.reveal" || e.Outcome != "allowed" || e.SubjectID != strconv.FormatInt(p.ID, 10) {
			t.Errorf("last audit = %+v, want the reveal", e)
		}
		if _, err := svc.RevealNationalID(as(careMan), p.ID); care.ErrorKind(err) != care.Forbidden {
			t.Errorf("care group reveals: %v", err)
		}
		if e := lastAudit(t, db); e.Action != "patient.national_id.reveal" || e.Outcome != "denied" {
			t.Errorf("last audit = %+v, want the refused reveal", e)
		}
		if _, err := svc.RevealNationalID(as(manager2), p.ID); care.ErrorKind(err) != care.NotFound {
			t.Errorf("another community reveals: %v", err)
		}
	})
}

// TestPatientSearchKeys: a patient is found by the pinyin initials of the
// name, by phone number and by the national ID's last four characters, and
// the keys follow an update.
func TestPatientSearchKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-03-01")
		nid := validID("1980-05-17", 7)
		p := register(t, svc, manager, care.PatientInput{Name: "张三", NationalID: nid, Phone: "138 0013-8000"})
		register(t, svc, manager, care.PatientInput{Name: "李四", Phone: "13900000000", BirthDate: "1970-01-01"})
		find := func(q string) []int64 {
			t.Helper()
			list, _, err := svc.Patients(as(manager), care.PatientQuery{Q: q}, care.Page{})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			var ids []int64
			for _, x := range list {
				ids = append(ids, x.ID)
			}
			return ids
		}
		for _, q := range []string{"zs", "ZS", "z", "13800138000", "138 0013", nid[14:], strings.ToLower(nid[14:])} {
			if ids := find(q); len(ids) != 1 || ids[0] != p.ID {
				t.Errorf("search %q = %v, want [%d]", q, ids, p.ID)
			}
		}
		for _, q := range []string{"zx", "139001", "0000"} {
			if ids := find(q); slices.Contains(ids, p.ID) {
				t.Errorf("search %q found 张三", q)
			}
		}
		var tail, initials string
		db.QueryRow(context.Background(), `SELECT national_id_tail, name_initials FROM patients WHERE id = ?`, p.ID).Scan(&tail, &initials)
		if tail == "" || strings.Contains(tail, nid[14:]) || initials != "zs" {
			t.Errorf("stored tail %q initials %q", tail, initials)
		}
		name, phone := "王五", "020-1234567"
		if _, err := svc.UpdatePatient(as(manager), p.ID, care.PatientPatch{Name: &name, Phone: &phone}); err != nil {
			t.Fatal(err)
		}
		if ids := find("ww"); len(ids) != 1 || ids[0] != p.ID {
			t.Errorf("after rename, ww = %v", ids)
		}
		if ids := find("0201234"); len(ids) != 1 {
			t.Errorf("after new phone, 0201234 = %v", ids)
		}
		if ids := find("zs"); len(ids) != 0 {
			t.Errorf("after rename, zs = %v", ids)
		}

		// Rows written before the keys existed get them from the sweep.
		if _, err := db.Exec(context.Background(), `UPDATE patients SET name_initials = '', national_id_tail = '', search_keys = 0`); err != nil {
			t.Fatal(err)
		}
		if ids := find("ww"); len(ids) != 0 {
			t.Fatalf("without keys, ww = %v", ids)
		}
		if n, err := svc.SweepSearchKeys(context.Background()); err != nil || n != 2 {
			t.Errorf("sweep filled %d, %v; want 2", n, err)
		}
		if ids := find("ww"); len(ids) != 1 || ids[0] != p.ID {
			t.Errorf("after the sweep, ww = %v", ids)
		}
		if ids := find(nid[14:]); len(ids) != 1 {
			t.Errorf("after the sweep, the ID's tail finds %v", ids)
		}
		if n, _ := svc.SweepSearchKeys(context.Background()); n != 0 {
			t.Errorf("second sweep filled %d", n)
		}
	})
}

func TestNameInitials(t *testing.T) {
	for in, want := range map[string]string{"张三": "zs", "欧阳娜娜": "oynn", "Li Lei": "ll", "王 小明": "wxm", "": ""} {
		if got := care.NameInitials(in); got != want {
			t.Errorf("NameInitials(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPatientAccess(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-03-01")
		p := register(t, svc, manager, care.PatientInput{Name: "Li Lei", NationalID: validID("1980-05-17", 3),
			Diagnoses: []care.Diagnosis{{Code: "bipolar"}}, Guardian: care.Guardian{Name: "Han Meimei", Phone: "13900000000"}})
		if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-02-01", 1)); err != nil {
			t.Fatal(err)
		}
		// Another community's manager: not found, and the attempt is audited as denied.
		if _, err := svc.Patient(as(manager2), p.ID); care.ErrorKind(err) != care.NotFound {
			t.Errorf("other community reads: %v", err)
		}
		if e := lastAudit(t, db); e.Outcome != "denied" || e.Actor != "mgr2" || e.SubjectID != strconv.FormatInt(p.ID, 10) {
			t.Errorf("last audit = %+v, want mgr2 denied", e)
		}
		if _, err := svc.RecordFollowUp(as(manager2), p.ID, form("2025-02-02", 0)); care.ErrorKind(err) != care.NotFound {
			t.Errorf("other community writes: %v", err)
		}
		// The care-and-help group: contact, guardian, risk, dates; never diagnoses, symptoms, medication or notes.
		cg, err := svc.Patient(as(careMan), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cg.Diagnoses != nil || cg.NationalID != "" || cg.LastClassification != "" || cg.Guardian.Phone == "" || cg.LastRiskLevel == nil || cg.NextDueOn == "" {
			t.Errorf("care group sees %+v", cg)
		}
		fus, _, err := svc.FollowUps(as(careMan), p.ID, care.Page{})
		if err != nil || len(fus) != 1 {
			t.Fatal(fus, err)
		}
		if f := fus[0]; f.Medications != nil || f.Symptoms != nil || f.Notes != "" || f.Classification != "" || f.RiskLevel == nil {
			t.Errorf("care group sees follow-up %+v", f)
		}
		if _, err := svc.RecordFollowUp(as(careMan), p.ID, form("2025-02-03", 0)); care.ErrorKind(err) != care.NotFound {
			t.Errorf("care group records a follow-up: %v", err)
		}
		// A social worker sees the record but no medication detail.
		fus, _, _ = svc.FollowUps(as(social), p.ID, care.Page{})
		if len(fus) != 1 || fus[0].Medications != nil || fus[0].Classification == "" {
			t.Errorf("social worker sees %+v", fus)
		}
		// Every read is audited.
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'patient.read' AND subject_id = ?`, strconv.FormatInt(p.ID, 10)); n < 3 {
			t.Errorf("%d patient.read entries, want at least 3", n)
		}
	})
}

func TestFollowUpRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2026-04-10")
		p := register(t, svc, manager, care.PatientInput{Name: "Zhang San", RegisteredOn: "2024-10-01"})
		ctx := as(manager)
		steps := []struct {
			rule   string // the rule the step checks
			in     care.FollowUpInput
			class  string
			crule  string
			due    string
			status string
		}{
			{"R-CLASS-UNSTABLE + R-NEXT-UNSTABLE", form("2024-11-16", 3), "unstable", "R-CLASS-UNSTABLE", "2024-11-30", "managed"},
			{"R-CLASS-BASIC + R-NEXT-BASIC", form("2024-11-30", 2), "basically_stable", "R-CLASS-BASIC", "2024-12-14", "managed"},
			{"R-NEXT-BASIC-PERSIST", form("2024-12-14", 1), "basically_stable", "R-CLASS-BASIC", "2025-01-14", "managed"},
			{"R-NEXT-STABLE month-end clamp", form("2025-11-30", 0), "stable", "R-CLASS-STABLE", "2026-02-28", "managed"},
		}
		var dueRules []string
		for _, st := range steps {
			fu, err := svc.RecordFollowUp(ctx, p.ID, st.in)
			if err != nil {
				t.Fatalf("%s: %v", st.rule, err)
			}
			if fu.Classification != st.class || fu.Rule == nil || *fu.Rule != st.crule || fu.NextDueOn != st.due {
				t.Errorf("%s: got %s %v due %s, want %s %s due %s", st.rule, fu.Classification, fu.Rule, fu.NextDueOn, st.class, st.crule, st.due)
			}
			dueRules = append(dueRules, fu.NextDueRule)
		}
		if want := "R-NEXT-UNSTABLE R-NEXT-BASIC R-NEXT-BASIC-PERSIST R-NEXT-STABLE"; strings.Join(dueRules, " ") != want {
			t.Errorf("due rules = %v, want %s", dueRules, want)
		}
		got, _ := svc.Patient(ctx, p.ID)
		if got.NextDueOn != "2026-02-28" || got.NextDueRule != "R-NEXT-STABLE" || got.LastClassification != "stable" || *got.LastRiskLevel != 0 {
			t.Errorf("summary = %+v", got)
		}

		// R-NOT-REACHED: the due date stays; three in a row: R-LOST; reached again: managed.
		for i, d := range []string{"2026-03-01", "2026-03-08", "2026-03-15"} {
			fu, err := svc.RecordFollowUp(ctx, p.ID, attempt(d, "working_away"))
			if err != nil {
				t.Fatal(err)
			}
			if fu.Classification != "not_reached" || fu.Rule != nil || fu.NextDueOn != "2026-02-28" {
				t.Errorf("R-NOT-REACHED attempt %d: %+v", i+1, fu)
			}
		}
		if got, _ := svc.Patient(ctx, p.ID); got.Status != "lost" || got.NextDueOn != "2026-02-28" {
			t.Errorf("R-LOST after 3 attempts: status %s due %s", got.Status, got.NextDueOn)
		}
		if _, err := svc.RecordFollowUp(ctx, p.ID, form("2026-03-20", 0)); err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.Patient(ctx, p.ID); got.Status != "managed" || got.NextDueOn != "2026-06-20" {
			t.Errorf("reached again: status %s due %s, want managed 2026-06-20", got.Status, got.NextDueOn)
		}

		// Overrides: earlier freely; later only with a reason, which is kept.
		early := form("2026-04-01", 0)
		early.NextDueOn = "2026-05-01"
		if fu, err := svc.RecordFollowUp(ctx, p.ID, early); err != nil || fu.NextDueOn != "2026-05-01" {
			t.Errorf("earlier override: %+v %v", fu, err)
		}
		late := form("2026-04-02", 0)
		late.NextDueOn = "2026-09-01"
		if _, err := svc.RecordFollowUp(ctx, p.ID, late); fieldOf(err) != "next_due_reason" {
			t.Errorf("later override without reason: %v", err)
		}
		late.NextDueReason = "patient working in another province until August"
		if fu, err := svc.RecordFollowUp(ctx, p.ID, late); err != nil || fu.NextDueOn != "2026-09-01" || fu.NextDueReason == "" {
			t.Errorf("later override with reason: %+v %v", fu, err)
		}
	})
}

func TestFollowUpBadInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-03-10")
		p := register(t, svc, manager, care.PatientInput{Name: "Bad Input", RegisteredOn: "2025-01-10"})
		mut := func(f func(*care.FollowUpInput)) care.FollowUpInput {
			in := form("2025-03-01", 1)
			f(&in)
			return in
		}
		for _, tt := range []struct {
			name  string
			in    care.FollowUpInput
			field string
		}{
			{"risk 6", mut(func(in *care.FollowUpInput) { in.RiskLevel = intp(6) }), "risk_level"},
			{"no risk", mut(func(in *care.FollowUpInput) { in.RiskLevel = nil }), "risk_level"},
			{"unknown insight", mut(func(in *care.FollowUpInput) { in.Insight = "some" }), "insight"},
			{"unknown mode", mut(func(in *care.FollowUpInput) { in.Mode = "email" }), "mode"},
			{"unknown symptom", mut(func(in *care.FollowUpInput) { in.Symptoms = []string{"sadness"} }), "symptoms[0]"},
			{"unknown area", mut(func(in *care.FollowUpInput) { in.SocialFunction["cooking"] = "good" }), "social_function.cooking"},
			{"future date", mut(func(in *care.FollowUpInput) { in.Date = "2099-01-01" }), "date"},
			{"impossible date", mut(func(in *care.FollowUpInput) { in.Date = "2026-02-30" }), "date"},
			{"before registration", mut(func(in *care.FollowUpInput) { in.Date = "2024-12-31" }), "date"},
			{"reached missing", mut(func(in *care.FollowUpInput) { in.Reached = nil }), "reached"},
			{"adherence unknown", mut(func(in *care.FollowUpInput) { in.MedicationAdherence = "sometimes" }), "medication_adherence"},
			{"next due before date", mut(func(in *care.FollowUpInput) { in.NextDueOn = "2025-02-01" }), "next_due_on"},
			{"attempt without reason", attempt("2025-03-01", ""), "not_reached_reason"},
			{"deceased without date", attempt("2025-03-01", "deceased"), "death_date"},
		} {
			if _, err := svc.RecordFollowUp(as(manager), p.ID, tt.in); care.ErrorKind(err) != care.Invalid || fieldOf(err) != tt.field {
				t.Errorf("%s: %v, want invalid %s", tt.name, err, tt.field)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM follow_ups`); n != 0 {
			t.Errorf("%d follow-ups written by refused input", n)
		}
		if got, _ := svc.Patient(as(manager), p.ID); got.NextDueOn != "2025-01-24" || got.LastFollowUpOn != "" {
			t.Errorf("summary changed by refused input: %+v", got)
		}
	})
}

func TestCorrectionAndEmergency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-07-11")
		p := register(t, svc, manager, care.PatientInput{Name: "Correct Me"})
		fu, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-06-01", 0))
		if err != nil {
			t.Fatal(err)
		}
		nurse := &care.Actor{Username: "nurse", Role: auth.Nurse, UnitPath: "/D1/S1/"}
		if _, err := svc.CorrectFollowUp(as(nurse), p.ID, fu.ID, form("2025-06-01", 4)); care.ErrorKind(err) != care.Forbidden {
			t.Errorf("someone else corrects: %v", err)
		}
		fixed, err := svc.CorrectFollowUp(as(manager), p.ID, fu.ID, form("2025-06-01", 4))
		if err != nil || fixed.Classification != "unstable" || fixed.NextDueOn != "2025-06-15" {
			t.Fatalf("correction = %+v, %v", fixed, err)
		}
		if _, err := svc.CorrectFollowUp(as(manager), p.ID, fu.ID, form("2025-06-01", 2)); care.ErrorKind(err) != care.Conflict {
			t.Errorf("correcting a superseded version: %v", err)
		}
		all, _, _ := svc.FollowUps(as(manager), p.ID, care.Page{})
		if len(all) != 2 || all[0].SupersededBy != nil && all[1].SupersededBy != nil {
			t.Errorf("after correction: %+v (want both versions, the old one superseded)", all)
		}
		// The corrected risk of 4 raised a flag: due within 2 days (R-ALERT-DUE).
		if got, _ := svc.Patient(as(manager), p.ID); got.NextDueOn != "2025-06-03" || *got.LastRiskLevel != 4 {
			t.Errorf("summary after correction = due %s risk %v", got.NextDueOn, *got.LastRiskLevel)
		}

		// R-EMERG: a follow-up within 2 weeks of the event; open until a psychiatrist completes it.
		stable, _ := svc.CorrectFollowUp(as(manager), p.ID, fixed.ID, form("2025-06-01", 0))
		if stable.NextDueOn != "2025-09-01" {
			t.Fatalf("stable correction due %s", stable.NextDueOn)
		}
		at := mustTime(t, "2025-07-10T22:15:00+08:00")
		e, err := svc.RecordEmergency(as(careMan), p.ID, care.EmergencyInput{OccurredAt: at, Place: "home",
			Triggers: []string{"endangering_others"}, Attendees: []string{"police", "family"}, Measures: []string{"persuasion"}})
		if err != nil || e.Completed || e.FollowUpBy != "2025-07-24" {
			t.Fatalf("emergency = %+v, %v", e, err)
		}
		if got, _ := svc.Patient(as(manager), p.ID); got.NextDueOn != "2025-07-24" || got.NextDueRule != "R-EMERG" {
			t.Errorf("due after emergency = %s %s", got.NextDueOn, got.NextDueRule)
		}
		if _, err := svc.RecordEmergency(as(careMan), p.ID, care.EmergencyInput{OccurredAt: at, Triggers: []string{"boredom"}}); fieldOf(err) != "triggers[0]" {
			t.Errorf("unknown trigger: %v", err)
		}
		if err := svc.CompleteEmergency(as(careMan), p.ID, e.ID); care.ErrorKind(err) != care.Forbidden {
			t.Errorf("care group completes: %v", err)
		}
		psy := &care.Actor{Username: "psy", Role: auth.Psychiatrist, UnitPath: "/D1/"}
		if err := svc.CompleteEmergency(as(psy), p.ID, e.ID); err != nil {
			t.Errorf("psychiatrist completes: %v", err)
		}
		tl, err := svc.Timeline(as(manager), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, it := range tl {
			kinds[it.Kind]++
		}
		if kinds["emergency"] != 1 || kinds["follow_up"] != 3 || kinds["status"] != 1 {
			t.Errorf("timeline kinds = %v", kinds)
		}
	})
}

func TestWorklistsAndTransfer(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-05-30")
		ctx := as(manager)
		a := register(t, svc, manager, care.PatientInput{Name: "A due soon", RegisteredOn: "2025-01-01", Phone: "13800000001"})
		b := register(t, svc, manager, care.PatientInput{Name: "B overdue high risk", RegisteredOn: "2025-01-01"})
		c := register(t, svc, manager, care.PatientInput{Name: "C overdue low risk", RegisteredOn: "2025-01-01"})
		register(t, svc, manager2, care.PatientInput{Name: "D elsewhere", OrgUnit: "C2", RegisteredOn: "2025-01-01"})
		mustFU := func(id int64, in care.FollowUpInput) {
			if _, err := svc.RecordFollowUp(ctx, id, in); err != nil {
				t.Fatal(err)
			}
		}
		mustFU(a.ID, form("2025-03-01", 0)) // due 2025-06-01
		mustFU(b.ID, form("2025-03-01", 3)) // due 2025-03-03 (risk 3 raises a flag: R-ALERT-DUE)
		mustFU(c.ID, form("2025-02-01", 1)) // due 2025-02-15
		list := func(kind, asOf string) []care.WorklistItem {
			items, _, err := svc.Worklist(ctx, care.WorklistQuery{Kind: kind, AsOf: asOf}, care.Page{})
			if err != nil {
				t.Fatal(err)
			}
			return items
		}
		over := list("overdue", "2025-05-28")
		if len(over) != 2 || over[0].PatientID != b.ID || over[1].PatientID != c.ID || over[0].DaysOverdue != 86 {
			t.Errorf("R-OVERDUE list = %+v, want B (risk 3, 86 days) then C", over)
		}
		due := list("due", "2025-05-28")
		if len(due) != 1 || due[0].PatientID != a.ID || due[0].Phone != "13800000001" {
			t.Errorf("due list = %+v, want A", due)
		}
		if below := list("below_min", "2025-05-28"); len(below) != 3 {
			t.Errorf("R-MIN4 list has %d, want 3 (each has 1 reached follow-up)", len(below))
		}
		if items, _, err := svc.Worklist(ctx, care.WorklistQuery{Kind: "soon"}, care.Page{}); fieldOf(err) != "kind" {
			t.Errorf("unknown kind: %v %v", items, err)
		}
		// Pagination in urgency order.
		first, next, _ := svc.Worklist(ctx, care.WorklistQuery{Kind: "overdue", AsOf: "2025-05-28"}, care.Page{Limit: 1})
		second, _, _ := svc.Worklist(ctx, care.WorklistQuery{Kind: "overdue", AsOf: "2025-05-28"}, care.Page{Limit: 1, Token: next})
		if len(first) != 1 || len(second) != 1 || first[0].PatientID != b.ID || second[0].PatientID != c.ID {
			t.Errorf("paged overdue = %+v then %+v", first, second)
		}

		// Transfer keeps history and shows in both units' audit.
		psy := &care.Actor{Username: "psy", Role: auth.Psychiatrist, UnitPath: "/D1/"}
		moved, err := svc.TransferPatient(ctx, b.ID, care.TransferInput{OrgUnit: "C2", Date: "2025-05-30", Reason: "moved house"})
		if err != nil || moved.OrgUnit != "C2" {
			t.Fatalf("transfer = %+v, %v", moved, err)
		}
		if _, err := svc.Patient(ctx, b.ID); care.ErrorKind(err) != care.NotFound {
			t.Errorf("old community still reads the patient: %v", err)
		}
		fus, _, _ := svc.FollowUps(as(manager2), b.ID, care.Page{})
		if len(fus) != 1 {
			t.Errorf("new community sees %d follow-ups, want the history (1)", len(fus))
		}
		for _, path := range []string{"/D1/S1/C1/", "/D1/S2/C2/"} {
			if n := count(t, db, `SELECT count(*) FROM audit_log WHERE subject_id = ? AND action LIKE 'patient.transfer%' AND org_path = ?`,
				strconv.FormatInt(b.ID, 10), path); n != 1 {
				t.Errorf("transfer entries in %s's audit: %d, want 1", path, n)
			}
		}
		_ = psy
	})
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSafetyViewHidesRules: the care-and-help group never learns the
// classification, not even from the name of the rule that set the due date,
// and may not filter by diagnosis.
func TestSafetyViewHidesRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-03-01")
		p := register(t, svc, manager, care.PatientInput{Name: "Hidden", Diagnoses: []care.Diagnosis{{Code: "bipolar"}}})
		if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-02-20", 4)); err != nil {
			t.Fatal(err)
		}
		rec, err := svc.PatientRecord(as(careMan), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Patient.NextDueRule != "" || rec.Patient.NextDueOn == "" {
			t.Errorf("care group record: rule %q due %q", rec.Patient.NextDueRule, rec.Patient.NextDueOn)
		}
		for _, it := range rec.Timeline {
			if it.Rule != "" || it.NextDueRule != "" || it.Classification != "" {
				t.Errorf("care group timeline item %+v", it)
			}
		}
		// Risk 4 raised a flag: due 2025-02-22 (R-ALERT-DUE), so overdue.
		items, _, _ := svc.Worklist(as(careMan), care.WorklistQuery{Kind: "overdue", AsOf: "2025-03-01"}, care.Page{})
		if len(items) != 1 || items[0].DueRule != "" || items[0].Classification != "" {
			t.Errorf("care group worklist %+v", items)
		}
		if _, _, err := svc.Patients(as(careMan), care.PatientQuery{Diagnosis: "bipolar"}, care.Page{}); care.ErrorKind(err) != care.Forbidden {
			t.Errorf("care group filters by diagnosis: %v", err)
		}
		counts, err := svc.WorklistCounts(as(manager), "")
		if err != nil || counts.Due != 0 || counts.BelowMin != 1 || counts.Overdue != 1 || counts.Alert != 1 {
			t.Errorf("counts = %+v, %v", counts, err)
		}
	})
}

// TestRegisterFromNationalID: a registration with an 18-character national
// ID and no birth date or sex takes both from the number.
func TestRegisterFromNationalID(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-03-01")
		nid := validID("1975-08-09", 1) // sequence 1: odd, a man
		p, err := svc.RegisterPatient(as(manager), care.PatientInput{Name: "赵六", NationalID: nid, OrgUnit: "C1", RegisteredOn: "2025-01-10"})
		if err != nil || p.BirthDate != "1975-08-09" || p.Sex != "male" {
			t.Fatalf("registered %+v, %v", p, err)
		}
	})
}

// TestBelowMinimumFromSummary: the worklist "fewer than four reached
// follow-ups this year" (R-MIN4) and its count read the summary's count of
// the last reached follow-up's year, kept by every write, and count the
// follow-ups instead for a day before that follow-up.
func TestBelowMinimumFromSummary(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-05-31")
		ctx := as(manager)
		record := func(id int64, dates ...string) []int64 {
			var ids []int64
			for _, d := range dates {
				fu, err := svc.RecordFollowUp(ctx, id, form(d, 0))
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, fu.ID)
			}
			return ids
		}
		// A: four this year (two last year); B: five last year, none this
		// year; C: four this year, one then corrected to not reached.
		a := register(t, svc, manager, care.PatientInput{Name: "A", RegisteredOn: "2024-01-01"}).ID
		record(a, "2024-10-01", "2024-12-01", "2025-01-10", "2025-02-10", "2025-03-10", "2025-04-10")
		b := register(t, svc, manager, care.PatientInput{Name: "B", RegisteredOn: "2024-01-01"}).ID
		record(b, "2024-08-01", "2024-09-01", "2024-10-01", "2024-11-01", "2024-12-31")
		c := register(t, svc, manager, care.PatientInput{Name: "C", RegisteredOn: "2024-01-01"}).ID
		cs := record(c, "2025-01-05", "2025-02-05", "2025-03-05", "2025-04-05")
		if _, err := svc.CorrectFollowUp(ctx, c, cs[1], attempt("2025-02-05", "working_away")); err != nil {
			t.Fatal(err)
		}
		below := func(asOf string) map[int64]int {
			items, _, err := svc.Worklist(ctx, care.WorklistQuery{Kind: "below_min", AsOf: asOf}, care.Page{})
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64]int{}
			for _, it := range items {
				out[it.PatientID] = it.ReachedThisYear
			}
			return out
		}
		if got, want := below("2025-05-31"), map[int64]int{b: 0, c: 3}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("below the minimum today = %v, want %v (patient: reached this year)", got, want)
		}
		// Before A's and C's last follow-ups: counted to that day.
		if got, want := below("2025-03-01"), map[int64]int{a: 2, b: 0, c: 1}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("below the minimum on 1 March = %v, want %v", got, want)
		}
		// The next year: none of them has a follow-up in it yet.
		if got, want := below("2026-01-05"), map[int64]int{a: 0, b: 0, c: 0}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("below the minimum on 5 January = %v, want %v", got, want)
		}
		items, _, err := svc.Worklist(ctx, care.WorklistQuery{Kind: "due", AsOf: "2025-07-05"}, care.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 || items[1].PatientID != a || items[1].ReachedThisYear != 4 {
			t.Errorf("due list = %+v, want C then A, A with 4 reached this year", items)
		}
		counts, err := svc.WorklistCounts(ctx, "")
		if err != nil || counts.BelowMin != 2 {
			t.Errorf("counts = %+v, %v; want 2 below the minimum", counts, err)
		}
	})
}
