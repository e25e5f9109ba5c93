package store_test

import (
	"context"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestGuardianBecomesFamilyMember: migration 00016 turns the guardian kept
// on each patient into the patient's guardian family member, without loss,
// and leaves a patient without a guardian without one.
func TestGuardianBecomesFamilyMember(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			db := migratedTo(t, e, 15)
			for _, p := range []struct {
				id                    int
				name, relation, phone string
			}{{1, "王秀英", "mother", "13800000001"}, {2, "", "", ""}, {3, "", "", "13800000003"}} {
				if _, err := db.Exec(ctx, `INSERT INTO patients (id, org_unit_id, org_path, name, name_key, sex, birth_date,
					guardian_name, guardian_relation, guardian_phone, status, registered_on, next_due_on, created_at, updated_at)
					VALUES (?, 1, '/C1/', 'p', 'p', 'male', '1980-01-01', ?, ?, ?, 'managed', '2025-01-01', '2025-02-01', ?, ?)`,
					p.id, p.name, p.relation, p.phone, migratedAt, migratedAt); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query(ctx, `SELECT patient_id, name, relation, phone, is_guardian FROM family_members ORDER BY patient_id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var id int
				var name, rel, phone string
				var g bool
				if err := rows.Scan(&id, &name, &rel, &phone, &g); err != nil {
					t.Fatal(err)
				}
				if !g {
					t.Errorf("patient %d: the migrated family member is not the guardian", id)
				}
				got = append(got, name+"|"+rel+"|"+phone)
			}
			want := []string{"王秀英|mother|13800000001", "||13800000003"}
			if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
				t.Errorf("family members after the migration = %q, want %q", got, want)
			}
		})
	}
}

// migratedAt is the time the migration tests write on their rows.
const migratedAt = "2026-01-02T03:04:05.000000Z"

// migratedTo opens a new database of engine e, migrated up to version,
// with one community, C1 (id 1, path /C1/).
func migratedTo(t *testing.T, e store.Engine, version int64) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(t, e))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MigrateTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO org_units (id, code, name, level, path, created_at, updated_at)
		VALUES (1, 'C1', 'C', 'community', '/C1/', ?, ?)`, migratedAt, migratedAt); err != nil {
		t.Fatal(err)
	}
	return db
}
