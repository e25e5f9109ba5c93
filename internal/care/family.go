package care

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"kith/internal/report"
	"kith/internal/store"
)

// FamilyMember is one of a patient's family members. At most one is the
// patient's guardian; the patient's Guardian is a copy of that one.
type FamilyMember struct {
	ID         int64  `json:"id"`
	PatientID  int64  `json:"patient_id"`
	Name       string `json:"name"`
	Relation   string `json:"relation"`
	Phone      string `json:"phone"`
	LivesWith  bool   `json:"lives_with"`
	IsGuardian bool   `json:"is_guardian"`
	Notes      string `json:"notes,omitempty"`
}

// FamilyInput adds a family member or replaces one's fields.
type FamilyInput struct {
	Name       string `json:"name"`
	Relation   string `json:"relation"`
	Phone      string `json:"phone"`
	LivesWith  bool   `json:"lives_with"`
	IsGuardian bool   `json:"is_guardian"`
	Notes      string `json:"notes"`
}

func (in *FamilyInput) normalize(f *fields) {
	in.Name = checkName(f, "name", in.Name, 100)
	in.Relation = checkText(f, "relation", in.Relation, 50)
	in.Phone = checkPhone(f, "phone", in.Phone)
	in.Notes = checkNote(f, "notes", in.Notes, 1000)
}

// errSecondGuardian is the refusal of a second guardian.
func errSecondGuardian() error {
	return &Error{Kind: Conflict, Message: "the patient already has a guardian: unmark them first",
		Fields: []FieldError{{Field: "is_guardian", Message: "the patient already has a guardian"}}}
}

// Family lists a patient's family members, the guardian first. Reading the
// family is reading the patient's record: the care-and-help group, whose
// view holds the guardian's contact and nothing else of the family, sees
// the guardian only, without notes.
func (s *Service) Family(ctx context.Context, patientID int64) ([]FamilyMember, error) {
	var out []FamilyMember
	err := s.view(ctx, "family.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, ReadPatient, patientID, sub); err != nil {
			return err
		}
		var err error
		out, err = familyOf(ctx, tx, patientID, PatientView(a.Role))
		return err
	})
	return out, err
}

// familyOf reads a patient's family as view may see it.
func familyOf(ctx context.Context, tx *store.Tx, patientID int64, v View) ([]FamilyMember, error) {
	q := `SELECT id, patient_id, name, relation, phone, lives_with, is_guardian, notes FROM family_members WHERE patient_id = ?`
	switch v {
	case ViewNone:
		return nil, nil
	case ViewSafety:
		q += ` AND is_guardian = ?`
	}
	q += ` ORDER BY is_guardian DESC, id`
	args := []any{patientID}
	if v == ViewSafety {
		args = append(args, true)
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []FamilyMember{}
	for rows.Next() {
		var m FamilyMember
		if err := rows.Scan(&m.ID, &m.PatientID, &m.Name, &m.Relation, &m.Phone, &m.LivesWith, &m.IsGuardian, &m.Notes); err != nil {
			return nil, err
		}
		if v == ViewSafety {
			m.Notes, m.LivesWith = "", false
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// AddFamilyMember records a family member of a patient: writing the family
// is writing the patient's record. A second guardian is a Conflict.
func (s *Service) AddFamilyMember(ctx context.Context, patientID int64, in FamilyInput) (*FamilyMember, error) {
	var out *FamilyMember
	err := s.act(ctx, "family.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, WritePatient, patientID, sub); err != nil {
			return err
		}
		f := s.fields()
		in.normalize(&f)
		if err := f.err(); err != nil {
			return err
		}
		if in.IsGuardian {
			if g, err := guardianID(ctx, tx, patientID); err != nil {
				return err
			} else if g != 0 {
				return errSecondGuardian()
			}
		}
		now := store.FormatTime(tx.Now())
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO family_members (patient_id, name, relation, phone, lives_with, is_guardian, notes,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			patientID, in.Name, in.Relation, in.Phone, in.LivesWith, in.IsGuardian, in.Notes, now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errSecondGuardian()
		}
		if err != nil {
			return err
		}
		sub.Detail = "family member " + strconv.FormatInt(id, 10)
		if err := copyGuardian(ctx, tx, patientID); err != nil {
			return err
		}
		out = &FamilyMember{ID: id, PatientID: patientID, Name: in.Name, Relation: in.Relation, Phone: in.Phone,
			LivesWith: in.LivesWith, IsGuardian: in.IsGuardian, Notes: in.Notes}
		return nil
	})
	return out, err
}

// UpdateFamilyMember replaces a family member's fields.
func (s *Service) UpdateFamilyMember(ctx context.Context, patientID, memberID int64, in FamilyInput) (*FamilyMember, error) {
	var out *FamilyMember
	err := s.act(ctx, "family.update", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, WritePatient, patientID, sub); err != nil {
			return err
		}
		if err := familyExists(ctx, tx, patientID, memberID); err != nil {
			return err
		}
		sub.Detail = "family member " + strconv.FormatInt(memberID, 10)
		f := s.fields()
		in.normalize(&f)
		if err := f.err(); err != nil {
			return err
		}
		if in.IsGuardian {
			if g, err := guardianID(ctx, tx, patientID); err != nil {
				return err
			} else if g != 0 && g != memberID {
				return errSecondGuardian()
			}
		}
		_, err := tx.Exec(ctx, `UPDATE family_members SET name = ?, relation = ?, phone = ?, lives_with = ?, is_guardian = ?,
			notes = ?, updated_at = ? WHERE id = ?`, in.Name, in.Relation, in.Phone, in.LivesWith, in.IsGuardian, in.Notes,
			store.FormatTime(tx.Now()), memberID)
		if store.IsUniqueViolation(err) {
			return errSecondGuardian()
		}
		if err != nil {
			return err
		}
		if err := copyGuardian(ctx, tx, patientID); err != nil {
			return err
		}
		out = &FamilyMember{ID: memberID, PatientID: patientID, Name: in.Name, Relation: in.Relation, Phone: in.Phone,
			LivesWith: in.LivesWith, IsGuardian: in.IsGuardian, Notes: in.Notes}
		return nil
	})
	return out, err
}

// DeleteFamilyMember removes a family member recorded in error. A member
// who attended events or whose guardian subsidy is on the ledger stays:
// the history must keep them (Conflict).
func (s *Service) DeleteFamilyMember(ctx context.Context, patientID, memberID int64) error {
	return s.act(ctx, "family.delete", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, WritePatient, patientID, sub); err != nil {
			return err
		}
		if err := familyExists(ctx, tx, patientID, memberID); err != nil {
			return err
		}
		sub.Detail = "family member " + strconv.FormatInt(memberID, 10)
		var used bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM event_attendance WHERE family_member_id = ?)
			OR EXISTS (SELECT 1 FROM subsidies WHERE guardian_id = ?)`, memberID, memberID).Scan(&used); err != nil {
			return err
		}
		if used {
			return errConflict("this family member attended events or is on the subsidy ledger and cannot be deleted")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM family_members WHERE id = ?`, memberID); err != nil {
			return err
		}
		return copyGuardian(ctx, tx, patientID)
	})
}

func familyExists(ctx context.Context, tx *store.Tx, patientID, memberID int64) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM family_members WHERE id = ? AND patient_id = ?`, memberID, patientID).
		Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errNotFound("family member")
	}
	return nil
}

// guardianID is the id of the patient's guardian, or 0.
func guardianID(ctx context.Context, tx *store.Tx, patientID int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM family_members WHERE patient_id = ? AND is_guardian = ?`, patientID, true).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// copyGuardian copies the guardian family member onto the patient's
// guardian columns (blank without one), which the worklist and the figures
// read, and marks the community's figures stale: a complete record needs a
// guardian.
func copyGuardian(ctx context.Context, tx *store.Tx, patientID int64) error {
	var g Guardian
	err := tx.QueryRow(ctx, `SELECT name, relation, phone FROM family_members WHERE patient_id = ? AND is_guardian = ?`,
		patientID, true).Scan(&g.Name, &g.Relation, &g.Phone)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE patients SET guardian_name = ?, guardian_relation = ?, guardian_phone = ?, updated_at = ?
		WHERE id = ?`, g.Name, g.Relation, g.Phone, store.FormatTime(tx.Now()), patientID); err != nil {
		return err
	}
	return report.Touch(ctx, tx, patientID)
}

// setGuardian makes the guardian given with the patient's registration or
// edit the guardian family member: the current guardian's name, relation
// and phone are replaced (their other fields stay), or a guardian is added;
// a guardian left blank is unmarked as guardian but kept as family.
func setGuardian(ctx context.Context, tx *store.Tx, patientID int64, g Guardian) error {
	id, err := guardianID(ctx, tx, patientID)
	if err != nil {
		return err
	}
	now := store.FormatTime(tx.Now())
	blank := strings.TrimSpace(g.Name+g.Relation+g.Phone) == ""
	switch {
	case blank && id != 0:
		_, err = tx.Exec(ctx, `UPDATE family_members SET is_guardian = ?, updated_at = ? WHERE id = ?`, false, now, id)
	case blank:
	case id != 0:
		_, err = tx.Exec(ctx, `UPDATE family_members SET name = ?, relation = ?, phone = ?, updated_at = ? WHERE id = ?`,
			g.Name, g.Relation, g.Phone, now, id)
	default:
		_, err = tx.Exec(ctx, `INSERT INTO family_members (patient_id, name, relation, phone, lives_with, is_guardian, notes,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)`, patientID, g.Name, g.Relation, g.Phone, false, true, now, now)
	}
	return err
}
