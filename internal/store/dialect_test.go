package store

import (
	"context"
	"errors"
	"testing"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		engine Engine
		in     string
		want   string
	}{
		{SQLite, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = ? AND c = ?"},
		{Postgres, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{Postgres, "SELECT '?' , x FROM t WHERE b = ?", "SELECT '?' , x FROM t WHERE b = $1"},
		{Postgres, "SELECT 1", "SELECT 1"},
	}
	for _, tt := range tests {
		if got := rebind(tt.engine, tt.in); got != tt.want {
			t.Errorf("rebind(%s, %q) = %q, want %q", tt.engine, tt.in, got, tt.want)
		}
	}
}

func TestBeneath(t *testing.T) {
	lo, hi := Beneath("/D1/")
	for _, tt := range []struct {
		path string
		in   bool
	}{{"/D1/", true}, {"/D1/S1/C1/", true}, {"/D10/", false}, {"/D1-2/", false}, {"/D0/", false}, {"/D2/", false}} {
		if got := tt.path >= lo && tt.path < hi; got != tt.in {
			t.Errorf("%s beneath /D1/ = %v, want %v", tt.path, got, tt.in)
		}
	}
}

// TestIsUnavailable: a database that cannot be reached is unavailable (the
// request did nothing and may be retried); other errors are not
// (TestCancelledIsNotUnavailable).
func TestIsUnavailable(t *testing.T) {
	_, err := Open(context.Background(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil || !IsUnavailable(err) {
		t.Errorf("a closed port: %v, want an unavailable error", err)
	}
	if IsUnavailable(errors.New("store: commit: unexpected EOF")) {
		t.Error("an arbitrary error counted as unavailable")
	}
}
