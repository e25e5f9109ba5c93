package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestSealerReadsOnlyRecent: with a long sealed log, the sealer's query
// looks up the seals of the recent entries by index instead of reading
// every seal there is (which it did once a second, however long the log,
// where the log had no statistics), and reads the recent entries by their
// xid rather than the whole log in seq order (which its generic plan did),
// in the plan for its arguments and in the generic one.
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
	var low, xmax int64
	if err := db.QueryRow(ctx, `SELECT low_xid, pg_snapshot_xmax(pg_current_snapshot())::text::bigint FROM audit_seal_state WHERE id = 1`).
		Scan(&low, &xmax); err != nil {
		t.Fatal(err)
	}
	// The plan for these arguments (the first runs of a kept statement),
	// and the generic plan PostgreSQL may keep after five runs.
	var custom, generic string
	if err := db.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+unsealedPG, low, xmax, sealBatch).Scan(&custom); err != nil {
		t.Fatal(err)
	}
	n := 0
	prepared := regexp.MustCompile(`\?`).ReplaceAllStringFunc(unsealedPG, func(string) string { n++; return "$" + strconv.Itoa(n) })
	// In a transaction of its own for SET LOCAL (a Read sends none).
	if err := db.Transact(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `PREPARE unsealed (bigint, bigint, int) AS `+prepared); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, fmt.Sprintf(`EXPLAIN (FORMAT JSON) EXECUTE unsealed (%d, %d, %d)`, low, xmax, sealBatch)).Scan(&generic)
		if _, derr := tx.Exec(ctx, `DEALLOCATE unsealed`); err == nil {
			err = derr
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, plan := range []string{custom, generic} {
		var nodes []map[string]any
		if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
			t.Fatal(err)
		}
		var walk func(n map[string]any)
		walk = func(n map[string]any) {
			rel, _ := n["Relation Name"].(string)
			index, _ := n["Index Name"].(string)
			switch {
			case rel == "audit_seals" && n["Node Type"] == "Seq Scan":
				t.Errorf("the sealer reads every seal:\n%s", plan)
			case strings.HasPrefix(rel, "audit_log") && (n["Node Type"] == "Seq Scan" || index != "" && !strings.Contains(index, "xid")):
				// A scan of the whole partition, or a walk along its seq
				// order (the primary key) filtering on xid.
				t.Errorf("the sealer reads the whole log (%s %s):\n%s", n["Node Type"], index, plan)
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
}
