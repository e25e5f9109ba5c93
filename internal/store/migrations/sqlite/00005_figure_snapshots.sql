-- +goose Up
-- Figures of each community for standard periods (months, quarters,
-- years), so that a district's or the province's figures are sums of a few
-- thousand rows rather than a pass over every follow-up. Counts of distinct
-- patients add up across communities because each patient belongs to one.
-- A snapshot holds while its version equals the community's version, which
-- every write that can change the community's figures increments.
CREATE TABLE figure_versions (
    unit_id  INTEGER PRIMARY KEY REFERENCES org_units (id),
    version  INTEGER NOT NULL
);
CREATE TABLE figure_snapshots (
    unit_id             INTEGER NOT NULL REFERENCES org_units (id),
    period              TEXT    NOT NULL,
    version             INTEGER NOT NULL,
    registered          INTEGER NOT NULL,
    managed             INTEGER NOT NULL,
    standardised        INTEGER NOT NULL,
    medicated           INTEGER NOT NULL,
    regular_medication  INTEGER NOT NULL,
    face_to_face        INTEGER NOT NULL,
    stable              INTEGER NOT NULL,
    health_checked      INTEGER NOT NULL,
    emergencies         INTEGER NOT NULL,
    computed_at         TEXT    NOT NULL,
    PRIMARY KEY (unit_id, period)
);

-- Overdue and lost are counted live over the register: this index answers
-- them without reading the patients' rows.
CREATE INDEX patients_open ON patients (org_path, status, next_due_on, registered_on) WHERE severe = 1;

-- +goose Down
DROP INDEX patients_open;
DROP TABLE figure_snapshots;
DROP TABLE figure_versions;
