-- +goose Up
-- Overdue and lost join a community's snapshot, with the day overdue was
-- judged on (counted_on): a district's figures read them from the
-- snapshots instead of counting the district's patients at every read
-- (issue 16: that count was most of a district's figures under write
-- load). A snapshot counted on another day than the reader's is stale.
ALTER TABLE figure_snapshots ADD COLUMN overdue INTEGER NOT NULL DEFAULT 0;
ALTER TABLE figure_snapshots ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;
ALTER TABLE figure_snapshots ADD COLUMN counted_on TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE figure_snapshots DROP COLUMN counted_on;
ALTER TABLE figure_snapshots DROP COLUMN lost;
ALTER TABLE figure_snapshots DROP COLUMN overdue;
