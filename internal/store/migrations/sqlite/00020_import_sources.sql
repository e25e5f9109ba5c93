-- +goose Up
-- The records an import created, by their identifier in the source (a FHIR
-- Patient's id, a spreadsheet's national ID): an import run again, or rerun
-- after a crash, finds them here and creates nothing new.
CREATE TABLE import_sources (
    source_key  TEXT    PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients (id),
    created_at  TEXT    NOT NULL
);

-- +goose Down
DROP TABLE import_sources;
