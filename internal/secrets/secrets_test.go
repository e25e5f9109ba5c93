package secrets

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadCreatesKeyFileOnce(t *testing.T) {
	dir := t.TempDir()
	k1, err := Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	k2, err := Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1.Session, k2.Session) {
		t.Error("second Load derived different keys: the file was not reused")
	}
	if bytes.Equal(k1.Session, k1.NationalID) || bytes.Equal(k1.NationalID, k1.Lookup) {
		t.Error("keys for different purposes are equal")
	}
}

func TestLoadRejectsShortKey(t *testing.T) {
	if _, err := Load("c2hvcnQ=", t.TempDir()); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}
