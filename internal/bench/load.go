package bench

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/jobs"
	"kith/internal/server"
	"kith/internal/store"
)

// LoadOptions configures the concurrent benchmark (kith bench -clients).
type LoadOptions struct {
	Clients  []int         // the numbers of concurrent clients to measure, each in turn
	Duration time.Duration // how long each measurement lasts
	// URL of a running Kith to drive; empty starts Kith's HTTP server in
	// this process on a free local port, with the audit sealer running.
	URL string
	// DSN of the PostgreSQL database, for pgbench's reference figures;
	// empty skips them.
	DSN string
	// Figures, when set, reads the figures of the written district and of
	// its busiest community, and a patient's record, over HTTP all along,
	// by turns, and reports their latency under the write load.
	Figures bool
	// Floor, on PostgreSQL, also drives a bare HTTP server doing only
	// pgbench's reference transaction (floorServer) with the same clients.
	Floor bool
	// Ceiling, on PostgreSQL, also runs Kith's own follow-up transaction
	// in pgbench (followup.sql) with the same clients: what the database
	// alone does of the work, with no server in front of it.
	Ceiling bool
	// StaleFigures, in-process only, serves stale figure snapshots for up
	// to this long while they are refreshed in the background, as kith
	// serve does; zero recounts them when read (the old way, to compare).
	StaleFigures time.Duration
}

// LoadResult is one measurement of N clients.
type LoadResult struct {
	What     string
	Clients  int
	TPS      float64
	P50, P99 time.Duration
	Errors   int64
}

// Load drives POST /api/v1/patients/{id}/follow-ups over real HTTP with each
// number of clients in turn, beside pgbench's two reference figures on
// PostgreSQL, and writes a table to w. The follow-ups are recorded for the
// patients of the largest district by a psychiatrist of that district.
func Load(ctx context.Context, db *store.DB, svc *care.Service, opts LoadOptions, w io.Writer) ([]LoadResult, error) {
	base := strings.TrimSuffix(opts.URL, "/")
	if base == "" {
		srvCtx, stop := context.WithCancel(ctx)
		defer stop()
		defer svc.Drain() // after the server is closed
		go audit.RunSealer(srvCtx, db, time.Second)
		if opts.StaleFigures > 0 {
			// As kith serve does: stale snapshots served with their time,
			// recounted in the background.
			svc.ServeStaleFigures(opts.StaleFigures)
			go jobs.RunFigures(srvCtx, db, svc)
		}
		start := time.Now()
		if err := svc.WarmFigures(ctx); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "warming the figure snapshots: %s\n", time.Since(start).Round(time.Millisecond))
		var closeServer func()
		var err error
		if base, closeServer, err = serveLocal(server.New(svc, server.Options{})); err != nil {
			return nil, err
		}
		defer closeServer()
	}
	district, ids, err := benchDistrict(ctx, db, svc)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "writing follow-ups for the %d patients of district %s\n", len(ids), district)
	maxClients := slices.Max(opts.Clients)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: maxClients + 4, MaxIdleConnsPerHost: maxClients + 4, IdleConnTimeout: time.Minute}}
	writer, err := token(ctx, client, base, "bench-psy-"+strings.ToLower(district))
	if err != nil {
		return nil, err
	}
	var reader string
	var reads []probe
	if opts.Figures {
		if reader, err = token(ctx, client, base, "bench-fig-"+strings.ToLower(district)); err != nil {
			return nil, err
		}
		community, err := busiestCommunity(ctx, db, district)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		period := now.Format("2006") + "-Q" + strconv.Itoa((int(now.Month())+2)/3)
		figures := func(unit string) func(int) string {
			return func(int) string { return "/api/v1/figures?org_unit=" + unit + "&period=" + period }
		}
		reads = []probe{
			{"district figures this quarter", figures(district)},
			{"community " + community + " figures this quarter", figures(community)},
			// A clinician opening a record while others save follow-ups.
			{"a patient's record", func(i int) string { return "/api/v1/patients/" + strconv.FormatInt(ids[i%len(ids)], 10) }},
		}
	}
	pg := pgbenchPath()
	if opts.DSN == "" || pg == "" {
		fmt.Fprintln(w, "pgbench reference figures: skipped (PostgreSQL only, and pgbench must be on PATH)")
	}
	fmt.Fprintf(w, "%-68s %7s %9s %9s %9s %6s\n", "what", "clients", "tx/s", "p50", "p99", "errors")
	var out []LoadResult
	print := func(r LoadResult) {
		p50, p99 := "-", "-"
		if r.P99 == 0 && r.P50 > 0 { // pgbench gives the average only
			p50 = "avg " + r.P50.Round(10*time.Microsecond).String()
		} else if r.P50 > 0 {
			p50, p99 = r.P50.Round(10*time.Microsecond).String(), r.P99.Round(10*time.Microsecond).String()
		}
		fmt.Fprintf(w, "%-68s %7d %9.0f %9s %9s %6d\n", r.What, r.Clients, r.TPS, p50, p99, r.Errors)
		out = append(out, r)
	}
	for _, n := range opts.Clients {
		if opts.DSN != "" && pg != "" {
			for _, head := range []bool{false, true} {
				r, err := pgbench(ctx, db, pg, opts.DSN, n, opts.Duration, head)
				if err != nil {
					return out, err
				}
				print(r)
			}
		}
		if opts.Ceiling && opts.DSN != "" && pg != "" {
			r, err := ceiling(ctx, pg, opts.DSN, ids, n, opts.Duration)
			if err != nil {
				return out, err
			}
			print(r)
		}
		if opts.Floor && db.Engine() == store.Postgres {
			r, err := floor(ctx, db, client, writer, ids, n, opts.Duration)
			if err != nil {
				return out, err
			}
			print(r)
		}
		r, probes, err := drive(ctx, client, base, writer, reader, reads, ids, n, opts.Duration)
		if err != nil {
			return out, err
		}
		print(r)
		for _, p := range probes {
			print(p)
		}
	}
	return out, nil
}

// benchDistrict picks the district with the most patients under
// management (a district at work, not the small demo one), makes sure a
// psychiatrist to write and another to read the figures exist (created
// through the service, with the demo password), and lists its patients.
func benchDistrict(ctx context.Context, db *store.DB, svc *care.Service) (code string, ids []int64, err error) {
	if err := db.QueryRow(ctx, `SELECT d.code FROM org_units d JOIN patients p ON p.org_path >= d.path AND p.org_path < d.path || '~'
		WHERE d.level = 'district' AND p.status IN ('managed', 'lost') GROUP BY d.code ORDER BY count(*) DESC, d.code LIMIT 1`).Scan(&code); err != nil {
		return "", nil, fmt.Errorf("bench: no district with patients; fill the database with kith demo -patients N first: %w", err)
	}
	admin := care.WithActor(ctx, &care.Actor{Username: "bench", Role: auth.Admin})
	for _, u := range []care.UserInput{
		{Username: "bench-psy-" + strings.ToLower(code), FullName: "Bench Psychiatrist " + code, Role: string(auth.Psychiatrist), OrgUnit: code},
		// The figures' reader is a psychiatrist too: a district
		// administrator must sign in with a second factor.
		{Username: "bench-fig-" + strings.ToLower(code), FullName: "Bench Figure Reader " + code, Role: string(auth.Psychiatrist), OrgUnit: code},
	} {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM users WHERE username = ?`, u.Username).Scan(&n); err != nil {
			return "", nil, err
		}
		if n == 0 {
			u.Password = demo.Password
			if _, err := svc.CreateUserWithPassword(admin, u); err != nil {
				return "", nil, fmt.Errorf("bench: account %s: %w", u.Username, err)
			}
		}
	}
	var path string
	if err := db.QueryRow(ctx, `SELECT path FROM org_units WHERE code = ?`, code).Scan(&path); err != nil {
		return "", nil, err
	}
	lo, hi := store.Beneath(path)
	rows, err := db.Query(ctx, `SELECT id FROM patients WHERE org_path >= ? AND org_path < ? AND status IN ('managed', 'lost')`, lo, hi)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return "", nil, err
		}
		ids = append(ids, id)
	}
	return code, ids, rows.Err()
}

// busiestCommunity is the community of district with the most patients.
func busiestCommunity(ctx context.Context, db *store.DB, district string) (string, error) {
	var code string
	err := db.QueryRow(ctx, `SELECT c.code FROM org_units d JOIN org_units c ON c.path >= d.path AND c.path < d.path || '~'
		JOIN patients p ON p.org_unit_id = c.id
		WHERE d.code = ? AND c.level = 'community' GROUP BY c.code ORDER BY count(*) DESC, c.code LIMIT 1`, district).Scan(&code)
	if err != nil {
		return "", fmt.Errorf("bench: no community with patients in %s: %w", district, err)
	}
	return code, nil
}

func token(ctx context.Context, client *http.Client, base, username string) (string, error) {
	body, _ := json.Marshal(care.Credentials{Username: username, Password: demo.Password})
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/auth/token", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.Token == "" {
		return "", fmt.Errorf("bench: sign-in as the demo %s: %s %v", username, res.Status, err)
	}
	return tok.Token, nil
}

// followUp is the body every client posts: a reached home visit.
var followUp = func() []byte {
	reached, risk := true, 1
	b, _ := json.Marshal(care.FollowUpInput{Date: time.Now().Format("2006-01-02"), Mode: "home_visit", Reached: &reached,
		RiskLevel: &risk, PsychoticSymptoms: "some", Insight: "partial", AdverseReaction: "none", PhysicalIllness: "none",
		SocialFunction:      map[string]string{"self_care": "good", "housework": "fair", "work": "fair", "learning": "fair", "social_contact": "good"},
		MedicationAdherence: "regular"})
	return b
}()

// probe is a read made while the clients write: what it is, and the path
// of its i-th request.
type probe struct {
	what string
	path func(i int) string
}

// warmUp is how long the clients of a measurement run before it starts:
// its requests are not counted. A connection new to the pool plans each
// statement for its arguments the first five times it runs it
// (PostgreSQL's custom plans, before it settles on a generic one); the
// follow-up's summary inputs took 47 ms to plan on a partitioned
// follow_ups, so the first requests of eight new connections came out
// slower than a server that has been running ever sees them.
const warmUp = 2 * time.Second

// drive runs n clients posting follow-ups for warmUp and then d, and, when
// reader is set, one reader per probe (the district's figures this
// quarter, a community's, a patient's record), each pausing 20 ms between
// its reads; what the last d saw is counted. A reader of its own gives each
// probe some 40 reads a second: a 12-second run's p99 is then read off
// some 500 of them, not the 130 that one reader taking turns made, whose
// p99 was the second-slowest read.
func drive(ctx context.Context, client *http.Client, base, writer, reader string, reads []probe, ids []int64, n int, d time.Duration) (LoadResult, []LoadResult, error) {
	call := func(method, url, tok string, body []byte) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	var errs atomic.Int64
	probeErrs := make([]int64, len(reads)) // each written by its probe's reader, read after wg.Wait
	var mu sync.Mutex
	var lats []time.Duration
	probed := make([][]time.Duration, len(reads))
	from := time.Now().Add(warmUp)
	deadline := from.Add(d)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	var firstProbeErr atomic.Value
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 11))
			mine := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				id := ids[rng.IntN(len(ids))]
				start := time.Now()
				code, err := call("POST", base+"/api/v1/patients/"+strconv.FormatInt(id, 10)+"/follow-ups", writer, followUp)
				if err != nil || (code != http.StatusCreated && code != http.StatusConflict) {
					if errs.Add(1) == 1 {
						firstErr.Store(fmt.Sprintf("status %d, %v", code, err))
					}
					continue
				}
				if start.After(from) {
					mine = append(mine, time.Since(start))
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}(uint64(i + 1))
	}
	if reader != "" {
		for i := range reads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; time.Now().Before(deadline); k++ {
					start := time.Now()
					code, err := call("GET", base+reads[i].path(k), reader, nil)
					if err != nil || code != http.StatusOK {
						if probeErrs[i]++; probeErrs[i] == 1 {
							firstProbeErr.CompareAndSwap(nil, fmt.Sprintf("%s: status %d, %v", reads[i].what, code, err))
						}
						continue
					}
					if start.After(from) {
						probed[i] = append(probed[i], time.Since(start))
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(from)
	if v := firstErr.Load(); v != nil {
		fmt.Fprintf(os.Stderr, "bench: first failed follow-up: %s\n", v)
	}
	if v := firstProbeErr.Load(); v != nil {
		fmt.Fprintf(os.Stderr, "bench: first failed read: %s\n", v)
	}
	r := summarise(fmt.Sprintf("Kith: POST follow-up over HTTP"), n, lats, elapsed)
	r.Errors = errs.Load()
	var probes []LoadResult
	for i, read := range reads {
		p := summarise(fmt.Sprintf("  meanwhile: %s (GET, %d)", read.what, len(probed[i])), n, probed[i], elapsed)
		p.TPS, p.Errors = 0, probeErrs[i]
		probes = append(probes, p)
	}
	return r, probes, nil
}

func summarise(what string, n int, lats []time.Duration, elapsed time.Duration) LoadResult {
	r := LoadResult{What: what, Clients: n}
	if len(lats) == 0 {
		return r
	}
	slices.Sort(lats)
	r.TPS = float64(len(lats)) / elapsed.Seconds()
	r.P50, r.P99 = lats[len(lats)/2], lats[len(lats)*99/100]
	return r
}

func pgbenchPath() string {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/lib/postgresql/15/bin/pgbench"); err == nil {
		return "/usr/lib/postgresql/15/bin/pgbench"
	}
	return ""
}

// The reference transactions, on tables of their own (schema
// kith_pgbench): one follow-up-sized row and one audit row, and the same
// with one global head row updated, as a single hash chain would.
const pgbenchSetup = `DROP SCHEMA IF EXISTS kith_pgbench CASCADE;
CREATE SCHEMA kith_pgbench;
CREATE TABLE kith_pgbench.follow_ups (id BIGSERIAL PRIMARY KEY, patient_id BIGINT NOT NULL, on_date TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX ON kith_pgbench.follow_ups (patient_id, on_date);
CREATE TABLE kith_pgbench.audit (seq BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE kith_pgbench.head (id INT PRIMARY KEY, seq BIGINT NOT NULL);
INSERT INTO kith_pgbench.head VALUES (1, 0);`

// pgbenchTables makes the reference tables afresh (pgbenchSetup), for
// pgbench and the floor's server.
func pgbenchTables(ctx context.Context, db *store.DB) error {
	for _, stmt := range strings.Split(pgbenchSetup, ";\n") {
		if _, err := db.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// dropPgbenchTables drops them, even after the run was cancelled.
func dropPgbenchTables(ctx context.Context, db *store.DB) {
	db.Exec(context.WithoutCancel(ctx), `DROP SCHEMA IF EXISTS kith_pgbench CASCADE`)
}

const pgbenchScript = `\set pid random(1, 20000)
BEGIN;
INSERT INTO kith_pgbench.follow_ups (patient_id, on_date, body) VALUES (:pid, '2026-11-30', repeat('x', 700));
INSERT INTO kith_pgbench.audit (at, actor, action, detail) VALUES (now()::text, 'bench', 'patient.follow_up', repeat('y', 60));
%sEND;
`

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
var latRe = regexp.MustCompile(`latency average = ([0-9.]+) ms`)

func pgbench(ctx context.Context, db *store.DB, path, dsn string, n int, d time.Duration, head bool) (LoadResult, error) {
	what := "pgbench: insert follow-up row + audit row"
	extra := ""
	if head {
		what = "pgbench: same + one global head row updated"
		extra = "UPDATE kith_pgbench.head SET seq = seq + 1 WHERE id = 1;\n"
	}
	if err := pgbenchTables(ctx, db); err != nil {
		return LoadResult{}, fmt.Errorf("bench: pgbench setup: %w", err)
	}
	defer dropPgbenchTables(ctx, db)
	return runPgbench(ctx, path, dsn, fmt.Sprintf(pgbenchScript, extra), what, n, d)
}

// ceilingScript is Kith's own transaction for a follow-up as pgbench runs
// it: the statements, in the round trips, that saving one sends.
//
//go:embed followup.sql
var ceilingScript string

// ceiling runs ceilingScript with n clients for the patients of ids, which
// must be every id between the least and the greatest (as kith demo makes
// them), with prepared statements as Kith's connections use them.
func ceiling(ctx context.Context, path, dsn string, ids []int64, n int, d time.Duration) (LoadResult, error) {
	lo, hi := slices.Min(ids), slices.Max(ids)
	return runPgbench(ctx, path, dsn, ceilingScript, "pgbench: Kith's own follow-up transaction, no server", n, d,
		"-M", "prepared", "-D", "lo="+strconv.FormatInt(lo, 10), "-D", "hi="+strconv.FormatInt(hi, 10))
}

// runPgbench runs script with n clients for d and reads its rate and
// average latency.
func runPgbench(ctx context.Context, path, dsn, script, what string, n int, d time.Duration, args ...string) (LoadResult, error) {
	dir, err := os.MkdirTemp("", "kith-pgbench")
	if err != nil {
		return LoadResult{}, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "tx.sql")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		return LoadResult{}, err
	}
	args = append(args, "-n", "-f", file, "-c", strconv.Itoa(n), "-j", strconv.Itoa(n),
		"-T", strconv.Itoa(max(1, int(d.Seconds()))), dsn)
	outb, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		return LoadResult{}, fmt.Errorf("bench: pgbench: %v: %s", err, outb)
	}
	r := LoadResult{What: what, Clients: n}
	sc := bufio.NewScanner(bytes.NewReader(outb))
	for sc.Scan() {
		if m := tpsRe.FindStringSubmatch(sc.Text()); m != nil {
			r.TPS, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := latRe.FindStringSubmatch(sc.Text()); m != nil {
			ms, _ := strconv.ParseFloat(m[1], 64)
			r.P50 = time.Duration(ms * float64(time.Millisecond)) // the average: pgbench gives no percentiles without a log
		}
	}
	if r.TPS == 0 {
		return r, fmt.Errorf("bench: pgbench printed no rate: %s", outb)
	}
	return r, nil
}
