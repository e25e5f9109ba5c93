-- +goose Up
-- An event can be called off: it stays on the calendars, marked cancelled
-- with the reason (those who meant to come must learn it), and takes no
-- more attendance. cancelled_at is '' while the event stands.
ALTER TABLE events ADD COLUMN cancelled_at TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN cancel_reason;
ALTER TABLE events DROP COLUMN cancelled_at;
