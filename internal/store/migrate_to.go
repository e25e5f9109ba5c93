package store

import "context"

// MigrateTo applies the pending migrations up to and including version, for
// tests of a migration that moves data: fill the tables as they were, then
// migrate further.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	p, err := db.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
