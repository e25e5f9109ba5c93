package care_test

import (
	"context"
	"testing"
	"time"

	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestPartitions checks PostgreSQL's yearly partitions of follow-ups and
// assessments (migration 00013): rows land in their year, the id → date keys
// hold the foreign keys and stay true, and a year created later takes in the
// rows the DEFAULT partition held for it.
func TestPartitions(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	svc := newService(t, db)
	tree(t, svc)
	clock(svc, "2025-07-11")
	p := register(t, svc, manager, care.PatientInput{Name: "Partitioned"})
	fu, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-06-01", 3))
	if err != nil {
		t.Fatal(err)
	}
	where := func(table string, id int64) string {
		t.Helper()
		var part string
		if err := db.QueryRow(ctx, `SELECT tableoid::regclass::text FROM `+table+` WHERE id = ?`, id).Scan(&part); err != nil {
			t.Fatalf("%s %d: %v", table, id, err)
		}
		return part
	}
	if got := where("follow_ups", fu.ID); got != "follow_ups_y2025" {
		t.Errorf("a 2025 follow-up is in %s", got)
	}
	var aid int64
	if err := db.QueryRow(ctx, `SELECT id FROM assessments WHERE follow_up_id = ?`, fu.ID).Scan(&aid); err != nil {
		t.Fatal(err)
	}
	if got := where("assessments", aid); got != "assessments_y2025" {
		t.Errorf("its risk assessment is in %s", got)
	}
	if n := count(t, db, `SELECT count(*) FROM alerts WHERE assessment_id = ?`, aid); n != 1 {
		t.Errorf("alerts of the risk-3 assessment = %d, want 1 (its key holds the foreign key)", n)
	}
	// A correction points the old row at the new one through the keys.
	fixed, err := svc.CorrectFollowUp(as(manager), p.ID, fu.ID, form("2025-06-01", 0))
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM follow_ups WHERE id = ? AND superseded_by = ?`, fu.ID, fixed.ID); n != 1 {
		t.Error("the corrected row does not point at its correction")
	}

	// A row beyond the partitions lands in DEFAULT; the next run gives its
	// year a partition and moves it in.
	var far int64
	if err := db.QueryRow(ctx, `INSERT INTO follow_ups (patient_id, date, mode, reached, classification, next_due_on, details, author, created_at)
		SELECT patient_id, '2099-03-01', mode, reached, classification, next_due_on, details, author, created_at FROM follow_ups WHERE id = ?
		RETURNING id`, fixed.ID).Scan(&far); err != nil {
		t.Fatal(err)
	}
	if got := where("follow_ups", far); got != "follow_ups_default" {
		t.Errorf("a 2099 follow-up is in %s, want the DEFAULT partition", got)
	}
	if err := db.EnsurePartitions(ctx, time.Date(2025, 7, 11, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if got := where("follow_ups", far); got != "follow_ups_y2099" {
		t.Errorf("after EnsurePartitions the 2099 follow-up is in %s", got)
	}
	if err := db.EnsurePartitions(ctx, time.Date(2098, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"follow_ups_y2098", "follow_ups_y2100", "assessments_y2100"} {
		if n := count(t, db, `SELECT count(*) FROM pg_inherits WHERE inhrelid = to_regclass(?)`, part); n != 1 {
			t.Errorf("partition %s missing", part)
		}
	}
	if err := db.EnsurePartitions(ctx, time.Date(2098, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("EnsurePartitions again: %v", err)
	}

	// A partition made later has the parent's trigger, indexes and keys.
	if _, err := db.Exec(ctx, `INSERT INTO follow_ups (patient_id, date, mode, reached, classification, next_due_on, details, author, created_at)
		SELECT patient_id, '2100-01-01', mode, reached, classification, next_due_on, details, author, created_at FROM follow_ups WHERE id = ?`, fixed.ID); err != nil {
		t.Fatal(err)
	}
	parent := count(t, db, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'follow_ups'`)
	if n := count(t, db, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'follow_ups_y2100'`); n != parent || n < 4 {
		t.Errorf("follow_ups_y2100 has %d indexes, want the parent's %d (at least 4)", n, parent)
	}

	// Every row has its key, with its date.
	if n := count(t, db, `SELECT count(*) FROM follow_ups f LEFT JOIN follow_up_keys k ON k.id = f.id AND k.date = f.date WHERE k.id IS NULL`); n != 0 {
		t.Errorf("%d follow-ups without their key", n)
	}
	if n := count(t, db, `SELECT count(*) FROM assessments a LEFT JOIN assessment_keys k ON k.id = a.id AND k.taken_on = a.taken_on WHERE k.id IS NULL`); n != 0 {
		t.Errorf("%d assessments without their key", n)
	}
	// A row's id and date never change, and an id stays unique across years.
	if _, err := db.Exec(ctx, `UPDATE follow_ups SET date = '2025-06-02' WHERE id = ?`, fu.ID); err == nil {
		t.Error("a follow-up's date was changed")
	}
	if _, err := db.Exec(ctx, `INSERT INTO follow_ups (id, patient_id, date, mode, reached, classification, next_due_on, details, author, created_at)
		SELECT id, patient_id, '2024-01-01', mode, reached, classification, next_due_on, details, author, created_at FROM follow_ups WHERE id = ?`, fu.ID); !store.IsUniqueViolation(err) {
		t.Errorf("the same id in another year: %v, want a unique violation", err)
	}

	// The columns are those of the unpartitioned table, in order.
	var cols string
	if err := db.QueryRow(ctx, `SELECT string_agg(column_name, ' ' ORDER BY ordinal_position) FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'follow_ups'`).Scan(&cols); err != nil {
		t.Fatal(err)
	}
	if want := "id patient_id date mode reached risk_level classification rule next_due_on next_due_rule next_due_reason " +
		"medication_adherence details author created_at superseded_by health_check"; cols != want {
		t.Errorf("follow_ups columns:\n got %s\nwant %s", cols, want)
	}
	// The record reads all four, from three partitions.
	if all, _, err := svc.FollowUps(as(manager), p.ID, care.Page{}); err != nil || len(all) != 4 {
		t.Errorf("follow-ups read back = %d, %v", len(all), err)
	}
}
