package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"kith/internal/care"
)

// Bulk Data export (FHIR Bulk Data Access 2.0, group-level): a client
// kicks off GET Group/{org unit}/$export, polls the status URL it is given
// and then downloads one NDJSON file per resource type. The export runs in
// the background on the server that took the kick-off, a page of patients
// at a time through the care service (the caller's policy, view and audit),
// and writes each page's lines to the database, where any server can
// report on it and serve it. Each resource is mapped by the same functions
// as a read, so an export holds exactly what the caller could have read.

func init() {
	routes = append(routes,
		route{Type: "Group", Interaction: operation, Operation: "export", Handle: (*handler).kickOff,
			Definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
			Path:       "GET " + Base + "/Group/{id}/$export"},
		route{Interaction: operation, Handle: (*handler).exportStatus, Path: "GET " + Base + "/$export-status/{id}"},
		route{Interaction: operation, Handle: (*handler).cancelExport, Path: "DELETE " + Base + "/$export-status/{id}"},
		route{Interaction: operation, Handle: (*handler).exportFile, Path: "GET " + Base + "/$export-file/{id}/{file}"},
	)
}

// NDJSON is the media type of the export's files.
const NDJSON = "application/fhir+ndjson"

// exportTypes are the resource types an export holds, in the manifest's
// order: the patient first, then what refers to them.
var exportTypes = []string{"Patient", "RelatedPerson", "Condition", "Encounter", "Observation", "QuestionnaireResponse", "Flag",
	"CareTeam", "CarePlan", "Goal", "ServiceRequest"}

// ExportPageSize is how many patients an export reads, maps and writes at
// a time: the most it holds in memory.
var ExportPageSize = 100

// running counts the exports running in this process.
var running sync.WaitGroup

// WaitExports waits for the exports running in this process to end, for a
// graceful shutdown and for tests.
func WaitExports() { running.Wait() }

func (h *handler) kickOff(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name := range q {
		switch name {
		case "_type", "_since", "_outputFormat", "_format":
		default:
			return &requestError{status: http.StatusBadRequest, code: "not-supported",
				msg: "parameter " + name + " is not supported by $export; see " + Base + "/metadata", expression: name}
		}
	}
	if !strings.Contains(strings.ToLower(r.Header.Get("Prefer")), "respond-async") {
		return &requestError{status: http.StatusBadRequest, code: "invalid",
			msg: "$export runs in the background: send the header Prefer: respond-async"}
	}
	switch q.Get("_outputFormat") {
	case "", NDJSON, "application/ndjson", "ndjson":
	default:
		return badParam("_outputFormat", "only "+NDJSON+" is supported")
	}
	in := care.ExportInput{OrgUnit: r.PathValue("id"), Types: exportTypes, Request: absURL(r, r.URL.Path)}
	if r.URL.RawQuery != "" {
		in.Request += "?" + r.URL.RawQuery
	}
	if v := q.Get("_type"); v != "" {
		in.Types = nil
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if !slices.Contains(exportTypes, t) {
				return badParam("_type", t+" is not exported; the types are "+strings.Join(exportTypes, ","))
			}
			if !slices.Contains(in.Types, t) {
				in.Types = append(in.Types, t)
			}
		}
		// The manifest lists them in exportTypes' order.
		slices.SortFunc(in.Types, func(a, b string) int { return slices.Index(exportTypes, a) - slices.Index(exportTypes, b) })
	}
	if v := q.Get("_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return badParam("_since", "must be an instant, such as 2026-01-01T00:00:00Z")
		}
		in.Since = &t
	}
	job, err := h.svc.StartExport(r.Context(), in)
	if err != nil {
		return err
	}
	// The export outlives the request: a context that keeps the request's
	// details for the audit, without its cancellation.
	h.startExport(context.WithoutCancel(r.Context()), job)
	w.Header().Set("Content-Location", absURL(r, Base+"/$export-status/"+job.ID))
	writeOutcome(w, http.StatusAccepted, issue{Severity: "information", Code: "informational",
		Diagnostics: "the export has started; poll the URL in Content-Location"})
	return nil
}

// startExport runs the export in the background.
func (h *handler) startExport(ctx context.Context, job *care.ExportJob) {
	running.Add(1)
	go func() {
		defer running.Done()
		h.runExport(ctx, job)
	}()
}

// ResumeEvery is how often a server looks for exports whose server stopped.
const ResumeEvery = time.Minute

// ResumeExports goes on, every ResumeEvery until ctx ends, with the
// exports whose server stopped (care.ClaimExports), from where they were.
func ResumeExports(ctx context.Context, svc *care.Service) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(ResumeEvery):
		}
		if err := ResumeOnce(ctx, svc); err != nil && ctx.Err() == nil {
			slog.Error("bulk export: resuming failed", "error", err)
		}
	}
}

// ResumeOnce claims the stale exports and starts them again.
func ResumeOnce(ctx context.Context, svc *care.Service) error {
	jobs, err := svc.ClaimExports(ctx)
	h := &handler{svc: svc}
	for i := range jobs {
		slog.Info("bulk export: resuming", "export", jobs[i].ID)
		h.startExport(care.WithRequest(context.WithoutCancel(ctx), care.RequestInfo{RequestID: "export-" + jobs[i].ID}), &jobs[i])
	}
	return err
}

// runExport reads, maps and writes the export page by page until the
// unit's patients are done, the export is cancelled or something fails.
// Each page is read as the owner's token says at the time (ExportActor).
func (h *handler) runExport(ctx context.Context, job *care.ExportJob) {
	want := map[string]bool{}
	for _, t := range job.Types {
		want[t] = true
	}
	// The links in the resources (a response's questionnaire) use the
	// address the export was asked at.
	base, _, _ := strings.Cut(job.Request, Base+"/")
	r, err := http.NewRequestWithContext(context.WithValue(ctx, baseKey{}, base), http.MethodGet, job.Request, nil)
	if err != nil {
		h.failExport(ctx, job.ID, err)
		return
	}
	for {
		a, err := h.svc.ExportActor(ctx, job.ID)
		if err != nil {
			h.failExport(ctx, job.ID, err)
			return
		}
		actx := care.WithActor(ctx, a)
		recs, last, err := h.svc.ExportPage(actx, job.ID, ExportPageSize)
		if errors.Is(err, care.ErrExportGone) {
			return
		}
		if err != nil {
			h.failExport(actx, job.ID, err)
			return
		}
		if last == 0 {
			if err := h.svc.FinishExport(actx, job.ID); err != nil && !errors.Is(err, care.ErrExportGone) {
				slog.Error("bulk export: finishing failed", "export", job.ID, "error", err)
			}
			return
		}
		chunks, err := h.exportChunks(r, recs, want)
		if err != nil {
			h.failExport(actx, job.ID, err)
			return
		}
		if err := h.svc.ExportWrite(actx, job.ID, last, len(recs), chunks); err != nil {
			if !errors.Is(err, care.ErrExportGone) {
				h.failExport(actx, job.ID, err)
			}
			return
		}
	}
}

// failExport records that the export failed; the log says why, without
// the data (the error is the database's or the policy's).
func (h *handler) failExport(ctx context.Context, id string, err error) {
	msg := "the export failed; the administrator can find out why in the log (export " + id + ")"
	switch care.ErrorKind(err) {
	case care.NotFound, care.Forbidden:
		msg = "you may no longer read this org unit's patients"
	case care.Unauthenticated:
		msg = "the API token that started the export has expired or was revoked; start it again"
	default:
		slog.Error("bulk export failed", "export", id, "error", err)
	}
	if ferr := h.svc.FailExport(ctx, id, msg); ferr != nil && !errors.Is(ferr, care.ErrExportGone) {
		slog.Error("bulk export: recording the failure failed", "export", id, "error", ferr)
	}
}

// exportChunks maps a page of records to one chunk of NDJSON per type,
// with the mapping functions of the reads.
func (h *handler) exportChunks(r *http.Request, recs []care.ExportRecord, want map[string]bool) ([]care.ExportChunk, error) {
	bufs := map[string]*bytes.Buffer{}
	lines := map[string]int{}
	var err error
	add := func(typ string, res any) {
		if !want[typ] || err != nil {
			return
		}
		b := bufs[typ]
		if b == nil {
			b = &bytes.Buffer{}
			bufs[typ] = b
		}
		enc := json.NewEncoder(b) // one line each: Encode ends it with \n
		enc.SetEscapeHTML(false)
		err = enc.Encode(res)
		lines[typ]++
	}
	for _, rec := range recs {
		p := rec.Patient
		add("Patient", patientResource(p))
		for i := range rec.Family {
			add("RelatedPerson", relatedPersonResource(&rec.Family[i]))
		}
		for i := range p.Diagnoses {
			add("Condition", conditionResource(p, i))
		}
		for i := range rec.FollowUps {
			fu := &rec.FollowUps[i]
			add("Encounter", encounterResource(fu))
			for _, o := range followUpObservations(fu, nil) {
				add("Observation", o)
			}
		}
		for i := range rec.Assessments {
			as := &rec.Assessments[i]
			add("QuestionnaireResponse", h.responseResource(r, as))
			add("Observation", h.scoreObservation(as))
		}
		for i := range rec.Alerts {
			add("Flag", flagResource(&rec.Alerts[i]))
		}
		if rec.Team != nil {
			add("CareTeam", careTeamResource(rec.Team))
		}
		for i := range rec.Plans {
			pl := &rec.Plans[i]
			add("CarePlan", carePlanResource(pl))
			for j := range pl.Goals {
				add("Goal", goalResource(pl, &pl.Goals[j]))
			}
		}
		for i := range rec.Referrals {
			add("ServiceRequest", serviceRequestResource(&rec.Referrals[i]))
		}
	}
	var out []care.ExportChunk
	for _, t := range exportTypes {
		if b := bufs[t]; b != nil {
			out = append(out, care.ExportChunk{Type: t, Lines: lines[t], Body: b.String()})
		}
	}
	return out, err
}

// manifest is the Bulk Data complete-status answer.
type manifest struct {
	TransactionTime     string           `json:"transactionTime"`
	Request             string           `json:"request"`
	RequiresAccessToken bool             `json:"requiresAccessToken"`
	Output              []manifestOutput `json:"output"`
	Error               []manifestOutput `json:"error"`
}

type manifestOutput struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int    `json:"count"`
}

func (h *handler) exportStatus(w http.ResponseWriter, r *http.Request) error {
	job, err := h.svc.ExportStatus(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Expires", job.KeepUntil.UTC().Format(http.TimeFormat))
	switch job.State {
	case "running":
		progress := strconv.Itoa(job.PatientsDone) + " of " + strconv.Itoa(job.PatientsTotal) + " patients"
		w.Header().Set("X-Progress", progress)
		w.Header().Set("Retry-After", "2")
		writeOutcome(w, http.StatusAccepted, issue{Severity: "information", Code: "informational", Diagnostics: "in progress: " + progress})
		return nil
	case "failed":
		writeOutcome(w, http.StatusInternalServerError, issue{Severity: "error", Code: "exception", Diagnostics: job.Error})
		return nil
	}
	m := manifest{TransactionTime: job.TransactionTime.UTC().Format("2006-01-02T15:04:05.000Z"), Request: job.Request,
		RequiresAccessToken: true, Output: []manifestOutput{}, Error: []manifestOutput{}}
	for _, o := range job.Outputs {
		m.Output = append(m.Output, manifestOutput{Type: o.Type, URL: absURL(r, Base+"/$export-file/"+job.ID+"/"+o.Type+".ndjson"),
			Count: o.Count})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(m)
}

func (h *handler) cancelExport(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.CancelExport(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	writeOutcome(w, http.StatusAccepted, issue{Severity: "information", Code: "informational",
		Diagnostics: "the export was cancelled and its files deleted"})
	return nil
}

func (h *handler) exportFile(w http.ResponseWriter, r *http.Request) error {
	typ, ok := strings.CutSuffix(r.PathValue("file"), ".ndjson")
	if !ok || !slices.Contains(exportTypes, typ) {
		return &care.Error{Kind: care.NotFound, Message: "export file not found"}
	}
	started := false
	err := h.svc.ExportFile(r.Context(), r.PathValue("id"), typ, func(body string) error {
		if !started {
			w.Header().Set("Content-Type", NDJSON)
			w.WriteHeader(http.StatusOK)
			started = true
		}
		_, err := w.Write([]byte(body))
		return err
	})
	if err != nil && started {
		// The file is half sent: break the connection, so that the client
		// sees an error rather than a short file.
		slog.ErrorContext(r.Context(), "bulk export: download broke off", "error", err)
		panic(http.ErrAbortHandler)
	}
	return err
}
