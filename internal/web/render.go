package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Templates: one layout with shared parts, and one file per page that
// defines "title" and "content". The public site's pages (public_*.html)
// have a layout of their own.
const (
	layoutFiles  = "templates/layout.html"
	publicLayout = "templates/public_layout.html"
)

func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template)
	for _, n := range names {
		if n == layoutFiles || n == publicLayout {
			continue
		}
		layout := layoutFiles
		if strings.HasPrefix(path.Base(n), "public_") {
			layout = publicLayout
		}
		t, err := template.New(path.Base(n)).Funcs(funcs).ParseFS(files, layout, n)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return pages, nil
}

// render writes the named page. It renders into a buffer first so that a
// template failure becomes a clean error page, not half a page.
func (s *server) render(w http.ResponseWriter, p *page, status int, name string, data any) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	p.Data = data
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages hold personal data: keep them out of shared and back-button caches.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
