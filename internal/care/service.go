// Package care is Kith's service: every read and write of Kith's records goes
// through one of its methods, which checks the access policy, applies the
// rules, runs one transaction and writes the audit entry inside it.
package care

import (
	"context"
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the installation's zone loads on systems without a zone database

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/catalog"
	"kith/internal/clinical"
	"kith/internal/clinical/instrument"
	"kith/internal/directory"
	"kith/internal/ratelimit"
	"kith/internal/secrets"
	"kith/internal/store"
)

// Service is the care service.
type Service struct {
	db          *store.DB
	keys        *secrets.Keys
	now         func() time.Time
	zone        *time.Location // the installation's time zone: its "today", the times people read
	instruments *instrument.Catalogue
	directory   *directory.Directory
	drugs       []catalog.Drug
	// The public site's limits per client address, shared through the
	// database by every server.
	screenLimit, contactLimit *ratelimit.Limiter
	// glassFor is how long a break-the-glass grant lasts.
	glassFor time.Duration
	// totpRoles must sign in with a second factor (SetTOTPRoles).
	totpRoles map[auth.Role]bool
	// baseURL is where the server is reached from outside, for links such
	// as activation links; "" to take it from each request.
	baseURL string
	// referralTargets are the response targets of a referral up by urgency
	// (SetReferralTargets); nil for clinical.DefaultReferralTargets.
	referralTargets map[string]time.Duration
	// staleFigures: see ServeStaleFigures.
	staleFigures time.Duration
	// trainingTarget is the yearly training hours target (SetTrainingTarget).
	trainingTarget float64
	// subsidyRules are the guardian subsidy's conditions (SetSubsidyRules).
	subsidyRules *clinical.SubsidyRules
	// exportKeep: see SetExportKeep.
	exportKeep time.Duration
	// deferred holds, per read-only transaction of readAct, the writes
	// to make in the audit entry's transaction (see deferredFor).
	deferred sync.Map
	// afterSlots bounds the audit entries being written after their
	// reads were answered (auditAfter), and after counts them for Drain.
	afterSlots chan struct{}
	after      sync.WaitGroup
	// unitPaths holds each org unit's path as figures last found it, by
	// code (see figuresOf).
	unitPaths sync.Map
	// tokens holds API tokens as last resolved, by hash (ResolveToken).
	tokens sync.Map
}

// New returns a service over db using keys.
func New(db *store.DB, keys *secrets.Keys) *Service {
	s := &Service{db: db, keys: keys, now: time.Now, zone: DefaultZone(), instruments: instrument.Default(),
		directory: directory.Default(), drugs: catalog.Drugs(),
		screenLimit:  ratelimit.New(db, "screening", screenEvery, screenBurst, keys.RateLimit),
		contactLimit: ratelimit.New(db, "contact", contactEvery, contactBurst, keys.RateLimit), glassFor: DefaultGlassFor,
		afterSlots: make(chan struct{}, maxAuditAfter)}
	s.SetTOTPRoles(DefaultTOTPRoles)
	return s
}

// SetBaseURL sets the URL the server is reached at from outside (such as
// https://kith.example.org), used in the links it hands out.
func (s *Service) SetBaseURL(u string) { s.baseURL = strings.TrimRight(u, "/") }

// BaseURL is the URL set by SetBaseURL, or "".
func (s *Service) BaseURL() string { return s.baseURL }

// SetClock sets the clock the clinical rules read "today" from (what may
// not lie in the future, when a patient becomes lost, the default as-of
// date of worklists). Tests set it to a fixed time; transactions and the
// audit log keep the real time.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// DefaultZoneName is the installation's time zone when none is configured.
const DefaultZoneName = "Asia/Shanghai"

// DefaultZone is the time zone named DefaultZoneName. The binary embeds the
// time zone database (time/tzdata), so it loads on any system; without it
// the zone falls back to China's fixed offset, which has had no summer time
// since 1991.
func DefaultZone() *time.Location {
	if z, err := time.LoadLocation(DefaultZoneName); err == nil {
		return z
	}
	return time.FixedZone("CST", 8*60*60)
}

// SetZone sets the installation's time zone (KITH_TZ): the zone in which a
// day begins for the clinical rules and in which the pages show times.
func (s *Service) SetZone(z *time.Location) { s.zone = z }

// Zone is the installation's time zone.
func (s *Service) Zone() *time.Location { return s.zone }

// Today is the date today in the installation's time zone, for the forms'
// defaults.
func (s *Service) Today() clinical.Date { return s.today() }

// today is the clinical date today, in the installation's time zone: a
// follow-up at 07:00 in Beijing is on that day, though it is still the day
// before in UTC.
func (s *Service) today() clinical.Date { return clinical.DateOf(s.now().In(s.zone)) }

// fields starts a validation against the service's today.
func (s *Service) fields() fields { return fields{today: s.today().String()} }

// DB returns the service's database, for health checks and metrics.
func (s *Service) DB() *store.DB { return s.db }

// subject is what an audited action concerns; the action's body fills it in
// as soon as it knows, so that even a refused attempt is recorded fully.
type subject struct {
	Type, ID, Unit, Path string
	Detail               string
	// also are further entries written beside this one, whatever the
	// outcome: a probe of a record in another unit is recorded in that unit
	// too, so that its administrator sees it.
	also []extraEntry
}

// extraEntry is an audit entry written beside an action's own.
type extraEntry struct {
	action string
	sub    subject
}

// act runs fn as one transaction on behalf of the actor in ctx and appends
// the audit entry for action in the same transaction. If fn fails, nothing
// it wrote remains, and the attempt is recorded as denied (the policy
// refused) or failed (anything else) in a transaction of its own.
func (s *Service) act(ctx context.Context, action string, fn func(tx *store.Tx, a *Actor, sub *subject) error) error {
	return s.actOn(ctx, s.db.Transact, action, fn)
}

// actOn is act with fn run by transact (DB.Transact, or DB.TransactForRead
// for a read).
func (s *Service) actOn(ctx context.Context, transact func(context.Context, func(*store.Tx) error) error,
	action string, fn func(tx *store.Tx, a *Actor, sub *subject) error) error {
	a := ActorFrom(ctx)
	if a == nil {
		return errUnauthenticated
	}
	return s.recordOn(ctx, transact, a.Username, action, func(tx *store.Tx, sub *subject) error { return fn(tx, a, sub) })
}

// record is act for an actor known only by name (a sign-in, the command line).
func (s *Service) record(ctx context.Context, actor, action string, fn func(tx *store.Tx, sub *subject) error) error {
	return s.recordOn(ctx, s.db.Transact, actor, action, fn)
}

// recordOn is record with fn run by transact, as actOn.
func (s *Service) recordOn(ctx context.Context, transact func(context.Context, func(*store.Tx) error) error,
	actor, action string, fn func(tx *store.Tx, sub *subject) error) error {
	var sub subject
	err := transact(ctx, func(tx *store.Tx) error {
		sub = subject{}
		if err := fn(tx, &sub); err != nil {
			return err
		}
		return s.appendEntries(ctx, tx, actor, action, sub, audit.Allowed)
	})
	if err == nil {
		if accountAction(action) {
			// Accounts and units as API tokens remember them changed:
			// resolve them afresh (ResolveToken).
			s.tokens.Clear()
		}
		return nil
	}
	if TokenChanged(err) {
		// Nobody known acted: nothing to record, as for a missing token.
		return err
	}
	outcome := audit.Failed
	if isDenied(err) {
		outcome = audit.Denied
	}
	if aerr := transact(ctx, func(tx *store.Tx) error {
		return s.appendEntries(ctx, tx, actor, action, sub, outcome)
	}); aerr != nil {
		slog.ErrorContext(ctx, "audit of a refused attempt failed", "action", action, "error", aerr)
	}
	return unavailable(err)
}

// accountAction reports whether action changes what an actor is made of:
// an account, its second factor, an org unit.
func accountAction(action string) bool {
	for _, p := range []string{"user.", "account.", "unit."} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

// appendEntries appends the entry for sub and those of sub.also.
func (s *Service) appendEntries(ctx context.Context, tx *store.Tx, actor, action string, sub subject, o audit.Outcome) error {
	if err := audit.Append(ctx, tx, s.entry(ctx, actor, action, sub, o)); err != nil {
		return err
	}
	for _, x := range sub.also {
		if err := audit.Append(ctx, tx, s.entry(ctx, actor, x.action, x.sub, o)); err != nil {
			return err
		}
	}
	return nil
}

// view is act for an action that only reads. On SQLite it is readAct: the
// reading runs on a reader connection beside the one writer, and only the
// audit entry goes to the writer, ahead of the queued writes. Through act,
// a record page or a worklist was read inside the writer's transaction: it
// waited in the queue behind the follow-ups being saved, and held the
// writer while it read. On PostgreSQL, where each transaction has a
// connection of its own, it is act on the readers' pool
// (store.TransactForRead), not waiting for the writers' turns: the reading
// and its entry are one transaction, a round trip fewer than two; except
// for a read of counts (countsOnly), which is readAct on both engines, its
// entry written after the answer.
func (s *Service) view(ctx context.Context, action string, fn func(tx *store.Tx, a *Actor, sub *subject) error) error {
	if s.db.Engine() == store.SQLite || countsOnly[action] {
		return unavailable(s.readAct(ctx, action, fn))
	}
	return s.actOn(ctx, s.db.TransactForRead, action, fn)
}

// readAct is act for an action that only reads. The reading runs in a
// read-only transaction (on SQLite, on a reader connection, beside the one
// writer rather than holding it), and the audit entry is appended just
// after, in a short write transaction of its own (ahead of the queued
// writes: store.TransactForRead), before anything is returned: if the
// entry cannot be written, the caller gets an error and none of what was
// read. A read of counts (countsOnly) that asks for no write is the
// exception: its entry is appended after the answer (auditAfter). Writes
// the reading asks for (a figure snapshot worth keeping, see deferredFor)
// are made in the audit entry's transaction.
func (s *Service) readAct(ctx context.Context, action string, fn func(tx *store.Tx, a *Actor, sub *subject) error) error {
	a := ActorFrom(ctx)
	if a == nil {
		return errUnauthenticated
	}
	var sub subject
	var later []func(*store.Tx) error
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		sub, later = subject{}, later[:0]
		s.deferred.Store(tx, &later)
		defer s.deferred.Delete(tx)
		return fn(tx, a, &sub)
	})
	if err == nil && len(later) == 0 && countsOnly[action] && s.auditAfter(ctx, a, action, sub) {
		return nil
	}
	if err == nil {
		err = s.db.TransactForRead(ctx, func(tx *store.Tx) error {
			for _, f := range later {
				if err := f(tx); err != nil {
					return err
				}
			}
			return s.appendEntries(ctx, tx, a.Username, action, sub, audit.Allowed)
		})
		if err == nil {
			return nil
		}
	}
	outcome := audit.Failed
	if isDenied(err) {
		outcome = audit.Denied
	}
	if aerr := s.db.TransactForRead(ctx, func(tx *store.Tx) error {
		return s.appendEntries(ctx, tx, a.Username, action, sub, outcome)
	}); aerr != nil {
		slog.ErrorContext(ctx, "audit of a refused attempt failed", "action", action, "error", aerr)
	}
	return err
}

// countsOnly are the read actions whose answer is counts and nothing of
// any patient: the figures. The audit log is of every read and write of
// patient data (PRODUCT.md, capability 13), and these reads are logged
// too, but their readers do not wait for the entry's commit (auditAfter):
// beside 8 clients writing follow-ups on SQLite, that commit was 3-4 ms of
// a community's 6 ms figures at the median and most of its 24-27 ms at
// p99, queued with the writes for the one writer (issue 16, items 1 and
// 7). A read of a record, a list of patients (figures.patients) or an
// export waits for its entry, as before.
var countsOnly = map[string]bool{
	"figures.read": true, "figures.dashboard": true, "figures.community.read": true,
	"figures.referrals": true, "figures.screenings": true,
}

// maxAuditAfter bounds the audit entries written after their reads were
// answered; beyond it a reader waits for its own, so that a burst of reads
// cannot pile up unwritten entries.
const maxAuditAfter = 64

// auditAfter appends the audit entry of an allowed read of counts
// (countsOnly) in the background, after the reader has been answered,
// and reports whether it did; false (too many being written) leaves the
// entry to the caller. It is committed within a writer's group on SQLite;
// a crash of the server in between loses that entry, which held no patient
// data. A failure is logged (the action, not its subject).
func (s *Service) auditAfter(ctx context.Context, a *Actor, action string, sub subject) bool {
	select {
	case s.afterSlots <- struct{}{}:
	default:
		return false
	}
	s.after.Add(1)
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer func() {
			<-s.afterSlots
			s.after.Done()
		}()
		if err := s.db.TransactForRead(ctx, func(tx *store.Tx) error {
			return s.appendEntries(ctx, tx, a.Username, action, sub, audit.Allowed)
		}); err != nil {
			slog.ErrorContext(ctx, "audit of a figures read failed", "action", action, "error", err)
		}
	}()
	return true
}

// Drain waits for the audit entries still being written after their reads
// were answered (auditAfter). The server calls it once it has stopped
// serving, before the database is closed.
func (s *Service) Drain() { s.after.Wait() }

// deferredFor returns, for readAct's read-only tx, a function that queues
// a write for the audit entry's transaction; for any other tx nil (write
// at once).
func (s *Service) deferredFor(tx *store.Tx) func(func(*store.Tx) error) {
	v, ok := s.deferred.Load(tx)
	if !ok {
		return nil
	}
	later := v.(*[]func(*store.Tx) error)
	return func(f func(*store.Tx) error) { *later = append(*later, f) }
}

// Freshness says how current the data of a read is: AsOf is the time of
// the data (on a standby, the commit time of the last transaction it
// replayed) and Standby says it came from the read pool's standby, which
// may lag the primary. Pages and API answers show it.
type Freshness struct {
	AsOf    time.Time `json:"as_of"`
	Standby bool      `json:"standby"`
}

// actStale is act for reads that may lag the caller's own writes: figures,
// exports, searches. With a read pool (store.OpenStandby) fn runs in a
// read-only transaction on the standby, and the audit entry is then
// appended on the primary before anything is returned: a read whose entry
// could not be written is not served (a read of counts: after it,
// auditAfter). Without one it is readAct.
func (s *Service) actStale(ctx context.Context, action string, fn func(tx *store.Tx, a *Actor, sub *subject) error) (Freshness, error) {
	if !s.db.HasStandby() {
		f := Freshness{AsOf: time.Now().UTC().Truncate(time.Second)}
		return f, s.readAct(ctx, action, fn)
	}
	a := ActorFrom(ctx)
	if a == nil {
		return Freshness{}, errUnauthenticated
	}
	var sub subject
	sf, err := s.db.ReadStale(ctx, func(tx *store.Tx) error {
		sub = subject{}
		return fn(tx, a, &sub)
	})
	outcome := audit.Allowed
	switch {
	case isDenied(err):
		outcome = audit.Denied
	case err != nil:
		outcome = audit.Failed
	}
	if err == nil && countsOnly[action] && s.auditAfter(ctx, a, action, sub) {
		return Freshness{AsOf: sf.AsOf, Standby: sf.Standby}, nil
	}
	aerr := s.db.TransactForRead(ctx, func(tx *store.Tx) error {
		return s.appendEntries(ctx, tx, a.Username, action, sub, outcome)
	})
	if err != nil {
		if aerr != nil {
			slog.ErrorContext(ctx, "audit of a refused attempt failed", "action", action, "error", aerr)
		}
		return Freshness{}, unavailable(err)
	}
	if aerr != nil {
		return Freshness{}, unavailable(aerr)
	}
	return Freshness{AsOf: sf.AsOf, Standby: sf.Standby}, nil
}

func (s *Service) entry(ctx context.Context, actor, action string, sub subject, o audit.Outcome) *audit.Entry {
	r := RequestFrom(ctx)
	return &audit.Entry{Actor: actor, Action: action, SubjectType: sub.Type, SubjectID: sub.ID,
		OrgUnit: sub.Unit, OrgPath: sub.Path, Outcome: o, ClientAddr: r.ClientAddr, RequestID: r.RequestID,
		Detail: sub.Detail}
}

// Page asks for one page of a list: Token is the next_page_token of the
// page before (empty for the first) and Limit the page size.
type Page struct {
	Token string
	Limit int
}

// MaxLimit is the largest page a list returns.
const MaxLimit = 200

// DefaultLimit is the page size when none is asked for.
const DefaultLimit = 50

// limit returns the page size to use, or an Invalid error.
func (p Page) limit() (int, error) {
	switch {
	case p.Limit == 0:
		return DefaultLimit, nil
	case p.Limit < 1 || p.Limit > MaxLimit:
		return 0, invalid("limit", "must be between 1 and "+strconv.Itoa(MaxLimit))
	}
	return p.Limit, nil
}

// after decodes the page token: the sort key of the last row already shown.
func (p Page) after() (string, error) {
	if p.Token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Token)
	if err != nil || len(b) == 0 {
		return "", invalid("page_token", "is not a token this server gave out")
	}
	return string(b), nil
}

// cut trims rows, fetched with limit+1, to one page and returns the token
// for the page after it: the sort key of its last row, or "" when there is
// nothing after it.
func cut[T any](rows []T, limit int, key func(T) string) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, base64.RawURLEncoding.EncodeToString([]byte(key(rows[limit-1])))
}

// cursor is where a page starts: after the row whose sort key is key, id.
type cursor struct {
	set bool // false on the first page
	key string
	id  int64
}

// start checks the page size and decodes the token into the cursor of a
// list sorted by a text and an id, whose tokens join them with sep.
func (p Page) start(sep string) (int, cursor, error) {
	limit, err := p.limit()
	if err != nil {
		return 0, cursor{}, err
	}
	after, err := p.after()
	if err != nil {
		return 0, cursor{}, err
	}
	key, id, err := splitKey(after, sep)
	return limit, cursor{set: after != "", key: key, id: id}, err
}

// splitKey splits a page token's key made of a text and an id joined by
// sep; an empty key (the first page) gives "", 0.
func splitKey(key, sep string) (string, int64, error) {
	if key == "" {
		return "", 0, nil
	}
	text, id, ok := strings.Cut(key, sep)
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil {
		return "", 0, invalid("page_token", "is not a token this server gave out")
	}
	return text, n, nil
}

// ParseDate parses a YYYY-MM-DD date, refusing impossible ones such as 2026-02-30.
func ParseDate(s string) (time.Time, bool) {
	t, err := time.Parse(store.DateLayout, s)
	return t, err == nil
}

// SetDrugs sets the drug names the follow-up form suggests.
func (s *Service) SetDrugs(d []catalog.Drug) { s.drugs = d }

// Drugs returns the drug names the follow-up form suggests (any other name
// may be typed).
func (s *Service) Drugs() []catalog.Drug { return s.drugs }
