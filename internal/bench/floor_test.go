package bench

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestFloorWritesPgbenchsRows: the floor's server answers a follow-up's POST
// with 201 once it has written pgbench's two rows, and refuses a form it
// cannot read, writing nothing.
func TestFloorWritesPgbenchsRows(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	if err := pgbenchTables(ctx, db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropPgbenchTables(ctx, db) })
	base, stop, err := floorServer(db)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	post := func(body string) int {
		req, _ := http.NewRequest("POST", base+"/api/v1/patients/7/follow-ups", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer x")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	rows := func() (n int) {
		if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM kith_pgbench.follow_ups WHERE patient_id = 7)
			+ (SELECT count(*) FROM kith_pgbench.audit WHERE detail = 'patient 7')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if code := post("{not json"); code != http.StatusBadRequest || rows() != 0 {
		t.Errorf("a form it cannot read: status %d, %d rows", code, rows())
	}
	if code := post(string(followUp)); code != http.StatusCreated || rows() != 2 {
		t.Errorf("a follow-up: status %d, %d rows; want 201 and 2", code, rows())
	}
}
