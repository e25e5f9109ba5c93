package web

import "net/http"

// assessmentRoutes adds the staff pages of assessments, alerts and
// residents' contact requests.
func (s *server) assessmentRoutes(mux *http.ServeMux) {}
