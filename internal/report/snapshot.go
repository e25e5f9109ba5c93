package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"kith/internal/kpi"
	"kith/internal/store"
)

// A district's or the province's figures for a month, quarter or year are
// summed from per-community snapshots (figure_snapshots). A snapshot holds
// while its version equals the community's figure version, which every
// write that can change the community's figures increments (Touch), in the
// writer's transaction. Missing snapshots are computed when read. Stale ones
// are recomputed when read too, unless the scope allows serving them for a
// while (Scope.MaxStale): then the reader gets the last snapshot at once,
// with the time it was computed, and RefreshStale, run in the background,
// recomputes them outside the writer (counting in a read transaction,
// saving in a short write). A busy district then never makes a reader wait
// for a recount, nor a recount hold SQLite's writer. Overdue depends on the
// day it is judged on as well (Scope.AsOf): a snapshot keeps the day it was
// counted on, and is stale on any other.

// Touch records, in the caller's transaction, that patient's community's
// figures may have changed.
func Touch(ctx context.Context, tx *store.Tx, patientID int64) error {
	return tx.Later(ctx, `INSERT INTO figure_versions (unit_id, version) SELECT org_unit_id, 1 FROM patients WHERE id = ?
		ON CONFLICT (unit_id) DO UPDATE SET version = figure_versions.version + 1`, patientID)
}

// TouchUnits is Touch for the communities of many patients at once (an
// import's batch), given by their unit ids. It updates their rows in the
// ids' order, so that two batches written side by side, which touch the
// same communities, wait for each other rather than deadlock.
func TouchUnits(ctx context.Context, tx *store.Tx, units []int64) error {
	if len(units) == 0 {
		return nil
	}
	units = slices.Sorted(slices.Values(units))
	args := make([]any, len(units))
	for i, u := range units {
		args[i] = u
	}
	return tx.Later(ctx, `INSERT INTO figure_versions (unit_id, version) VALUES `+
		strings.TrimSuffix(strings.Repeat("(?, 1), ", len(units)), ", ")+`
		ON CONFLICT (unit_id) DO UPDATE SET version = figure_versions.version + 1`, args...)
}

// fewStale is how many stale communities are recomputed one by one rather
// than in one grouped pass over the whole unit.
const fewStale = 20

// CachedCounts is Counts through the community snapshots. Ranges that are
// not a month, quarter or year are counted directly.
func CachedCounts(ctx context.Context, tx *store.Tx, scope Scope, population int64) (kpi.Counts, error) {
	c, _, err := SnapshotCounts(ctx, tx, scope, population)
	return c, err
}

// SnapshotCounts is CachedCounts that also says how current the counts are:
// asOf is the time of the oldest stale snapshot served (see Scope.MaxStale),
// or zero when every snapshot was up to date.
func SnapshotCounts(ctx context.Context, tx *store.Tx, scope Scope, population int64) (c kpi.Counts, asOf time.Time, err error) {
	if scope.Period.Kind == kpi.KindRange {
		c, err = Counts(ctx, tx, scope, population)
		return c, asOf, err
	}
	list, err := staleSnapshots(ctx, tx, scope)
	if err != nil {
		return c, asOf, err
	}
	var recount []stale
	for _, st := range list {
		if !st.computed.IsZero() && scope.MaxStale > 0 && tx.Now().Sub(st.computed) < scope.MaxStale {
			if asOf.IsZero() || st.computed.Before(asOf) {
				asOf = st.computed
			}
			continue
		}
		recount = append(recount, st)
	}
	counts, err := countStale(ctx, tx, scope, recount)
	if err != nil {
		return c, asOf, err
	}
	if len(recount) > 0 {
		switch {
		case scope.Defer != nil:
			save := scope
			save.Defer = nil
			scope.Defer(func(wtx *store.Tx) error { return saveSnapshots(ctx, wtx, save, recount, counts) })
		case tx.ReadOnly():
			// A standby cannot save them: the counts are used from memory.
		default:
			if err := saveSnapshots(ctx, tx, scope, recount, counts); err != nil {
				return c, asOf, err
			}
		}
	}
	if c, err = sumSnapshots(ctx, tx, scope, population, recount, counts); err != nil {
		return c, asOf, err
	}
	return c, asOf, planCounts(ctx, tx, scope, &c)
}

// sumSnapshots adds up the snapshots of scope's communities, taking the
// fresh counts of the recounted ones from counts (their saved snapshots may
// not be written yet). When the recount was a grouped pass over the whole
// unit, counts holds every community and the snapshots are not read.
func sumSnapshots(ctx context.Context, tx *store.Tx, scope Scope, population int64, recount []stale, counts map[int64]kpi.Counts) (kpi.Counts, error) {
	c := kpi.Counts{Population: population}
	add := func(x kpi.Counts) {
		c.Registered += x.Registered
		c.Managed += x.Managed
		c.Standardised += x.Standardised
		c.Medicated += x.Medicated
		c.RegularMedication += x.RegularMedication
		c.FaceToFace += x.FaceToFace
		c.Stable += x.Stable
		c.HealthChecked += x.HealthChecked
		c.Emergencies += x.Emergencies
		c.Overdue += x.Overdue
		c.Lost += x.Lost
	}
	if len(recount) > fewStale { // a grouped pass: counts has them all
		for _, x := range counts {
			add(x)
		}
		return c, nil
	}
	lo, hi := store.Beneath(scope.Path)
	q := `SELECT COALESCE(sum(s.registered), 0), COALESCE(sum(s.managed), 0), COALESCE(sum(s.standardised), 0),
		COALESCE(sum(s.medicated), 0), COALESCE(sum(s.regular_medication), 0), COALESCE(sum(s.face_to_face), 0),
		COALESCE(sum(s.stable), 0), COALESCE(sum(s.health_checked), 0), COALESCE(sum(s.emergencies), 0),
		COALESCE(sum(s.overdue), 0), COALESCE(sum(s.lost), 0)
		FROM figure_snapshots s JOIN org_units o ON o.id = s.unit_id
		WHERE s.period = ? AND o.path >= ? AND o.path < ?`
	args := []any{scope.Period.String(), lo, hi}
	if len(recount) > 0 {
		q += ` AND s.unit_id NOT IN (` + store.Marks(len(recount)) + `)`
		for _, st := range recount {
			args = append(args, st.id)
			add(counts[st.id])
		}
	}
	var x kpi.Counts
	if err := tx.QueryRow(ctx, q, args...).Scan(&x.Registered, &x.Managed, &x.Standardised, &x.Medicated,
		&x.RegularMedication, &x.FaceToFace, &x.Stable, &x.HealthChecked, &x.Emergencies, &x.Overdue, &x.Lost); err != nil {
		return c, fmt.Errorf("report: snapshots: %w", err)
	}
	add(x)
	return c, nil
}

// RefreshStale recomputes the missing or stale snapshots of scope's
// communities without holding the writer while counting: the versions and
// counts are read in one read transaction (versions first, so that a write
// committed between the two can only leave the snapshot marked stale, never
// mark a stale one current), and saved in a short write transaction.
func RefreshStale(ctx context.Context, db *store.DB, scope Scope) error {
	var list []stale
	var counts map[int64]kpi.Counts
	if err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if list, err = staleSnapshots(ctx, tx, scope); err != nil || len(list) == 0 {
			return err
		}
		counts, err = countStale(ctx, tx, scope, list)
		return err
	}); err != nil || len(list) == 0 {
		return err
	}
	return db.Transact(ctx, func(tx *store.Tx) error { return saveSnapshots(ctx, tx, scope, list, counts) })
}

// stale is a community whose snapshot for a period is missing (computed
// zero) or behind its version.
type stale struct {
	id, version int64
	path        string
	computed    time.Time
}

// staleSnapshots lists scope's communities whose snapshot is missing or
// stale.
func staleSnapshots(ctx context.Context, tx *store.Tx, scope Scope) ([]stale, error) {
	period := scope.Period.String()
	lo, hi := store.Beneath(scope.Path)
	rows, err := tx.Query(ctx, `SELECT o.id, o.path, COALESCE(v.version, 0), COALESCE(s.computed_at, '') FROM org_units o
		LEFT JOIN figure_versions v ON v.unit_id = o.id
		LEFT JOIN figure_snapshots s ON s.unit_id = o.id AND s.period = ?
		WHERE o.level = 'community' AND o.path >= ? AND o.path < ?
		AND (s.unit_id IS NULL OR s.version <> COALESCE(v.version, 0) OR s.counted_on <> ?)`,
		period, lo, hi, scope.AsOf.String())
	if err != nil {
		return nil, fmt.Errorf("report: stale snapshots: %w", err)
	}
	defer rows.Close()
	var list []stale
	for rows.Next() {
		var st stale
		var computed string
		if err := rows.Scan(&st.id, &st.path, &st.version, &computed); err != nil {
			return nil, err
		}
		st.computed = store.MustTime(computed)
		list = append(list, st)
	}
	return list, rows.Err()
}

// countStale counts the figures of the listed communities: one at a time
// when few are, else all communities beneath the unit in one grouped pass.
func countStale(ctx context.Context, tx *store.Tx, scope Scope, list []stale) (map[int64]kpi.Counts, error) {
	if len(list) == 0 {
		return nil, nil
	}
	if len(list) > fewStale {
		return countsBy(ctx, tx, scope, true)
	}
	counts := map[int64]kpi.Counts{}
	for _, st := range list {
		one := scope
		one.Path = st.path
		m, err := countsBy(ctx, tx, one, true)
		if err != nil {
			return nil, err
		}
		counts[st.id] = m[st.id]
	}
	return counts, nil
}

// saveSnapshots stores the counts of the listed communities with the
// versions they were counted at.
func saveSnapshots(ctx context.Context, tx *store.Tx, scope Scope, list []stale, counts map[int64]kpi.Counts) error {
	period := scope.Period.String()
	now := store.FormatTime(tx.Now())
	for _, st := range list {
		c := counts[st.id]
		if _, err := tx.Exec(ctx, `INSERT INTO figure_snapshots (unit_id, period, version, registered, managed, standardised,
			medicated, regular_medication, face_to_face, stable, health_checked, emergencies, overdue, lost, counted_on, computed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (unit_id, period) DO UPDATE SET version = excluded.version, registered = excluded.registered,
			managed = excluded.managed, standardised = excluded.standardised, medicated = excluded.medicated,
			regular_medication = excluded.regular_medication, face_to_face = excluded.face_to_face, stable = excluded.stable,
			health_checked = excluded.health_checked, emergencies = excluded.emergencies, overdue = excluded.overdue,
			lost = excluded.lost, counted_on = excluded.counted_on, computed_at = excluded.computed_at
			WHERE figure_snapshots.version <= excluded.version`,
			st.id, period, st.version, c.Registered, c.Managed, c.Standardised, c.Medicated, c.RegularMedication, c.FaceToFace,
			c.Stable, c.HealthChecked, c.Emergencies, c.Overdue, c.Lost, scope.AsOf.String(), now); err != nil {
			return fmt.Errorf("report: save snapshot: %w", err)
		}
	}
	return nil
}
