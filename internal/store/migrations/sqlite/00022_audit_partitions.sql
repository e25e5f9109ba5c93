-- +goose Up
-- PostgreSQL partitions the audit log by year here (see its 00022). SQLite
-- serves one district on one machine and stays unpartitioned: this file only
-- keeps the two engines' migration numbers in step.
SELECT 1;

-- +goose Down
SELECT 1;
