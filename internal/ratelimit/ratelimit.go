// Package ratelimit limits how often one client address may use the public
// site's writes (self-screenings, contact requests). The buckets live in the
// database (table rate_limits), so that every server sharing it enforces one
// limit: behind a round-robin proxy a per-server limit would multiply by the
// number of servers. The address is never stored: a bucket is keyed by a
// keyed hash of it (HMAC-SHA-256 under a key derived from the master key,
// so that the same address gives the same key on every server and nobody
// without the key can test an address against the table), and a bucket is
// deleted within a minute of being full again.
package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"kith/internal/store"
)

// sweepEvery is how often a limiter deletes full buckets.
const sweepEvery = time.Minute

// Limiter allows each client address a burst of requests, refilled at a
// steady rate, across every server on the database.
type Limiter struct {
	db     *store.DB
	bucket string
	every  time.Duration
	burst  int
	key    []byte

	mu    sync.Mutex
	swept time.Time
}

// New returns a limiter named bucket (its rows are apart from other
// limiters') that allows burst requests at once per address and one more
// every every; key keys the hash of the addresses.
func New(db *store.DB, bucket string, every time.Duration, burst int, key []byte) *Limiter {
	return &Limiter{db: db, bucket: bucket, every: every, burst: burst, key: key}
}

// Allow reports whether the address may make a request now and, if not,
// how long it should wait.
func (l *Limiter) Allow(ctx context.Context, addr string, now time.Time) (bool, time.Duration, error) {
	l.sweep(ctx, now)
	return l.db.TakeToken(ctx, l.bucket, l.hash(addr), l.every, l.burst, now)
}

// hash is the bucket's client key: the address hashed under the key.
func (l *Limiter) hash(addr string) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(addr))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// sweep deletes full buckets at most once every sweepEvery per server.
// A failure only delays the deletion, so it is logged, not returned.
func (l *Limiter) sweep(ctx context.Context, now time.Time) {
	l.mu.Lock()
	due := now.Sub(l.swept) >= sweepEvery
	if due {
		l.swept = now
	}
	l.mu.Unlock()
	if !due {
		return
	}
	if _, err := l.db.SweepTokens(ctx, now); err != nil {
		slog.Warn("rate limit sweep failed", "error", err)
	}
}

// Addr is the client address of a request as the limiter keys it: the
// host part of RemoteAddr.
func Addr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// RetryAfter formats a wait for the Retry-After header, in whole seconds.
func RetryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
