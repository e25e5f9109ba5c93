// Package progress shows how far a long command has gone: a bar with the
// rate and the time left when it writes to a terminal, and a log line every
// few seconds otherwise (a service's log, a file, a pipe), so that a load of
// a million patients or the verification of a long audit log is never a
// silent wait.
//
//	bar := progress.New(os.Stderr, "patients", int64(n))
//	for … { …; bar.Add(batch) }
//	bar.Done()
//
// A Bar is safe for use by several goroutines.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Every is how often a Bar writes a log line when it is not on a terminal.
const Every = 5 * time.Second

// redraw is how often a Bar redraws itself on a terminal: often enough to
// look alive, seldom enough to cost nothing.
const redraw = 200 * time.Millisecond

// Bar counts the work done towards a total.
type Bar struct {
	w     io.Writer
	label string
	total int64 // 0 when unknown: no percentage and no time left
	now   func() time.Time
	log   *slog.Logger // nil on a terminal
	width int          // the terminal's columns

	mu    sync.Mutex
	done  int64
	start time.Time
	shown time.Time // when the bar was last drawn or logged
	ended bool
}

// New starts a Bar for total units of work labelled label. On a terminal
// it draws a bar on w; otherwise it writes JSON log lines to w (the format
// of Kith's own log) every Every.
func New(w io.Writer, label string, total int64) *Bar {
	width := 0
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		width = 80
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			width = cols
		}
	}
	return newBar(w, label, total, time.Now, width)
}

// newBar draws a bar width columns wide, or logs when width is 0.
func newBar(w io.Writer, label string, total int64, now func() time.Time, width int) *Bar {
	t := now()
	b := &Bar{w: w, label: label, total: max(total, 0), now: now, width: width, start: t, shown: t}
	if width == 0 {
		b.log = slog.New(slog.NewJSONHandler(w, nil))
	}
	return b
}

// Add counts n more units done.
func (b *Bar) Add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.ended {
		return
	}
	t := b.now()
	switch {
	case b.log == nil && t.Sub(b.shown) >= redraw:
		b.draw(t)
	case b.log != nil && t.Sub(b.shown) >= Every:
		st := b.stats(t)
		attrs := []any{"task", b.label, "done", b.done, "rate_per_s", round1(st.rate), "elapsed", st.elapsed.Round(time.Second).String()}
		if b.total > 0 {
			attrs = append(attrs, "total", b.total, "percent", round1(st.percent), "left", st.left.Round(time.Second).String())
		}
		b.log.Info("progress", attrs...)
	default:
		return
	}
	b.shown = t
}

// Done ends the Bar: on a terminal the bar is drawn a last time and the
// line ended; otherwise one line says how much was done and how fast.
func (b *Bar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	b.ended = true
	t := b.now()
	if b.log == nil {
		b.draw(t)
		fmt.Fprintln(b.w)
		return
	}
	st := b.stats(t)
	b.log.Info("done", "task", b.label, "done", b.done, "rate_per_s", round1(st.rate), "elapsed", st.elapsed.Round(time.Second).String())
}

// stats are a Bar's figures at a moment.
type stats struct {
	elapsed time.Duration
	rate    float64       // units a second since the start
	percent float64       // of the total
	left    time.Duration // at the rate so far
}

func (b *Bar) stats(t time.Time) stats {
	st := stats{elapsed: t.Sub(b.start)}
	if st.elapsed > 0 {
		st.rate = float64(b.done) / st.elapsed.Seconds()
	}
	if b.total > 0 {
		st.percent = 100 * float64(min(b.done, b.total)) / float64(b.total)
		if st.rate > 0 {
			st.left = time.Duration(float64(max(b.total-b.done, 0)) / st.rate * float64(time.Second))
		}
	}
	return st
}

// draw writes the bar over the current terminal line:
//
//	patients  41% [=========>              ] 451000/1100000  3120/s  3m28s left
func (b *Bar) draw(t time.Time) {
	st := b.stats(t)
	var tail string
	if b.total > 0 {
		tail = fmt.Sprintf(" %d/%d  %.0f/s  %s left", b.done, b.total, st.rate, st.left.Round(time.Second))
	} else {
		tail = fmt.Sprintf(" %d  %.0f/s  %s", b.done, st.rate, st.elapsed.Round(time.Second))
	}
	head := fmt.Sprintf("%s %3.0f%% ", b.label, st.percent)
	if b.total == 0 {
		head = b.label + " "
	}
	line := head + tail
	if room := b.width - len(head) - len(tail) - 3; b.total > 0 && room >= 10 {
		fill := int(float64(room) * st.percent / 100)
		bar := strings.Repeat("=", fill)
		if fill < room {
			bar += ">" + strings.Repeat(" ", room-fill-1)
		}
		line = head + "[" + bar + "]" + tail
	}
	// \r returns to the line's start; \x1b[K clears what a longer line left.
	fmt.Fprint(b.w, "\r"+line+"\x1b[K")
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
