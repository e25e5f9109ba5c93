package bench

import (
	"context"

	"kith/internal/store"
)

// Caveats lists what about the database server a reader of the figures
// should know. A PostgreSQL server without autovacuum (as the CI machine's
// is) keeps no statistics of its own: its tables have only those Kith
// gathers, and plans chosen on guesses can make a figure look worse than
// it would be on a server as run in production.
func Caveats(ctx context.Context, db *store.DB) ([]string, error) {
	if db.Engine() != store.Postgres {
		return nil, nil
	}
	var autovacuum string
	if err := db.QueryRow(ctx, `SHOW autovacuum`).Scan(&autovacuum); err != nil {
		return nil, err
	}
	if autovacuum == "off" {
		return []string{"note: this PostgreSQL server has autovacuum off; its tables have only the statistics Kith gathers"}, nil
	}
	return nil, nil
}
