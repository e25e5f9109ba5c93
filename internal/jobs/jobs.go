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
	if err := db.Optimize(ctx); err != nil {
		return true, err
	}
	slog.Info("sweeps done", "marked_lost", lost, "sessions_removed", sessions, "rate_limits_removed", buckets)
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
