package store

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// Partitioned names the tables that PostgreSQL partitions by year, each with
// its partition key: a date or a time, as text that starts YYYY-MM-DD.
var Partitioned = []struct{ Table, Key string }{
	{"follow_ups", "date"},
	{"assessments", "taken_on"},
	{"audit_log", "at"}, // migration 00022
}

// PartitionsAhead is how many years past the current one have partitions
// before any row needs them.
const PartitionsAhead = 2

// EnsurePartitions creates the yearly partitions of the partitioned tables
// up to PartitionsAhead years after now's, and one for each year of the
// rows that reached the DEFAULT partition (back-dated or imported), moving
// them in (kith_year_partition, migration 00013). It runs at start-up and
// with the hourly sweeps; a year that has its partition costs one catalogue
// look-up, and the DEFAULT partition stays small. SQLite has no partitions.
func (db *DB) EnsurePartitions(ctx context.Context, now time.Time) error {
	if db.engine != Postgres {
		return nil
	}
	for _, p := range Partitioned {
		years, err := db.strayYears(ctx, p.Table, p.Key)
		if err != nil {
			return err
		}
		for y := now.Year(); y <= now.Year()+PartitionsAhead; y++ {
			years = append(years, y)
		}
		for _, y := range years {
			var created bool
			if err := db.w.QueryRowContext(ctx, `SELECT kith_year_partition($1, $2, $3)`, p.Table, p.Key, y).Scan(&created); err != nil {
				return err
			}
			if created {
				slog.Info("partition created", "table", p.Table, "year", y)
			}
		}
	}
	return nil
}

// strayYears lists the years of the rows in table's DEFAULT partition.
func (db *DB) strayYears(ctx context.Context, table, key string) ([]int, error) {
	rows, err := db.w.QueryContext(ctx, `SELECT DISTINCT substr(`+key+`, 1, 4) FROM `+table+`_default
		WHERE `+key+` ~ '^[0-9]{4}-' ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var years []int
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if y, err := strconv.Atoi(s); err == nil && y > 0 {
			years = append(years, y)
		}
	}
	return years, rows.Err()
}
