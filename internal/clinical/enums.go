package clinical

import "slices"

// The enumerations below use exactly the words of CLINICAL.md, which are also
// the words of the API and of the database. Each type has a Valid method and a
// function listing its values in the order the form shows them; the lists are
// copies, so callers may change them freely.

func valid[T comparable](v T, all []T) bool { return slices.Contains(all, v) }

// Sex is a patient's sex.
type Sex string

const (
	SexMale   Sex = "male"
	SexFemale Sex = "female"
)

var sexes = []Sex{SexMale, SexFemale}

func (v Sex) Valid() bool { return valid(v, sexes) }

// SexValues lists the values of Sex.
func SexValues() []Sex { return slices.Clone(sexes) }

// PatientStatus is where a patient stands on the register.
type PatientStatus string

const (
	StatusManaged      PatientStatus = "managed"
	StatusHospitalised PatientStatus = "hospitalised"
	StatusMovedAway    PatientStatus = "moved_away"
	StatusLost         PatientStatus = "lost" // R-LOST
	StatusDeceased     PatientStatus = "deceased"
)

var patientStatuses = []PatientStatus{StatusManaged, StatusHospitalised, StatusMovedAway, StatusLost, StatusDeceased}

func (v PatientStatus) Valid() bool { return valid(v, patientStatuses) }

// PatientStatusValues lists the values of PatientStatus.
func PatientStatusValues() []PatientStatus { return slices.Clone(patientStatuses) }

// PsychoticSymptoms is the R-CLASS input psychotic_symptoms.
type PsychoticSymptoms string

const (
	PsychoticNone    PsychoticSymptoms = "none" // essentially gone
	PsychoticSome    PsychoticSymptoms = "some"
	PsychoticObvious PsychoticSymptoms = "obvious"
)

var psychoticSymptoms = []PsychoticSymptoms{PsychoticNone, PsychoticSome, PsychoticObvious}

func (v PsychoticSymptoms) Valid() bool { return valid(v, psychoticSymptoms) }

// PsychoticSymptomsValues lists the values of PsychoticSymptoms.
func PsychoticSymptomsValues() []PsychoticSymptoms { return slices.Clone(psychoticSymptoms) }

// Insight is the R-CLASS input insight.
type Insight string

const (
	InsightComplete Insight = "complete" // essentially recovered
	InsightPartial  Insight = "partial"
	InsightAbsent   Insight = "absent"
)

var insights = []Insight{InsightComplete, InsightPartial, InsightAbsent}

func (v Insight) Valid() bool { return valid(v, insights) }

// InsightValues lists the values of Insight.
func InsightValues() []Insight { return slices.Clone(insights) }

// Rating is good, fair or poor: each area of social function, sleep and diet.
type Rating string

const (
	RatingGood Rating = "good"
	RatingFair Rating = "fair"
	RatingPoor Rating = "poor"
)

var ratings = []Rating{RatingGood, RatingFair, RatingPoor}

func (v Rating) Valid() bool { return valid(v, ratings) }

// RatingValues lists the values of Rating.
func RatingValues() []Rating { return slices.Clone(ratings) }

// SocialArea is one of the five areas of social function (R-CLASS).
type SocialArea string

const (
	AreaSelfCare      SocialArea = "self_care"
	AreaHousework     SocialArea = "housework"
	AreaWork          SocialArea = "work"
	AreaLearning      SocialArea = "learning"
	AreaSocialContact SocialArea = "social_contact"
)

var socialAreas = []SocialArea{AreaSelfCare, AreaHousework, AreaWork, AreaLearning, AreaSocialContact}

func (v SocialArea) Valid() bool { return valid(v, socialAreas) }

// SocialAreaValues lists the five areas of social function.
func SocialAreaValues() []SocialArea { return slices.Clone(socialAreas) }

// AdverseReaction is the R-CLASS input adverse_reaction (to medication).
type AdverseReaction string

const (
	ReactionNone    AdverseReaction = "none"
	ReactionMild    AdverseReaction = "mild" // recorded and shown; alone it changes no classification
	ReactionSerious AdverseReaction = "serious"
)

var adverseReactions = []AdverseReaction{ReactionNone, ReactionMild, ReactionSerious}

func (v AdverseReaction) Valid() bool { return valid(v, adverseReactions) }

// AdverseReactionValues lists the values of AdverseReaction.
func AdverseReactionValues() []AdverseReaction { return slices.Clone(adverseReactions) }

// PhysicalIllness is the R-CLASS input physical_illness.
type PhysicalIllness string

const (
	IllnessNone     PhysicalIllness = "none"
	IllnessStable   PhysicalIllness = "stable"
	IllnessUnstable PhysicalIllness = "unstable"
	IllnessSerious  PhysicalIllness = "serious"
)

var physicalIllnesses = []PhysicalIllness{IllnessNone, IllnessStable, IllnessUnstable, IllnessSerious}

func (v PhysicalIllness) Valid() bool { return valid(v, physicalIllnesses) }

// PhysicalIllnessValues lists the values of PhysicalIllness.
func PhysicalIllnessValues() []PhysicalIllness { return slices.Clone(physicalIllnesses) }

// Classification is the outcome of R-CLASS, or NotReached for an attempt that
// did not reach the patient (R-NOT-REACHED).
type Classification string

const (
	Stable          Classification = "stable"
	BasicallyStable Classification = "basically_stable"
	Unstable        Classification = "unstable"
	NotReached      Classification = "not_reached"
)

var classifications = []Classification{Stable, BasicallyStable, Unstable, NotReached}

func (v Classification) Valid() bool { return valid(v, classifications) }

// ClassificationValues lists the values of Classification, NotReached last.
func ClassificationValues() []Classification { return slices.Clone(classifications) }

// Mode is how a follow-up was done (R-FORM).
type Mode string

const (
	ModeClinic    Mode = "clinic"
	ModeHomeVisit Mode = "home_visit"
	ModePhone     Mode = "phone"
)

var modes = []Mode{ModeClinic, ModeHomeVisit, ModePhone}

func (v Mode) Valid() bool { return valid(v, modes) }

// ModeValues lists the values of Mode.
func ModeValues() []Mode { return slices.Clone(modes) }

// NotReachedReason is why an attempt did not reach the patient
// (R-NOT-REACHED). For ReasonDeceased the form also asks the date and cause.
type NotReachedReason string

const (
	ReasonWorkingAway NotReachedReason = "working_away"
	ReasonMoved       NotReachedReason = "moved"
	ReasonMissing     NotReachedReason = "missing"
	ReasonDeceased    NotReachedReason = "deceased"
	ReasonOther       NotReachedReason = "other"
)

var notReachedReasons = []NotReachedReason{ReasonWorkingAway, ReasonMoved, ReasonMissing, ReasonDeceased, ReasonOther}

func (v NotReachedReason) Valid() bool { return valid(v, notReachedReasons) }

// NotReachedReasonValues lists the values of NotReachedReason.
func NotReachedReasonValues() []NotReachedReason { return slices.Clone(notReachedReasons) }

// Adherence is the national form's medication adherence item (R-FORM, R-SCORE).
type Adherence string

const (
	AdherenceRegular      Adherence = "regular"
	AdherenceIntermittent Adherence = "intermittent"
	AdherenceNone         Adherence = "none"
	AdherenceNotNeeded    Adherence = "not_needed"
)

var adherences = []Adherence{AdherenceRegular, AdherenceIntermittent, AdherenceNone, AdherenceNotNeeded}

func (v Adherence) Valid() bool { return valid(v, adherences) }

// AdherenceValues lists the values of Adherence.
func AdherenceValues() []Adherence { return slices.Clone(adherences) }

// TreatmentEffect is the treatment effect item of R-FORM.
type TreatmentEffect string

const (
	EffectRecovered TreatmentEffect = "recovered"
	EffectImproved  TreatmentEffect = "improved"
	EffectUnchanged TreatmentEffect = "unchanged"
	EffectWorse     TreatmentEffect = "worse"
)

var treatmentEffects = []TreatmentEffect{EffectRecovered, EffectImproved, EffectUnchanged, EffectWorse}

func (v TreatmentEffect) Valid() bool { return valid(v, treatmentEffects) }

// TreatmentEffectValues lists the values of TreatmentEffect.
func TreatmentEffectValues() []TreatmentEffect { return slices.Clone(treatmentEffects) }

// LockedUp says whether the patient was locked up at home since the last
// follow-up (R-FORM).
type LockedUp string

const (
	LockedUpNo       LockedUp = "no"
	LockedUpYes      LockedUp = "yes"
	LockedUpReleased LockedUp = "released"
)

var lockedUps = []LockedUp{LockedUpNo, LockedUpYes, LockedUpReleased}

func (v LockedUp) Valid() bool { return valid(v, lockedUps) }

// LockedUpValues lists the values of LockedUp.
func LockedUpValues() []LockedUp { return slices.Clone(lockedUps) }

// Hospitalisation says whether the patient was in hospital since the last
// follow-up (R-FORM); for HospitalisationWas the form asks the last discharge date.
type Hospitalisation string

const (
	HospitalisationNo         Hospitalisation = "no"
	HospitalisationInHospital Hospitalisation = "in_hospital"
	HospitalisationWas        Hospitalisation = "was"
)

var hospitalisations = []Hospitalisation{HospitalisationNo, HospitalisationInHospital, HospitalisationWas}

func (v Hospitalisation) Valid() bool { return valid(v, hospitalisations) }

// HospitalisationValues lists the values of Hospitalisation.
func HospitalisationValues() []Hospitalisation { return slices.Clone(hospitalisations) }

// Symptom is one of the current symptoms of R-FORM.
type Symptom string

const (
	SymptomHallucinations                Symptom = "hallucinations"
	SymptomDifficultyCommunicating       Symptom = "difficulty_communicating"
	SymptomSuspiciousness                Symptom = "suspiciousness"
	SymptomMoodSwings                    Symptom = "mood_swings"
	SymptomOddBehaviour                  Symptom = "odd_behaviour"
	SymptomExcitementTalkativeness       Symptom = "excitement_talkativeness"
	SymptomHurtingPeopleDamagingProperty Symptom = "hurting_people_damaging_property"
	SymptomPessimism                     Symptom = "pessimism" // pessimism, world-weariness
	SymptomWanderingOff                  Symptom = "wandering_off"
	SymptomTalkingLaughingToSelf         Symptom = "talking_laughing_to_self"
	SymptomWithdrawalInertia             Symptom = "withdrawal_inertia"
	SymptomOther                         Symptom = "other"
)

var symptoms = []Symptom{
	SymptomHallucinations, SymptomDifficultyCommunicating, SymptomSuspiciousness,
	SymptomMoodSwings, SymptomOddBehaviour, SymptomExcitementTalkativeness,
	SymptomHurtingPeopleDamagingProperty, SymptomPessimism, SymptomWanderingOff,
	SymptomTalkingLaughingToSelf, SymptomWithdrawalInertia, SymptomOther,
}

func (v Symptom) Valid() bool { return valid(v, symptoms) }

// SymptomValues lists the values of Symptom.
func SymptomValues() []Symptom { return slices.Clone(symptoms) }

// DangerousBehaviour is a kind of dangerous behaviour counted since the last
// follow-up (R-FORM).
type DangerousBehaviour string

const (
	DangerMinorTrouble     DangerousBehaviour = "minor_trouble"
	DangerCausingTrouble   DangerousBehaviour = "causing_trouble"
	DangerSeriousIncident  DangerousBehaviour = "serious_incident"
	DangerSelfHarm         DangerousBehaviour = "self_harm"
	DangerAttemptedSuicide DangerousBehaviour = "attempted_suicide"
	DangerOther            DangerousBehaviour = "other"
)

var dangerousBehaviours = []DangerousBehaviour{
	DangerMinorTrouble, DangerCausingTrouble, DangerSeriousIncident,
	DangerSelfHarm, DangerAttemptedSuicide, DangerOther,
}

func (v DangerousBehaviour) Valid() bool { return valid(v, dangerousBehaviours) }

// DangerousBehaviourValues lists the values of DangerousBehaviour.
func DangerousBehaviourValues() []DangerousBehaviour { return slices.Clone(dangerousBehaviours) }

// Rehabilitation is a rehabilitation measure (R-FORM).
type Rehabilitation string

const (
	RehabLivingSkills       Rehabilitation = "living_skills"
	RehabVocationalTraining Rehabilitation = "vocational_training"
	RehabLearning           Rehabilitation = "learning"
	RehabSocialContact      Rehabilitation = "social_contact"
	RehabOther              Rehabilitation = "other"
)

var rehabilitations = []Rehabilitation{RehabLivingSkills, RehabVocationalTraining, RehabLearning, RehabSocialContact, RehabOther}

func (v Rehabilitation) Valid() bool { return valid(v, rehabilitations) }

// RehabilitationValues lists the values of Rehabilitation.
func RehabilitationValues() []Rehabilitation { return slices.Clone(rehabilitations) }

// EmergencyTrigger is what set off an emergency (R-EMERG).
type EmergencyTrigger string

const (
	TriggerSelfHarmSuicideRisk  EmergencyTrigger = "self_harm_suicide_risk"
	TriggerEndangeringOthers    EmergencyTrigger = "endangering_others" // others or public safety
	TriggerRisk3Plus            EmergencyTrigger = "risk_3_plus"
	TriggerRelapseDeterioration EmergencyTrigger = "relapse_deterioration"
	TriggerAcuteDrugReaction    EmergencyTrigger = "acute_drug_reaction"
)

var emergencyTriggers = []EmergencyTrigger{
	TriggerSelfHarmSuicideRisk, TriggerEndangeringOthers, TriggerRisk3Plus,
	TriggerRelapseDeterioration, TriggerAcuteDrugReaction,
}

func (v EmergencyTrigger) Valid() bool { return valid(v, emergencyTriggers) }

// EmergencyTriggerValues lists the values of EmergencyTrigger.
func EmergencyTriggerValues() []EmergencyTrigger { return slices.Clone(emergencyTriggers) }

// EmergencyAttendee is who attended an emergency (R-EMERG).
type EmergencyAttendee string

const (
	AttendeeMedicalStaff   EmergencyAttendee = "medical_staff"
	AttendeePolice         EmergencyAttendee = "police"
	AttendeeCommunityStaff EmergencyAttendee = "community_staff"
	AttendeeFamily         EmergencyAttendee = "family"
)

var emergencyAttendees = []EmergencyAttendee{AttendeeMedicalStaff, AttendeePolice, AttendeeCommunityStaff, AttendeeFamily}

func (v EmergencyAttendee) Valid() bool { return valid(v, emergencyAttendees) }

// EmergencyAttendeeValues lists the values of EmergencyAttendee.
func EmergencyAttendeeValues() []EmergencyAttendee { return slices.Clone(emergencyAttendees) }

// EmergencyMeasure is a measure taken in an emergency (R-EMERG).
type EmergencyMeasure string

const (
	MeasureCrisisIntervention  EmergencyMeasure = "crisis_intervention"
	MeasurePersuasion          EmergencyMeasure = "persuasion"
	MeasureProtectiveRestraint EmergencyMeasure = "protective_restraint"
	MeasureSedation            EmergencyMeasure = "sedation"
	MeasureTransferToHospital  EmergencyMeasure = "transfer_to_hospital"
)

var emergencyMeasures = []EmergencyMeasure{
	MeasureCrisisIntervention, MeasurePersuasion, MeasureProtectiveRestraint,
	MeasureSedation, MeasureTransferToHospital,
}

func (v EmergencyMeasure) Valid() bool { return valid(v, emergencyMeasures) }

// EmergencyMeasureValues lists the values of EmergencyMeasure.
func EmergencyMeasureValues() []EmergencyMeasure { return slices.Clone(emergencyMeasures) }
