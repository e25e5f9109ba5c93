-- +goose Up
-- Name search within a community or district: the jurisdiction's range
-- first, then the name prefix. Province-wide searches keep patients_name.
CREATE INDEX patients_unit_name ON patients (org_path, name_key);

-- +goose Down
DROP INDEX patients_unit_name;
