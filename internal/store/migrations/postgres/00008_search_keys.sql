-- +goose Up
-- More ways to find a patient (see internal/care/searchkeys.go): the
-- pinyin initials of the name, the phone number's digits and a keyed hash of
-- the national ID's last four characters, all computed when a record is
-- written. Rows written before this migration get their phone key here;
-- their initials and ID tail fill in the next time the record is saved (or
-- with the next `kith demo` load).
ALTER TABLE patients ADD COLUMN name_initials TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN phone_key TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN national_id_tail TEXT NOT NULL DEFAULT '';
UPDATE patients SET phone_key = replace(replace(replace(replace(phone, ' ', ''), '-', ''), '+', ''), '(', '');
CREATE INDEX patients_unit_initials ON patients (org_path, name_initials);
CREATE INDEX patients_phone_key ON patients (phone_key);
CREATE INDEX patients_national_id_tail ON patients (national_id_tail);

-- +goose Down
DROP INDEX patients_national_id_tail;
DROP INDEX patients_phone_key;
DROP INDEX patients_unit_initials;
ALTER TABLE patients DROP COLUMN national_id_tail;
ALTER TABLE patients DROP COLUMN phone_key;
ALTER TABLE patients DROP COLUMN name_initials;
