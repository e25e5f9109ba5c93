package web

import (
	"net/http"
	"net/url"

	"kith/internal/audit"
	"kith/internal/care"
)

// AuditKinds are the kinds of action the filter offers.
func (d auditData) Kinds() []string { return audit.Kinds }

type auditData struct {
	Entries []audit.Entry
	Filter  *form
	NextURL string
}

var auditFields = []string{"subject_id", "actor", "from", "to", "kind", "changes"}

// audit lists audit entries, newest first, filtered by subject, actor,
// dates, kind of action and "changes only". The service records the reading itself.
func (s *server) audit(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	f := newForm(nil, auditFields...)
	for _, n := range auditFields {
		f.set(n, q.Get(n))
	}
	list, next, err := s.svc.AuditLog(r.Context(), care.AuditQuery{SubjectID: f.V("subject_id"), Actor: f.V("actor"),
		From: f.V("from"), To: f.V("to"), Kind: f.V("kind"), ChangesOnly: f.V("changes") != ""}, care.Page{Token: q.Get("page_token")})
	status := http.StatusOK
	if err != nil {
		if status = p.formError(f, err); status == 0 {
			return err
		}
	}
	d := auditData{Entries: list, Filter: f}
	if next != "" {
		v := url.Values{"page_token": {next}}
		for _, n := range auditFields {
			if f.V(n) != "" {
				v.Set(n, f.V(n))
			}
		}
		d.NextURL = "/admin/audit?" + v.Encode()
	}
	return s.render(w, p, status, "audit", d)
}
