package audit

import (
	"context"
	"encoding/json"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestSealerReadsOnlyRecent: with a long sealed log, the sealer's query
// looks up the seals of the recent entries by index instead of reading
// every seal there is (which it did once a second, however long the log,
// where the log had no statistics).
func TestSealerReadsOnlyRecent(t *testing.T) {
	db := storetest.Open(t, store.Postgres) // SQLite reads the log from the last sealed seq
	ctx := context.Background()
	// In many transactions, as a log is written, and not analysed, as a
	// new year's partition is not at first.
	for i := 0; i < 40; i++ {
		if _, err := db.Exec(ctx, `INSERT INTO audit_log (at, actor, action, subject_type, subject_id, org_unit, org_path,
			outcome, client_addr, request_id, detail, prev_hash, hash)
			SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'alice', 'patient.read', 'patient',
				i::text, 'C1', '/D1/S1/C1/', 'allowed', '', 'r', '', '', '' FROM generate_series(1, 500) i`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Seal(ctx, db); err != nil {
		t.Fatal(err)
	}
	var low int64
	if err := db.QueryRow(ctx, `SELECT low_xid FROM audit_seal_state WHERE id = 1`).Scan(&low); err != nil {
		t.Fatal(err)
	}
	var plan string
	if err := db.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+unsealedPG, low, sealBatch).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	var nodes []map[string]any
	if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
		t.Fatal(err)
	}
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if n["Relation Name"] == "audit_seals" && n["Node Type"] == "Seq Scan" {
			t.Errorf("the sealer reads every seal:\n%s", plan)
		}
		children, _ := n["Plans"].([]any)
		for _, c := range children {
			walk(c.(map[string]any))
		}
	}
	for _, n := range nodes {
		walk(n["Plan"].(map[string]any))
	}
}
