package api

import (
	_ "embed"
	"net/http"
)

// openapiDoc is the OpenAPI 3.1 description of the API, written by hand and
// kept in step with routes by TestOpenAPICoversRoutes.
//
//go:embed openapi.json
var openapiDoc []byte

func (h *handler) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openapiDoc)
	return nil
}
