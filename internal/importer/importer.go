// Package importer loads an existing registry into Kith: patients with their
// diagnoses, guardian and follow-up history, from a spreadsheet (CSV or
// XLSX, see Template) or from FHIR R4 NDJSON (Patient, RelatedPerson,
// Condition, Encounter and its Observations, as Kith's own FHIR interface
// and bulk export write them).
//
// The importer only reads files: every record goes to the service
// (care.Service.ImportBatch), which validates it with the checks of
// registration and of the follow-up form and applies the clinical rules,
// in batches of one transaction each. A dry run does the same and rolls
// each batch back. Problems come back as the service's field names, which
// the importer turns into the row and column (or line and FHIR element)
// they came from.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"kith/internal/care"
)

// Problem is one thing wrong with the input.
type Problem struct {
	File string `json:"file"`
	// Line is the spreadsheet's row (the header is row 1) or the NDJSON
	// file's line, 0 for the file as a whole.
	Line int `json:"line"`
	// Column is the column's header as the file spells it, or the FHIR
	// element (Patient.birthDate); empty for the whole row.
	Column  string `json:"column"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if p.Column != "" {
		b.WriteString(": " + p.Column)
	}
	return b.String() + ": " + p.Message
}

// MaxProblems bounds the problems a report keeps, so that a file that is
// wrong throughout does not fill the memory; Report.More counts the rest.
const MaxProblems = 10000

// Report is the outcome of an import or a dry run.
type Report struct {
	DryRun   bool              `json:"dry_run"`
	Counts   care.ImportCounts `json:"counts"`
	Problems []Problem         `json:"problems"`
	More     int               `json:"more_problems"` // problems beyond MaxProblems
}

func (r *Report) add(p Problem) {
	if len(r.Problems) < MaxProblems {
		r.Problems = append(r.Problems, p)
		return
	}
	r.More++
}

// Failed reports whether there was any problem.
func (r *Report) Failed() bool { return len(r.Problems) > 0 }

// Options are an import's settings.
type Options struct {
	DryRun bool
	// BatchSize is how many patients one transaction imports (default 200).
	BatchSize int
	// Progress, if set, is told of the work done, in the units of Size.
	Progress func(n int64)
	// AfterBatch, if set, is told the counts so far after each batch.
	AfterBatch func(c care.ImportCounts)
}

// item is one patient read from a file, with where its fields came from.
type item struct {
	file string // the name of the file it came from (its base name)
	rec  care.ImportRecord
	// locate gives the file, line and column of a service field name.
	locate func(field string) (file string, line int, column string)
	// problems the reading found (a count that is not a number, say): the
	// record is not sent, and the service's checks are not run on it.
	problems []Problem
}

// reader yields the items of one file; io.EOF after the last.
type reader interface {
	next() (*item, error)
	close() error
}

// Format is a file's format, known by its name's extension.
func Format(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return "csv"
	case ".xlsx":
		return "xlsx"
	case ".ndjson", ".jsonl":
		return "ndjson"
	}
	return ""
}

// Size is the work an import of the files is measured in for progress:
// their sizes in bytes.
func Size(paths []string) int64 {
	var n int64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// Run imports the files (or, with opt.DryRun, checks them): a CSV or XLSX
// spreadsheet, or NDJSON files, which are read together since a patient's
// resources may lie in several (one per resource type in a bulk export).
// The context's actor must be allowed to import (care.ImportRegistry). An
// error is returned only when the import could not go on (a database or
// file error); problems with the records are in the report.
func Run(ctx context.Context, svc *care.Service, paths []string, opt Options) (*Report, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 200
	}
	rep := &Report{DryRun: opt.DryRun}
	var spreadsheets, ndjson []string
	for _, p := range paths {
		switch Format(p) {
		case "csv", "xlsx":
			spreadsheets = append(spreadsheets, p)
		case "ndjson":
			ndjson = append(ndjson, p)
		default:
			rep.add(Problem{File: filepath.Base(p), Message: "not a file Kith imports: .csv, .xlsx or .ndjson"})
		}
	}
	if rep.Failed() {
		return rep, nil
	}
	var readers []reader
	var bad *unreadable
	for _, p := range spreadsheets {
		r, err := openSheet(p, opt.Progress)
		if errors.As(err, &bad) {
			rep.add(bad.problem())
			if r != nil {
				r.close()
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		readers = append(readers, r)
	}
	if len(ndjson) > 0 {
		r, err := readNDJSON(ndjson, opt.Progress)
		if err != nil {
			return nil, err
		}
		readers = append(readers, r)
	}
	defer func() {
		for _, r := range readers {
			r.close()
		}
	}()
	var batch []*item
	analyseAt := 1
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		recs := make([]care.ImportRecord, len(batch))
		for i, it := range batch {
			recs[i] = it.rec
		}
		counts, problems, err := svc.ImportBatch(ctx, recs, opt.DryRun)
		if err != nil {
			return err
		}
		rep.Counts.Add(counts)
		if !opt.DryRun && rep.Counts.Patients >= analyseAt {
			// The tables have grown tenfold since the planner last
			// looked at them (or it never has).
			if err := svc.AnalyzeImported(ctx); err != nil {
				return err
			}
			analyseAt = 10 * rep.Counts.Patients
		}
		if opt.AfterBatch != nil {
			opt.AfterBatch(rep.Counts)
		}
		for _, p := range problems {
			file, line, col := batch[p.Record].locate(p.Field)
			rep.add(Problem{File: file, Line: line, Column: col, Message: p.Message})
		}
		batch = batch[:0]
		return nil
	}
	for _, r := range readers {
		for {
			it, err := r.next()
			if err == io.EOF {
				break
			}
			if errors.As(err, &bad) {
				// The rest of the file cannot be read: what came before
				// is imported, and the report says where it stopped.
				rep.add(bad.problem())
				break
			}
			if err != nil {
				return nil, err
			}
			if len(it.problems) > 0 {
				rep.Counts.Rejected++
				for _, p := range it.problems {
					rep.add(p)
				}
				continue
			}
			batch = append(batch, it)
			if len(batch) >= opt.BatchSize {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	what := "import of " + strings.Join(baseNames(paths), ", ")
	if err := svc.FinishImport(ctx, what, rep.Counts, opt.DryRun); err != nil {
		return nil, err
	}
	return rep, nil
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

// counting counts the bytes read through it for progress.
type counting struct {
	r        io.Reader
	progress func(int64)
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.progress != nil && n > 0 {
		c.progress(int64(n))
	}
	return n, err
}
