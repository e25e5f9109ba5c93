package fhir

import (
	"net/http"
	"strconv"
	"strings"

	"kith/internal/audit"
	"kith/internal/care"
)

func init() {
	routes = append(routes,
		route{Type: "Organization", Interaction: read, Handle: (*handler).readOrganization},
		route{Type: "Organization", Interaction: searchType, Handle: (*handler).searchOrganizations, Params: []param{
			{"partof", "reference", "the parent unit (Organization/CODE): that unit and everything beneath it"},
		}},
		route{Type: "Practitioner", Interaction: read, Handle: (*handler).readPractitioner},
		route{Type: "Practitioner", Interaction: searchType, Handle: (*handler).searchPractitioners, Params: []param{
			{"organization", "reference", "the unit (Organization/CODE): its staff and those beneath it"},
		}},
		route{Type: "AuditEvent", Interaction: read, Handle: (*handler).readAuditEvent},
		route{Type: "AuditEvent", Interaction: searchType, Handle: (*handler).searchAuditEvents, Params: []param{
			{"patient", "reference", "the patient the entries are about (Patient/ID)"},
			{"date", "date", "the day: ge, le or eq and YYYY-MM-DD, once for each end"},
		}},
	)
}

// Organization is an org unit (district, street, community); its id is the
// unit's code.
type Organization struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Identifier   []Identifier      `json:"identifier,omitempty"`
	Active       bool              `json:"active"`
	Type         []CodeableConcept `json:"type,omitempty"`
	Name         string            `json:"name"`
	PartOf       *Reference        `json:"partOf,omitempty"`
}

func (o *Organization) ref() string { return "Organization/" + o.ID }

func organizationResource(u *care.Unit) *Organization {
	o := &Organization{ResourceType: "Organization", ID: u.Code, Active: true, Name: u.Name,
		Identifier: []Identifier{{System: systemOrgUnit, Value: u.Code}},
		Type:       []CodeableConcept{{Coding: []Coding{{System: systemOrgType, Code: "govt", Display: "Government"}}, Text: string(u.Level)}}}
	if u.ParentCode != "" {
		o.PartOf = &Reference{Reference: "Organization/" + u.ParentCode}
	}
	return o
}

func (h *handler) readOrganization(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.Unit(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, organizationResource(u))
	return nil
}

func (h *handler) searchOrganizations(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("Organization")); err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	under := strings.TrimPrefix(r.URL.Query().Get("partof"), "Organization/")
	items, next, err := h.svc.Units(r.Context(), under, pg)
	if err != nil {
		return fieldAsParam(err, "org_unit", "partof")
	}
	b := searchset(r, next)
	for i := range items {
		b.add(r, organizationResource(&items[i]), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}

// fieldAsParam renames the service's field in an Invalid error to the
// search parameter the client sent.
func fieldAsParam(err error, field, name string) error {
	ce, ok := err.(*care.Error)
	if !ok || ce.Kind != care.Invalid {
		return err
	}
	out := *ce
	out.Fields = nil
	for _, f := range ce.Fields {
		if f.Field == field {
			f.Field = name
		}
		out.Fields = append(out.Fields, f)
	}
	return &out
}

// practitionerID is a staff account's username as a FHIR id, which allows
// no underscore: an underscore is written as a capital U (usernames are
// lower case, so the mapping goes both ways).
func practitionerID(username string) string { return strings.ReplaceAll(username, "_", "U") }

func usernameOf(id string) string { return strings.ReplaceAll(id, "U", "_") }

// Practitioner is a staff member, by full name; the username is an
// identifier. Accounts are read by those who manage them (administrators
// and district administrators); elsewhere a reference's display gives
// the name.
type Practitioner struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Active       bool         `json:"active"`
	Name         []HumanName  `json:"name,omitempty"`
}

func (p *Practitioner) ref() string { return "Practitioner/" + p.ID }

func practitionerResource(u *care.User) *Practitioner {
	p := &Practitioner{ResourceType: "Practitioner", ID: practitionerID(u.Username), Active: !u.Disabled,
		Identifier: []Identifier{{System: systemStaff, Value: u.Username}}}
	if u.FullName != "" {
		p.Name = []HumanName{{Text: u.FullName}}
	}
	return p
}

func (h *handler) readPractitioner(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.User(r.Context(), usernameOf(r.PathValue("id")))
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, practitionerResource(u))
	return nil
}

func (h *handler) searchPractitioners(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("Practitioner")); err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	under := strings.TrimPrefix(r.URL.Query().Get("organization"), "Organization/")
	items, next, err := h.svc.Users(r.Context(), under, pg)
	if err != nil {
		return fieldAsParam(err, "org_unit", "organization")
	}
	b := searchset(r, next)
	for i := range items {
		b.add(r, practitionerResource(&items[i]), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}

// AuditEvent is one entry of the audit log; its id is the entry's
// sequence number. Only those who read the audit log (administrators,
// district administrators for their district) read these.
type AuditEvent struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id"`
	Type         Coding        `json:"type"`
	Subtype      []Coding      `json:"subtype,omitempty"`
	Action       string        `json:"action,omitempty"`
	Recorded     string        `json:"recorded"`
	Outcome      string        `json:"outcome,omitempty"`
	OutcomeDesc  string        `json:"outcomeDesc,omitempty"`
	Agent        []auditAgent  `json:"agent"`
	Source       auditSource   `json:"source"`
	Entity       []auditEntity `json:"entity,omitempty"`
}

type auditAgent struct {
	Who       *Reference `json:"who,omitempty"`
	Requestor bool       `json:"requestor"`
	Network   *struct {
		Address string `json:"address"`
		Type    string `json:"type"`
	} `json:"network,omitempty"`
}

type auditSource struct {
	Observer Reference `json:"observer"`
}

type auditEntity struct {
	What        *Reference `json:"what,omitempty"`
	Description string     `json:"description,omitempty"`
}

func (a *AuditEvent) ref() string { return "AuditEvent/" + a.ID }

func auditResource(e *audit.Entry) *AuditEvent {
	ev := &AuditEvent{ResourceType: "AuditEvent", ID: strconv.FormatInt(e.Seq, 10),
		Type:     Coding{System: systemAuditType, Code: "rest", Display: "RESTful Operation"},
		Subtype:  []Coding{{System: systemAuditAction, Code: e.Action}},
		Recorded: e.At.UTC().Format("2006-01-02T15:04:05.000Z"),
		Source:   auditSource{Observer: Reference{Display: "Kith"}}}
	// The action's verb, as FHIR's C R U D E (execute) codes.
	verb := e.Action[strings.LastIndex(e.Action, ".")+1:]
	switch {
	case verb == "create":
		ev.Action = "C"
	case verb == "read" || verb == "list" || verb == "search" || verb == "reveal":
		ev.Action = "R"
	case verb == "update" || verb == "correct":
		ev.Action = "U"
	case verb == "delete":
		ev.Action = "D"
	default:
		ev.Action = "E"
	}
	// Outcome: 0 success, 4 minor failure (refused by the policy), 8
	// serious failure.
	switch e.Outcome {
	case audit.Allowed:
		ev.Outcome = "0"
	case audit.Denied:
		ev.Outcome, ev.OutcomeDesc = "4", "denied"
	default:
		ev.Outcome, ev.OutcomeDesc = "8", string(e.Outcome)
	}
	agent := auditAgent{Requestor: true}
	if e.Actor != "" && e.Actor != "cli" {
		agent.Who = ptr(practitioner(e.Actor, e.ActorName))
	} else {
		agent.Who = &Reference{Display: e.Actor}
	}
	if e.ClientAddr != "" {
		agent.Network = &struct {
			Address string `json:"address"`
			Type    string `json:"type"`
		}{e.ClientAddr, "2"}
	}
	ev.Agent = []auditAgent{agent}
	ent := auditEntity{Description: e.SubjectType + " " + e.SubjectID}
	if e.SubjectType == "patient" && e.SubjectID != "" {
		ent.What = &Reference{Reference: "Patient/" + e.SubjectID}
	}
	if strings.TrimSpace(ent.Description) != "" || ent.What != nil {
		ent.Description = strings.TrimSpace(ent.Description)
		ev.Entity = []auditEntity{ent}
	}
	return ev
}

func (h *handler) readAuditEvent(w http.ResponseWriter, r *http.Request) error {
	return readByID(w, r, h.svc.AuditEntry, auditResource)
}

func (h *handler) searchAuditEvents(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r, searchRoute("AuditEvent")); err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	d, err := dateRange(r)
	if err != nil {
		return err
	}
	pid, err := reference(r, "patient", "Patient", false)
	if err != nil {
		return err
	}
	q := care.AuditQuery{From: d.From, To: d.To}
	if pid != 0 {
		q.SubjectID = strconv.FormatInt(pid, 10)
	}
	items, next, err := h.svc.AuditLog(r.Context(), q, pg)
	if err != nil {
		return fieldAsParam(fieldAsParam(err, "from", "date"), "to", "date")
	}
	b := searchset(r, next)
	for i := range items {
		b.add(r, auditResource(&items[i]), "match")
	}
	writeResource(w, http.StatusOK, b)
	return nil
}
