package bench

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/secrets"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestCeilingScriptRuns: pgbench runs Kith's own follow-up transaction
// (followup.sql) against Kith's schema without an error, and it writes what
// saving a follow-up writes: the follow-up, its risk assessment and an
// audit entry. It fails when a migration changes a table the script names,
// so that the ceiling it measures stays Kith's transaction.
func TestCeilingScriptRuns(t *testing.T) {
	path := pgbenchPath()
	if path == "" {
		t.Skip("pgbench is not on PATH")
	}
	dsn := storetest.DSN(t, store.Postgres)
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
	svc := care.New(db, keys)
	if _, err := demo.Seed(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Patients(ctx, db, svc, 20, time.Now(), 1); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	rows, err := db.Query(ctx, `SELECT id FROM patients ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	count := func() (n [3]int) {
		t.Helper()
		if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM follow_ups WHERE author = 'bench-psy-d002'),
			(SELECT count(*) FROM assessments WHERE author = 'bench-psy-d002'),
			(SELECT count(*) FROM audit_log WHERE actor = 'bench-psy-d002')`).Scan(&n[0], &n[1], &n[2]); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != [3]int{} {
		t.Fatalf("before the run: %v", n)
	}
	// pgbench is libpq's: the test's schema goes in options, not in
	// pgx's search_path parameter.
	schema, plain := splitSearchPath(t, dsn)
	t.Setenv("PGOPTIONS", "-c search_path="+schema)
	r, err := ceiling(ctx, path, plain, ids, 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	n := count()
	if r.TPS <= 0 || n[0] == 0 || n[1] != n[0] || n[2] != n[0] {
		t.Errorf("pgbench ran at %.0f a second and wrote %d follow-ups, %d assessments, %d audit entries; want as many of each, more than none",
			r.TPS, n[0], n[1], n[2])
	}
	if !strings.Contains(r.What, "Kith's own") {
		t.Errorf("labelled %q", r.What)
	}
}

// splitSearchPath takes the search_path parameter out of a test database's
// URL.
func splitSearchPath(t *testing.T, dsn string) (schema, rest string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema = q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return schema, u.String()
}
