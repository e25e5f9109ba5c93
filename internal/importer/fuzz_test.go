package importer

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The import's files come from outside: another system's export, a
// spreadsheet typed by hand. Whatever they hold, reading them must not
// panic, and a file that is not what its name says must come back as a
// problem of the file (unreadable), never as a failure of the import with
// the parser's own text. The fuzz tests read only: the records they yield
// go to the service's checks, which the care package's fuzz tests cover.

// readAll reads every item of a file and asks each where its fields came
// from, as the import does with the service's problems.
func readAll(t *testing.T, r reader) {
	t.Helper()
	defer r.close()
	for {
		it, err := r.next()
		if err == io.EOF {
			return
		}
		var bad *unreadable
		if errors.As(err, &bad) {
			checkUnreadable(t, bad)
			return
		}
		if err != nil {
			t.Fatalf("a read error other than unreadable: %v", err)
		}
		if it.locate == nil {
			if len(it.problems) == 0 {
				t.Fatal("an item with neither a record nor a problem")
			}
			continue
		}
		for _, f := range []string{"name", "national_id", "guardian.phone", "diagnoses[0].code", "diagnoses[7].diagnosed_on",
			"follow_ups[0].date", "follow_ups[0].symptoms[1]", "follow_ups[99].risk_level", "follow_ups[x", "confirm_duplicate", ""} {
			it.locate(f)
		}
	}
}

func checkUnreadable(t *testing.T, u *unreadable) {
	t.Helper()
	if !strings.HasPrefix(u.message, "cannot be read as ") {
		t.Errorf("unreadable's message %q is not one of the fixed sentences", u.message)
	}
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sheetOf reads a spreadsheet file as the import does.
func sheetOf(t *testing.T, path string) {
	t.Helper()
	r, err := openSheet(path, func(int64) {})
	var bad *unreadable
	if errors.As(err, &bad) {
		checkUnreadable(t, bad)
		if r != nil {
			r.close()
		}
		return
	}
	if err != nil {
		t.Fatalf("openSheet: %v", err)
	}
	readAll(t, r)
}

func FuzzSheetCSV(f *testing.F) {
	var tmpl bytes.Buffer
	if err := Template(&tmpl, "zh-Hans"); err != nil {
		f.Fatal(err)
	}
	f.Add(tmpl.Bytes())
	var en bytes.Buffer
	Template(&en, "en")
	f.Add(en.Bytes())
	for _, s := range []string{
		"",
		"\ufeffName,Birth date\n王五,1975-03-03\n",
		"Name,Birth date,Follow-up date\n张三,1980-01-01,2025-01-01\n,,2025-02-01\n李四,1990-02-30,\n",
		"Name,\"Birth\" date\n",                 // a bare quote in the header
		"Name,Birth date\n张\"三,1980-01-01\n",    // a bare quote in a row
		"Name,Birth date\n\"张三,1980-01-01\n",    // a quote never closed
		"Name,Birth date\n\"张三\"x,1980-01-01\n", // text after the closing quote
		"Name\n" + strings.Repeat("a", 1<<12) + "\n",
		"national_id,name,diagnoses\n110101198001010010,\u202e,F20;；，,\n",
		"\x00\xff\xfe,\r\n\r\n,,,\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sheetOf(t, writeTemp(t, "registry.csv", data))
	})
}

func FuzzSheetXLSX(f *testing.F) {
	book := excelize.NewFile()
	sheet := book.GetSheetName(0)
	for i, row := range [][]any{
		{"身份证号", "姓名", "Birth date", "Follow-up date", "Reached"},
		{"110101198001010010", "张三", "1980-01-01", "2025-01-01", "是"},
		{"", "", "", "2025-02-01", "no"},
		{"", "李四", 1990, nil, true},
	} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		book.SetSheetRow(sheet, cell, &row)
	}
	var good bytes.Buffer
	if err := book.Write(&good); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte{})
	f.Add([]byte("PK\x03\x04 not a zip"))
	f.Add(good.Bytes()[:len(good.Bytes())/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		sheetOf(t, writeTemp(t, "registry.xlsx", data))
	})
}

func FuzzNDJSON(f *testing.F) {
	for _, s := range []string{
		"",
		`{"resourceType":"Patient","id":"p1","name":[{"text":"张三"}],"gender":"male","birthDate":"1980-01-01",` +
			`"identifier":[{"system":"` + systemNationalID + `","value":"110101198001010010"}],"managingOrganization":{"reference":"Organization/C0101"}}` + "\n" +
			`{"resourceType":"Encounter","id":"e1","status":"finished","subject":{"reference":"Patient/p1"},"period":{"start":"2025-01-01"},"class":{"code":"HH"}}` + "\n" +
			`{"resourceType":"Observation","subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},` +
			`"code":{"coding":[{"system":"` + systemFormItem + `","code":"risk-level"}]},"valueInteger":2}` + "\n",
		`{"resourceType":"Observation","subject":{"reference":"Patient/p9"},"encounter":{"reference":"Encounter/e9"},"code":{"coding":[{"system":"` +
			systemFormItem + `","code":"symptoms"}]},"component":[{"code":null,"valueBoolean":null}]}` + "\n",
		`{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":null,"note":[{"text":"Diagnosed at X"}]}` + "\n",
		`{"resourceType":"RelatedPerson","patient":{"reference":"Group/1"}}` + "\n",
		`{"resourceType":"Encounter","subject":null}` + "\n",
		"{not json\n\n[1,2]\n\"x\"\n",
		`{"resourceType":"Patient","meta":{"security":[{"code":"MASKED"}]},"identifier":[{"system":"` + systemNationalID + `","value":"110101********0010"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := readNDJSON([]string{writeTemp(t, "Patient.ndjson", data)}, func(int64) {})
		if err != nil {
			// Only a line longer than the reader takes (16 MiB) may fail
			// the reading; the fuzzer's inputs are far shorter.
			t.Fatalf("readNDJSON: %v", err)
		}
		readAll(t, r)
	})
}
