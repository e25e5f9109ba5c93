package api_test

import (
	"strings"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestImportEndpoint: a dry run reports problems by row and column and
// writes nothing; the import creates the valid rows; a community manager
// is refused. The file is larger than the API's usual body limit.
func TestImportEndpoint(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok := e.token("district")
		csv := "姓名,性别,出生日期,社区编码\n甲,男,1970-01-01,C0101\n乙,女,1971-02-30,C0102\n" + strings.Repeat("\n", 70<<10)
		res := e.do("POST", "/api/v1/imports?format=csv&dry_run=true", tok, csv)
		if res.status != 200 {
			t.Fatalf("dry run: %d %s", res.status, res.raw)
		}
		problems, _ := res.body["problems"].([]any)
		if len(problems) != 1 {
			t.Fatalf("problems: %s", res.raw)
		}
		p := problems[0].(map[string]any)
		if p["line"] != float64(3) || p["column"] != "出生日期" {
			t.Errorf("problem %v, want row 3, 出生日期", p)
		}
		if n := e.count("patients"); n != 0 {
			t.Fatalf("a dry run wrote %d patients", n)
		}
		res = e.do("POST", "/api/v1/imports?format=csv", tok, csv)
		counts, _ := res.body["counts"].(map[string]any)
		if res.status != 200 || counts["patients"] != float64(1) || counts["rejected"] != float64(1) {
			t.Errorf("import: %d %s", res.status, res.raw)
		}
		if n := e.count("patients"); n != 1 {
			t.Errorf("%d patients after the import, want 1", n)
		}
		if res := e.do("POST", "/api/v1/imports?format=csv", e.token("manager"), csv); res.status != 403 {
			t.Errorf("a community manager's import: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/api/v1/imports?format=pdf", tok, csv); res.status != 422 {
			t.Errorf("format pdf: %d %s", res.status, res.raw)
		}
		// Refused before the query is checked (probe finding 3).
		if res := e.do("POST", "/api/v1/imports?format=pdf&dry_run=maybe", e.token("manager"), csv); res.status != 403 {
			t.Errorf("a community manager's import of a pdf: %d %s", res.status, res.raw)
		}
		// A file that is not what its format says: a problem of the file,
		// in plain words, with no parser text and no server error.
		for _, tt := range []struct{ format, body, want string }{
			{"csv", "姓名,出生日期\n甲,1970-01-01\n乙\"丙,1971-01-01\n", `cannot be read as CSV: a \" inside a value`},
			{"xlsx", "PK\x03\x04 not a workbook", "cannot be read as an XLSX workbook"},
			{"ndjson", "{not json\n", "is not a JSON resource"},
		} {
			res := e.do("POST", "/api/v1/imports?format="+tt.format+"&dry_run=true", tok, tt.body)
			if res.status != 200 || !strings.Contains(res.raw, tt.want) || strings.Contains(res.raw, "bare") ||
				strings.Contains(res.raw, "invalid character") || strings.Contains(res.raw, "zip") {
				t.Errorf("an unreadable %s: %d %s", tt.format, res.status, res.raw)
			}
		}
	})
}
