package fhir

import (
	"slices"
	"strings"
	"unicode"
)

// The FHIR R4 data types Kith's resources use, with only the elements Kith
// fills in. Empty elements are left out: FHIR allows no empty strings,
// arrays or objects.

// Kith's own code systems and extensions. They are URNs because they name
// Kith's vocabularies, which have no page of their own.
const (
	systemClassification = "urn:kith:fhir:classification"    // stable, basically_stable, unstable, not_reached
	systemAdherence      = "urn:kith:fhir:adherence"         // medication adherence (R-FORM)
	systemFormItem       = "urn:kith:fhir:follow-up-item"    // the codes of the follow-up form's items
	systemFormValue      = "urn:kith:fhir:follow-up-answer"  // the answers of the follow-up form's coded items
	systemMode           = "urn:kith:fhir:follow-up-mode"    // clinic, home_visit, phone
	systemNotReached     = "urn:kith:fhir:not-reached"       // why an attempt did not reach the patient
	systemInstrument     = "urn:kith:fhir:instrument"        // the instruments' ids (phq9, k10, …)
	systemAlertFlag      = "urn:kith:fhir:alert-flag"        // the flags that raise alerts (phq9_item9, …)
	systemNationalID     = "urn:kith:fhir:national-id"       // the resident identity card number
	systemStaff          = "urn:kith:fhir:username"          // a staff account's username
	systemOrgUnit        = "urn:kith:fhir:org-unit"          // an org unit's code
	systemAuditAction    = "urn:kith:fhir:audit-action"      // the audit log's actions, such as patient.read
	systemDiagnosis      = "urn:kith:fhir:diagnosis"         // the six target codes of R-TARGET
	extConfirmDuplicate  = "urn:kith:fhir:confirm-duplicate" // registration: a possible duplicate is confirmed
	extRegisteredOn      = "urn:kith:fhir:registered-on"     // the date the patient was put on the register
	systemFamilyMember   = "urn:kith:fhir:family-member"     // a family member's id, which stays when the guardian changes
	systemTeamRole       = "urn:kith:fhir:team-role"         // care-team roles (key_worker, psychiatrist, …) and key-worker
	systemContactKind    = "urn:kith:fhir:team-contact"      // a team contact who is not staff: family, volunteer, partner
	systemPlanDomain     = "urn:kith:fhir:plan-domain"       // the domains of a plan's needs and goals
	systemPlanVersion    = "urn:kith:fhir:care-plan"         // a plan version: the patient's id, "-v" and the version
	systemReferral       = "urn:kith:fhir:referral"          // the kinds of referral: up (to a hospital), down (a discharge)
	systemUrgency        = "urn:kith:fhir:urgency"           // a referral up's urgency: emergency, urgent, routine
	extRefStatus         = "urn:kith:fhir:referral-status"   // Kith's status of a referral: requested, accepted, declined, …
	extRefOutcome        = "urn:kith:fhir:referral-outcome"  // a completed referral up's outcome: admitted, outpatient, returned
	extGoalBaseline      = "urn:kith:fhir:goal-baseline"     // a goal's value on its measure when the plan was written
	extAgreedByPatient   = "urn:kith:fhir:agreed-by-patient" // the patient agreed to the plan
	extAgreedByFamily    = "urn:kith:fhir:agreed-by-family"  // the family agreed to the plan

	systemICD10       = "http://hl7.org/fhir/sid/icd-10"
	systemLOINC       = "http://loinc.org"
	systemV2Identifer = "http://terminology.hl7.org/CodeSystem/v2-0203"
	systemActCode     = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	systemObsCategory = "http://terminology.hl7.org/CodeSystem/observation-category"
	systemCondClinic  = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	systemCondVerify  = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	systemCondCat     = "http://terminology.hl7.org/CodeSystem/condition-category"
	systemSecurity    = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
	systemRoleCode    = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
	systemOrgType     = "http://terminology.hl7.org/CodeSystem/organization-type"
	systemAuditType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	systemFlagCat     = "http://terminology.hl7.org/CodeSystem/flag-category"
	systemGoalAchieve = "http://terminology.hl7.org/CodeSystem/goal-achievement"
	// extOrdinalValue is the score of an answer option (the Structured Data
	// Capture convention for scored questionnaires, in R4's core).
	extOrdinalValue = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
)

// Meta is a resource's metadata.
type Meta struct {
	LastUpdated string   `json:"lastUpdated,omitempty"`
	Security    []Coding `json:"security,omitempty"`
}

// Coding is a code in a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a concept given by codes and text.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

func concept(system, code, display string) *CodeableConcept {
	return &CodeableConcept{Coding: []Coding{{System: system, Code: code, Display: display}}}
}

// Reference points to another resource.
type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

// Identifier is a business identifier.
type Identifier struct {
	Use    string           `json:"use,omitempty"`
	Type   *CodeableConcept `json:"type,omitempty"`
	System string           `json:"system,omitempty"`
	Value  string           `json:"value,omitempty"`
}

// HumanName is a person's name. Kith keeps a name whole (a Chinese name is
// not split into given and family names by the form), so it writes text
// only; it reads family and given names too.
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
}

// whole is the name as one text: the text, or else the family name and
// the given names in the order of the name's script (张三, John Smith).
func (n *HumanName) whole() string {
	if strings.TrimSpace(n.Text) != "" || (n.Family == "" && len(n.Given) == 0) {
		return n.Text
	}
	for _, r := range n.Family + strings.Join(n.Given, "") {
		if unicode.Is(unicode.Han, r) {
			return n.Family + strings.Join(n.Given, "")
		}
	}
	return strings.TrimSpace(strings.Join(append(slices.Clone(n.Given), n.Family), " "))
}

// ContactPoint is a phone number.
type ContactPoint struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
	Use    string `json:"use,omitempty"`
}

// Address is an address as one text.
type Address struct {
	Text string `json:"text,omitempty"`
}

// Period is a time span.
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Extension is an extension with one of the value types Kith uses.
type Extension struct {
	URL          string   `json:"url"`
	ValueDecimal *float64 `json:"valueDecimal,omitempty"`
	ValueBoolean *bool    `json:"valueBoolean,omitempty"`
	ValueDate    string   `json:"valueDate,omitempty"`
	ValueString  string   `json:"valueString,omitempty"`
	ValueCode    string   `json:"valueCode,omitempty"`
}
