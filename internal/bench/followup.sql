-- Kith's own transaction for one follow-up, as pgbench runs it: the statements a
-- POST /api/v1/patients/{id}/follow-ups sends to PostgreSQL (read off the server's
-- statement log, log_statement = all, at stop 34), in Kith's three round trips
-- (store/pgtx.go: BEGIN and the first reads, then the inserts with the summary's
-- read, then the updates, the audit entry and COMMIT). No HTTP, no Go, no rules:
-- what PostgreSQL alone can do of Kith's transaction, the ceiling of any server in
-- front of it. kith bench -clients N -ceiling runs it beside Kith (README, "The database's own
-- ceiling").
--
--   pgbench -n -M prepared -c 8 -j 2 -T 20 -D lo=MIN -D hi=MAX -f internal/bench/followup.sql DB
--
-- with MIN and MAX the lowest and highest patient id (SELECT min(id), max(id) FROM patients)
-- of a database filled by kith demo, never a real one: it writes. Values are those of
-- the benchmark's follow-up; a colon in its details is followed by a space (pgbench reads
-- ":name" as a variable). The sign-in check finds no session: its cost is the same.
\set pid random(:lo, :hi)
\startpipeline
BEGIN;
SELECT EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN org_units o ON o.id = u.org_unit_id WHERE s.token_hash = 'pgbench' AND s.kind = 'api' AND s.expires_at > '2026-12-03T07:42:28Z' AND u.id = 11 AND u.role = 'psychiatrist' AND NOT u.disabled AND COALESCE(o.code, '') = 'D002' AND COALESCE(o.path, '') = '/D002/' AND (u.totp_secret <> '') = false);
SELECT p.id, p.org_unit_id, p.org_path, o.code, o.name, p.name, p.sex, p.birth_date, p.national_id_enc, p.phone, p.address, p.guardian_name, p.guardian_relation, p.guardian_phone, p.consent, p.consent_on, p.status, p.registered_on, p.severe, p.next_due_on, p.next_due_rule, p.last_followup_on, p.last_classification, p.last_risk_level, p.updated_at FROM patients p JOIN org_units o ON o.id = p.org_unit_id WHERE p.id = (:pid)::bigint;
SELECT classification, risk_level, medication_adherence FROM follow_ups WHERE patient_id = (:pid)::bigint AND reached = true AND superseded_by IS NULL AND date <= '2026-12-03' AND id <> 0 ORDER BY date DESC, id DESC LIMIT 1;
SELECT nextval(pg_get_serial_sequence('follow_ups', 'id'));
\endpipeline
\startpipeline
INSERT INTO follow_ups (id, patient_id, date, mode, reached, risk_level, classification, rule, next_due_on, next_due_rule, next_due_reason, medication_adherence, details, author, created_at, health_check) VALUES (nextval(pg_get_serial_sequence('follow_ups', 'id')), (:pid)::bigint, '2026-12-03', 'home_visit', true, 1, 'basically_stable', 'R-CLASS-BASIC', '2027-01-03', 'R-NEXT-BASIC-PERSIST', '', 'regular', '{"date": "2026-12-03","mode": "home_visit","reached": true,"risk_level": 1,"psychotic_symptoms": "some","insight": "partial","social_function": {"housework": "fair","learning": "fair","self_care": "good","social_contact": "good","work": "fair"},"medication_adherence": "regular","adverse_reaction": "none","physical_illness": "none"}', 'bench-psy-d002', '2026-12-03T07:42:28.958640Z', false);
INSERT INTO assessments (patient_id, instrument, version, taken_on, answers, score, band, flags, follow_up_id, author, created_at) VALUES ((:pid)::bigint, 'risk', 1, '2026-12-03', '{"risk_level": 1}', 1, 'low', '', currval(pg_get_serial_sequence('follow_ups', 'id')), 'bench-psy-d002', '2026-12-03T07:42:28.960003Z');
SELECT p.status, p.registered_on, COALESCE(l.date, ''), COALESCE(l.classification, ''), COALESCE(l.next_due_on, ''), COALESCE(l.next_due_rule, ''), COALESCE(l.medication_adherence, ''), l.risk_level, (SELECT count(*) FROM follow_ups f WHERE f.patient_id = p.id AND f.reached = false AND f.superseded_by IS NULL AND f.date > COALESCE(l.date, '')), (SELECT count(*) FROM follow_ups f WHERE f.patient_id = p.id AND f.reached = true AND f.superseded_by IS NULL AND f.date >= substr(COALESCE(l.date, ''), 1, 4) || '-01-01' AND f.date <= COALESCE(l.date, '')), (SELECT min(follow_up_by) FROM emergencies e WHERE e.patient_id = p.id AND e.occurred_at > COALESCE(l.date, '')), (SELECT max(discharged_on) FROM referrals WHERE patient_id = p.id AND direction = 'down' AND status <> 'cancelled'), EXISTS (SELECT 1 FROM alerts al WHERE al.patient_id = p.id AND al.kind = 'flag') FROM patients p LEFT JOIN (SELECT date, classification, next_due_on, next_due_rule, medication_adherence, risk_level FROM follow_ups WHERE patient_id = (:pid)::bigint AND reached = true AND superseded_by IS NULL ORDER BY date DESC, id DESC LIMIT 1) l ON 1 = 1 WHERE p.id = (:pid)::bigint;
\endpipeline
\startpipeline
UPDATE patients SET next_due_on = '2027-01-03', next_due_rule = 'R-NEXT-BASIC-PERSIST', last_followup_on = '2026-12-03', last_classification = 'basically_stable', last_risk_level = 1, last_adherence = 'regular', not_reached_streak = 0, reached_in_year = 28, updated_at = '2026-12-03T07:42:28.960003Z' WHERE id = (:pid)::bigint;
INSERT INTO figure_versions (unit_id, version) SELECT org_unit_id, 1 FROM patients WHERE id = (:pid)::bigint ON CONFLICT (unit_id) DO UPDATE SET version = figure_versions.version + 1;
INSERT INTO audit_log (at, actor, action, subject_type, subject_id, org_unit, org_path, outcome, client_addr, request_id, detail, prev_hash, hash) VALUES ('2026-12-03T07:42:28.960003Z', 'bench-psy-d002', 'followup.create', 'patient', (:pid)::bigint, 'D002S09C10', '/D002/D002S09/D002S09C10/', 'allowed', '127.0.0.1', 'a6b474582364381e', 'follow-up', '', '');
COMMIT;
\endpipeline
