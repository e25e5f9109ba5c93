package care

import (
	"context"
	"strconv"

	"kith/internal/audit"
	"kith/internal/clinical"
	"kith/internal/store"
)

// SweepLost marks managed patients lost to follow-up when their last
// reached follow-up (or, never reached, their registration) is 6 months
// old (R-LOST), as of the service's today. Patients are restored to
// managed by the follow-up that reaches them. It returns how many it
// marked; each change is in the status history and the audit log, by
// "system".
func (s *Service) SweepLost(ctx context.Context) (int, error) {
	asOf := s.today()
	// A little wider than 6 months back, then each candidate is decided by
	// clinical.Lost, which knows the month-end rules.
	cutoff := asOf.AddMonths(-clinical.LostAfterMonths).AddDays(3).String()
	type cand struct {
		id               int64
		lastReached, reg string
		streak           int
		unit, path       string
	}
	var cands []cand
	rows, err := s.db.Query(ctx, `SELECT p.id, p.last_followup_on, p.registered_on, p.not_reached_streak, o.code, p.org_path
		FROM patients p JOIN org_units o ON o.id = p.org_unit_id
		WHERE p.status = 'managed' AND ((p.last_followup_on <> '' AND p.last_followup_on <= ?)
			OR (p.last_followup_on = '' AND p.registered_on <= ?) OR p.not_reached_streak >= ?)`,
		cutoff, cutoff, clinical.LostAfterNotReached)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.lastReached, &c.reg, &c.streak, &c.unit, &c.path); err != nil {
			rows.Close()
			return 0, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cands {
		last, _ := clinical.ParseDate(c.lastReached)
		reg, _ := clinical.ParseDate(c.reg)
		if !clinical.Lost(c.streak, last, reg, asOf) {
			continue
		}
		err := s.db.Transact(ctx, func(tx *store.Tx) error {
			// Only if nothing changed since the candidate was read.
			r, err := tx.Exec(ctx, `UPDATE patients SET status = 'lost', updated_at = ? WHERE id = ? AND status = 'managed'
				AND last_followup_on = ?`, store.FormatTime(tx.Now()), c.id, c.lastReached)
			if err != nil {
				return err
			}
			if k, _ := r.RowsAffected(); k == 0 {
				return nil
			}
			if err := addStatus(ctx, tx, c.id, string(clinical.StatusLost), asOf.String(), string(clinical.RuleLost), "system"); err != nil {
				return err
			}
			n++
			return audit.Append(ctx, tx, s.entry(ctx, "system", "patient.lost",
				subject{Type: "patient", ID: strconv.FormatInt(c.id, 10), Unit: c.unit, Path: c.path, Detail: string(clinical.RuleLost)}, audit.Allowed))
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
