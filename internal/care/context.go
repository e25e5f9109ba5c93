package care

import (
	"context"

	"kith/internal/auth"
	"kith/internal/store"
)

// Actor is the signed-in user on whose behalf the service acts.
type Actor struct {
	UserID   int64
	Username string
	FullName string
	Role     auth.Role
	UnitCode string // empty for a system administrator without a unit
	UnitName string
	UnitPath string // such as /D1/S1/; the actor's jurisdiction is this prefix
	Language string
	// Glass lists the patients whose record the actor may read under a live
	// break-the-glass grant; the service fills it in where it reads one.
	Glass []int64
	// Team lists the patients on whose care team the actor is, KeyWorker
	// those whose key worker they are; like Glass, the service fills them
	// in for the patient at hand (see teamGrant), so a removal takes effect
	// at the next request.
	Team      []int64
	KeyWorker []int64
	// Referred lists the patients whose record the actor may read because
	// a referral up to the actor's institution is open or closed less than
	// 30 days ago; the service fills it in where it reads one.
	Referred []int64
	// SessionID is the opaque id of the session or token the actor came
	// with, so that a list of sessions can mark the current one.
	SessionID string
	// TOTP says the account has a second factor enrolled; MustEnrol that its
	// role requires one and it has none yet: such an actor may do nothing
	// but enrol (Allow refuses everything else).
	TOTP      bool
	MustEnrol bool
	// check, for an actor taken from memory (ResolveToken), is what the
	// request's first statements verify.
	check *store.Check
}

// RequestInfo describes where a request came from, for the audit log.
type RequestInfo struct {
	ClientAddr string
	RequestID  string
	UserAgent  string // shown in the list of a person's sessions
}

type actorKey struct{}
type requestKey struct{}

// WithActor returns a context carrying the acting user.
func WithActor(ctx context.Context, a *Actor) context.Context {
	if a != nil && a.check != nil {
		// The actor came from memory: the context's transactions verify it.
		ctx = store.WithCheck(ctx, a.check)
	}
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the acting user, or nil.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

// WithRequest returns a context carrying the request's origin.
func WithRequest(ctx context.Context, r RequestInfo) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request's origin, if known.
func RequestFrom(ctx context.Context) RequestInfo {
	r, _ := ctx.Value(requestKey{}).(RequestInfo)
	return r
}

type freshnessKey struct{}

// WithFreshnessNote returns a context in which the reads that may come from
// a standby (figures, exports, searches) note how fresh their data was, and
// the note they write to: the oldest AsOf of the reads made with it, and
// whether any came from a standby. A handler shows it beside what it read.
func WithFreshnessNote(ctx context.Context) (context.Context, *Freshness) {
	f := &Freshness{}
	return context.WithValue(ctx, freshnessKey{}, f), f
}

// noteFreshness adds one read's freshness to the context's note, if any.
func noteFreshness(ctx context.Context, f Freshness) {
	n, _ := ctx.Value(freshnessKey{}).(*Freshness)
	if n == nil || f.AsOf.IsZero() { // no note asked for, or the read failed
		return
	}
	if n.AsOf.IsZero() || f.AsOf.Before(n.AsOf) {
		n.AsOf = f.AsOf
	}
	n.Standby = n.Standby || f.Standby
}
