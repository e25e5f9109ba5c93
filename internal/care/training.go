package care

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/auth"
	"kith/internal/store"
)

// CourseTopics are the topics of staff training courses.
var CourseTopics = []string{"crisis_assessment", "nonviolent_communication", "behaviour_recognition", "family_coordination",
	"rehabilitation_planning", "other"}

// DefaultTrainingTarget is the yearly training hours each staff member
// should reach when the installation sets no other (KITH_TRAINING_HOURS).
const DefaultTrainingTarget = 20.0

// SetTrainingTarget sets the yearly training hours target.
func (s *Service) SetTrainingTarget(h float64) { s.trainingTarget = h }

// TrainingTarget is the yearly training hours target.
func (s *Service) TrainingTarget() float64 {
	if s.trainingTarget <= 0 {
		return DefaultTrainingTarget
	}
	return s.trainingTarget
}

// Course is a staff training course a district runs; its sessions are
// events of kind training.
type Course struct {
	ID           int64    `json:"id"`
	Title        string   `json:"title"`
	Topic        string   `json:"topic"`
	Hours        float64  `json:"hours"`
	Competencies []string `json:"competencies"`
	OrgUnit      string   `json:"org_unit"`

	path string
}

// CourseInput creates a course. OrgUnit is the unit that runs it: the
// actor's own by default.
type CourseInput struct {
	Title        string   `json:"title"`
	Topic        string   `json:"topic"`
	Hours        float64  `json:"hours"`
	Competencies []string `json:"competencies"`
	OrgUnit      string   `json:"org_unit,omitempty"`
}

// CreateCourse adds a training course.
func (s *Service) CreateCourse(ctx context.Context, in CourseInput) (*Course, error) {
	var out *Course
	err := s.act(ctx, "course.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "course", a.UnitCode, a.UnitPath
		if !mayEver(a, WriteCourses) {
			return errForbidden()
		}
		f := s.fields()
		in.Title = checkName(&f, "title", in.Title, 200)
		if !slices.Contains(CourseTopics, in.Topic) {
			f.add("topic", "must be one of "+strings.Join(CourseTopics, ", "))
		}
		if in.Hours <= 0 || in.Hours > 200 || math.IsNaN(in.Hours) {
			f.add("hours", "must be more than 0 and at most 200")
		}
		comps := []string{}
		for i, c := range in.Competencies {
			c = checkText(&f, "competencies["+strconv.Itoa(i)+"]", c, 100)
			if c != "" && !slices.Contains(comps, c) {
				comps = append(comps, c)
			}
		}
		if len(comps) > 20 {
			f.add("competencies", "at most 20")
		}
		code := in.OrgUnit
		if code == "" {
			code = a.UnitCode
		}
		u, err := unitByCode(ctx, tx, code)
		if err != nil {
			return err
		}
		if u == nil || !Allow(a, WriteCourses, Target{Path: u.Path}) {
			f.add("org_unit", "no org unit you may run courses in has this code")
		}
		if err := f.err(); err != nil {
			return err
		}
		sub.Unit, sub.Path = u.Code, u.Path
		js, _ := json.Marshal(comps)
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO courses (title, topic, hours, competencies, org_unit_id, org_path, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.Title, in.Topic, in.Hours, string(js), u.id, u.Path, a.Username,
			store.FormatTime(tx.Now())).Scan(&id); err != nil {
			return err
		}
		sub.ID = strconv.FormatInt(id, 10)
		out = &Course{ID: id, Title: in.Title, Topic: in.Topic, Hours: in.Hours, Competencies: comps, OrgUnit: u.Code}
		return nil
	})
	return out, err
}

const courseSelect = `SELECT c.id, c.title, c.topic, c.hours, c.competencies, o.code, c.org_path FROM courses c JOIN org_units o ON o.id = c.org_unit_id`

func scanCourse(sc interface{ Scan(...any) error }) (*Course, error) {
	var c Course
	var comps string
	if err := sc.Scan(&c.ID, &c.Title, &c.Topic, &c.Hours, &comps, &c.OrgUnit, &c.path); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(comps), &c.Competencies); err != nil {
		return nil, err
	}
	return &c, nil
}

func courseByID(ctx context.Context, tx *store.Tx, id int64) (*Course, error) {
	c, err := scanCourse(tx.QueryRow(ctx, courseSelect+` WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// Courses lists the courses the actor's staff may attend: those of the
// actor's unit, of the units above it and beneath it, by title.
func (s *Service) Courses(ctx context.Context) ([]Course, error) {
	out := []Course{}
	err := s.readAct(ctx, "course.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "course_list", a.UnitCode, a.UnitPath
		scope := a.UnitPath
		if scope == "" {
			scope = "/"
		}
		if !Allow(a, ReadEvents, Target{Path: scope}) {
			return errForbidden()
		}
		lo, hi := store.Beneath(scope)
		q := courseSelect + ` WHERE ((c.org_path >= ? AND c.org_path < ?)`
		args := []any{lo, hi}
		for _, up := range above(scope) {
			q += ` OR c.org_path = ?`
			args = append(args, up)
		}
		rows, err := tx.Query(ctx, q+`) ORDER BY c.title, c.id LIMIT ?`, append(args, MaxLimit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCourse(rows)
			if err != nil {
				return err
			}
			out = append(out, *c)
		}
		return rows.Err()
	})
	return out, err
}

// TrainingSession is one training session or case discussion a person
// attended (ticked present).
type TrainingSession struct {
	EventID  int64     `json:"event_id"`
	Title    string    `json:"title"`
	Kind     string    `json:"kind"`
	StartsAt time.Time `json:"starts_at"`
	Hours    float64   `json:"hours"`
	CourseID *int64    `json:"course_id,omitempty"`
}

// Training is a person's training of a year.
type Training struct {
	Username     string            `json:"username"`
	FullName     string            `json:"full_name"`
	Year         int               `json:"year"`
	Hours        float64           `json:"hours"`
	Target       float64           `json:"target"`
	Competencies []string          `json:"competencies"`
	Sessions     []TrainingSession `json:"sessions"`
}

// yearRange is the instants that bound a year in the installation's zone.
func (s *Service) yearRange(year int) (string, string) {
	lo := time.Date(year, 1, 1, 0, 0, 0, 0, s.zone)
	return store.FormatTime(lo), store.FormatTime(lo.AddDate(1, 0, 0))
}

// UserTraining returns a person's training of a year: the training
// sessions and case discussions they were present at, their hours and the
// competencies of the courses. Everyone sees their own; district
// administrators and psychiatrists those of their jurisdiction.
func (s *Service) UserTraining(ctx context.Context, username string, year int) (*Training, error) {
	var out *Training
	err := s.readAct(ctx, "training.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID = "user", username
		var path string
		out = &Training{Username: username, Year: year, Target: s.TrainingTarget(), Competencies: []string{}, Sessions: []TrainingSession{}}
		err := tx.QueryRow(ctx, `SELECT u.full_name, COALESCE(o.path, '') FROM users u LEFT JOIN org_units o ON o.id = u.org_unit_id
			WHERE u.username = ?`, username).Scan(&out.FullName, &path)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound("user")
		}
		if err != nil {
			return err
		}
		sub.Path = path
		if username != a.Username && (path == "" || !Allow(a, ReadTraining, Target{Path: path})) {
			return errHidden("user")
		}
		if year < 2000 || year > 2100 {
			return invalid("year", "must be a year such as 2026")
		}
		lo, hi := s.yearRange(year)
		rows, err := tx.Query(ctx, `SELECT e.id, e.title, e.kind, e.starts_at, e.hours, e.course_id, COALESCE(c.competencies, '[]')
			FROM event_attendance x JOIN events e ON e.id = x.event_id LEFT JOIN courses c ON c.id = e.course_id
			WHERE x.username = ? AND x.present = ? AND e.kind IN ('training', 'case_discussion') AND e.starts_at >= ? AND e.starts_at < ?
			ORDER BY e.starts_at, e.id`, username, true, lo, hi)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ts TrainingSession
			var start, comps string
			var course sql.NullInt64
			if err := rows.Scan(&ts.EventID, &ts.Title, &ts.Kind, &start, &ts.Hours, &course, &comps); err != nil {
				return err
			}
			ts.StartsAt = store.MustTime(start)
			if course.Valid {
				ts.CourseID = &course.Int64
			}
			var cs []string
			if err := json.Unmarshal([]byte(comps), &cs); err != nil {
				return err
			}
			for _, c := range cs {
				if !slices.Contains(out.Competencies, c) {
					out.Competencies = append(out.Competencies, c)
				}
			}
			out.Hours += ts.Hours
			out.Sessions = append(out.Sessions, ts)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	out.Hours = math.Round(out.Hours*100) / 100
	return out, nil
}

// StaffHours is one staff member's training hours of a year.
type StaffHours struct {
	Username    string    `json:"username"`
	FullName    string    `json:"full_name"`
	OrgUnit     string    `json:"org_unit"`
	OrgUnitName string    `json:"org_unit_name"`
	Role        auth.Role `json:"role"`
	Hours       float64   `json:"hours"`
}

// TrainingQuery asks for the staff of an org unit (the actor's own by
// default) and their hours of a year; Below keeps those under the target.
type TrainingQuery struct {
	OrgUnit string
	Year    int
	Below   bool
}

// StaffTraining lists the active staff of a unit with their training hours
// of a year, by username, summed in SQL. District administrators and
// psychiatrists see their jurisdiction's.
func (s *Service) StaffTraining(ctx context.Context, q TrainingQuery, p Page) ([]StaffHours, string, error) {
	limit, after, err := p.start("\x1f")
	if err != nil {
		return nil, "", err
	}
	if q.Year < 2000 || q.Year > 2100 {
		return nil, "", invalid("year", "must be a year such as 2026")
	}
	var out []StaffHours
	err = s.readAct(ctx, "training.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type = "training_list"
		scope, err := scopeFor(ctx, tx, a, ReadTraining, q.OrgUnit, sub)
		if err != nil {
			return err
		}
		lo, hi := store.Beneath(scope)
		ylo, yhi := s.yearRange(q.Year)
		sqlq := `SELECT username, full_name, code, name, role, hours, key FROM (
			SELECT u.username, u.full_name, o.code, o.name, u.role, ` + staffHoursSQL + ` AS hours,
			u.username AS key
			FROM users u JOIN org_units o ON o.id = u.org_unit_id
			WHERE o.path >= ? AND o.path < ? AND u.disabled = ? AND u.role <> ?) h WHERE 1 = 1`
		args := []any{true, ylo, yhi, lo, hi, false, "admin"}
		if q.Below {
			sqlq += ` AND hours < ?`
			args = append(args, s.TrainingTarget())
		}
		if after.set {
			sqlq += ` AND key > ?`
			args = append(args, after.key)
		}
		rows, err := tx.Query(ctx, sqlq+` ORDER BY key LIMIT ?`, append(args, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h StaffHours
			var key string
			if err := rows.Scan(&h.Username, &h.FullName, &h.OrgUnit, &h.OrgUnitName, &h.Role, &h.Hours, &key); err != nil {
				return err
			}
			h.Hours = math.Round(h.Hours*100) / 100
			out = append(out, h)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(h StaffHours) string { return h.Username + "\x1f0" })
	return out, next, nil
}

// staffHoursSQL sums the training hours of user u in a year: the training
// sessions and case discussions they were ticked present at. Its
// parameters: true (present), the year's first and next year's first
// instant.
const staffHoursSQL = `COALESCE((SELECT sum(e.hours) FROM event_attendance x JOIN events e ON e.id = x.event_id
	WHERE x.username = u.username AND x.present = ? AND e.kind IN ('training', 'case_discussion')
	AND e.starts_at >= ? AND e.starts_at < ?), 0)`
