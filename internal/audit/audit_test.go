package audit_test

import (
	"context"
	"errors"
	"testing"

	"kith/internal/audit"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func appendN(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		err := db.Transact(ctx, func(tx *store.Tx) error {
			return audit.Append(ctx, tx, &audit.Entry{Actor: "alice", Action: "patient.read", SubjectType: "patient",
				SubjectID: "42", OrgUnit: "C1", OrgPath: "/D1/S1/C1/", Outcome: audit.Allowed, RequestID: "r"})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// disableGuard removes the append-only guard, as an intruder with direct
// access to the database could.
func disableGuard(t *testing.T, db *store.DB) {
	t.Helper()
	var stmts []string
	if db.Engine() == store.Postgres {
		stmts = []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`}
	} else {
		stmts = []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}
	}
	for _, s := range stmts {
		if _, err := db.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainVerifies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		appendN(t, db, 5)
		n, err := audit.Verify(context.Background(), db)
		if err != nil || n != 5 {
			t.Fatalf("Verify = %d, %v; want 5, nil", n, err)
		}
	})
}

func TestAppendOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		appendN(t, db, 1)
		ctx := context.Background()
		if _, err := db.Exec(ctx, `UPDATE audit_log SET actor = 'mallory'`); err == nil {
			t.Error("UPDATE of audit_log succeeded")
		}
		if _, err := db.Exec(ctx, `DELETE FROM audit_log`); err == nil {
			t.Error("DELETE from audit_log succeeded")
		}
	})
}

func TestTamperingIsFound(t *testing.T) {
	tests := []struct {
		name    string
		tamper  string
		wantSeq int64
	}{
		{"changed actor", `UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`, 3},
		{"changed and rehashed", `UPDATE audit_log SET outcome = 'denied', hash = 'abc' WHERE seq = 2`, 2},
		{"removed entry", `DELETE FROM audit_log WHERE seq = 4`, 4},
		{"removed tail", `DELETE FROM audit_log WHERE seq = 6`, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, db *store.DB) {
				appendN(t, db, 6)
				disableGuard(t, db)
				if _, err := db.Exec(context.Background(), tt.tamper); err != nil {
					t.Fatal(err)
				}
				_, err := audit.Verify(context.Background(), db)
				var be *audit.BrokenError
				if !errors.As(err, &be) || be.Seq != tt.wantSeq {
					t.Fatalf("Verify error = %v, want broken at %d", err, tt.wantSeq)
				}
			})
		})
	}
}
