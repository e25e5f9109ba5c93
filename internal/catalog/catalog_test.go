package catalog

import (
	"os"
	"path/filepath"
	"testing"

	"kith/internal/clinical"
)

func TestDrugs(t *testing.T) {
	d := Drugs()
	if len(d) < 20 || d[0].Name("zh-Hans") != "利培酮" || d[0].Name("en") != "risperidone" {
		t.Errorf("drugs = %v", d[:1])
	}
	path := filepath.Join(t.TempDir(), "drugs.json")
	os.WriteFile(path, []byte(`[{"zh":"测试药","en":"testdrug"}]`), 0o600)
	if got, err := LoadDrugs(path); err != nil || len(got) != 1 || got[0].EN != "testdrug" {
		t.Errorf("LoadDrugs = %v, %v", got, err)
	}
	os.WriteFile(path, []byte(`[{"zh":" "}]`), 0o600)
	if _, err := LoadDrugs(path); err == nil {
		t.Error("a drug without a name loaded")
	}
}

// TestICD10: every code offered is one the service accepts, in its
// normal form, with both names.
func TestICD10(t *testing.T) {
	for _, c := range ICD10() {
		if n, ok := clinical.NormalizeICD10(c.Code); !ok || n != c.Code || c.ZH == "" || c.EN == "" {
			t.Errorf("ICD-10 entry %+v", c)
		}
	}
}
