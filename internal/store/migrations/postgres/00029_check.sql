-- +goose Up
-- kith_check raises an error when a request's check is false (store.Check,
-- check.go): an API token read from memory goes to the database with the
-- request's first statements instead of in a round trip of its own, and
-- the error makes PostgreSQL skip the rest of that batch, COMMIT included.
-- SQLSTATE 28000 (invalid authorization specification) tells the store
-- that it was the check that failed.
-- +goose StatementBegin
CREATE FUNCTION kith_check(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'kith: the request''s check failed' USING ERRCODE = '28000';
    END IF;
    RETURN true;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION kith_check(boolean);
