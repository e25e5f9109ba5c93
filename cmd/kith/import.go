package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/importer"
	"kith/internal/progress"
)

// cmdImport loads an existing registry: kith import [-dry-run] FILE…
func cmdImport(ctx context.Context, args []string, stdout io.Writer) error {
	var c common
	var dryRun bool
	var batch int
	fs := newFlagSet("import", "kith import [-dry-run] [flags] FILE…\n\n"+
		"Imports patients with their diagnoses, guardian and follow-up history from a CSV or XLSX spreadsheet\n"+
		"(the template's columns, Chinese or English headers) or from FHIR R4 NDJSON files (Patient, RelatedPerson,\n"+
		"Condition, Encounter and Observation; types may be mixed in one file). Patients already on the register\n"+
		"(by national ID or their id in the source) are left as they are, so an import run twice, or again after\n"+
		"a crash, creates nothing twice. -dry-run checks everything and writes nothing. Exit status 1 if any\n"+
		"row has a problem (each is printed with its file, row or line, and column or FHIR element).")
	c.register(fs)
	fs.BoolVar(&dryRun, "dry-run", false, "check the files and report what would be created; write nothing")
	fs.IntVar(&batch, "batch", 500, "patients per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		fs.Usage()
		return &exitError{2, errors.New("import: name the files to import")}
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return &exitError{2, fmt.Errorf("import: %w", err)}
		}
	}
	db, svc, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer sealAndClose(db)
	// The command line runs as the system: whoever may run it may reach
	// the database directly; the audit entry names it "system".
	ctx = care.WithActor(ctx, &care.Actor{Username: "system", FullName: "system", Role: auth.Admin})
	label := "bytes imported"
	if dryRun {
		label = "bytes checked"
	}
	bar := progress.New(os.Stderr, label, importer.Size(files))
	rep, err := importer.Run(ctx, svc, files, importer.Options{DryRun: dryRun, BatchSize: batch, Progress: bar.Add})
	bar.Done()
	if err != nil {
		return describe(err)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, p)
	}
	if rep.More > 0 {
		fmt.Fprintf(stdout, "… and %d more problems\n", rep.More)
	}
	verb := "imported"
	if dryRun {
		verb = "dry run, nothing written; would create"
	}
	c2 := rep.Counts
	fmt.Fprintf(stdout, "%s: %d patients, %d follow-ups; %d already on the register; %d rejected\n", verb,
		c2.Patients, c2.FollowUps, c2.Existing, c2.Rejected)
	if rep.Failed() {
		return &exitError{1, fmt.Errorf("import: %d problems", len(rep.Problems)+rep.More)}
	}
	return nil
}
