// Package audit keeps the append-only, tamper-evident audit log.
//
// # Design: append now, seal after commit
//
// Before issue 16 every audited transaction, reads included, updated one
// head row to chain its entry to the one before; that row serialised all of
// Kith. Now the work is split in two:
//
//   - Append, in the business transaction, only inserts the entry. Its seq
//     comes from a sequence (the rowid on SQLite) and, on PostgreSQL, the
//     row also records the writer's transaction id (xid). No row is shared
//     between transactions, so an audited read waits for nobody and nobody
//     waits for it, and the entry commits or rolls back with the change it
//     records: nothing acknowledged is lost.
//   - Seal, run by one sealer at a time (the server runs it every second and
//     on shutdown; commands that write run it before they exit), takes the
//     committed entries that have no seal yet, in seq order, and chains them
//     onto the head in its own transaction: each gets the next position pos
//     and hash(pos) = SHA-256(hash(pos-1) ‖ canonical encoding of the
//     entry) in audit_seals; audit_seal_state holds the head (last pos and
//     hash). The chain's order is the order of sealing, which is seq order
//     within a batch but may put an entry whose transaction committed late
//     after entries with a higher seq. That is deliberate: the sealer never
//     waits for a slow transaction and never skips one.
//
// # Never skipping an entry
//
// On PostgreSQL a sequence number is taken when the row is inserted but the
// row becomes visible at commit, so a lower seq can appear after a higher
// one, and a rolled-back transaction leaves a gap for ever. The sealer
// therefore does not look for "the entries after the last sealed seq".
// It runs in one REPEATABLE READ snapshot S and seals every visible entry
// that has no seal and whose xid is at least the watermark low_xid, then
// sets low_xid to xmin(S), the oldest transaction still running when S was
// taken. Claim: after each run, every committed entry either has a seal or
// has xid >= low_xid. It holds at the start (the migration sealed every old
// entry). Suppose it holds before a run with snapshot S. An entry visible in
// S with no seal has xid >= the old low_xid, so the run seals it. An entry
// not visible in S was written by a transaction that had not committed when
// S was taken, so its xid is not below xmin(S) (every transaction below
// xmin(S) had ended). So every entry the next run can see without a seal
// has xid >= the new low_xid, and that run finds it. A gap left by a
// rollback is never waited for: there is no row to seal. Two sealers (two
// servers) exclude each other: each locks the head row FOR UPDATE, and
// REPEATABLE READ makes the second fail with a serialisation error and
// retry on a fresh snapshot rather than seal the same entries twice (the
// seals' UNIQUE (seq) would refuse that anyway). On SQLite there is one
// writer, so entries commit in seq order and the watermark is the last
// sealed seq.
//
// # Tamper evidence
//
// Triggers refuse UPDATE, DELETE and TRUNCATE on audit_log and audit_seals.
// Someone who bypasses them (disables the triggers, edits the file) is found
// by Verify, which walks the seals in position order and recomputes every
// hash from the entry it names: a changed entry (its encoding includes its
// seq, so moving it to another seq is a change too) or a changed seal no
// longer matches its hash; a removed entry leaves a seal without an entry;
// a removed seal leaves a gap in the positions; a reordering changes the
// hash inputs; a removed tail no longer reaches the head in
// audit_seal_state. Forging a consistent chain after a change means
// recomputing every later hash and the head, which the hash chain alone
// cannot prevent for someone with full write access; the sealer therefore
// logs the head (position and hash) once a minute, so that a copy kept
// outside the database (the server's log) pins it.
//
// The window: an entry is protected only by the triggers from its commit
// until it is sealed, that is, for at most the sealing interval (a second)
// after its transaction commits, or until a server next runs the sealer if
// none is running. Verify counts such unsealed entries and reports them; it
// cannot tell whether an unsealed entry was removed before it was sealed.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"kith/internal/store"
)

// Outcome says how an attempt ended.
type Outcome string

// The outcomes of an attempt.
const (
	Allowed Outcome = "allowed"
	Denied  Outcome = "denied"
	Failed  Outcome = "failed"
)

// Entry is one line of the audit log. It holds no personal data beyond the
// acting user's username and the subject's id.
type Entry struct {
	Seq         int64     `json:"seq"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Action      string    `json:"action"`
	SubjectType string    `json:"subject_type"`
	SubjectID   string    `json:"subject_id"`
	OrgUnit     string    `json:"org_unit"`
	OrgPath     string    `json:"org_path"`
	Outcome     Outcome   `json:"outcome"`
	ClientAddr  string    `json:"client_addr"`
	RequestID   string    `json:"request_id"`
	Detail      string    `json:"detail"`
	// Pos, PrevHash and Hash are the entry's place in the chain, filled in
	// once it is sealed (zero and empty until then).
	Pos      int64  `json:"pos"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
	// ActorName is the acting user's full name, as List finds it; it is
	// not part of the entry or its hash (a user may be renamed).
	ActorName string `json:"actor_name,omitempty"`
	// SubjectName is, where the subject is a user, their full name, found
	// and kept as ActorName is, so the log names people, not usernames.
	SubjectName string `json:"subject_name,omitempty"`
	// OrgUnitName is the name of the unit, found as ActorName is.
	OrgUnitName string `json:"org_unit_name,omitempty"`
}

// canonical is the encoding that is hashed: the fields in a fixed order as
// a JSON array, the time in store.TimeLayout.
func (e *Entry) canonical() []byte {
	b, _ := json.Marshal([]any{e.Seq, store.FormatTime(e.At), e.Actor, e.Action, e.SubjectType, e.SubjectID,
		e.OrgUnit, e.OrgPath, string(e.Outcome), e.ClientAddr, e.RequestID, e.Detail})
	return b
}

// chain returns SHA-256(prev ‖ canonical encoding of e), hex-encoded.
func chain(prev string, e *Entry) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(e.canonical())
	return hex.EncodeToString(h.Sum(nil))
}

// Append adds e to the log inside tx, at the transaction's time, so the entry
// commits or rolls back with the change it records. It fills in At; the
// entry's Seq is given by the database, and the entry is chained later by
// Seal. It locks no row that other transactions touch, and on PostgreSQL
// goes with the transaction's next statement or its commit (Tx.Later).
func Append(ctx context.Context, tx *store.Tx, e *Entry) error {
	e.At = tx.Now()
	if err := tx.Later(ctx, `INSERT INTO audit_log (at, actor, action, subject_type, subject_id, org_unit,
		org_path, outcome, client_addr, request_id, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')`,
		store.FormatTime(e.At), e.Actor, e.Action, e.SubjectType, e.SubjectID, e.OrgUnit, e.OrgPath,
		string(e.Outcome), e.ClientAddr, e.RequestID, e.Detail); err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// unsealedPG lists the entries a sealer chains on PostgreSQL: those of
// transactions from low_xid on that have no seal yet. Each candidate looks
// up its own seal by index, whatever the statistics. As NOT EXISTS, on a
// log without statistics (a new year's partition before it is analysed, or
// a server without autovacuum) PostgreSQL guessed a third of the log for
// the range of xid and hashed every seal there is at each run, once a
// second: 44 ms beside 8 writers on 33,000 entries, against 2 ms now, and
// growing with the log (TestSealerReadsOnlyRecent). The upper bound is
// the snapshot's xmax, above every xid the snapshot can see, so it leaves
// out nothing: it is there for the statement's generic plan, which
// PostgreSQL takes for a kept statement after five runs. For an open range
// of xid it guesses a third of the log, and walked the year's partition in
// seq order for the LIMIT (27 ms a run, each second, on 22,609 entries,
// and growing with the year); for a closed one it guesses a few rows and
// reads the xid index (0.4 ms).
const unsealedPG = `SELECT ` + columns + ` FROM audit_log l WHERE l.xid >= ?::bigint::text::xid8
	AND l.xid < ?::bigint::text::xid8
	AND (SELECT s.seq FROM audit_seals s WHERE s.seq = l.seq) IS NULL ORDER BY l.seq LIMIT ?`

// sealBatch is the most entries one sealing transaction chains.
const sealBatch = 2000

// Head is the end of the sealed chain.
type Head struct {
	Pos      int64
	Hash     string
	SealedAt time.Time
}

// Seal chains every committed entry that has no seal yet and returns how
// many it sealed. Several callers may run it at once: on PostgreSQL one
// that finds another sealer at work returns at once, leaving the work to
// it; on SQLite they take turns at the single writer.
func Seal(ctx context.Context, db *store.DB) (int, error) {
	total := 0
	for {
		n, err := sealOnce(ctx, db)
		total += n
		if err != nil || n < sealBatch {
			return total, err
		}
	}
}

func sealOnce(ctx context.Context, db *store.DB) (int, error) {
	var sealed int
	err := db.TransactSnapshot(ctx, func(tx *store.Tx) error {
		sealed = 0
		var head Head
		var low, xmin, xmax int64
		q := `SELECT pos, hash, low_xid, 0, 0 FROM audit_seal_state WHERE id = 1`
		if tx.Engine() == store.Postgres {
			// Another sealer at work (another server) will seal what
			// this one would: leave it to it rather than queue.
			var got bool
			if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('kith.audit.seal'))`).Scan(&got); err != nil || !got {
				return err
			}
			// xmin is the oldest transaction still running when the
			// transaction's snapshot was taken (by the statement above).
			// Should a sealer have committed between that snapshot and
			// the lock, FOR UPDATE fails with a serialisation error and
			// the whole run is retried on a fresh snapshot. xmax bounds
			// the xids the snapshot sees (unsealedPG).
			q = `SELECT pos, hash, low_xid, pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
				pg_snapshot_xmax(pg_current_snapshot())::text::bigint FROM audit_seal_state WHERE id = 1 FOR UPDATE`
		}
		if err := tx.QueryRow(ctx, q).Scan(&head.Pos, &head.Hash, &low, &xmin, &xmax); err != nil {
			return fmt.Errorf("audit: seal state: %w", err)
		}
		q, args := `SELECT `+columns+` FROM audit_log l WHERE l.seq > ? ORDER BY l.seq LIMIT ?`, []any{low, sealBatch}
		if tx.Engine() == store.Postgres {
			q, args = unsealedPG, []any{low, xmax, sealBatch}
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("audit: unsealed: %w", err)
		}
		var batch []Entry
		for rows.Next() {
			e, err := scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		newLow := low
		switch {
		case tx.Engine() == store.SQLite && len(batch) > 0:
			newLow = batch[len(batch)-1].Seq
		case tx.Engine() == store.Postgres && len(batch) < sealBatch:
			// Every visible entry is now sealed (see the package doc).
			newLow = max(low, xmin)
		}
		if len(batch) == 0 && newLow == low {
			return nil
		}
		for i := range batch {
			batch[i].Pos = head.Pos + 1
			batch[i].Hash = chain(head.Hash, &batch[i])
			head.Pos, head.Hash = batch[i].Pos, batch[i].Hash
		}
		if err := insertSeals(ctx, tx, batch); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE audit_seal_state SET pos = ?, hash = ?, low_xid = ?, sealed_at = ? WHERE id = 1`,
			head.Pos, head.Hash, newLow, store.FormatTime(tx.Now())); err != nil {
			return fmt.Errorf("audit: seal state: %w", err)
		}
		sealed = len(batch)
		return nil
	})
	return sealed, err
}

// insertSeals writes the seals of batch, a few hundred rows a statement.
func insertSeals(ctx context.Context, tx *store.Tx, batch []Entry) error {
	const chunk = 300
	for len(batch) > 0 {
		n := min(chunk, len(batch))
		q := `INSERT INTO audit_seals (pos, seq, hash) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", ")
		args := make([]any, 0, 3*n)
		for _, e := range batch[:n] {
			args = append(args, e.Pos, e.Seq, e.Hash)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("audit: seal: %w", err)
		}
		batch = batch[n:]
	}
	return nil
}

// CurrentHead returns the end of the sealed chain.
func CurrentHead(ctx context.Context, db *store.DB) (Head, error) {
	var h Head
	var at string
	err := db.QueryRow(ctx, `SELECT pos, hash, sealed_at FROM audit_seal_state WHERE id = 1`).Scan(&h.Pos, &h.Hash, &at)
	h.SealedAt = store.MustTime(at)
	return h, err
}

// BrokenError names the first place at which the chain no longer holds:
// the entry's seq (0 when the entry itself is gone or unknown) and its
// position in the chain.
type BrokenError struct {
	Seq    int64
	Pos    int64
	Reason string
}

func (e *BrokenError) Error() string {
	if e.Seq == 0 {
		return fmt.Sprintf("audit chain broken at position %d: %s", e.Pos, e.Reason)
	}
	return fmt.Sprintf("audit chain broken at entry %d (position %d): %s", e.Seq, e.Pos, e.Reason)
}

const columns = `l.seq, l.at, l.actor, l.action, l.subject_type, l.subject_id, l.org_unit, l.org_path, l.outcome,
	l.client_addr, l.request_id, l.detail`

func scan(sc interface{ Scan(...any) error }, extra ...any) (Entry, error) {
	var e Entry
	var at, outcome string
	err := sc.Scan(append([]any{&e.Seq, &at, &e.Actor, &e.Action, &e.SubjectType, &e.SubjectID, &e.OrgUnit, &e.OrgPath,
		&outcome, &e.ClientAddr, &e.RequestID, &e.Detail}, extra...)...)
	e.At = store.MustTime(at)
	e.Outcome = Outcome(outcome)
	return e, err
}

// Report is what Check found.
type Report struct {
	Sealed   int64 // entries verified in the chain
	Unsealed int64 // committed entries not yet sealed, protected only by the triggers
	Head     Head
}

// Verify checks the chain (see Check) and returns the number of sealed
// entries verified.
func Verify(ctx context.Context, db *store.DB) (int64, error) {
	r, err := Check(ctx, db)
	return r.Sealed, err
}

// Check walks the seals in position order, recomputing each hash from the
// entry it names, and returns a *BrokenError at the first place that does
// not hold: a changed entry or seal, a removed entry or seal, a reordering,
// or a missing tail. It also counts the entries not sealed yet. progress, if
// not nil, is called now and then with the entries verified so far.
func Check(ctx context.Context, db *store.DB, progress ...func(done int64)) (Report, error) {
	var r Report
	var err error
	if r.Head, err = CurrentHead(ctx, db); err != nil {
		return r, err
	}
	rows, err := db.Query(ctx, `SELECT s.pos, s.seq, s.hash, l.seq IS NOT NULL, COALESCE(l.at, ''), COALESCE(l.actor, ''),
		COALESCE(l.action, ''), COALESCE(l.subject_type, ''), COALESCE(l.subject_id, ''), COALESCE(l.org_unit, ''),
		COALESCE(l.org_path, ''), COALESCE(l.outcome, ''), COALESCE(l.client_addr, ''), COALESCE(l.request_id, ''),
		COALESCE(l.detail, '') FROM audit_seals s LEFT JOIN audit_log l ON l.seq = s.seq ORDER BY s.pos`)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	prev := ""
	for rows.Next() {
		var e Entry
		var at, outcome string
		var present bool
		if err := rows.Scan(&e.Pos, &e.Seq, &e.Hash, &present, &at, &e.Actor, &e.Action, &e.SubjectType, &e.SubjectID,
			&e.OrgUnit, &e.OrgPath, &outcome, &e.ClientAddr, &e.RequestID, &e.Detail); err != nil {
			return r, err
		}
		e.At, e.Outcome = store.MustTime(at), Outcome(outcome)
		switch {
		case e.Pos != r.Sealed+1:
			return r, &BrokenError{Pos: r.Sealed + 1, Reason: fmt.Sprintf("seal missing (next position is %d)", e.Pos)}
		case !present:
			return r, &BrokenError{Seq: e.Seq, Pos: e.Pos, Reason: "entry removed"}
		case chain(prev, &e) != e.Hash:
			return r, &BrokenError{Seq: e.Seq, Pos: e.Pos, Reason: "contents do not match the hash"}
		}
		prev = e.Hash
		r.Sealed++
		if len(progress) > 0 && r.Sealed%10_000 == 0 {
			progress[0](r.Sealed)
		}
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	if r.Head.Pos != r.Sealed || r.Head.Hash != prev {
		return r, &BrokenError{Pos: r.Sealed + 1,
			Reason: fmt.Sprintf("chain ends at position %d but the head says %d", r.Sealed, r.Head.Pos)}
	}
	err = db.QueryRow(ctx, `SELECT count(*) FROM audit_log l WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.seq = l.seq)`).
		Scan(&r.Unsealed)
	return r, err
}

// Filter selects audit entries. Zero fields match everything. PathPrefix
// limits entries to an org unit and everything beneath it.
type Filter struct {
	SubjectID string
	// Kind keeps the actions of one kind, the part before the dot:
	// "patient" keeps patient.read, patient.update and the rest.
	Kind string
	// ChangesOnly keeps the writes: it leaves out the reads, lists,
	// searches and counts (NotChanges) and the sign-ins.
	ChangesOnly bool
	Actor       string
	From, To    time.Time // To is exclusive
	PathPrefix  string
	BeforeSeq   int64 // keyset: entries older than this
	Limit       int
	// SubjectType, with SubjectID, selects the entries about one record
	// (such as one patient's, for their access report).
	SubjectType string
}

// Kinds are the kinds of action, the part of an action's name before the
// dot, as the audit log's filter offers them.
var Kinds = []string{"patient", "followup", "emergency", "assessment", "alert", "contact", "worklist", "figures",
	"user", "unit", "auth", "audit", "break_glass", "account", "session", "announcement", "service", "article", "team", "plan", "conference",
	"referral", "crisis", "registry", "export"}

// NotChanges are the actions that change nothing: reads, lists, searches,
// counts and sign-ins, which Filter.ChangesOnly leaves out.
var NotChanges = []string{"alert.list", "assessment.list", "audit.read", "auth.login", "contact.list",
	"figures.dashboard", "figures.patients", "figures.read", "figures.screenings", "followup.list",
	"patient.read", "patient.search", "patient.timeline", "worklist.count", "worklist.read",
	"patient.access_report", "break_glass.list", "followup.read", "assessment.read", "alert.read",
	"team.read", "team.my_patients", "team.my_work", "plan.read", "plan.list", "plan.my_interventions", "conference.list", "conference.my_decisions",
	"referral.list", "referral.read", "crisis.list", "crisis.read", "figures.referrals",
	"registry.import_check", "export.page", "export.download", "patient.export"}

// IsChange reports whether an action writes (is not one of NotChanges).
func IsChange(action string) bool { return !slices.Contains(NotChanges, action) }

// List returns entries matching f, newest first, each with its place in
// the chain when sealed and its actor's full name where the actor is a user.
func List(ctx context.Context, tx *store.Tx, f Filter) ([]Entry, error) {
	q := `SELECT ` + columns + `, COALESCE(s.pos, 0), COALESCE(s.hash, ''), COALESCE(p.hash, ''),
		COALESCE((SELECT u.full_name FROM users u WHERE u.username = l.actor), ''),
		COALESCE((SELECT u.full_name FROM users u WHERE l.subject_type = 'user' AND u.username = l.subject_id), ''),
		COALESCE((SELECT o.name FROM org_units o WHERE o.code = l.org_unit), '')
		FROM audit_log l LEFT JOIN audit_seals s ON s.seq = l.seq LEFT JOIN audit_seals p ON p.pos = s.pos - 1
		WHERE 1=1`
	var args []any
	if f.Kind != "" {
		// A range on the text rather than LIKE: "patient." up to "patient/".
		q += ` AND l.action >= ? AND l.action < ?`
		args = append(args, f.Kind+".", f.Kind+"/")
	}
	if f.ChangesOnly {
		q += ` AND l.action NOT IN (?` + strings.Repeat(", ?", len(NotChanges)-1) + `)`
		for _, a := range NotChanges {
			args = append(args, a)
		}
	}
	if f.SubjectID != "" {
		q += ` AND l.subject_id = ?`
		args = append(args, f.SubjectID)
	}
	if f.SubjectType != "" {
		q += ` AND l.subject_type = ?`
		args = append(args, f.SubjectType)
	}
	if f.Actor != "" {
		q += ` AND l.actor = ?`
		args = append(args, f.Actor)
	}
	if !f.From.IsZero() {
		q += ` AND l.at >= ?`
		args = append(args, store.FormatTime(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND l.at < ?`
		args = append(args, store.FormatTime(f.To))
	}
	if f.PathPrefix != "" {
		lo, hi := store.Beneath(f.PathPrefix)
		q += ` AND l.org_path >= ? AND l.org_path < ?`
		args = append(args, lo, hi)
	}
	if f.BeforeSeq > 0 {
		q += ` AND l.seq < ?`
		args = append(args, f.BeforeSeq)
	}
	q += ` ORDER BY l.seq DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var pos int64
		var hash, prev, name, subject, unit string
		if e, err = scan(rows, &pos, &hash, &prev, &name, &subject, &unit); err != nil {
			return nil, err
		}
		e.Pos, e.Hash, e.PrevHash, e.ActorName, e.SubjectName, e.OrgUnitName = pos, hash, prev, name, subject, unit
		out = append(out, e)
	}
	return out, rows.Err()
}

// RunSealer seals every interval until ctx ends, and logs the head of the
// chain once a minute, so that a copy of it lives outside the database.
// The caller seals once more after its last write (on shutdown).
func RunSealer(ctx context.Context, db *store.DB, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var logged time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := Seal(ctx, db); err != nil {
			if ctx.Err() == nil {
				slog.Error("audit sealing failed", "error", err)
			}
			continue
		}
		if time.Since(logged) >= time.Minute {
			if h, err := CurrentHead(ctx, db); err == nil {
				slog.Info("audit chain head", "position", h.Pos, "hash", h.Hash)
				logged = time.Now()
			}
		}
	}
}
