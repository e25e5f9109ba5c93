package report

import (
	"context"
	"fmt"
	"slices"
	"strconv"
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
// with its time (computed_at: when it was counted, or last found current
// by RefreshStale), and RefreshStale, run in the background, recomputes
// them outside the writer (counting in a read transaction, saving in a
// short write). A busy district then never makes a reader wait
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
	c, _, err := SnapshotCounts(ctx, tx, []Scope{scope}, population)
	if err != nil {
		return kpi.Counts{}, err
	}
	return c[0], nil
}

// SnapshotCounts is CachedCounts for several periods of one unit (scopes
// that differ in Period and AsOf only): one statement lists the stale
// snapshots of every period and another sums the saved snapshots of all
// periods, both in one round trip (store.Tx.QueryAll), with the statements
// of also, if any. When nothing is to be recounted (every snapshot current,
// or stale and served: Scope.MaxStale, as under write load) the sums stand,
// and a figures page with its previous period, or a year's trend, is that
// one round trip: under write load each round trip waits its turn for a
// processor (issue 16, item 7). Otherwise those to recount are counted
// together (countStale) and the others summed again.
// asOf[i] is the time of the oldest stale snapshot served for scopes[i]
// (see Scope.MaxStale), or zero when every one was up to date.
func SnapshotCounts(ctx context.Context, tx *store.Tx, scopes []Scope, population int64, also ...store.Query) (counts []kpi.Counts, asOf []time.Time, err error) {
	counts, asOf = make([]kpi.Counts, len(scopes)), make([]time.Time, len(scopes))
	var cached []int // the scopes counted through the snapshots
	for i, scope := range scopes {
		if scope.Period.Kind != kpi.KindRange {
			cached = append(cached, i)
		} else if counts[i], err = Counts(ctx, tx, scope, population); err != nil {
			return nil, nil, err
		}
	}
	if len(cached) == 0 {
		return counts, asOf, tx.QueryAll(ctx, also...)
	}
	stales := map[int][]stale{}
	saved := make([]kpi.Counts, len(scopes)) // the sums of every saved snapshot
	queries := append(slices.Clip(also), staleQuery(scopes, cached, stales))
	if q, ok := sumsQuery(scopes, cached, nil, saved); ok {
		queries = append(queries, q)
	}
	if err := tx.QueryAll(ctx, queries...); err != nil {
		return nil, nil, err
	}
	recounts := map[int][]stale{}
	for _, i := range cached {
		scope := scopes[i]
		for _, st := range stales[i] {
			if !st.computed.IsZero() && scope.MaxStale > 0 && tx.Now().Sub(st.computed) < scope.MaxStale {
				if asOf[i].IsZero() || st.computed.Before(asOf[i]) {
					asOf[i] = st.computed
				}
				continue
			}
			recounts[i] = append(recounts[i], st)
		}
	}
	if len(recounts) == 0 {
		for _, i := range cached {
			counts[i] = saved[i]
			counts[i].Population = population
		}
		return counts, asOf, nil
	}
	recounted, err := countStale(ctx, tx, scopes, recounts)
	if err != nil {
		return nil, nil, err
	}
	for _, i := range cached {
		scope, recount, fresh := scopes[i], recounts[i], recounted[i]
		if len(recount) > 0 {
			switch {
			case scope.Defer != nil:
				save := scope
				save.Defer = nil
				scope.Defer(func(wtx *store.Tx) error { return saveSnapshots(ctx, wtx, save, recount, fresh) })
			case tx.ReadOnly():
				// A standby cannot save them: the counts are used from memory.
			default:
				if err := saveSnapshots(ctx, tx, scope, recount, fresh); err != nil {
					return nil, nil, err
				}
			}
		}
		counts[i].Population = population
	}
	if err := sumSnapshots(ctx, tx, scopes, cached, recounts, recounted, counts); err != nil {
		return nil, nil, err
	}
	return counts, asOf, nil
}

// sumSnapshots adds to counts[i], for each scope i of cached, the sum of
// the snapshots of its communities, taking the recounted ones' counts from
// fresh (their saved snapshots may not be written yet).
func sumSnapshots(ctx context.Context, tx *store.Tx, scopes []Scope, cached []int, recounts map[int][]stale,
	fresh map[int]map[int64]kpi.Counts, counts []kpi.Counts) error {
	q, ok := sumsQuery(scopes, cached, recounts, counts)
	for i, list := range recounts {
		if len(list) > fewStale { // a grouped pass
			for _, x := range fresh[i] {
				addSnapshot(&counts[i], x)
			}
			continue
		}
		for _, st := range list {
			addSnapshot(&counts[i], fresh[i][st.id])
		}
	}
	if !ok {
		return nil
	}
	return tx.QueryAll(ctx, q)
}

// sumsQuery is the statement that adds to counts[i], for each scope i of
// cached, the sum of the saved snapshots of its communities but those of
// recounts[i], and false if there is none to read. When a scope's recount
// was a grouped pass over the whole unit (more than fewStale), none of its
// snapshots is read. The others' are one statement for all their periods,
// kept prepared: its plan does not depend on the unit (a range of paths of
// the few org units, and their snapshots by key).
func sumsQuery(scopes []Scope, cached []int, recounts map[int][]stale, counts []kpi.Counts) (store.Query, bool) {
	byPeriod := map[string][]int{} // the scopes whose saved snapshots are read
	var periods, skip []string
	var args, skipArgs []any
	for _, i := range cached {
		if len(recounts[i]) > fewStale { // a grouped pass
			continue
		}
		period := scopes[i].Period.String()
		if len(byPeriod[period]) == 0 {
			periods, args = append(periods, "?"), append(args, period)
			if recount := recounts[i]; len(recount) > 0 {
				skip = append(skip, ` AND NOT (s.period = ? AND s.unit_id IN (`+store.Marks(len(recount))+`))`)
				skipArgs = append(skipArgs, period)
				for _, st := range recount {
					skipArgs = append(skipArgs, st.id)
				}
			}
		}
		byPeriod[period] = append(byPeriod[period], i)
	}
	if len(periods) == 0 {
		return store.Query{}, false
	}
	lo, hi := store.Beneath(scopes[cached[0]].Path)
	return store.Query{
		SQL: `SELECT s.period, ` + sumColumns + ` FROM figure_snapshots s JOIN org_units o ON o.id = s.unit_id
		WHERE s.period IN (` + strings.Join(periods, ", ") + `) AND o.path >= ? AND o.path < ?` + strings.Join(skip, "") + `
		GROUP BY s.period`,
		Args: append(append(args, lo, hi), skipArgs...),
		Row: func(scan func(...any) error) error {
			var period string
			var x kpi.Counts
			if err := scan(&period, &x.Registered, &x.Managed, &x.Standardised, &x.Medicated, &x.RegularMedication,
				&x.FaceToFace, &x.Stable, &x.HealthChecked, &x.Emergencies, &x.Overdue, &x.Lost, &x.PlanCovered,
				&x.ReviewsOnTime, &x.ReviewsDue, &x.GoalsAchieved, &x.GoalsReviewed); err != nil {
				return fmt.Errorf("report: snapshots: %w", err)
			}
			for _, i := range byPeriod[period] {
				addSnapshot(&counts[i], x)
			}
			return nil
		},
	}, true
}

// sumColumns are the sums of the snapshots' counts, in the order of
// addSnapshot's fields.
const sumColumns = `COALESCE(sum(s.registered), 0), COALESCE(sum(s.managed), 0), COALESCE(sum(s.standardised), 0),
	COALESCE(sum(s.medicated), 0), COALESCE(sum(s.regular_medication), 0), COALESCE(sum(s.face_to_face), 0),
	COALESCE(sum(s.stable), 0), COALESCE(sum(s.health_checked), 0), COALESCE(sum(s.emergencies), 0),
	COALESCE(sum(s.overdue), 0), COALESCE(sum(s.lost), 0), COALESCE(sum(s.plan_covered), 0),
	COALESCE(sum(s.reviews_on_time), 0), COALESCE(sum(s.reviews_due), 0), COALESCE(sum(s.goals_achieved), 0),
	COALESCE(sum(s.goals_reviewed), 0)`

// addSnapshot adds to c the counts a community snapshot holds.
func addSnapshot(c *kpi.Counts, x kpi.Counts) {
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
	c.PlanCovered += x.PlanCovered
	c.ReviewsOnTime += x.ReviewsOnTime
	c.ReviewsDue += x.ReviewsDue
	c.GoalsAchieved += x.GoalsAchieved
	c.GoalsReviewed += x.GoalsReviewed
}

// RefreshStale recomputes the missing or stale snapshots of the
// communities beneath scopes' unit for each of their periods (the scopes
// share their Path) without holding the writer while counting: the
// versions and counts are read in one read transaction (versions first,
// so that a write committed between the two can only leave the snapshot
// marked stale, never mark a stale one current), and saved in a short
// write transaction. That transaction also marks the current snapshots
// counted more than recheck ago as current now (confirmCurrent).
func RefreshStale(ctx context.Context, db *store.DB, scopes ...Scope) error {
	if len(scopes) == 0 {
		return nil
	}
	which := make([]int, len(scopes))
	for i := range which {
		which[i] = i
	}
	var stales map[int][]stale
	var counts map[int]map[int64]kpi.Counts
	if err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if stales, err = staleSnapshots(ctx, tx, scopes, which); err != nil || len(stales) == 0 {
			return err
		}
		counts, err = countStale(ctx, tx, scopes, stales)
		return err
	}); err != nil {
		return err
	}
	return db.Transact(ctx, func(tx *store.Tx) error {
		for i, scope := range scopes {
			if err := saveSnapshots(ctx, tx, scope, stales[i], counts[i]); err != nil {
				return err
			}
		}
		return confirmCurrent(ctx, tx, scopes)
	})
}

// recheck is how old a current snapshot may be before RefreshStale marks it
// current again.
const recheck = 2 * time.Minute

// confirmCurrent sets the time of the snapshots of scopes that are current
// (their community's version, their day) and were counted more than
// recheck ago to the transaction's time: their counts are still right now.
// A snapshot's time is when its counts were last known right, and a reader
// is served a stale one for a while after that time (Scope.MaxStale). A
// community without writes overnight kept the time it was counted at; its
// first write in the morning made it stale and already too old to serve,
// and readers waited for its recount, a district's figures 0.85–1.8 s at p99 in
// `kith bench -clients` on a database whose snapshots were counted in an
// earlier run. The version is compared in this write transaction, so a
// write after the refresh's read leaves the snapshot stale, not confirmed.
func confirmCurrent(ctx context.Context, tx *store.Tx, scopes []Scope) error {
	now := tx.Now()
	lo, hi := store.Beneath(scopes[0].Path)
	var which []string
	args := []any{store.FormatTime(now), store.FormatTime(now.Add(-recheck))}
	for _, s := range scopes {
		which = append(which, `(period = ? AND counted_on = ?)`)
		args = append(args, s.Period.String(), s.AsOf.String())
	}
	if _, err := tx.Exec(ctx, `UPDATE figure_snapshots SET computed_at = ? WHERE computed_at < ? AND (`+strings.Join(which, " OR ")+`)
		AND version = COALESCE((SELECT v.version FROM figure_versions v WHERE v.unit_id = figure_snapshots.unit_id), 0)
		AND unit_id IN (SELECT o.id FROM org_units o WHERE o.level = 'community' AND o.path >= ? AND o.path < ?)`,
		append(args, lo, hi)...); err != nil {
		return fmt.Errorf("report: confirm snapshots: %w", err)
	}
	return nil
}

// AgingPeriods lists the periods that have a snapshot which writes have
// made stale and whose time is before the given one: a reader may be
// served such a snapshot only for a while after its time (Scope.MaxStale),
// and then waits for its recount.
func AgingPeriods(ctx context.Context, db *store.DB, before time.Time) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT s.period FROM figure_snapshots s LEFT JOIN figure_versions v ON v.unit_id = s.unit_id
		WHERE s.version <> COALESCE(v.version, 0) AND s.computed_at < ? ORDER BY s.period`, store.FormatTime(before))
	if err != nil {
		return nil, fmt.Errorf("report: aging snapshots: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// stale is a community whose snapshot for a period is missing (computed
// zero) or behind its version.
type stale struct {
	id, version int64
	path        string
	computed    time.Time
}

// staleSnapshots lists, for each scope of which (by index; the scopes
// share their path), the communities whose snapshot for the scope's
// period is missing or stale.
func staleSnapshots(ctx context.Context, tx *store.Tx, scopes []Scope, which []int) (map[int][]stale, error) {
	out := map[int][]stale{}
	if err := tx.QueryAll(ctx, staleQuery(scopes, which, out)); err != nil {
		return nil, err
	}
	return out, nil
}

// staleQuery is staleSnapshots' statement, which adds its list to out.
func staleQuery(scopes []Scope, which []int, out map[int][]stale) store.Query {
	// The periods wanted, with the day each counts overdue on, as a
	// derived table of one row each.
	var want []string
	var args []any
	for _, i := range which {
		want = append(want, `SELECT `+strconv.Itoa(i)+` AS i, CAST(? AS TEXT) AS period, CAST(? AS TEXT) AS counted_on`)
		args = append(args, scopes[i].Period.String(), scopes[i].AsOf.String())
	}
	lo, hi := store.Beneath(scopes[which[0]].Path)
	return store.Query{
		SQL: `SELECT w.i, o.id, o.path, COALESCE(v.version, 0), COALESCE(s.computed_at, '')
		FROM org_units o CROSS JOIN (` + strings.Join(want, " UNION ALL ") + `) w
		LEFT JOIN figure_versions v ON v.unit_id = o.id
		LEFT JOIN figure_snapshots s ON s.unit_id = o.id AND s.period = w.period
		WHERE o.level = 'community' AND o.path >= ? AND o.path < ?
		AND (s.unit_id IS NULL OR s.version <> COALESCE(v.version, 0) OR s.counted_on <> w.counted_on)`,
		Args: append(args, lo, hi),
		Row: func(scan func(...any) error) error {
			var i int
			var st stale
			var computed string
			if err := scan(&i, &st.id, &st.path, &st.version, &computed); err != nil {
				return fmt.Errorf("report: stale snapshots: %w", err)
			}
			st.computed = store.MustTime(computed)
			out[i] = append(out[i], st)
			return nil
		},
	}
}

// countStale counts the figures of the communities listed for each of
// scopes (by index; the scopes share their Path): for the scopes with
// many, all communities beneath the unit in one grouped pass for all those
// periods together; for the others, one community at a time, each for all
// the periods it is listed in.
func countStale(ctx context.Context, tx *store.Tx, scopes []Scope, lists map[int][]stale) (map[int]map[int64]kpi.Counts, error) {
	out := map[int]map[int64]kpi.Counts{}
	var grouped []int
	var few []stale            // the communities of the other scopes, in order
	fewIn := map[int64][]int{} // and the scopes each is listed in
	for i := range scopes {
		switch list := lists[i]; {
		case len(list) > fewStale:
			grouped = append(grouped, i)
		case len(list) > 0:
			out[i] = map[int64]kpi.Counts{}
			for _, st := range list {
				if len(fewIn[st.id]) == 0 {
					few = append(few, st)
				}
				fewIn[st.id] = append(fewIn[st.id], i)
			}
		}
	}
	if len(grouped) > 0 {
		m, err := countsBy(ctx, tx, pick(scopes, grouped, ""), true)
		if err != nil {
			return nil, err
		}
		for j, i := range grouped {
			out[i] = m[j]
		}
	}
	for _, st := range few {
		m, err := countsBy(ctx, tx, pick(scopes, fewIn[st.id], st.path), true)
		if err != nil {
			return nil, err
		}
		for j, i := range fewIn[st.id] {
			out[i][st.id] = m[j][st.id]
		}
	}
	return out, nil
}

// pick returns the scopes of the indexes, beneath path if it is not "".
func pick(scopes []Scope, indexes []int, path string) []Scope {
	out := make([]Scope, len(indexes))
	for j, i := range indexes {
		out[j] = scopes[i]
		if path != "" {
			out[j].Path = path
		}
	}
	return out
}

// saveSnapshots stores the counts of the listed communities with the
// versions they were counted at.
func saveSnapshots(ctx context.Context, tx *store.Tx, scope Scope, list []stale, counts map[int64]kpi.Counts) error {
	period := scope.Period.String()
	now := store.FormatTime(tx.Now())
	for _, st := range list {
		c := counts[st.id]
		if _, err := tx.Exec(ctx, `INSERT INTO figure_snapshots (unit_id, period, version, registered, managed, standardised,
			medicated, regular_medication, face_to_face, stable, health_checked, emergencies, overdue, lost,
			plan_covered, reviews_on_time, reviews_due, goals_achieved, goals_reviewed, counted_on, computed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (unit_id, period) DO UPDATE SET version = excluded.version, registered = excluded.registered,
			managed = excluded.managed, standardised = excluded.standardised, medicated = excluded.medicated,
			regular_medication = excluded.regular_medication, face_to_face = excluded.face_to_face, stable = excluded.stable,
			health_checked = excluded.health_checked, emergencies = excluded.emergencies, overdue = excluded.overdue,
			lost = excluded.lost, plan_covered = excluded.plan_covered, reviews_on_time = excluded.reviews_on_time,
			reviews_due = excluded.reviews_due, goals_achieved = excluded.goals_achieved, goals_reviewed = excluded.goals_reviewed,
			counted_on = excluded.counted_on, computed_at = excluded.computed_at
			WHERE figure_snapshots.version <= excluded.version`,
			st.id, period, st.version, c.Registered, c.Managed, c.Standardised, c.Medicated, c.RegularMedication, c.FaceToFace,
			c.Stable, c.HealthChecked, c.Emergencies, c.Overdue, c.Lost, c.PlanCovered, c.ReviewsOnTime, c.ReviewsDue,
			c.GoalsAchieved, c.GoalsReviewed, scope.AsOf.String(), now); err != nil {
			return fmt.Errorf("report: save snapshot: %w", err)
		}
	}
	return nil
}
