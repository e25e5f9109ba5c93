-- +goose Up
-- The plan figures (coverage, reviews on time, goals achieved) join a
-- community's snapshot: counted at every read, planned for the unit each
-- time, they were most of a community's figures read under write load
-- (issue 16). The snapshots saved before have none, so they go, and are
-- counted again when next read or refreshed.
DELETE FROM figure_snapshots;
ALTER TABLE figure_snapshots ADD COLUMN plan_covered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE figure_snapshots ADD COLUMN reviews_on_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE figure_snapshots ADD COLUMN reviews_due INTEGER NOT NULL DEFAULT 0;
ALTER TABLE figure_snapshots ADD COLUMN goals_achieved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE figure_snapshots ADD COLUMN goals_reviewed INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE figure_snapshots DROP COLUMN goals_reviewed;
ALTER TABLE figure_snapshots DROP COLUMN goals_achieved;
ALTER TABLE figure_snapshots DROP COLUMN reviews_due;
ALTER TABLE figure_snapshots DROP COLUMN reviews_on_time;
ALTER TABLE figure_snapshots DROP COLUMN plan_covered;
