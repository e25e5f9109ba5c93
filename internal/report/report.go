// Package report computes Kith's figures (R-KPI) in SQL, on either engine:
// the counts for an org unit (and everything beneath it) and a period, and
// the lists of patients behind them. No patient row is loaded into Go to
// count it; the formulas that turn counts into rates are in package kpi.
package report

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/clinical"
	"kith/internal/kpi"
	"kith/internal/store"
)

// perPatient folds the reached follow-ups of the unit's patients to one row
// per patient (computed once, as a materialised CTE: estimates for a
// narrow path range are poor, and the planner would otherwise redo the
// aggregate for every patient), with the sums each period of scopes needs
// (scopes share their Path) over its window: from the start of the
// period's year (or of the period, if earlier) to the period's end. With
// one scope the columns are n_period, n_year, n_f2f, n_check, last_adh and
// last_class; with several, each is suffixed with the scope's index
// (windowed). Several periods are then one pass over the follow-ups of
// all their windows instead of one pass each, which read most of a year
// every time (the background refresh recounts six periods of a busy
// district together, issue 16). The latest follow-up's adherence and
// classification in a window are needed only for a patient followed up
// again after the period (otherwise they are the patient's summary,
// latestAdherence and latestStable); they are found as the greatest
// "date|value" string: dates sort as text. (Building those strings for
// every follow-up was about a third of a district's count.)
//
// need, when not nil, names the only columns wanted (unsuffixed): the
// follow-ups read then start where the earliest of their windows does, so
// that a month's list behind the management rate reads the month, not the
// year to its end.
func perPatient(scopes []Scope, need []string) (string, []any) {
	var cols []string
	var args []any
	first, last := "", ""
	for k, s := range scopes {
		from, to, year := s.Period.From.String(), s.Period.To.String(), s.Period.YearStart().String()
		start := min(from, year)
		last = max(last, to)
		for _, c := range []struct {
			name, expr string
			args       []any
			since      string // the window's first day
		}{
			{"n_period", `sum(CASE WHEN f.date >= ? AND f.date <= ? THEN 1 ELSE 0 END)`, []any{from, to}, from},
			{"n_year", `sum(CASE WHEN f.date >= ? AND f.date <= ? THEN 1 ELSE 0 END)`, []any{year, to}, year},
			{"n_f2f", `sum(CASE WHEN f.date >= ? AND f.date <= ? AND f.mode <> 'phone' THEN 1 ELSE 0 END)`, []any{from, to}, from},
			{"n_check", `sum(CASE WHEN f.date >= ? AND f.date <= ? AND f.health_check = ? THEN 1 ELSE 0 END)`, []any{year, to, true}, year},
			{"last_adh", `max(CASE WHEN q.last_followup_on > ? AND f.date >= ? AND f.date <= ? THEN f.date || '|' || f.medication_adherence END)`,
				[]any{to, start, to}, start},
			{"last_class", `max(CASE WHEN q.last_followup_on > ? AND f.date >= ? AND f.date <= ? THEN f.date || '|' || f.classification END)`,
				[]any{to, from, to}, from},
		} {
			if need != nil && !slices.Contains(need, c.name) {
				continue
			}
			if first == "" || c.since < first {
				first = c.since
			}
			cols = append(cols, windowed(c.expr+` AS `+c.name, len(scopes), k))
			args = append(args, c.args...)
		}
	}
	lo, hi := store.Beneath(scopes[0].Path)
	return `SELECT f.patient_id, ` + strings.Join(cols, ",\n\t\t") + `
	FROM follow_ups f JOIN patients q ON q.id = f.patient_id
	WHERE q.org_path >= ? AND q.org_path < ? AND f.reached = ? AND f.superseded_by IS NULL AND f.date >= ? AND f.date <= ?
	GROUP BY f.patient_id`, append(args, lo, hi, true, first, last)
}

// windowed suffixes the names of perPatient's columns in an expression
// (as "AS name" in perPatient, as "a.name" where they are read) with k, the
// index of its scope among n, when there are several.
func windowed(expr string, n, k int) string {
	if n == 1 {
		return expr
	}
	var pairs []string
	for _, name := range []string{"n_period", "n_year", "n_f2f", "n_check", "last_adh", "last_class"} {
		for _, in := range []string{"AS ", "a."} {
			pairs = append(pairs, in+name, in+name+strconv.Itoa(k))
		}
	}
	return strings.NewReplacer(pairs...).Replace(expr)
}

// registeredWhere selects the register at the period's end (R-KPI): one of
// the six disorders, registered by then, not deceased or moved away by then.
const registeredWhere = `p.org_path >= ? AND p.org_path < ? AND p.severe = ? AND p.registered_on <= ? AND (p.left_on = '' OR p.left_on > ?)`

// latestAdherence is the adherence of the latest reached follow-up up to
// the period's end (R-KPI, the medication rates): the patient's latest (the
// summary) if that is not after the period, else the latest in the window,
// else the latest before it, looked up (a patient followed up before a
// closed period and after it, not in it; without the look-up the period's
// figures fell with the next follow-up). Its arguments are adherenceArgs.
const latestAdherence = `(CASE WHEN p.last_followup_on <= ? THEN p.last_adherence
	ELSE COALESCE(substr(a.last_adh, 12), (SELECT l.medication_adherence FROM follow_ups l WHERE l.patient_id = p.id AND l.reached = ?
		AND l.superseded_by IS NULL AND l.date <= ? ORDER BY l.date DESC, l.id DESC LIMIT 1)) END)`

// adherenceArgs are latestAdherence's arguments for a period ending on to.
func adherenceArgs(to string) []any { return []any{to, true, to} }

// latestStable is the condition that the latest reached follow-up in the
// period was classed stable (R-KPI, the stability rate): the patient's
// latest (the summary) if that is in the period, else, for a patient
// followed up again after it, the latest in the window from the period's
// start. Its arguments are stableArgs.
const latestStable = `(CASE WHEN p.last_followup_on <= ? THEN p.last_followup_on >= ? AND p.last_classification = 'stable'
	ELSE substr(a.last_class, 12) = 'stable' END)`

// stableArgs are latestStable's arguments for a period from from to to.
func stableArgs(from, to string) []any { return []any{to, from} }

// Scope is what the figures are for.
type Scope struct {
	Path   string // the org unit's path; everything beneath it counts
	Period kpi.Period
	// AsOf is the day overdue is judged on: the period's end, or today if
	// the period has not ended.
	AsOf clinical.Date
	// MaxStale, when not zero, lets SnapshotCounts serve a community
	// snapshot that writes have made stale, as it is, for up to this long
	// after it was computed: something else (RefreshStale, in the
	// background) brings it up to date. Zero recomputes stale snapshots
	// when read.
	MaxStale time.Duration
	// Defer, when set, takes the snapshots SnapshotCounts would save, to
	// be saved later in a write transaction: the counting then runs in a
	// read-only transaction.
	Defer func(save func(*store.Tx) error)
}

// args are registeredWhere's arguments for scope, and its period's end.
func (s Scope) args() (where []any, to string) {
	to = s.Period.To.String()
	lo, hi := store.Beneath(s.Path)
	return []any{lo, hi, true, to, to}, to
}

// Counts counts what the figures of scope need, straight from the
// register, the follow-ups and the plans.
func Counts(ctx context.Context, tx *store.Tx, scope Scope, population int64) (kpi.Counts, error) {
	m, err := countsBy(ctx, tx, []Scope{scope}, false)
	if err != nil {
		return kpi.Counts{}, err
	}
	c := m[0][0]
	c.Population = population
	return c, nil
}

// planActiveAt is the condition that plan version cp was active at a day
// (the argument, twice): started by then and not yet superseded.
const planActiveAt = `cp.start_on <= ? AND (cp.superseded_at IS NULL OR substr(cp.superseded_at, 1, 10) > ?)`

// activePlanAt is the condition that patient p had a rehabilitation plan
// version active at a day (the argument, twice).
const activePlanAt = `EXISTS (SELECT 1 FROM care_plans cp WHERE cp.patient_id = p.id AND ` + planActiveAt + `)`

// planCountsBy adds the rehabilitation figures of issue 11 to out
// (countsBy's maps: one per scope, keyed by community or 0), over each
// period's register at its end (registeredWhere):
//   - plan coverage: patients under management with a plan active at the
//     period's end;
//   - reviews on time: reviews due in the period done by their due date, of
//     the reviews due in the period, which are those done and those of a
//     plan whose due date in the period passed (before the as-of day)
//     without a review while it was active;
//   - goals achieved: goals rated achieved at a review in the period, of
//     the goals rated at one.
//
// They are kept in the community snapshots with the others: counted live
// at every read, planned for the unit's path each time (a generic plan read
// a district's plans through all its patients), their planning was most of
// a community's figures read (4–7 ms of PostgreSQL's time a period). Every
// figure here adds up over communities (a patient, plan, review and goal
// belong to one), so a row per figure, community and period is enough: one
// statement, its parts side by side as a UNION ALL, driven by the plans,
// which are few beside the patients.
func planCountsBy(ctx context.Context, tx *store.Tx, scopes []Scope, byCommunity bool, out []map[int64]kpi.Counts) error {
	group, key := "", "0"
	if byCommunity {
		group, key = " GROUP BY p.org_unit_id", "p.org_unit_id"
	}
	var parts []string
	var args []any
	for k, s := range scopes {
		where, to := s.args()
		from := s.Period.From.String()
		head := `SELECT ` + strconv.Itoa(k) + `, ` + key + `, `
		// Columns: covered, reviews on time, reviews due, goals achieved,
		// goals rated; a missed review is one due.
		parts = append(parts, head+`count(DISTINCT p.id), 0, 0, 0, 0 FROM care_plans cp JOIN patients p ON p.id = cp.patient_id
			WHERE `+registeredWhere+` AND p.status = 'managed' AND `+planActiveAt+group,
			head+`0, COALESCE(sum(CASE WHEN r.reviewed_on <= r.due_on THEN 1 ELSE 0 END), 0), count(*), 0, 0
			FROM plan_reviews r JOIN care_plans cp ON cp.id = r.plan_id JOIN patients p ON p.id = cp.patient_id
			WHERE `+registeredWhere+` AND r.due_on >= ? AND r.due_on <= ?`+group,
			head+`0, 0, count(*), 0, 0 FROM care_plans cp JOIN patients p ON p.id = cp.patient_id
			WHERE `+registeredWhere+` AND cp.next_review_on >= ? AND cp.next_review_on <= ? AND cp.next_review_on < ?
			AND (cp.status = 'active' OR substr(cp.superseded_at, 1, 10) > cp.next_review_on)`+group,
			head+`0, 0, 0, count(DISTINCT CASE WHEN t.progress = 'achieved' THEN t.goal_id END), count(DISTINCT t.goal_id)
			FROM plan_ratings t JOIN plan_reviews r ON r.id = t.review_id JOIN care_plans cp ON cp.id = r.plan_id
			JOIN patients p ON p.id = cp.patient_id
			WHERE `+registeredWhere+` AND r.reviewed_on >= ? AND r.reviewed_on <= ?`+group)
		args = append(append(args, where...), to, to)
		args = append(append(args, where...), from, to)
		args = append(append(args, where...), from, to, s.AsOf.String())
		args = append(append(args, where...), from, to)
	}
	rows, err := tx.QueryReplanned(ctx, strings.Join(parts, "\n\t\tUNION ALL "), args...)
	if err != nil {
		return fmt.Errorf("report: plan figures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int
		var id, covered, onTime, due, achieved, rated int64
		if err := rows.Scan(&k, &id, &covered, &onTime, &due, &achieved, &rated); err != nil {
			return err
		}
		c := out[k][id]
		c.PlanCovered += covered
		c.ReviewsOnTime += onTime
		c.ReviewsDue += due
		c.GoalsAchieved += achieved
		c.GoalsReviewed += rated
		out[k][id] = c
	}
	return rows.Err()
}

// counted are the figures countsBy counts over the register, by their
// numerator's condition, in the order of its columns.
var counted = []kpi.Key{kpi.Registered, kpi.ManagementRate, kpi.StandardisedManagementRate, kpi.MedicationRate,
	kpi.RegularMedicationRate, kpi.FaceToFaceRate, kpi.StabilityRate, kpi.HealthCheckRate, kpi.Overdue, kpi.Lost}

// countsBy counts the figures of scopes (which share their Path: periods of
// one unit) together, per community when byCommunity is set (keyed by org
// unit id), else in total (key 0): one map per scope. Three statements for
// any number of periods: the register with its follow-ups, the
// emergencies, the plans.
func countsBy(ctx context.Context, tx *store.Tx, scopes []Scope, byCommunity bool) ([]map[int64]kpi.Counts, error) {
	group, key := "", "0"
	if byCommunity {
		group, key = " GROUP BY p.org_unit_id", "p.org_unit_id"
	}
	cte, args := perPatient(scopes, nil)
	var cols []string
	first, last := "", "" // the earliest and the latest period's end
	for k, s := range scopes {
		to := s.Period.To.String()
		if first == "" || to < first {
			first = to
		}
		last = max(last, to)
		for _, f := range counted {
			cond := windowed(numerator[f], len(scopes), k)
			if len(scopes) > 1 {
				// Each period's register (registeredWhere), of which the
				// WHERE clause takes in them all.
				cond = `p.registered_on <= ? AND (p.left_on = '' OR p.left_on > ?) AND ` + cond
				args = append(args, to, to)
			}
			cols = append(cols, `COALESCE(sum(CASE WHEN `+cond+` THEN 1 ELSE 0 END), 0)`)
			args = append(args, numeratorArgs(s, f)...)
		}
	}
	lo, hi := store.Beneath(scopes[0].Path)
	rows, err := tx.QueryReplanned(ctx, `WITH a AS MATERIALIZED (`+cte+`)
		SELECT `+key+`, `+strings.Join(cols, ",\n\t\t")+`
		FROM patients p LEFT JOIN a ON a.patient_id = p.id
		WHERE `+registeredWhere+group, append(args, lo, hi, true, last, first)...)
	if err != nil {
		return nil, fmt.Errorf("report: counts: %w", err)
	}
	out := make([]map[int64]kpi.Counts, len(scopes))
	for k := range out {
		out[k] = map[int64]kpi.Counts{}
	}
	var id int64
	v := make([]int64, len(counted)*len(scopes))
	dest := []any{&id}
	for i := range v {
		dest = append(dest, &v[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, err
		}
		for k := range scopes {
			x := v[k*len(counted):]
			out[k][id] = kpi.Counts{Registered: x[0], Managed: x[1], Standardised: x[2], Medicated: x[3], RegularMedication: x[4],
				FaceToFace: x[5], Stable: x[6], HealthChecked: x[7], Overdue: x[8], Lost: x[9]}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The emergencies of each period, whether or not the patient is on
	// its register.
	cols, args = nil, nil
	from, end := "", ""
	for _, s := range scopes {
		f, e := s.Period.From.String(), s.Period.To.AddDays(1).String()
		if from == "" || f < from {
			from = f
		}
		end = max(end, e)
		cols = append(cols, `COALESCE(sum(CASE WHEN e.occurred_at >= ? AND e.occurred_at < ? THEN 1 ELSE 0 END), 0)`)
		args = append(args, f, e)
	}
	rows, err = tx.QueryReplanned(ctx, `SELECT `+key+`, `+strings.Join(cols, ", ")+` FROM emergencies e JOIN patients p ON p.id = e.patient_id
		WHERE p.org_path >= ? AND p.org_path < ? AND e.occurred_at >= ? AND e.occurred_at < ?`+group, append(args, lo, hi, from, end)...)
	if err != nil {
		return nil, fmt.Errorf("report: emergencies: %w", err)
	}
	v = v[:len(scopes)]
	dest = dest[:1+len(scopes)]
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, err
		}
		for k := range scopes {
			c := out[k][id]
			c.Emergencies = v[k]
			out[k][id] = c
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, planCountsBy(ctx, tx, scopes, byCommunity, out)
}

// numerator is, for each figure that has a list behind it, the condition
// a patient of the register meets to count in its numerator.
var numerator = map[kpi.Key]string{
	kpi.Registered:                 `1 = 1`,
	kpi.ManagementRate:             `a.n_period > 0`,
	kpi.StandardisedManagementRate: `a.n_year >= 4 AND p.guardian_name <> '' AND p.consent = ?`,
	kpi.MedicationRate:             latestAdherence + ` IN ('regular', 'intermittent')`,
	kpi.RegularMedicationRate:      latestAdherence + ` = 'regular'`,
	kpi.FaceToFaceRate:             `a.n_f2f > 0`,
	kpi.StabilityRate:              latestStable,
	kpi.HealthCheckRate:            `a.n_check > 0`,
	kpi.Overdue:                    `p.status = 'managed' AND p.next_due_on < ?`,
	kpi.Lost:                       `p.status = 'lost'`,
	kpi.PlanCoverage:               `p.status = 'managed' AND ` + activePlanAt,
	kpi.ReviewsOnTime: `EXISTS (SELECT 1 FROM plan_reviews r JOIN care_plans cp ON cp.id = r.plan_id WHERE cp.patient_id = p.id
		AND r.due_on >= ? AND r.due_on <= ? AND r.reviewed_on <= r.due_on)`,
	kpi.GoalsAchieved: `EXISTS (SELECT 1 FROM plan_ratings t JOIN plan_reviews r ON r.id = t.review_id JOIN care_plans cp ON cp.id = r.plan_id
		WHERE cp.patient_id = p.id AND r.reviewed_on >= ? AND r.reviewed_on <= ? AND t.progress = 'achieved')`,
}

// numeratorArgs are the arguments of figure k's numerator for scope.
func numeratorArgs(scope Scope, k kpi.Key) []any {
	from, to := scope.Period.From.String(), scope.Period.To.String()
	switch k {
	case kpi.StandardisedManagementRate:
		return []any{true}
	case kpi.MedicationRate, kpi.RegularMedicationRate:
		return adherenceArgs(to)
	case kpi.StabilityRate:
		return stableArgs(from, to)
	case kpi.Overdue:
		return []any{scope.AsOf.String()}
	case kpi.PlanCoverage:
		return []any{to, to}
	case kpi.ReviewsOnTime, kpi.GoalsAchieved:
		return []any{from, to}
	}
	return nil
}

// HasList reports whether figure k has a list of patients behind it.
func HasList(k kpi.Key) bool { _, ok := numerator[k]; return ok }

// denominator is, for each rate, the condition a patient of the register
// meets to count in its denominator; the patients in it but not in the
// numerator are the ones a supervisor must chase. The other rates'
// denominator is the whole register.
var denominator = map[kpi.Key]string{
	kpi.StabilityRate: `a.n_period > 0`,
}

// HasUncounted reports whether figure k is a rate whose list of patients
// not counted (in the denominator, not in the numerator) can be asked for.
func HasUncounted(k kpi.Key) bool {
	switch k {
	case kpi.ManagementRate, kpi.StandardisedManagementRate, kpi.MedicationRate, kpi.RegularMedicationRate,
		kpi.FaceToFaceRate, kpi.StabilityRate, kpi.HealthCheckRate, kpi.PlanCoverage:
		return true
	}
	return false
}

// Row is one patient behind a figure.
type Row struct {
	PatientID      int64  `json:"patient_id"`
	Name           string `json:"name"`
	OrgUnit        string `json:"org_unit"`
	OrgUnitName    string `json:"org_unit_name"`
	Status         string `json:"status"`
	LastFollowUpOn string `json:"last_follow_up_on"`
	NextDueOn      string `json:"next_due_on"`
	Classification string `json:"classification"`
	RiskLevel      *int   `json:"risk_level"`
}

// readsSums finds the sums of perPatient a condition reads (a.n_period, …).
var readsSums = regexp.MustCompile(`\ba\.(\w+)`)

// Patients lists the patients counted in figure k's numerator, by id,
// after the id afterID, at most limit; or, when counted is false, those
// in its denominator who are not in its numerator (a rate's only).
func Patients(ctx context.Context, tx *store.Tx, scope Scope, k kpi.Key, counted bool, afterID int64, limit int) ([]Row, error) {
	cond, ok := numerator[k]
	if !ok || (!counted && !HasUncounted(k)) {
		return nil, fmt.Errorf("report: figure %s has no list", k)
	}
	if !counted {
		// CASE rather than NOT: a patient without follow-ups has NULLs in a,
		// and NOT NULL would leave them out, though they are the first to chase.
		den := "1 = 1"
		if d, ok := denominator[k]; ok {
			den = d
		}
		cond = den + ` AND (CASE WHEN ` + cond + ` THEN 1 ELSE 0 END) = 0`
	}
	// The follow-ups' sums per patient (perPatient) only for a condition
	// that reads them: counting a district's year of follow-ups was 90 to
	// 200 ms of every page of its registered, overdue or lost patients.
	with, join := "", ""
	var args []any
	if sums := readsSums.FindAllStringSubmatch(cond, -1); len(sums) > 0 {
		need := make([]string, len(sums))
		for i, m := range sums {
			need[i] = m[1]
		}
		var cte string
		cte, args = perPatient([]Scope{scope}, need)
		with, join = `WITH a AS MATERIALIZED (`+cte+`) `, ` LEFT JOIN a ON a.patient_id = p.id`
	}
	where, _ := scope.args()
	args = append(append(args, where...), numeratorArgs(scope, k)...)
	args = append(args, afterID, limit)
	rows, err := tx.QueryReplanned(ctx, with+`SELECT p.id, p.name, o.code, o.name, p.status, p.last_followup_on, p.next_due_on,
		p.last_classification, p.last_risk_level
		FROM patients p JOIN org_units o ON o.id = p.org_unit_id`+join+`
		WHERE `+registeredWhere+` AND `+cond+` AND p.id > ? ORDER BY p.id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("report: list: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.PatientID, &r.Name, &r.OrgUnit, &r.OrgUnitName, &r.Status, &r.LastFollowUpOn, &r.NextDueOn, &r.Classification, &r.RiskLevel); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Distribution is how the register divides by the latest classification and
// the latest risk level (R-CLASS, R-RISK); "" and -1 mean not yet followed up.
type Distribution struct {
	Classification map[string]int64 `json:"classification"`
	RiskLevel      map[int]int64    `json:"risk_level"`
}

// Distribute counts the current register of the unit at path by latest
// classification and risk level.
func Distribute(ctx context.Context, tx *store.Tx, path string, today clinical.Date) (*Distribution, error) {
	lo, hi := store.Beneath(path)
	rows, err := tx.QueryReplanned(ctx, `SELECT p.last_classification, COALESCE(p.last_risk_level, -1), count(*) FROM patients p
		WHERE p.org_path >= ? AND p.org_path < ? AND p.severe = ? AND p.registered_on <= ? AND p.left_on = ''
		GROUP BY p.last_classification, COALESCE(p.last_risk_level, -1)`, lo, hi, true, today.String())
	if err != nil {
		return nil, fmt.Errorf("report: distribution: %w", err)
	}
	defer rows.Close()
	d := &Distribution{Classification: map[string]int64{}, RiskLevel: map[int]int64{}}
	for rows.Next() {
		var class string
		var risk int
		var n int64
		if err := rows.Scan(&class, &risk, &n); err != nil {
			return nil, err
		}
		d.Classification[class] += n
		d.RiskLevel[risk] += n
	}
	return d, rows.Err()
}
