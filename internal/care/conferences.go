package care

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"kith/internal/auth"
	"kith/internal/store"
)

// Case conferences (issue 11, PRODUCT capability 2): where the team decides
// together. A conference has a date, an org unit and participants (staff
// accounts, and people from outside by name and organisation); for each
// patient discussed a summary and decisions, each with an owner and a due
// date. A decision is on its owner's home page until they mark it done. A
// patient's record shows only its own part of a conference.

// ConferenceParticipant is a staff account (Username) or someone from
// outside (Name and Organisation).
type ConferenceParticipant struct {
	Username     string `json:"username,omitempty"`
	Name         string `json:"name,omitempty"`
	Organisation string `json:"organisation,omitempty"`
}

// Decision is a decision taken about a patient.
type Decision struct {
	ID        int64  `json:"id,omitempty"`
	Text      string `json:"text"`
	Owner     string `json:"owner"`
	OwnerName string `json:"owner_name,omitempty"`
	DueOn     string `json:"due_on"`
	Done      bool   `json:"done"`
}

// ConferencePatient is one patient discussed at a conference.
type ConferencePatient struct {
	PatientID   int64      `json:"patient_id"`
	PatientName string     `json:"patient_name,omitempty"`
	Summary     string     `json:"summary"`
	Decisions   []Decision `json:"decisions"`
}

// ConferenceInput records a conference.
type ConferenceInput struct {
	Date         string                  `json:"date"`
	OrgUnit      string                  `json:"org_unit"`
	Participants []ConferenceParticipant `json:"participants"`
	Patients     []ConferencePatient     `json:"patients"`
}

// Conference is a case conference as the actor may see it: on a patient's
// record, only that patient's part.
type Conference struct {
	ID           int64                   `json:"id"`
	Date         string                  `json:"date"`
	OrgUnit      string                  `json:"org_unit"`
	OrgUnitName  string                  `json:"org_unit_name"`
	Participants []ConferenceParticipant `json:"participants"`
	Patients     []ConferencePatient     `json:"patients"`
	Author       string                  `json:"author"`
}

// RecordConference records a case conference held in an org unit of the
// actor's jurisdiction. Each patient discussed must be one the actor may
// write plans for; staff participants and decision owners must be active
// accounts.
func (s *Service) RecordConference(ctx context.Context, in ConferenceInput) (*Conference, error) {
	var out *Conference
	err := s.act(ctx, "conference.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "conference", a.UnitCode, a.UnitPath
		if !mayEver(a, WriteConference) {
			return errForbidden()
		}
		f := s.fields()
		checkDate(&f, "date", in.Date, true)
		u, err := unitByCode(ctx, tx, in.OrgUnit)
		if err != nil {
			return err
		}
		if u == nil || !Allow(a, WriteConference, Target{Path: u.Path}) {
			f.add("org_unit", "no org unit you may see has this code")
		} else {
			sub.Unit, sub.Path = u.Code, u.Path
		}
		account := func(field, username string) error {
			var role string
			var disabled bool
			err := tx.QueryRow(ctx, `SELECT role, disabled FROM users WHERE username = ?`, username).Scan(&role, &disabled)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				f.add(field, "no account has this username")
			case err != nil:
				return err
			case disabled || PatientView(auth.Role(role)) == ViewNone:
				f.add(field, "this account does not work with patient records")
			}
			return nil
		}
		if len(in.Participants) == 0 {
			f.add("participants", "name at least one participant")
		}
		if len(in.Participants) > 50 {
			f.add("participants", "at most 50")
		}
		for i := range in.Participants {
			pp := &in.Participants[i]
			field := "participants[" + strconv.Itoa(i) + "]"
			pp.Username = strings.TrimSpace(pp.Username)
			if pp.Username != "" {
				if err := account(field+".username", pp.Username); err != nil {
					return err
				}
				pp.Name, pp.Organisation = "", ""
				continue
			}
			pp.Name = checkName(&f, field+".name", pp.Name, 100)
			pp.Organisation = checkText(&f, field+".organisation", pp.Organisation, 100)
		}
		if len(in.Patients) == 0 {
			f.add("patients", "discuss at least one patient")
		}
		if len(in.Patients) > 30 {
			f.add("patients", "at most 30")
		}
		seen := map[int64]bool{}
		subs := make([]subject, len(in.Patients))
		for i := range in.Patients {
			cp := &in.Patients[i]
			field := "patients[" + strconv.Itoa(i) + "]"
			// Each patient is checked as a write to their record: the
			// refusal reads as not found, audited in the patient's unit.
			if _, err := visible(ctx, tx, a, WritePlan, cp.PatientID, &subs[i]); err != nil {
				if ErrorKind(err) != NotFound {
					return err
				}
				f.add(field+".patient_id", "no patient you may write for has this id")
				sub.also = append(sub.also, extraEntry{action: "conference.create", sub: subs[i]})
				continue
			}
			if seen[cp.PatientID] {
				f.add(field+".patient_id", "is discussed twice")
			}
			seen[cp.PatientID] = true
			cp.Summary = checkNote(&f, field+".summary", cp.Summary, 4000)
			if cp.Summary == "" {
				f.add(field+".summary", "is required")
			}
			if len(cp.Decisions) > 20 {
				f.add(field+".decisions", "at most 20")
			}
			for j := range cp.Decisions {
				d := &cp.Decisions[j]
				dfield := field + ".decisions[" + strconv.Itoa(j) + "]"
				d.Text = checkNote(&f, dfield+".text", d.Text, 1000)
				if d.Text == "" {
					f.add(dfield+".text", "is required")
				}
				d.Owner = strings.TrimSpace(d.Owner)
				if d.Owner == "" {
					f.add(dfield+".owner", "is required")
				} else if err := account(dfield+".owner", d.Owner); err != nil {
					return err
				}
				switch _, ok := ParseDate(d.DueOn); {
				case d.DueOn == "":
					f.add(dfield+".due_on", "is required")
				case !ok:
					f.add(dfield+".due_on", "must be a real date, YYYY-MM-DD")
				case in.Date != "" && d.DueOn < in.Date:
					f.add(dfield+".due_on", "cannot be before the conference")
				}
			}
		}
		if err := f.err(); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO case_conferences (held_on, org_unit_id, org_path, author, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, in.Date, u.id, u.Path, a.Username, store.FormatTime(tx.Now())).Scan(&id); err != nil {
			return err
		}
		for _, pp := range in.Participants {
			var user any
			if pp.Username != "" {
				user = pp.Username
			}
			if _, err := tx.Exec(ctx, `INSERT INTO conference_participants (conference_id, username, name, organisation) VALUES (?, ?, ?, ?)`,
				id, user, pp.Name, pp.Organisation); err != nil {
				return err
			}
		}
		for i, cp := range in.Patients {
			var cpid int64
			if err := tx.QueryRow(ctx, `INSERT INTO conference_patients (conference_id, patient_id, summary) VALUES (?, ?, ?) RETURNING id`,
				id, cp.PatientID, cp.Summary).Scan(&cpid); err != nil {
				return err
			}
			for _, d := range cp.Decisions {
				if _, err := tx.Exec(ctx, `INSERT INTO conference_decisions (conference_patient_id, text, owner, due_on) VALUES (?, ?, ?, ?)`,
					cpid, d.Text, d.Owner, d.DueOn); err != nil {
					return err
				}
			}
			// Each record discussed gets its own entry, in its patient's unit.
			subs[i].Detail = "conference " + strconv.FormatInt(id, 10)
			sub.also = append(sub.also, extraEntry{action: "conference.patient", sub: subs[i]})
		}
		sub.ID = strconv.FormatInt(id, 10)
		list, err := conferencesWhere(ctx, tx, `c.id = ?`, id)
		if err != nil {
			return err
		}
		out = &list[0]
		return nil
	})
	return out, err
}

// PatientConferences lists the conferences that discussed a patient,
// newest first, each with only that patient's part (at most 100).
func (s *Service) PatientConferences(ctx context.Context, patientID int64) ([]Conference, error) {
	var out []Conference
	err := s.view(ctx, "conference.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, ReadPatient, patientID, sub); err != nil {
			return err
		}
		if v := PatientView(a.Role); v == ViewSafety || v == ViewNone {
			return &Error{Kind: Forbidden, denied: true, Message: "your role may not read case conferences"}
		}
		var err error
		out, err = patientConferences(ctx, tx, patientID)
		return err
	})
	return out, err
}

func patientConferences(ctx context.Context, tx *store.Tx, patientID int64) ([]Conference, error) {
	list, err := conferencesWhere(ctx, tx, `c.id IN (SELECT conference_id FROM conference_patients WHERE patient_id = ?)`, patientID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		var own []ConferencePatient
		for _, cp := range list[i].Patients {
			if cp.PatientID == patientID {
				own = append(own, cp)
			}
		}
		list[i].Patients = own
	}
	return list, nil
}

// conferencesWhere reads whole conferences matching cond on
// case_conferences c, newest first.
func conferencesWhere(ctx context.Context, tx *store.Tx, cond string, args ...any) ([]Conference, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, c.held_on, o.code, o.name, c.author FROM case_conferences c
		JOIN org_units o ON o.id = c.org_unit_id WHERE `+cond+` ORDER BY c.held_on DESC, c.id DESC LIMIT 100`, args...)
	if err != nil {
		return nil, err
	}
	var out []Conference
	index := map[int64]int{}
	for rows.Next() {
		var c Conference
		if err := rows.Scan(&c.ID, &c.Date, &c.OrgUnit, &c.OrgUnitName, &c.Author); err != nil {
			rows.Close()
			return nil, err
		}
		c.Participants, c.Patients = []ConferenceParticipant{}, []ConferencePatient{}
		index[c.ID] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]any, 0, len(out))
	for _, c := range out {
		ids = append(ids, c.ID)
	}
	in := `(?` + strings.Repeat(", ?", len(ids)-1) + `)`
	rows, err = tx.Query(ctx, `SELECT p.conference_id, COALESCE(p.username, ''), COALESCE(u.full_name, p.name), p.organisation
		FROM conference_participants p LEFT JOIN users u ON u.username = p.username WHERE p.conference_id IN `+in+` ORDER BY p.id`, ids...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var cid int64
		var pp ConferenceParticipant
		if err := rows.Scan(&cid, &pp.Username, &pp.Name, &pp.Organisation); err != nil {
			rows.Close()
			return nil, err
		}
		out[index[cid]].Participants = append(out[index[cid]].Participants, pp)
	}
	rows.Close()
	type at struct{ c, p int }
	items := map[int64]at{}
	rows, err = tx.Query(ctx, `SELECT cp.id, cp.conference_id, cp.patient_id, pt.name, cp.summary FROM conference_patients cp
		JOIN patients pt ON pt.id = cp.patient_id WHERE cp.conference_id IN `+in+` ORDER BY cp.id`, ids...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, cid int64
		var cp ConferencePatient
		if err := rows.Scan(&id, &cid, &cp.PatientID, &cp.PatientName, &cp.Summary); err != nil {
			rows.Close()
			return nil, err
		}
		cp.Decisions = []Decision{}
		c := index[cid]
		items[id] = at{c, len(out[c].Patients)}
		out[c].Patients = append(out[c].Patients, cp)
	}
	rows.Close()
	rows, err = tx.Query(ctx, `SELECT d.id, d.conference_patient_id, d.text, d.owner, COALESCE(u.full_name, d.owner), d.due_on, d.done_at IS NOT NULL
		FROM conference_decisions d JOIN conference_patients cp ON cp.id = d.conference_patient_id
		LEFT JOIN users u ON u.username = d.owner WHERE cp.conference_id IN `+in+` ORDER BY d.id`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d Decision
		var item int64
		if err := rows.Scan(&d.ID, &item, &d.Text, &d.Owner, &d.OwnerName, &d.DueOn, &d.Done); err != nil {
			return nil, err
		}
		x := items[item]
		cp := &out[x.c].Patients[x.p]
		cp.Decisions = append(cp.Decisions, d)
	}
	return out, rows.Err()
}

// MyDecision is an open decision the actor owns.
type MyDecision struct {
	Decision
	ConferenceID   int64  `json:"conference_id"`
	ConferenceDate string `json:"conference_date"`
	PatientID      int64  `json:"patient_id"`
	PatientName    string `json:"patient_name"`
}

// MyDecisions lists the open decisions the actor owns, earliest due first
// (at most 100): their home page.
func (s *Service) MyDecisions(ctx context.Context) ([]MyDecision, error) {
	var out []MyDecision
	err := s.readAct(ctx, "conference.my_decisions", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "decision_list", a.UnitCode, a.UnitPath
		var err error
		out, err = myDecisions(ctx, tx, a)
		sub.Detail = strconv.Itoa(len(out)) + " results"
		return err
	})
	return out, err
}

func myDecisions(ctx context.Context, tx *store.Tx, a *Actor) ([]MyDecision, error) {
	rows, err := tx.Query(ctx, `SELECT d.id, d.text, d.owner, d.due_on, c.id, c.held_on, pt.id, pt.name
		FROM conference_decisions d JOIN conference_patients cp ON cp.id = d.conference_patient_id
		JOIN case_conferences c ON c.id = cp.conference_id JOIN patients pt ON pt.id = cp.patient_id
		WHERE d.owner = ? AND d.done_at IS NULL ORDER BY d.due_on, d.id LIMIT 100`, a.Username)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MyDecision
	for rows.Next() {
		var m MyDecision
		if err := rows.Scan(&m.ID, &m.Text, &m.Owner, &m.DueOn, &m.ConferenceID, &m.ConferenceDate, &m.PatientID, &m.PatientName); err != nil {
			return nil, err
		}
		m.OwnerName = a.FullName
		out = append(out, m)
	}
	return out, rows.Err()
}

// CompleteDecision marks a decision done; only its owner may.
func (s *Service) CompleteDecision(ctx context.Context, id int64) error {
	return s.act(ctx, "conference.decision_done", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "decision", strconv.FormatInt(id, 10), a.UnitCode, a.UnitPath
		var owner string
		var patient int64
		var done sql.NullString
		err := tx.QueryRow(ctx, `SELECT d.owner, cp.patient_id, d.done_at FROM conference_decisions d
			JOIN conference_patients cp ON cp.id = d.conference_patient_id WHERE d.id = ?`, id).Scan(&owner, &patient, &done)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != a.Username) {
			return errHidden("decision")
		}
		if err != nil {
			return err
		}
		if done.Valid {
			return errConflict("this decision is marked done already")
		}
		sub.Detail = "patient " + strconv.FormatInt(patient, 10)
		_, err = tx.Exec(ctx, `UPDATE conference_decisions SET done_at = ? WHERE id = ?`, store.FormatTime(tx.Now()), id)
		return err
	})
}

// conferenceEvents adds to a timeline the conferences that discussed a patient.
func conferenceEvents(ctx context.Context, tx *store.Tx, id int64, out []TimelineItem) ([]TimelineItem, error) {
	list, err := patientConferences(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		for _, cp := range c.Patients {
			it := TimelineItem{Kind: "conference", Date: c.Date, ID: c.ID, Detail: cp.Summary, Author: c.Author}
			c := c
			c.Patients = []ConferencePatient{cp}
			it.Conference = &c
			out = append(out, it)
		}
	}
	return out, nil
}
