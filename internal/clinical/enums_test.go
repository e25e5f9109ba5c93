package clinical

import (
	"slices"
	"testing"
)

// enumCase checks one enumeration against the words of CLINICAL.md.
type enumCase struct {
	name  string
	got   []string
	valid func(string) bool
	want  []string
}

func enum[T ~string](name string, values []T, want ...string) enumCase {
	got := make([]string, len(values))
	for i, v := range values {
		got[i] = string(v)
	}
	return enumCase{name, got, func(s string) bool { return isValid(T(s)) }, want}
}

// isValid calls the Valid method of an enumeration of this package.
func isValid[T ~string](v T) bool {
	return any(v).(interface{ Valid() bool }).Valid()
}

func TestEnumerations(t *testing.T) {
	tests := []enumCase{
		enum("R-TARGET diagnosis", DiagnosisValues(), "schizophrenia", "schizoaffective", "paranoid_psychosis", "bipolar", "epilepsy_psychosis", "intellectual_disability_psychosis"),
		enum("sex", SexValues(), "male", "female"),
		enum("patient status", PatientStatusValues(), "managed", "hospitalised", "moved_away", "lost", "deceased"),
		enum("R-CLASS psychotic_symptoms", PsychoticSymptomsValues(), "none", "some", "obvious"),
		enum("R-CLASS insight", InsightValues(), "complete", "partial", "absent"),
		enum("R-CLASS social function area", SocialAreaValues(), "self_care", "housework", "work", "learning", "social_contact"),
		enum("R-CLASS social function rating, sleep, diet", RatingValues(), "good", "fair", "poor"),
		enum("R-CLASS adverse_reaction", AdverseReactionValues(), "none", "mild", "serious"),
		enum("R-CLASS physical_illness", PhysicalIllnessValues(), "none", "stable", "unstable", "serious"),
		enum("R-CLASS classification", ClassificationValues(), "stable", "basically_stable", "unstable", "not_reached"),
		enum("R-FORM mode", ModeValues(), "clinic", "home_visit", "phone"),
		enum("R-NOT-REACHED reason", NotReachedReasonValues(), "working_away", "moved", "missing", "deceased", "other"),
		enum("R-FORM medication adherence", AdherenceValues(), "regular", "intermittent", "none", "not_needed"),
		enum("R-FORM treatment effect", TreatmentEffectValues(), "recovered", "improved", "unchanged", "worse"),
		enum("R-FORM locked up", LockedUpValues(), "no", "yes", "released"),
		enum("R-FORM hospitalisation", HospitalisationValues(), "no", "in_hospital", "was"),
		enum("R-FORM symptoms", SymptomValues(), "hallucinations", "difficulty_communicating", "suspiciousness", "mood_swings",
			"odd_behaviour", "excitement_talkativeness", "hurting_people_damaging_property", "pessimism",
			"wandering_off", "talking_laughing_to_self", "withdrawal_inertia", "other"),
		enum("R-FORM dangerous behaviour", DangerousBehaviourValues(), "minor_trouble", "causing_trouble", "serious_incident", "self_harm", "attempted_suicide", "other"),
		enum("R-FORM rehabilitation", RehabilitationValues(), "living_skills", "vocational_training", "learning", "social_contact", "other"),
		enum("R-EMERG trigger", EmergencyTriggerValues(), "self_harm_suicide_risk", "endangering_others", "risk_3_plus", "relapse_deterioration", "acute_drug_reaction"),
		enum("R-EMERG attendee", EmergencyAttendeeValues(), "medical_staff", "police", "community_staff", "family"),
		enum("R-EMERG measure", EmergencyMeasureValues(), "crisis_intervention", "persuasion", "protective_restraint", "sedation", "transfer_to_hospital"),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("values = %q, want %q", tt.got, tt.want)
			}
			for _, v := range tt.want {
				if !tt.valid(v) {
					t.Errorf("%q not valid", v)
				}
			}
			for _, v := range []string{"", "unknown", "None", " none", "Stable"} {
				if tt.valid(v) {
					t.Errorf("%q valid", v)
				}
			}
		})
	}
}

func TestValuesAreCopies(t *testing.T) {
	v := ClassificationValues()
	v[0] = "changed"
	if !Stable.Valid() || ClassificationValues()[0] != Stable {
		t.Error("changing a returned list changed the package's")
	}
}
