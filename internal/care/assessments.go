package care

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"kith/internal/clinical/instrument"
	"kith/internal/store"
)

// AssessmentInput is one administration of an instrument to a patient:
// the answers in the order of the instrument's items (R-SCORE).
type AssessmentInput struct {
	Instrument string `json:"instrument"`
	Date       string `json:"date"`
	Answers    []int  `json:"answers"`
}

// Assessment is a stored response. Score, band and flags are the engine's,
// computed from the answers with the instrument version they were given on.
type Assessment struct {
	ID         int64          `json:"id"`
	PatientID  int64          `json:"patient_id"`
	Instrument string         `json:"instrument"`
	Version    int            `json:"version"`
	Date       string         `json:"date"`
	Answers    []int          `json:"answers"` // in the item order of Version
	Score      int            `json:"score"`
	Subscales  map[string]int `json:"subscales,omitempty"`
	Band       string         `json:"band"`
	Flags      []string       `json:"flags"`
	FollowUpID *int64         `json:"follow_up_id,omitempty"` // the follow-up whose risk assessment this is
	AlertID    *int64         `json:"alert_id,omitempty"`     // the alert it raised, if any
	Author     string         `json:"author"`
	AuthorName string         `json:"author_name"` // the full name of author
	CreatedAt  time.Time      `json:"created_at"`
}

// Instruments returns the catalogue of instruments the service scores with.
func (s *Service) Instruments() *instrument.Catalogue { return s.instruments }

// SetInstruments replaces the catalogue, for tests of instrument versions.
func (s *Service) SetInstruments(c *instrument.Catalogue) { s.instruments = c }

// scored is a response checked and scored by the engine, with its answers
// as they are stored: item by item, keyed by the item's ID, so that a later
// version may reorder items.
type scored struct {
	def    *instrument.Definition
	result instrument.Result
	items  string // JSON object: item ID → value
}

// scoreAnswers checks answers against the newest version of an instrument
// and scores them; a wrong answer is reported on its item (answers[i]).
func (s *Service) scoreAnswers(id string, answers []int) (*scored, error) {
	d := s.instruments.Latest(id)
	if d == nil {
		return nil, invalid("instrument", "is not an instrument Kith knows; see GET /api/v1/instruments")
	}
	r, err := d.Score(answers)
	var ae *instrument.AnswerError
	if errors.As(err, &ae) {
		field := "answers"
		if ae.Index >= 0 {
			field = "answers[" + strconv.Itoa(ae.Index) + "]"
		}
		msg := ae.Message
		if ae.Item != "" {
			msg = "(" + ae.Item + ") " + msg
		}
		return nil, invalid(field, msg)
	}
	if err != nil {
		return nil, err
	}
	items := make(map[string]int, len(d.Items))
	for i, it := range d.Items {
		items[it.ID] = answers[i]
	}
	b, err := json.Marshal(items)
	return &scored{def: d, result: r, items: string(b)}, err
}

// assessmentColumns are the columns of scored.values, in order.
var assessmentColumns = []string{"patient_id", "instrument", "version", "taken_on", "answers", "score", "band", "flags",
	"follow_up_id", "author", "created_at"}

// values is the row of a response of the patient, taken on date by a, of
// the follow-up if not nil, in the order of assessmentColumns.
func (sc *scored) values(a *Actor, patientID int64, date string, followUp *int64, at time.Time) []any {
	return []any{patientID, sc.def.ID, sc.def.Version, date, sc.items, sc.result.Score, sc.result.Band,
		strings.Join(sc.result.Flags, " "), followUp, a.Username, store.FormatTime(at)}
}

// Assess administers an instrument to a patient: the answers are scored by
// the engine, stored item by item with the instrument version, and an alert
// is raised when a flag calls for one.
func (s *Service) Assess(ctx context.Context, patientID int64, in AssessmentInput) (*Assessment, error) {
	var out *Assessment
	err := s.act(ctx, "assessment.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		p, err := visible(ctx, tx, a, Assess, patientID, sub)
		if err != nil {
			return err
		}
		f := s.fields()
		if in.Instrument == "" {
			f.add("instrument", "is required")
		}
		checkDate(&f, "date", in.Date, true)
		if err := f.err(); err != nil {
			return err
		}
		out, err = s.assess(ctx, tx, a, p, in, nil, true)
		if err != nil {
			return err
		}
		sub.Detail = "assessment " + strconv.FormatInt(out.ID, 10) + " " + in.Instrument
		if out.AlertID != nil { // R-ALERT-DUE moves the due date
			return refreshSummary(ctx, tx, p.ID, a.Username, s.today())
		}
		return nil
	})
	return out, err
}

// assess scores and stores a response in tx and, if raise, its alert; the
// follow-up's risk assessment comes through here too. That one, when it
// raises no alert, is queued to go with the transaction's next statement
// (store.Tx.Later; the summary's read, then) and returned without its id,
// which nobody reads: a round trip less for every follow-up (issue 16).
func (s *Service) assess(ctx context.Context, tx *store.Tx, a *Actor, p *patientRow, in AssessmentInput, followUp *int64, raise bool) (*Assessment, error) {
	sc, err := s.scoreAnswers(in.Instrument, in.Answers)
	if err != nil {
		return nil, err
	}
	d, r := sc.def, sc.result
	as := &Assessment{PatientID: p.ID, Instrument: d.ID, Version: d.Version, Date: in.Date, Answers: in.Answers,
		Score: r.Score, Subscales: r.Subscales, Band: r.Band, Flags: r.Flags, FollowUpID: followUp,
		Author: a.Username, AuthorName: a.FullName, CreatedAt: tx.Now()}
	alert := raise && d.Alerts(r.Flags)
	insert := `INSERT INTO assessments (` + strings.Join(assessmentColumns, ", ") + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if followUp != nil && !alert {
		return as, tx.Later(ctx, insert, sc.values(a, p.ID, in.Date, followUp, tx.Now())...)
	}
	if err := tx.QueryRow(ctx, insert+` RETURNING id`, sc.values(a, p.ID, in.Date, followUp, tx.Now())...).Scan(&as.ID); err != nil {
		return nil, err
	}
	if alert {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO alerts (patient_id, assessment_id, flags, raised_at) VALUES (?, ?, ?, ?) RETURNING id`,
			p.ID, as.ID, strings.Join(alertFlags(d, r.Flags), " "), store.FormatTime(tx.Now())).Scan(&id); err != nil {
			return nil, err
		}
		as.AlertID = &id
	}
	return as, nil
}

// alertFlags keeps the flags that raise an alert.
func alertFlags(d *instrument.Definition, flags []string) []string {
	var out []string
	for _, k := range flags {
		if d.Alerts([]string{k}) {
			out = append(out, k)
		}
	}
	return out
}

// AssessmentQuery chooses a patient's assessments: of one instrument, or
// of all when Instrument is empty.
type AssessmentQuery struct {
	Instrument string
}

// Assessments lists a patient's assessments, newest first, for the roles
// that see the clinical record.
func (s *Service) Assessments(ctx context.Context, patientID int64, q AssessmentQuery, pg Page) ([]Assessment, string, error) {
	limit, after, err := pg.start("|")
	if err != nil {
		return nil, "", err
	}
	date, id := after.key, after.id
	if q.Instrument != "" && s.instruments.Latest(q.Instrument) == nil {
		return nil, "", invalid("instrument", "is not an instrument Kith knows")
	}
	var out []Assessment
	err = s.view(ctx, "assessment.list", func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := s.assessmentReader(ctx, tx, a, patientID, sub); err != nil {
			return err
		}
		sub.Detail = q.Instrument
		where, args := "", []any{patientID}
		if q.Instrument != "" {
			where, args = " AND a.instrument = ?", append(args, q.Instrument)
		}
		if after.set {
			where += " AND (a.taken_on < ? OR (a.taken_on = ? AND a.id < ?))"
			args = append(args, date, date, id)
		}
		out, err = s.assessmentsWhere(ctx, tx, "a.patient_id = ?"+where+" ORDER BY a.taken_on DESC, a.id DESC LIMIT "+strconv.Itoa(limit+1), args...)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(as Assessment) string { return as.Date + "|" + strconv.FormatInt(as.ID, 10) })
	return out, next, nil
}

// assessmentReader checks that the actor may read the patient's record and
// that their view includes assessments: the care-and-help group's does not,
// since scores speak of the diagnosis.
func (s *Service) assessmentReader(ctx context.Context, tx *store.Tx, a *Actor, patientID int64, sub *subject) (*patientRow, error) {
	p, err := visible(ctx, tx, a, ReadPatient, patientID, sub)
	if err != nil {
		return nil, err
	}
	if v := PatientView(a.Role); v == ViewSafety || v == ViewNone {
		return nil, errForbidden()
	}
	return p, nil
}

// latestAssessments returns the newest assessment of each instrument a
// patient has had, for the record's summary.
func (s *Service) latestAssessments(ctx context.Context, tx *store.Tx, patientID int64) ([]Assessment, error) {
	return s.assessmentsWhere(ctx, tx, `a.patient_id = ? AND a.id IN (
		SELECT MAX(b.id) FROM assessments b LEFT JOIN follow_ups bf ON bf.id = b.follow_up_id
		WHERE b.patient_id = ? AND bf.superseded_by IS NULL AND b.taken_on = (
			SELECT MAX(c.taken_on) FROM assessments c LEFT JOIN follow_ups cf ON cf.id = c.follow_up_id
			WHERE c.patient_id = b.patient_id AND c.instrument = b.instrument AND cf.superseded_by IS NULL)
		GROUP BY b.instrument)
		ORDER BY a.instrument`, patientID, patientID)
}

// assessmentsWhere reads assessments matching a condition on a (and its
// alert), leaving out the risk assessments of superseded follow-ups, and
// rebuilds each response with the instrument version it was given on.
func (s *Service) assessmentsWhere(ctx context.Context, tx *store.Tx, cond string, args ...any) ([]Assessment, error) {
	rows, err := tx.Query(ctx, `SELECT a.id, a.patient_id, a.instrument, a.version, a.taken_on, a.answers, a.follow_up_id,
		a.author, a.created_at, al.id, `+fullName("a.author")+`
		FROM assessments a
		LEFT JOIN follow_ups f ON f.id = a.follow_up_id
		LEFT JOIN alerts al ON al.assessment_id = a.id
		WHERE f.superseded_by IS NULL AND `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Assessment
	for rows.Next() {
		var as Assessment
		var blob, created string
		var fu, alert sql.NullInt64
		if err := rows.Scan(&as.ID, &as.PatientID, &as.Instrument, &as.Version, &as.Date, &blob, &fu, &as.Author, &created, &alert, &as.AuthorName); err != nil {
			return nil, err
		}
		as.CreatedAt = store.MustTime(created)
		as.FollowUpID, as.AlertID = idOf(fu), idOf(alert)
		if err := s.rescore(&as, blob); err != nil {
			return nil, err
		}
		out = append(out, as)
	}
	return out, rows.Err()
}

// rescore rebuilds a stored response with the definition of its own version.
func (s *Service) rescore(as *Assessment, blob string) error {
	d := s.instruments.Version(as.Instrument, as.Version)
	if d == nil {
		return errors.New("assessment " + strconv.FormatInt(as.ID, 10) + ": instrument " + as.Instrument + " v" +
			strconv.Itoa(as.Version) + " is no longer defined")
	}
	var items map[string]int
	if err := json.Unmarshal([]byte(blob), &items); err != nil {
		return err
	}
	r, err := d.ScoreItems(items)
	if err != nil {
		return err
	}
	as.Answers = make([]int, len(d.Items))
	for i, it := range d.Items {
		as.Answers[i] = items[it.ID]
	}
	as.Score, as.Subscales, as.Band, as.Flags = r.Score, r.Subscales, r.Band, r.Flags
	return nil
}

// riskAnswers is the follow-up's risk level as an answer to the risk
// assessment instrument (R-RISK).
func riskAnswers(level int) AssessmentInput {
	return AssessmentInput{Instrument: "risk", Answers: []int{level}}
}

// idOf returns a nullable id as a pointer, nil for NULL.
func idOf(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}
