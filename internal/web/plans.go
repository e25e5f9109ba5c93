package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kith/internal/care"
)

// Rehabilitation plans (issue 11): the form that writes a plan or its next
// version, the plan page with its reviews, the review form and the
// printable plan with signature lines for patient, family and key worker.
//
// The form works without JavaScript: one text box per domain of needs, and
// a fixed number of goal rows (those of the plan and two blank ones), each
// with planInterventions intervention rows; blank rows are left out.

func init() {
	enumValues["plan_domain"] = care.PlanDomains
	enumValues["progress"] = care.Progresses
	enumValues["plan_status"] = []string{care.PlanActive, care.PlanSuperseded}
}

// planInterventions is the number of intervention rows per goal.
const planInterventions = 3

func (s *server) planRoutes(mux *http.ServeMux) {
	mux.Handle("GET /patients/{id}/plans", s.handle(clinicians, s.planVersions))
	mux.Handle("GET /patients/{id}/plans/new", s.handle(clinicians, s.newPlan))
	mux.Handle("POST /patients/{id}/plans", s.handle(clinicians, s.createPlan))
	mux.Handle("GET /plans/{pid}", s.handle(clinicians, s.planPage))
	mux.Handle("GET /plans/{pid}/edit", s.handle(clinicians, s.editPlan))
	mux.Handle("POST /plans/{pid}", s.handle(clinicians, s.adjustPlan))
	mux.Handle("GET /plans/{pid}/review", s.handle(clinicians, s.reviewPage))
	mux.Handle("POST /plans/{pid}/reviews", s.handle(clinicians, s.reviewPlan))
	mux.Handle("GET /plans/{pid}/print", s.handle(clinicians, s.printPlan))
	mux.Handle("GET /me/interventions", s.handle(clinicians, s.myInterventionsPage))
}

// myInterventionsData is the page of the interventions assigned to the user.
type myInterventionsData struct {
	List    []care.MyIntervention
	NextURL string
}

// myInterventionsPage lists the interventions of active plans assigned to
// the user, all of them a page at a time (the home page shows the first).
func (s *server) myInterventionsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	list, next, err := s.svc.MyInterventions(r.Context(), care.Page{Token: r.URL.Query().Get("page_token")})
	if err != nil {
		return err
	}
	d := &myInterventionsData{List: list}
	if next != "" {
		d.NextURL = "/me/interventions?page_token=" + url.QueryEscape(next)
	}
	return s.render(w, p, http.StatusOK, "myinterventions", d)
}

func planURL(id int64, query string) string {
	u := "/plans/" + strconv.FormatInt(id, 10)
	if query != "" {
		u += "?" + query
	}
	return u
}

// goalField and ivField name the fields of goal row i and its
// intervention row j, as the service names them in its messages.
func goalField(i int, f string) string { return "goals[" + strconv.Itoa(i) + "]." + f }
func ivField(i, j int, f string) string {
	return "goals[" + strconv.Itoa(i) + "].interventions[" + strconv.Itoa(j) + "]." + f
}

var (
	planTopFields = []string{"start_on", "review_every_days", "agreed_by_patient", "agreed_by_family"}
	goalFields    = []string{"domain", "description", "measure", "baseline", "target", "target_on"}
	ivFields      = []string{"description", "assignee", "frequency"}
)

// planFieldNames lists every field of a plan form with goals goal rows.
func planFieldNames(goals int) []string {
	names := append([]string{}, planTopFields...)
	for _, d := range care.PlanDomains {
		names = append(names, "need."+d, "need."+d+".assessment")
	}
	for i := 0; i < goals; i++ {
		for _, f := range goalFields {
			names = append(names, goalField(i, f))
		}
		for j := 0; j < planInterventions; j++ {
			for _, f := range ivFields {
				names = append(names, ivField(i, j, f))
			}
		}
	}
	return names
}

type planFormData struct {
	PatientID   int64
	PatientName string
	Action      string
	Version     int // of the plan adjusted; 0 for a new plan
	Form        *form
	Goals       []int
	Ivs         []int
	Team        []care.TeamMember
	// Assessments are the patient's latest, to cite as the basis of a need.
	Assessments []assessmentChoice
}

// assessmentChoice is an assessment a need may cite, named for a select.
type assessmentChoice struct{ ID, Label string }

func (s *server) renderPlanForm(w http.ResponseWriter, r *http.Request, p *page, status int, d planFormData) error {
	team, err := s.svc.Team(r.Context(), d.PatientID)
	if err != nil {
		return err
	}
	d.Team, d.PatientName = team.Members, team.PatientName
	list, _, err := s.svc.Assessments(r.Context(), d.PatientID, care.AssessmentQuery{}, care.Page{Limit: 20})
	if err != nil && care.ErrorKind(err) != care.Forbidden {
		return err
	}
	for _, a := range list {
		name := a.Instrument
		if def := s.definition(a.Instrument, a.Version); def != nil {
			name = p.Txt(def.Short)
		}
		d.Assessments = append(d.Assessments, assessmentChoice{ID: strconv.FormatInt(a.ID, 10),
			Label: name + " · " + a.Date + " · " + strconv.Itoa(a.Score)})
	}
	d.Ivs = make([]int, planInterventions)
	for j := range d.Ivs {
		d.Ivs[j] = j
	}
	return s.render(w, p, status, "plan_form", d)
}

func rows(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func (s *server) newPlan(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(nil, planFieldNames(3)...)
	f.set("start_on", s.today())
	f.set("review_every_days", "90")
	return s.renderPlanForm(w, r, p, http.StatusOK, planFormData{PatientID: id, Action: "/patients/" + strconv.FormatInt(id, 10) + "/plans",
		Form: f, Goals: rows(3)})
}

func (s *server) editPlan(w http.ResponseWriter, r *http.Request, p *page) error {
	pid, err := pathID(r, "pid")
	if err != nil {
		return err
	}
	pl, err := s.svc.Plan(r.Context(), pid)
	if err != nil {
		return err
	}
	n := len(pl.Goals) + 2
	f := newForm(nil, planFieldNames(n)...)
	f.set("start_on", s.today())
	f.set("review_every_days", strconv.Itoa(pl.ReviewEveryDays))
	if pl.AgreedByPatient {
		f.set("agreed_by_patient", "1")
	}
	if pl.AgreedByFamily {
		f.set("agreed_by_family", "1")
	}
	for _, nd := range pl.Needs {
		k := "need." + nd.Domain
		if nd.AssessmentID != nil {
			f.set(k+".assessment", strconv.FormatInt(*nd.AssessmentID, 10))
		}
		if f.V(k) != "" {
			f.set(k, f.V(k)+"\n"+nd.Finding)
		} else {
			f.set(k, nd.Finding)
		}
	}
	for i, g := range pl.Goals {
		for k, v := range map[string]string{"domain": g.Domain, "description": g.Description, "measure": g.Measure,
			"baseline": string(g.Baseline), "target": string(g.Target), "target_on": g.TargetOn} {
			f.set(goalField(i, k), v)
		}
		for j, iv := range g.Interventions {
			if j < planInterventions {
				f.set(ivField(i, j, "description"), iv.Description)
				f.set(ivField(i, j, "assignee"), iv.Assignee)
				f.set(ivField(i, j, "frequency"), iv.Frequency)
			}
		}
	}
	return s.renderPlanForm(w, r, p, http.StatusOK, planFormData{PatientID: pl.PatientID, Action: planURL(pid, ""),
		Version: pl.Version, Form: f, Goals: rows(n)})
}

// planFromForm reads a posted plan form. It returns the input and, for the
// service's messages, the form's name for each list item's field prefix.
func planFromForm(r *http.Request) (*form, care.PlanInput, map[string]string, int) {
	n := rowCount(r, "goal_rows", 1, 30)
	f := newForm(r, planFieldNames(n)...)
	in := care.PlanInput{StartOn: f.V("start_on"), AgreedByPatient: f.V("agreed_by_patient") != "",
		AgreedByFamily: f.V("agreed_by_family") != ""}
	in.ReviewEveryDays, _ = strconv.Atoi(strings.TrimSpace(f.V("review_every_days")))
	names := map[string]string{}
	for _, d := range care.PlanDomains {
		if v := strings.TrimSpace(f.V("need." + d)); v != "" {
			k := "needs[" + strconv.Itoa(len(in.Needs)) + "]."
			names[k+"finding"], names[k+"assessment_id"] = "need."+d, "need."+d+".assessment"
			n := care.PlanNeed{Domain: d, Finding: v}
			if id, ok := care.ParseID(f.V("need." + d + ".assessment")); ok {
				n.AssessmentID = &id
			}
			in.Needs = append(in.Needs, n)
		}
	}
	for i := 0; i < n; i++ {
		g := care.PlanGoal{Domain: f.V(goalField(i, "domain")), Description: f.V(goalField(i, "description")),
			Measure: f.V(goalField(i, "measure")), Baseline: care.Measure(f.V(goalField(i, "baseline"))),
			Target: care.Measure(f.V(goalField(i, "target"))), TargetOn: f.V(goalField(i, "target_on"))}
		k := len(in.Goals)
		for j := 0; j < planInterventions; j++ {
			iv := care.PlanIntervention{Description: f.V(ivField(i, j, "description")), Assignee: f.V(ivField(i, j, "assignee")),
				Frequency: f.V(ivField(i, j, "frequency"))}
			if strings.TrimSpace(iv.Description+iv.Assignee+iv.Frequency) == "" {
				continue
			}
			for _, x := range ivFields {
				names[ivField(k, len(g.Interventions), x)] = ivField(i, j, x)
			}
			g.Interventions = append(g.Interventions, iv)
		}
		if strings.TrimSpace(g.Description+g.Measure+string(g.Baseline)+string(g.Target)+g.TargetOn) == "" && len(g.Interventions) == 0 {
			continue // a blank row
		}
		for _, x := range goalFields {
			names[goalField(k, x)] = goalField(i, x)
		}
		in.Goals = append(in.Goals, g)
	}
	return f, in, names, n
}

// rename gives the service's field messages the form's field names.
func rename(err error, names map[string]string) {
	var ce *care.Error
	if !errors.As(err, &ce) {
		return
	}
	for i, fe := range ce.Fields {
		if n, ok := names[fe.Field]; ok {
			ce.Fields[i].Field = n
		}
	}
}

func (s *server) createPlan(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, in, names, n := planFromForm(r)
	pl, err := s.svc.CreatePlan(r.Context(), id, in)
	if err != nil {
		rename(err, names)
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return s.renderPlanForm(w, r, p, status, planFormData{PatientID: id, Action: "/patients/" + strconv.FormatInt(id, 10) + "/plans",
			Form: f, Goals: rows(n)})
	}
	http.Redirect(w, r, planURL(pl.ID, "saved=1"), http.StatusSeeOther)
	return nil
}

func (s *server) adjustPlan(w http.ResponseWriter, r *http.Request, p *page) error {
	pid, err := pathID(r, "pid")
	if err != nil {
		return err
	}
	f, in, names, n := planFromForm(r)
	pl, err := s.svc.AdjustPlan(r.Context(), pid, in)
	if err != nil {
		rename(err, names)
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		old, rerr := s.svc.Plan(r.Context(), pid)
		if rerr != nil {
			return rerr
		}
		return s.renderPlanForm(w, r, p, status, planFormData{PatientID: old.PatientID, Action: planURL(pid, ""), Version: old.Version,
			Form: f, Goals: rows(n)})
	}
	http.Redirect(w, r, planURL(pl.ID, "saved=version"), http.StatusSeeOther)
	return nil
}

type planPageData struct {
	Plan *care.Plan
	// CanWrite says whether the user may adjust and review it.
	CanWrite bool
	Goals    map[int64]string // goal id → description, for the reviews
	// Print is the printable plan, with signature lines.
	Print   bool
	Printed time.Time
}

func (s *server) planData(r *http.Request, p *page) (planPageData, error) {
	pid, err := pathID(r, "pid")
	if err != nil {
		return planPageData{}, err
	}
	pl, err := s.svc.Plan(r.Context(), pid)
	if err != nil {
		return planPageData{}, err
	}
	d := planPageData{Plan: pl, CanWrite: may(p.User, care.WritePlan) && pl.Status == care.PlanActive,
		Goals: map[int64]string{}, Printed: time.Now()}
	for _, g := range pl.Goals {
		d.Goals[g.ID] = g.Description
	}
	return d, nil
}

func (s *server) planPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.planData(r, p)
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("saved") {
	case "1":
		p.Flash = p.T("plan.saved")
	case "version":
		p.Flash = p.T("plan.saved.version", "Number", d.Plan.Version)
	case "review":
		p.Flash = p.T("plan.saved.review", "Date", d.Plan.NextReviewOn)
	}
	return s.render(w, p, http.StatusOK, "plan", d)
}

func (s *server) printPlan(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.planData(r, p)
	if err != nil {
		return err
	}
	d.Print = true
	return s.render(w, p, http.StatusOK, "plan", d)
}

func (s *server) planVersions(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.svc.Plans(r.Context(), id)
	if err != nil {
		return err
	}
	name := ""
	if len(list) > 0 {
		name = list[0].PatientName
	} else {
		t, err := s.svc.Team(r.Context(), id)
		if err != nil {
			return err
		}
		name = t.PatientName
	}
	return s.render(w, p, http.StatusOK, "plan_versions", struct {
		PatientID   int64
		PatientName string
		Plans       []care.Plan
		CanWrite    bool
	}{id, name, list, may(p.User, care.WritePlan)})
}

type reviewFormData struct {
	Plan *care.Plan
	Form *form
}

func reviewFieldNames(pl *care.Plan) []string {
	names := []string{"date", "patient_feedback", "family_feedback"}
	for _, g := range pl.Goals {
		id := strconv.FormatInt(g.ID, 10)
		names = append(names, "progress."+id, "value."+id)
	}
	return names
}

func (s *server) reviewPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.planData(r, p)
	if err != nil {
		return err
	}
	f := newForm(nil, reviewFieldNames(d.Plan)...)
	f.set("date", s.today())
	return s.render(w, p, http.StatusOK, "plan_review", reviewFormData{Plan: d.Plan, Form: f})
}

func (s *server) reviewPlan(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.planData(r, p)
	if err != nil {
		return err
	}
	pl := d.Plan
	f := newForm(r, reviewFieldNames(pl)...)
	in := care.ReviewInput{Date: f.V("date"), PatientFeedback: f.V("patient_feedback"), FamilyFeedback: f.V("family_feedback")}
	names := map[string]string{}
	for _, g := range pl.Goals {
		id := strconv.FormatInt(g.ID, 10)
		if f.V("progress."+id) == "" && f.V("value."+id) == "" {
			continue // not rated at this review
		}
		k := "ratings[" + strconv.Itoa(len(in.Ratings)) + "]."
		names[k+"progress"], names[k+"value"], names[k+"goal_id"] = "progress."+id, "value."+id, "progress."+id
		in.Ratings = append(in.Ratings, care.GoalRating{GoalID: g.ID, Progress: f.V("progress." + id), Value: care.Measure(f.V("value." + id))})
	}
	if _, err := s.svc.ReviewPlan(r.Context(), pl.ID, in); err != nil {
		rename(err, names)
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return s.render(w, p, status, "plan_review", reviewFormData{Plan: pl, Form: f})
	}
	http.Redirect(w, r, planURL(pl.ID, "saved=review"), http.StatusSeeOther)
	return nil
}
