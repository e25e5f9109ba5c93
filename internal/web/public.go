package web

import "net/http"

// publicRoutes adds the public site: no sign-in, its own layout.
func (s *server) publicRoutes(mux *http.ServeMux) {}
