package ratelimit

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := New(time.Minute, 3)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.Allow("192.0.2.1", t0); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("192.0.2.1", t0)
	if ok || wait <= 0 || wait > time.Minute {
		t.Fatalf("4th request: ok=%v wait=%v, want refused with a wait up to a minute", ok, wait)
	}
	if ok, _ := l.Allow("192.0.2.2", t0); !ok {
		t.Error("another address was limited too")
	}
	if ok, _ := l.Allow("192.0.2.1", t0.Add(time.Minute)); !ok {
		t.Error("a request a minute later was refused")
	}
	// Once every bucket has refilled, the addresses are forgotten.
	l.Allow("192.0.2.3", t0.Add(time.Hour))
	if n := l.Len(); n != 1 {
		t.Errorf("remembers %d addresses after an hour, want 1 (the latest)", n)
	}
	if got := RetryAfter(1500 * time.Millisecond); got != "2" {
		t.Errorf("RetryAfter(1.5s) = %q, want 2", got)
	}
}
