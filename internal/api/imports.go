package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"kith/internal/care"
	"kith/internal/importer"
)

var importRoutes = []route{
	{Method: "POST", Pattern: "/api/v1/imports", Handle: (*handler).importRegistry},
}

func init() { routes = append(routes, importRoutes...) }

// MaxImportBody is the largest file the import route takes.
const MaxImportBody = 512 << 20

// importRegistry imports one file sent as the body (?format=csv, xlsx or
// ndjson; ?dry_run=true checks it and writes nothing) and answers with the
// report once done. The body is streamed to a temporary file first: the
// importer reads it in one pass, its memory flat in the file's size.
func (h *handler) importRegistry(w http.ResponseWriter, r *http.Request) error {
	// A caller who may not import is refused (and audited) before the
	// query is checked or the upload read.
	if err := h.svc.Precheck(r.Context(), care.ImportRegistry, 0); err != nil {
		return err
	}
	q := r.URL.Query()
	format := q.Get("format")
	ext := map[string]string{"csv": ".csv", "xlsx": ".xlsx", "ndjson": ".ndjson"}[format]
	if ext == "" {
		return fieldErr("format", "must be csv, xlsx or ndjson")
	}
	dry := q.Get("dry_run")
	if dry != "" && dry != "true" && dry != "false" {
		return fieldErr("dry_run", "must be true or false")
	}
	dir, err := os.MkdirTemp("", "kith-import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "upload"+ext)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &care.Error{Kind: care.Invalid, Message: "the file is too large", Fields: []care.FieldError{{Field: "body", Message: "at most 512 MiB"}}}
	}
	if err != nil {
		return err
	}
	rep, err := importer.Run(r.Context(), h.svc, []string{path}, importer.Options{DryRun: dry == "true"})
	if err != nil {
		return err
	}
	if rep.Problems == nil {
		rep.Problems = []importer.Problem{}
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
