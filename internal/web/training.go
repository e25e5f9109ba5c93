package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kith/internal/care"
)

func (s *server) trainingRoutes(mux *http.ServeMux) {
	mux.Handle("GET /training", s.handle(staff, s.trainingPage))
	mux.Handle("POST /training/courses", s.handle(staff, s.createCourse))
	mux.Handle("GET /training/people/{username}", s.handle(staff, s.personTraining))
}

var courseFields = []string{"title", "topic", "hours", "competencies"}

type trainingData struct {
	Year    int
	Years   []int
	Below   bool
	Unit    string
	Units   []care.Unit
	Target  float64
	Staff   []care.StaffHours
	NextURL string
	Courses []care.Course
	Form    *form
}

// trainingPage is the district's view of training: its courses, and its
// staff with their hours of a year, or only those below the target.
func (s *server) trainingPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showTraining(w, r, p, http.StatusOK, newForm(nil, courseFields...))
}

func (s *server) showTraining(w http.ResponseWriter, r *http.Request, p *page, status int, f *form) error {
	if !may(p.User, care.ReadTraining) {
		return errNoRights
	}
	q := r.URL.Query()
	this := s.svc.Today().Time().Year()
	d := trainingData{Year: this, Below: q.Get("below") == "1", Unit: q.Get("unit"), Target: s.svc.TrainingTarget(), Form: f}
	if y, err := strconv.Atoi(q.Get("year")); err == nil && y > 2000 && y <= this {
		d.Year = y
	}
	for y := this; y > this-5; y-- {
		d.Years = append(d.Years, y)
	}
	var err error
	if d.Units, err = s.unitsOf(r); err != nil {
		return err
	}
	if d.Courses, err = s.svc.Courses(r.Context()); err != nil {
		return err
	}
	list, next, err := s.svc.StaffTraining(r.Context(), care.TrainingQuery{OrgUnit: d.Unit, Year: d.Year, Below: d.Below},
		care.Page{Token: q.Get("after"), Limit: care.DefaultLimit})
	if err != nil {
		return err
	}
	d.Staff = list
	if next != "" {
		v := url.Values{"year": {strconv.Itoa(d.Year)}, "unit": {d.Unit}, "after": {next}}
		if d.Below {
			v.Set("below", "1")
		}
		d.NextURL = "/training?" + v.Encode()
	}
	if q.Has("created") {
		p.Flash = p.T("training.course.created")
	}
	return s.render(w, p, status, "training", d)
}

func (s *server) createCourse(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, courseFields...)
	in := care.CourseInput{Title: f.V("title"), Topic: f.V("topic")}
	if h, err := strconv.ParseFloat(strings.TrimSpace(f.V("hours")), 64); err == nil {
		in.Hours = h
	} else {
		f.fieldError(p, "hours", "must be a number")
	}
	for _, c := range strings.FieldsFunc(f.V("competencies"), func(r rune) bool { return r == ',' || r == '，' || r == '\n' || r == '、' }) {
		if c = strings.TrimSpace(c); c != "" {
			in.Competencies = append(in.Competencies, c)
		}
	}
	if !f.Failed() {
		_, err := s.svc.CreateCourse(r.Context(), in)
		if err == nil {
			http.Redirect(w, r, "/training?created=1", http.StatusSeeOther)
			return nil
		}
		if p.formError(f, err) == 0 {
			return err
		}
	}
	return s.showTraining(w, r, p, http.StatusUnprocessableEntity, f)
}

type personTrainingData struct {
	Training *care.Training
	Years    []int
	Below    bool
}

// personTraining shows a person's training of a year: hours against the
// target, competencies and sessions.
func (s *server) personTraining(w http.ResponseWriter, r *http.Request, p *page) error {
	this := s.svc.Today().Time().Year()
	year := this
	if y, err := strconv.Atoi(r.URL.Query().Get("year")); err == nil && y > 2000 && y <= this {
		year = y
	}
	t, err := s.svc.UserTraining(r.Context(), r.PathValue("username"), year)
	if err != nil {
		return err
	}
	d := personTrainingData{Training: t, Below: t.Hours < t.Target}
	for y := this; y > this-5; y-- {
		d.Years = append(d.Years, y)
	}
	return s.render(w, p, http.StatusOK, "training_person", d)
}
