// Command kith runs Kith, the community mental health management system.
//
// Usage:
//
//	kith serve [-demo]          serve the web UI, the public site and the API
//	kith migrate [apply|status] apply or list database migrations
//	kith admin create -username NAME
//	kith audit verify           check the audit log's hash chain
//	kith demo                   fill an empty database with a demo district
//	kith import [-dry-run] FILE…  import an existing registry (CSV, XLSX, FHIR NDJSON)
//	kith version
//
// Configuration comes from flags with environment fallbacks; see -h of each
// command and the README.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"kith/internal/care"
	"kith/internal/secrets"
	"kith/internal/store"
)

const usage = `kith — community mental health management

Usage:
  kith serve [flags]            serve the staff UI, public site and API (-demo: fill an empty database first)
  kith migrate [apply|status]   apply pending database migrations, or list them
  kith admin create -username NAME
                                create a system administrator (password from standard input)
  kith audit verify             recompute the audit log's hash chain; exit 1 naming the first broken entry
  kith demo                     fill an empty database with a demo district and staff
  kith import [-dry-run] FILE…  import a registry from CSV or XLSX (the template) or FHIR NDJSON;
                                -dry-run reports every problem by row and column and writes nothing
  kith bench [-n N]             measure the main operations (p50, p99) on a database filled by kith demo
  kith version                  print the version

Run "kith COMMAND -h" for a command's flags. Every flag has an environment
variable fallback (KITH_DB, KITH_DATA, KITH_ADDR, KITH_SECRET_KEY, ...).
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "kith:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return &exitError{2, errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout)
	case "admin":
		return cmdAdmin(ctx, rest, stdin, stdout)
	case "audit":
		return cmdAudit(ctx, rest, stdout)
	case "demo":
		return cmdDemo(ctx, rest, stdout)
	case "bench":
		return cmdBench(ctx, rest, stdout)
	case "import":
		return cmdImport(ctx, rest, stdout)
	case "version":
		fmt.Fprintln(stdout, "kith", version())
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return &exitError{2, fmt.Errorf("unknown command %q", cmd)}
}

// common holds the configuration every command shares.
type common struct {
	db       string
	data     string
	logLevel string
	tz       string
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", env("KITH_DB", ""), "database: sqlite:PATH or a postgres:// URL (env KITH_DB; default sqlite:kith.db in the data folder)")
	fs.StringVar(&c.data, "data", env("KITH_DATA", "."), "data folder for the SQLite file and the generated secret key (env KITH_DATA)")
	fs.StringVar(&c.tz, "tz", env("KITH_TZ", care.DefaultZoneName), "the installation's time zone (IANA name): when a day begins, and the zone of times shown (env KITH_TZ)")
	fs.StringVar(&c.logLevel, "log-level", env("KITH_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env KITH_LOG_LEVEL)")
}

// open sets up logging, opens and migrates the database, and loads the keys.
func (c *common) open(ctx context.Context) (*store.DB, *care.Service, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, nil, fmt.Errorf("-log-level: %w", err)
	}
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	zone, err := time.LoadLocation(c.tz)
	if err != nil {
		return nil, nil, fmt.Errorf("-tz: %w", err)
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return nil, nil, err
	}
	dsn := c.db
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(c.data, "kith.db")
	}
	keys, err := secrets.Load(os.Getenv("KITH_SECRET_KEY"), c.data)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	svc := care.New(db, keys)
	svc.SetZone(zone)
	return db, svc, nil
}

// action splits a leading action word ("verify", "status") from the flags,
// which the flag package would otherwise stop parsing at.
func action(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return info.Main.Version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "+modified"
	}
	return rev
}

func cmdMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	var c common
	fs := newFlagSet("migrate", "kith migrate [flags] [apply|status]")
	c.register(fs)
	what, args := action(args)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if what == "" {
		what = "apply"
	}
	if what != "apply" && what != "status" {
		return &exitError{2, fmt.Errorf("migrate: unknown action %q (apply or status)", what)}
	}
	// open applies pending migrations; status then shows the result.
	db, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	for _, m := range st {
		state := "pending"
		if m.Applied {
			state = "applied " + m.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "%05d  %-40s %s\n", m.Version, m.File, state)
	}
	return nil
}

func cmdAudit(ctx context.Context, args []string, stdout io.Writer) error {
	var c common
	fs := newFlagSet("audit", "kith audit verify [flags]")
	c.register(fs)
	what, args := action(args)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if what != "verify" {
		return &exitError{2, errors.New(`audit: the only action is "verify"`)}
	}
	db, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := auditVerify(ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries verified, chain head at position %d (%s)\n", r.Sealed, r.Head.Pos, r.Head.Hash)
	if r.Unsealed > 0 {
		fmt.Fprintf(stdout, "%d entries committed but not sealed yet: protected by the append-only triggers only until a running server seals them (every second)\n", r.Unsealed)
	}
	return nil
}

func cmdAdmin(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return &exitError{2, errors.New(`admin: the only action is "create": kith admin create -username NAME`)}
	}
	var c common
	var username, fullName string
	fs := newFlagSet("admin create", "kith admin create -username NAME [-full-name NAME] [flags]\n\n"+
		"Creates a system administrator. The password (at least 10 characters) is read from standard input,\n"+
		"or asked for twice when standard input is a terminal.")
	c.register(fs)
	fs.StringVar(&username, "username", "", "the new administrator's username (required)")
	fs.StringVar(&fullName, "full-name", "", "the administrator's full name (default: the username)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if username == "" {
		fs.Usage()
		return &exitError{2, errors.New("admin create: -username is required")}
	}
	if fullName == "" {
		fullName = username
	}
	password, err := readPassword(stdin, stdout)
	if err != nil {
		return err
	}
	db, svc, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer sealAndClose(db)
	u, err := svc.CreateAdmin(ctx, username, fullName, password)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "created administrator %q\n", u.Username)
	return nil
}

// describe turns a service error into a message for the terminal.
func describe(err error) error {
	var ce *care.Error
	if !errors.As(err, &ce) || len(ce.Fields) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(ce.Message)
	for _, f := range ce.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return errors.New(b.String())
}
