package care

import (
	"context"
	"strings"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestSummaryInputsFromIndex: on SQLite, the counts that saving a follow-up
// reads for the patient's summary (the attempts since the last reached
// follow-up, the reached ones of its year) come from the index
// follow_ups_reached alone, and the last reached follow-up is found through
// it, rather than each of the patient's follow-ups being read from the
// table to test reached and superseded_by (migration 00029). It fails
// without the index.
func TestSummaryInputsFromIndex(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	var plan []string
	err := db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, "EXPLAIN QUERY PLAN "+summaryInputsSQL, summaryInputsArgs(1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return err
			}
			plan = append(plan, detail)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	var covered, last int
	for _, line := range plan {
		switch {
		case strings.HasPrefix(line, "SEARCH f USING COVERING INDEX follow_ups_reached "):
			covered++
		case strings.HasPrefix(line, "SEARCH follow_ups USING INDEX follow_ups_reached "):
			last++
		}
	}
	if covered != 2 || last != 1 {
		t.Errorf("the counts read from the index alone %d times (want 2), the last reached follow-up through it %d (want 1); plan:\n%s",
			covered, last, strings.Join(plan, "\n"))
	}
}
