-- +goose Up
-- More ways to find a patient (see internal/care/searchkeys.go): the
-- pinyin initials of the name, the phone number's digits and a keyed hash of
-- the national ID's last four characters, all computed when a record is
-- written. Rows written before this migration get their phone key here, and
-- their initials and ID tail from the sweeps (care.SweepSearchKeys), which
-- find them by search_keys = 0 (1: computed).
ALTER TABLE patients ADD COLUMN name_initials TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN phone_key TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN national_id_tail TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN search_keys INTEGER NOT NULL DEFAULT 0;
UPDATE patients SET phone_key = replace(replace(replace(replace(phone, ' ', ''), '-', ''), '+', ''), '(', '');
CREATE INDEX patients_unit_initials ON patients (org_path, name_initials);
CREATE INDEX patients_phone_key ON patients (phone_key);
CREATE INDEX patients_national_id_tail ON patients (national_id_tail);
CREATE INDEX patients_search_keys_due ON patients (id) WHERE search_keys = 0;

-- +goose Down
DROP INDEX patients_search_keys_due;
DROP INDEX patients_national_id_tail;
DROP INDEX patients_phone_key;
DROP INDEX patients_unit_initials;
ALTER TABLE patients DROP COLUMN search_keys;
ALTER TABLE patients DROP COLUMN national_id_tail;
ALTER TABLE patients DROP COLUMN phone_key;
ALTER TABLE patients DROP COLUMN name_initials;
