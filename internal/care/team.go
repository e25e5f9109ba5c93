package care

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/auth"
	"kith/internal/store"
)

// Care teams (issue 11). Each patient has a team of staff accounts, each
// with a team role, and of named contacts who are not staff (family,
// volunteers, a partner organisation's contact). Membership is a grant the
// policy reads through Actor.Team: a member reads and writes the record
// with their own role's rights even outside their jurisdiction (the
// district hospital's psychiatrist, a street's social worker). The row is
// looked up on every request (teamGrant), so removing a member revokes the
// grant at once. Every change is a history row and an audit entry.

// TeamRoles are the roles a staff member has on a team.
var TeamRoles = []string{"key_worker", "psychiatrist", "psychotherapist", "social_worker", "nurse", "community_manager", "care_group"}

// ContactKinds are the kinds of team contact who are not staff.
var ContactKinds = []string{"family", "volunteer", "partner"}

// TeamDetail is the audit detail of an access allowed by a care-team grant.
const TeamDetail = "care-team grant"

// TeamMember is a staff account on a patient's care team.
type TeamMember struct {
	Username  string    `json:"username"`
	Name      string    `json:"name"`
	TeamRole  string    `json:"team_role"`
	KeyWorker bool      `json:"key_worker"`
	Role      auth.Role `json:"role"`
	Unit      string    `json:"org_unit"`
	UnitName  string    `json:"org_unit_name"`
	AddedBy   string    `json:"added_by"`
	AddedAt   time.Time `json:"added_at"`
}

// TeamContact is someone on the team who is not staff.
type TeamContact struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind"`
	Name         string    `json:"name"`
	Relation     string    `json:"relation,omitempty"`
	Organisation string    `json:"organisation,omitempty"`
	Phone        string    `json:"phone,omitempty"`
	AddedBy      string    `json:"added_by"`
	AddedAt      time.Time `json:"added_at"`
}

// TeamChange is one entry of a team's history.
type TeamChange struct {
	Change    string    `json:"change"` // added, removed, key_worker_off, contact_added, contact_removed
	Member    string    `json:"member"` // the username, or the contact's name
	TeamRole  string    `json:"team_role,omitempty"`
	KeyWorker bool      `json:"key_worker,omitempty"`
	Actor     string    `json:"actor"`
	ActorName string    `json:"actor_name"`
	At        time.Time `json:"at"`
}

// Team is a patient's care team. CanChange says whether the actor may
// change it.
type Team struct {
	PatientID   int64         `json:"patient_id"`
	PatientName string        `json:"patient_name"`
	Members     []TeamMember  `json:"members"`
	Contacts    []TeamContact `json:"contacts"`
	History     []TeamChange  `json:"history"`
	CanChange   bool          `json:"can_change"`
}

// TeamMemberInput adds a staff account to a team.
type TeamMemberInput struct {
	Username  string `json:"username"`
	TeamRole  string `json:"team_role"`
	KeyWorker bool   `json:"key_worker"`
}

// TeamContactInput adds a contact who is not staff.
type TeamContactInput struct {
	Kind         string `json:"kind"`
	Name         string `json:"name"`
	Relation     string `json:"relation"`
	Organisation string `json:"organisation"`
	Phone        string `json:"phone"`
}

// teamGrant returns the actor with their care-team grant on patient (and
// key-worker grant, if so), or a itself when they are not on the team.
func teamGrant(ctx context.Context, tx *store.Tx, a *Actor, patient int64) (*Actor, error) {
	var kw bool
	err := tx.QueryRow(ctx, `SELECT key_worker FROM care_team_members WHERE username = ? AND patient_id = ?`,
		a.Username, patient).Scan(&kw)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return nil, err
	}
	b := *a
	b.Team = append(slices.Clone(a.Team), patient)
	if kw {
		b.KeyWorker = append(slices.Clone(a.KeyWorker), patient)
	}
	return &b, nil
}

// mayChangeTeam reports whether the actor may change the team of a patient
// whose record lies at path.
func mayChangeTeam(ctx context.Context, tx *store.Tx, a *Actor, patient int64, path string) (bool, error) {
	b, err := teamGrant(ctx, tx, a, patient)
	if err != nil {
		return false, err
	}
	return Allow(b, WriteTeam, Target{Path: path, Patient: patient}), nil
}

// Team returns a patient's care team, its contacts and its history.
func (s *Service) Team(ctx context.Context, patientID int64) (*Team, error) {
	var out *Team
	err := s.view(ctx, "team.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		r, err := visible(ctx, tx, a, ReadPatient, patientID, sub)
		if err != nil {
			return err
		}
		if out, err = teamOf(ctx, tx, a, r.ID, r.path); err != nil {
			return err
		}
		out.PatientName = r.Name
		return nil
	})
	return out, err
}

// teamOf reads a patient's team as the actor sees it.
func teamOf(ctx context.Context, tx *store.Tx, a *Actor, id int64, path string) (*Team, error) {
	t := &Team{PatientID: id, Members: []TeamMember{}, Contacts: []TeamContact{}, History: []TeamChange{}}
	var err error
	if t.CanChange, err = mayChangeTeam(ctx, tx, a, id, path); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT m.username, COALESCE(u.full_name, m.username), m.team_role, m.key_worker, COALESCE(u.role, ''),
		COALESCE(o.code, ''), COALESCE(o.name, ''), m.added_by, m.added_at
		FROM care_team_members m LEFT JOIN users u ON u.username = m.username LEFT JOIN org_units o ON o.id = u.org_unit_id
		WHERE m.patient_id = ? ORDER BY m.key_worker DESC, m.id`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var m TeamMember
		var at string
		if err := rows.Scan(&m.Username, &m.Name, &m.TeamRole, &m.KeyWorker, &m.Role, &m.Unit, &m.UnitName, &m.AddedBy, &at); err != nil {
			rows.Close()
			return nil, err
		}
		m.AddedAt = store.MustTime(at)
		t.Members = append(t.Members, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT id, kind, name, relation, organisation, phone, added_by, added_at
		FROM care_team_contacts WHERE patient_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c TeamContact
		var at string
		if err := rows.Scan(&c.ID, &c.Kind, &c.Name, &c.Relation, &c.Organisation, &c.Phone, &c.AddedBy, &at); err != nil {
			rows.Close()
			return nil, err
		}
		c.AddedAt = store.MustTime(at)
		t.Contacts = append(t.Contacts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The newest 100 changes; the audit log keeps them all.
	// Members are named by full name; contacts by the name they were given.
	rows, err = tx.Query(ctx, `SELECT h.change, CASE WHEN h.change IN ('contact_added', 'contact_removed') THEN h.member
			ELSE COALESCE(mu.full_name, h.member) END,
		h.team_role, h.key_worker, h.actor, COALESCE(u.full_name, h.actor), h.at
		FROM care_team_history h LEFT JOIN users u ON u.username = h.actor LEFT JOIN users mu ON mu.username = h.member
		WHERE h.patient_id = ? ORDER BY h.id DESC LIMIT 100`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c TeamChange
		var at string
		if err := rows.Scan(&c.Change, &c.Member, &c.TeamRole, &c.KeyWorker, &c.Actor, &c.ActorName, &at); err != nil {
			return nil, err
		}
		c.At = store.MustTime(at)
		t.History = append(t.History, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// writableTeam loads a patient for a change of their team, refusing an
// actor who may not change it.
func writableTeam(ctx context.Context, tx *store.Tx, a *Actor, patientID int64, sub *subject) (*patientRow, error) {
	return visible(ctx, tx, a, WriteTeam, patientID, sub)
}

func addTeamHistory(ctx context.Context, tx *store.Tx, patient int64, change, member, role string, kw bool, actor string) error {
	_, err := tx.Exec(ctx, `INSERT INTO care_team_history (patient_id, change, member, team_role, key_worker, actor, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, patient, change, member, role, kw, actor, store.FormatTime(tx.Now()))
	return err
}

// AddTeamMember puts a staff account on a patient's care team. The account
// must be active and of a role that works with records. Making them the
// key worker takes the part from the one before (at most one key worker).
func (s *Service) AddTeamMember(ctx context.Context, patientID int64, in TeamMemberInput) (*Team, error) {
	var out *Team
	err := s.act(ctx, "team.add", func(tx *store.Tx, a *Actor, sub *subject) error {
		r, err := writableTeam(ctx, tx, a, patientID, sub)
		if err != nil {
			return err
		}
		var f fields
		in.Username = strings.TrimSpace(in.Username)
		if !slices.Contains(TeamRoles, in.TeamRole) {
			f.add("team_role", "must be one of "+strings.Join(TeamRoles, ", "))
		}
		if in.TeamRole == "key_worker" {
			in.KeyWorker = true
		}
		var role string
		var disabled bool
		switch err := tx.QueryRow(ctx, `SELECT role, disabled FROM users WHERE username = ?`, in.Username).Scan(&role, &disabled); {
		case in.Username == "":
			f.add("username", "is required")
		case errors.Is(err, sql.ErrNoRows):
			f.add("username", "no account has this username")
		case err != nil:
			return err
		case disabled:
			f.add("username", "this account is disabled")
		case PatientView(auth.Role(role)) == ViewNone:
			f.add("username", "this account's role does not work with patient records")
		}
		if err := f.err(); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM care_team_members WHERE patient_id = ? AND username = ?`,
			patientID, in.Username).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &Error{Kind: Conflict, Message: "this person is on the team already",
				Fields: []FieldError{{Field: "username", Message: "is on the team already"}}}
		}
		if in.KeyWorker {
			var old string
			err := tx.QueryRow(ctx, `SELECT username FROM care_team_members WHERE patient_id = ? AND key_worker = ?`, patientID, true).Scan(&old)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			default:
				if _, err := tx.Exec(ctx, `UPDATE care_team_members SET key_worker = ? WHERE patient_id = ? AND username = ?`,
					false, patientID, old); err != nil {
					return err
				}
				if err := addTeamHistory(ctx, tx, patientID, "key_worker_off", old, "", false, a.Username); err != nil {
					return err
				}
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO care_team_members (patient_id, username, team_role, key_worker, added_by, added_at)
			VALUES (?, ?, ?, ?, ?, ?)`, patientID, in.Username, in.TeamRole, in.KeyWorker, a.Username, store.FormatTime(tx.Now())); err != nil {
			return err
		}
		if err := addTeamHistory(ctx, tx, patientID, "added", in.Username, in.TeamRole, in.KeyWorker, a.Username); err != nil {
			return err
		}
		sub.Detail = "added " + in.Username + " as " + in.TeamRole
		if in.KeyWorker {
			sub.Detail += " (key worker)"
		}
		out, err = teamOf(ctx, tx, a, r.ID, r.path)
		return err
	})
	return out, err
}

// RemoveTeamMember takes a staff account off a patient's care team; their
// grant ends with it.
func (s *Service) RemoveTeamMember(ctx context.Context, patientID int64, username string) error {
	return s.act(ctx, "team.remove", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := writableTeam(ctx, tx, a, patientID, sub); err != nil {
			return err
		}
		var role string
		var kw bool
		err := tx.QueryRow(ctx, `SELECT team_role, key_worker FROM care_team_members WHERE patient_id = ? AND username = ?`,
			patientID, username).Scan(&role, &kw)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound("team member")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM care_team_members WHERE patient_id = ? AND username = ?`, patientID, username); err != nil {
			return err
		}
		sub.Detail = "removed " + username
		return addTeamHistory(ctx, tx, patientID, "removed", username, role, kw, a.Username)
	})
}

// AddTeamContact adds someone who is not staff to a patient's team.
func (s *Service) AddTeamContact(ctx context.Context, patientID int64, in TeamContactInput) (*TeamContact, error) {
	var out *TeamContact
	err := s.act(ctx, "team.contact_add", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := writableTeam(ctx, tx, a, patientID, sub); err != nil {
			return err
		}
		var f fields
		if !slices.Contains(ContactKinds, in.Kind) {
			f.add("kind", "must be one of "+strings.Join(ContactKinds, ", "))
		}
		in.Name = checkName(&f, "name", in.Name, 100)
		in.Relation = checkText(&f, "relation", in.Relation, 50)
		in.Organisation = checkText(&f, "organisation", in.Organisation, 100)
		in.Phone = checkPhone(&f, "phone", in.Phone)
		if in.Kind == "partner" && in.Organisation == "" {
			f.add("organisation", "is required for a partner organisation's contact")
		}
		if err := f.err(); err != nil {
			return err
		}
		c := &TeamContact{Kind: in.Kind, Name: in.Name, Relation: in.Relation, Organisation: in.Organisation, Phone: in.Phone,
			AddedBy: a.Username, AddedAt: tx.Now()}
		if err := tx.QueryRow(ctx, `INSERT INTO care_team_contacts (patient_id, kind, name, relation, organisation, phone, added_by, added_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, patientID, c.Kind, c.Name, c.Relation, c.Organisation, c.Phone,
			a.Username, store.FormatTime(c.AddedAt)).Scan(&c.ID); err != nil {
			return err
		}
		sub.Detail = "contact added " + strconv.FormatInt(c.ID, 10)
		out = c
		return addTeamHistory(ctx, tx, patientID, "contact_added", c.Name, c.Kind, false, a.Username)
	})
	return out, err
}

// RemoveTeamContact takes a contact off a patient's team.
func (s *Service) RemoveTeamContact(ctx context.Context, patientID, contactID int64) error {
	return s.act(ctx, "team.contact_remove", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := writableTeam(ctx, tx, a, patientID, sub); err != nil {
			return err
		}
		var name, kind string
		err := tx.QueryRow(ctx, `SELECT name, kind FROM care_team_contacts WHERE id = ? AND patient_id = ?`, contactID, patientID).
			Scan(&name, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound("team contact")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM care_team_contacts WHERE id = ?`, contactID); err != nil {
			return err
		}
		sub.Detail = "contact removed " + strconv.FormatInt(contactID, 10)
		return addTeamHistory(ctx, tx, patientID, "contact_removed", name, kind, false, a.Username)
	})
}

// MyPatient is a patient on whose team the actor is.
type MyPatient struct {
	PatientID   int64  `json:"patient_id"`
	Name        string `json:"name"`
	OrgUnitName string `json:"org_unit_name"`
	TeamRole    string `json:"team_role"`
	KeyWorker   bool   `json:"key_worker"`
	NextDueOn   string `json:"next_due_on"`
}

// MyPatients lists the patients on whose care team the actor is, by name:
// a team member's home page. The membership is the grant, so the list
// needs no jurisdiction.
func (s *Service) MyPatients(ctx context.Context, p Page) ([]MyPatient, string, error) {
	limit, after, err := p.start("\x1f")
	if err != nil {
		return nil, "", err
	}
	var out []MyPatient
	err = s.readAct(ctx, "team.my_patients", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "patient_list", a.UnitCode, a.UnitPath
		var err error
		out, err = myPatients(ctx, tx, a, after, limit)
		sub.Detail = strconv.Itoa(min(len(out), limit)) + " results"
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(m MyPatient) string {
		return strings.ToLower(m.Name) + "\x1f" + strconv.FormatInt(m.PatientID, 10)
	})
	return out, next, nil
}

// myPatients reads a page of the actor's patients, one more than limit.
func myPatients(ctx context.Context, tx *store.Tx, a *Actor, after cursor, limit int) ([]MyPatient, error) {
	q := `SELECT p.id, p.name, o.name, m.team_role, m.key_worker, p.next_due_on FROM care_team_members m
		JOIN patients p ON p.id = m.patient_id JOIN org_units o ON o.id = p.org_unit_id WHERE m.username = ?`
	args := []any{a.Username}
	if after.set {
		q += ` AND (p.name_key > ? OR (p.name_key = ? AND p.id > ?))`
		args = append(args, after.key, after.key, after.id)
	}
	rows, err := tx.Query(ctx, q+` ORDER BY p.name_key, p.id LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MyPatient
	for rows.Next() {
		var m MyPatient
		if err := rows.Scan(&m.PatientID, &m.Name, &m.OrgUnitName, &m.TeamRole, &m.KeyWorker, &m.NextDueOn); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MyWork is what a team member's home page shows of the care teams: their
// patients, the interventions assigned to them and the decisions they own.
type MyWork struct {
	Patients []MyPatient `json:"patients"`
	// MorePatients says there are more than those listed (MyPatients
	// lists them all, a page at a time).
	MorePatients  bool             `json:"more_patients"`
	Interventions []MyIntervention `json:"interventions"`
	// MoreInterventions says there are more than those listed
	// (MyInterventions lists them all, a page at a time).
	MoreInterventions bool         `json:"more_interventions"`
	Decisions         []MyDecision `json:"decisions"`
}

// homePatients and homeInterventions are how many patients and
// interventions MyWork lists.
const (
	homePatients      = 50
	homeInterventions = 20
)

// MyWork reads the actor's patients (the first homePatients),
// interventions (the first homeInterventions) and open decisions in one read and one audit
// entry, for the home page.
func (s *Service) MyWork(ctx context.Context) (*MyWork, error) {
	var out MyWork
	err := s.readAct(ctx, "team.my_work", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "patient_list", a.UnitCode, a.UnitPath
		var err error
		if out.Patients, err = myPatients(ctx, tx, a, cursor{}, homePatients); err != nil {
			return err
		}
		out.MorePatients = len(out.Patients) > homePatients
		out.Patients = out.Patients[:min(len(out.Patients), homePatients)]
		ivs, err := myInterventions(ctx, tx, a, interventionAfter{}, homeInterventions)
		if err != nil {
			return err
		}
		out.MoreInterventions = len(ivs) > homeInterventions
		for _, m := range ivs[:min(len(ivs), homeInterventions)] {
			out.Interventions = append(out.Interventions, m.MyIntervention)
		}
		out.Decisions, err = myDecisions(ctx, tx, a)
		sub.Detail = strconv.Itoa(len(out.Patients)) + " patients"
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
