// Package ratelimit limits how often one client address may use the public
// site's writes (self-screenings, contact requests). The addresses are held
// in memory only, for as long as they are being limited, and never stored
// or logged.
package ratelimit

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter allows each client address a burst of requests, refilled at a
// steady rate.
type Limiter struct {
	every time.Duration
	burst int

	mu      sync.Mutex
	clients map[string]*client
	swept   time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limiter that allows burst requests at once per address and
// one more every every.
func New(every time.Duration, burst int) *Limiter {
	return &Limiter{every: every, burst: burst, clients: map[string]*client{}}
}

// Allow reports whether the address may make a request now and, if not,
// how long it should wait.
func (l *Limiter) Allow(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	c := l.clients[addr]
	if c == nil {
		c = &client{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.clients[addr] = c
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets addresses whose bucket has refilled: they are limited no
// more, so there is no reason to remember them.
func (l *Limiter) sweep(now time.Time) {
	full := l.every * time.Duration(l.burst)
	if now.Sub(l.swept) < full {
		return
	}
	l.swept = now
	for addr, c := range l.clients {
		if now.Sub(c.seen) >= full {
			delete(l.clients, addr)
		}
	}
}

// Len returns how many addresses are remembered, for tests.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
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
