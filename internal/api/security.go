package api

import (
	"net/http"
	"time"

	"kith/internal/care"
)

// securityRoutes are break-the-glass and the patient's access report.
var securityRoutes = []route{
	{Method: "POST", Pattern: "/api/v1/patients/{id}/break-glass", Handle: withID(http.StatusCreated, (*care.Service).BreakGlass)},
	{Method: "GET", Pattern: "/api/v1/patients/{id}/access-report", Handle: (*handler).accessReport},
	{Method: "GET", Pattern: "/api/v1/break-glass", Handle: (*handler).recentGlass},
}

func init() { routes = append(routes, securityRoutes...) }

// accessJSON is one line of the access report, its time in the server's
// local time (the community centre's).
type accessJSON struct {
	care.Access
	At time.Time `json:"at"`
}

func (h *handler) accessReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.AccessReport(r.Context(), id, p)
	if err != nil {
		return err
	}
	out := make([]accessJSON, len(items))
	for i, x := range items {
		out[i] = accessJSON{Access: x, At: x.At.Local()}
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

func (h *handler) recentGlass(w http.ResponseWriter, r *http.Request) error {
	items, err := h.svc.RecentGlass(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, ""))
	return nil
}
