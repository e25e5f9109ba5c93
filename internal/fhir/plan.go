package fhir

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
)

func init() {
	routes = append(routes,
		route{Type: "CareTeam", Interaction: read, Handle: (*handler).readCareTeam},
		route{Type: "CareTeam", Interaction: searchType, Handle: (*handler).searchCareTeams, Params: []param{
			{"patient", "reference", "the patient (Patient/ID), required"},
		}},
		route{Type: "CarePlan", Interaction: read, Handle: (*handler).readCarePlan},
		route{Type: "CarePlan", Interaction: searchType, Handle: (*handler).searchCarePlans, Params: []param{
			{"patient", "reference", "the patient (Patient/ID), required: every version of the plan, newest first"},
		}},
		route{Type: "Goal", Interaction: read, Handle: (*handler).readGoal},
		route{Type: "Goal", Interaction: searchType, Handle: (*handler).searchGoals, Params: []param{
			{"patient", "reference", "the patient (Patient/ID), required: the goals of every version of the plan, newest first"},
		}},
	)
}

// instant writes a time as a FHIR instant.
func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// CareTeam is a patient's care team; its id is the patient's id (a
// patient has one team). The staff are participants referring to their
// Practitioner, on behalf of their org unit, with their team role (and
// key-worker when they are the key worker); a contact who is not staff is
// a participant named by display only, with the kind of contact as role.
type CareTeam struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Status       string            `json:"status"`
	Subject      Reference         `json:"subject"`
	Participant  []teamParticipant `json:"participant,omitempty"`
}

type teamParticipant struct {
	Role       []CodeableConcept `json:"role,omitempty"`
	Member     *Reference        `json:"member,omitempty"`
	OnBehalfOf *Reference        `json:"onBehalfOf,omitempty"`
	Period     *Period           `json:"period,omitempty"`
}

func (t *CareTeam) ref() string { return "CareTeam/" + t.ID }

func careTeamResource(t *care.Team) *CareTeam {
	pid := strconv.FormatInt(t.PatientID, 10)
	ct := &CareTeam{ResourceType: "CareTeam", ID: pid, Status: "active", Subject: Reference{Reference: "Patient/" + pid}}
	for _, m := range t.Members {
		p := teamParticipant{Member: ptr(practitioner(m.Username, m.Name)), Period: &Period{Start: instant(m.AddedAt)},
			Role: []CodeableConcept{*concept(systemTeamRole, m.TeamRole, strings.ReplaceAll(m.TeamRole, "_", " "))}}
		if m.KeyWorker && m.TeamRole != "key_worker" {
			p.Role = append(p.Role, *concept(systemTeamRole, "key_worker", "key worker"))
		}
		if m.Unit != "" {
			p.OnBehalfOf = &Reference{Reference: "Organization/" + m.Unit, Display: m.UnitName}
		}
		ct.Participant = append(ct.Participant, p)
	}
	for _, c := range t.Contacts {
		role := concept(systemContactKind, c.Kind, c.Kind)
		role.Text = strings.TrimSpace(c.Relation + " " + c.Organisation)
		ct.Participant = append(ct.Participant, teamParticipant{Role: []CodeableConcept{*role}, Member: &Reference{Display: c.Name},
			Period: &Period{Start: instant(c.AddedAt)}})
	}
	return ct
}

func (h *handler) readCareTeam(w http.ResponseWriter, r *http.Request) error {
	return readByID(w, r, h.svc.Team, careTeamResource)
}

func (h *handler) searchCareTeams(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("CareTeam")); err != nil {
		return err
	}
	pid, err := reference(r, "patient", "Patient", true)
	if err != nil {
		return err
	}
	if _, err := page(r); err != nil {
		return err
	}
	t, err := h.svc.Team(r.Context(), pid)
	if err != nil {
		return err
	}
	items, next, err := pageOf(r, []*care.Team{t})
	if err != nil {
		return err
	}
	b := searchset(r, next)
	for _, t := range items {
		b.add(r, careTeamResource(t), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}

// CarePlan is one version of a patient's rehabilitation plan; its id is
// the version's id, and the identifier names the patient's plan and the
// version ({patient}-v{n}). The active version is active; one an
// adjustment replaced is revoked. The needs are notes, the goals Goals,
// the interventions activities towards their goal.
type CarePlan struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id"`
	Extension    []Extension    `json:"extension,omitempty"`
	Identifier   []Identifier   `json:"identifier,omitempty"`
	Replaces     []Reference    `json:"replaces,omitempty"`
	Status       string         `json:"status"`
	Intent       string         `json:"intent"`
	Subject      Reference      `json:"subject"`
	Period       *Period        `json:"period,omitempty"`
	Created      string         `json:"created,omitempty"`
	Author       *Reference     `json:"author,omitempty"`
	CareTeam     []Reference    `json:"careTeam,omitempty"`
	Goal         []Reference    `json:"goal,omitempty"`
	Activity     []planActivity `json:"activity,omitempty"`
	Note         []annotation   `json:"note,omitempty"`
}

type planActivity struct {
	Detail activityDetail `json:"detail"`
}

type activityDetail struct {
	Status          string      `json:"status"`
	Goal            []Reference `json:"goal,omitempty"`
	ScheduledString string      `json:"scheduledString,omitempty"`
	Performer       []Reference `json:"performer,omitempty"`
	Description     string      `json:"description,omitempty"`
}

func (c *CarePlan) ref() string { return "CarePlan/" + c.ID }

func goalID(p *care.Plan, g *care.PlanGoal) string {
	return strconv.FormatInt(p.ID, 10) + "-" + strconv.FormatInt(g.ID, 10)
}

func carePlanResource(p *care.Plan) *CarePlan {
	pid := strconv.FormatInt(p.PatientID, 10)
	cp := &CarePlan{ResourceType: "CarePlan", ID: strconv.FormatInt(p.ID, 10), Status: "active", Intent: "plan",
		Identifier: []Identifier{{System: systemPlanVersion, Value: pid + "-v" + strconv.Itoa(p.Version)}},
		Extension: []Extension{{URL: extAgreedByPatient, ValueBoolean: ptr(p.AgreedByPatient)},
			{URL: extAgreedByFamily, ValueBoolean: ptr(p.AgreedByFamily)}},
		Subject: Reference{Reference: "Patient/" + pid}, Created: instant(p.CreatedAt),
		Author: ptr(practitioner(p.Author, p.AuthorName)), CareTeam: []Reference{{Reference: "CareTeam/" + pid}}}
	if p.Replaces != nil {
		// The version it was adjusted from (revoked now).
		cp.Replaces = []Reference{{Reference: "CarePlan/" + strconv.FormatInt(*p.Replaces, 10)}}
	}
	activity := "in-progress"
	if p.Status != care.PlanActive {
		cp.Status, activity = "revoked", "stopped"
	}
	if p.StartOn != "" {
		cp.Period = &Period{Start: p.StartOn}
	}
	for i := range p.Goals {
		g := &p.Goals[i]
		ref := Reference{Reference: "Goal/" + goalID(p, g)}
		cp.Goal = append(cp.Goal, ref)
		for _, iv := range g.Interventions {
			d := activityDetail{Status: activity, Goal: []Reference{ref}, ScheduledString: iv.Frequency, Description: iv.Description}
			if iv.Assignee != "" {
				d.Performer = []Reference{practitioner(iv.Assignee, iv.AssigneeName)}
			}
			cp.Activity = append(cp.Activity, planActivity{Detail: d})
		}
	}
	for _, n := range p.Needs {
		cp.Note = append(cp.Note, annotation{Text: "Need (" + strings.ReplaceAll(n.Domain, "_", " ") + "): " + n.Finding})
	}
	return cp
}

func (h *handler) readCarePlan(w http.ResponseWriter, r *http.Request) error {
	return readByID(w, r, h.svc.Plan, carePlanResource)
}

func (h *handler) searchCarePlans(w http.ResponseWriter, r *http.Request) error {
	plans, err := h.patientPlans(r, "CarePlan")
	if err != nil {
		return err
	}
	items, next, err := pageOf(r, plans)
	if err != nil {
		return err
	}
	b := searchset(r, next)
	for i := range items {
		b.add(r, carePlanResource(&items[i]), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}

// patientPlans reads the plan versions of the search's patient.
func (h *handler) patientPlans(r *http.Request, typ string) ([]care.Plan, error) {
	if err := checkParams(r, searchRoute(typ)); err != nil {
		return nil, err
	}
	pid, err := reference(r, "patient", "Patient", true)
	if err != nil {
		return nil, err
	}
	if _, err := page(r); err != nil {
		return nil, err
	}
	return h.svc.Plans(r.Context(), pid)
}

// Goal is a goal of one plan version; its id is the version's id and the
// goal's ("12-40"). The target is the measure, the target value and the
// target date; the baseline, which R4 has no element for, is an
// extension. The latest review's rating is the achievement status, its
// date the status date and the value it measured the outcome. A goal
// rated achieved is completed; one of a version an adjustment replaced is
// cancelled (the new version carries the goals on).
type Goal struct {
	ResourceType      string            `json:"resourceType"`
	ID                string            `json:"id"`
	Extension         []Extension       `json:"extension,omitempty"`
	LifecycleStatus   string            `json:"lifecycleStatus"`
	AchievementStatus *CodeableConcept  `json:"achievementStatus,omitempty"`
	Category          []CodeableConcept `json:"category,omitempty"`
	Description       CodeableConcept   `json:"description"`
	Subject           Reference         `json:"subject"`
	StartDate         string            `json:"startDate,omitempty"`
	Target            []goalTarget      `json:"target,omitempty"`
	StatusDate        string            `json:"statusDate,omitempty"`
	StatusReason      string            `json:"statusReason,omitempty"`
	OutcomeCode       []CodeableConcept `json:"outcomeCode,omitempty"`
}

type goalTarget struct {
	Measure      *CodeableConcept `json:"measure,omitempty"`
	DetailString string           `json:"detailString,omitempty"`
	DueDate      string           `json:"dueDate,omitempty"`
}

func (g *Goal) ref() string { return "Goal/" + g.ID }

// achievement maps a review's rating to FHIR's goal achievement codes.
var achievement = map[string][2]string{
	"achieved":  {"achieved", "Achieved"},
	"improved":  {"improving", "Improving"},
	"unchanged": {"no-change", "No Change"},
	"worse":     {"worsening", "Worsening"},
}

func goalResource(p *care.Plan, g *care.PlanGoal) *Goal {
	out := &Goal{ResourceType: "Goal", ID: goalID(p, g), LifecycleStatus: "active",
		Category:    []CodeableConcept{*concept(systemPlanDomain, g.Domain, strings.ReplaceAll(g.Domain, "_", " "))},
		Description: CodeableConcept{Text: g.Description}, Subject: Reference{Reference: "Patient/" + strconv.FormatInt(p.PatientID, 10)},
		StartDate: p.StartOn}
	if g.Baseline != "" {
		out.Extension = []Extension{{URL: extGoalBaseline, ValueString: string(g.Baseline)}}
	}
	t := goalTarget{DetailString: string(g.Target), DueDate: g.TargetOn}
	if g.Measure != "" {
		t.Measure = &CodeableConcept{Text: g.Measure}
	}
	if t.DetailString != "" || t.DueDate != "" {
		if t.Measure == nil && t.DetailString != "" {
			t.DetailString = "" // a target value needs its measure (gol-1)
		}
		out.Target = []goalTarget{t}
	}
	// The reviews come newest first: the first rating of the goal is its latest.
	var rating *care.GoalRating
	for _, rv := range p.Reviews {
		for i := range rv.Ratings {
			if rating == nil && rv.Ratings[i].GoalID == g.ID {
				rating, out.StatusDate = &rv.Ratings[i], rv.Date
			}
		}
	}
	if rating != nil {
		if a, ok := achievement[rating.Progress]; ok {
			out.AchievementStatus = concept(systemGoalAchieve, a[0], a[1])
		}
		if rating.Value != "" {
			out.OutcomeCode = []CodeableConcept{{Text: string(rating.Value)}}
		}
	} else if p.Status == care.PlanActive {
		out.AchievementStatus = concept(systemGoalAchieve, "in-progress", "In Progress")
	}
	switch {
	case p.Status != care.PlanActive:
		out.LifecycleStatus, out.StatusReason = "cancelled", "a new version of the plan replaced this one"
	case rating != nil && rating.Progress == "achieved":
		out.LifecycleStatus = "completed"
	}
	return out
}

func (h *handler) readGoal(w http.ResponseWriter, r *http.Request) error {
	planPart, goalPart, _ := strings.Cut(r.PathValue("id"), "-")
	planID, ok1 := care.ParseID(planPart)
	gid, ok2 := care.ParseID(goalPart)
	if !ok1 || !ok2 {
		return &care.Error{Kind: care.NotFound, Message: "not found"}
	}
	p, err := h.svc.Plan(r.Context(), planID)
	if err != nil {
		return err
	}
	for i := range p.Goals {
		if p.Goals[i].ID == gid {
			writeResource(w, http.StatusOK, goalResource(p, &p.Goals[i]))
			return nil
		}
	}
	return &care.Error{Kind: care.NotFound, Message: "goal not found"}
}

func (h *handler) searchGoals(w http.ResponseWriter, r *http.Request) error {
	plans, err := h.patientPlans(r, "Goal")
	if err != nil {
		return err
	}
	type planGoal struct {
		p *care.Plan
		g *care.PlanGoal
	}
	var all []planGoal
	for i := range plans {
		for j := range plans[i].Goals {
			all = append(all, planGoal{&plans[i], &plans[i].Goals[j]})
		}
	}
	items, next, err := pageOf(r, all)
	if err != nil {
		return err
	}
	b := searchset(r, next)
	for _, it := range items {
		b.add(r, goalResource(it.p, it.g), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}
