package care

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
// The batches write no audit entry of their own: the import is one action,
// audited once by FinishImport with its counts.
func (s *Service) ImportBatch(ctx context.Context, recs []ImportRecord, dryRun bool) (ImportCounts, []ImportProblem, error) {
	var counts ImportCounts
	var problems []ImportProblem
	a := ActorFrom(ctx)
	if a == nil {
		return counts, nil, errUnauthenticated
	}
	if !mayEver(a, ImportRegistry) {
		return counts, nil, s.act(ctx, "registry.import", func(tx *store.Tx, a *Actor, sub *subject) error {
			sub.Type, sub.Unit, sub.Path = "import", a.UnitCode, a.UnitPath
			return errForbidden()
		})
	}
	err := s.db.Transact(ctx, func(tx *store.Tx) error {
		counts, problems = ImportCounts{}, nil
		for i := range recs {
			if _, err := tx.Exec(ctx, `SAVEPOINT kith_import`); err != nil {
				return err
			}
			c, err := s.importOne(ctx, tx, a, &recs[i])
			var ce *Error
			if errors.As(err, &ce) {
				if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT kith_import`); err != nil {
					return err
				}
				counts.Rejected++
				if ce.Kind == Forbidden {
					ce.Fields = []FieldError{{Field: "org_unit", Message: "is outside your jurisdiction"}}
				}
				if len(ce.Fields) == 0 {
					problems = append(problems, ImportProblem{Record: i, Message: ce.Message})
				}
				for _, f := range ce.Fields {
					problems = append(problems, ImportProblem{Record: i, Field: f.Field, Message: f.Message})
				}
			} else if err != nil {
				return err
			} else {
				counts.Add(c)
			}
			if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT kith_import`); err != nil {
				return err
			}
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return counts, problems, unavailable(err)
}

// importOne imports one record: nothing if the patient is on the register
// already, else the patient and their history, whose follow-ups are
// classified and scheduled by the rules in date order as if recorded then.
func (s *Service) importOne(ctx context.Context, tx *store.Tx, a *Actor, r *ImportRecord) (ImportCounts, error) {
	var c ImportCounts
	in := r.Patient
	in.Diagnoses = slices.Clone(in.Diagnoses)
	in.ConfirmDuplicate, in.ContactRequestID = false, 0
	fus := slices.Clone(r.FollowUps)
	slices.SortStableFunc(fus, func(x, y FollowUpInput) int { return strings.Compare(x.Date, y.Date) })
	if in.RegisteredOn == "" {
		// A registry that does not say when a patient was registered:
		// the first follow-up's day, else today.
		for _, fu := range fus {
			if fu.Date != "" {
				in.RegisteredOn = fu.Date
				break
			}
		}
	}

	// Everything wrong with the record, before anything is written.
	f := s.fields()
	check := in
	check.Diagnoses = slices.Clone(in.Diagnoses)
	nid, _ := check.normalize(&f)
	for i := range fus {
		ff := s.fields()
		fu := fus[i]
		fu.validate(&ff, check.RegisteredOn)
		for _, e := range ff.list {
			f.add("follow_ups["+strconv.Itoa(i)+"]."+e.Field, e.Message)
		}
	}
	if err := f.err(); err != nil {
		return c, err
	}

	// On the register already: by the source's identifier, or the national ID.
	var existing int64
	var path string
	if r.Key != "" {
		err := tx.QueryRow(ctx, `SELECT p.id, p.org_path FROM import_sources i JOIN patients p ON p.id = i.patient_id
			WHERE i.source_key = ?`, r.Key).Scan(&existing, &path)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return c, err
		}
	}
	if existing == 0 && nid != "" {
		err := tx.QueryRow(ctx, `SELECT id, org_path FROM patients WHERE national_id_hash = ?`, s.nationalIDHash(nid)).Scan(&existing, &path)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return c, err
		}
	}
	if existing != 0 {
		if !Allow(a, ImportRegistry, Target{Path: path}) {
			return c, invalid("national_id", "is on the register outside your jurisdiction: the district that holds the patient must help")
		}
		c.Existing = 1
		return c, nil
	}

	// A patient who has died or moved away is registered as managed, their
	// history added, then given that status.
	final := ""
	if len(fus) > 0 && (in.Status == string(clinical.StatusDeceased) || in.Status == string(clinical.StatusMovedAway)) {
		final, in.Status = in.Status, string(clinical.StatusManaged)
	}
	var sub subject
	id, err := s.register(ctx, tx, a, &in, &sub, ImportRegistry)
	if err != nil {
		return c, err
	}
	c.Patients = 1
	if r.Key != "" {
		if _, err := tx.Exec(ctx, `INSERT INTO import_sources (source_key, patient_id, created_at) VALUES (?, ?, ?)`,
			r.Key, id, store.FormatTime(tx.Now())); err != nil {
			return c, err
		}
	}
	p, err := patientByID(ctx, tx, id)
	if err != nil {
		return c, err
	}
	if err := s.insertHistory(ctx, tx, a, p, fus); err != nil {
		return c, err
	}
	c.FollowUps += len(fus)
	if len(fus) > 0 {
		if err := refreshSummary(ctx, tx, id, a.Username, s.today()); err != nil {
			return c, err
		}
		if err := report.Touch(ctx, tx, id); err != nil {
			return c, err
		}
	}
	if final != "" {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM patients WHERE id = ?`, id).Scan(&status); err != nil {
			return c, err
		}
		if status != final {
			if err := setStatus(ctx, tx, id, final, fus[len(fus)-1].Date, "imported", a.Username); err != nil {
				return c, err
			}
		}
	}
	return c, nil
}

// insertHistory writes an imported patient's follow-ups, in date order, as
// insertFollowUp would have recorded each on its day, by the same rules
// (planFollowUp), but in bulk: the previous classification that R-NEXT
// needs is the one planned before it, and the rows go in with a few
// multi-row INSERTs instead of several statements each. The patient is new
// to the register, so nothing else is on file for them.
//
// A history raises no alert: the registry it comes from acted on it then.
// The summary is recomputed once, after it (importOne).
func (s *Service) insertHistory(ctx context.Context, tx *store.Tx, a *Actor, p *patientRow, fus []FollowUpInput) error {
	ids, err := tx.NextIDs(ctx, "follow_ups", len(fus))
	if err != nil {
		return err
	}
	var rows, risks [][]any
	var prev clinical.Classification
	died := -1
	for i, in := range fus {
		pl, err := s.planFollowUp(tx, a, p, in, func() (clinical.Classification, error) { return prev, nil })
		if err != nil {
			var ce *Error
			if errors.As(err, &ce) {
				// Prefixed as importOne's checks are.
				for j := range ce.Fields {
					ce.Fields[j].Field = "follow_ups[" + strconv.Itoa(i) + "]." + ce.Fields[j].Field
				}
				if len(ce.Fields) == 0 {
					ce.Fields = []FieldError{{Field: "follow_ups[" + strconv.Itoa(i) + "]", Message: ce.Message}}
				}
			}
			return err
		}
		pl.fu.ID = ids[i]
		rows = append(rows, pl.values())
		if *in.Reached {
			// The follow-up's risk assessment (R-RISK), as insertFollowUp
			// stores it.
			sc, err := s.scoreAnswers("risk", riskAnswers(*in.RiskLevel).Answers)
			if err != nil {
				return err
			}
			risks = append(risks, sc.values(a, p.ID, in.Date, &ids[i], tx.Now()))
			prev = clinical.Classification(pl.fu.Classification)
			// What refreshSummary would have left on the patient, which
			// the next follow-up reads (an attempt keeps the due date).
			p.NextDueOn, p.NextDueRule = pl.fu.NextDueOn, pl.fu.NextDueRule
		} else if in.NotReachedReason == string(clinical.ReasonDeceased) {
			p.Status, died = string(clinical.StatusDeceased), i
		}
	}
	if err := tx.InsertRows(ctx, "follow_ups", followUpInsertColumns, rows); err != nil {
		return err
	}
	if err := tx.InsertRows(ctx, "assessments", assessmentColumns, risks); err != nil {
		return err
	}
	if died >= 0 {
		in := fus[died]
		return setStatus(ctx, tx, p.ID, string(clinical.StatusDeceased), in.DeathDate, "died: "+in.DeathCause, a.Username)
	}
	return nil
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
