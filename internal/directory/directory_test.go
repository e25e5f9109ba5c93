package directory

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNearest(t *testing.T) {
	d := Demo()
	for _, c := range []struct {
		path, want string
	}{
		{"/D01/S01/C0101/", "C0101"}, // the community's own station
		{"/D01/S01/C0102/", "S01"},   // none of its own: its street's centre
		{"/D01/S03/C0301/", "D01"},   // nothing nearer: the district hospital
		{"/D09/S01/C0999/", "S01"},   // codes are matched deepest first
	} {
		got := d.Nearest(c.path)
		if len(got) == 0 || got[0].Unit != c.want {
			t.Errorf("Nearest(%s) = %+v, want the services of %s", c.path, got, c.want)
		}
	}
	if got := d.Nearest(""); got != nil {
		t.Errorf("Nearest(\"\") = %+v, want none", got)
	}
	if got := Default().Nearest("/D01/S01/C0101/"); got != nil {
		t.Errorf("the national directory names services: %+v", got)
	}
	if len(Default().Hotlines) == 0 || Default().Hotlines[0].Number != "12356" {
		t.Errorf("the national directory should start with the 12356 hotline: %+v", Default().Hotlines)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, json string
		ok         bool
	}{
		{"good", `{"hotlines":[{"name":{"en":"Line","zh":"热线"},"number":"12356"}],"services":[{"unit":"C1","name":{"en":"Station","zh":"站"},"phone":"1"}]}`, true},
		{"no hotline", `{"hotlines":[],"services":[]}`, false},
		{"hotline without Chinese", `{"hotlines":[{"name":{"en":"Line"},"number":"1"}]}`, false},
		{"service without unit", `{"hotlines":[{"name":{"en":"Line","zh":"热线"},"number":"1"}],"services":[{"name":{"en":"S","zh":"站"},"phone":"1"}]}`, false},
		{"not JSON", `hotlines:`, false},
	} {
		p := filepath.Join(dir, c.name+".json")
		os.WriteFile(p, []byte(c.json), 0o600)
		if _, err := Load(p); (err == nil) != c.ok {
			t.Errorf("%s: Load error %v, want ok=%v", c.name, err, c.ok)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file loaded")
	}
}
