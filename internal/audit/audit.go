// Package audit keeps the append-only, hash-chained audit log. Each entry's
// hash is SHA-256 over the previous entry's hash followed by the entry's
// canonical encoding, so changing, removing or reordering any entry breaks
// the chain from that entry on, which Verify finds.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	PrevHash    string    `json:"prev_hash"`
	Hash        string    `json:"hash"`
	// ActorName is the acting user's full name, as List finds it; it is
	// not part of the entry or its hash (a user may be renamed).
	ActorName string `json:"actor_name,omitempty"`
}

// canonical is the encoding that is hashed: the fields in a fixed order as
// a JSON array, the time in store.TimeLayout.
func (e *Entry) canonical() []byte {
	b, _ := json.Marshal([]any{e.Seq, store.FormatTime(e.At), e.Actor, e.Action, e.SubjectType, e.SubjectID,
		e.OrgUnit, e.OrgPath, string(e.Outcome), e.ClientAddr, e.RequestID, e.Detail})
	return b
}

// computeHash returns SHA-256(prev hash ‖ canonical encoding), hex-encoded.
func (e *Entry) computeHash() string {
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(e.canonical())
	return hex.EncodeToString(h.Sum(nil))
}

// Append adds e to the log inside tx, at the transaction's time, so the entry
// commits or rolls back with the change it records. It fills in Seq, At,
// PrevHash and Hash.
func Append(ctx context.Context, tx *store.Tx, e *Entry) error {
	// Taking the head row serialises appends; do it last in a transaction
	// so that the lock is held briefly.
	if err := tx.QueryRow(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).
		Scan(&e.Seq, &e.PrevHash); err != nil {
		return fmt.Errorf("audit: head: %w", err)
	}
	e.At = tx.Now()
	e.Hash = e.computeHash()
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, action, subject_type, subject_id, org_unit,
		org_path, outcome, client_addr, request_id, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, store.FormatTime(e.At), e.Actor, e.Action, e.SubjectType, e.SubjectID, e.OrgUnit, e.OrgPath,
		string(e.Outcome), e.ClientAddr, e.RequestID, e.Detail, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET hash = ? WHERE id = 1`, e.Hash); err != nil {
		return fmt.Errorf("audit: head: %w", err)
	}
	return nil
}

// BrokenError names the first entry at which the chain no longer holds.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit chain broken at entry %d: %s", e.Seq, e.Reason)
}

const columns = `seq, at, actor, action, subject_type, subject_id, org_unit, org_path, outcome,
	client_addr, request_id, detail, prev_hash, hash`

func scan(sc interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var at, outcome string
	err := sc.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.SubjectType, &e.SubjectID, &e.OrgUnit, &e.OrgPath,
		&outcome, &e.ClientAddr, &e.RequestID, &e.Detail, &e.PrevHash, &e.Hash)
	e.At = store.MustTime(at)
	e.Outcome = Outcome(outcome)
	return e, err
}

// Verify recomputes the whole chain in order and returns the number of
// entries checked, or a *BrokenError naming the first entry that does not
// hold: a changed entry, a gap, a reordering, or a missing tail.
func Verify(ctx context.Context, db *store.DB) (int64, error) {
	rows, err := db.Query(ctx, `SELECT `+columns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	prev := ""
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return n, err
		}
		switch {
		case e.Seq != n+1:
			return n, &BrokenError{Seq: n + 1, Reason: fmt.Sprintf("entry missing (next entry is %d)", e.Seq)}
		case e.PrevHash != prev:
			return n, &BrokenError{Seq: e.Seq, Reason: "previous hash does not match the entry before"}
		case e.computeHash() != e.Hash:
			return n, &BrokenError{Seq: e.Seq, Reason: "contents do not match the hash"}
		}
		prev = e.Hash
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	var headSeq int64
	var headHash string
	if err := db.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		return n, err
	}
	if headSeq != n || headHash != prev {
		return n, &BrokenError{Seq: n + 1, Reason: fmt.Sprintf("log ends at %d but the head says %d", n, headSeq)}
	}
	return n, nil
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
	"user", "unit", "auth", "audit", "break_glass", "account", "session", "announcement"}

// NotChanges are the actions that change nothing: reads, lists, searches,
// counts and sign-ins, which Filter.ChangesOnly leaves out.
var NotChanges = []string{"alert.list", "assessment.list", "audit.read", "auth.login", "contact.list",
	"figures.dashboard", "figures.patients", "figures.read", "figures.screenings", "followup.list",
	"patient.read", "patient.search", "patient.timeline", "worklist.count", "worklist.read",
	"patient.access_report", "break_glass.list"}

// IsChange reports whether an action writes (is not one of NotChanges).
func IsChange(action string) bool { return !slices.Contains(NotChanges, action) }

// List returns entries matching f, newest first, each with its actor's
// full name where the actor is a user.
func List(ctx context.Context, tx *store.Tx, f Filter) ([]Entry, error) {
	q := `SELECT ` + columns + `, COALESCE((SELECT u.full_name FROM users u WHERE u.username = audit_log.actor), '')
		FROM audit_log WHERE 1=1`
	var args []any
	if f.Kind != "" {
		// A range on the text rather than LIKE: "patient." up to "patient/".
		q += ` AND action >= ? AND action < ?`
		args = append(args, f.Kind+".", f.Kind+"/")
	}
	if f.ChangesOnly {
		q += ` AND action NOT IN (?` + strings.Repeat(", ?", len(NotChanges)-1) + `)`
		for _, a := range NotChanges {
			args = append(args, a)
		}
	}
	if f.SubjectID != "" {
		q += ` AND subject_id = ?`
		args = append(args, f.SubjectID)
	}
	if f.SubjectType != "" {
		q += ` AND subject_type = ?`
		args = append(args, f.SubjectType)
	}
	if f.Actor != "" {
		q += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ?`
		args = append(args, store.FormatTime(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND at < ?`
		args = append(args, store.FormatTime(f.To))
	}
	if f.PathPrefix != "" {
		lo, hi := store.Beneath(f.PathPrefix)
		q += ` AND org_path >= ? AND org_path < ?`
		args = append(args, lo, hi)
	}
	if f.BeforeSeq > 0 {
		q += ` AND seq < ?`
		args = append(args, f.BeforeSeq)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at, outcome string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.SubjectType, &e.SubjectID, &e.OrgUnit, &e.OrgPath,
			&outcome, &e.ClientAddr, &e.RequestID, &e.Detail, &e.PrevHash, &e.Hash, &e.ActorName); err != nil {
			return nil, err
		}
		e.At, e.Outcome = store.MustTime(at), Outcome(outcome)
		out = append(out, e)
	}
	return out, rows.Err()
}
