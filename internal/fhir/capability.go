package fhir

import (
	"net/http"
	"slices"
)

func init() {
	routes = append(routes, route{Interaction: capabilities, Handle: (*handler).metadata})
}

// CapabilityStatement says what this server implements. It is made from
// the routes table, so it lists exactly the interactions that are mounted.
type CapabilityStatement struct {
	ResourceType string         `json:"resourceType"`
	Status       string         `json:"status"`
	Date         string         `json:"date"`
	Kind         string         `json:"kind"`
	Software     *software      `json:"software"`
	Instantiates []string       `json:"instantiates,omitempty"`
	FhirVersion  string         `json:"fhirVersion"`
	Format       []string       `json:"format"`
	Rest         []capabilityRS `json:"rest"`
}

type software struct {
	Name string `json:"name"`
}

type capabilityRS struct {
	Mode     string               `json:"mode"`
	Security *capabilitySecurity  `json:"security,omitempty"`
	Resource []capabilityResource `json:"resource"`
}

type capabilitySecurity struct {
	Description string `json:"description"`
}

type capabilityResource struct {
	Type          string                `json:"type"`
	Interaction   []capabilityInteract  `json:"interaction,omitempty"`
	SearchInclude []string              `json:"searchInclude,omitempty"`
	SearchParam   []capabilitySearchPar `json:"searchParam,omitempty"`
	Operation     []capabilityOperation `json:"operation,omitempty"`
}

type capabilityOperation struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

type capabilityInteract struct {
	Code string `json:"code"`
}

type capabilitySearchPar struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Documentation string `json:"documentation,omitempty"`
}

// capabilityDate is when the statement last changed (FHIR requires a date).
const capabilityDate = "2026-12-01"

// Capability builds the statement from the routes table.
func Capability() CapabilityStatement {
	cs := CapabilityStatement{ResourceType: "CapabilityStatement", Status: "active", Date: capabilityDate, Kind: "instance",
		Software: &software{Name: "Kith"}, FhirVersion: "4.0.1", Format: []string{"json"}}
	rest := capabilityRS{Mode: "server", Security: &capabilitySecurity{Description: "Bearer tokens of POST /api/v1/auth/token " +
		"(Authorization: Bearer TOKEN); each read and search is limited to the caller's jurisdiction and role, and audited"}}
	index := map[string]int{}
	for _, rt := range routes {
		if rt.Type == "" {
			continue
		}
		i, ok := index[rt.Type]
		if !ok {
			i = len(rest.Resource)
			index[rt.Type] = i
			rest.Resource = append(rest.Resource, capabilityResource{Type: rt.Type})
		}
		res := &rest.Resource[i]
		if rt.Interaction == operation {
			res.Operation = append(res.Operation, capabilityOperation{rt.Operation, rt.Definition})
			if rt.Operation == "export" {
				cs.Instantiates = []string{"http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"}
			}
			continue
		}
		res.Interaction = append(res.Interaction, capabilityInteract{rt.Interaction})
		if rt.Interaction == searchType {
			res.SearchInclude = append(res.SearchInclude, rt.Includes...)
			for _, p := range append(slices.Clone(rt.Params), common...) {
				res.SearchParam = append(res.SearchParam, capabilitySearchPar{p.Name, p.Type, p.Doc})
			}
		}
	}
	slices.SortFunc(rest.Resource, func(a, b capabilityResource) int {
		switch {
		case a.Type < b.Type:
			return -1
		case a.Type > b.Type:
			return 1
		}
		return 0
	})
	cs.Rest = []capabilityRS{rest}
	return cs
}

func (h *handler) metadata(w http.ResponseWriter, r *http.Request) error {
	writeResource(w, http.StatusOK, Capability())
	return nil
}
