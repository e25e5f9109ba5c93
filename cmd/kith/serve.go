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
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/bench"
	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/directory"
	"kith/internal/jobs"
	"kith/internal/progress"
	"kith/internal/server"
	"kith/internal/store"
)

func cmdServe(ctx context.Context, args []string, stdout io.Writer) error {
	var c common
	var addr, dirFile, totpRoles, baseURL, dbRead string
	var withDemo, trustProxy bool
	var maxBody int64
	var glassFor time.Duration
	fs := newFlagSet("serve", "kith serve [flags]")
	c.register(fs)
	fs.StringVar(&addr, "addr", env("KITH_ADDR", "127.0.0.1:8080"), "address to listen on (env KITH_ADDR)")
	fs.BoolVar(&withDemo, "demo", envBool("KITH_DEMO"), "fill an empty database with the demo district and print its accounts (env KITH_DEMO=1)")
	fs.BoolVar(&trustProxy, "trust-proxy", envBool("KITH_TRUST_PROXY"), "take the client address from X-Forwarded-For, behind a reverse proxy (env KITH_TRUST_PROXY=1)")
	fs.StringVar(&dirFile, "directory", env("KITH_DIRECTORY", ""), "JSON file of the hotlines and services shown to residents; default: the national hotlines, or the demo district's with -demo (env KITH_DIRECTORY)")
	fs.StringVar(&dbRead, "db-read", env("KITH_DB_READ", ""), "optional read-only PostgreSQL URL (a standby) for figures, exports and searches, which then say as of when their data is (env KITH_DB_READ)")
	fs.Int64Var(&maxBody, "max-body", envInt("KITH_MAX_BODY", 1<<20), "largest request body in bytes (env KITH_MAX_BODY)")
	fs.StringVar(&totpRoles, "totp-roles", env("KITH_TOTP_ROLES", "admin,district_admin"), "comma-separated roles that must sign in with a second factor (TOTP), or none (env KITH_TOTP_ROLES)")
	fs.StringVar(&baseURL, "base-url", env("KITH_BASE_URL", ""), "URL the server is reached at from outside, for the activation links it hands out; default: the host each request came to (env KITH_BASE_URL)")
	fs.DurationVar(&glassFor, "break-glass-for", envDuration("KITH_BREAK_GLASS_FOR", care.DefaultGlassFor),
		"how long a break-the-glass grant lets a clinician read one record outside their jurisdiction (env KITH_BREAK_GLASS_FOR)")
	if err := fs.Parse(args); err != nil {
		return err
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
	defer db.Close()
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
		svc.SetDirectory(directory.Demo())
	}
	if dirFile != "" {
		d, err := directory.Load(dirFile)
		if err != nil {
			return err
		}
		svc.SetDirectory(d)
	}
	svc.SetGlassFor(glassFor)
	go jobs.Run(ctx, db, svc)

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
	if err := srv.Shutdown(shutdownCtx); err != nil {
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
	defer db.Close()
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

// auditVerify checks the chain and turns a break into exit code 1.
func auditVerify(ctx context.Context, db *store.DB) (int64, error) {
	n, err := audit.Verify(ctx, db)
	var be *audit.BrokenError
	if errors.As(err, &be) {
		return n, &exitError{1, err}
	}
	return n, err
}

func cmdBench(ctx context.Context, args []string, stdout io.Writer) error {
	var c common
	var n int
	fs := newFlagSet("bench", "kith bench [-n N] [flags]\n\n"+
		"Measures, through the service, the latency of: one community's overdue worklist, a name-prefix search in a\n"+
		"district, a record page's data, and a follow-up submission (which writes). Use a database filled by\n"+
		"kith demo -patients N, never a real one.")
	c.register(fs)
	fs.IntVar(&n, "n", 500, "runs of each operation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if n < 1 {
		return &exitError{2, errors.New("bench: -n must be at least 1")}
	}
	db, svc, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "kith bench on %s (%s), %d runs each\n", db.String(), db.Engine(), n)
	_, err = bench.Run(ctx, db, svc, n, stdout)
	return err
}
