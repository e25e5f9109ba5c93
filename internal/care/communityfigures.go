package care

import (
	"context"
	"strings"
	"time"

	"kith/internal/kpi"
	"kith/internal/store"
)

// CommunityFigureSet is the community figures of one org unit and period.
type CommunityFigureSet struct {
	OrgUnit string       `json:"org_unit"`
	Name    string       `json:"name"`
	Level   Level        `json:"level"`
	From    string       `json:"from"`
	To      string       `json:"to"`
	Target  float64      `json:"training_target"`
	Figures []kpi.Figure `json:"figures"`
	// Children are the figures of each unit directly beneath, the
	// drill-down.
	Children []CommunityFigureSet `json:"children,omitempty"`
}

// CommunityFigures counts the figures of the community's work for an org
// unit (the actor's own by default) and period, with those of each unit
// directly beneath it: education events and attendance, family members
// reached, the staff's training hours (median, share meeting the yearly
// target, of the period's year to its end) and the guardian subsidy paid.
// Everything is counted in SQL.
func (s *Service) CommunityFigures(ctx context.Context, unitCode string, p kpi.Period) (*CommunityFigureSet, error) {
	var out *CommunityFigureSet
	err := s.readAct(ctx, "figures.community.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		u, err := s.figureScope(ctx, tx, a, unitCode, sub)
		if err != nil {
			return err
		}
		if err := s.checkPeriod("period", p); err != nil {
			return err
		}
		sub.Detail = p.String()
		if out, err = s.communitySet(ctx, tx, u.Code, u.Name, u.Level, u.Path, p); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT code, name, level, path FROM org_units WHERE parent_id = ? ORDER BY code`, u.id)
		if err != nil {
			return err
		}
		type child struct{ code, name, level, path string }
		var kids []child
		for rows.Next() {
			var c child
			if err := rows.Scan(&c.code, &c.name, &c.level, &c.path); err != nil {
				rows.Close()
				return err
			}
			kids = append(kids, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range kids {
			cs, err := s.communitySet(ctx, tx, c.code, c.name, Level(c.level), c.path, p)
			if err != nil {
				return err
			}
			out.Children = append(out.Children, *cs)
		}
		return nil
	})
	return out, err
}

func (s *Service) communitySet(ctx context.Context, tx *store.Tx, code, name string, level Level, path string, p kpi.Period) (*CommunityFigureSet, error) {
	c, err := s.communityCounts(ctx, tx, path, p)
	if err != nil {
		return nil, err
	}
	return &CommunityFigureSet{OrgUnit: code, Name: name, Level: level, From: p.From.String(), To: p.To.String(),
		Target: s.TrainingTarget(), Figures: kpi.ComputeCommunity(c)}, nil
}

// communityCounts counts the community figures beneath path in a period.
func (s *Service) communityCounts(ctx context.Context, tx *store.Tx, path string, p kpi.Period) (kpi.CommunityCounts, error) {
	var c kpi.CommunityCounts
	lo, hi := store.Beneath(path)
	day := func(d string, next int) string {
		t, _ := time.ParseInLocation(time.DateOnly, d, s.zone)
		return store.FormatTime(t.AddDate(0, 0, next))
	}
	from, to := day(p.From.String(), 0), day(p.To.String(), 1)
	kinds := "'" + strings.Join(kpi.EducationKinds, "', '") + "'"
	if err := tx.QueryRow(ctx, `SELECT count(*), COALESCE(sum(t.present), 0) FROM (
		SELECT (SELECT COALESCE(sum(x.head_count), 0) FROM event_attendance x WHERE x.event_id = e.id AND x.present = ?) AS present
		FROM events e WHERE e.org_path >= ? AND e.org_path < ? AND e.kind IN (`+kinds+`) AND e.starts_at >= ? AND e.starts_at < ?) t`,
		true, lo, hi, from, to).Scan(&c.EducationEvents, &c.EducationAttendance); err != nil {
		return c, err
	}
	// A family is reached where its patient is registered, wherever the
	// event was held.
	if err := tx.QueryRow(ctx, `SELECT count(DISTINCT x.family_member_id) FROM event_attendance x
		JOIN events e ON e.id = x.event_id JOIN family_members f ON f.id = x.family_member_id JOIN patients p ON p.id = f.patient_id
		WHERE x.present = ? AND e.starts_at >= ? AND e.starts_at < ? AND p.org_path >= ? AND p.org_path < ?`,
		true, from, to, lo, hi).Scan(&c.FamiliesReached); err != nil {
		return c, err
	}
	// Training hours of the year to the period's end, per active staff
	// member of the unit; the median as kpi.Median computes it.
	ylo := day(p.YearStart().String(), 0)
	if err := tx.QueryRow(ctx, `WITH h AS (
			SELECT `+staffHoursSQL+` AS hours FROM users u JOIN org_units o ON o.id = u.org_unit_id
			WHERE o.path >= ? AND o.path < ? AND u.disabled = ? AND u.role <> ?),
		r AS (SELECT hours, ROW_NUMBER() OVER (ORDER BY hours) AS rn, COUNT(*) OVER () AS n FROM h)
		SELECT (SELECT count(*) FROM h), (SELECT COALESCE(sum(CASE WHEN hours >= ? THEN 1 ELSE 0 END), 0) FROM h),
			COALESCE((SELECT avg(hours) FROM r WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2), 0)`,
		true, ylo, to, lo, hi, false, "admin", s.TrainingTarget()).Scan(&c.Staff, &c.StaffMeetingTarget, &c.MedianHours); err != nil {
		return c, err
	}
	err := tx.QueryRow(ctx, `SELECT count(*), COALESCE(sum(amount_fen), 0) FROM subsidies
		WHERE status = ? AND paid_on >= ? AND paid_on <= ? AND org_path >= ? AND org_path < ?`,
		"paid", p.From.String(), p.To.String(), lo, hi).Scan(&c.SubsidiesPaid, &c.SubsidyPaidFen)
	return c, err
}
