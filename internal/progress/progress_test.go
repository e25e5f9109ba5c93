package progress

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON log line: %q", l)
		}
		out = append(out, m)
	}
	return out
}

func TestLogLinesEveryFewSeconds(t *testing.T) {
	var buf bytes.Buffer
	c := &fakeClock{t: time.Date(2026, 11, 30, 21, 0, 0, 0, time.UTC)}
	b := newBar(&buf, "patients", 1000, c.now, 0)

	c.advance(time.Second)
	b.Add(100) // 1 s in: too soon for a line
	c.advance(4 * time.Second)
	b.Add(400) // 5 s in: 500 done at 100/s, 500 left → 5 s
	c.advance(2 * time.Second)
	b.Add(100) // 7 s in: 2 s after the last line, none
	c.advance(3 * time.Second)
	b.Add(150) // 10 s in: 750 done at 75/s, 250 left → 3.33 s
	c.advance(2 * time.Second)
	b.Add(250)
	b.Done() // 12 s in: 1000 at 83.3/s
	b.Done() // a second Done writes nothing

	got := lines(t, &buf)
	if len(got) != 3 {
		t.Fatalf("%d lines, want 2 progress lines and 1 done:\n%s", len(got), buf.String())
	}
	want := []map[string]any{
		{"msg": "progress", "task": "patients", "done": 500.0, "total": 1000.0, "percent": 50.0, "rate_per_s": 100.0, "left": "5s", "elapsed": "5s"},
		{"msg": "progress", "done": 750.0, "percent": 75.0, "rate_per_s": 75.0, "left": "3s", "elapsed": "10s"},
		{"msg": "done", "task": "patients", "done": 1000.0, "rate_per_s": 83.3, "elapsed": "12s"},
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v (%v)", i, k, got[i][k], v, got[i])
			}
		}
	}
	if got[0]["level"] != "INFO" {
		t.Errorf("level = %v", got[0]["level"])
	}
}

func TestUnknownTotalHasNoTimeLeft(t *testing.T) {
	var buf bytes.Buffer
	c := &fakeClock{t: time.Unix(0, 0)}
	b := newBar(&buf, "entries", 0, c.now, 0)
	c.advance(6 * time.Second)
	b.Add(300)
	got := lines(t, &buf)
	if len(got) != 1 || got[0]["rate_per_s"] != 50.0 || got[0]["left"] != nil || got[0]["percent"] != nil {
		t.Errorf("lines = %v, want one with a rate and no percent or time left", got)
	}
}

func TestTerminalBar(t *testing.T) {
	var buf bytes.Buffer
	c := &fakeClock{t: time.Unix(0, 0)}
	b := newBar(&buf, "patients", 1000, c.now, 60)
	c.advance(100 * time.Millisecond)
	b.Add(10) // redrawn at most every 200 ms
	if buf.Len() != 0 {
		t.Errorf("drawn too soon: %q", buf.String())
	}
	c.advance(4900 * time.Millisecond)
	b.Add(240) // 5 s: 250 at 50/s, 750 left → 15 s
	out := buf.String()
	for _, want := range []string{"\rpatients  25% [", "250/1000", "50/s", "15s left", "\x1b[K"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar %q lacks %q", out, want)
		}
	}
	if line := strings.TrimSuffix(strings.TrimPrefix(out, "\r"), "\x1b[K"); len(line) > 60 {
		t.Errorf("bar is %d columns on a 60-column terminal: %q", len(line), line)
	}
	buf.Reset()
	b.Add(750)
	b.Done()
	if out := buf.String(); !strings.Contains(out, "100% [") || !strings.Contains(out, "0s left") || !strings.HasSuffix(out, "\n") {
		t.Errorf("last bar = %q", out)
	}
}
