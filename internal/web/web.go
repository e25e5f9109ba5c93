// Package web serves the staff UI and the public site.
package web

import (
	"net/http"

	"kith/internal/care"
)

// Register adds the web UI's routes to mux.
func Register(mux *http.ServeMux, svc *care.Service) {}
