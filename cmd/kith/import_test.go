package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestImportCommand: a dry run of a file with errors exits 1 naming the
// row and column and writes nothing; the fixed file imported twice gives
// the counts of once; an XLSX with Chinese headers imports as well.
func TestImportCommand(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e store.Engine) {
		dsn, data := storetest.DSN(t, e), t.TempDir()
		if _, err := runKith(t, "", "demo", "-patients", "0", "-db", dsn, "-data", data); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		write := func(body string) string {
			p := filepath.Join(dir, "registry.csv")
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		head := "Name,Sex,Birth date,Community code,Follow-up date,Follow-up mode,Reached,Not reached reason\n"
		bad := write(head + "甲,male,1970-01-01,C0101,2020-01-01,phone,no,working_away\n乙,female,1971-13-01,C0102,,,,\n")
		out, err := runKith(t, "", "import", "-dry-run", "-db", dsn, "-data", data, bad)
		if exitCode(err) != 1 || !strings.Contains(out, "registry.csv:3: Birth date: must be a real date") {
			t.Errorf("dry run of a bad file: exit %d, output:\n%s", exitCode(err), out)
		}
		patients := func() int {
			db, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int
			db.QueryRow(context.Background(), `SELECT count(*) FROM patients`).Scan(&n)
			return n
		}
		if n := patients(); n != 0 {
			t.Fatalf("a dry run wrote %d patients", n)
		}
		good := write(head + "甲,male,1970-01-01,C0101,2020-01-01,phone,no,working_away\n乙,female,1971-12-01,C0102,,,,\n")
		for run := 1; run <= 2; run++ {
			out, err = runKith(t, "", "import", "-db", dsn, "-data", data, good)
			if err != nil {
				t.Fatalf("run %d: %v\n%s", run, err, out)
			}
			if n := patients(); n != 2 {
				t.Errorf("run %d: %d patients, want 2\n%s", run, n, out)
			}
		}
		if !strings.Contains(out, "0 patients, 0 follow-ups; 2 already on the register") {
			t.Errorf("second run: %s", out)
		}

		x := excelize.NewFile()
		rows := [][]any{{"姓名", "性别", "出生日期", "社区编码"}, {"丙", "女", "1972-05-05", "C0201"}}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			x.SetSheetRow("Sheet1", cell, &r)
		}
		xp := filepath.Join(dir, "registry.xlsx")
		if err := x.SaveAs(xp); err != nil {
			t.Fatal(err)
		}
		out, err = runKith(t, "", "import", "-db", dsn, "-data", data, xp)
		if err != nil || !strings.Contains(out, "imported: 1 patients") || patients() != 3 {
			t.Errorf("xlsx import: %v\n%s", err, out)
		}
	})
}
