package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"kith/internal/audit"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/store"
)

// Patients generates n patients with up to two years of follow-ups before
// today, following the national rules: each follow-up is classified by
// R-CLASS and the next one falls due by R-NEXT, most are on time, some
// patients drift into overdue and lost, a few die or move away. The first
// 300 belong to the demo district; more fill further districts (10 streets
// of 10 communities, about 120 patients a community) so that the data set
// looks like a province. The rows are bulk-loaded (COPY on PostgreSQL),
// not written through the service; one audit entry records the load.
func Patients(ctx context.Context, db *store.DB, svc *care.Service, n int, today time.Time, seed uint64) (Stats, error) {
	return PatientsProgress(ctx, db, svc, n, today, seed, nil)
}

// Progress is told how many patients each batch loaded, and when the last
// one is in (a progress.Bar).
type Progress interface {
	Add(n int64)
	Done()
}

// PatientsProgress is Patients telling p, when not nil, of each batch; the
// statistics that follow the load (minutes for a province) are logged.
func PatientsProgress(ctx context.Context, db *store.DB, svc *care.Service, n int, today time.Time, seed uint64, p Progress) (Stats, error) {
	g := &gen{db: db, svc: svc, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), today: clinical.DateOf(today), now: today.UTC()}
	if err := g.units(ctx, n); err != nil {
		return g.stats, err
	}
	if err := db.QueryRow(ctx, `SELECT COALESCE(max(id), 0) FROM patients`).Scan(&g.nextID); err != nil {
		return g.stats, err
	}
	first := g.nextID
	const batch = 2000
	for start := 0; start < n; start += batch {
		for i := start; i < min(start+batch, n); i++ {
			if err := g.patient(i); err != nil {
				return g.stats, err
			}
		}
		if err := g.flush(ctx); err != nil {
			return g.stats, err
		}
		if p != nil {
			p.Add(int64(min(start+batch, n) - start))
		}
	}
	if p != nil {
		p.Done()
	}
	if err := db.SyncIdentity(ctx, "patients"); err != nil {
		return g.stats, err
	}
	// Each loaded patient's guardian is their guardian family member, as
	// the service keeps it (care.FamilyMember).
	if _, err := db.Exec(ctx, `INSERT INTO family_members (patient_id, name, relation, phone, lives_with, is_guardian, notes,
		created_at, updated_at) SELECT p.id, p.guardian_name, p.guardian_relation, p.guardian_phone, ?, ?, '', p.updated_at, p.updated_at
		FROM patients p WHERE p.guardian_name <> '' AND p.id > ?`, true, true, first); err != nil {
		return g.stats, err
	}
	// The planner needs statistics of the loaded tables at once.
	slog.Info("analysing the loaded tables", "follow_ups", g.stats.FollowUps)
	if err := db.Optimize(ctx, loaded...); err != nil {
		return g.stats, err
	}
	// Bulk-loaded rows bypass the figure versions; drop any snapshots.
	if _, err := db.Exec(ctx, `DELETE FROM figure_snapshots`); err != nil {
		return g.stats, err
	}
	err := db.Transact(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, &audit.Entry{Actor: "cli", Action: "demo.generate", SubjectType: "patient_list",
			Outcome: audit.Allowed, Detail: fmt.Sprintf("%d patients, %d follow-ups", g.stats.Patients, g.stats.FollowUps)})
	})
	return g.stats, err
}

// Stats counts what Patients made.
type Stats struct {
	Patients, FollowUps, Emergencies, Communities int
}

type loadUnit struct {
	id   int64
	path string
}

type gen struct {
	db     *store.DB
	svc    *care.Service
	rng    *rand.Rand
	today  clinical.Date
	now    time.Time
	nextID int64
	demo   []loadUnit // the demo district's communities
	extra  []loadUnit
	stats  Stats

	patients, diagnoses, history, followUps, emergencies [][]any
}

const perCommunity = 120

// units finds the demo district's communities and adds the further
// districts that n patients need.
func (g *gen) units(ctx context.Context, n int) error {
	rows, err := g.db.Query(ctx, `SELECT id, path FROM org_units WHERE level = 'community' AND path >= ? AND path < ? ORDER BY path`,
		"/"+District+"/", "/"+District+"0")
	if err != nil {
		return err
	}
	for rows.Next() {
		var c loadUnit
		if err := rows.Scan(&c.id, &c.path); err != nil {
			rows.Close()
			return err
		}
		g.demo = append(g.demo, c)
	}
	rows.Close()
	if len(g.demo) == 0 {
		return fmt.Errorf("demo: the demo district %s is missing; run Seed first", District)
	}
	need := (n - 300 + perCommunity - 1) / perCommunity
	if need <= 0 {
		return nil
	}
	var maxID int64
	if err := g.db.QueryRow(ctx, `SELECT COALESCE(max(id), 0) FROM org_units`).Scan(&maxID); err != nil {
		return err
	}
	now := store.FormatTime(g.now)
	var units [][]any
	add := func(code, name, level string, parent any, path string, pop int64) int64 {
		maxID++
		units = append(units, []any{maxID, code, name, level, parent, path, pop, now, now})
		return maxID
	}
	for d := 0; len(g.extra) < need; d++ {
		dc := fmt.Sprintf("D%03d", d+2)
		did := add(dc, "District "+dc, "district", nil, "/"+dc+"/", 10*10*perCommunity*200)
		for s := 0; s < 10 && len(g.extra) < need; s++ {
			sc := fmt.Sprintf("%sS%02d", dc, s+1)
			sid := add(sc, "Street "+sc, "street", did, "/"+dc+"/"+sc+"/", 10*perCommunity*200)
			for c := 0; c < 10 && len(g.extra) < need; c++ {
				cc := fmt.Sprintf("%sC%02d", sc, c+1)
				path := "/" + dc + "/" + sc + "/" + cc + "/"
				g.extra = append(g.extra, loadUnit{add(cc, "Community "+cc, "community", sid, path, perCommunity*200), path})
			}
		}
	}
	g.stats.Communities = len(g.extra)
	cols := []string{"id", "code", "name", "level", "parent_id", "path", "population", "created_at", "updated_at"}
	for len(units) > 0 {
		k := min(5000, len(units))
		if err := g.db.BulkInsert(ctx, "org_units", cols, units[:k]); err != nil {
			return err
		}
		units = units[k:]
	}
	return g.db.SyncIdentity(ctx, "org_units")
}

var (
	surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"}
	given    = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "华", "建国", "桂兰", "志强", "晓燕", "海燕", "玉梅"}
	// Diagnoses weighted roughly as registered nationally: schizophrenia
	// dominates.
	diagnosisMix = []string{"schizophrenia", "schizophrenia", "schizophrenia", "schizophrenia", "schizophrenia", "schizophrenia",
		"bipolar", "bipolar", "paranoid_psychosis", "schizoaffective", "epilepsy_psychosis", "intellectual_disability_psychosis"}
	authors = []string{"manager", "nurse", "manager", "manager2", "psychiatrist"}
)

// state is the latent course of the illness that follow-ups observe.
type state int

const (
	calm state = iota
	wavering
	crisis
)

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

func (g *gen) patient(i int) error {
	g.nextID++
	id := g.nextID
	var c loadUnit
	if i < 300 {
		c = g.demo[i%len(g.demo)]
	} else {
		c = g.extra[(i-300)/perCommunity]
	}
	sex := "male"
	if g.chance(0.48) {
		sex = "female"
	}
	birth := g.today.AddDays(-(18*365 + g.rng.IntN(55*365)))
	name := g.pick(surnames) + g.pick(given)
	reg := g.today.AddDays(-(60 + g.rng.IntN(6*365)))
	var sealed, nid string
	var hash any
	if g.chance(0.8) {
		b := birth.Time()
		// Area and sequence come from the id, so generated numbers never collide;
		// the sequence's parity carries the sex, as in real numbers.
		seq := int(id%500) * 2
		if sex == "male" {
			seq++
		}
		first := fmt.Sprintf("%06d%s%03d", 100000+int(id/500)%900000, b.Format("20060102"), seq)
		if len(first) == 17 {
			ch, _ := clinical.NationalIDCheck(first)
			nid = first + string(ch)
			s, h, err := g.svc.NationalIDColumns(nid)
			if err != nil {
				return err
			}
			sealed, hash = s, h
		}
	}
	phone := "13" + strconv.Itoa(100000000+g.rng.IntN(899999999))
	gName, gRel := g.pick(surnames)+g.pick(given), g.pick([]string{"父亲", "母亲", "配偶", "子女", "兄弟姐妹"})
	diag := g.pick(diagnosisMix)
	g.diagnoses = append(g.diagnoses, []any{id, diag, reg.AddDays(-g.rng.IntN(2000)).String(), "区精神卫生中心"})
	g.history = append(g.history, []any{id, "managed", reg.String(), "registered", "manager", store.FormatTime(reg.Time())})

	status := "managed"
	// The course: most patients are followed up on time; some drop out.
	dropAt := clinical.Date{}
	if g.chance(0.12) {
		dropAt = g.today.AddDays(-g.rng.IntN(400))
	}
	start := reg
	if twoYears := g.today.AddDays(-730); start.Before(twoYears) {
		start = twoYears
	}
	date := start.AddDays(g.rng.IntN(30))
	st := calm
	if g.chance(0.25) {
		st = wavering
	}
	var prev clinical.Classification
	var last struct {
		date, class, due, rule, adherence string
		risk                              any
	}
	last.due, last.rule = reg.AddDays(14).String(), ""
	streak, lastCheck := 0, 0
	inYear, inYearOf := 0, 0 // the reached follow-ups of the last one's year (reached_in_year)
	for !date.After(g.today) {
		if !dropAt.IsZero() && date.After(dropAt) {
			break
		}
		author := g.pick(authors)
		created := store.FormatTime(date.Time().Add(time.Duration(9+g.rng.IntN(8)) * time.Hour))
		if g.chance(0.07) {
			reason := g.pick([]string{"working_away", "working_away", "missing", "moved", "other"})
			details, _ := json.Marshal(map[string]any{"date": date.String(), "mode": "phone", "reached": false, "not_reached_reason": reason})
			g.followUps = append(g.followUps, []any{id, date.String(), "phone", false, nil, "not_reached", "", last.due, last.rule, "", "", string(details), author, created, false})
			streak++
			date = date.AddDays(7 + g.rng.IntN(14))
			continue
		}
		st = g.step(st)
		a, adherence := g.assess(st)
		class, rule := clinical.Classify(a)
		due, dueRule := clinical.NextDue(date, class, prev)
		mode := g.pick([]string{"home_visit", "home_visit", "phone", "clinic"})
		details, _ := json.Marshal(map[string]any{"date": date.String(), "mode": mode, "reached": true, "risk_level": a.RiskLevel,
			"psychotic_symptoms": a.PsychoticSymptoms, "insight": a.Insight, "social_function": a.SocialFunction,
			"adverse_reaction": a.AdverseReaction, "physical_illness": a.PhysicalIllness, "medication_adherence": adherence,
			"sleep": g.pick([]string{"good", "good", "fair", "poor"}), "diet": g.pick([]string{"good", "good", "fair"}),
			"medications": regimens[id%int64(len(regimens))]})
		// About half the patients have their annual health check (R-CHECK)
		// with a follow-up in the year.
		check := date.Year != lastCheck && g.chance(0.2)
		if check {
			lastCheck = date.Year
		}
		g.followUps = append(g.followUps, []any{id, date.String(), mode, true, a.RiskLevel, string(class), string(rule),
			due.String(), string(dueRule), "", string(adherence), string(details), author, created, check})
		if a.RiskLevel >= 3 && g.chance(0.3) {
			at := date.Time().Add(-time.Duration(g.rng.IntN(72)) * time.Hour)
			triggers, _ := json.Marshal([]string{"risk_3_plus", g.pick([]string{"endangering_others", "relapse_deterioration", "self_harm_suicide_risk"})})
			ed, _ := json.Marshal(map[string]any{"attendees": []string{"medical_staff", "police", "family"}, "measures": []string{"crisis_intervention", "persuasion"}, "outcome": "stabilised"})
			g.emergencies = append(g.emergencies, []any{id, store.FormatTime(at), "home", string(triggers), string(ed), true,
				clinical.EmergencyFollowUpDue(clinical.DateOf(at)).String(), "psychiatrist", store.FormatTime(at.Add(3 * time.Hour))})
			g.stats.Emergencies++
		}
		if date.Year != inYearOf {
			inYear, inYearOf = 0, date.Year
		}
		inYear++
		prev, streak = class, 0
		last.date, last.class, last.due, last.rule, last.adherence, last.risk = date.String(), string(class), due.String(), string(dueRule), string(adherence), a.RiskLevel
		// Most visits happen around the due date.
		date = due.AddDays(g.rng.IntN(12) - 4)
	}
	lastReached, _ := clinical.ParseDate(last.date)
	switch {
	case g.chance(0.02):
		status = "deceased"
	case g.chance(0.02):
		status = "moved_away"
	case g.chance(0.03):
		status = "hospitalised"
	case clinical.Lost(streak, lastReached, reg, g.today):
		status = "lost"
	}
	left := ""
	if status != "managed" {
		on := g.today.AddDays(-g.rng.IntN(60)).String()
		g.history = append(g.history, []any{id, status, on, "", "manager", store.FormatTime(g.now)})
		if status == "deceased" || status == "moved_away" {
			left = on
		}
	}
	g.stats.Patients++
	now := store.FormatTime(g.now)
	initials, phoneKey, tail := g.svc.SearchColumns(name, phone, nid)
	g.patients = append(g.patients, []any{id, c.id, c.path, name, name, sex, birth.String(), sealed, hash, phone,
		"社区" + strconv.Itoa(1+g.rng.IntN(30)) + "号楼" + strconv.Itoa(101+g.rng.IntN(600)) + "室", gName, gRel,
		"13" + strconv.Itoa(100000000+g.rng.IntN(899999999)), true, reg.String(), status, reg.String(), true,
		last.due, last.rule, last.date, last.class, last.risk, last.adherence, streak, now, now, left,
		initials, phoneKey, tail, 1, inYear})
	return nil
}

// step moves the latent course on by one follow-up.
func (g *gen) step(s state) state {
	r := g.rng.Float64()
	switch s {
	case calm:
		if r < 0.12 {
			return wavering
		}
		if r < 0.14 {
			return crisis
		}
	case wavering:
		if r < 0.45 {
			return calm
		}
		if r < 0.55 {
			return crisis
		}
	case crisis:
		if r < 0.6 {
			return wavering
		}
		if r < 0.7 {
			return calm
		}
	}
	return s
}

// assess draws follow-up findings that fit the latent course.
func (g *gen) assess(s state) (clinical.Assessment, clinical.Adherence) {
	a := clinical.Assessment{PsychoticSymptoms: clinical.PsychoticNone, Insight: clinical.InsightComplete,
		AdverseReaction: clinical.ReactionNone, PhysicalIllness: clinical.IllnessNone,
		SocialFunction: clinical.SocialFunction{SelfCare: "good", Housework: "good", Work: "fair", Learning: "fair", SocialContact: "good"}}
	adherence := clinical.AdherenceRegular
	if g.chance(0.08) {
		a.AdverseReaction = clinical.ReactionMild
	}
	switch s {
	case wavering:
		a.RiskLevel = g.rng.IntN(3)
		a.PsychoticSymptoms = clinical.PsychoticSome
		a.Insight = clinical.Insight(g.pick([]string{"partial", "complete"}))
		a.SocialFunction.Work = "poor"
		adherence = clinical.Adherence(g.pick([]string{"regular", "intermittent", "intermittent"}))
	case crisis:
		a.RiskLevel = 2 + g.rng.IntN(3)
		a.PsychoticSymptoms = clinical.PsychoticObvious
		a.Insight = clinical.InsightAbsent
		a.SocialFunction = clinical.SocialFunction{SelfCare: "fair", Housework: "poor", Work: "poor", Learning: "poor", SocialContact: "poor"}
		adherence = clinical.Adherence(g.pick([]string{"intermittent", "none", "none"}))
	default:
		if g.chance(0.05) {
			adherence = clinical.AdherenceNotNeeded
		} else if g.chance(0.15) {
			adherence = clinical.AdherenceIntermittent
		}
	}
	return a, adherence
}

// regimens are the demo patients' medication, one per patient by id (not
// drawn from the random source, so that adding them changed no other
// generated value).
var regimens = [][]map[string]string{
	{{"name": "利培酮", "dose": "2 mg", "frequency": "每日2次"}},
	{{"name": "奥氮平", "dose": "10 mg", "frequency": "每晚1次"}},
	{{"name": "阿立哌唑", "dose": "10 mg", "frequency": "每日1次"}},
	{{"name": "喹硫平", "dose": "200 mg", "frequency": "每日2次"}, {"name": "丙戊酸钠", "dose": "500 mg", "frequency": "每日2次"}},
	{{"name": "碳酸锂", "dose": "300 mg", "frequency": "每日3次"}},
}

var (
	patientCols = []string{"id", "org_unit_id", "org_path", "name", "name_key", "sex", "birth_date", "national_id_enc", "national_id_hash",
		"phone", "address", "guardian_name", "guardian_relation", "guardian_phone", "consent", "consent_on", "status", "registered_on",
		"severe", "next_due_on", "next_due_rule", "last_followup_on", "last_classification", "last_risk_level", "last_adherence",
		"not_reached_streak", "created_at", "updated_at", "left_on", "name_initials", "phone_key", "national_id_tail",
		"search_keys", "reached_in_year"}
	diagnosisCols = []string{"patient_id", "code", "diagnosed_on", "institution"}
	historyCols   = []string{"patient_id", "status", "changed_on", "reason", "actor", "at"}
	followUpCols  = []string{"patient_id", "date", "mode", "reached", "risk_level", "classification", "rule", "next_due_on",
		"next_due_rule", "next_due_reason", "medication_adherence", "details", "author", "created_at", "health_check"}
	emergencyCols = []string{"patient_id", "occurred_at", "place", "triggers", "details", "completed", "follow_up_by", "author", "created_at"}
)

// loaded names the tables Patients fills.
var loaded = []string{"org_units", "patients", "patient_diagnoses", "patient_status_history", "follow_ups", "emergencies", "family_members"}

func (g *gen) flush(ctx context.Context) error {
	for _, t := range []struct {
		table string
		cols  []string
		rows  *[][]any
	}{
		{"patients", patientCols, &g.patients}, {"patient_diagnoses", diagnosisCols, &g.diagnoses},
		{"patient_status_history", historyCols, &g.history}, {"follow_ups", followUpCols, &g.followUps},
		{"emergencies", emergencyCols, &g.emergencies},
	} {
		if err := g.db.BulkInsert(ctx, t.table, t.cols, *t.rows); err != nil {
			return fmt.Errorf("demo: load %s: %w", t.table, err)
		}
		if t.table == "follow_ups" {
			g.stats.FollowUps += len(*t.rows)
		}
		*t.rows = (*t.rows)[:0]
	}
	return nil
}
