package care

import (
	"context"
	"database/sql"
	"errors"

	"kith/internal/kpi"
	"kith/internal/store"
)

// ReferralFigures are the figures of referrals and crises for an org unit
// and period: the referral response time (median and 90th percentile,
// request to acceptance or decline), the share answered within target, and
// the count of crisis events. A referral counts for a unit whose
// jurisdiction holds its patient (the sender's side) or its receiver.
type ReferralFigures struct {
	OrgUnit string `json:"org_unit"`
	From    string `json:"from"`
	To      string `json:"to"`
	kpi.ResponseFigures
	CrisisEvents int64 `json:"crisis_events"`
}

// ReferralFigures counts, in SQL, the referral and crisis figures of
// orgUnit (default the actor's) for the period, for those who read figures.
// (The dashboard reads them with the rest: Dashboard.Referrals.)
func (s *Service) ReferralFigures(ctx context.Context, orgUnit string, period kpi.Period) (*ReferralFigures, error) {
	var out *ReferralFigures
	fr, err := s.actStale(ctx, "figures.referrals", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Detail = "figures", "referrals "+period.String()
		scope, err := scopeFor(ctx, tx, a, ReadFigures, orgUnit, sub)
		if err != nil {
			return err
		}
		out, err = s.referralFigures(ctx, tx, sub.Unit, scope, period)
		return err
	})
	if err != nil {
		return nil, err
	}
	noteFreshness(ctx, fr)
	return out, nil
}

// referralFigures counts the figures of the unit code at path.
func (s *Service) referralFigures(ctx context.Context, tx *store.Tx, code, path string, period kpi.Period) (*ReferralFigures, error) {
	out := &ReferralFigures{OrgUnit: code, From: period.From.String(), To: period.To.String()}
	lo, hi := store.Beneath(path)
	from, to := s.dayStart(period.From.String()), s.dayStart(period.To.AddDays(1).String())
	where := ` FROM referrals r JOIN patients p ON p.id = r.patient_id
		WHERE r.direction = 'up' AND ((p.org_path >= ? AND p.org_path < ?) OR (r.to_path >= ? AND r.to_path < ?))
		AND r.requested_at >= ? AND r.requested_at < ?`
	args := []any{lo, hi, lo, hi, from, to}
	var c kpi.ResponseCounts
	if err := tx.QueryRow(ctx, `SELECT count(*),
		COALESCE(sum(CASE WHEN r.answered_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN r.answered_at IS NOT NULL AND r.answered_at <= r.due_by THEN 1 ELSE 0 END), 0)`+where, args...).
		Scan(&c.Requested, &c.Answered, &c.InTarget); err != nil {
		return nil, err
	}
	// The order statistics, picked by SQL at the ranks kpi.NearestRank gives.
	at := func(p int) (int64, error) {
		rank := kpi.NearestRank(c.Answered, p)
		if rank == 0 {
			return 0, nil
		}
		var v int64
		err := tx.QueryRow(ctx, `SELECT r.response_seconds`+where+` AND r.response_seconds IS NOT NULL
			ORDER BY r.response_seconds LIMIT 1 OFFSET ?`, append(args, rank-1)...).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return v, err
	}
	var err error
	if c.MedianSeconds, err = at(50); err != nil {
		return nil, err
	}
	if c.P90Seconds, err = at(90); err != nil {
		return nil, err
	}
	out.ResponseFigures = kpi.Response(c)
	return out, tx.QueryRow(ctx, `SELECT count(*) FROM crisis_events WHERE org_path >= ? AND org_path < ?
		AND occurred_at >= ? AND occurred_at < ?`, lo, hi, from, to).Scan(&out.CrisisEvents)
}
