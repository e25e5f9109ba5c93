package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/bench"
	"kith/internal/care"
	"kith/internal/catalog"
	"kith/internal/demo"
	"kith/internal/directory"
	"kith/internal/fhir"
	"kith/internal/jobs"
	"kith/internal/progress"
	"kith/internal/server"
	"kith/internal/store"
)

func cmdServe(ctx context.Context, args []string, stdout io.Writer) error {
	var c common
	var addr, dirFile, drugFile, totpRoles, baseURL, dbRead, referralTargets string
	var withDemo, trustProxy bool
	var maxBody int64
	var writers int64
	var glassFor, exportKeep time.Duration
	var trainingHours float64
	var subsidyFile string
	fs := newFlagSet("serve", "kith serve [flags]")
	c.register(fs)
	fs.StringVar(&addr, "addr", env("KITH_ADDR", "127.0.0.1:8080"), "address to listen on (env KITH_ADDR)")
	fs.BoolVar(&withDemo, "demo", envBool("KITH_DEMO"), "fill an empty database with the demo district and print its accounts (env KITH_DEMO=1)")
	fs.BoolVar(&trustProxy, "trust-proxy", envBool("KITH_TRUST_PROXY"), "take the client address from X-Forwarded-For, behind a reverse proxy (env KITH_TRUST_PROXY=1)")
	fs.StringVar(&dirFile, "directory", env("KITH_DIRECTORY", ""), "JSON file of the hotlines and services that seed an empty service network; default: the national hotlines, or the demo district's with -demo (env KITH_DIRECTORY)")
	fs.StringVar(&drugFile, "drugs", env("KITH_DRUGS", ""), "JSON file of the drug names the follow-up form suggests, shaped as internal/catalog/drugs.json; default: common antipsychotics and mood stabilisers (env KITH_DRUGS)")
	fs.StringVar(&dbRead, "db-read", env("KITH_DB_READ", ""), "optional read-only PostgreSQL URL (a standby) for figures, exports and searches, which then say as of when their data is (env KITH_DB_READ)")
	fs.Int64Var(&writers, "db-writers", envInt("KITH_DB_WRITERS", int64(store.DefaultWriters())),
		"PostgreSQL: how many write transactions run at once; more wait for their turn before they begin (env KITH_DB_WRITERS)")
	fs.Int64Var(&maxBody, "max-body", envInt("KITH_MAX_BODY", 1<<20), "largest request body in bytes (env KITH_MAX_BODY)")
	fs.StringVar(&totpRoles, "totp-roles", env("KITH_TOTP_ROLES", "admin,district_admin"), "comma-separated roles that must sign in with a second factor (TOTP), or none (env KITH_TOTP_ROLES)")
	fs.StringVar(&baseURL, "base-url", env("KITH_BASE_URL", ""), "URL the server is reached at from outside, for the activation links it hands out; default: the host each request came to (env KITH_BASE_URL)")
	fs.DurationVar(&glassFor, "break-glass-for", envDuration("KITH_BREAK_GLASS_FOR", care.DefaultGlassFor),
		"how long a break-the-glass grant lets a clinician read one record outside their jurisdiction (env KITH_BREAK_GLASS_FOR)")
	fs.StringVar(&referralTargets, "referral-targets", env("KITH_REFERRAL_TARGETS", "emergency=2h,urgent=24h,routine=72h"),
		"response targets of a referral up by urgency, as urgency=duration pairs (env KITH_REFERRAL_TARGETS)")
	fs.Float64Var(&trainingHours, "training-hours", envFloat("KITH_TRAINING_HOURS", care.DefaultTrainingTarget),
		"the yearly training hours each staff member should reach; the district sees who is below it (env KITH_TRAINING_HOURS)")
	fs.StringVar(&subsidyFile, "subsidy-rules", env("KITH_SUBSIDY_RULES", ""), "JSON file of the guardian subsidy's conditions; default: under management all year and no emergency caused by neglect of care (env KITH_SUBSIDY_RULES)")
	fs.DurationVar(&exportKeep, "export-keep", envDuration("KITH_EXPORT_KEEP", care.DefaultExportKeep),
		"how long the files of a FHIR bulk export are kept for download (env KITH_EXPORT_KEEP)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if writers < 1 || writers > 1000 {
		return &exitError{2, fmt.Errorf("serve: -db-writers must lie between 1 and 1000, not %d", writers)}
	}
	if exportKeep <= 0 {
		return &exitError{2, fmt.Errorf("serve: -export-keep must be positive, not %v", exportKeep)}
	}
	if trainingHours <= 0 || trainingHours > 1000 {
		return &exitError{2, fmt.Errorf("serve: -training-hours must lie between 0 and 1000, not %v", trainingHours)}
	}
	if glassFor <= 0 || glassFor > 24*time.Hour {
		return &exitError{2, fmt.Errorf("serve: -break-glass-for must lie between 1s and 24h, not %v", glassFor)}
	}
	roles, err := care.ParseRoles(totpRoles)
	if err != nil {
		return &exitError{2, fmt.Errorf("serve: -totp-roles: %w", err)}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	db, svc, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer sealAndClose(db)
	db.SetWriters(int(writers))
	svc.SetTOTPRoles(roles)
	svc.SetBaseURL(baseURL)
	if dbRead != "" {
		if err := db.OpenStandby(ctx, dbRead); err != nil {
			return err
		}
		slog.Info("read pool open: figures, exports and searches read from it", "db_read", db.StandbyName())
	}
	if withDemo {
		if err := seedIfEmpty(ctx, db, svc, stdout); err != nil {
			return err
		}
	}
	// The directory file (or the demo's, or the national hotlines) seeds
	// an empty service network; after that the network is kept in the
	// database and edited there.
	seed := directory.Default()
	if withDemo {
		seed = directory.Demo()
	}
	if dirFile != "" {
		d, err := directory.Load(dirFile)
		if err != nil {
			return err
		}
		seed = d
		svc.SetDirectory(d)
	}
	if n, err := svc.SeedDirectory(ctx, seed); err != nil {
		return err
	} else if n > 0 {
		slog.Info("service network seeded from the directory", "entries", n)
	}
	svc.SetGlassFor(glassFor)
	if err := svc.SetReferralTargets(referralTargets); err != nil {
		return &exitError{2, fmt.Errorf("serve: -referral-targets: %w", err)}
	}
	svc.SetTrainingTarget(trainingHours)
	if subsidyFile != "" {
		rules, err := loadSubsidyRules(subsidyFile)
		if err != nil {
			return &exitError{2, fmt.Errorf("serve: -subsidy-rules: %w", err)}
		}
		svc.SetSubsidyRules(rules)
	}
	svc.SetExportKeep(exportKeep)
	if drugFile != "" {
		d, err := catalog.LoadDrugs(drugFile)
		if err != nil {
			return err
		}
		svc.SetDrugs(d)
	}
	go jobs.Run(ctx, db, svc)
	go audit.RunSealer(ctx, db, time.Second)
	svc.ServeStaleFigures(jobs.StaleFiguresFor)
	go jobs.RunFigures(ctx, db, svc)
	go fhir.ResumeExports(ctx, svc)

	srv := &http.Server{
		Addr:              addr,
		Handler:           server.New(svc, server.Options{MaxBodyBytes: maxBody, TrustProxy: trustProxy}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	slog.Info("kith listening", "addr", ln.Addr().String(), "db", db.String(), "version", version())
	fmt.Fprintf(stdout, "Kith is running at http://%s/\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	svc.Drain() // the audit entries of reads already answered
	if err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func envBool(name string) bool {
	v, _ := strconv.ParseBool(os.Getenv(name))
	return v
}

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// seedIfEmpty builds the demo district when the database has no accounts.
func seedIfEmpty(ctx context.Context, db *store.DB, svc *care.Service, stdout io.Writer) error {
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintln(stdout, "The database already has accounts; the demo data was not added again.")
		fmt.Fprintf(stdout, "Demo accounts, if this is the demo database: admin, district, manager, … with password %s\n", demo.Password)
		printTOTPNote(stdout, svc, []demo.Account{{Username: "admin", Role: auth.Admin}, {Username: "district", Role: auth.DistrictAdmin}})
		return nil
	}
	return seed(ctx, db, svc, 300, stdout)
}

// seed builds the demo district, its staff and n patients.
func seed(ctx context.Context, db *store.DB, svc *care.Service, n int, stdout io.Writer) error {
	var accounts int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&accounts); err != nil {
		return err
	}
	var list []demo.Account
	if accounts == 0 {
		var err error
		if list, err = demo.Seed(ctx, svc); err != nil {
			return err
		}
	}
	start := time.Now()
	bar := progress.New(os.Stderr, "patients", int64(n))
	st, err := demo.PatientsProgress(ctx, db, svc, n, time.Now(), 1, bar)
	bar.Done() // on an error too; a second Done does nothing
	if err != nil {
		return err
	}
	if len(list) > 0 {
		if err := demo.Activity(ctx, svc, time.Now()); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Generated %d patients with %d follow-ups and %d emergencies (%d further communities) in %s.\n",
		st.Patients, st.FollowUps, st.Emergencies, st.Communities, time.Since(start).Round(time.Millisecond))
	if len(list) > 0 {
		fmt.Fprintln(stdout, "Demo district created. Sign in with any of these accounts; the password of each is", demo.Password)
		for _, a := range list {
			fmt.Fprintf(stdout, "  %-14s %-18s %s\n", a.Username, a.Role, a.OrgUnit)
		}
		printTOTPNote(stdout, svc, list)
	}
	return nil
}

// printTOTPNote says which demo accounts must enrol a second factor when
// they first sign in, and how.
func printTOTPNote(stdout io.Writer, svc *care.Service, list []demo.Account) {
	var names []string
	for _, a := range list {
		if svc.RequiresTOTP(a.Role) {
			names = append(names, a.Username)
		}
	}
	if len(names) == 0 {
		return
	}
	fmt.Fprintf(stdout, "Two-factor sign-in (KITH_TOTP_ROLES): %s must enrol on first sign-in. Kith shows a QR code and a secret:\n"+
		"add them to any authenticator app (FreeOTP, Aegis, Google or Microsoft Authenticator, or `oathtool --totp -b SECRET`),\n"+
		"type the 6-digit code, and keep the recovery codes shown. Later sign-ins ask for a code after the password.\n",
		strings.Join(names, " and "))
}

func cmdDemo(ctx context.Context, args []string, stdout io.Writer) error {
	var c common
	var n int
	fs := newFlagSet("demo", "kith demo [-patients N] [flags]\n\n"+
		"Fills an empty database with a demo district (3 streets, 9 communities), staff of every role, and N patients\n"+
		"with two years of follow-ups by the national rules. More than 300 patients fill further districts of about\n"+
		"12,000 patients each (a province at 1,000,000); the rows are bulk-loaded (COPY on PostgreSQL).")
	c.register(fs)
	fs.IntVar(&n, "patients", 300, "how many patients to generate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if n < 0 || n > 10_000_000 {
		return &exitError{2, errors.New("demo: -patients must be between 0 and 10000000")}
	}
	db, svc, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer sealAndClose(db)
	var patients int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM patients`).Scan(&patients); err != nil {
		return err
	}
	if patients > 0 {
		return errors.New("demo: the database already has patients; use an empty database")
	}
	return seed(ctx, db, svc, n, stdout)
}

// readPassword reads a new password: asked twice on a terminal, else the
// first line of standard input.
func readPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "Password (at least 10 characters): ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stdout, "Repeat the password: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("the passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}

// sealAndClose seals the audit entries the command wrote, so that they are
// tamper-evident without waiting for a server's sealer, and closes db.
func sealAndClose(db *store.DB) {
	if _, err := audit.Seal(context.Background(), db); err != nil {
		slog.Error("audit sealing failed; a running server will seal the entries", "error", err)
	}
	db.Close()
}

// auditVerify checks the chain and turns a break into exit code 1.
func auditVerify(ctx context.Context, db *store.DB) (audit.Report, error) {
	head, err := audit.CurrentHead(ctx, db)
	if err != nil {
		return audit.Report{}, err
	}
	bar := progress.New(os.Stderr, "audit entries", head.Pos)
	var shown int64
	r, err := audit.Check(ctx, db, func(done int64) {
		bar.Add(done - shown)
		shown = done
	})
	bar.Add(r.Sealed - shown)
	bar.Done()
	var be *audit.BrokenError
	if errors.As(err, &be) {
		return r, &exitError{1, err}
	}
	return r, err
}

func cmdBench(ctx context.Context, args []string, stdout io.Writer) error {
	var c common
	var n int
	var clients, url, cpuProfile string
	var duration time.Duration
	var figures, staleFigures, fhirSearch, floor, ceiling bool
	var importN, importFollowUps, importBatch int
	fs := newFlagSet("bench", "kith bench [-n N] [-fhir] [flags]\n"+
		"kith bench -clients 4,8,16 [-duration 20s] [-url URL] [flags]\n"+
		"kith bench -import 100000 [-import-followups 10] [flags]\n\n"+
		"Measures, through the service, the latency of: one community's overdue worklist, a name-prefix search in a\n"+
		"district, a record page's data, and a follow-up submission (which writes). Use a database filled by\n"+
		"kith demo -patients N, never a real one.\n\n"+
		"With -clients, measures throughput instead: N clients post follow-ups over real HTTP (to Kith's server\n"+
		"started in this process, or to -url) for -duration each, with tx/s and p50/p99, a district's figures, a\n"+
		"community's and a patient's record read meanwhile, and on PostgreSQL pgbench's reference figures side by\n"+
		"side in the same run; with -floor, also the same clients against a bare HTTP server that does only\n"+
		"pgbench's transaction (what HTTP and Go cost in front of it); with -ceiling, also Kith's own follow-up\n"+
		"transaction run by pgbench with the same clients (what PostgreSQL alone does of Kith's work).\n\n"+
		"With -fhir, also measures FHIR Patient?name= and Encounter?patient= over real HTTP.\n\n"+
		"With -import, measures the import instead: writes a registry of N patients as the CSV template, imports it\n"+
		"with every check and rule as kith import does, and reports records a second and the peak heap beside\n"+
		"fhirbase's rate. Use a database made by kith demo -patients 0.")
	c.register(fs)
	fs.IntVar(&n, "n", 500, "runs of each operation")
	fs.StringVar(&clients, "clients", "", "concurrent mode: the numbers of clients to measure, e.g. 4,8,16")
	fs.DurationVar(&duration, "duration", 20*time.Second, "concurrent mode: how long each measurement lasts")
	fs.StringVar(&url, "url", "", "concurrent mode: a running Kith to drive instead of one started in this process")
	fs.BoolVar(&figures, "figures", true, "concurrent mode: read a district's figures, a community's and a patient's record meanwhile and report their latency")
	fs.BoolVar(&staleFigures, "stale-figures", true, "concurrent mode, in-process: serve stale figure snapshots while refreshing them in the background, as kith serve does (false: recount when read)")
	fs.BoolVar(&fhirSearch, "fhir", false, "also measure two FHIR searches over HTTP")
	fs.BoolVar(&floor, "floor", false, "concurrent mode, PostgreSQL: also measure a bare HTTP server doing only pgbench's transaction, with the same clients")
	fs.BoolVar(&ceiling, "ceiling", false, "concurrent mode, PostgreSQL: also run Kith's own follow-up transaction in pgbench, with the same clients")
	fs.IntVar(&importN, "import", 0, "import mode: the patients of the generated registry")
	fs.IntVar(&importFollowUps, "import-followups", 10, "import mode: the follow-ups of each patient")
	fs.IntVar(&importBatch, "import-batch", 0, "import mode: patients per transaction (default as kith import)")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run (server included when in-process) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if n < 1 {
		return &exitError{2, errors.New("bench: -n must be at least 1")}
	}
	var counts []int
	for _, f := range strings.Split(clients, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		k, err := strconv.Atoi(f)
		if err != nil || k < 1 || k > 1000 {
			return &exitError{2, fmt.Errorf("bench: -clients: %q is not a number of clients (1 to 1000)", f)}
		}
		counts = append(counts, k)
	}
	db, svc, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer sealAndClose(db)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	heading := fmt.Sprintf("kith bench on %s (%s), %d runs each", db.String(), db.Engine(), n)
	switch {
	case importN > 0:
		heading = fmt.Sprintf("kith bench -import on %s (%s)", db.String(), db.Engine())
	case len(counts) > 0:
		heading = fmt.Sprintf("kith bench on %s (%s), %s per measurement", db.String(), db.Engine(), duration)
	}
	fmt.Fprintln(stdout, heading)
	if err := printCaveats(ctx, db, stdout); err != nil {
		return err
	}
	if importN > 0 {
		_, err = bench.Import(ctx, db, svc, bench.ImportOptions{Patients: importN, FollowUps: importFollowUps, Batch: importBatch}, stdout)
		return err
	}
	if len(counts) > 0 {
		opts := bench.LoadOptions{Clients: counts, Duration: duration, URL: url, Figures: figures, Floor: floor, Ceiling: ceiling}
		if staleFigures {
			opts.StaleFigures = jobs.StaleFiguresFor
		}
		if db.Engine() == store.Postgres {
			opts.DSN = c.db
		}
		_, err = bench.Load(ctx, db, svc, opts, stdout)
		return err
	}
	if _, err = bench.Run(ctx, db, svc, n, stdout); err != nil || !fhirSearch {
		return err
	}
	_, err = bench.FHIR(ctx, db, svc, n, stdout)
	return err
}

// printCaveats writes what the benchmark's reader should know about the
// database server under its heading.
func printCaveats(ctx context.Context, db *store.DB, w io.Writer) error {
	notes, err := bench.Caveats(ctx, db)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	return err
}
