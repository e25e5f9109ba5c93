package bench

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
	"kith/internal/store"
)

// floorServer starts, on a free local port, an HTTP server that does for a
// POST of a follow-up what pgbench's reference transaction does and nothing
// more: it decodes the form and inserts one follow-up row and one audit row
// into pgbench's own tables (kith_pgbench, which must exist), in one
// transaction sent in one round trip (store.Tx.Later), through Kith's
// PostgreSQL pool and net/http as Kith's server uses them. No sign-in
// check, no rules, no summary: what HTTP and Go cost in front of that
// transaction on this machine, driven by the same clients as Kith, so that
// Kith's own rate can be read against it (kith bench -clients N -floor).
// It returns the server's address and a function that stops it.
func floorServer(db *store.DB) (string, func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/patients/{id}/follow-ups", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		var in care.FollowUpInput
		if err == nil {
			err = json.NewDecoder(r.Body).Decode(&in)
		}
		if err != nil || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		body, _ := json.Marshal(in)
		err = db.Transact(r.Context(), func(tx *store.Tx) error {
			if err := tx.Later(r.Context(), `INSERT INTO kith_pgbench.follow_ups (patient_id, on_date, body) VALUES (?, ?, ?)`,
				id, in.Date, string(body)); err != nil {
				return err
			}
			return tx.Later(r.Context(), `INSERT INTO kith_pgbench.audit (at, actor, action, detail) VALUES (?, ?, ?, ?)`,
				store.FormatTime(tx.Now()), "bench", "followup.create", "patient "+strconv.FormatInt(id, 10))
		})
		if err != nil {
			http.Error(w, "failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"patient_id": id})
	})
	return serveLocal(mux)
}

// serveLocal serves h over HTTP on a free local port, and returns its
// address and a function that stops it.
func serveLocal(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// floor measures n clients posting follow-ups to floorServer for d, on
// pgbench's tables made afresh and dropped after.
func floor(ctx context.Context, db *store.DB, client *http.Client, token string, ids []int64, n int, d time.Duration) (LoadResult, error) {
	if err := pgbenchTables(ctx, db); err != nil {
		return LoadResult{}, err
	}
	defer dropPgbenchTables(ctx, db)
	base, stop, err := floorServer(db)
	if err != nil {
		return LoadResult{}, err
	}
	defer stop()
	r, _, err := drive(ctx, client, base, token, "", nil, ids, n, d)
	r.What = "floor: pgbench's transaction behind Go's HTTP, no Kith"
	return r, err
}
