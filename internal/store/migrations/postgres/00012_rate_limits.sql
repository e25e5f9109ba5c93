-- +goose Up
-- The public site's rate limits, shared by every server on the database.
-- One row per limit and client: client is a keyed hash of the address
-- (never the address itself), and tat is the bucket's "theoretical arrival
-- time" in microseconds since 1970 (GCRA, a token bucket kept as one
-- number: the bucket is full when tat <= now and empty when tat reaches
-- now + burst × interval). allowed says whether the last request was let
-- through, so that one statement both decides and reports. A row whose tat
-- has passed is a full bucket and holds nothing worth keeping: the limiter
-- deletes such rows every minute.
CREATE TABLE rate_limits (
    bucket   TEXT    NOT NULL,
    client   TEXT    NOT NULL,
    tat      BIGINT  NOT NULL,
    allowed  INTEGER NOT NULL,
    PRIMARY KEY (bucket, client)
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);

-- +goose Down
DROP TABLE rate_limits;
