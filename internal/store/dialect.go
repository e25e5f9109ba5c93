package store

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// This file holds every difference between the engines that the rest of the
// code must not know about.

// rebind turns ? placeholders into $1, $2, … for PostgreSQL. A ? inside a
// quoted string literal is left alone.
func rebind(e Engine, q string) string {
	if e != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var sq *sqlite.Error
	if errors.As(err, &sq) {
		return sq.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sq.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isRetryable reports whether a transaction failed only because it collided
// with another one and may simply be run again.
func isRetryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40001" || pg.Code == "40P01"
	}
	var sq *sqlite.Error
	if errors.As(err, &sq) {
		return sq.Code() == sqlite3.SQLITE_BUSY || sq.Code()&0xff == sqlite3.SQLITE_BUSY
	}
	return false
}

// Beneath returns the bounds lo <= path < hi of the paths at or beneath
// the org unit path p (which ends in "/"). A range, unlike LIKE, uses a
// plain index on both engines: every path beneath /D1/ starts with "/D1/",
// and "/" sorts just before "0", so none reaches "/D10".
func Beneath(p string) (lo, hi string) {
	if p == "" {
		return "", "\x7f"
	}
	return p, p[:len(p)-1] + "0"
}
