// Package storetest gives each test a fresh, migrated database: a SQLite file
// in the test's temporary folder always, and a PostgreSQL schema of its own
// when KITH_TEST_POSTGRES holds a server URL.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"kith/internal/store"
)

// EnvPostgres names the variable that holds the PostgreSQL server URL.
const EnvPostgres = "KITH_TEST_POSTGRES"

// Engines lists the engines under test: SQLite always, PostgreSQL when
// configured.
func Engines() []store.Engine {
	if os.Getenv(EnvPostgres) == "" {
		return []store.Engine{store.SQLite}
	}
	return []store.Engine{store.SQLite, store.Postgres}
}

// Run runs f as a subtest on each engine, each with its own fresh database.
// Without KITH_TEST_POSTGRES the PostgreSQL subtest is skipped, saying so.
func Run(t *testing.T, f func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			f(t, Open(t, e))
		})
	}
}

// Open returns a fresh migrated database on engine e, removed when the test
// ends. It skips the test for PostgreSQL when KITH_TEST_POSTGRES is unset.
func Open(t testing.TB, e store.Engine) *store.DB {
	t.Helper()
	ctx := context.Background()
	var dsn string
	switch e {
	case store.SQLite:
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "kith.db")
	case store.Postgres:
		dsn = postgresSchema(t)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// DSN returns a fresh, empty database's DSN on engine e without opening it,
// for tests that run the kith binary.
func DSN(t testing.TB, e store.Engine) string {
	t.Helper()
	if e == store.Postgres {
		return postgresSchema(t)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "kith.db")
}

// postgresSchema creates a schema of the test's own on the configured server
// and returns a URL whose search_path points at it; the schema is dropped
// when the test ends.
func postgresSchema(t testing.TB) string {
	t.Helper()
	server := os.Getenv(EnvPostgres)
	if server == "" {
		t.Skip("PostgreSQL tests skipped: set " + EnvPostgres + " to a server URL to run them")
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "kith_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema on %s: %v", EnvPostgres, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", server)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
