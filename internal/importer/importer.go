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
	// BatchSize is how many patients one transaction imports (default 500).
	BatchSize int
	// Progress, if set, is told of the work done, in the units of Size:
	// the bytes of the records a batch held, once the batch is written (or,
	// in a dry run, checked), so that progress never runs ahead of the
	// database.
	Progress func(n int64)
	// AfterBatch, if set, is told the counts so far after each batch.
	AfterBatch func(c care.ImportCounts)
	// Writers is how many batches are written at once; 0 for what suits
	// the database (care.Service.ImportWriters). The report, Progress and
	// AfterBatch take the batches in the files' order all the same.
	Writers int
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
		opt.BatchSize = 500
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
	// consumed is the bytes of the records read so far; the readers add to
	// it, and each chunk carries what was added since the last (read).
	var consumed int64
	count := func(n int64) { consumed += n }
	var readers []reader
	var bad *unreadable
	for _, p := range spreadsheets {
		r, err := openSheet(p, count)
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
		r, err := readNDJSON(ndjson, count)
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
	// The files are read, and each batch checked and planned
	// (care.PrepareImport), in a goroutine of their own, a batch ahead of
	// the one being written: the two take turns on the processor and the
	// database otherwise.
	ctx, cancel := context.WithCancel(ctx)
	chunks := make(chan chunk, 1)
	go func() {
		defer close(chunks)
		read(ctx, svc, readers, opt.BatchSize, &consumed, chunks)
	}()
	defer func() {
		// The reader is done with the files before they are closed.
		cancel()
		for range chunks {
		}
	}()
	writers := opt.Writers
	if writers <= 0 {
		writers = svc.ImportWriters()
	}
	// Batches are written by up to writers goroutines at once, and taken
	// into the report in the files' order: queue holds the batches started
	// and not yet reported, in that order. A batch that meets one being
	// written (care.PreparedImport.Meets) waits for it.
	var queue []*flight
	running := 0
	finished := make(chan *flight, writers)
	defer func() {
		// On an error, the writers still at work are stopped and waited for.
		cancel()
		for ; running > 0; running-- {
			<-finished
		}
	}()
	analyseAt := 1
	take := func(f *flight) error {
		c := f.c
		for _, p := range c.problems {
			rep.add(p)
		}
		rep.Counts.Rejected += c.rejected
		if f.err != nil {
			return f.err
		}
		if opt.Progress != nil && c.bytes > 0 {
			opt.Progress(c.bytes)
		}
		if len(c.batch) == 0 {
			return nil
		}
		rep.Counts.Add(f.counts)
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
		for _, p := range f.problems {
			file, line, col := c.batch[p.Record].locate(p.Field)
			rep.add(Problem{File: file, Line: line, Column: col, Message: p.Message})
		}
		return nil
	}
	// settle takes the finished batches at the head of the queue into the
	// report; with wait, it first waits for a writer to finish.
	settle := func(wait bool) error {
		if wait {
			(<-finished).done = true
			running--
		}
		for more := true; more; {
			select {
			case f := <-finished:
				f.done = true
				running--
			default:
				more = false
			}
		}
		for len(queue) > 0 && queue[0].done {
			f := queue[0]
			queue[0] = nil // the batch is garbage once taken
			queue = queue[1:]
			if err := take(f); err != nil {
				return err
			}
		}
		return nil
	}
	meetsRunning := func(p *care.PreparedImport) bool {
		for _, f := range queue {
			if !f.done && f.c.prepared != nil && f.c.prepared.Meets(p) {
				return true
			}
		}
		return false
	}
	for c := range chunks {
		if c.err != nil {
			return nil, c.err
		}
		f := &flight{c: c, done: len(c.batch) == 0}
		if !f.done {
			for running >= writers || meetsRunning(c.prepared) {
				if err := settle(true); err != nil {
					return nil, err
				}
			}
			running++
			go func() {
				f.counts, f.problems, f.err = svc.ImportPrepared(ctx, c.prepared, opt.DryRun)
				finished <- f
			}()
		}
		queue = append(queue, f)
		if err := settle(false); err != nil {
			return nil, err
		}
	}
	for len(queue) > 0 {
		if err := settle(true); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		// Cancelled: the reader stopped without an error of its own.
		return nil, err
	}
	what := "import of " + strings.Join(baseNames(paths), ", ")
	if err := svc.FinishImport(ctx, what, rep.Counts, opt.DryRun); err != nil {
		return nil, err
	}
	return rep, nil
}

// flight is a batch on its way to the database: done once its writer has
// finished, with what ImportPrepared returned.
type flight struct {
	c        chunk
	done     bool
	counts   care.ImportCounts
	problems []care.ImportProblem
	err      error
}

// progressTo reports a reader's progress to Options.Progress: upTo says
// how far the reader has got, in bytes of its files, and each call reports
// what was added since the last.
type progressTo struct {
	report func(int64)
	given  int64
}

func (p *progressTo) upTo(done int64) {
	if p.report != nil && done > p.given {
		p.report(done - p.given)
		p.given = done
	}
}

// chunk is what read sends: a batch of items prepared for the service, or
// the problems of what could not be read (before the batch, in the order
// of the files), or the error that ends the import.
type chunk struct {
	batch    []*item
	prepared *care.PreparedImport
	problems []Problem
	rejected int   // records the reading rejected
	bytes    int64 // the bytes read for it, for progress
	err      error
}

// read reads the items of the readers in batches of size, prepares each
// (care.PrepareImport) and sends it, until the readers are done or ctx is.
// consumed is the count of bytes the readers add to as they read.
func read(ctx context.Context, svc *care.Service, readers []reader, size int, consumed *int64, out chan<- chunk) {
	send := func(c chunk) bool {
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var c chunk
	var sent int64
	flush := func() bool {
		c.bytes, sent = *consumed-sent, *consumed
		if len(c.batch) > 0 {
			recs := make([]care.ImportRecord, len(c.batch))
			for i, it := range c.batch {
				recs[i] = it.rec
			}
			c.prepared = svc.PrepareImport(ctx, recs)
		}
		ok := send(c)
		c = chunk{}
		return ok
	}
	var bad *unreadable
	for _, r := range readers {
		for {
			it, err := r.next()
			if err == io.EOF {
				break
			}
			if errors.As(err, &bad) {
				// The rest of the file cannot be read: what came before
				// is imported, and the report says where it stopped.
				c.problems = append(c.problems, bad.problem())
				break
			}
			if err != nil {
				send(chunk{err: err})
				return
			}
			if len(it.problems) > 0 {
				c.rejected++
				c.problems = append(c.problems, it.problems...)
				continue
			}
			c.batch = append(c.batch, it)
			if len(c.batch) >= size && !flush() {
				return
			}
		}
		if !flush() {
			return
		}
	}
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
