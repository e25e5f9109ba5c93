package care

import (
	"context"
	"strconv"
	"strings"
	"time"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/store"
)

// The patient's access report: every read and change of one patient's
// record, who did it (full name, role, unit), when and what, the
// break-the-glass accesses marked with their reason. The patient or their
// guardian asks for it at the community centre; the community manager or a
// psychiatrist prints it. It reads the audit log by subject (the index
// audit_log_subject), and reading it is itself audited.

// Access is one line of a patient's access report.
type Access struct {
	Seq         int64         `json:"seq"`
	At          time.Time     `json:"at"`
	Username    string        `json:"username"`
	FullName    string        `json:"full_name"`
	Role        auth.Role     `json:"role,omitempty"`
	OrgUnit     string        `json:"org_unit,omitempty"`
	OrgUnitName string        `json:"org_unit_name,omitempty"`
	Action      string        `json:"action"`
	What        string        `json:"what"`
	Outcome     audit.Outcome `json:"outcome"`
	BreakGlass  bool          `json:"break_glass"`
	Reason      string        `json:"reason,omitempty"`
	Note        string        `json:"note,omitempty"`
}

// accessWhat says in plain words what an audited action did to a record.
var accessWhat = map[string]string{
	"patient.read":               "read the record",
	"patient.create":             "registered the patient",
	"patient.update":             "changed the patient's details",
	"patient.transfer_out":       "transferred the patient to another community",
	"patient.transfer_in":        "received the patient from another community",
	"patient.timeline":           "read the record's history",
	"patient.break_glass":        "broke the glass to read the record",
	"patient.access_report":      "printed this access report",
	"patient.register_collision": "tried to register someone matching this patient",
	"followup.create":            "recorded a follow-up",
	"followup.correct":           "corrected a follow-up",
	"followup.list":              "read the follow-ups",
	"emergency.create":           "recorded an emergency",
	"emergency.complete":         "completed an emergency record",
	"assessment.create":          "recorded an assessment",
	"assessment.list":            "read the assessments",
	"followup.read":              "read a follow-up",
	"assessment.read":            "read an assessment",
	"alert.read":                 "read an alert",
	"team.read":                  "read the care team",
	"team.add":                   "added someone to the care team",
	"team.remove":                "removed someone from the care team",
	"team.contact_add":           "added a contact to the care team",
	"team.contact_remove":        "removed a contact from the care team",
	"plan.create":                "wrote a rehabilitation plan",
	"plan.adjust":                "adjusted the rehabilitation plan",
	"plan.review":                "reviewed the rehabilitation plan",
	"plan.read":                  "read the rehabilitation plan",
	"plan.list":                  "read the rehabilitation plans",
	"referral.read":              "read a referral",
	"referral.list":              "read the referrals",
	"conference.patient":         "discussed the patient at a case conference",
	"conference.list":            "read the case conferences",
	"patient.export":             "exported the record (FHIR bulk export)",
	"patient.national_id.reveal": "looked at the national ID number in full",
	"referral.create":            "referred the patient",
	"subsidy.create":             "applied for a subsidy for the patient",
	"family.read":                "read the family members",
	"family.create":              "added a family member",
	"family.update":              "changed a family member's details",
	"family.delete":              "removed a family member",
}

// AccessWhat says in plain words what an audited action did to a record.
func AccessWhat(action string) string {
	if w, ok := accessWhat[action]; ok {
		return w
	}
	return strings.ReplaceAll(action, "_", " ")
}

// AccessReport lists the accesses to one patient's record, newest first,
// for the patient's community managers and psychiatrists.
func (s *Service) AccessReport(ctx context.Context, patientID int64, p Page) ([]Access, string, error) {
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
	out, err := s.accessReport(ctx, patientID, before, limit+1)
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(x Access) string { return strconv.FormatInt(x.Seq, 10) })
	return out, next, nil
}

// AccessReportMax bounds a whole access report (FullAccessReport).
const AccessReportMax = 5000

// FullAccessReport is the whole access report, newest first, for printing
// in one go: up to AccessReportMax lines, more saying that older ones were
// left out. Reading it is one audited access.
func (s *Service) FullAccessReport(ctx context.Context, patientID int64) (lines []Access, more bool, err error) {
	out, err := s.accessReport(ctx, patientID, 0, AccessReportMax+1)
	if err != nil {
		return nil, false, err
	}
	if len(out) > AccessReportMax {
		return out[:AccessReportMax], true, nil
	}
	return out, false, nil
}

// accessReport reads up to n lines of the report, before the audit entry
// before (0: from the newest).
func (s *Service) accessReport(ctx context.Context, patientID, before int64, n int) ([]Access, error) {
	var out []Access
	err := s.act(ctx, string(AccessReport), func(tx *store.Tx, a *Actor, sub *subject) error {
		if _, err := visible(ctx, tx, a, AccessReport, patientID, sub); err != nil {
			return err
		}
		entries, err := audit.List(ctx, tx, audit.Filter{SubjectType: "patient", SubjectID: strconv.FormatInt(patientID, 10),
			BeforeSeq: before, Limit: n})
		if err != nil {
			return err
		}
		grants, err := glassOf(ctx, tx, patientID)
		if err != nil {
			return err
		}
		people, err := peopleOf(ctx, tx, entries)
		if err != nil {
			return err
		}
		for _, e := range entries {
			x := Access{Seq: e.Seq, At: e.At, Username: e.Actor, FullName: e.Actor, Action: e.Action, What: AccessWhat(e.Action),
				Outcome: e.Outcome}
			if u, ok := people[e.Actor]; ok {
				x.FullName, x.Role, x.OrgUnit, x.OrgUnitName = u.FullName, u.Role, u.OrgUnit, u.OrgUnitName
			}
			if reason, ok := strings.CutPrefix(e.Detail, GlassDetail); ok {
				x.BreakGlass, x.Reason = true, reason
				x.Note = grantNote(grants, e)
			}
			out = append(out, x)
		}
		return nil
	})
	return out, err
}

// peopleOf loads the accounts that acted in entries, by username.
func peopleOf(ctx context.Context, tx *store.Tx, entries []audit.Entry) (map[string]*userRow, error) {
	out := map[string]*userRow{}
	var names []any
	for _, e := range entries {
		if _, ok := out[e.Actor]; !ok {
			out[e.Actor] = nil
			names = append(names, e.Actor)
		}
	}
	clear(out)
	if len(names) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, userSelect+` WHERE u.username IN (?`+strings.Repeat(", ?", len(names)-1)+`)`, names...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out[u.Username] = u
	}
	return out, rows.Err()
}

// grantNote finds the note of the grant under which an entry was made.
func grantNote(grants []Glass, e audit.Entry) string {
	for _, g := range grants {
		if g.Username == e.Actor && !e.At.Before(g.CreatedAt) && !e.At.After(g.ExpiresAt) {
			return g.Note
		}
	}
	return ""
}
