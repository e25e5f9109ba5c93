package store_test

import (
	"context"
	"testing"

	"kith/internal/store"
)

// TestReachedInYearBackfilled: migration 00028 gives each patient the
// number of reached follow-ups, corrections left out, in the year of the
// last reached one; none for a patient never reached.
func TestReachedInYearBackfilled(t *testing.T) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			db := migratedTo(t, e, 27)
			for _, p := range []struct {
				id   int
				last string
			}{{1, "2025-11-20"}, {2, ""}} {
				if _, err := db.Exec(ctx, `INSERT INTO patients (id, org_unit_id, org_path, name, name_key, sex, birth_date,
					status, registered_on, next_due_on, last_followup_on, created_at, updated_at)
					VALUES (?, 1, '/C1/', 'p', 'p', 'male', '1980-01-01', 'managed', '2024-01-01', '2026-02-01', ?, ?, ?)`,
					p.id, p.last, migratedAt, migratedAt); err != nil {
					t.Fatal(err)
				}
			}
			// Patient 1: two reached last year, three reached this year of
			// which one was corrected, one not reached; patient 2: one
			// attempt, never reached.
			for _, f := range []struct {
				id, patient int
				date        string
				reached     bool
				superseded  any
			}{
				{1, 1, "2024-06-01", true, nil}, {2, 1, "2024-12-31", true, nil},
				{3, 1, "2025-01-01", true, nil}, {5, 1, "2025-05-01", true, nil}, {4, 1, "2025-05-01", true, 5},
				{6, 1, "2025-08-01", false, nil}, {7, 1, "2025-11-20", true, nil},
				{8, 2, "2025-03-01", false, nil},
			} {
				if _, err := db.Exec(ctx, `INSERT INTO follow_ups (id, patient_id, date, mode, reached, classification, rule,
					next_due_on, next_due_rule, details, author, created_at, superseded_by)
					VALUES (?, ?, ?, 'phone', ?, '', '', '', '', '{}', 'a', ?, ?)`,
					f.id, f.patient, f.date, f.reached, migratedAt, f.superseded); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for id, want := range map[int]int{1: 3, 2: 0} {
				var got int
				if err := db.QueryRow(ctx, `SELECT reached_in_year FROM patients WHERE id = ?`, id).Scan(&got); err != nil || got != want {
					t.Errorf("patient %d: reached_in_year %d, %v; want %d", id, got, err, want)
				}
			}
		})
	}
}
