package care

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"kith/internal/clinical"
	"kith/internal/directory"
	"kith/internal/kpi"
	"kith/internal/ratelimit"
	"kith/internal/store"
)

// ScreeningInput is a resident's anonymous self-screening.
type ScreeningInput struct {
	Instrument string `json:"instrument"`
	Answers    []int  `json:"answers"`
	Community  string `json:"community,omitempty"` // org unit code, if the resident chose one
}

// Screening is a stored self-screening: only the instrument, the answers,
// the score, the week and the community — nothing that identifies the
// resident, and no time finer than the week.
type Screening struct {
	ID         string   `json:"id"`
	Instrument string   `json:"instrument"`
	Version    int      `json:"version"`
	Week       string   `json:"week"` // the Monday of the week
	Community  string   `json:"community,omitempty"`
	Score      int      `json:"score"`
	Band       string   `json:"band"`
	Flags      []string `json:"flags"`
	Urgent     bool     `json:"urgent"` // a flag that would raise an alert for a patient, such as PHQ-9 item 9
}

// The public site's writes are limited per client address, across every
// server on the database (package ratelimit): a burst, then one more every
// so often.
var (
	screenEvery, screenBurst   = time.Minute, 20
	contactEvery, contactBurst = 10 * time.Minute, 3
)

// limit refuses a public write from an address that has made too many.
func (s *Service) limit(ctx context.Context, l *ratelimit.Limiter) error {
	ok, wait, err := l.Allow(ctx, RequestFrom(ctx).ClientAddr, time.Now())
	if err != nil {
		return err
	}
	if !ok {
		return &Error{Kind: TooManyRequests, Message: "too many requests from your connection; please wait a little and try again",
			RetryAfter: wait}
	}
	return nil
}

// SetDirectory sets the hotlines shown to residents when the service
// network holds none; the network itself is seeded by SeedDirectory.
func (s *Service) SetDirectory(d *directory.Directory) { s.directory = d }

// Help is what a resident is shown beside a result: the hotlines, and the
// services nearest the community they chose.
type Help struct {
	Hotlines []directory.Hotline `json:"hotlines"`
	Services []directory.Service `json:"services"`
}

// Help returns the hotlines and the services nearest a community (by code;
// an unknown or empty code gives the hotlines only), from the service
// network. It needs no sign-in.
func (s *Service) Help(ctx context.Context, community string) (*Help, error) {
	var path string
	if community != "" {
		err := s.db.QueryRow(ctx, `SELECT path FROM org_units WHERE code = ?`, community).Scan(&path)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	return s.helpFrom(ctx, path)
}

// PublicUnit is a community a resident may choose, with the names above it.
type PublicUnit struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Street string `json:"street"`
}

// Communities lists the communities, by street and name, for residents to
// choose from. Names of org units are public; nothing else is shown.
func (s *Service) Communities(ctx context.Context) ([]PublicUnit, error) {
	rows, err := s.db.Query(ctx, `SELECT c.code, c.name, COALESCE(p.name, '') FROM org_units c
		LEFT JOIN org_units p ON p.id = c.parent_id WHERE c.level = ? ORDER BY c.path`, string(Community))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PublicUnit{}
	for rows.Next() {
		var u PublicUnit
		if err := rows.Scan(&u.Code, &u.Name, &u.Street); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// community returns the path and id of a community by code, or an Invalid
// error on field.
func community(ctx context.Context, tx *store.Tx, field, code string) (*unitRow, error) {
	u, err := unitByCode(ctx, tx, code)
	if err != nil {
		return nil, err
	}
	if u == nil || u.Level != Community {
		return nil, invalid(field, "is not a community; choose one from the list")
	}
	return u, nil
}

// Screen scores an anonymous self-screening and stores it. It needs no
// sign-in and writes no audit entry: nothing in it is personal.
func (s *Service) Screen(ctx context.Context, in ScreeningInput) (*Screening, error) {
	if err := s.limit(ctx, s.screenLimit); err != nil {
		return nil, err
	}
	d := s.instruments.Latest(in.Instrument)
	if in.Instrument == "" {
		return nil, invalid("instrument", "is required")
	}
	if d == nil || !d.Public {
		return nil, invalid("instrument", "is not offered for self-screening; choose phq9, gad7 or k10")
	}
	scored, err := s.scoreAnswers(in.Instrument, in.Answers)
	if err != nil {
		return nil, err
	}
	d, r := scored.def, scored.result
	id := make([]byte, 16)
	rand.Read(id)
	sc := &Screening{ID: hex.EncodeToString(id), Instrument: d.ID, Version: d.Version,
		Week: clinical.WeekOf(s.today()).String(), Score: r.Score, Band: r.Band, Flags: r.Flags, Urgent: d.Alerts(r.Flags)}
	err = s.db.Transact(ctx, func(tx *store.Tx) error {
		var unit any
		path := ""
		if in.Community != "" {
			u, err := community(ctx, tx, "community", in.Community)
			if err != nil {
				return err
			}
			unit, path, sc.Community = u.id, u.Path, u.Code
		}
		_, err := tx.Exec(ctx, `INSERT INTO screenings (id, instrument, version, week, unit_id, org_path, answers, score, band, flags)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, sc.ID, d.ID, d.Version, sc.Week, unit, path, scored.items, r.Score, r.Band,
			strings.Join(r.Flags, " "))
		return err
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// ContactInput is a resident's request to be contacted by a community worker.
type ContactInput struct {
	Screening string `json:"screening,omitempty"` // the id of their screening, if any
	Name      string `json:"name"`
	Phone     string `json:"phone"`
	Community string `json:"community"`
	Message   string `json:"message,omitempty"`
	Consent   bool   `json:"consent"`
}

// ContactOutcomes are the outcomes a worker records.
var ContactOutcomes = []string{"reached", "registered", "referred", "no_need"}

// ContactRequest is a request on a community's worklist.
type ContactRequest struct {
	ID            int64      `json:"id"`
	Community     string     `json:"community"`
	CommunityName string     `json:"community_name"`
	Name          string     `json:"name"`
	Phone         string     `json:"phone"`
	Message       string     `json:"message,omitempty"`
	Urgent        bool       `json:"urgent"`
	RequestedOn   string     `json:"requested_on"`
	Screening     *Screening `json:"screening,omitempty"`
	Outcome       string     `json:"outcome,omitempty"`
	OutcomeNote   string     `json:"outcome_note,omitempty"`
	OutcomeBy     string     `json:"outcome_by,omitempty"`
	OutcomeByName string     `json:"outcome_by_name,omitempty"` // the full name of outcome_by
	OutcomeAt     *time.Time `json:"outcome_at,omitempty"`
	PatientID     *int64     `json:"patient_id,omitempty"`
	path          string     // the community's path, for the policy
}

// publicActor is the audit log's name for a resident who is not signed in.
const publicActor = "public"

// RequestContact records a resident's request to be contacted. It needs no
// sign-in. The audit entry keeps no client address: the request is linked
// to an anonymous screening, which must stay unlinkable to an address.
func (s *Service) RequestContact(ctx context.Context, in ContactInput) (*ContactRequest, error) {
	if err := s.limit(ctx, s.contactLimit); err != nil {
		return nil, err
	}
	ctx = WithRequest(ctx, RequestInfo{RequestID: RequestFrom(ctx).RequestID})
	var out *ContactRequest
	err := s.record(ctx, publicActor, "contact.create", func(tx *store.Tx, sub *subject) error {
		sub.Type = "contact_request"
		var f fields
		in.Name = checkText(&f, "name", in.Name, 100)
		if in.Name == "" {
			f.add("name", "is required, so that the worker knows whom to ask for")
		}
		in.Phone = checkPhone(&f, "phone", in.Phone)
		if in.Phone == "" {
			f.add("phone", "is required, so that a worker can call you")
		}
		in.Message = checkNote(&f, "message", in.Message, 500)
		if !in.Consent {
			f.add("consent", "please agree that a community worker may contact you")
		}
		if in.Community == "" {
			f.add("community", "is required: choose the community you live in")
		}
		if err := f.err(); err != nil {
			return err
		}
		u, err := community(ctx, tx, "community", in.Community)
		if err != nil {
			return err
		}
		sub.Unit, sub.Path = u.Code, u.Path
		c := &ContactRequest{Community: u.Code, CommunityName: u.Name, Name: in.Name, Phone: in.Phone, Message: in.Message,
			RequestedOn: s.today().String()}
		var screening any
		if in.Screening != "" {
			sc, err := screeningByID(ctx, tx, in.Screening)
			if err != nil {
				return err
			}
			if sc == nil {
				return invalid("screening", "is not a screening this server holds")
			}
			screening, c.Screening, c.Urgent = sc.ID, sc, s.urgent(sc)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO contact_requests (screening_id, unit_id, org_path, name, phone, message, urgent, requested_on)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, screening, u.id, u.Path, c.Name, c.Phone, c.Message, c.Urgent,
			c.RequestedOn).Scan(&c.ID); err != nil {
			return err
		}
		sub.ID = strconv.FormatInt(c.ID, 10)
		out = c
		return nil
	})
	return out, err
}

// urgent reports whether a screening's flags would raise an alert.
func (s *Service) urgent(sc *Screening) bool {
	d := s.instruments.Version(sc.Instrument, sc.Version)
	return d != nil && d.Alerts(sc.Flags)
}

func screeningByID(ctx context.Context, tx *store.Tx, id string) (*Screening, error) {
	var sc Screening
	var flags string
	err := tx.QueryRow(ctx, `SELECT s.id, s.instrument, s.version, s.week, COALESCE(u.code, ''), s.score, s.band, s.flags
		FROM screenings s LEFT JOIN org_units u ON u.id = s.unit_id WHERE s.id = ?`, id).
		Scan(&sc.ID, &sc.Instrument, &sc.Version, &sc.Week, &sc.Community, &sc.Score, &sc.Band, &flags)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	sc.Flags = strings.Fields(flags)
	return &sc, err
}

// ContactQuery chooses contact requests: open (the default), closed or all,
// of the actor's jurisdiction or of OrgUnit within it.
type ContactQuery struct {
	State   string
	OrgUnit string
}

var contactColumns = `c.id, u.code, u.name, c.name, c.phone, c.message, c.urgent, c.requested_on, c.outcome, c.outcome_note,
	c.outcome_by, c.outcome_at, c.patient_id, s.id, s.instrument, s.version, s.week, s.score, s.band, s.flags, c.org_path, ` + fullName("c.outcome_by")

const contactFrom = ` FROM contact_requests c JOIN org_units u ON u.id = c.unit_id LEFT JOIN screenings s ON s.id = c.screening_id`

func scanContact(sc interface{ Scan(...any) error }) (ContactRequest, error) {
	var c ContactRequest
	var outcome, by, at, sid, instr, week, band, flags, byName sql.NullString
	var version, score sql.NullInt64
	var patient sql.NullInt64
	err := sc.Scan(&c.ID, &c.Community, &c.CommunityName, &c.Name, &c.Phone, &c.Message, &c.Urgent, &c.RequestedOn, &outcome,
		&c.OutcomeNote, &by, &at, &patient, &sid, &instr, &version, &week, &score, &band, &flags, &c.path, &byName)
	c.Outcome, c.OutcomeBy, c.OutcomeByName, c.PatientID = outcome.String, by.String, byName.String, idOf(patient)
	if at.Valid {
		t := store.MustTime(at.String)
		c.OutcomeAt = &t
	}
	if sid.Valid {
		c.Screening = &Screening{ID: sid.String, Instrument: instr.String, Version: int(version.Int64), Week: week.String,
			Community: c.Community, Score: int(score.Int64), Band: band.String, Flags: strings.Fields(flags.String)}
		c.Screening.Urgent = c.Urgent
	}
	return c, err
}

// ContactRequests lists residents' contact requests for the worklist:
// urgent first (a screening with a flag such as PHQ-9 item 9), then oldest
// first. Names and phones are personal data: the read is audited.
func (s *Service) ContactRequests(ctx context.Context, q ContactQuery, pg Page) ([]ContactRequest, string, error) {
	limit, after, err := pg.start("|")
	if err != nil {
		return nil, "", err
	}
	key, id := after.key, after.id
	var state string
	switch q.State {
	case "", "open":
		state = " AND c.outcome IS NULL"
	case "closed":
		state = " AND c.outcome IS NOT NULL"
	case "all":
	default:
		return nil, "", invalid("state", "must be open, closed or all")
	}
	var out []ContactRequest
	err = s.view(ctx, "contact.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type = "contact_requests"
		scope, err := scopeFor(ctx, tx, a, ReadContacts, q.OrgUnit, sub)
		if err != nil {
			return err
		}
		sub.ID = sub.Unit
		lo, hi := store.Beneath(scope)
		where, args := "c.org_path >= ? AND c.org_path < ?"+state, []any{lo, hi}
		if after.set {
			// The keyset is (urgent, requested_on, id): "1 2026-11-25|42".
			urgent, on, _ := strings.Cut(key, " ")
			u := urgent == "1"
			where += " AND (c.urgent < ? OR (c.urgent = ? AND (c.requested_on > ? OR (c.requested_on = ? AND c.id > ?))))"
			args = append(args, u, u, on, on, id)
		}
		rows, err := tx.Query(ctx, `SELECT `+contactColumns+contactFrom+` WHERE `+where+`
			ORDER BY c.urgent DESC, c.requested_on, c.id LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanContact(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(c ContactRequest) string {
		u := "0"
		if c.Urgent {
			u = "1"
		}
		return u + " " + c.RequestedOn + "|" + strconv.FormatInt(c.ID, 10)
	})
	return out, next, nil
}

// ContactOutcome is what came of a contact request.
type ContactOutcome struct {
	Outcome   string `json:"outcome"` // reached, registered, referred, no_need
	Note      string `json:"note,omitempty"`
	PatientID *int64 `json:"patient_id,omitempty"` // the patient registered, when the outcome is registered
}

// RecordContactOutcome closes a contact request with its outcome.
func (s *Service) RecordContactOutcome(ctx context.Context, id int64, in ContactOutcome) (*ContactRequest, error) {
	var out ContactRequest
	err := s.act(ctx, "contact.outcome", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID = "contact_request", strconv.FormatInt(id, 10)
		c, err := scanContact(tx.QueryRow(ctx, `SELECT `+contactColumns+contactFrom+` WHERE c.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound("contact request")
		}
		if err != nil {
			return err
		}
		sub.Unit, sub.Path = c.Community, c.path
		if !Allow(a, WriteContacts, Target{Path: c.path}) {
			return errHidden("contact request")
		}
		var f fields
		found := false
		for _, o := range ContactOutcomes {
			found = found || o == in.Outcome
		}
		if !found {
			f.add("outcome", "must be one of "+strings.Join(ContactOutcomes, ", "))
		}
		in.Note = checkNote(&f, "note", in.Note, 2000)
		if in.PatientID != nil && in.Outcome != "registered" {
			f.add("patient_id", "is given only when the outcome is registered")
		}
		if err := f.err(); err != nil {
			return err
		}
		if in.PatientID != nil {
			var ps subject
			if _, err := visible(ctx, tx, a, ReadPatient, *in.PatientID, &ps); err != nil {
				return invalid("patient_id", "no patient you may see has this id")
			}
		}
		if c.Outcome != "" {
			return errConflict("the outcome of this request was already recorded; see the closed requests")
		}
		now := tx.Now()
		if _, err := tx.Exec(ctx, `UPDATE contact_requests SET outcome = ?, outcome_note = ?, outcome_by = ?, outcome_at = ?, patient_id = ?
			WHERE id = ?`, in.Outcome, in.Note, a.Username, store.FormatTime(now), in.PatientID, id); err != nil {
			return err
		}
		c.Outcome, c.OutcomeNote, c.OutcomeBy, c.OutcomeAt, c.PatientID = in.Outcome, in.Note, a.Username, &now, in.PatientID
		sub.Detail = in.Outcome
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ScreeningCount is how many anonymous screenings with one instrument fell
// in one band.
type ScreeningCount struct {
	Instrument string `json:"instrument"`
	Band       string `json:"band"`
	Count      int    `json:"count"`
}

// ScreeningCounts counts the anonymous screenings of a unit's communities
// in the weeks that begin within a period, by instrument and band, in SQL.
// Screenings without a community count in no unit.
func (s *Service) ScreeningCounts(ctx context.Context, unitCode string, p kpi.Period) ([]ScreeningCount, error) {
	var out []ScreeningCount
	f, err := s.actStale(ctx, "figures.screenings", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := s.figureScope(ctx, tx, a, unitCode, sub)
		if err != nil {
			return err
		}
		if err := s.checkPeriod("period", p); err != nil {
			return err
		}
		sub.Detail = "screenings " + p.String()
		out, err = screeningCounts(ctx, tx, u.Path, p)
		return err
	})
	noteFreshness(ctx, f)
	return out, err
}

func screeningCounts(ctx context.Context, tx *store.Tx, path string, p kpi.Period) ([]ScreeningCount, error) {
	lo, hi := store.Beneath(path)
	rows, err := tx.Query(ctx, `SELECT instrument, band, COUNT(*) FROM screenings
		WHERE org_path >= ? AND org_path < ? AND week >= ? AND week <= ?
		GROUP BY instrument, band ORDER BY instrument, band`, lo, hi, p.From.String(), p.To.String())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ScreeningCount{}
	for rows.Next() {
		var c ScreeningCount
		if err := rows.Scan(&c.Instrument, &c.Band, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
