package store

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements on SQLite. The SQLite driver parses a query's text
// each time it runs one that was not prepared: at 8 clients posting
// follow-ups that was 29 % of the server's CPU (issue 16's profile). The
// PostgreSQL driver (pgx) keeps its own cache of prepared statements per
// connection; for SQLite each pool keeps one here.
//
// A query is prepared once it has been run twice (queries built with a
// varying number of placeholders pass once and are not kept), and only
// between transactions: a statement is prepared on the pool, and inside a
// transaction on the writer the pool's one connection is taken. Only Exec,
// QueryRow and QueryAll use the prepared statements. SQLite's statement
// has one cursor, so running a query again while its earlier rows are
// still being read would reset them under the reader: Exec leaves no rows
// open, a QueryRow's row is read at once, and QueryAll reads each query's
// rows to the end before the next, but Query's rows may be open for a
// loop that runs the same query inside it.

// maxStmts bounds the statements kept per pool.
const maxStmts = 512

type stmtCache struct {
	pool *sql.DB

	mu    sync.Mutex
	ready map[string]*sql.Stmt // nil: could not be prepared; run as text
	seen  map[string]bool      // run once
	due   []string             // run twice, to prepare
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, ready: map[string]*sql.Stmt{}, seen: map[string]bool{}}
}

// lookup returns the prepared statement of query, or nil when there is
// none yet; it notes the query as run.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.ready[query]; ok {
		return s
	}
	switch {
	case len(c.ready)+len(c.due) >= maxStmts:
	case c.seen[query]:
		delete(c.seen, query)
		c.due = append(c.due, query)
	default:
		if len(c.seen) >= 4*maxStmts { // one-off queries: forget them
			clear(c.seen)
		}
		c.seen[query] = true
	}
	return nil
}

// prepare prepares the queries run twice since the last call. The caller
// must hold no connection of the pool.
func (c *stmtCache) prepare(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	due := c.due
	c.due = nil
	c.mu.Unlock()
	for _, q := range due {
		s, err := c.pool.PrepareContext(ctx, q)
		if err != nil {
			s = nil // a query the engine cannot prepare alone; it runs as text
		}
		c.mu.Lock()
		c.ready[q] = s
		c.mu.Unlock()
	}
}

// close closes the prepared statements.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.ready {
		if s != nil {
			s.Close()
		}
		delete(c.ready, q)
	}
}
