package bench_test

import (
	"context"
	"strings"
	"testing"

	"kith/internal/bench"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestCaveats: the benchmark says when PostgreSQL runs without autovacuum,
// and only then.
func TestCaveats(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		got, err := bench.Caveats(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		off := false
		if db.Engine() == store.Postgres {
			var v string
			if err := db.QueryRow(ctx, `SHOW autovacuum`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			off = v == "off"
		}
		said := strings.Contains(strings.Join(got, "\n"), "autovacuum off")
		if said != off {
			t.Errorf("autovacuum off: %v; caveats %q", off, got)
		}
	})
}
