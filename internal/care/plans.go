package care

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/clinical"
	"kith/internal/report"
	"kith/internal/store"
)

// Personalised rehabilitation plans (issue 11, PRODUCT capability 5). A
// plan records needs per domain, goals with a measurable target and the
// interventions for each, assigned to members of the care team. Reviews
// rate each goal and move the next review; adjusting a plan makes a new
// version and keeps the old one, superseded.

// PlanDomains are the domains of needs and goals.
var PlanDomains = []string{"psychological", "social_function", "life_skills", "family", "occupation", "medication", "physical_health"}

// Progresses are the ratings a review gives a goal.
var Progresses = []string{"achieved", "improved", "unchanged", "worse"}

// The statuses of a plan version.
const (
	PlanActive     = "active"
	PlanSuperseded = "superseded"
)

// PlanReviewSoonDays: a plan whose next review falls within this many days
// (or is past) is on the plan_review worklist.
const PlanReviewSoonDays = 7

// Measure is a value on a goal's measure: a number or a short text (a JSON
// number is taken as its text).
type Measure string

// UnmarshalJSON takes a string or a number.
func (m *Measure) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '"' && !bytes.Equal(b, []byte("null")) {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*m = Measure(n.String())
		return nil
	}
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s != nil {
		*m = Measure(*s)
	}
	return nil
}

// PlanNeed is a need found in one domain, optionally citing an assessment.
type PlanNeed struct {
	Domain       string `json:"domain"`
	Finding      string `json:"finding"`
	AssessmentID *int64 `json:"assessment_id,omitempty"`
	// The cited assessment's instrument and date, when read.
	AssessmentInstrument string `json:"assessment_instrument,omitempty"`
	AssessmentDate       string `json:"assessment_date,omitempty"`
}

// PlanIntervention is what a team member does towards a goal, how often.
type PlanIntervention struct {
	ID           int64  `json:"id,omitempty"`
	Description  string `json:"description"`
	Assignee     string `json:"assignee"`
	AssigneeName string `json:"assignee_name,omitempty"`
	Frequency    string `json:"frequency"`
}

// PlanGoal is a goal in one domain with a measurable target.
type PlanGoal struct {
	ID            int64              `json:"id,omitempty"`
	Domain        string             `json:"domain"`
	Description   string             `json:"description"`
	Measure       string             `json:"measure"`
	Baseline      Measure            `json:"baseline"`
	Target        Measure            `json:"target"`
	TargetOn      string             `json:"target_on"`
	Interventions []PlanIntervention `json:"interventions"`
	// LastProgress is the goal's rating at the plan's latest review.
	LastProgress string `json:"last_progress,omitempty"`
}

// PlanInput writes a plan, or a new version of one.
type PlanInput struct {
	StartOn         string     `json:"start_on"`
	ReviewEveryDays int        `json:"review_every_days"`
	Needs           []PlanNeed `json:"needs"`
	Goals           []PlanGoal `json:"goals"`
	AgreedByPatient bool       `json:"agreed_by_patient"`
	AgreedByFamily  bool       `json:"agreed_by_family"`
}

// GoalRating is a review's rating of one goal.
type GoalRating struct {
	GoalID   int64   `json:"goal_id"`
	Progress string  `json:"progress"`
	Value    Measure `json:"value,omitempty"`
}

// ReviewInput reviews a plan.
type ReviewInput struct {
	Date            string       `json:"date"`
	Ratings         []GoalRating `json:"ratings"`
	PatientFeedback string       `json:"patient_feedback"`
	FamilyFeedback  string       `json:"family_feedback"`
}

// PlanReview is a review of a plan.
type PlanReview struct {
	ID              int64        `json:"id"`
	PlanID          int64        `json:"plan_id"`
	Date            string       `json:"date"`
	DueOn           string       `json:"due_on"`
	Ratings         []GoalRating `json:"ratings"`
	PatientFeedback string       `json:"patient_feedback"`
	FamilyFeedback  string       `json:"family_feedback"`
	Author          string       `json:"author"`
	AuthorName      string       `json:"author_name"`
	NextReviewOn    string       `json:"next_review_on"`
}

// Plan is one version of a patient's rehabilitation plan.
type Plan struct {
	ID          int64  `json:"id"`
	PatientID   int64  `json:"patient_id"`
	PatientName string `json:"patient_name"`
	Version     int    `json:"version"`
	// Replaces is the version before this one, if any.
	Replaces        *int64       `json:"replaces,omitempty"`
	Status          string       `json:"status"`
	StartOn         string       `json:"start_on"`
	ReviewEveryDays int          `json:"review_every_days"`
	NextReviewOn    string       `json:"next_review_on"`
	Needs           []PlanNeed   `json:"needs"`
	Goals           []PlanGoal   `json:"goals"`
	AgreedByPatient bool         `json:"agreed_by_patient"`
	AgreedByFamily  bool         `json:"agreed_by_family"`
	Author          string       `json:"author"`
	AuthorName      string       `json:"author_name"`
	CreatedAt       time.Time    `json:"created_at"`
	Reviews         []PlanReview `json:"reviews"`
	// KeyWorker names the key worker, for the signature lines.
	KeyWorker string `json:"key_worker,omitempty"`
}

// validate checks a plan against the patient and their team, and returns
// next_review_on.
func (in *PlanInput) validate(ctx context.Context, tx *store.Tx, f *fields, patientID int64) (string, error) {
	start, serr := clinical.ParseDate(in.StartOn)
	if serr != nil {
		f.add("start_on", "must be a real date, YYYY-MM-DD")
	} else {
		checkBounds(f, "start_on", start)
	}
	if in.ReviewEveryDays < 7 || in.ReviewEveryDays > 365 {
		f.add("review_every_days", "must be between 7 and 365")
	}
	if len(in.Needs) > len(PlanDomains)*3 {
		f.add("needs", "at most 21")
	}
	for i := range in.Needs {
		n := &in.Needs[i]
		field := "needs[" + strconv.Itoa(i) + "]"
		if !slices.Contains(PlanDomains, n.Domain) {
			f.add(field+".domain", "must be one of "+strings.Join(PlanDomains, ", "))
		}
		n.Finding = checkNote(f, field+".finding", n.Finding, 1000)
		if n.Finding == "" {
			f.add(field+".finding", "is required")
		}
		if n.AssessmentID != nil {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM assessments WHERE id = ? AND patient_id = ?)`,
				*n.AssessmentID, patientID).Scan(&ok); err != nil {
				return "", err
			}
			if !ok {
				f.add(field+".assessment_id", "is not an assessment of this patient")
			}
		}
	}
	team := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT username FROM care_team_members WHERE patient_id = ?`, patientID)
	if err != nil {
		return "", err
	}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return "", err
		}
		team[u] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	switch {
	case len(in.Goals) == 0:
		f.add("goals", "a plan needs at least one goal")
	case len(in.Goals) > 30:
		f.add("goals", "at most 30")
	}
	for i := range in.Goals {
		g := &in.Goals[i]
		field := "goals[" + strconv.Itoa(i) + "]"
		if g.Domain == "" {
			f.add(field+".domain", "is required")
		} else if !slices.Contains(PlanDomains, g.Domain) {
			f.add(field+".domain", "must be one of "+strings.Join(PlanDomains, ", "))
		}
		g.Description = checkNote(f, field+".description", g.Description, 500)
		if g.Description == "" {
			f.add(field+".description", "is required")
		}
		g.Measure = checkText(f, field+".measure", g.Measure, 200)
		g.Baseline = Measure(checkText(f, field+".baseline", string(g.Baseline), 100))
		g.Target = Measure(checkText(f, field+".target", string(g.Target), 100))
		if g.Measure == "" {
			f.add(field+".measure", "is required: how progress is measured")
		}
		if g.Target == "" {
			f.add(field+".target", "is required")
		}
		switch t, perr := clinical.ParseDate(g.TargetOn); {
		case g.TargetOn == "":
			f.add(field+".target_on", "is required")
		case perr != nil:
			f.add(field+".target_on", "must be a real date, YYYY-MM-DD")
		case serr == nil && g.TargetOn < in.StartOn:
			f.add(field+".target_on", "cannot be before the plan's start")
		default:
			checkBounds(f, field+".target_on", t)
		}
		if len(g.Interventions) > 10 {
			f.add(field+".interventions", "at most 10")
		}
		for j := range g.Interventions {
			iv := &g.Interventions[j]
			ifield := field + ".interventions[" + strconv.Itoa(j) + "]"
			iv.Description = checkNote(f, ifield+".description", iv.Description, 500)
			if iv.Description == "" {
				f.add(ifield+".description", "is required")
			}
			iv.Frequency = checkText(f, ifield+".frequency", iv.Frequency, 100)
			iv.Assignee = strings.TrimSpace(iv.Assignee)
			if !team[iv.Assignee] {
				f.add(ifield+".assignee", "must be a member of the patient's care team")
			}
		}
	}
	if serr != nil {
		return "", nil
	}
	return start.AddDays(in.ReviewEveryDays).String(), nil
}

// CreatePlan writes a patient's plan, version 1. A patient has one active
// plan at a time and a change is a new version (AdjustPlan), so creating a
// second is a conflict.
func (s *Service) CreatePlan(ctx context.Context, patientID int64, in PlanInput) (*Plan, error) {
	var id int64
	err := s.act(ctx, "plan.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, WritePlan, patientID, sub); err != nil {
			return err
		}
		f := s.fields()
		next, err := in.validate(ctx, tx, &f, patientID)
		if err != nil {
			return err
		}
		if err := f.err(); err != nil {
			return err
		}
		var active int64
		switch err := tx.QueryRow(ctx, `SELECT id FROM care_plans WHERE patient_id = ? AND status = ?`, patientID, PlanActive).Scan(&active); {
		case err == nil:
			return &Error{Kind: Conflict, ExistingID: strconv.FormatInt(active, 10),
				Message: "the patient has an active plan; adjust it (PUT /api/v1/plans/" + strconv.FormatInt(active, 10) + ") to make a new version"}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if id, err = insertPlan(ctx, tx, patientID, 1, in, next, a.Username); err != nil {
			return err
		}
		sub.Detail = "plan " + strconv.FormatInt(id, 10) + " version 1"
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Plan(ctx, id)
}

func insertPlan(ctx context.Context, tx *store.Tx, patientID int64, version int, in PlanInput, next, author string) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO care_plans (patient_id, version, status, start_on, review_every_days, next_review_on,
		agreed_by_patient, agreed_by_family, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		patientID, version, PlanActive, in.StartOn, in.ReviewEveryDays, next, in.AgreedByPatient, in.AgreedByFamily, author,
		store.FormatTime(tx.Now())).Scan(&id); err != nil {
		return 0, err
	}
	for _, n := range in.Needs {
		if _, err := tx.Exec(ctx, `INSERT INTO plan_needs (plan_id, domain, finding, assessment_id) VALUES (?, ?, ?, ?)`,
			id, n.Domain, n.Finding, n.AssessmentID); err != nil {
			return 0, err
		}
	}
	for _, g := range in.Goals {
		var gid int64
		if err := tx.QueryRow(ctx, `INSERT INTO plan_goals (plan_id, domain, description, measure, baseline, target, target_on)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, g.Domain, g.Description, g.Measure, string(g.Baseline), string(g.Target),
			g.TargetOn).Scan(&gid); err != nil {
			return 0, err
		}
		for _, iv := range g.Interventions {
			if _, err := tx.Exec(ctx, `INSERT INTO plan_interventions (goal_id, description, assignee, frequency) VALUES (?, ?, ?, ?)`,
				gid, iv.Description, iv.Assignee, iv.Frequency); err != nil {
				return 0, err
			}
		}
	}
	// Plan coverage is in the community's figures (and, for a new version,
	// the reviews the old one missed).
	return id, report.Touch(ctx, tx, patientID)
}

// planRow is a plan's own columns.
type planRow struct {
	id, patientID   int64
	version, every  int
	status, startOn string
	nextReviewOn    string
}

func planByID(ctx context.Context, tx *store.Tx, id int64) (*planRow, error) {
	var p planRow
	err := tx.QueryRow(ctx, `SELECT id, patient_id, version, review_every_days, status, start_on, next_review_on FROM care_plans WHERE id = ?`, id).
		Scan(&p.id, &p.patientID, &p.version, &p.every, &p.status, &p.startOn, &p.nextReviewOn)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &p, err
}

// planFor loads a plan and its patient for act; a plan the actor may not
// reach is not found, as its patient would be.
func planFor(ctx context.Context, tx *store.Tx, a *Actor, act Action, id int64, sub *subject) (*planRow, *patientRow, error) {
	p, err := planByID(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	if p == nil {
		sub.Type, sub.ID = "plan", strconv.FormatInt(id, 10)
		return nil, nil, errNotFound("plan")
	}
	r, err := visible(ctx, tx, a, act, p.patientID, sub)
	if err != nil {
		return nil, nil, err
	}
	if v := PatientView(a.Role); v == ViewSafety || v == ViewNone {
		return nil, nil, &Error{Kind: Forbidden, denied: true, Message: "your role may not read rehabilitation plans"}
	}
	return p, r, nil
}

// AdjustPlan makes a new version of a plan: the one given, which must be
// the active one, is kept and marked superseded.
func (s *Service) AdjustPlan(ctx context.Context, planID int64, in PlanInput) (*Plan, error) {
	var id int64
	err := s.act(ctx, "plan.adjust", func(tx *store.Tx, a *Actor, sub *subject) error {
		old, _, err := planFor(ctx, tx, a, WritePlan, planID, sub)
		if err != nil {
			return err
		}
		if old.status != PlanActive {
			return errConflict("this plan version is superseded; adjust the active version")
		}
		f := s.fields()
		next, err := in.validate(ctx, tx, &f, old.patientID)
		if err != nil {
			return err
		}
		if err := f.err(); err != nil {
			return err
		}
		// The guard on status makes two adjustments at once make one
		// version, not two active ones.
		res, err := tx.Exec(ctx, `UPDATE care_plans SET status = ?, superseded_at = ? WHERE id = ? AND status = ?`,
			PlanSuperseded, store.FormatTime(tx.Now()), planID, PlanActive)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errConflict("this plan version is superseded; adjust the active version")
		}
		if id, err = insertPlan(ctx, tx, old.patientID, old.version+1, in, next, a.Username); err != nil {
			return err
		}
		sub.Detail = "plan " + strconv.FormatInt(planID, 10) + " → " + strconv.FormatInt(id, 10) + " version " + strconv.Itoa(old.version+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Plan(ctx, id)
}

// ReviewPlan records a review of the active plan: a rating of goals, the
// patient's and family's feedback; the next review falls review_every_days
// after it.
func (s *Service) ReviewPlan(ctx context.Context, planID int64, in ReviewInput) (*PlanReview, error) {
	var out *PlanReview
	err := s.act(ctx, "plan.review", func(tx *store.Tx, a *Actor, sub *subject) error {
		p, _, err := planFor(ctx, tx, a, WritePlan, planID, sub)
		if err != nil {
			return err
		}
		if p.status != PlanActive {
			return errConflict("this plan version is superseded; review the active version")
		}
		f := s.fields()
		checkDate(&f, "date", in.Date, true)
		if in.Date != "" && in.Date < p.startOn {
			f.add("date", "cannot be before the plan's start ("+p.startOn+")")
		}
		goals := map[int64]bool{}
		rows, err := tx.Query(ctx, `SELECT id FROM plan_goals WHERE plan_id = ?`, planID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var g int64
			if err := rows.Scan(&g); err != nil {
				rows.Close()
				return err
			}
			goals[g] = true
		}
		rows.Close()
		if len(in.Ratings) == 0 {
			f.add("ratings", "rate at least one goal")
		}
		seen := map[int64]bool{}
		for i := range in.Ratings {
			r := &in.Ratings[i]
			field := "ratings[" + strconv.Itoa(i) + "]"
			switch {
			case !goals[r.GoalID]:
				f.add(field+".goal_id", "is not a goal of this plan")
			case seen[r.GoalID]:
				f.add(field+".goal_id", "is rated twice")
			}
			seen[r.GoalID] = true
			if !slices.Contains(Progresses, r.Progress) {
				f.add(field+".progress", "must be one of "+strings.Join(Progresses, ", "))
			}
			r.Value = Measure(checkText(&f, field+".value", string(r.Value), 100))
		}
		in.PatientFeedback = checkNote(&f, "patient_feedback", in.PatientFeedback, 2000)
		in.FamilyFeedback = checkNote(&f, "family_feedback", in.FamilyFeedback, 2000)
		if err := f.err(); err != nil {
			return err
		}
		d, _ := clinical.ParseDate(in.Date)
		next := d.AddDays(p.every).String()
		out = &PlanReview{PlanID: planID, Date: in.Date, DueOn: p.nextReviewOn, Ratings: in.Ratings, PatientFeedback: in.PatientFeedback,
			FamilyFeedback: in.FamilyFeedback, Author: a.Username, AuthorName: a.FullName, NextReviewOn: next}
		if err := tx.QueryRow(ctx, `INSERT INTO plan_reviews (plan_id, reviewed_on, due_on, patient_feedback, family_feedback, author, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, planID, in.Date, p.nextReviewOn, in.PatientFeedback, in.FamilyFeedback,
			a.Username, store.FormatTime(tx.Now())).Scan(&out.ID); err != nil {
			return err
		}
		for _, r := range in.Ratings {
			if _, err := tx.Exec(ctx, `INSERT INTO plan_ratings (review_id, goal_id, progress, value) VALUES (?, ?, ?, ?)`,
				out.ID, r.GoalID, r.Progress, string(r.Value)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE care_plans SET next_review_on = ? WHERE id = ?`, next, planID); err != nil {
			return err
		}
		// Reviews on time and goals achieved are in the community's figures.
		if err := report.Touch(ctx, tx, p.patientID); err != nil {
			return err
		}
		sub.Detail = "plan " + strconv.FormatInt(planID, 10) + " review " + strconv.FormatInt(out.ID, 10)
		return nil
	})
	return out, err
}

// Plan returns one version of a plan with its reviews.
func (s *Service) Plan(ctx context.Context, planID int64) (*Plan, error) {
	var out *Plan
	err := s.view(ctx, "plan.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		_, r, err := planFor(ctx, tx, a, ReadPatient, planID, sub)
		if err != nil {
			return err
		}
		list, err := plansWhere(ctx, tx, PatientView(a.Role), `p.id = ?`, planID)
		if err != nil {
			return err
		}
		out = &list[0]
		out.PatientName = r.Name
		return nil
	})
	return out, err
}

// Plans lists every version of a patient's plan, newest first (a patient
// has a handful; at most 100 are returned).
func (s *Service) Plans(ctx context.Context, patientID int64) ([]Plan, error) {
	var out []Plan
	err := s.view(ctx, "plan.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		r, err := visible(ctx, tx, a, ReadPatient, patientID, sub)
		if err != nil {
			return err
		}
		if v := PatientView(a.Role); v == ViewSafety || v == ViewNone {
			return &Error{Kind: Forbidden, denied: true, Message: "your role may not read rehabilitation plans"}
		}
		if out, err = plansWhere(ctx, tx, PatientView(a.Role), `p.patient_id = ?`, patientID); err != nil {
			return err
		}
		for i := range out {
			out[i].PatientName = r.Name
		}
		return nil
	})
	return out, err
}

// plansWhere reads whole plans matching cond on care_plans p, newest
// version first, as view v may see them: the social worker's view leaves
// out the medication domain.
func plansWhere(ctx context.Context, tx *store.Tx, v View, cond string, args ...any) ([]Plan, error) {
	rows, err := tx.Query(ctx, `SELECT p.id, p.patient_id, p.version, p.status, p.start_on, p.review_every_days, p.next_review_on,
		p.agreed_by_patient, p.agreed_by_family, p.author, COALESCE(u.full_name, p.author), p.created_at,
		COALESCE((SELECT ku.full_name FROM care_team_members k JOIN users ku ON ku.username = k.username
			WHERE k.patient_id = p.patient_id AND k.key_worker = ?), ''),
		(SELECT x.id FROM care_plans x WHERE x.patient_id = p.patient_id AND x.version = p.version - 1)
		FROM care_plans p LEFT JOIN users u ON u.username = p.author WHERE `+cond+` ORDER BY p.version DESC LIMIT 100`,
		append([]any{true}, args...)...)
	if err != nil {
		return nil, err
	}
	var out []Plan
	index := map[int64]int{}
	for rows.Next() {
		var p Plan
		var created string
		var replaces sql.NullInt64
		if err := rows.Scan(&p.ID, &p.PatientID, &p.Version, &p.Status, &p.StartOn, &p.ReviewEveryDays, &p.NextReviewOn,
			&p.AgreedByPatient, &p.AgreedByFamily, &p.Author, &p.AuthorName, &created, &p.KeyWorker, &replaces); err != nil {
			rows.Close()
			return nil, err
		}
		p.Replaces = idOf(replaces)
		p.CreatedAt = store.MustTime(created)
		p.Needs, p.Goals, p.Reviews = []PlanNeed{}, []PlanGoal{}, []PlanReview{}
		index[p.ID] = len(out)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]any, 0, len(out))
	for _, p := range out {
		ids = append(ids, p.ID)
	}
	in := `(?` + strings.Repeat(", ?", len(ids)-1) + `)`
	hide := func(domain string) bool { return v == ViewSocial && domain == "medication" }

	rows, err = tx.Query(ctx, `SELECT n.plan_id, n.domain, n.finding, n.assessment_id, COALESCE(a.instrument, ''), COALESCE(a.taken_on, '')
		FROM plan_needs n LEFT JOIN assessments a ON a.id = n.assessment_id WHERE n.plan_id IN `+in+` ORDER BY n.id`, ids...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var pid int64
		var n PlanNeed
		var aid sql.NullInt64
		if err := rows.Scan(&pid, &n.Domain, &n.Finding, &aid, &n.AssessmentInstrument, &n.AssessmentDate); err != nil {
			rows.Close()
			return nil, err
		}
		if aid.Valid {
			n.AssessmentID = &aid.Int64
		}
		if !hide(n.Domain) {
			out[index[pid]].Needs = append(out[index[pid]].Needs, n)
		}
	}
	rows.Close()

	goalAt := map[int64][2]int{} // goal id → plan index, goal index
	rows, err = tx.Query(ctx, `SELECT id, plan_id, domain, description, measure, baseline, target, target_on FROM plan_goals
		WHERE plan_id IN `+in+` ORDER BY id`, ids...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var pid int64
		var g PlanGoal
		if err := rows.Scan(&g.ID, &pid, &g.Domain, &g.Description, &g.Measure, &g.Baseline, &g.Target, &g.TargetOn); err != nil {
			rows.Close()
			return nil, err
		}
		if hide(g.Domain) {
			continue
		}
		g.Interventions = []PlanIntervention{}
		pi := index[pid]
		goalAt[g.ID] = [2]int{pi, len(out[pi].Goals)}
		out[pi].Goals = append(out[pi].Goals, g)
	}
	rows.Close()

	rows, err = tx.Query(ctx, `SELECT i.id, i.goal_id, i.description, i.assignee, COALESCE(u.full_name, i.assignee), i.frequency
		FROM plan_interventions i JOIN plan_goals g ON g.id = i.goal_id LEFT JOIN users u ON u.username = i.assignee
		WHERE g.plan_id IN `+in+` ORDER BY i.id`, ids...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var gid int64
		var iv PlanIntervention
		if err := rows.Scan(&iv.ID, &gid, &iv.Description, &iv.Assignee, &iv.AssigneeName, &iv.Frequency); err != nil {
			rows.Close()
			return nil, err
		}
		if at, ok := goalAt[gid]; ok {
			g := &out[at[0]].Goals[at[1]]
			g.Interventions = append(g.Interventions, iv)
		}
	}
	rows.Close()

	reviewAt := map[int64][2]int{}
	rows, err = tx.Query(ctx, `SELECT r.id, r.plan_id, r.reviewed_on, r.due_on, r.patient_feedback, r.family_feedback, r.author,
		COALESCE(u.full_name, r.author) FROM plan_reviews r LEFT JOIN users u ON u.username = r.author
		WHERE r.plan_id IN `+in+` ORDER BY r.reviewed_on DESC, r.id DESC`, ids...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r PlanReview
		if err := rows.Scan(&r.ID, &r.PlanID, &r.Date, &r.DueOn, &r.PatientFeedback, &r.FamilyFeedback, &r.Author, &r.AuthorName); err != nil {
			rows.Close()
			return nil, err
		}
		r.Ratings = []GoalRating{}
		pi := index[r.PlanID]
		reviewAt[r.ID] = [2]int{pi, len(out[pi].Reviews)}
		out[pi].Reviews = append(out[pi].Reviews, r)
	}
	rows.Close()

	// Newest review first: the first rating of a goal is its latest.
	rows, err = tx.Query(ctx, `SELECT t.review_id, t.goal_id, t.progress, t.value FROM plan_ratings t
		JOIN plan_reviews r ON r.id = t.review_id WHERE r.plan_id IN `+in+` ORDER BY r.reviewed_on DESC, r.id DESC, t.id`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var rid int64
		var g GoalRating
		if err := rows.Scan(&rid, &g.GoalID, &g.Progress, &g.Value); err != nil {
			return nil, err
		}
		at, ok := reviewAt[rid]
		ga, shown := goalAt[g.GoalID]
		if !ok || !shown {
			continue
		}
		r := &out[at[0]].Reviews[at[1]]
		r.Ratings = append(r.Ratings, g)
		if goal := &out[ga[0]].Goals[ga[1]]; goal.LastProgress == "" {
			goal.LastProgress = g.Progress
		}
	}
	return out, rows.Err()
}

// MyIntervention is an intervention of an active plan assigned to the actor.
type MyIntervention struct {
	PatientID    int64  `json:"patient_id"`
	PatientName  string `json:"patient_name"`
	PlanID       int64  `json:"plan_id"`
	Goal         string `json:"goal"`
	Description  string `json:"description"`
	Frequency    string `json:"frequency"`
	NextReviewOn string `json:"next_review_on"`
}

// MyInterventions lists the interventions of active plans assigned to the
// actor, by patient, a page at a time: their home page. An assignee is on
// the patient's team, which is their grant.
func (s *Service) MyInterventions(ctx context.Context, pg Page) ([]MyIntervention, string, error) {
	limit, err := pg.limit()
	if err != nil {
		return nil, "", err
	}
	after, err := interventionCursor(pg)
	if err != nil {
		return nil, "", err
	}
	var out []myIntervention
	var next string
	err = s.readAct(ctx, "plan.my_interventions", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "intervention_list", a.UnitCode, a.UnitPath
		list, err := myInterventions(ctx, tx, a, after, limit)
		out, next = cut(list, limit, func(m myIntervention) string {
			return m.nameKey + interventionSep + strconv.FormatInt(m.PatientID, 10) + interventionSep + strconv.FormatInt(m.id, 10)
		})
		sub.Detail = strconv.Itoa(len(out)) + " results"
		return err
	})
	items := make([]MyIntervention, len(out))
	for i, m := range out {
		items[i] = m.MyIntervention
	}
	return items, next, err
}

// interventionSep joins the parts of a page token of MyInterventions: the
// patient's name key, the patient's id and the intervention's.
const interventionSep = "\x00"

// interventionAfter is where a page of MyInterventions starts: after the
// intervention id of the patient of that id and name key.
type interventionAfter struct {
	set              bool
	nameKey          string
	patient, interID int64
}

func interventionCursor(pg Page) (interventionAfter, error) {
	key, err := pg.after()
	if err != nil || key == "" {
		return interventionAfter{}, err
	}
	parts := strings.Split(key, interventionSep)
	bad := invalid("page_token", "is not a token this server gave out")
	if len(parts) != 3 {
		return interventionAfter{}, bad
	}
	patient, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return interventionAfter{}, bad
	}
	return interventionAfter{set: true, nameKey: parts[0], patient: patient, interID: id}, nil
}

// myIntervention is a row of MyInterventions with its sort key.
type myIntervention struct {
	MyIntervention
	nameKey string
	id      int64
}

func myInterventions(ctx context.Context, tx *store.Tx, a *Actor, after interventionAfter, limit int) ([]myIntervention, error) {
	q := `SELECT pt.name_key, i.id, pt.id, pt.name, p.id, g.description, i.description, i.frequency, p.next_review_on
		FROM plan_interventions i JOIN plan_goals g ON g.id = i.goal_id JOIN care_plans p ON p.id = g.plan_id
		JOIN patients pt ON pt.id = p.patient_id
		JOIN care_team_members m ON m.patient_id = p.patient_id AND m.username = i.assignee
		WHERE i.assignee = ? AND p.status = ?`
	args := []any{a.Username, PlanActive}
	if after.set {
		q += ` AND (pt.name_key > ? OR (pt.name_key = ? AND (pt.id > ? OR (pt.id = ? AND i.id > ?))))`
		args = append(args, after.nameKey, after.nameKey, after.patient, after.patient, after.interID)
	}
	rows, err := tx.Query(ctx, q+` ORDER BY pt.name_key, pt.id, i.id LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []myIntervention
	for rows.Next() {
		var m myIntervention
		if err := rows.Scan(&m.nameKey, &m.id, &m.PatientID, &m.PatientName, &m.PlanID, &m.Goal, &m.Description, &m.Frequency, &m.NextReviewOn); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// planEvents adds a patient's plan versions and reviews to a timeline.
func planEvents(ctx context.Context, tx *store.Tx, id int64, out []TimelineItem) ([]TimelineItem, error) {
	rows, err := tx.Query(ctx, `SELECT id, version, status, start_on, author FROM care_plans WHERE patient_id = ?
		ORDER BY version DESC LIMIT 100`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var it TimelineItem
		var version int
		var status string
		if err := rows.Scan(&it.ID, &version, &status, &it.Date, &it.Author); err != nil {
			rows.Close()
			return nil, err
		}
		// The timeline's next-due column is the follow-up's: a plan's next
		// review shows on the plan.
		it.Kind, it.Detail, it.Superseded = "plan", strconv.Itoa(version), status == PlanSuperseded
		out = append(out, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT r.plan_id, r.reviewed_on, r.author,
		(SELECT count(*) FROM plan_ratings t WHERE t.review_id = r.id AND t.progress = 'achieved')
		FROM plan_reviews r JOIN care_plans p ON p.id = r.plan_id WHERE p.patient_id = ? ORDER BY r.id DESC LIMIT 200`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var it TimelineItem
		var achieved int
		if err := rows.Scan(&it.ID, &it.Date, &it.Author, &achieved); err != nil {
			return nil, err
		}
		it.Kind, it.Detail = "plan_review", strconv.Itoa(achieved)
		out = append(out, it)
	}
	return out, rows.Err()
}
