package fhir

import (
	"net/http"
	"strconv"

	"kith/internal/care"
)

func init() {
	routes = append(routes,
		route{Type: "ServiceRequest", Interaction: read, Handle: (*handler).readServiceRequest},
		route{Type: "ServiceRequest", Interaction: searchType, Handle: (*handler).searchServiceRequests, Params: []param{
			{"patient", "reference", "the patient (Patient/ID), required: referrals up and discharges down, newest first"},
		}},
	)
}

// ServiceRequest is a referral: up, from the patient's community to a
// hospital, or down, a discharge handed back to the community. Its id is
// the referral's. The requester is the sending unit and the performer the
// receiving one, both Organizations; Kith's own status, which tells a
// requested referral from an accepted one (both active in FHIR), and a
// completed referral's outcome are extensions.
type ServiceRequest struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Extension    []Extension       `json:"extension,omitempty"`
	Status       string            `json:"status"`
	Intent       string            `json:"intent"`
	Priority     string            `json:"priority,omitempty"`
	Code         *CodeableConcept  `json:"code,omitempty"`
	Subject      Reference         `json:"subject"`
	AuthoredOn   string            `json:"authoredOn,omitempty"`
	Requester    *Reference        `json:"requester,omitempty"`
	Performer    []Reference       `json:"performer,omitempty"`
	ReasonCode   []CodeableConcept `json:"reasonCode,omitempty"`
	Note         []annotation      `json:"note,omitempty"`
}

func (s *ServiceRequest) ref() string { return "ServiceRequest/" + s.ID }

// referralStatus maps a referral's status to FHIR's request status: a
// referral requested or accepted is in force, one declined or cancelled
// ended before it was done.
var referralStatus = map[string]string{
	care.RefRequested: "active",
	care.RefAccepted:  "active",
	care.RefDeclined:  "revoked",
	care.RefCompleted: "completed",
	care.RefCancelled: "revoked",
}

// urgencyPriority maps a referral up's urgency to FHIR's request priority.
var urgencyPriority = map[string]string{"emergency": "stat", "urgent": "urgent", "routine": "routine"}

// referralKind is the code of each direction.
var referralKind = map[string][2]string{
	"up":   {"up", "Referral to a hospital"},
	"down": {"down", "Discharge back to the community"},
}

func serviceRequestResource(r *care.HospitalReferral) *ServiceRequest {
	sr := &ServiceRequest{ResourceType: "ServiceRequest", ID: strconv.FormatInt(r.ID, 10), Status: referralStatus[r.Status],
		Intent: "order", Priority: urgencyPriority[r.Urgency], Subject: Reference{Reference: "Patient/" + strconv.FormatInt(r.PatientID, 10)},
		AuthoredOn: instant(r.RequestedAt),
		Requester:  &Reference{Reference: "Organization/" + r.FromUnit, Display: r.FromUnitName},
		Performer:  []Reference{{Reference: "Organization/" + r.ToUnit, Display: r.ToUnitName}},
		Extension:  []Extension{{URL: extRefStatus, ValueCode: r.Status}}}
	if sr.Status == "" {
		sr.Status = "unknown"
	}
	if k, ok := referralKind[r.Direction]; ok {
		sr.Code = concept(systemReferral, k[0], k[1])
	}
	if r.Urgency != "" && sr.Code != nil {
		sr.Code.Coding = append(sr.Code.Coding, Coding{System: systemUrgency, Code: r.Urgency})
	}
	if r.Outcome != "" {
		sr.Extension = append(sr.Extension, Extension{URL: extRefOutcome, ValueCode: r.Outcome})
	}
	if r.Reason != "" {
		sr.ReasonCode = []CodeableConcept{{Text: r.Reason}}
	}
	if r.Note != "" {
		sr.Note = append(sr.Note, annotation{Text: r.Note})
	}
	if d := r.Discharge; d != nil {
		if d.DischargedOn != "" {
			sr.Note = append(sr.Note, annotation{Text: "Discharged on " + d.DischargedOn})
		}
		if d.Recommendations != "" {
			sr.Note = append(sr.Note, annotation{Text: d.Recommendations})
		}
	}
	return sr
}

func (h *handler) readServiceRequest(w http.ResponseWriter, r *http.Request) error {
	return readByID(w, r, h.svc.Referral, serviceRequestResource)
}

func (h *handler) searchServiceRequests(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("ServiceRequest")); err != nil {
		return err
	}
	pid, err := reference(r, "patient", "Patient", true)
	if err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.PatientReferrals(r.Context(), pid, pg)
	if err != nil {
		return err
	}
	b := searchset(r, next)
	for i := range items {
		b.add(r, serviceRequestResource(&items[i]), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}
