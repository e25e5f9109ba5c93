package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"kith/internal/care"
	"kith/internal/importer"
)

// The import of an existing registry, for district administrators: upload
// the files, read the dry run's report, confirm, and watch the import. The
// work runs in the background; the page refreshes itself while it runs.
// Jobs live in the server's memory: an import cut short by a restart is
// simply started again, and creates nothing twice (see care.ImportBatch).

// MaxImportUpload is the largest upload the import page takes.
const MaxImportUpload = 512 << 20

// importJob is one upload: its dry run, then perhaps its import.
type importJob struct {
	ID      string
	Owner   string
	Dir     string
	Files   []string
	mu      sync.Mutex
	Stage   string // checking, checked, importing, imported, failed
	Size    int64  // bytes to read
	Done    int64  // bytes read so far in the current stage
	Check   *importer.Report
	Result  *importer.Report
	Counts  care.ImportCounts // of the running stage, so far
	Started time.Time
}

var importJobs = struct {
	sync.Mutex
	m map[string]*importJob
}{m: map[string]*importJob{}}

// importers may open the import page: those the policy lets import.
func mayImport(a *care.Actor) bool { return a != nil && may(a, care.ImportRegistry) }

func (s *server) importPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.render(w, p, http.StatusOK, "import", nil)
}

func (s *server) importTemplate(w http.ResponseWriter, r *http.Request, p *page) error {
	lang := "zh-Hans"
	if r.URL.Query().Get("lang") == "en" {
		lang = "en"
	}
	w.Header().Set("Content-Type", csvType)
	w.Header().Set("Content-Disposition", `attachment; filename="kith-import-template-`+lang+`.csv"`)
	return importer.Template(w, lang)
}

// uploadImport saves the uploaded files (streamed to disk, never held in
// memory) and starts their dry run.
func (s *server) uploadImport(w http.ResponseWriter, r *http.Request, p *page) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return s.render(w, p, http.StatusUnprocessableEntity, "import", map[string]any{"Error": p.T("import.error.nofile")})
	}
	dir, err := os.MkdirTemp("", "kith-import-")
	if err != nil {
		return err
	}
	job := &importJob{ID: newJobID(), Owner: p.User.Username, Dir: dir, Stage: "checking", Started: time.Now()}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			os.RemoveAll(dir)
			return statusError{http.StatusRequestEntityTooLarge}
		}
		if err != nil {
			os.RemoveAll(dir)
			return statusError{http.StatusBadRequest}
		}
		if part.FormName() != "file" || part.FileName() == "" {
			continue
		}
		path, err := saveUpload(dir, len(job.Files), part)
		if err != nil {
			os.RemoveAll(dir)
			return err
		}
		job.Files = append(job.Files, path)
	}
	var bad bool
	for _, f := range job.Files {
		bad = bad || importer.Format(f) == ""
	}
	if len(job.Files) == 0 || bad {
		os.RemoveAll(dir)
		return s.render(w, p, http.StatusUnprocessableEntity, "import", map[string]any{"Error": p.T("import.error.nofile")})
	}
	job.Size = importer.Size(job.Files)
	importJobs.Lock()
	for id, j := range importJobs.m {
		// A day later a job and its files go; a running one stays.
		j.mu.Lock()
		old := time.Since(j.Started) > 24*time.Hour && j.Stage != "checking" && j.Stage != "importing"
		j.mu.Unlock()
		if old {
			os.RemoveAll(j.Dir)
			delete(importJobs.m, id)
		}
	}
	importJobs.m[job.ID] = job
	importJobs.Unlock()
	go s.runImport(context.WithoutCancel(r.Context()), job, true)
	http.Redirect(w, r, "/admin/import/"+job.ID, http.StatusSeeOther)
	return nil
}

// saveUpload writes one uploaded file under dir, keeping its extension (the
// format) and base name (shown in the report), not its path.
func saveUpload(dir string, n int, part *multipart.Part) (string, error) {
	name := filepath.Base(filepath.Clean("/" + part.FileName()))
	sub := filepath.Join(dir, strconv.Itoa(n))
	if err := os.Mkdir(sub, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(sub, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, part); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

func newJobID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// runImport runs the dry run (check) or the import of a job.
func (s *server) runImport(ctx context.Context, job *importJob, check bool) {
	job.mu.Lock()
	job.Done, job.Counts = 0, care.ImportCounts{}
	job.mu.Unlock()
	rep, err := importer.Run(ctx, s.svc, job.Files, importer.Options{DryRun: check,
		Progress: func(n int64) {
			job.mu.Lock()
			job.Done += n
			job.mu.Unlock()
		},
		AfterBatch: func(c care.ImportCounts) {
			job.mu.Lock()
			job.Counts = c
			job.mu.Unlock()
		}})
	job.mu.Lock()
	defer job.mu.Unlock()
	switch {
	case err != nil:
		slog.ErrorContext(ctx, "import failed", "job", job.ID, "error", err)
		job.Stage = "failed"
	case check:
		job.Check, job.Stage = rep, "checked"
	default:
		job.Result, job.Stage = rep, "imported"
		os.RemoveAll(job.Dir)
	}
}

// job returns the caller's own job, or a not-found.
func (s *server) job(r *http.Request, p *page) (*importJob, error) {
	importJobs.Lock()
	job := importJobs.m[r.PathValue("id")]
	importJobs.Unlock()
	if job == nil || job.Owner != p.User.Username {
		return nil, &care.Error{Kind: care.NotFound, Message: "import not found"}
	}
	return job, nil
}

// importProblemsPage is how many problems a page of the report shows.
const importProblemsPage = 50

type importView struct {
	ID, Stage        string
	Files            []string
	Percent          int
	Counts           care.ImportCounts
	Report           *importer.Report
	Problems         []importer.Problem
	From, Total      int
	PrevURL, NextURL string
	Running          bool
}

func (s *server) importJobPage(w http.ResponseWriter, r *http.Request, p *page) error {
	job, err := s.job(r, p)
	if err != nil {
		return err
	}
	job.mu.Lock()
	v := importView{ID: job.ID, Stage: job.Stage, Counts: job.Counts}
	for _, f := range job.Files {
		v.Files = append(v.Files, filepath.Base(f))
	}
	if job.Size > 0 {
		v.Percent = int(min(100, 100*job.Done/job.Size))
	}
	v.Running = job.Stage == "checking" || job.Stage == "importing"
	v.Report = job.Check
	if job.Result != nil {
		v.Report = job.Result
	}
	job.mu.Unlock()
	if v.Report != nil {
		v.Counts = v.Report.Counts
		v.Total = len(v.Report.Problems)
		v.From, _ = strconv.Atoi(r.URL.Query().Get("from"))
		v.From = max(0, min(v.From, v.Total))
		end := min(v.From+importProblemsPage, v.Total)
		v.Problems = v.Report.Problems[v.From:end]
		if end < v.Total {
			v.NextURL = "/admin/import/" + job.ID + "?from=" + strconv.Itoa(end)
		}
		if v.From > 0 {
			v.PrevURL = "/admin/import/" + job.ID + "?from=" + strconv.Itoa(max(0, v.From-importProblemsPage))
		}
	}
	if v.Running {
		// The page follows the work by refreshing itself.
		w.Header().Set("Refresh", "2")
	}
	return s.render(w, p, http.StatusOK, "import_job", v)
}

// confirmImport starts the import of a checked job.
func (s *server) confirmImport(w http.ResponseWriter, r *http.Request, p *page) error {
	job, err := s.job(r, p)
	if err != nil {
		return err
	}
	job.mu.Lock()
	ok := job.Stage == "checked"
	if ok {
		job.Stage = "importing"
	}
	job.mu.Unlock()
	if !ok {
		return &care.Error{Kind: care.Conflict, Message: "this import has already been started"}
	}
	go s.runImport(context.WithoutCancel(r.Context()), job, false)
	http.Redirect(w, r, "/admin/import/"+job.ID, http.StatusSeeOther)
	return nil
}
