package api

import (
	"net/http"

	"kith/internal/care"
)

// networkRoutes are the service network and, for residents, the services
// serving a community.
var networkRoutes = []route{
	{Method: "GET", Pattern: "/api/v1/services", Handle: (*handler).listProviders},
	{Method: "POST", Pattern: "/api/v1/services", Handle: (*handler).createProvider},
	{Method: "GET", Pattern: "/api/v1/services/{id}", Handle: (*handler).getProvider},
	{Method: "PUT", Pattern: "/api/v1/services/{id}", Handle: withID(http.StatusOK, (*care.Service).UpdateProvider)},
	{Method: "DELETE", Pattern: "/api/v1/services/{id}", Handle: (*handler).deleteProvider},
	{Method: "GET", Pattern: "/api/v1/public/services", Public: true, Handle: (*handler).publicServices},
}

func init() {
	routes = append(routes, networkRoutes...)
	refuseFirst["POST /api/v1/services"] = care.WriteService
	refuseFirst["PUT /api/v1/services/{id}"] = care.WriteService
}

func (h *handler) listProviders(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, next, err := h.svc.Providers(r.Context(), care.ProviderQuery{OrgUnit: q.Get("org_unit"), Kind: q.Get("kind")}, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (h *handler) createProvider(w http.ResponseWriter, r *http.Request) error {
	var in care.ProviderInput
	if err := decode(r, &in); err != nil {
		return err
	}
	out, err := h.svc.CreateProvider(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (h *handler) getProvider(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	out, err := h.svc.Provider(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) deleteProvider(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteProvider(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// publicServices lists, for a resident, the services serving a community,
// its street or its district, nearest first.
func (h *handler) publicServices(w http.ResponseWriter, r *http.Request) error {
	l, err := lang(w, r)
	if err != nil {
		return err
	}
	code := r.URL.Query().Get("community")
	if code == "" {
		return fieldErr("community", "is required: the code of a community (GET /api/v1/communities)")
	}
	list, err := h.svc.ServicesFor(r.Context(), code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(care.PublicServices(list, l), ""))
	return nil
}
