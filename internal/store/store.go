// Package store holds Kith's SQL: opening either engine, migrations, and
// transactions. Queries are written once, with ? placeholders, and rebound
// for PostgreSQL; the few engine differences live in dialect.go.
//
// Dates and times are stored the same way on both engines, as TEXT:
// a date is "YYYY-MM-DD" and an instant is UTC in the fixed-width form
// "YYYY-MM-DDTHH:MM:SS.ffffffZ" (see FormatTime), so that comparing two
// values as text compares them as times and indexes serve range queries.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Engine names a database engine.
type Engine string

// The two engines Kith runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB is a Kith database. Writes go through Transact; on SQLite they share one
// connection (SQLite has one writer), and reads use a separate pool.
type DB struct {
	engine Engine
	w      *sql.DB
	r      *sql.DB
	// turns holds a place for each write transaction running on
	// PostgreSQL, at most the writers' pool's size (SetWriters): the
	// others wait in the order they came (a channel's senders are served
	// first come, first served; the pool's waiters are not).
	turns chan struct{}
	name  string // the DSN without credentials, for messages

	// SQLite's group commit (group.go): write transactions queue on
	// writes for the one goroutine that runs them, reads' writes on
	// ahead.
	writes    chan *writeReq
	ahead     chan *writeReq
	quit      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	// SQLite's prepared statements, per pool (stmts.go); nil on PostgreSQL.
	wStmts, rStmts *stmtCache
	// stale is the optional read-only pool on a standby (OpenStandby),
	// for reads that may lag the primary; nil without one.
	stale     *sql.DB
	staleName string
	// staleReads counts the transactions ReadStale ran on the standby
	// pool, so that tests can see the routing.
	staleReads atomic.Int64
	// roundTrips counts the round trips of PostgreSQL's transactions
	// (pgtx.go), so that tests can see what a request costs.
	roundTrips atomic.Int64
}

// Open opens the database named by dsn: "sqlite:PATH" or a postgres:// URL.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("store: unsupported database %q (want sqlite:PATH or postgres://...)", dsn)
}

// sqlitePragmas: busy timeout first so that the others wait for a lock;
// synchronous(FULL) because an acknowledged patient record must survive a
// power cut, not just a crash of the process. mmap_size: pages are read
// through a mapping of the file (up to SQLite's 2 GB limit; writes still go
// to the WAL and are synced as before) rather than copied by a system call
// each: the background recount of a 20,000-patient demo's figures took
// 2.6-2.8 s instead of 4.2-4.5 s. SQLite's documented price: a disk error
// under the mapping ends the process instead of failing the statement.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-32768)&_pragma=mmap_size(2147418112)"

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty SQLite path")
	}
	base := "file:" + path + "?" + sqlitePragmas
	w, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	// The readers may not write (query_only): a write belongs to the one
	// writer and its group commit, and one made on a reader would wait for
	// the write lock outside them.
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(readers)
	// Keep them all: opening one reads the whole schema (the default
	// keeps two idle, and with more readers than that every session
	// lookup opened a connection, 11 % of the CPU under load).
	r.SetMaxIdleConns(readers)
	// A connection loads the planner's statistics when it opens, and
	// never again: an ANALYZE on the writer (PRAGMA optimize, here and in
	// the daily sweeps) reaches the readers only through new connections
	// (renewReaders).
	r.SetConnMaxLifetime(readerLifetime)
	db := &DB{engine: SQLite, w: w, r: r, name: "sqlite:" + path,
		writes: make(chan *writeReq), ahead: make(chan *writeReq), quit: make(chan struct{}), stopped: make(chan struct{}),
		wStmts: newStmtCache(w), rStmts: newStmtCache(r)}
	go db.writeLoop()
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", db.name, err)
	}
	// Statistics for tables that grew since they were last analysed,
	// with a bounded effort, as SQLite advises at connection start;
	// before any reader opens, so that the readers load them. Without
	// them, a district's figures read right after a demo load counted its
	// plans through every patient of the district (the plan tables, filled
	// by the service rather than bulk-loaded, had none): 170-220 ms at
	// p99 beside eight writers instead of 20 ms.
	if err := db.analyzeSQLite(ctx, "PRAGMA optimize=0x10002"); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", db.name, err)
	}
	if err := db.r.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", db.name, err)
	}
	return db, nil
}

// readers is the number of SQLite reader connections; readerLifetime is
// how long one is kept, and so how long fresh statistics may take to reach
// a reader that was busy when they were made.
const (
	readers        = 4
	readerLifetime = 10 * time.Minute
)

// pgPool opens a pool on a PostgreSQL URL with JIT compilation off (unless
// the URL sets jit itself). PostgreSQL compiles a query's expressions when
// its estimated cost passes jit_above_cost, and compiles again at every
// execution: for the short queries of a follow-up whose estimates are high
// (a plan with a seq scan it will never run) that was 70 ms of a
// 0.1 ms query, and 8 clients' follow-ups fell to 21 a second (issue 16).
// Kith's largest counts run over one community or on snapshots, where JIT
// gains little. Parallel query is off for the same reason (unless the URL
// sets max_parallel_workers_per_gather): starting a worker for a
// community's figures cost more than it saved (24 ms at the median with a
// worker, 17 ms without), and on a busy server the workers take the cores
// of other requests.
func pgPool(dsn string, conns int) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]string{"jit": "off", "max_parallel_workers_per_gather": "0"} {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	p := stdlib.OpenDB(*cfg)
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	p.SetConnMaxIdleTime(5 * time.Minute)
	return p, nil
}

// On PostgreSQL, write transactions run on a pool of their own, of at most
// DefaultWriters connections unless SetWriters says otherwise, and reads
// (with the short writes that serving them needs: TransactForRead) on
// another of pgReaders. More writers at once than the database server has
// processors to run them do not write more: they wait their turn for a
// processor inside PostgreSQL, and every read waits behind them there. In
// `kith bench -clients 8` on a 2-core machine, with the writers in one pool
// of 20 shared with the reads, a community's figures took 26–52 ms at p99;
// with four writers in turn and the reads apart, 16–25 ms, and no fewer
// follow-ups were written (issue 16, item 7; README, "Writers in turn").
// A writer waiting for its turn holds nothing: the wait comes before BEGIN.
const pgReaders = 16

// DefaultWriters is twice the processors of the machine Kith runs on, and
// at least 4: the usual size of a pool of busy connections, for a database
// on a machine like Kith's own. A database on a bigger machine takes more
// (kith serve -db-writers).
func DefaultWriters() int { return max(4, 2*runtime.NumCPU()) }

// SetWriters sets how many write transactions run at once on PostgreSQL,
// before the database is used; the others wait for their turn, first come
// first served, before they begin. On SQLite, which has one writer, it does
// nothing.
func (db *DB) SetWriters(n int) {
	if db.engine == Postgres && n > 0 {
		db.w.SetMaxOpenConns(n)
		db.w.SetMaxIdleConns(n)
		db.turns = make(chan struct{}, n)
	}
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	w, err := pgPool(dsn, DefaultWriters())
	if err != nil {
		return nil, err
	}
	r, err := pgPool(dsn, pgReaders)
	if err != nil {
		w.Close()
		return nil, err
	}
	db := &DB{engine: Postgres, w: w, r: r, name: redact(dsn)}
	db.SetWriters(DefaultWriters())
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", db.name, err)
	}
	return db, nil
}

// redact drops the password from a URL, for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres"
	}
	return u.Redacted()
}

// Engine reports which engine db runs on.
func (db *DB) Engine() Engine { return db.engine }

// String names the database without credentials.
func (db *DB) String() string { return db.name }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return err
	}
	return db.r.PingContext(ctx)
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.writes != nil {
		db.closeOnce.Do(func() { close(db.quit) })
		<-db.stopped
	}
	db.wStmts.close()
	db.rStmts.close()
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	if db.stale != nil {
		err = errors.Join(err, db.stale.Close())
	}
	return err
}

// Pools returns the underlying pools by name, for metrics.
func (db *DB) Pools() map[string]*sql.DB {
	m := map[string]*sql.DB{"writer": db.w, "reader": db.r}
	if db.r == db.w {
		m = map[string]*sql.DB{"main": db.w}
	}
	if db.stale != nil {
		m["standby"] = db.stale
	}
	return m
}

func (db *DB) provider() (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	if db.engine == Postgres {
		dialect = goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, "migrations/"+string(db.engine))
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.w, sub)
}

// Migrate applies every pending migration.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	for _, r := range res {
		slog.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	// Start-up creates the coming years' partitions.
	if err := db.EnsurePartitions(ctx, time.Now()); err != nil {
		return fmt.Errorf("store: partitions: %w", err)
	}
	return nil
}

// MigrationState is one migration and whether it has been applied.
type MigrationState struct {
	Version   int64
	File      string
	Applied   bool
	AppliedAt time.Time
}

// MigrationStatus lists the embedded migrations and their state.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]MigrationState, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationState{Version: s.Source.Version, File: s.Source.Path,
			Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt})
	}
	return out, nil
}

// Tx is a transaction with one timestamp for everything it writes.
type Tx struct {
	engine   Engine
	now      time.Time
	readOnly bool

	// SQLite: the transaction, and the pool's prepared statements.
	tx    *sql.Tx
	stmts *stmtCache
	// detached: the transaction is shared by a group of callers (group
	// commit), so one caller's context ending must not interrupt it.
	detached bool

	// PostgreSQL (pgtx.go): the transaction's connection; the statements
	// waiting to go with the next one (BEGIN first); whether any was sent;
	// and the error of a queued statement, which ends the transaction.
	conn   *sql.Conn
	trips  *atomic.Int64 // DB.roundTrips
	queued []queued
	// autocommit: a read-only transaction sent without BEGIN (see pgtx.go).
	autocommit bool
	sent       bool
	failed     error
	// check is the request's Check when this transaction carries it.
	check *Check
}

func (tx *Tx) ctx(ctx context.Context) context.Context {
	if tx.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// ReadOnly reports whether the transaction may not write (Read, ReadStale):
// code that would otherwise save what it computed, such as a figure
// snapshot, keeps it in memory instead.
func (tx *Tx) ReadOnly() bool { return tx.readOnly }

// Now is the transaction's timestamp: every row it writes carries this time.
func (tx *Tx) Now() time.Time { return tx.now }

// Engine reports the engine the transaction runs on.
func (tx *Tx) Engine() Engine { return tx.engine }

// Exec runs a statement written with ? placeholders. On PostgreSQL the
// statements queued by Later go with it.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx.autocommit {
		return nil, errWriteInRead
	}
	if tx.conn != nil {
		tag, err := tx.send(ctx, rebind(tx.engine, query), args...)
		if err != nil {
			return nil, err
		}
		return pgResult{tag}, nil
	}
	if s := tx.stmts.lookup(query); s != nil {
		return tx.tx.StmtContext(tx.ctx(ctx), s).ExecContext(tx.ctx(ctx), args...)
	}
	return tx.tx.ExecContext(tx.ctx(ctx), rebind(tx.engine, query), args...)
}

// Later runs a statement whose result the caller does not need: an audit
// entry, a summary's update, a counter's bump. On PostgreSQL it waits and
// goes with the transaction's next statement or its COMMIT, saving a round
// trip; should it fail, that statement fails, and the transaction rolls
// back with its error. On SQLite, where a statement costs no round trip, it
// runs at once.
func (tx *Tx) Later(ctx context.Context, query string, args ...any) error {
	if tx.conn == nil || tx.autocommit {
		_, err := tx.Exec(ctx, query, args...)
		return err
	}
	if tx.failed != nil {
		return tx.failed
	}
	tx.queued = append(tx.queued, queued{query: rebind(tx.engine, query), args: args})
	return nil
}

// Query runs a query written with ? placeholders.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if tx.conn != nil {
		if err := tx.flush(ctx); err != nil {
			return nil, err
		}
		tx.trips.Add(1)
		return tx.conn.QueryContext(ctx, rebind(tx.engine, query), args...)
	}
	return tx.tx.QueryContext(tx.ctx(ctx), rebind(tx.engine, query), args...)
}

// A Query is one of the queries QueryAll runs: its text, written with ?
// placeholders, its arguments, and what to do with each row it returns
// (Row is given the row's Scan; it must not run queries of its own).
type Query struct {
	SQL  string
	Args []any
	Row  func(scan func(dest ...any) error) error
}

// QueryAll runs queries one after another and hands each row to its
// query's Row, in order. On PostgreSQL they travel together, with what
// Later queued, in one round trip (pgx's pipeline): for reads that do not
// depend on each other, each round trip under load being a turn to wait
// for a processor (issue 16, item 7). On SQLite they run one by one, and
// prepared (stmts.go): each one's rows are read to the end before the
// next runs.
func (tx *Tx) QueryAll(ctx context.Context, queries ...Query) error {
	if tx.conn != nil {
		return tx.sendQueries(ctx, queries)
	}
	for _, q := range queries {
		if err := func() error {
			var rows *sql.Rows
			var err error
			if s := tx.stmts.lookup(q.SQL); s != nil {
				rows, err = tx.tx.StmtContext(tx.ctx(ctx), s).QueryContext(tx.ctx(ctx), q.Args...)
			} else {
				rows, err = tx.Query(ctx, q.SQL, q.Args...)
			}
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := q.Row(rows.Scan); err != nil {
					return err
				}
			}
			return rows.Err()
		}(); err != nil {
			return err
		}
	}
	return nil
}

// QueryRow runs a query that returns at most one row.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if tx.conn != nil {
		if err := tx.flush(ctx); err != nil {
			return notSent.QueryRowContext(ctx, query)
		}
		tx.trips.Add(1)
		return tx.conn.QueryRowContext(ctx, rebind(tx.engine, query), args...)
	}
	if s := tx.stmts.lookup(query); s != nil {
		return tx.tx.StmtContext(tx.ctx(ctx), s).QueryRowContext(tx.ctx(ctx), args...)
	}
	return tx.tx.QueryRowContext(tx.ctx(ctx), rebind(tx.engine, query), args...)
}

// QueryReplanned is Query for a query whose best plan depends on its
// arguments, such as a count over an org unit that may be a community or a
// district. PostgreSQL plans a prepared statement once for any arguments
// after a few runs (its generic plan) when that plan's estimate looks no
// worse; for a range of org paths it guesses a few dozen rows, and a
// district's count of plans was read through all its 11,000 patients
// (14 ms) instead of through its 2 plans (0.1 ms), and a district's
// figures, counted per community, ran 11.4 s on the generic plan (a nested
// loop over 10,000 patients for each of 10,000) against 0.24 s planned for
// the district. Here the statement is planned for its arguments at every
// run (TestReplannedNotKept).
func (tx *Tx) QueryReplanned(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.Query(ctx, query, tx.replanned(args)...)
}

// replanned prefixes args with pgx's option to plan the statement for them
// (an unnamed statement, never cached) on PostgreSQL.
func (tx *Tx) replanned(args []any) []any {
	if tx.engine == Postgres {
		return append([]any{pgx.QueryExecModeExec}, args...)
	}
	return args
}

// Transact runs fn in a read-write transaction and commits it if fn returns
// nil; otherwise it rolls back. On PostgreSQL a serialisation failure or a
// deadlock is retried a few times. fn must not keep the Tx.
//
// On SQLite, concurrent write transactions are committed in groups (see
// group.go); fn's work is still atomic and alone in failing.
func (db *DB) Transact(ctx context.Context, fn func(*Tx) error) error {
	if db.writes != nil {
		if err := db.Verify(ctx); err != nil {
			return err
		}
		return db.groupTransact(ctx, fn, false)
	}
	return db.transact(ctx, db.w, nil, fn)
}

// TransactForRead is Transact for the short write that serving a read
// needs (its audit entry, a session's touch). On SQLite it goes ahead of the
// write transactions queued for the one writer (see group.go); on
// PostgreSQL it runs on the readers' pool, so that a read does not wait for
// the writers' turns (see pgReaders).
func (db *DB) TransactForRead(ctx context.Context, fn func(*Tx) error) error {
	if db.writes != nil {
		if err := db.Verify(ctx); err != nil {
			return err
		}
		return db.groupTransact(ctx, fn, true)
	}
	return db.transact(ctx, db.r, nil, fn)
}

// TransactSnapshot is Transact with one snapshot for the whole transaction
// (REPEATABLE READ on PostgreSQL; a SQLite transaction always has one).
// A write that conflicts with a transaction committed after the snapshot
// fails with a serialisation error, and the whole of fn is retried.
func (db *DB) TransactSnapshot(ctx context.Context, fn func(*Tx) error) error {
	if db.engine == SQLite {
		return db.Transact(ctx, fn)
	}
	return db.transact(ctx, db.w, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, fn)
}

// Read runs fn in a read-only transaction on the reader pool. On SQLite all
// its queries see one snapshot; on PostgreSQL, at READ COMMITTED, each sees
// its own, and no BEGIN or COMMIT is sent (see pgtx.go).
func (db *DB) Read(ctx context.Context, fn func(*Tx) error) error {
	return db.transact(ctx, db.r, &sql.TxOptions{ReadOnly: db.engine == Postgres}, fn)
}

// Freshness says where a read's data came from and how current it is.
type Freshness struct {
	// AsOf is the time of the data read: on a standby, the commit time of
	// the last transaction it replayed; else the time of the read.
	AsOf time.Time
	// Standby is true when the data came from a standby, which may lag.
	Standby bool
}

// HasStandby reports whether a read-only standby pool is open.
func (db *DB) HasStandby() bool { return db.stale != nil }

// StandbyName names the read pool's database without credentials.
func (db *DB) StandbyName() string { return db.staleName }

// StaleReads is how many transactions ReadStale ran on the standby pool.
func (db *DB) StaleReads() int64 { return db.staleReads.Load() }

// RoundTrips is how many round trips have been made to PostgreSQL by
// transactions, by the queries outside them (DB.Query, QueryRow, Exec)
// and by Verify (statements and batches sent and answered; a statement's
// first preparation on a connection not counted apart); 0 on SQLite.
func (db *DB) RoundTrips() int64 { return db.roundTrips.Load() }

// trip counts a round trip outside a transaction.
func (db *DB) trip() {
	if db.engine == Postgres {
		db.roundTrips.Add(1)
	}
}

// OpenStandby opens the optional read-only pool that ReadStale uses: a
// PostgreSQL standby (or any server with the same data), for figures,
// exports and searches, which may lag the primary by a little.
func (db *DB) OpenStandby(ctx context.Context, dsn string) error {
	if db.engine != Postgres || !(strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")) {
		return errors.New("store: a read pool needs PostgreSQL, for both the database and the read pool")
	}
	p, err := pgPool(dsn, pgReaders)
	if err != nil {
		return err
	}
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return fmt.Errorf("store: open read pool %s: %w", redact(dsn), err)
	}
	db.stale, db.staleName = p, redact(dsn)
	return nil
}

// ReadStale runs fn in a read-only transaction on the standby pool when
// there is one, else as Read does, and says how fresh the data was. Use it
// only for reads that need not see the caller's own latest writes.
func (db *DB) ReadStale(ctx context.Context, fn func(*Tx) error) (Freshness, error) {
	if db.stale == nil {
		var f Freshness
		err := db.Read(ctx, func(tx *Tx) error {
			f = Freshness{AsOf: tx.now}
			tx.readOnly = true
			return fn(tx)
		})
		return f, err
	}
	var f Freshness
	err := db.transact(ctx, db.stale, &sql.TxOptions{ReadOnly: true}, func(tx *Tx) error {
		db.staleReads.Add(1)
		// On a standby, the data is as of the last transaction replayed;
		// a server not in recovery (the read pool fell back to a primary,
		// or names the primary itself) is current.
		var replay sql.NullTime
		var recovering bool
		if err := tx.QueryRow(ctx, `SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp()`).Scan(&recovering, &replay); err != nil {
			return err
		}
		f = Freshness{AsOf: tx.now, Standby: recovering}
		if recovering && replay.Valid {
			f.AsOf = replay.Time.UTC().Truncate(time.Microsecond)
		}
		return fn(tx)
	})
	return f, err
}

func (db *DB) transact(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(*Tx) error) error {
	if db.engine != Postgres || pool == db.stale {
		// Only PostgreSQL's primary carries a check with the work.
		if err := db.Verify(ctx); err != nil {
			return err
		}
	}
	if turns := db.turns; pool == db.w && turns != nil {
		select {
		case turns <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("store: begin: %w", ctx.Err())
		}
		defer func() { <-turns }()
	}
	const attempts = 4
	var err error
	for i := 0; i < attempts; i++ {
		if db.engine == Postgres {
			err = db.tryPG(ctx, pool, opts, fn)
		} else {
			err = db.trySQLite(ctx, pool, opts, fn)
		}
		// Not cancelled with the request: a statement that failed to
		// prepare is never tried again.
		db.stmtsOf(pool).prepare(context.WithoutCancel(ctx))
		if err == nil || !isRetryable(err) {
			return err
		}
		slog.Warn("transaction retried", "attempt", i+1, "error", err)
	}
	return err
}

// stmtsOf returns the prepared statements of pool, nil if it keeps none.
func (db *DB) stmtsOf(pool *sql.DB) *stmtCache {
	switch pool {
	case nil:
	case db.w:
		return db.wStmts
	case db.r:
		return db.rStmts
	}
	return nil
}

func (db *DB) trySQLite(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(*Tx) error) (err error) {
	readOnly := opts != nil && opts.ReadOnly
	start := time.Now()
	sqlTx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, engine: db.engine, now: time.Now().UTC().Truncate(time.Microsecond), readOnly: readOnly,
		stmts: db.stmtsOf(pool)}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
			return
		}
		if err = sqlTx.Commit(); err != nil {
			err = fmt.Errorf("store: commit: %w", err)
		}
		// Never log arguments: they hold personal data.
		slog.Debug("transaction", "duration", time.Since(start))
	}()
	return fn(tx)
}

// Query runs a read query outside a transaction on the reader pool.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := db.Verify(ctx); err != nil {
		return nil, err
	}
	db.trip()
	return db.r.QueryContext(ctx, rebind(db.engine, query), args...)
}

// QueryRow runs a read query that returns at most one row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if err := db.Verify(ctx); err != nil {
		return checkFailed.QueryRowContext(ctx, query)
	}
	db.trip()
	if s := db.rStmts.lookup(query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, rebind(db.engine, query), args...)
}

// Exec runs a statement outside a transaction on the writer. Tests use it to
// play an intruder with direct database access.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := db.Verify(ctx); err != nil {
		return nil, err
	}
	db.trip()
	return db.w.ExecContext(ctx, rebind(db.engine, query), args...)
}

// TimeLayout is the one way instants are stored: UTC, fixed width.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// DateLayout is the one way dates are stored.
const DateLayout = "2006-01-02"

// FormatTime formats t for storage.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime parses a stored instant.
func ParseTime(s string) (time.Time, error) { return time.Parse(TimeLayout, s) }

// MustTime parses a stored instant written by FormatTime; a malformed value
// is a corrupted database and yields the zero time.
func MustTime(s string) time.Time {
	t, _ := ParseTime(s)
	return t
}

// TryLease takes or renews the lease called name for holder until
// expires, unless another holder has it and it has not expired. Several
// servers sharing one database use it so that one of them runs a job.
func (db *DB) TryLease(ctx context.Context, name, holder string, now, expires time.Time) (bool, error) {
	var got string
	err := db.w.QueryRowContext(ctx, rebind(db.engine, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.expires_at < ? OR leases.holder = excluded.holder
		RETURNING holder`), name, holder, FormatTime(expires), FormatTime(now)).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil && got == holder, err
}
