// Package jobs runs Kith's scheduled sweeps. Several servers may share one
// database; a lease in the database lets one of them run each sweep.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"time"

	"kith/internal/care"
	"kith/internal/store"
)

// Every is how often the sweeps run. They are idempotent, so running them
// hourly rather than once a night costs little and catches up after a
// restart.
const Every = time.Hour

// lease is how long one server keeps the sweeps to itself.
const lease = 50 * time.Minute

// Holder names this process for the lease.
func Holder() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

// RunOnce runs the sweeps if this holder gets the lease; it reports
// whether it ran them.
func RunOnce(ctx context.Context, db *store.DB, svc *care.Service, holder string) (bool, error) {
	now := time.Now()
	ok, err := db.TryLease(ctx, "sweeps", holder, now, now.Add(lease))
	if err != nil || !ok {
		return false, err
	}
	lost, err := svc.SweepLost(ctx)
	if err != nil {
		return true, err
	}
	sessions, err := svc.SweepSessions(ctx)
	if err != nil {
		return true, err
	}
	alerts, err := svc.SweepAlerts(ctx)
	if err != nil {
		return true, err
	}
	// The limiters delete full rate-limit buckets as requests come; this
	// catches those left when the public site falls quiet.
	buckets, err := db.SweepTokens(ctx, time.Now())
	if err != nil {
		return true, err
	}
	if err := svc.WarmFigures(ctx); err != nil {
		return true, err
	}
	if err := db.EnsurePartitions(ctx, now); err != nil {
		return true, err
	}
	keyed, err := svc.SweepSearchKeys(ctx)
	if err != nil {
		return true, err
	}
	exports, err := svc.SweepExports(ctx)
	if err != nil {
		return true, err
	}
	if err := db.Optimize(ctx); err != nil {
		return true, err
	}
	slog.Info("sweeps done", "marked_lost", lost, "sessions_removed", sessions, "search_keys_filled", keyed, "exports_removed", exports,
		"rate_limits_removed", buckets, "alerts_raised", alerts)
	return true, nil
}

// Run runs the sweeps now and then Every until ctx ends.
func Run(ctx context.Context, db *store.DB, svc *care.Service) {
	holder := Holder()
	t := time.NewTicker(Every)
	defer t.Stop()
	for {
		if _, err := RunOnce(ctx, db, svc, holder); err != nil && ctx.Err() == nil {
			slog.Error("sweeps failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// FiguresEvery is how often the figure snapshots that writes made stale are
// recounted in the background; readers meanwhile get the last snapshot with
// its time (care.Service.ServeStaleFigures).
const FiguresEvery = 10 * time.Second

// StaleFiguresFor is how long a reader may be served a stale snapshot before
// it recounts it itself (should no server be refreshing them).
const StaleFiguresFor = 5 * time.Minute

// RunFigures recounts stale figure snapshots every FiguresEvery until ctx
// ends, on one server at a time (a lease of its own, shorter than the
// sweeps'). The caller sets svc.ServeStaleFigures(StaleFiguresFor).
func RunFigures(ctx context.Context, db *store.DB, svc *care.Service) {
	holder := Holder()
	wait := FiguresEvery
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		start := time.Now()
		ok, err := db.TryLease(ctx, "figures", holder, start, start.Add(6*FiguresEvery))
		if err == nil && ok {
			err = svc.WarmFigures(ctx)
		}
		if err != nil && ctx.Err() == nil {
			slog.Error("figure refresh failed", "error", err)
		}
		// Recounting a busy district is real work: leave the database at
		// least three times as long as it took, so that the refresh never
		// takes more than a quarter of it.
		wait = max(FiguresEvery, 3*time.Since(start))
	}
}
