package store

import (
	"context"
	"time"
)

// TakeToken takes one token from the rate-limit bucket (bucket, client),
// which holds burst tokens and gains one every every; it reports whether
// there was one and, if not, how long until there is. It is one statement,
// so servers sharing the database can neither both take the last token nor
// lose each other's. See migration 00012 for the representation (GCRA).
func (db *DB) TakeToken(ctx context.Context, bucket, client string, every time.Duration, burst int, now time.Time) (bool, time.Duration, error) {
	n := now.UnixMicro()
	e := every.Microseconds()
	// A request is allowed while the bucket's tat is at most this: taking
	// a token moves tat on by e, and it may not pass now + burst × e.
	maxTat := n + int64(burst)*e - e
	var tat int64
	var allowed int
	err := db.w.QueryRowContext(ctx, rebind(db.engine, `INSERT INTO rate_limits (bucket, client, tat, allowed) VALUES (?, ?, ?, 1)
		ON CONFLICT (bucket, client) DO UPDATE SET
			allowed = CASE WHEN rate_limits.tat <= ? THEN 1 ELSE 0 END,
			tat = CASE WHEN rate_limits.tat <= ? THEN `+greatest(db.engine)+`(rate_limits.tat, ?) + ? ELSE rate_limits.tat END
		RETURNING tat, allowed`), bucket, client, n+e, maxTat, maxTat, n, e).Scan(&tat, &allowed)
	if err != nil || allowed == 1 {
		return err == nil, 0, err
	}
	return false, time.Duration(tat-maxTat) * time.Microsecond, nil
}

// SweepTokens deletes the buckets that are full again at now: they limit
// nobody, and their client hashes need not be kept.
func (db *DB) SweepTokens(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, rebind(db.engine, `DELETE FROM rate_limits WHERE tat <= ?`), now.UnixMicro())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
