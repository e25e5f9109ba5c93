package care

import (
	"context"
	"slices"
	"strings"

	"kith/internal/auth"
	"kith/internal/store"
)

// Action is something an actor may try to do. The audit log records it.
type Action string

// The actions the policy decides.
const (
	ReadUnit       Action = "unit.read"
	WriteUnit      Action = "unit.write"
	ReadUser       Action = "user.read"
	WriteUser      Action = "user.write"
	ReadAudit      Action = "audit.read"
	ReadPatient    Action = "patient.read"
	WritePatient   Action = "patient.write"
	WriteFollowUp  Action = "followup.write"
	WriteEmergency Action = "emergency.write"
	ReadFigures    Action = "figures.read"
	Assess         Action = "assessment.write"
	ReadAlerts     Action = "alert.read"
	ReadContacts   Action = "contact.read"
	WriteContacts  Action = "contact.write"
	BreakGlass     Action = "patient.break_glass"
	ReadGlass      Action = "break_glass.read"
	AccessReport   Action = "patient.access_report"
	// ReadAnnouncements is seeing the announcements of new access to records
	// given to accounts in one's jurisdiction.
	ReadAnnouncements Action = "announcement.read"
	// WriteService is adding, changing and removing the services of the
	// service network (hospitals, counselling rooms, hotlines, partners).
	WriteService Action = "service.write"
	// WriteArticle is writing, publishing and withdrawing the public site's
	// articles: the editor right.
	WriteArticle Action = "article.write"
	// WriteTeam is changing a patient's care team; WritePlan writing and
	// reviewing their rehabilitation plan.
	WriteTeam Action = "team.write"
	WritePlan Action = "plan.write"
	// WriteConference is recording a case conference held in an org unit.
	WriteConference Action = "conference.write"
	// WriteReferral is making, answering and closing referrals: on the
	// patient's unit for the sender, on the receiving unit for the receiver.
	WriteReferral Action = "referral.write"
	// WriteCrisis is logging a crisis event in a unit.
	WriteCrisis Action = "crisis.write"
	// Events, staff training and the guardian subsidy (issue 13).
	ReadEvents     Action = "event.read"
	WriteEvents    Action = "event.write"
	WriteCourses   Action = "course.write"
	ReadTraining   Action = "training.read"
	ReadSubsidies  Action = "subsidy.read"
	ReviewSubsidy  Action = "subsidy.review"
	ApproveSubsidy Action = "subsidy.approve"
	// ImportRegistry is loading an existing registry (patients and their
	// follow-up history) from a spreadsheet or FHIR NDJSON.
	ImportRegistry Action = "registry.import"
	// FindColleagues is naming other staff in a form by their names: the
	// suggestions of one's district, and a name resolved to an account.
	FindColleagues Action = "colleague.find"
)

// Actions lists every action, for tests and documentation.
var Actions = []Action{ReadUnit, WriteUnit, ReadUser, WriteUser, ReadAudit, ReadPatient, WritePatient, WriteFollowUp, WriteEmergency, ReadFigures,
	Assess, ReadAlerts, ReadContacts, WriteContacts, BreakGlass, ReadGlass, AccessReport, ReadAnnouncements,
	WriteService, WriteArticle,
	WriteTeam, WritePlan, WriteConference, WriteReferral, WriteCrisis,
	ReadEvents, WriteEvents, WriteCourses, ReadTraining, ReadSubsidies, ReviewSubsidy, ApproveSubsidy,
	ImportRegistry, FindColleagues}

// Target is what an action is done to: the org unit it lies in and, for a
// user account, that user's role.
type Target struct {
	Path string    // the org unit's path, such as /D1/S1/C1/
	Role auth.Role // the role of the user account acted on, if any
	// Patient is the patient record acted on, if any: a break-the-glass
	// grant (Actor.Glass) names one record.
	Patient int64
}

// Allow is the access policy, the one place that answers "may this actor do
// this action on this target?". It denies by default: an action or role not
// named here is refused.
//
// Jurisdiction is the actor's org unit and everything beneath it; a system
// administrator's is everything. Within it, the role decides:
//   - org units: everyone reads; admins write anywhere, district
//     administrators strictly beneath their own unit;
//   - user accounts and the audit log: admins anywhere, district
//     administrators within their district, never on an admin account;
//   - patient records: the clinical roles and the care-and-help group read
//     (the latter redacted, see View); community managers, nurses and
//     psychiatrists write and follow up; the care-and-help group also
//     records emergencies. Administrators see no clinical content;
//   - figures (aggregates): district administrators and the clinical
//     staff, for their jurisdiction; not the care-and-help group, and not
//     system administrators, who see no clinical content;
//   - assessments: the clinical roles administer them (reading them is
//     reading the record, redacted by View);
//   - alerts: they reach the community managers and psychiatrists whose
//     jurisdiction holds the patient, and those on the patient's care team
//     (a hospital's psychiatrist on it, say), and no one else;
//   - residents' contact requests: the staff of the community's worklist
//     (community managers, nurses, psychiatrists) read them and record the
//     outcome;
//   - break the glass: a clinician (not the care-and-help group, not an
//     administrator) may ask for a record anywhere, stating why; a live
//     grant (Actor.Glass) then lets them read that one record, outside
//     their jurisdiction, and nothing else;
//   - the break-the-glass events of a district reach its psychiatrists and
//     district administrator;
//   - the patient's access report: their community managers and
//     psychiatrists print it for them;
//   - announcements of new access to records: the psychiatrists whose
//     jurisdiction holds the account, so that an administrator cannot
//     quietly give an account (their own) access to records;
//   - the service network (public data): admins edit any service,
//     district administrators those whose served units all lie in their
//     district (a service that serves no unit, such as a national
//     hotline, is the admins' alone);
//   - articles of the public site: the editor right belongs to district
//     administrators, community managers and psychiatrists — the people
//     who run public education in their district or community and the
//     clinicians who vouch for what it says — within their jurisdiction
//     (an article belongs to its author's unit). Kith's roles are fixed,
//     so the right is a rule here rather than a capability of its own;
//     system administrators, who run the installation, do not edit;
//   - the care team: the community managers and psychiatrists whose
//     jurisdiction holds the patient change it, and so does the patient's
//     key worker (Actor.KeyWorker) wherever they work. A member of the team
//     (Actor.Team) reads and writes that one record with their role's own
//     rights (teamActs), even outside their jurisdiction;
//   - rehabilitation plans: the clinical roles write and review them;
//   - case conferences: the clinical roles record those held in their
//     jurisdiction (each patient discussed must be one they may plan for);
//   - referrals: community managers, nurses and psychiatrists make them
//     for patients of their jurisdiction and answer those sent to their
//     unit; a referral up grants the receiving institution's clinical
//     staff (Actor.Referred) reading that one record, while it is open
//     and 30 days after it closes, and nothing else;
//   - crisis events: the staff who take the call or see it (community
//     managers, nurses, psychiatrists, the care-and-help group) log them;
//   - events (education, support groups, lectures, training): every staff
//     role reads those of its jurisdiction and of the units above it; the
//     clinical roles and district administrators organise them; courses
//     and others' training hours: district administrators and
//     psychiatrists;
//   - the guardian subsidy: community managers propose and review it,
//     district administrators approve it and mark it paid; both read the
//     ledger;
//   - import of an existing registry: district administrators within their
//     district, who set the district up and answer for its register, and
//     system administrators (the command line, which runs as the system).
//     Import writes clinical history without showing any: its report names
//     only rows, columns and rules broken, never a value read back from a
//     record, so giving it to roles that see no clinical content shows them
//     none. Clinicians record one patient at a time and do not import;
//   - colleagues (staff named in a form by name): those who add staff to a
//     team, an event or a case conference — the clinical roles and
//     district administrators — anywhere, since a team may take in a
//     hospital's psychiatrist of another district; names, roles and units
//     of staff, no patient's data.
//
// An actor who must enrol a second factor first may do nothing.
func Allow(a *Actor, act Action, t Target) bool {
	if a == nil || t.Path == "" || a.MustEnrol {
		return false
	}
	if act == BreakGlass {
		return oneOf(a.Role, auth.Psychiatrist, auth.Psychotherapist, auth.SocialWorker, auth.Nurse, auth.CommunityManager)
	}
	if act == FindColleagues {
		return oneOf(a.Role, auth.DistrictAdmin, auth.Psychiatrist, auth.Psychotherapist, auth.SocialWorker, auth.Nurse,
			auth.CommunityManager)
	}
	if act == WriteTeam && t.Patient != 0 && slices.Contains(a.KeyWorker, t.Patient) && PatientView(a.Role) != ViewNone {
		return true
	}
	inside := a.Role == auth.Admin || (a.UnitPath != "" && strings.HasPrefix(t.Path, a.UnitPath))
	if act == ReadEvents && a.UnitPath != "" && strings.HasPrefix(a.UnitPath, t.Path) {
		return a.Role.Valid() // the events of the units above one's own (a district's training) reach one too
	}
	if !inside {
		if t.Patient != 0 && slices.Contains(a.Team, t.Patient) && slices.Contains(teamActs, act) {
			// The team member's role decides, as if the record lay in
			// their own jurisdiction.
			return Allow(&Actor{Username: a.Username, Role: a.Role, UnitPath: t.Path}, act, Target{Path: t.Path})
		}
		return act == ReadPatient && t.Patient != 0 && (slices.Contains(a.Glass, t.Patient) && Allow(a, BreakGlass, t) ||
			a.referred(t))
	}
	switch act {
	case ReadUnit:
		return a.Role.Valid()
	case WriteUnit:
		return a.Role == auth.Admin || (a.Role == auth.DistrictAdmin && t.Path != a.UnitPath)
	case ReadUser, ReadAudit:
		return a.Role == auth.Admin || a.Role == auth.DistrictAdmin
	case WriteUser:
		return a.Role == auth.Admin || (a.Role == auth.DistrictAdmin && t.Role != auth.Admin)
	case ReadPatient:
		return oneOf(a.Role, auth.Psychiatrist, auth.Psychotherapist, auth.SocialWorker, auth.Nurse,
			auth.CommunityManager, auth.CareGroup)
	case WritePatient, WriteFollowUp:
		return oneOf(a.Role, auth.Psychiatrist, auth.Nurse, auth.CommunityManager)
	case WriteEmergency:
		return oneOf(a.Role, auth.Psychiatrist, auth.Nurse, auth.CommunityManager, auth.CareGroup)
	case Assess:
		return oneOf(a.Role, auth.Psychiatrist, auth.Psychotherapist, auth.SocialWorker, auth.Nurse, auth.CommunityManager)
	case ReadAlerts:
		return oneOf(a.Role, auth.Psychiatrist, auth.CommunityManager)
	case ReadContacts, WriteContacts:
		return oneOf(a.Role, auth.Psychiatrist, auth.Nurse, auth.CommunityManager)
	case ReadGlass:
		return oneOf(a.Role, auth.Psychiatrist, auth.DistrictAdmin)
	case AccessReport:
		return oneOf(a.Role, auth.Psychiatrist, auth.CommunityManager)
	case ReadFigures:
		return oneOf(a.Role, auth.DistrictAdmin, auth.Psychiatrist, auth.Psychotherapist, auth.SocialWorker, auth.Nurse,
			auth.CommunityManager)
	case ReadAnnouncements:
		return a.Role == auth.Psychiatrist
	case WriteService:
		return a.Role == auth.Admin || a.Role == auth.DistrictAdmin
	case WriteArticle:
		return oneOf(a.Role, auth.DistrictAdmin, auth.CommunityManager, auth.Psychiatrist)
	case WriteTeam:
		return oneOf(a.Role, auth.Psychiatrist, auth.CommunityManager)
	case WritePlan, WriteConference:
		return oneOf(a.Role, auth.Psychiatrist, auth.Psychotherapist, auth.SocialWorker, auth.Nurse, auth.CommunityManager)
	case WriteReferral:
		return oneOf(a.Role, auth.Psychiatrist, auth.Nurse, auth.CommunityManager)
	case WriteCrisis:
		return oneOf(a.Role, auth.Psychiatrist, auth.Nurse, auth.CommunityManager, auth.CareGroup)
	case ReadEvents:
		return a.Role.Valid()
	case WriteEvents:
		return oneOf(a.Role, auth.DistrictAdmin, auth.Psychiatrist, auth.Psychotherapist, auth.SocialWorker, auth.Nurse,
			auth.CommunityManager)
	case WriteCourses, ReadTraining:
		return oneOf(a.Role, auth.DistrictAdmin, auth.Psychiatrist)
	case ReadSubsidies:
		return oneOf(a.Role, auth.DistrictAdmin, auth.CommunityManager)
	case ReviewSubsidy:
		return a.Role == auth.CommunityManager
	case ApproveSubsidy:
		return a.Role == auth.DistrictAdmin
	case ImportRegistry:
		return a.Role == auth.Admin || a.Role == auth.DistrictAdmin
	}
	return false
}

// teamActs are what a care-team grant lets a member do on the patient's
// record outside their jurisdiction, each as far as their role may.
var teamActs = []Action{ReadPatient, WritePatient, WriteFollowUp, WriteEmergency, Assess, WritePlan, ReadAlerts}

// mayEver reports whether the actor's role may do act on anything at all:
// the policy asked about a unit strictly beneath the actor's own. A write
// asks it first, so that a caller without the permission is refused
// whatever the body holds, before validation says anything about it.
func mayEver(a *Actor, act Action) bool {
	if a == nil {
		return false
	}
	p := a.UnitPath
	if p == "" {
		p = "/"
	}
	return Allow(a, act, Target{Path: p + "\x00/"})
}

// View is how much of a patient record a role may see.
type View int

// The views of a patient record, from most to least.
const (
	ViewNone     View = iota // nothing
	ViewFull                 // everything
	ViewClinical             // clinical record (psychotherapist)
	ViewSocial               // the record less medication detail (social worker)
	ViewSafety               // name, address, contact, guardian, risk, follow-up dates only (care-and-help group)
)

// PatientView returns the view of a patient record a role is given.
func PatientView(r auth.Role) View {
	switch r {
	case auth.Psychiatrist, auth.Nurse, auth.CommunityManager:
		return ViewFull
	case auth.Psychotherapist:
		return ViewClinical
	case auth.SocialWorker:
		return ViewSocial
	case auth.CareGroup:
		return ViewSafety
	}
	return ViewNone
}

func oneOf(r auth.Role, roles ...auth.Role) bool {
	for _, x := range roles {
		if r == x {
			return true
		}
	}
	return false
}

// Precheck refuses, as the service method itself would, a caller who may
// not do act at all, or (patientID not 0) not on that patient: for a
// transport that could not read the request's body, so that a caller
// without the permission learns nothing from what the body holds. A refusal
// is audited as denied; nil means the body's own error may be shown.
func (s *Service) Precheck(ctx context.Context, act Action, patientID int64) error {
	check := func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "patient", a.UnitCode, a.UnitPath
		if !mayEver(a, act) {
			return errForbidden()
		}
		if patientID == 0 {
			return nil
		}
		_, err := visible(ctx, tx, a, act, patientID, sub)
		return err
	}
	a := ActorFrom(ctx)
	if a == nil {
		return errUnauthenticated
	}
	var err error
	if rerr := s.db.Read(ctx, func(tx *store.Tx) error {
		err = check(tx, a, &subject{})
		return nil
	}); rerr != nil {
		return rerr
	}
	if err == nil {
		return nil
	}
	return s.act(ctx, string(act), check)
}
