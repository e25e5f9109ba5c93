package care

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/store"
)

// The kinds of event. One record serves them all.
var EventKinds = []string{"caregiver_education", "support_group", "public_lecture", "mental_health_week", "training", "case_discussion"}

// The audiences of an event.
var EventAudiences = []string{"staff", "families", "patients", "public"}

// defaultAudience is the audience of an event of a kind when none is given.
var defaultAudience = map[string]string{"caregiver_education": "families", "support_group": "families", "public_lecture": "public",
	"mental_health_week": "public", "training": "staff", "case_discussion": "staff"}

// Event is an education session, support group, lecture, mental health
// week activity, training session or case discussion.
type Event struct {
	ID            int64     `json:"id"`
	Title         string    `json:"title"`
	Kind          string    `json:"kind"`
	StartsAt      time.Time `json:"starts_at"`
	Place         string    `json:"place"`
	OrgUnit       string    `json:"org_unit"`
	OrgUnitName   string    `json:"org_unit_name"`
	Organiser     string    `json:"organiser"`
	OrganiserName string    `json:"organiser_name"`
	Capacity      int       `json:"capacity"`
	Audience      string    `json:"audience"`
	CourseID      *int64    `json:"course_id,omitempty"`
	CourseTitle   string    `json:"course_title,omitempty"`
	// Hours are the training hours attending gives: a training session's
	// course's, a case discussion's own; 0 for the others.
	Hours float64 `json:"hours"`
	Notes string  `json:"notes,omitempty"`
	// Booked is the head count on the attendance list, Present that of
	// those ticked as present.
	Booked  int `json:"booked"`
	Present int `json:"present"`
	// Attendance is the attendance list, on the event's own page.
	Attendance []Attendee `json:"attendance,omitempty"`
	// CancelledAt is when the event was called off (CancelEvent), with
	// the reason; nil while it stands.
	CancelledAt  *time.Time `json:"cancelled_at,omitempty"`
	CancelReason string     `json:"cancel_reason,omitempty"`

	path string
}

// EventInput creates an event. StartsAt is an RFC 3339 time, or a local
// time YYYY-MM-DDTHH:MM in the installation's zone (a web form's).
type EventInput struct {
	Title    string  `json:"title"`
	Kind     string  `json:"kind"`
	StartsAt string  `json:"starts_at"`
	Place    string  `json:"place"`
	OrgUnit  string  `json:"org_unit"`
	Capacity int     `json:"capacity"`
	Audience string  `json:"audience"`
	CourseID int64   `json:"course_id,omitempty"`
	Hours    float64 `json:"hours,omitempty"`
	Notes    string  `json:"notes,omitempty"`
}

// Attendee is one line of an event's attendance list: a staff account, a
// patient, a family member or a head count of the public. A patient or
// family member the reader may not see is listed without name (Hidden).
type Attendee struct {
	ID             int64  `json:"id"`
	Kind           string `json:"kind"` // staff, patient, family or public
	Name           string `json:"name,omitempty"`
	Username       string `json:"username,omitempty"`
	PatientID      int64  `json:"patient_id,omitempty"`
	FamilyMemberID int64  `json:"family_member_id,omitempty"`
	Relation       string `json:"relation,omitempty"` // a family member's, with the patient's name in Of
	Of             string `json:"of,omitempty"`
	HeadCount      int    `json:"head_count"`
	Present        bool   `json:"present"`
	Hidden         bool   `json:"hidden,omitempty"`
}

// AttendanceInput puts one of a staff account, a patient, a family member
// or a head count (public events) on an event's attendance list. Present
// defaults to true: attendance recorded after the event. An attendance
// sheet prepared beforehand lists people with present false, ticked later.
type AttendanceInput struct {
	Username       string `json:"username,omitempty"`
	PatientID      int64  `json:"patient_id,omitempty"`
	FamilyMemberID int64  `json:"family_member_id,omitempty"`
	HeadCount      int    `json:"head_count,omitempty"`
	Present        *bool  `json:"present,omitempty"`
}

// parseStart reads an event's start: RFC 3339, or a local time.
func (s *Service) parseStart(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", v, s.zone)
	return t, err == nil
}

const maxHours = 24.0

func (in *EventInput) normalize(s *Service, f *fields) time.Time {
	in.Title = checkName(f, "title", in.Title, 200)
	if !slices.Contains(EventKinds, in.Kind) {
		f.add("kind", "must be one of "+strings.Join(EventKinds, ", "))
	}
	start, ok := s.parseStart(in.StartsAt)
	switch {
	case strings.TrimSpace(in.StartsAt) == "":
		f.add("starts_at", "is required")
	case !ok:
		f.add("starts_at", "must be a date and time, such as 2026-05-20T14:30:00+08:00")
	case start.Year() < 2000 || start.Year() > 2100:
		f.add("starts_at", "is out of range")
	}
	in.Place = checkText(f, "place", in.Place, 200)
	in.Notes = checkNote(f, "notes", in.Notes, 2000)
	if in.Capacity < 0 || in.Capacity > 100000 {
		f.add("capacity", "must be between 0 (no limit) and 100000")
	}
	if in.Audience == "" {
		in.Audience = defaultAudience[in.Kind]
	}
	if !slices.Contains(EventAudiences, in.Audience) {
		f.add("audience", "must be one of "+strings.Join(EventAudiences, ", "))
	}
	switch in.Kind {
	case "training":
		if in.CourseID == 0 {
			f.add("course_id", "a training session names its course")
		}
		in.Hours = 0 // the course's
	case "case_discussion":
		if in.Hours <= 0 || in.Hours > maxHours || math.IsNaN(in.Hours) {
			f.add("hours", "must be more than 0 and at most 24")
		}
		if in.Audience != "staff" {
			f.add("audience", "a case discussion is for staff")
		}
	default:
		in.Hours = 0
	}
	if in.CourseID != 0 && in.Kind != "training" {
		f.add("course_id", "only a training session names a course")
	}
	return start
}

// CreateEvent puts an event on the calendar of an org unit in the actor's
// jurisdiction. A case discussion is anonymised: it stores no patient.
func (s *Service) CreateEvent(ctx context.Context, in EventInput) (*Event, error) {
	var id int64
	err := s.act(ctx, "event.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "event", a.UnitCode, a.UnitPath
		if !mayEver(a, WriteEvents) {
			return errForbidden()
		}
		f := s.fields()
		start := in.normalize(s, &f)
		var unit *unitRow
		if code := strings.TrimSpace(in.OrgUnit); code == "" {
			f.add("org_unit", "is required")
		} else {
			u, err := unitByCode(ctx, tx, code)
			if err != nil {
				return err
			}
			if u == nil || !Allow(a, WriteEvents, Target{Path: u.Path}) {
				f.add("org_unit", "no org unit you may organise events in has this code")
			} else {
				unit = u
				sub.Unit, sub.Path = u.Code, u.Path
			}
		}
		var courseID any
		if in.Kind == "training" && in.CourseID != 0 && unit != nil {
			c, err := courseByID(ctx, tx, in.CourseID)
			if err != nil {
				return err
			}
			if c == nil || !(strings.HasPrefix(unit.Path, c.path) || strings.HasPrefix(c.path, unit.Path)) {
				f.add("course_id", "no course of this district has this id")
			} else {
				in.Hours, courseID = c.Hours, c.ID
			}
		}
		if err := f.err(); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO events (title, kind, starts_at, place, org_unit_id, org_path, organiser, capacity, audience,
			course_id, hours, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			in.Title, in.Kind, store.FormatTime(start), in.Place, unit.id, unit.Path, a.Username, in.Capacity, in.Audience,
			courseID, in.Hours, in.Notes, store.FormatTime(tx.Now())).Scan(&id)
		if err != nil {
			return err
		}
		sub.ID = strconv.FormatInt(id, 10)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Event(ctx, id)
}

// EventPatch changes an event that stands: what it is called, when and
// where it is, how many may come and its notes. Its kind, unit and course
// stay: they decide who comes and the training hours it gives. Nil fields
// stay as they are.
type EventPatch struct {
	Title    *string `json:"title"`
	StartsAt *string `json:"starts_at"`
	Place    *string `json:"place"`
	Capacity *int    `json:"capacity"`
	Notes    *string `json:"notes"`
}

// UpdateEvent changes an event, with the checks of CreateEvent; a capacity
// may not fall below the people already on the list. A cancelled event is
// not changed.
func (s *Service) UpdateEvent(ctx context.Context, id int64, in EventPatch) (*Event, error) {
	err := s.act(ctx, "event.update", func(tx *store.Tx, a *Actor, sub *subject) error {
		if !mayEver(a, WriteEvents) {
			return errForbidden()
		}
		e, err := visibleEvent(ctx, tx, a, WriteEvents, id, sub)
		if err != nil {
			return err
		}
		if e.CancelledAt != nil {
			return errConflict("the event is cancelled; it cannot be changed")
		}
		full := EventInput{Title: e.Title, Kind: e.Kind, StartsAt: e.StartsAt.Format(time.RFC3339), Place: e.Place,
			OrgUnit: e.OrgUnit, Capacity: e.Capacity, Audience: e.Audience, Hours: e.Hours, Notes: e.Notes}
		if e.CourseID != nil {
			full.CourseID = *e.CourseID
		}
		var changed []string
		for _, c := range []struct {
			name string
			from *string
			to   *string
		}{{"title", in.Title, &full.Title}, {"starts_at", in.StartsAt, &full.StartsAt}, {"place", in.Place, &full.Place},
			{"notes", in.Notes, &full.Notes}} {
			if c.from != nil {
				*c.to = *c.from
				changed = append(changed, c.name)
			}
		}
		if in.Capacity != nil {
			full.Capacity = *in.Capacity
			changed = append(changed, "capacity")
		}
		f := s.fields()
		start := full.normalize(s, &f)
		if full.Capacity > 0 && full.Capacity < e.Booked {
			f.add("capacity", "is below the "+strconv.Itoa(e.Booked)+" people already on the list")
		}
		if err := f.err(); err != nil {
			return err
		}
		sub.Detail = "changed " + strings.Join(changed, ", ")
		_, err = tx.Exec(ctx, `UPDATE events SET title = ?, starts_at = ?, place = ?, capacity = ?, notes = ? WHERE id = ?`,
			full.Title, store.FormatTime(start), full.Place, full.Capacity, full.Notes, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Event(ctx, id)
}

// EventCancel calls an event off, saying why.
type EventCancel struct {
	Reason string `json:"reason"`
}

// CancelEvent calls an event off: it stays on the calendars, marked, with
// the reason, and takes no more attendance. An event at which anyone was
// ticked present took place, and is not cancelled.
func (s *Service) CancelEvent(ctx context.Context, id int64, in EventCancel) (*Event, error) {
	err := s.act(ctx, "event.cancel", func(tx *store.Tx, a *Actor, sub *subject) error {
		if !mayEver(a, WriteEvents) {
			return errForbidden()
		}
		e, err := visibleEvent(ctx, tx, a, WriteEvents, id, sub)
		if err != nil {
			return err
		}
		f := s.fields()
		in.Reason = checkNote(&f, "reason", in.Reason, 500)
		if in.Reason == "" {
			f.add("reason", "is required")
		}
		if err := f.err(); err != nil {
			return err
		}
		switch {
		case e.CancelledAt != nil:
			return errConflict("the event is cancelled already")
		case e.Present > 0:
			return errConflict("people were ticked present: the event took place")
		}
		_, err = tx.Exec(ctx, `UPDATE events SET cancelled_at = ?, cancel_reason = ? WHERE id = ?`,
			store.FormatTime(tx.Now()), in.Reason, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Event(ctx, id)
}

const eventSelect = `SELECT e.id, e.title, e.kind, e.starts_at, e.place, o.code, o.name, e.organiser, COALESCE(u.full_name, e.organiser),
	e.capacity, e.audience, e.course_id, COALESCE(c.title, ''), e.hours, e.notes, e.booked,
	(SELECT COALESCE(sum(x.head_count), 0) FROM event_attendance x WHERE x.event_id = e.id AND x.present = ?), e.org_path,
	e.cancelled_at, e.cancel_reason
	FROM events e JOIN org_units o ON o.id = e.org_unit_id LEFT JOIN users u ON u.username = e.organiser
	LEFT JOIN courses c ON c.id = e.course_id`

func scanEvent(sc interface{ Scan(...any) error }) (*Event, error) {
	var e Event
	var start, cancelled string
	var course sql.NullInt64
	if err := sc.Scan(&e.ID, &e.Title, &e.Kind, &start, &e.Place, &e.OrgUnit, &e.OrgUnitName, &e.Organiser, &e.OrganiserName,
		&e.Capacity, &e.Audience, &course, &e.CourseTitle, &e.Hours, &e.Notes, &e.Booked, &e.Present, &e.path,
		&cancelled, &e.CancelReason); err != nil {
		return nil, err
	}
	e.StartsAt = store.MustTime(start)
	if cancelled != "" {
		t := store.MustTime(cancelled)
		e.CancelledAt = &t
	}
	if course.Valid {
		e.CourseID = &course.Int64
	}
	return &e, nil
}

func eventByID(ctx context.Context, tx *store.Tx, id int64) (*Event, error) {
	e, err := scanEvent(tx.QueryRow(ctx, eventSelect+` WHERE e.id = ?`, true, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return e, err
}

// visibleEvent loads an event the actor may do act on, or a not-found.
func visibleEvent(ctx context.Context, tx *store.Tx, a *Actor, act Action, id int64, sub *subject) (*Event, error) {
	sub.Type, sub.ID = "event", strconv.FormatInt(id, 10)
	e, err := eventByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, errNotFound("event")
	}
	sub.Unit, sub.Path = e.OrgUnit, e.path
	if !Allow(a, ReadEvents, Target{Path: e.path}) {
		return nil, errHidden("event")
	}
	if !Allow(a, act, Target{Path: e.path}) {
		return nil, errForbidden()
	}
	return e, nil
}

// Event returns an event with its attendance list. A patient or family
// member on it whose record the actor may not read is listed without name;
// reading the list is audited, as it says who came.
func (s *Service) Event(ctx context.Context, id int64) (*Event, error) {
	var out *Event
	err := s.view(ctx, "event.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		e, err := visibleEvent(ctx, tx, a, ReadEvents, id, sub)
		if err != nil {
			return err
		}
		if e.Attendance, err = attendanceOf(ctx, tx, a, id); err != nil {
			return err
		}
		out = e
		return nil
	})
	return out, err
}

func attendanceOf(ctx context.Context, tx *store.Tx, a *Actor, eventID int64) ([]Attendee, error) {
	rows, err := tx.Query(ctx, `SELECT x.id, COALESCE(x.username, ''), COALESCE(u.full_name, ''), COALESCE(x.patient_id, 0),
		COALESCE(x.family_member_id, 0), x.head_count, x.present, COALESCE(p.name, fp.name, ''), COALESCE(p.org_path, fp.org_path, ''),
		COALESCE(f.name, ''), COALESCE(f.relation, '')
		FROM event_attendance x LEFT JOIN users u ON u.username = x.username
		LEFT JOIN patients p ON p.id = x.patient_id
		LEFT JOIN family_members f ON f.id = x.family_member_id LEFT JOIN patients fp ON fp.id = f.patient_id
		WHERE x.event_id = ? ORDER BY x.id`, eventID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Attendee{}
	for rows.Next() {
		var at Attendee
		var staffName, patientName, path, famName string
		if err := rows.Scan(&at.ID, &at.Username, &staffName, &at.PatientID, &at.FamilyMemberID, &at.HeadCount, &at.Present,
			&patientName, &path, &famName, &at.Relation); err != nil {
			return nil, err
		}
		switch {
		case at.Username != "":
			at.Kind, at.Name = "staff", staffName
		case at.PatientID != 0:
			at.Kind, at.Name = "patient", patientName
		case at.FamilyMemberID != 0:
			at.Kind, at.Name, at.Of = "family", famName, patientName
		default:
			at.Kind = "public"
		}
		if path != "" && !Allow(a, ReadPatient, Target{Path: path}) {
			at.Name, at.Of, at.Relation, at.PatientID, at.FamilyMemberID, at.Hidden = "", "", "", 0, 0, true
		}
		out = append(out, at)
	}
	return out, rows.Err()
}

// EventQuery filters the calendar: the events of an org unit (the actor's
// own by default), those beneath it and those of the units above it, from
// one day to another (dates, inclusive), of one kind.
type EventQuery struct {
	OrgUnit, From, To, Kind string
}

// Events lists the calendar, soonest first.
func (s *Service) Events(ctx context.Context, q EventQuery, p Page) ([]Event, string, error) {
	limit, after, err := p.start("\x1f")
	if err != nil {
		return nil, "", err
	}
	f := s.fields()
	from, to := s.dayRange(&f, q.From, q.To)
	if q.Kind != "" && !slices.Contains(EventKinds, q.Kind) {
		f.add("kind", "must be one of "+strings.Join(EventKinds, ", "))
	}
	if err := f.err(); err != nil {
		return nil, "", err
	}
	var out []Event
	err = s.readAct(ctx, "event.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type = "event_list"
		// A system administrator has no unit: their calendar is everyone's.
		scope := "/"
		if a.UnitPath != "" || q.OrgUnit != "" {
			if scope, err = scopeFor(ctx, tx, a, ReadEvents, q.OrgUnit, sub); err != nil {
				return err
			}
		} else if !Allow(a, ReadEvents, Target{Path: scope}) {
			return errForbidden()
		}
		lo, hi := store.Beneath(scope)
		cond := `(e.org_path >= ? AND e.org_path < ?`
		args := []any{true, lo, hi}
		for _, up := range above(scope) {
			cond += ` OR e.org_path = ?`
			args = append(args, up)
		}
		sqlq := eventSelect + ` WHERE ` + cond + `)`
		if from != "" {
			sqlq += ` AND e.starts_at >= ?`
			args = append(args, from)
		}
		if to != "" {
			sqlq += ` AND e.starts_at < ?`
			args = append(args, to)
		}
		if q.Kind != "" {
			sqlq += ` AND e.kind = ?`
			args = append(args, q.Kind)
		}
		if after.set {
			sqlq += ` AND (e.starts_at > ? OR (e.starts_at = ? AND e.id > ?))`
			args = append(args, after.key, after.key, after.id)
		}
		sqlq += ` ORDER BY e.starts_at, e.id LIMIT ?`
		args = append(args, limit+1)
		rows, err := tx.Query(ctx, sqlq, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				return err
			}
			out = append(out, *e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(e Event) string {
		return store.FormatTime(e.StartsAt) + "\x1f" + strconv.FormatInt(e.ID, 10)
	})
	return out, next, nil
}

// above lists the paths above a path: /D1/ and /D1/S1/ for /D1/S1/C1/.
func above(path string) []string {
	var out []string
	for i := 1; i < len(path)-1; i++ {
		if path[i] == '/' {
			out = append(out, path[:i+1])
		}
	}
	return out
}

// dayRange turns two optional dates (inclusive) into the instants that
// bound them in the installation's zone, as stored.
func (s *Service) dayRange(f *fields, from, to string) (lo, hi string) {
	day := func(field, v string, next int) string {
		if v == "" {
			return ""
		}
		t, err := time.ParseInLocation(time.DateOnly, v, s.zone)
		if err != nil {
			f.add(field, "must be a real date, YYYY-MM-DD")
			return ""
		}
		return store.FormatTime(t.AddDate(0, 0, next))
	}
	return day("from", from, 0), day("to", to, 1)
}

// AddAttendance puts someone on an event's attendance list. Over the
// event's capacity is a Conflict, and so is someone already on it. Putting
// a patient or a family member on it is reading their record: the actor
// must see it, and the entry names the patient.
func (s *Service) AddAttendance(ctx context.Context, eventID int64, in AttendanceInput) (*Attendee, error) {
	var out *Attendee
	err := s.act(ctx, "event.attend", func(tx *store.Tx, a *Actor, sub *subject) error {
		e, err := visibleEvent(ctx, tx, a, WriteEvents, eventID, sub)
		if err != nil {
			return err
		}
		if e.CancelledAt != nil {
			return errConflict("the event is cancelled")
		}
		n := 0
		for _, set := range []bool{in.Username != "", in.PatientID != 0, in.FamilyMemberID != 0, in.HeadCount != 0} {
			if set {
				n++
			}
		}
		if n != 1 {
			return invalid("username", "give exactly one of username, patient_id, family_member_id or head_count")
		}
		at := Attendee{HeadCount: 1, Present: in.Present == nil || *in.Present}
		var user, patient, family any
		switch {
		case in.Username != "":
			// Staff of the event's district only: the answer says nothing
			// of the accounts of other districts.
			var name string
			lo, hi := store.Beneath(districtOf(e.path))
			err := tx.QueryRow(ctx, `SELECT u.full_name FROM users u JOIN org_units o ON o.id = u.org_unit_id
				WHERE u.username = ? AND o.path >= ? AND o.path < ?`, in.Username, lo, hi).Scan(&name)
			if errors.Is(err, sql.ErrNoRows) {
				return invalid("username", "no account of this district has this username")
			}
			if err != nil {
				return err
			}
			at.Kind, at.Username, at.Name, user = "staff", in.Username, name, in.Username
		case in.PatientID != 0, in.FamilyMemberID != 0:
			if e.Kind == "case_discussion" {
				return invalid("patient_id", "a case discussion is anonymised: it lists staff only")
			}
			pid := in.PatientID
			if in.FamilyMemberID != 0 {
				var name, rel string
				err := tx.QueryRow(ctx, `SELECT patient_id, name, relation FROM family_members WHERE id = ?`, in.FamilyMemberID).
					Scan(&pid, &name, &rel)
				if errors.Is(err, sql.ErrNoRows) {
					return errNotFound("family member")
				}
				if err != nil {
					return err
				}
				at.Kind, at.FamilyMemberID, at.Name, at.Relation, family = "family", in.FamilyMemberID, name, rel, in.FamilyMemberID
			}
			eventSub := *sub
			psub := subject{}
			p, err := visible(ctx, tx, a, ReadPatient, pid, &psub)
			if err != nil {
				if in.FamilyMemberID != 0 && ErrorKind(err) == NotFound {
					return errHidden("family member")
				}
				return err
			}
			// The entry is about the patient; the event is in its detail.
			*sub = psub
			sub.Detail = "event " + eventSub.ID
			if in.FamilyMemberID == 0 {
				at.Kind, at.PatientID, at.Name, patient = "patient", pid, p.Name, pid
			} else {
				at.Of = p.Name
			}
		default:
			if e.Audience != "public" {
				return invalid("head_count", "a head count is for public events")
			}
			if in.HeadCount < 1 || in.HeadCount > 100000 {
				return invalid("head_count", "must be between 1 and 100000")
			}
			at.Kind, at.HeadCount = "public", in.HeadCount
		}
		res, err := tx.Exec(ctx, `UPDATE events SET booked = booked + ? WHERE id = ? AND (capacity = 0 OR booked + ? <= capacity)`,
			at.HeadCount, eventID, at.HeadCount)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil {
			return err
		} else if k == 0 {
			return &Error{Kind: Conflict, Message: fmt.Sprintf("the event is full: %d of %d places are taken", e.Booked, e.Capacity)}
		}
		err = tx.QueryRow(ctx, `INSERT INTO event_attendance (event_id, username, patient_id, family_member_id, head_count, present,
			created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, eventID, user, patient, family, at.HeadCount, at.Present,
			store.FormatTime(tx.Now())).Scan(&at.ID)
		if store.IsUniqueViolation(err) {
			return errConflict("already on the attendance list")
		}
		if err != nil {
			return err
		}
		out = &at
		return nil
	})
	return out, err
}

// TickAttendance marks one line of an event's attendance list present or
// absent: the printed sheet ticked off on screen.
func (s *Service) TickAttendance(ctx context.Context, eventID, attendanceID int64, present bool) error {
	return s.act(ctx, "event.tick", func(tx *store.Tx, a *Actor, sub *subject) error {
		e, err := visibleEvent(ctx, tx, a, WriteEvents, eventID, sub)
		if err != nil {
			return err
		}
		if e.CancelledAt != nil {
			return errConflict("the event is cancelled")
		}
		sub.Detail = "attendance " + strconv.FormatInt(attendanceID, 10)
		res, err := tx.Exec(ctx, `UPDATE event_attendance SET present = ? WHERE id = ? AND event_id = ?`, present, attendanceID, eventID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errNotFound("attendance")
		}
		return nil
	})
}

// PublicEvent is an event open to the public, as the public site shows it.
type PublicEvent struct {
	ID          int64     `json:"id"`
	Title       string    `json:"title"`
	Kind        string    `json:"kind"`
	StartsAt    time.Time `json:"starts_at"`
	Place       string    `json:"place"`
	OrgUnitName string    `json:"org_unit_name"`
	Capacity    int       `json:"capacity"`
	Booked      int       `json:"booked"`
	// Cancelled events stay on the public calendar, marked, so that those
	// who meant to come learn it.
	Cancelled bool `json:"cancelled"`
}

// PublicEvents lists the public events from a day on, soonest first, for
// the public site: no one signs in, and nothing personal is read.
func (s *Service) PublicEvents(ctx context.Context, from time.Time, limit int) ([]PublicEvent, error) {
	out := []PublicEvent{}
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT e.id, e.title, e.kind, e.starts_at, e.place, o.name, e.capacity, e.booked,
			e.cancelled_at <> ''
			FROM events e JOIN org_units o ON o.id = e.org_unit_id
			WHERE e.audience = ? AND e.starts_at >= ? ORDER BY e.starts_at, e.id LIMIT ?`, "public", store.FormatTime(from), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e PublicEvent
			var start string
			if err := rows.Scan(&e.ID, &e.Title, &e.Kind, &start, &e.Place, &e.OrgUnitName, &e.Capacity, &e.Booked, &e.Cancelled); err != nil {
				return err
			}
			e.StartsAt = store.MustTime(start)
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, unavailable(err)
}
