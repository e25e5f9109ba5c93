package care

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/clinical"
	"kith/internal/report"
	"kith/internal/store"
)

// ImportRecord is one patient of an existing registry with their follow-up
// history, as an importer (internal/importer) read it from a spreadsheet or
// FHIR NDJSON. The service validates it with the checks of registration
// and of the follow-up form, so an import accepts exactly what the forms do.
type ImportRecord struct {
	// Key is the patient's identifier in the source (a FHIR Patient's id);
	// empty when the national ID alone keys the patient. Either makes an
	// import idempotent: a patient found by it is left as it is.
	Key       string
	Patient   PatientInput
	FollowUps []FollowUpInput
}

// ImportProblem is what is wrong with one record of a batch: Field is the
// service's name of the field (birth_date, follow_ups[2].risk_level), which
// the importer turns back into a row and column or a FHIR element.
type ImportProblem struct {
	Record  int // index in the batch
	Field   string
	Message string
}

// ImportCounts counts what an import created (or, in a dry run, would).
type ImportCounts struct {
	Patients  int `json:"patients"`
	FollowUps int `json:"follow_ups"`
	// Existing patients were already on the register (by national ID or
	// source identifier) and were left as they were.
	Existing int `json:"existing"`
	// Rejected records had problems and were not imported.
	Rejected int `json:"rejected"`
}

// Add adds o's counts to c.
func (c *ImportCounts) Add(o ImportCounts) {
	c.Patients += o.Patients
	c.FollowUps += o.FollowUps
	c.Existing += o.Existing
	c.Rejected += o.Rejected
}

func (c ImportCounts) String() string {
	return fmt.Sprintf("%d patients, %d follow-ups created; %d already on the register; %d rejected",
		c.Patients, c.FollowUps, c.Existing, c.Rejected)
}

// errDryRun rolls a dry run's batch back.
var errDryRun = errors.New("dry run")

// ImportBatch imports a batch of records in one transaction: each record
// whole or not at all (a record with problems is skipped and reported), so
// that an import cut short by a crash and run again finds the records of
// the committed batches on the register and creates nothing twice. A dry
// run does all the same work and rolls it back, so that it reports exactly
// what the import would meet.
//
// The batch is looked up and written as a whole, not record by record
// (issue 14: one record at a time, the round trips to the database were
// most of an import's time): a few statements find what the batch's
// records meet on the register, the checks and rules run in Go, and the
// rows go in by COPY on PostgreSQL, multi-row INSERTs on SQLite
// (Tx.InsertRows). The records are still judged one after
// another, in the batch's order, with the checks of registration and of
// the follow-up form: a record that repeats an earlier one of the batch
// finds it as it would on the register.
//
// The batches write no audit entry of their own: the import is one action,
// audited once by FinishImport with its counts.
func (s *Service) ImportBatch(ctx context.Context, recs []ImportRecord, dryRun bool) (ImportCounts, []ImportProblem, error) {
	return s.ImportPrepared(ctx, s.PrepareImport(ctx, recs), dryRun)
}

// PreparedImport is a batch of an import with the work done that needs
// nothing from the database: each record checked by itself, and its
// history put through the rules. An importer prepares the next batch while
// the last one is written (PrepareImport, then ImportPrepared).
type PreparedImport struct {
	todo     []*imported
	problems []ImportProblem
	rejected int
	// who is what the batch's records are known by on the register (see
	// Meets): "k" and the source key, "n" and the national ID hash, "p"
	// and the birth date and name.
	who map[string]bool
}

// Meets reports whether a record of p may be the same patient as one of
// q, by what an import finds patients by on the register: the source
// key, the national ID, or the name and birth date (registration's check
// for a possible duplicate). An importer that writes batches side by side
// writes two that meet one after the other, so that the later finds the
// earlier's patients as it would in the file's order.
func (p *PreparedImport) Meets(q *PreparedImport) bool {
	if len(q.who) < len(p.who) {
		p, q = q, p
	}
	for k := range p.who {
		if q.who[k] {
			return true
		}
	}
	return false
}

// ImportWriters is how many batches an importer best writes at once: two
// on PostgreSQL, where one batch's COPY leaves a processor idle while the
// next batch is read and checked (issue 14: on two processors an import
// ran 30 % faster with two), and one on SQLite, which has one writer.
func (s *Service) ImportWriters() int {
	if s.db.Engine() == store.Postgres {
		return 2
	}
	return 1
}

// PrepareImport checks records by themselves, as the registration and
// follow-up forms do, and plans their histories by the rules, for
// ImportPrepared. It reads and writes nothing.
func (s *Service) PrepareImport(ctx context.Context, recs []ImportRecord) *PreparedImport {
	p := &PreparedImport{who: map[string]bool{}}
	a := ActorFrom(ctx)
	if a == nil {
		return p
	}
	at, today := s.now(), s.today()
	for i := range recs {
		r, err := s.checkImport(i, &recs[i])
		if err == nil {
			r.planErr = s.planImport(r, a, at, today)
			p.todo = append(p.todo, r)
			if r.key != "" {
				p.who["k"+r.key] = true
			}
			if r.hash != "" {
				p.who["n"+r.hash] = true
			}
			p.who["p"+r.in.BirthDate+"\x00"+strings.ToLower(r.in.Name)] = true
			continue
		}
		p.rejected++
		p.problems = appendProblems(p.problems, i, err)
	}
	return p
}

// ImportPrepared imports a prepared batch (PrepareImport); see ImportBatch.
func (s *Service) ImportPrepared(ctx context.Context, p *PreparedImport, dryRun bool) (ImportCounts, []ImportProblem, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return ImportCounts{}, nil, errUnauthenticated
	}
	if !mayEver(a, ImportRegistry) {
		return ImportCounts{}, nil, s.act(ctx, "registry.import", func(tx *store.Tx, a *Actor, sub *subject) error {
			sub.Type, sub.Unit, sub.Path = "import", a.UnitCode, a.UnitPath
			return errForbidden()
		})
	}
	var b *importBatch
	var err error
	for range 3 {
		err = s.db.Transact(ctx, func(tx *store.Tx) error {
			b = &importBatch{s: s, tx: tx, a: a}
			b.counts.Rejected, b.problems = p.rejected, slices.Clone(p.problems)
			if err := b.run(ctx, p.todo); err != nil {
				return err
			}
			if dryRun {
				return errDryRun
			}
			return nil
		})
		// A national ID put on the register by someone else since the
		// batch looked: run again, it is then found there.
		if !store.IsUniqueViolation(err) {
			break
		}
	}
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return ImportCounts{}, nil, unavailable(err)
	}
	slices.SortStableFunc(b.problems, func(x, y ImportProblem) int { return x.Record - y.Record })
	return b.counts, b.problems, nil
}

// importBatch is one batch of an import, in its transaction.
type importBatch struct {
	s        *Service
	tx       *store.Tx
	a        *Actor
	counts   ImportCounts
	problems []ImportProblem
	// What the batch finds on the register (found, by lookUp) and what it
	// has put there so far (accepted, and the same three maps in ours):
	// source keys and national ID hashes to the patient's org path, and
	// birth date and name key to the org paths of those so called.
	found, ours onRegister
	units       map[string]*unitRow
	accepted    []*imported
}

type onRegister struct {
	keys, hashes map[string]string
	people       map[[2]string][]string
}

func newOnRegister() onRegister {
	return onRegister{keys: map[string]string{}, hashes: map[string]string{}, people: map[[2]string][]string{}}
}

// imported is a record of the batch on its way to the register.
type imported struct {
	i         int // index in the batch
	key       string
	in        PatientInput // normalized
	nid, hash string       // the national ID normalized and its lookup hash
	severe    bool
	fus       []FollowUpInput // in date order
	final     string          // deceased or moved away after the history
	planErr   error           // what the rules found wrong with the history
	unit      *unitRow
	planned   []*plannedFollowUp
	risks     []*scored // the risk assessment of each planned follow-up, nil if not reached
	statuses  [][3]string
	state     patientState
	last      *plannedFollowUp // the last reached follow-up, nil if none
	streak    int
	inYear    int // the reached follow-ups of the last one's year
}

func (b *importBatch) run(ctx context.Context, todo []*imported) error {
	b.found, b.ours = newOnRegister(), newOnRegister()
	if err := b.lookUp(ctx, todo); err != nil {
		return err
	}
	for _, r := range todo {
		if err := b.admit(r); err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				return err
			}
			b.counts.Rejected++
			b.problems = appendProblems(b.problems, r.i, err)
		}
	}
	return b.write(ctx)
}

// appendProblems adds what err says is wrong with record i.
func appendProblems(problems []ImportProblem, i int, err error) []ImportProblem {
	var ce *Error
	if !errors.As(err, &ce) {
		ce = &Error{Message: err.Error()}
	}
	if ce.Kind == Forbidden {
		ce.Fields = []FieldError{{Field: "org_unit", Message: "is outside your jurisdiction"}}
	}
	if len(ce.Fields) == 0 {
		problems = append(problems, ImportProblem{Record: i, Message: ce.Message})
	}
	for _, f := range ce.Fields {
		problems = append(problems, ImportProblem{Record: i, Field: f.Field, Message: f.Message})
	}
	return problems
}

// checkImport validates a record by itself, as the registration and
// follow-up forms do.
func (s *Service) checkImport(i int, rec *ImportRecord) (*imported, error) {
	r := &imported{i: i, key: rec.Key, in: rec.Patient}
	in := &r.in
	in.Diagnoses = slices.Clone(in.Diagnoses)
	in.ConfirmDuplicate, in.ContactRequestID = false, 0
	r.fus = slices.Clone(rec.FollowUps)
	slices.SortStableFunc(r.fus, func(x, y FollowUpInput) int { return strings.Compare(x.Date, y.Date) })
	if in.RegisteredOn == "" {
		// A registry that does not say when a patient was registered:
		// the first follow-up's day, else today.
		for _, fu := range r.fus {
			if fu.Date != "" {
				in.RegisteredOn = fu.Date
				break
			}
		}
	}
	f := s.fields()
	r.nid, r.severe = in.normalize(&f)
	for i := range r.fus {
		ff := s.fields()
		fu := r.fus[i]
		fu.validate(&ff, in.RegisteredOn)
		for _, e := range ff.list {
			f.add("follow_ups["+strconv.Itoa(i)+"]."+e.Field, e.Message)
		}
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	if r.nid != "" {
		r.hash = s.nationalIDHash(r.nid)
	}
	return r, nil
}

// lookUp reads, for the records that passed check, what they meet on the
// register: patients with their source keys or national IDs, people of
// their names and birth dates, and their org units. One statement each.
func (b *importBatch) lookUp(ctx context.Context, todo []*imported) error {
	var keys, hashes, codes, people []any
	for _, r := range todo {
		if r.key != "" {
			keys = append(keys, r.key)
		}
		if r.hash != "" {
			hashes = append(hashes, r.hash)
		}
		codes = append(codes, strings.TrimSpace(r.in.OrgUnit))
		people = append(people, r.in.BirthDate, strings.ToLower(r.in.Name))
	}
	scan := func(q string, args []any, row func(*sql.Rows) error) error {
		if len(args) == 0 {
			return nil
		}
		rows, err := b.tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err := scan(`SELECT i.source_key, p.org_path FROM import_sources i JOIN patients p ON p.id = i.patient_id
		WHERE i.source_key IN (`+store.Marks(len(keys))+`)`, keys, func(rows *sql.Rows) error {
		var k, path string
		err := rows.Scan(&k, &path)
		b.found.keys[k] = path
		return err
	})
	if err != nil {
		return err
	}
	err = scan(`SELECT national_id_hash, org_path FROM patients WHERE national_id_hash IN (`+store.Marks(len(hashes))+`)`, hashes,
		func(rows *sql.Rows) error {
			var h, path string
			err := rows.Scan(&h, &path)
			b.found.hashes[h] = path
			return err
		})
	if err != nil {
		return err
	}
	err = scan(`SELECT p.birth_date, p.name_key, p.org_path FROM patients p
		JOIN (VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?), ", len(people)/2), ", ")+`) v
		ON p.birth_date = v.column1 AND p.name_key = v.column2`, people, func(rows *sql.Rows) error {
		var who [2]string
		var path string
		err := rows.Scan(&who[0], &who[1], &path)
		b.found.people[who] = append(b.found.people[who], path)
		return err
	})
	if err != nil {
		return err
	}
	b.units = map[string]*unitRow{}
	return scan(`SELECT u.id, `+unitColumns+unitFrom+` WHERE u.code IN (`+store.Marks(len(codes))+`)`, codes,
		func(rows *sql.Rows) error {
			u, err := scanUnitRow(rows)
			b.units[u.Code] = u
			return err
		})
}

// admit takes a prepared record on, in the batch's order: nothing if the
// patient is on the register already, else, if registration's checks
// against the register pass and the rules found nothing wrong with the
// history (planImport), the patient and their planned history, for write.
func (b *importBatch) admit(r *imported) error {
	// On the register already: by the source's identifier, or the
	// national ID.
	path, found := lookup(r.key, b.found.keys, b.ours.keys)
	if !found {
		path, found = lookup(r.hash, b.found.hashes, b.ours.hashes)
	}
	if found {
		if !Allow(b.a, ImportRegistry, Target{Path: path}) {
			return invalid("national_id", "is on the register outside your jurisdiction: the district that holds the patient must help")
		}
		b.counts.Existing++
		return nil
	}

	// The community, as registration checks it.
	f := b.s.fields()
	code := strings.TrimSpace(r.in.OrgUnit)
	u := b.units[code]
	switch {
	case code == "":
		f.add("org_unit", "is required")
	case u == nil:
		f.add("org_unit", "no org unit has this code")
	case u.Level != Community:
		f.add("org_unit", "must be a community")
	}
	if err := f.err(); err != nil {
		return err
	}
	if !Allow(b.a, ImportRegistry, Target{Path: u.Path}) {
		return errForbidden()
	}
	r.unit = u

	// Someone of the same name and birth date in the district: a person
	// must confirm it is not the same (registration's check).
	lo, hi := store.Beneath(districtOf(u.Path))
	who := [2]string{r.in.BirthDate, strings.ToLower(r.in.Name)}
	for _, p := range append(b.found.people[who], b.ours.people[who]...) {
		if p >= lo && p < hi {
			return &Error{Kind: Conflict, Message: "a patient with the same name and birth date is on the register of this district",
				Fields: []FieldError{{Field: "confirm_duplicate", Message: "confirm to register a possible duplicate"}}}
		}
	}

	if r.planErr != nil {
		return r.planErr
	}
	if r.key != "" {
		b.ours.keys[r.key] = u.Path
	}
	if r.hash != "" {
		b.ours.hashes[r.hash] = u.Path
	}
	b.ours.people[who] = append(b.ours.people[who], u.Path)
	b.accepted = append(b.accepted, r)
	b.counts.Patients++
	b.counts.FollowUps += len(r.fus)
	return nil
}

// lookup finds key in the first map that has it.
func lookup(key string, ms ...map[string]string) (string, bool) {
	if key == "" {
		return "", false
	}
	for _, m := range ms {
		if v, ok := m[key]; ok {
			return v, true
		}
	}
	return "", false
}

// planImport applies the rules to the record's history, as insertFollowUp would
// have to each follow-up on its day (planFollowUp): the previous
// classification R-NEXT needs is the one planned before it. Then it works
// out where the history leaves the patient, as refreshSummary would after
// it: the summary of the last reached follow-up, the due date, and the
// status. The patient is new to the register, so nothing else bears on
// them: no alert (a history raises none: the registry it comes from acted
// on it then), no referral, no emergency.
func (s *Service) planImport(r *imported, a *Actor, at time.Time, today clinical.Date) error {
	in := &r.in
	if len(r.fus) > 0 && (in.Status == string(clinical.StatusDeceased) || in.Status == string(clinical.StatusMovedAway)) {
		// A patient who has died or moved away is registered as managed,
		// their history added, then given that status.
		r.final, in.Status = in.Status, string(clinical.StatusManaged)
	}
	reg, _ := clinical.ParseDate(in.RegisteredOn)
	p := &patientRow{}
	p.Status, p.RegisteredOn = in.Status, in.RegisteredOn
	p.NextDueOn = reg.AddDays(firstFollowUpDays).String()
	r.state = patientState{status: in.Status, leftOn: leftOn(in.Status, in.RegisteredOn), due: p.NextDueOn}
	r.statuses = [][3]string{{in.Status, in.RegisteredOn, "registered"}}
	set := func(status, on, reason string) {
		r.state.status, r.state.leftOn = status, leftOn(status, on)
		r.statuses = append(r.statuses, [3]string{status, on, reason})
	}

	var prev clinical.Classification
	for i, fu := range r.fus {
		pl, err := s.planFollowUp(at, a, p, fu, func() (clinical.Classification, error) { return prev, nil })
		if err != nil {
			var ce *Error
			if errors.As(err, &ce) {
				for j := range ce.Fields {
					ce.Fields[j].Field = "follow_ups[" + strconv.Itoa(i) + "]." + ce.Fields[j].Field
				}
				if len(ce.Fields) == 0 {
					ce.Fields = []FieldError{{Field: "follow_ups[" + strconv.Itoa(i) + "]", Message: ce.Message}}
				}
			}
			return err
		}
		var risk *scored
		if *fu.Reached {
			// The follow-up's risk assessment (R-RISK), as
			// insertFollowUp stores it.
			if risk, err = s.scoreAnswers("risk", riskAnswers(*fu.RiskLevel).Answers); err != nil {
				return err
			}
			prev = clinical.Classification(pl.fu.Classification)
			// What refreshSummary would have left on the patient, which
			// the next follow-up reads (an attempt keeps the due date).
			p.NextDueOn, p.NextDueRule = pl.fu.NextDueOn, pl.fu.NextDueRule
			r.last = pl
		} else if fu.NotReachedReason == string(clinical.ReasonDeceased) {
			p.Status = string(clinical.StatusDeceased)
			set(p.Status, fu.DeathDate, "died: "+fu.DeathCause)
		}
		r.planned = append(r.planned, pl)
		r.risks = append(r.risks, risk)
	}
	if len(r.fus) == 0 {
		return nil
	}

	// refreshSummary's reading: the last reached follow-up, the attempts
	// since (all of them if none was reached), the due date it set (the
	// first follow-up's if none).
	lastDate := ""
	if r.last != nil {
		lastDate = r.last.fu.Date
		r.state.due, r.state.dueRule = r.last.fu.NextDueOn, r.last.fu.NextDueRule
	}
	lastYear := lastDate[:min(4, len(lastDate))] // "" if none was reached
	for _, pl := range r.planned {
		switch {
		case !*pl.fu.Reached && pl.fu.Date > lastDate:
			r.streak++
		case *pl.fu.Reached && strings.HasPrefix(pl.fu.Date, lastYear):
			r.inYear++
		}
	}
	r.state.due, r.state.dueRule = warningDue(lastDate, r.state.due, r.state.dueRule, "", "")
	lastReached, _ := clinical.ParseDate(lastDate)
	lost := clinical.Lost(r.streak, lastReached, reg, today)
	switch {
	case r.state.status == string(clinical.StatusManaged) && lost:
		set(string(clinical.StatusLost), today.String(), string(clinical.RuleLost))
	case r.state.status == string(clinical.StatusLost) && !lost:
		set(string(clinical.StatusManaged), today.String(), "reached again")
	}
	if r.final != "" && r.state.status != r.final {
		set(r.final, r.fus[len(r.fus)-1].Date, "imported")
	}
	return nil
}

// importPatientColumns are patientColumns with the id and the summary of
// the history.
var importPatientColumns = append(slices.Clone(patientColumns), "id", "last_followup_on", "last_classification",
	"last_risk_level", "last_adherence", "not_reached_streak", "reached_in_year")

// write inserts the accepted records, table by table.
func (b *importBatch) write(ctx context.Context) error {
	if len(b.accepted) == 0 {
		return nil
	}
	n := 0
	for _, r := range b.accepted {
		n += len(r.planned)
	}
	pids, err := b.tx.NextIDs(ctx, "patients", len(b.accepted))
	if err != nil {
		return err
	}
	fids, err := b.tx.NextIDs(ctx, "follow_ups", n)
	if err != nil {
		return err
	}
	at, now, by := b.tx.Now(), store.FormatTime(b.tx.Now()), b.a.Username
	var patients, diagnoses, guardians, statuses, sources, fus, risks [][]any
	var units []int64
	k := 0
	for j, r := range b.accepted {
		id := pids[j]
		var sealed string
		var nidHash any
		if r.nid != "" {
			if sealed, err = b.s.sealNationalID(r.nid); err != nil {
				return err
			}
			nidHash = r.hash
		}
		row := b.s.patientValues(&r.in, r.unit, r.nid, sealed, nidHash, r.severe, r.state, at)
		var lastDate, class, adherence string
		var risk any
		if r.last != nil {
			lastDate, class, adherence, risk = r.last.fu.Date, r.last.fu.Classification, r.last.fu.MedicationAdherence, r.last.risk
		}
		patients = append(patients, append(row, id, lastDate, class, risk, adherence, r.streak, r.inYear))
		for _, d := range r.in.Diagnoses {
			diagnoses = append(diagnoses, []any{id, d.Code, d.DiagnosedOn, d.Institution})
		}
		if g := r.in.Guardian; strings.TrimSpace(g.Name+g.Relation+g.Phone) != "" {
			guardians = append(guardians, []any{id, g.Name, g.Relation, g.Phone, false, true, "", now, now})
		}
		for _, st := range r.statuses {
			statuses = append(statuses, []any{id, st[0], st[1], st[2], by, now})
		}
		if r.key != "" {
			sources = append(sources, []any{r.key, id, now})
		}
		for i, pl := range r.planned {
			pl.fu.ID, pl.fu.PatientID, pl.fu.CreatedAt = fids[k], id, at
			fus = append(fus, pl.values())
			if r.risks[i] != nil {
				risks = append(risks, r.risks[i].values(b.a, id, pl.fu.Date, &fids[k], at))
			}
			k++
		}
		if !slices.Contains(units, r.unit.id) {
			units = append(units, r.unit.id)
		}
	}
	for _, t := range []struct {
		table   string
		columns []string
		rows    [][]any
	}{
		{"patients", importPatientColumns, patients},
		{"patient_diagnoses", []string{"patient_id", "code", "diagnosed_on", "institution"}, diagnoses},
		{"family_members", []string{"patient_id", "name", "relation", "phone", "lives_with", "is_guardian", "notes",
			"created_at", "updated_at"}, guardians},
		{"patient_status_history", []string{"patient_id", "status", "changed_on", "reason", "actor", "at"}, statuses},
		{"import_sources", []string{"source_key", "patient_id", "created_at"}, sources},
		{"follow_ups", followUpInsertColumns, fus},
		{"assessments", assessmentColumns, risks},
	} {
		if err := b.tx.InsertRows(ctx, t.table, t.columns, t.rows); err != nil {
			return err
		}
	}
	return report.TouchUnits(ctx, b.tx, units)
}

// AnalyzeImported refreshes the planner's statistics of the tables an
// import fills. Into an empty register, an import otherwise runs on plans
// made for empty tables: every patient's history scanned follow_ups whole,
// and two thousand patients in, the import wrote 80 records a second.
func (s *Service) AnalyzeImported(ctx context.Context) error {
	return s.db.Analyze(ctx, "patients", "patient_diagnoses", "patient_status_history", "family_members", "follow_ups",
		"assessments", "import_sources")
}

// FinishImport writes the import's one audit entry, with its counts; a dry
// run is audited too (it looked the records up on the register).
func (s *Service) FinishImport(ctx context.Context, what string, counts ImportCounts, dryRun bool) error {
	action := "registry.import"
	if dryRun {
		action = "registry.import_check"
	}
	return s.act(ctx, action, func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "import", a.UnitCode, a.UnitPath
		if sub.Path == "" {
			sub.Path = "/"
		}
		if !mayEver(a, ImportRegistry) {
			return errForbidden()
		}
		sub.Detail = what + ": " + counts.String()
		return nil
	})
}
