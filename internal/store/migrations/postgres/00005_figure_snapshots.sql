-- +goose Up
-- Figures of each community for standard periods (months, quarters,
-- years), so that a district's or the province's figures are sums of a few
-- thousand rows rather than a pass over every follow-up. Counts of distinct
-- patients add up across communities because each patient belongs to one.
-- A snapshot holds while its version equals the community's version, which
-- every write that can change the community's figures increments.
CREATE TABLE figure_versions (
    unit_id  BIGINT PRIMARY KEY REFERENCES org_units (id),
    version  BIGINT NOT NULL
);
CREATE TABLE figure_snapshots (
    unit_id             BIGINT  NOT NULL REFERENCES org_units (id),
    period              TEXT    COLLATE "C" NOT NULL,
    version             BIGINT  NOT NULL,
    registered          BIGINT  NOT NULL,
    managed             BIGINT  NOT NULL,
    standardised        BIGINT  NOT NULL,
    medicated           BIGINT  NOT NULL,
    regular_medication  BIGINT  NOT NULL,
    face_to_face        BIGINT  NOT NULL,
    stable              BIGINT  NOT NULL,
    health_checked      BIGINT  NOT NULL,
    emergencies         BIGINT  NOT NULL,
    computed_at         TEXT    NOT NULL,
    PRIMARY KEY (unit_id, period)
);

-- Overdue and lost are counted live over the register: this index answers
-- them without reading the patients' rows.
CREATE INDEX patients_open ON patients (org_path, status, next_due_on, registered_on) WHERE severe = TRUE;

-- +goose Down
DROP INDEX patients_open;
DROP TABLE figure_snapshots;
DROP TABLE figure_versions;
