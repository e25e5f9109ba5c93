package care

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/clinical"
	"kith/internal/store"
)

// AuditQuery filters the audit log. From and To are dates (YYYY-MM-DD),
// both inclusive.
type AuditQuery struct {
	SubjectID string
	Actor     string
	From, To  string
	// Kind keeps one kind of action (one of audit.Kinds); ChangesOnly
	// keeps the writes, leaving out reads and sign-ins.
	Kind        string
	ChangesOnly bool
}

// startOfDay is the instant a date begins in the installation's time zone:
// the audit log's dates are the days its readers live in.
func (s *Service) startOfDay(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, s.zone)
}

// AuditLog lists audit entries, newest first, within the actor's
// jurisdiction. Reading the log is itself recorded.
func (s *Service) AuditLog(ctx context.Context, q AuditQuery, p Page) ([]audit.Entry, string, error) {
	f := s.fields()
	limit, err := p.limit()
	if err != nil {
		return nil, "", err
	}
	var before int64
	if after, err := p.after(); err != nil {
		return nil, "", err
	} else if after != "" {
		if before, err = strconv.ParseInt(after, 10, 64); err != nil || before < 1 {
			return nil, "", invalid("page_token", "is not a token this server gave out")
		}
	}
	filter := audit.Filter{SubjectID: q.SubjectID, Actor: NormalizeUsername(q.Actor), BeforeSeq: before, Limit: limit + 1,
		Kind: q.Kind, ChangesOnly: q.ChangesOnly}
	if q.Kind != "" && !slices.Contains(audit.Kinds, q.Kind) {
		f.add("kind", "must be one of "+strings.Join(audit.Kinds, ", "))
	}
	if q.From != "" {
		t, ok := ParseDate(q.From)
		if !ok {
			f.add("from", "must be a date, YYYY-MM-DD")
		} else {
			checkBounds(&f, "from", clinical.DateOf(t))
		}
		filter.From = s.startOfDay(t)
	}
	if q.To != "" {
		t, ok := ParseDate(q.To)
		if !ok {
			f.add("to", "must be a date, YYYY-MM-DD")
		} else {
			checkBounds(&f, "to", clinical.DateOf(t))
		}
		filter.To = s.startOfDay(t.AddDate(0, 0, 1))
	}
	if err := f.err(); err != nil {
		return nil, "", err
	}
	var out []audit.Entry
	err = s.view(ctx, "audit.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "audit_log", q.SubjectID, a.UnitCode, a.UnitPath
		target := a.UnitPath
		if a.Role == auth.Admin {
			target = "/"
		}
		if !Allow(a, ReadAudit, Target{Path: target}) {
			return errForbidden()
		}
		if a.Role != auth.Admin {
			filter.PathPrefix = a.UnitPath
		}
		var err error
		out, err = audit.List(ctx, tx, filter)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(e audit.Entry) string { return strconv.FormatInt(e.Seq, 10) })
	return out, next, nil
}
