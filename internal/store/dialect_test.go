package store

import "testing"

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

func TestLike(t *testing.T) {
	if got, want := Like(`/D1/a_b%`), `/D1/a\_b\%%`; got != want {
		t.Errorf("Like = %q, want %q", got, want)
	}
}
