package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// upload posts files to the import page as a browser's form does.
func (b *browser) upload(path string, files map[string]string) (*http.Response, string) {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for name, content := range files {
		w, _ := mw.CreateFormFile("file", name)
		w.Write([]byte(content))
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// waitJob follows an import job's page until it stops refreshing.
func (b *browser) waitJob(path string) string {
	b.t.Helper()
	for i := 0; i < 200; i++ {
		resp, body := b.get(path)
		if resp.StatusCode != 200 {
			b.t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
		if resp.Header.Get("Refresh") == "" {
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("%s: the job did not end", path)
	return ""
}

// TestImportPage: a district administrator uploads a spreadsheet with an
// error, reads the report by row and column, confirms, and the valid
// rows are imported; a community manager may not open the page.
func TestImportPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		srv, _ := start(t, db)
		b := newBrowser(t, srv)
		b.header.Set("Accept-Language", "en")
		b.signIn("district")
		contains(t, b.page("/admin/import", 200), `href="/admin/import/template?lang=zh-Hans"`, `enctype="multipart/form-data"`)
		contains(t, b.page("/admin/import/template?lang=en", 200), "National ID,Source ID,Name")

		csv := "Name,Sex,Birth date,Community code\n甲,male,1970-01-01,C0101\n乙,female,1971-13-01,C0102\n"
		resp, body := b.upload("/admin/import", map[string]string{"registry.csv": csv})
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/import/") {
			t.Fatalf("upload: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		job := resp.Header.Get("Location")
		body = b.waitJob(job)
		contains(t, body, "Checked", "row 3", "Birth date", `action="`+job+`"`)
		var n int
		db.QueryRow(context.Background(), `SELECT count(*) FROM patients`).Scan(&n)
		if n != 0 {
			t.Fatalf("the check wrote %d patients", n)
		}
		resp, _ = b.post(job, nil)
		expectRedirect(t, resp, job)
		body = b.waitJob(job)
		contains(t, body, "Imported.")
		db.QueryRow(context.Background(), `SELECT count(*) FROM patients`).Scan(&n)
		if n != 1 {
			t.Errorf("%d patients after the import, want 1", n)
		}

		m := newBrowser(t, srv)
		m.signIn("manager")
		m.page("/admin/import", http.StatusForbidden)
		m.page(job, http.StatusForbidden)
	})
}
