package bench

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/importer"
	"kith/internal/store"
)

// FhirbaseRate is fhirbase's loading rate on this machine kind, as issue 14
// gives it (resources a second, with COPY and no validation): the figure
// the import is set beside. fhirbase itself cannot be fetched here.
const FhirbaseRate = 30000

// ImportOptions configures the import benchmark (kith bench -import N).
type ImportOptions struct {
	Patients  int // patients in the generated file
	FollowUps int // follow-ups of each patient
	Batch     int // patients per transaction (the importer's default if 0)
	Dir       string
}

// ImportResult is one measured import.
type ImportResult struct {
	Patients, FollowUps int
	FileBytes           int64
	Elapsed             time.Duration
	PeakHeap            uint64 // the largest live heap seen while importing
}

// Rate is the records (patients and follow-ups) imported a second.
func (r ImportResult) Rate() float64 {
	return float64(r.Patients+r.FollowUps) / r.Elapsed.Seconds()
}

// Import writes a registry of o.Patients patients with o.FollowUps
// follow-ups each as the CSV template (spread over the communities of the
// database, which kith demo -patients 0 fills), imports it through the
// importer as kith import does, with every check and rule, and reports
// the rate and the peak heap beside fhirbase's rate. The file's writing
// is not timed.
func Import(ctx context.Context, db *store.DB, svc *care.Service, o ImportOptions, w io.Writer) (ImportResult, error) {
	var res ImportResult
	var communities []string
	rows, err := db.Query(ctx, `SELECT code FROM org_units WHERE level = 'community' ORDER BY path`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return res, err
		}
		communities = append(communities, c)
	}
	rows.Close()
	if len(communities) == 0 {
		return res, fmt.Errorf("bench: no communities; fill the database with kith demo -patients 0 first")
	}
	var idBase int64
	if err := db.QueryRow(ctx, `SELECT COALESCE(max(id), 0) FROM patients`).Scan(&idBase); err != nil {
		return res, err
	}
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "kith-import-bench"); err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
	}
	path := filepath.Join(dir, "registry.csv")
	start := time.Now()
	if err := writeRegistry(path, o, communities, idBase); err != nil {
		return res, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return res, err
	}
	res.FileBytes = st.Size()
	fmt.Fprintf(w, "wrote %s: %d patients, %d follow-ups, %.1f MB in %s\n", path, o.Patients, o.Patients*o.FollowUps,
		float64(res.FileBytes)/1e6, time.Since(start).Round(time.Millisecond))

	// The peak of the live heap, sampled while the import runs.
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	actx := care.WithActor(ctx, &care.Actor{Username: "system", FullName: "system", Role: auth.Admin})
	start = time.Now()
	rep, err := importer.Run(actx, svc, []string{path}, importer.Options{BatchSize: o.Batch})
	res.Elapsed = time.Since(start)
	close(done)
	if err != nil {
		return res, err
	}
	if rep.Failed() {
		return res, fmt.Errorf("bench: the generated file has problems, the first: %s", rep.Problems[0])
	}
	res.Patients, res.FollowUps, res.PeakHeap = rep.Counts.Patients, rep.Counts.FollowUps, peak.Load()
	fmt.Fprintf(w, "%-44s %12s %12s %10s %12s\n", "what", "records", "seconds", "records/s", "peak heap")
	fmt.Fprintf(w, "%-44s %12d %12.1f %10.0f %10.0fMB\n", "kith import (CSV, with checks and rules)",
		res.Patients+res.FollowUps, res.Elapsed.Seconds(), res.Rate(), float64(res.PeakHeap)/1e6)
	fmt.Fprintf(w, "%-44s %12s %12s %10d %12s\n", "fhirbase (COPY, no checks; issue 14's figure)", "-", "-", FhirbaseRate, "-")
	return res, nil
}

var benchSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵"}

// writeRegistry writes the template's CSV: each patient on its first row
// with their first follow-up, then a row for each further follow-up, about
// a month apart and ending before today, one in fifteen not reached.
func writeRegistry(path string, o ImportOptions, communities []string, idBase int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	head := make([]string, len(importer.Columns))
	for i, c := range importer.Columns {
		head[i] = c.EN
	}
	cw.Write(head)
	col := map[string]int{}
	for i, c := range importer.Columns {
		col[c.Field] = i
	}
	rng := rand.New(rand.NewPCG(11, 13))
	today := clinical.DateOf(time.Now())
	rec := make([]string, len(importer.Columns))
	for i := 0; i < o.Patients; i++ {
		clear(rec)
		n := idBase + int64(i) + 1
		birth := today.AddDays(-(18*365 + rng.IntN(55*365)))
		sex, seq := "male", int(n%500)*2+1
		if rng.IntN(2) == 0 {
			sex, seq = "female", seq-1
		}
		// Area from the number, so that the bench's national IDs do not
		// collide with each other (nor, by their area, with the demo's).
		first := fmt.Sprintf("%06d%s%03d", 900000-int(n/500)%800000, birth.Time().Format("20060102"), seq)
		ch, _ := clinical.NationalIDCheck(first)
		reg := today.AddDays(-(o.FollowUps*31 + 30 + rng.IntN(60)))
		rec[col["national_id"]] = first + string(ch)
		rec[col["source_id"]] = "bench-" + strconv.FormatInt(n, 10)
		// Unique, so that no two are a possible duplicate (same name and
		// birth date), which an import asks a person to confirm.
		rec[col["name"]] = benchSurnames[rng.IntN(len(benchSurnames))] + "测" + strconv.Itoa(i)
		rec[col["sex"]] = sex
		rec[col["birth_date"]] = birth.String()
		rec[col["phone"]] = "13" + strconv.Itoa(100000000+rng.IntN(899999999))
		rec[col["org_unit"]] = communities[i%len(communities)]
		rec[col["diagnoses"]] = "schizophrenia"
		rec[col["guardian.name"]] = benchSurnames[rng.IntN(len(benchSurnames))] + "某"
		rec[col["guardian.relation"]] = "母亲"
		rec[col["guardian.phone"]] = "13" + strconv.Itoa(100000000+rng.IntN(899999999))
		rec[col["status"]] = "managed"
		rec[col["registered_on"]] = reg.String()
		rec[col["consent"]] = "yes"
		rec[col["consent_on"]] = reg.String()
		date := reg
		for k := 0; k < o.FollowUps; k++ {
			date = date.AddDays(25 + rng.IntN(10))
			if k > 0 {
				for _, c := range importer.Columns {
					if c.Patient {
						rec[col[c.Field]] = ""
					}
				}
			}
			rec[col["date"]] = date.String()
			if rng.IntN(15) == 0 {
				rec[col["mode"]], rec[col["reached"]], rec[col["not_reached_reason"]] = "phone", "no", "working_away"
				for _, k := range []string{"risk_level", "psychotic_symptoms", "insight", "social_function.self_care",
					"social_function.housework", "social_function.work", "social_function.learning",
					"social_function.social_contact", "medication_adherence", "adverse_reaction", "physical_illness"} {
					rec[col[k]] = ""
				}
			} else {
				rec[col["mode"]], rec[col["reached"]], rec[col["not_reached_reason"]] = "home_visit", "yes", ""
				rec[col["risk_level"]] = strconv.Itoa(rng.IntN(2))
				rec[col["psychotic_symptoms"]] = []string{"none", "some"}[rng.IntN(2)]
				rec[col["insight"]] = "complete"
				rec[col["social_function.self_care"]] = "good"
				rec[col["social_function.housework"]] = "good"
				rec[col["social_function.work"]] = "fair"
				rec[col["social_function.learning"]] = "good"
				rec[col["social_function.social_contact"]] = "good"
				rec[col["medication_adherence"]] = "regular"
				rec[col["adverse_reaction"]] = "none"
				rec[col["physical_illness"]] = "none"
			}
			if err := cw.Write(rec); err != nil {
				f.Close()
				return err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
