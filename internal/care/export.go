package care

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/store"
)

// Bulk export (FHIR Bulk Data, a group's $export) reads a unit's patients
// and everything about them in the background, a page of patients at a
// time, and keeps what it wrote in the database: the job row and its
// chunks, so that any of several servers can report progress, serve the
// files and cancel. The mapping to FHIR is package fhir's; the service
// reads, checks the policy, redacts and audits as for any read.

// DefaultExportKeep is how long an export's files are kept.
const DefaultExportKeep = 24 * time.Hour

// ExportStale is how long a running export may go without writing a page
// before another server takes it over (its own has stopped). A page takes
// seconds.
const ExportStale = 2 * time.Minute

// exportHolder names this process in the job rows it runs.
var exportHolder = func() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}()

// SetExportKeep sets how long finished exports are kept before the sweep
// deletes them (DefaultExportKeep unless set).
func (s *Service) SetExportKeep(d time.Duration) { s.exportKeep = d }

// ExportInput is what an export covers.
type ExportInput struct {
	OrgUnit string
	Types   []string   // resource types, as the transport names them
	Since   *time.Time // only what changed since, or nil
	Request string     // the kick-off URL, for the manifest
}

// ExportJob is an export as its owner sees it.
type ExportJob struct {
	ID              string
	OrgUnit         string
	Types           []string
	Since           string
	Request         string
	State           string // running, done, failed
	PatientsDone    int
	PatientsTotal   int
	Error           string
	TransactionTime time.Time
	KeepUntil       time.Time
	Outputs         []ExportOutput // done: the lines per type, in Types order
}

// ExportOutput is one resource type's file.
type ExportOutput struct {
	Type  string
	Count int
}

// ExportRecord is one patient and what an export carries about them, as
// the actor's role may see it.
type ExportRecord struct {
	Patient     *Patient
	FollowUps   []FollowUp         // current versions, oldest first
	Assessments []Assessment       // none for a view without assessments
	Alerts      []Alert            // open alerts, for the roles they reach
	Family      []FamilyMember     // the guardian only for the care-and-help group
	Team        *Team              // the care team (without its history)
	Plans       []Plan             // every plan version; none for a view without plans
	Referrals   []HospitalReferral // up and down, with their summaries as the view allows
}

// ExportChunk is a piece of one type's NDJSON.
type ExportChunk struct {
	Type  string
	Lines int
	Body  string
}

// ErrExportGone is returned to the runner of an export that was cancelled
// or has expired: it stops.
var ErrExportGone = errors.New("care: the export was cancelled")

// StartExport records an export of a unit's patients for the actor. A
// unit the actor may not read is hidden (not found, audited as denied).
func (s *Service) StartExport(ctx context.Context, in ExportInput) (*ExportJob, error) {
	var out *ExportJob
	err := s.act(ctx, "export.start", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID = "org_unit", in.OrgUnit
		u, err := unitByCode(ctx, tx, in.OrgUnit)
		if err != nil {
			return err
		}
		if u == nil || !Allow(a, ReadPatient, Target{Path: u.Path}) {
			return errHidden("org unit")
		}
		sub.Unit, sub.Path = u.Code, u.Path
		// One running export per user: an export reads a whole unit, and
		// several at once would crowd out the users at work.
		var busy int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM export_jobs WHERE owner = ? AND state = 'running' AND heartbeat > ?`,
			a.Username, store.FormatTime(tx.Now().Add(-ExportStale))).Scan(&busy); err != nil {
			return err
		}
		if busy > 0 {
			return &Error{Kind: TooManyRequests, RetryAfter: 10 * time.Second,
				Message: "you have an export running; wait for it to finish, or cancel it, before starting another"}
		}
		lo, hi := store.Beneath(u.Path)
		q, args := `SELECT count(*) FROM patients p WHERE p.org_path >= ? AND p.org_path < ?`, []any{lo, hi}
		since := ""
		if in.Since != nil {
			since = store.FormatTime(*in.Since)
			q, args = q+` AND p.updated_at >= ?`, append(args, since)
		}
		var total int
		if err := tx.QueryRow(ctx, q, args...).Scan(&total); err != nil {
			return err
		}
		b := make([]byte, 16)
		rand.Read(b)
		now := tx.Now()
		keep := s.exportKeep
		if keep <= 0 {
			keep = DefaultExportKeep
		}
		j := &ExportJob{ID: hex.EncodeToString(b), OrgUnit: u.Code, Types: in.Types, Since: since, Request: in.Request,
			State: "running", PatientsTotal: total, TransactionTime: now, KeepUntil: now.Add(keep)}
		sub.Detail = "export " + j.ID + " of " + strings.Join(in.Types, ",") + ": " + strconv.Itoa(total) + " patients"
		_, err = tx.Exec(ctx, `INSERT INTO export_jobs (id, owner, session_id, org_unit, types, since, request, state, cursor,
			patients_done, patients_total, error, holder, heartbeat, transaction_time, created_at, keep_until)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'running', 0, 0, ?, '', ?, ?, ?, ?, ?)`,
			j.ID, a.Username, a.SessionID, j.OrgUnit, strings.Join(j.Types, " "), since, in.Request, total, exportHolder,
			store.FormatTime(now), store.FormatTime(now), store.FormatTime(now), store.FormatTime(j.KeepUntil))
		out = j
		return err
	})
	return out, err
}

// exportRow loads the actor's export; another user's reads as not found.
func exportRow(ctx context.Context, tx *store.Tx, a *Actor, id string) (*ExportJob, int64, error) {
	var j ExportJob
	var types, tt, keep string
	var cursor int64
	err := tx.QueryRow(ctx, `SELECT org_unit, types, since, request, state, cursor, patients_done, patients_total, error,
		transaction_time, keep_until FROM export_jobs WHERE id = ? AND owner = ?`, id, a.Username).Scan(
		&j.OrgUnit, &types, &j.Since, &j.Request, &j.State, &cursor, &j.PatientsDone, &j.PatientsTotal, &j.Error, &tt, &keep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, errNotFound("export")
	}
	if err != nil {
		return nil, 0, err
	}
	j.ID, j.Types = id, strings.Fields(types)
	j.TransactionTime, j.KeepUntil = store.MustTime(tt), store.MustTime(keep)
	if j.KeepUntil.Before(tx.Now()) {
		return nil, 0, errNotFound("export") // the sweep has not caught it yet
	}
	return &j, cursor, nil
}

// ExportStatus returns the actor's export, with its outputs when done.
// It holds no patient data (counts only), so it is not audited: clients
// poll it every few seconds.
func (s *Service) ExportStatus(ctx context.Context, id string) (*ExportJob, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, errUnauthenticated
	}
	var out *ExportJob
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		j, _, err := exportRow(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if j.State == "done" {
			if j.Outputs, err = exportOutputs(ctx, tx, id, j.Types); err != nil {
				return err
			}
		}
		out = j
		return nil
	})
	return out, err
}

// exportOutputs counts the lines of each type, in types' order, leaving
// out the types with none.
func exportOutputs(ctx context.Context, tx *store.Tx, id string, types []string) ([]ExportOutput, error) {
	rows, err := tx.Query(ctx, `SELECT type, SUM(lines) FROM export_chunks WHERE job_id = ? GROUP BY type`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var t string
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		counts[t] = n
	}
	var out []ExportOutput
	for _, t := range types {
		if counts[t] > 0 {
			out = append(out, ExportOutput{Type: t, Count: counts[t]})
		}
	}
	return out, rows.Err()
}

// ExportPage reads the next page of the export's patients (at most limit,
// by id after the job's cursor) with their records, redacted for the
// actor's role, and returns the last patient id read; 0 means the export
// has read everything.
//
// Every read of a patient's record is audited, and an export is such a
// read: each patient of the page gets an entry of its own ("patient.export",
// in the patient's unit, so that its administrator sees it), written
// together with the page's entry in one transaction. Ten thousand patients
// are a hundred such batches, not ten thousand transactions, and none is
// left out.
func (s *Service) ExportPage(ctx context.Context, id string, limit int) ([]ExportRecord, int64, error) {
	var out []ExportRecord
	var last int64
	err := s.readAct(ctx, "export.page", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID = "export", id
		j, cursor, err := exportRow(ctx, tx, a, id)
		if ErrorKind(err) == NotFound {
			return ErrExportGone // cancelled, or expired
		}
		if err != nil {
			return err
		}
		if j.State != "running" {
			return ErrExportGone
		}
		u, err := unitByCode(ctx, tx, j.OrgUnit)
		if err != nil {
			return err
		}
		if u == nil || !Allow(a, ReadPatient, Target{Path: u.Path}) {
			// The unit moved out of the actor's jurisdiction meanwhile.
			return errHidden("org unit")
		}
		sub.Unit, sub.Path = u.Code, u.Path
		want := map[string]bool{}
		for _, t := range j.Types {
			want[t] = true
		}
		v := PatientView(a.Role)
		lo, hi := store.Beneath(u.Path)
		q, args := patientSelect+` WHERE p.org_path >= ? AND p.org_path < ? AND p.id > ?`, []any{lo, hi, cursor}
		if j.Since != "" {
			q, args = q+` AND p.updated_at >= ?`, append(args, j.Since)
		}
		rows, err := tx.Query(ctx, q+` ORDER BY p.id LIMIT `+strconv.Itoa(limit), args...)
		if err != nil {
			return err
		}
		var list []*patientRow
		for rows.Next() {
			r, err := scanPatient(rows)
			if err != nil {
				rows.Close()
				return err
			}
			list = append(list, r)
			last = r.ID
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// One patient at a time: a page holds a bounded number of patients,
		// so their histories fit in memory, never the unit's.
		for _, r := range list {
			if !Allow(a, ReadPatient, Target{Path: r.path, Patient: r.ID}) {
				continue
			}
			if v != ViewSafety {
				if r.Diagnoses, err = diagnosesOf(ctx, tx, r.ID); err != nil {
					return err
				}
			}
			rec := ExportRecord{Patient: s.redact(r, v)}
			if want["Encounter"] || want["Observation"] {
				cond, args := `patient_id = ? AND superseded_by IS NULL`, []any{r.ID}
				if j.Since != "" {
					cond, args = cond+` AND created_at >= ?`, append(args, j.Since)
				}
				fus, err := tx.Query(ctx, `SELECT `+followUpColumns+` FROM follow_ups WHERE `+cond+` ORDER BY date, id`, args...)
				if err != nil {
					return err
				}
				for fus.Next() {
					fu, err := scanFollowUp(fus)
					if err != nil {
						fus.Close()
						return err
					}
					redactFollowUp(fu, v)
					rec.FollowUps = append(rec.FollowUps, *fu)
				}
				fus.Close()
				if err := fus.Err(); err != nil {
					return err
				}
			}
			if (want["QuestionnaireResponse"] || want["Observation"]) && v != ViewSafety && v != ViewNone {
				cond, args := `a.patient_id = ?`, []any{r.ID}
				if j.Since != "" {
					cond, args = cond+` AND a.created_at >= ?`, append(args, j.Since)
				}
				if rec.Assessments, err = s.assessmentsWhere(ctx, tx, cond+` ORDER BY a.taken_on, a.id`, args...); err != nil {
					return err
				}
			}
			if want["Flag"] && Allow(a, ReadAlerts, Target{Path: r.path, Patient: r.ID}) {
				als, err := tx.Query(ctx, `SELECT `+alertColumns+alertFrom+` WHERE al.patient_id = ? AND al.acknowledged_at IS NULL
					ORDER BY al.raised_at, al.id`, r.ID)
				if err != nil {
					return err
				}
				for als.Next() {
					al, err := scanAlert(als)
					if err != nil {
						als.Close()
						return err
					}
					rec.Alerts = append(rec.Alerts, al)
				}
				als.Close()
				if err := als.Err(); err != nil {
					return err
				}
			}
			if err := s.exportMore(ctx, tx, a, r, v, j.Since, want, &rec); err != nil {
				return err
			}
			sub.also = append(sub.also, extraEntry{action: "patient.export", sub: subject{Type: "patient",
				ID: strconv.FormatInt(r.ID, 10), Unit: r.OrgUnit, Path: r.path, Detail: "export " + id}})
			out = append(out, rec)
		}
		sub.Detail = strconv.Itoa(len(out)) + " patients after patient " + strconv.FormatInt(cursor, 10)
		return nil
	})
	return out, last, err
}

// exportMore reads what the export carries of the patient's family, team,
// plans and referrals, as the reads of them give it (Family, Team, Plans,
// PatientReferrals) and only for the types wanted. With since, the family
// members changed, plan versions written and referrals changed since then;
// a team is one resource, exported whole.
func (s *Service) exportMore(ctx context.Context, tx *store.Tx, a *Actor, r *patientRow, v View, since string, want map[string]bool,
	rec *ExportRecord) error {
	var err error
	if want["RelatedPerson"] {
		if rec.Family, err = familyOf(ctx, tx, r.ID, v); err != nil {
			return err
		}
		if since != "" {
			var changed map[int64]bool
			if changed, err = idsSince(ctx, tx, `SELECT id FROM family_members WHERE patient_id = ? AND updated_at >= ?`, r.ID, since); err != nil {
				return err
			}
			rec.Family = slices.DeleteFunc(rec.Family, func(m FamilyMember) bool { return !changed[m.ID] })
		}
	}
	if want["CareTeam"] {
		if rec.Team, err = teamOf(ctx, tx, a, r.ID, r.path); err != nil {
			return err
		}
		rec.Team.PatientName, rec.Team.History = r.Name, nil
	}
	if (want["CarePlan"] || want["Goal"]) && v != ViewSafety && v != ViewNone {
		cond, args := `p.patient_id = ?`, []any{r.ID}
		if since != "" {
			cond, args = cond+` AND p.created_at >= ?`, append(args, since)
		}
		if rec.Plans, err = plansWhere(ctx, tx, v, cond, args...); err != nil {
			return err
		}
		for i := range rec.Plans {
			rec.Plans[i].PatientName = r.Name
		}
	}
	if want["ServiceRequest"] {
		if rec.Referrals, err = patientReferrals(ctx, tx, a, r.ID, cursor{}, 1000); err != nil {
			return err
		}
		if since != "" {
			rec.Referrals = slices.DeleteFunc(rec.Referrals, func(h HospitalReferral) bool {
				last := h.RequestedAt
				for _, t := range []*time.Time{h.AnsweredAt, h.ClosedAt} {
					if t != nil && t.After(last) {
						last = *t
					}
				}
				return store.FormatTime(last) < since
			})
		}
	}
	return nil
}

// idsSince runs a query for ids with the patient's id and an instant.
func idsSince(ctx context.Context, tx *store.Tx, q string, patientID int64, since string) (map[int64]bool, error) {
	rows, err := tx.Query(ctx, q, patientID, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// ExportWrite stores a page's chunks and moves the job's cursor past its
// last patient, in one transaction: a page is written whole or not at
// all. It returns ErrExportGone when the export was cancelled meanwhile.
func (s *Service) ExportWrite(ctx context.Context, id string, lastPatient int64, patients int, chunks []ExportChunk) error {
	a := ActorFrom(ctx)
	if a == nil {
		return errUnauthenticated
	}
	return s.db.Transact(ctx, func(tx *store.Tx) error {
		// Only while this server holds the export: one that took over a
		// stale export leaves the server it took it from nothing to write.
		res, err := tx.Exec(ctx, `UPDATE export_jobs SET cursor = ?, patients_done = patients_done + ?, heartbeat = ?
			WHERE id = ? AND owner = ? AND state = 'running' AND holder = ?`, lastPatient, patients, store.FormatTime(tx.Now()),
			id, a.Username, exportHolder)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrExportGone
		}
		for _, c := range chunks {
			// The page's last patient id orders a type's chunks.
			if _, err := tx.Exec(ctx, `INSERT INTO export_chunks (job_id, type, seq, lines, body) VALUES (?, ?, ?, ?, ?)`,
				id, c.Type, lastPatient, c.Lines, c.Body); err != nil {
				return err
			}
		}
		return nil
	})
}

// FinishExport marks the actor's export done and writes the export's own
// audit entry, with the count of each type.
func (s *Service) FinishExport(ctx context.Context, id string) error {
	a := ActorFrom(ctx)
	if a == nil {
		return errUnauthenticated
	}
	return s.endExport(ctx, a.Username, id, "")
}

// FailExport marks an export failed with a message for its owner; the
// runner may have no actor (the owner's token was revoked), so the entry
// is written as the owner's.
func (s *Service) FailExport(ctx context.Context, id, message string) error {
	var owner string
	err := s.db.QueryRow(ctx, `SELECT owner FROM export_jobs WHERE id = ?`, id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrExportGone
	}
	if err != nil {
		return err
	}
	return s.endExport(ctx, owner, id, message)
}

func (s *Service) endExport(ctx context.Context, owner, id, failure string) error {
	return s.record(ctx, owner, "export.finish", func(tx *store.Tx, sub *subject) error {
		sub.Type, sub.ID = "export", id
		j, _, err := exportRow(ctx, tx, &Actor{Username: owner}, id)
		if ErrorKind(err) == NotFound {
			return ErrExportGone
		}
		if err != nil {
			return err
		}
		if u, err := unitByCode(ctx, tx, j.OrgUnit); err == nil && u != nil {
			sub.Unit, sub.Path = u.Code, u.Path
		}
		state := "done"
		if failure != "" {
			state = "failed"
		}
		res, err := tx.Exec(ctx, `UPDATE export_jobs SET state = ?, error = ?, heartbeat = ? WHERE id = ? AND state = 'running'
			AND holder = ?`, state, failure, store.FormatTime(tx.Now()), id, exportHolder)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrExportGone
		}
		outs, err := exportOutputs(ctx, tx, id, j.Types)
		if err != nil {
			return err
		}
		var counts []string
		for _, o := range outs {
			counts = append(counts, o.Type+" "+strconv.Itoa(o.Count))
		}
		sub.Detail = state + ": " + strconv.Itoa(j.PatientsDone) + " patients; " + strings.Join(counts, ", ")
		if failure != "" {
			sub.Detail += "; " + failure
		}
		return nil
	})
}

// ExportFile streams the actor's finished export's file of one type to
// write, a chunk at a time. The download is audited: it hands out the
// records.
func (s *Service) ExportFile(ctx context.Context, id, typ string, write func(body string) error) error {
	var seqs []int64
	err := s.view(ctx, "export.download", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Detail = "export", id, typ
		j, _, err := exportRow(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if j.State != "done" {
			return errNotFound("export file")
		}
		rows, err := tx.Query(ctx, `SELECT seq FROM export_chunks WHERE job_id = ? AND type = ? ORDER BY seq`, id, typ)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				return err
			}
			seqs = append(seqs, n)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(seqs) == 0 {
			return errNotFound("export file")
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range seqs {
		var body string
		err := s.db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT body FROM export_chunks WHERE job_id = ? AND type = ? AND seq = ?`, id, typ, n).Scan(&body)
		})
		if err != nil {
			return err
		}
		if err := write(body); err != nil {
			return err
		}
	}
	return nil
}

// CancelExport deletes the actor's export and its files; a running one
// stops at its next page.
func (s *Service) CancelExport(ctx context.Context, id string) error {
	return s.act(ctx, "export.cancel", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID = "export", id
		if _, _, err := exportRow(ctx, tx, a, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM export_chunks WHERE job_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM export_jobs WHERE id = ?`, id)
		return err
	})
}

// SweepExports deletes the exports kept past their time, with their files.
func (s *Service) SweepExports(ctx context.Context) (int, error) {
	var n int64
	err := s.db.Transact(ctx, func(tx *store.Tx) error {
		now := store.FormatTime(tx.Now())
		if _, err := tx.Exec(ctx, `DELETE FROM export_chunks WHERE job_id IN (SELECT id FROM export_jobs WHERE keep_until < ?)`, now); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM export_jobs WHERE keep_until < ?`, now)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// ExportActor returns the actor an export runs as: the owner as the token
// that started it says now. The runner asks before each page, so that an
// export stops when its token is revoked or expires or the account is
// disabled, and reads with the rights the owner has at the time.
func (s *Service) ExportActor(ctx context.Context, id string) (*Actor, error) {
	var a Actor
	var expires string
	var disabled bool
	err := s.db.QueryRow(ctx, `SELECT u.id, u.username, u.full_name, u.role, COALESCE(o.code, ''), COALESCE(o.name, ''),
		COALESCE(o.path, ''), u.language, u.disabled, s.expires_at, s.id, u.totp_secret <> ''
		FROM export_jobs j JOIN sessions s ON s.id = j.session_id AND s.kind = 'api'
		JOIN users u ON u.id = s.user_id AND u.username = j.owner LEFT JOIN org_units o ON o.id = u.org_unit_id
		WHERE j.id = ?`, id).Scan(&a.UserID, &a.Username, &a.FullName, &a.Role, &a.UnitCode, &a.UnitName, &a.UnitPath,
		&a.Language, &disabled, &expires, &a.SessionID, &a.TOTP)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (disabled || !time.Now().Before(store.MustTime(expires)))) {
		return nil, &Error{Kind: Unauthenticated, Message: "the API token that started the export has expired or was revoked"}
	}
	if err != nil {
		return nil, err
	}
	a.MustEnrol = !a.TOTP && s.RequiresTOTP(a.Role)
	return &a, nil
}

// ClaimExports takes over the running exports whose server has written
// nothing for ExportStale (it stopped), for this server to go on with
// from their cursors. A compare-and-set on the heartbeat lets one server
// only take each.
func (s *Service) ClaimExports(ctx context.Context) ([]ExportJob, error) {
	type stale struct{ id, heartbeat, types, request string }
	var list []stale
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, heartbeat, types, request FROM export_jobs WHERE state = 'running' AND heartbeat < ?
			AND keep_until > ? ORDER BY heartbeat LIMIT 10`, store.FormatTime(tx.Now().Add(-ExportStale)), store.FormatTime(tx.Now()))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var x stale
			if err := rows.Scan(&x.id, &x.heartbeat, &x.types, &x.request); err != nil {
				return err
			}
			list = append(list, x)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	var out []ExportJob
	for _, x := range list {
		var n int64
		err := s.db.Transact(ctx, func(tx *store.Tx) error {
			res, err := tx.Exec(ctx, `UPDATE export_jobs SET holder = ?, heartbeat = ? WHERE id = ? AND heartbeat = ? AND state = 'running'`,
				exportHolder, store.FormatTime(tx.Now()), x.id, x.heartbeat)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
			return nil
		})
		if err != nil {
			return out, err
		}
		if n == 1 {
			out = append(out, ExportJob{ID: x.id, Types: strings.Fields(x.types), Request: x.request, State: "running"})
		}
	}
	return out, nil
}
