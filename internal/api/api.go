// Package api serves Kith's JSON REST API under /api/v1.
package api

import (
	"net/http"

	"kith/internal/care"
)

// Register adds the API's routes to mux.
func Register(mux *http.ServeMux, svc *care.Service) {}
