package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
	"kith/internal/server"
	"kith/internal/store"
)

// FHIR measures two FHIR searches over real HTTP, as a hospital's client
// makes them, by a psychiatrist of the district with the most patients:
// Patient?name= (a surname, the district's matches) and
// Encounter?patient= (one patient's follow-ups), n runs each, with the
// bearer token, the policy and the audit entry of each read.
func FHIR(ctx context.Context, db *store.DB, svc *care.Service, n int, w io.Writer) ([]Result, error) {
	base, stop, err := serveLocal(server.New(svc, server.Options{}))
	if err != nil {
		return nil, err
	}
	defer stop()
	district, ids, err := benchDistrict(ctx, db, svc)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	tok, err := token(ctx, client, base, "bench-psy-"+strings.ToLower(district))
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(5, 9))
	get := func(path string) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/fhir+json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", path, res.Status)
		}
		return err
	}
	ops := []op{
		{"FHIR Patient?name= (a surname), one district", func() error {
			return get("/fhir/R4/Patient?name=" + benchSurnames[rng.IntN(len(benchSurnames))])
		}},
		{"FHIR Encounter?patient= (one patient)", func() error {
			return get("/fhir/R4/Encounter?patient=" + strconv.FormatInt(ids[rng.IntN(len(ids))], 10))
		}},
	}
	fmt.Fprintf(w, "FHIR searches over HTTP by a psychiatrist of district %s (%d patients)\n", district, len(ids))
	fmt.Fprintf(w, "%-50s %6s %10s %10s %10s\n", "operation", "n", "p50", "p99", "max")
	var out []Result
	for _, op := range ops {
		r, err := measure(op, n, w)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
