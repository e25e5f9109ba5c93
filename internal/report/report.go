// Package report computes Kith's figures (R-KPI) in SQL, on either engine:
// the counts for an org unit (and everything beneath it) and a period, and
// the lists of patients behind them. No patient row is loaded into Go to
// count it; the formulas that turn counts into rates are in package kpi.
package report

import (
	"context"
	"fmt"
	"time"

	"kith/internal/clinical"
	"kith/internal/kpi"
	"kith/internal/store"
)

// The reached follow-ups of the unit's patients (computed once, as a
// materialised CTE: estimates for a narrow path range are poor, and the
// planner would otherwise redo the aggregate for every patient) between the start of the
// year (or of the period, if earlier) and the period's end, folded to one
// row per patient. The latest follow-up's adherence and classification in
// the window are needed only for a patient followed up again after the
// period (otherwise they are the patient's summary, latestAdherence and
// latestStable); they are found as the greatest "date|value" string: dates
// sort as text. (Building those strings for every follow-up was about a
// third of a district's count.)
const perPatient = `SELECT f.patient_id,
		sum(CASE WHEN f.date >= ? THEN 1 ELSE 0 END) AS n_period,
		sum(CASE WHEN f.date >= ? THEN 1 ELSE 0 END) AS n_year,
		sum(CASE WHEN f.date >= ? AND f.mode <> 'phone' THEN 1 ELSE 0 END) AS n_f2f,
		sum(CASE WHEN f.date >= ? AND f.health_check = ? THEN 1 ELSE 0 END) AS n_check,
		max(CASE WHEN q.last_followup_on > ? THEN f.date || '|' || f.medication_adherence END) AS last_adh,
		max(CASE WHEN q.last_followup_on > ? AND f.date >= ? THEN f.date || '|' || f.classification END) AS last_class
	FROM follow_ups f JOIN patients q ON q.id = f.patient_id
	WHERE q.org_path >= ? AND q.org_path < ? AND f.reached = ? AND f.superseded_by IS NULL AND f.date >= ? AND f.date <= ?
	GROUP BY f.patient_id`

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

func (s Scope) args() (window []any, where []any, to string) {
	from, to := s.Period.From.String(), s.Period.To.String()
	year := s.Period.YearStart().String()
	start := from
	if year < start {
		start = year
	}
	lo, hi := store.Beneath(s.Path)
	window = []any{from, year, from, year, true, to, to, from, lo, hi, true, start, to}
	where = []any{lo, hi, true, to, to}
	return window, where, to
}

// Counts counts what the figures of scope need, straight from the
// register and the follow-ups.
func Counts(ctx context.Context, tx *store.Tx, scope Scope, population int64) (kpi.Counts, error) {
	m, err := countsBy(ctx, tx, scope, false)
	c := m[0]
	c.Population = population
	if err != nil {
		return c, err
	}
	return c, planCounts(ctx, tx, scope, &c)
}

// planActiveAt is the condition that plan version cp was active at a day
// (the argument, twice): started by then and not yet superseded.
const planActiveAt = `cp.start_on <= ? AND (cp.superseded_at IS NULL OR substr(cp.superseded_at, 1, 10) > ?)`

// activePlanAt is the condition that patient p had a rehabilitation plan
// version active at a day (the argument, twice).
const activePlanAt = `EXISTS (SELECT 1 FROM care_plans cp WHERE cp.patient_id = p.id AND ` + planActiveAt + `)`

// planCounts counts the rehabilitation figures of issue 11 into c, over
// the register at the period's end (registeredWhere). They are few rows
// and counted live rather than snapshotted:
//   - plan coverage: patients under management with a plan active at the
//     period's end;
//   - reviews on time: reviews due in the period done by their due date, of
//     the reviews due in the period, which are those done and those of a
//     plan whose due date in the period passed (before the as-of day)
//     without a review while it was active;
//   - goals achieved: goals rated achieved at a review in the period, of
//     the goals rated at one.
func planCounts(ctx context.Context, tx *store.Tx, scope Scope, c *kpi.Counts) error {
	q := planQuery(scope)
	var v [planColumns]int64
	if err := tx.QueryRowReplanned(ctx, `SELECT `+q.cols+` FROM `+q.from, q.args...).
		Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5]); err != nil {
		return fmt.Errorf("report: plan figures: %w", err)
	}
	addPlans(c, v[:])
	return nil
}

// A query's parts, to be run alone or beside another in one statement
// (sumAndPlans).
type query struct {
	cols, from string // from includes the WHERE clause
	args       []any
}

// planColumns is how many columns planQuery selects.
const planColumns = 6

// planQuery is planCounts' query: one row of planColumns counts, read by
// addPlans.
func planQuery(scope Scope) query {
	_, where, to := scope.args()
	from := scope.Period.From.String()
	// Driven by the plans, not by every patient of the unit: a district's
	// figures read under write load spent most of their time here. The four
	// counts are one statement, one round trip (under write load each round
	// trip waits its turn for a processor).
	var args []any
	args = append(append(args, where...), to, to)
	args = append(append(args, where...), from, to)
	args = append(append(args, where...), from, to, scope.AsOf.String())
	args = append(append(args, where...), from, to)
	return query{
		cols: `covered.n, reviews.on_time, reviews.due, missed.n, goals.achieved, goals.rated`,
		from: `(SELECT count(DISTINCT p.id) AS n FROM care_plans cp JOIN patients p ON p.id = cp.patient_id
			WHERE ` + registeredWhere + ` AND p.status = 'managed' AND ` + planActiveAt + `) covered,
		(SELECT COALESCE(sum(CASE WHEN r.reviewed_on <= r.due_on THEN 1 ELSE 0 END), 0) AS on_time, count(*) AS due
			FROM plan_reviews r JOIN care_plans cp ON cp.id = r.plan_id JOIN patients p ON p.id = cp.patient_id
			WHERE ` + registeredWhere + ` AND r.due_on >= ? AND r.due_on <= ?) reviews,
		(SELECT count(*) AS n FROM care_plans cp JOIN patients p ON p.id = cp.patient_id
			WHERE ` + registeredWhere + ` AND cp.next_review_on >= ? AND cp.next_review_on <= ? AND cp.next_review_on < ?
			AND (cp.status = 'active' OR substr(cp.superseded_at, 1, 10) > cp.next_review_on)) missed,
		(SELECT count(DISTINCT CASE WHEN t.progress = 'achieved' THEN t.goal_id END) AS achieved, count(DISTINCT t.goal_id) AS rated
			FROM plan_ratings t JOIN plan_reviews r ON r.id = t.review_id JOIN care_plans cp ON cp.id = r.plan_id
			JOIN patients p ON p.id = cp.patient_id
			WHERE ` + registeredWhere + ` AND r.reviewed_on >= ? AND r.reviewed_on <= ?) goals`,
		args: args,
	}
}

// addPlans puts planQuery's columns into c: a missed review is one due.
func addPlans(c *kpi.Counts, v []int64) {
	c.PlanCovered, c.ReviewsOnTime, c.ReviewsDue, c.GoalsAchieved, c.GoalsReviewed = v[0], v[1], v[2]+v[3], v[4], v[5]
}

// countsBy counts scope's figures in one pass, per community when
// byCommunity is set (keyed by org unit id), else in total (key 0).
func countsBy(ctx context.Context, tx *store.Tx, scope Scope, byCommunity bool) (map[int64]kpi.Counts, error) {
	window, where, to := scope.args()
	group, key := "", "0"
	if byCommunity {
		group, key = " GROUP BY p.org_unit_id", "p.org_unit_id"
	}
	args := append(window, true)
	args = append(args, adherenceArgs(to)...) // medicated
	args = append(args, adherenceArgs(to)...) // regular medication
	args = append(args, stableArgs(scope.Period.From.String(), to)...)
	args = append(args, scope.AsOf.String())
	args = append(args, where...)
	rows, err := tx.QueryReplanned(ctx, `WITH a AS MATERIALIZED (`+perPatient+`)
		SELECT `+key+`, count(*),
		COALESCE(sum(CASE WHEN a.n_period > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN a.n_year >= 4 AND p.guardian_name <> '' AND p.consent = ? THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN `+latestAdherence+` IN ('regular', 'intermittent') THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN `+latestAdherence+` = 'regular' THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN a.n_f2f > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN `+latestStable+` THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN a.n_check > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN p.status = 'managed' AND p.next_due_on < ? THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN p.status = 'lost' THEN 1 ELSE 0 END), 0)
		FROM patients p LEFT JOIN a ON a.patient_id = p.id
		WHERE `+registeredWhere+group, args...)
	if err != nil {
		return nil, fmt.Errorf("report: counts: %w", err)
	}
	out := map[int64]kpi.Counts{}
	for rows.Next() {
		var id int64
		var c kpi.Counts
		if err := rows.Scan(&id, &c.Registered, &c.Managed, &c.Standardised, &c.Medicated, &c.RegularMedication, &c.FaceToFace,
			&c.Stable, &c.HealthChecked, &c.Overdue, &c.Lost); err != nil {
			rows.Close()
			return nil, err
		}
		out[id] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	lo, hi := store.Beneath(scope.Path)
	rows, err = tx.QueryReplanned(ctx, `SELECT `+key+`, count(*) FROM emergencies e JOIN patients p ON p.id = e.patient_id
		WHERE p.org_path >= ? AND p.org_path < ? AND e.occurred_at >= ? AND e.occurred_at < ?`+group,
		lo, hi, scope.Period.From.String(), scope.Period.To.AddDays(1).String())
	if err != nil {
		return nil, fmt.Errorf("report: emergencies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		c := out[id]
		c.Emergencies = n
		out[id] = c
	}
	return out, rows.Err()
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
	window, where, to := scope.args()
	var condArgs []any
	switch k {
	case kpi.StandardisedManagementRate:
		condArgs = []any{true}
	case kpi.MedicationRate, kpi.RegularMedicationRate:
		condArgs = adherenceArgs(to)
	case kpi.StabilityRate:
		condArgs = stableArgs(scope.Period.From.String(), to)
	case kpi.Overdue:
		condArgs = []any{scope.AsOf.String()}
	case kpi.PlanCoverage:
		condArgs = []any{to, to}
	case kpi.ReviewsOnTime, kpi.GoalsAchieved:
		condArgs = []any{scope.Period.From.String(), to}
	}
	args := append(append(window, where...), condArgs...)
	args = append(args, afterID, limit)
	rows, err := tx.QueryReplanned(ctx, `WITH a AS MATERIALIZED (`+perPatient+`)
		SELECT p.id, p.name, o.code, o.name, p.status, p.last_followup_on, p.next_due_on, p.last_classification, p.last_risk_level
		FROM patients p JOIN org_units o ON o.id = p.org_unit_id LEFT JOIN a ON a.patient_id = p.id
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
