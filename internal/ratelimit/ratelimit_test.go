package ratelimit_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kith/internal/ratelimit"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func TestLimiter(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := ratelimit.New(db, "test", time.Minute, 3, key)
		t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		for i := range 3 {
			if ok, _, err := l.Allow(ctx, "192.0.2.1", t0); !ok || err != nil {
				t.Fatalf("request %d of the burst refused: %v", i+1, err)
			}
		}
		ok, wait, err := l.Allow(ctx, "192.0.2.1", t0)
		if ok || err != nil || wait != time.Minute {
			t.Fatalf("4th request: ok=%v wait=%v err=%v, want refused with a wait of a minute", ok, wait, err)
		}
		if ok, _, _ := l.Allow(ctx, "192.0.2.1", t0.Add(30*time.Second)); ok {
			t.Error("a request half a minute later was allowed")
		}
		if ok, _, _ := l.Allow(ctx, "192.0.2.2", t0); !ok {
			t.Error("another address was limited too")
		}
		if ok, _, _ := ratelimit.New(db, "other", time.Minute, 3, key).Allow(ctx, "192.0.2.1", t0); !ok {
			t.Error("another limit was limited too")
		}
		if ok, _, _ := l.Allow(ctx, "192.0.2.1", t0.Add(time.Minute)); !ok {
			t.Error("a request a minute later was refused")
		}
		// The address itself is never stored.
		var clients string
		if err := db.QueryRow(ctx, `SELECT `+concat(db)+` FROM rate_limits`).Scan(&clients); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(clients, "192.0.2") {
			t.Errorf("rate_limits holds a client address: %q", clients)
		}
		// Once a bucket is full again its row goes (the limiter swept
		// the full ones a minute on; an hour on, all are full).
		if _, err := db.SweepTokens(ctx, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM rate_limits`).Scan(&left); err != nil || left != 0 {
			t.Errorf("%d buckets left after an hour (%v), want none", left, err)
		}
	})
}

func concat(db *store.DB) string {
	if db.Engine() == store.Postgres {
		return "string_agg(client, ',')"
	}
	return "group_concat(client, ',')"
}

// TestLimiterSharedAcrossServers: two limiters on one database (two
// servers) taking tokens at once for one address let exactly the burst
// through, not the burst on each.
func TestLimiterSharedAcrossServers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		servers := []*ratelimit.Limiter{ratelimit.New(db, "screening", time.Minute, 20, key),
			ratelimit.New(db, "screening", time.Minute, 20, key)}
		now := time.Now()
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := servers[i%2].Allow(ctx, "198.51.100.7", now)
				if err != nil {
					t.Error(err)
				}
				if ok {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := allowed.Load(); n != 20 {
			t.Errorf("%d of 40 requests allowed across two servers, want 20", n)
		}
	})
}
