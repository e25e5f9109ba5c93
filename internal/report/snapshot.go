package report

import (
	"context"
	"fmt"

	"kith/internal/kpi"
	"kith/internal/store"
)

// A district's or the province's figures for a month, quarter or year are
// summed from per-community snapshots (figure_snapshots). A snapshot holds
// while its version equals the community's figure version, which every
// write that can change the community's figures increments (Touch), in the
// writer's transaction. Stale or missing snapshots are recomputed when read:
// one community at a time when few are, else all communities beneath the
// unit in one grouped pass. Overdue and lost depend on the day, not the
// period, and are counted live.

// Touch records, in the caller's transaction, that patient's community's
// figures may have changed.
func Touch(ctx context.Context, tx *store.Tx, patientID int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO figure_versions (unit_id, version) SELECT org_unit_id, 1 FROM patients WHERE id = ?
		ON CONFLICT (unit_id) DO UPDATE SET version = figure_versions.version + 1`, patientID)
	return err
}

// fewStale is how many stale communities are recomputed one by one rather
// than in one grouped pass over the whole unit.
const fewStale = 20

// CachedCounts is Counts through the community snapshots. Ranges that are
// not a month, quarter or year are counted directly.
func CachedCounts(ctx context.Context, tx *store.Tx, scope Scope, population int64) (kpi.Counts, error) {
	if scope.Period.Kind == kpi.KindRange {
		return Counts(ctx, tx, scope, population)
	}
	unsaved, err := refresh(ctx, tx, scope)
	if err != nil {
		return kpi.Counts{}, err
	}
	period := scope.Period.String()
	lo, hi := store.Beneath(scope.Path)
	c := kpi.Counts{Population: population}
	// In a read-only transaction (a standby) the stale snapshots could not
	// be saved: sum the fresh ones only, and add the recomputed ones.
	fresh := ""
	if len(unsaved) > 0 {
		fresh = ` AND s.version = COALESCE((SELECT v.version FROM figure_versions v WHERE v.unit_id = s.unit_id), 0)`
	}
	if err := tx.QueryRow(ctx, `SELECT COALESCE(sum(s.registered), 0), COALESCE(sum(s.managed), 0), COALESCE(sum(s.standardised), 0),
		COALESCE(sum(s.medicated), 0), COALESCE(sum(s.regular_medication), 0), COALESCE(sum(s.face_to_face), 0),
		COALESCE(sum(s.stable), 0), COALESCE(sum(s.health_checked), 0), COALESCE(sum(s.emergencies), 0)
		FROM figure_snapshots s JOIN org_units o ON o.id = s.unit_id
		WHERE s.period = ? AND o.path >= ? AND o.path < ?`+fresh, period, lo, hi).
		Scan(&c.Registered, &c.Managed, &c.Standardised, &c.Medicated, &c.RegularMedication, &c.FaceToFace, &c.Stable,
			&c.HealthChecked, &c.Emergencies); err != nil {
		return c, fmt.Errorf("report: snapshots: %w", err)
	}
	for _, u := range unsaved {
		c.Registered += u.Registered
		c.Managed += u.Managed
		c.Standardised += u.Standardised
		c.Medicated += u.Medicated
		c.RegularMedication += u.RegularMedication
		c.FaceToFace += u.FaceToFace
		c.Stable += u.Stable
		c.HealthChecked += u.HealthChecked
		c.Emergencies += u.Emergencies
	}
	// A managed or lost patient has not left the register, so left_on
	// needs no test here, and patients_open answers this alone.
	to := scope.Period.To.String()
	if err := tx.QueryRow(ctx, `SELECT COALESCE(sum(CASE WHEN p.status = 'managed' AND p.next_due_on < ? THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN p.status = 'lost' THEN 1 ELSE 0 END), 0)
		FROM patients p WHERE p.org_path >= ? AND p.org_path < ? AND p.severe = ? AND p.status IN ('managed', 'lost')
		AND p.registered_on <= ?`, scope.AsOf.String(), lo, hi, true, to).Scan(&c.Overdue, &c.Lost); err != nil {
		return c, fmt.Errorf("report: overdue: %w", err)
	}
	return c, nil
}

// refresh recomputes the snapshots of scope's communities that are missing
// or stale and saves them; in a read-only transaction it returns them
// instead, by community.
func refresh(ctx context.Context, tx *store.Tx, scope Scope) (map[int64]kpi.Counts, error) {
	period := scope.Period.String()
	lo, hi := store.Beneath(scope.Path)
	rows, err := tx.Query(ctx, `SELECT o.id, o.path, COALESCE(v.version, 0) FROM org_units o
		LEFT JOIN figure_versions v ON v.unit_id = o.id
		LEFT JOIN figure_snapshots s ON s.unit_id = o.id AND s.period = ?
		WHERE o.level = 'community' AND o.path >= ? AND o.path < ? AND (s.unit_id IS NULL OR s.version <> COALESCE(v.version, 0))`,
		period, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("report: stale snapshots: %w", err)
	}
	type stale struct {
		id, version int64
		path        string
	}
	var list []stale
	for rows.Next() {
		var st stale
		if err := rows.Scan(&st.id, &st.path, &st.version); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(list) == 0 {
		return nil, err
	}
	counts := map[int64]kpi.Counts{}
	if len(list) <= fewStale {
		for _, st := range list {
			one := scope
			one.Path = st.path
			m, err := countsBy(ctx, tx, one, true)
			if err != nil {
				return nil, err
			}
			counts[st.id] = m[st.id]
		}
	} else if counts, err = countsBy(ctx, tx, scope, true); err != nil {
		return nil, err
	}
	if tx.ReadOnly() {
		unsaved := make(map[int64]kpi.Counts, len(list))
		for _, st := range list {
			unsaved[st.id] = counts[st.id]
		}
		return unsaved, nil
	}
	now := store.FormatTime(tx.Now())
	for _, st := range list {
		c := counts[st.id]
		if _, err := tx.Exec(ctx, `INSERT INTO figure_snapshots (unit_id, period, version, registered, managed, standardised,
			medicated, regular_medication, face_to_face, stable, health_checked, emergencies, computed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (unit_id, period) DO UPDATE SET version = excluded.version, registered = excluded.registered,
			managed = excluded.managed, standardised = excluded.standardised, medicated = excluded.medicated,
			regular_medication = excluded.regular_medication, face_to_face = excluded.face_to_face, stable = excluded.stable,
			health_checked = excluded.health_checked, emergencies = excluded.emergencies, computed_at = excluded.computed_at`,
			st.id, period, st.version, c.Registered, c.Managed, c.Standardised, c.Medicated, c.RegularMedication, c.FaceToFace,
			c.Stable, c.HealthChecked, c.Emergencies, now); err != nil {
			return nil, fmt.Errorf("report: save snapshot: %w", err)
		}
	}
	return nil, nil
}
