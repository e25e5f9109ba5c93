-- +goose Up
-- The key tables (migration 00013) are filled once per statement from its
-- inserted rows, not once per row: an import's COPY of thousands of
-- follow-ups and assessments ran the row trigger's INSERT for each of them
-- (about a fifth of the import's time); a single insert costs the same
-- either way. Statement triggers fire after the statement's row checks, so
-- a row may not reference a key inserted by the same statement: none does
-- (a correction's superseded_by is set by a later UPDATE). And a statement
-- trigger is the parent's alone, not cloned onto the partitions: rows go in
-- through the parent (as everywhere in Kith), never straight into a year.
DROP TRIGGER follow_ups_key ON follow_ups;
DROP TRIGGER assessments_key ON assessments;
DROP FUNCTION kith_follow_up_key();
DROP FUNCTION kith_assessment_key();
-- +goose StatementBegin
CREATE FUNCTION kith_follow_up_keys() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO follow_up_keys (id, date) SELECT id, date FROM inserted;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION kith_assessment_keys() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO assessment_keys (id, taken_on) SELECT id, taken_on FROM inserted;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER follow_ups_key AFTER INSERT ON follow_ups REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION kith_follow_up_keys();
CREATE TRIGGER assessments_key AFTER INSERT ON assessments REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION kith_assessment_keys();

-- +goose Down
DROP TRIGGER follow_ups_key ON follow_ups;
DROP TRIGGER assessments_key ON assessments;
DROP FUNCTION kith_follow_up_keys();
DROP FUNCTION kith_assessment_keys();
-- +goose StatementBegin
CREATE FUNCTION kith_follow_up_key() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO follow_up_keys (id, date) VALUES (NEW.id, NEW.date);
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION kith_assessment_key() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO assessment_keys (id, taken_on) VALUES (NEW.id, NEW.taken_on);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER follow_ups_key AFTER INSERT ON follow_ups FOR EACH ROW EXECUTE FUNCTION kith_follow_up_key();
CREATE TRIGGER assessments_key AFTER INSERT ON assessments FOR EACH ROW EXECUTE FUNCTION kith_assessment_key();
