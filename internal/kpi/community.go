package kpi

import (
	"math"
	"slices"
)

// The figures of the community's work outside the consulting room (issue
// 13): education, families, staff training and the guardian subsidy. They
// are kept apart from Keys, the national figures of R-KPI.
const (
	EducationEvents     Key = "education_events"      // caregiver education, support groups, lectures, mental health week held in the period
	EducationAttendance Key = "education_attendance"  // people present at them (head counts included)
	FamiliesReached     Key = "families_reached"      // family members of the unit's patients present at any event in the period
	MedianTrainingHours Key = "median_training_hours" // median of the staff's training hours of the year to the period's end
	TrainingTargetRate  Key = "training_target_rate"  // staff whose hours reach the yearly target ÷ staff
	SubsidiesPaid       Key = "subsidies_paid"        // guardian subsidies paid in the period
	SubsidyPaidAmount   Key = "subsidy_paid_amount"   // their amount, in yuan
)

// CommunityKeys lists them in the order ComputeCommunity returns them.
var CommunityKeys = []Key{EducationEvents, EducationAttendance, FamiliesReached, MedianTrainingHours, TrainingTargetRate,
	SubsidiesPaid, SubsidyPaidAmount}

// Units of the community figures beside those of Figure.
const (
	Hours = "h"
	Yuan  = "yuan"
)

// EducationKinds are the kinds of event that count as education: every
// kind but staff training and case discussions.
var EducationKinds = []string{"caregiver_education", "support_group", "public_lecture", "mental_health_week"}

// CommunityCounts are what SQL counts for one org unit and period.
type CommunityCounts struct {
	EducationEvents     int64
	EducationAttendance int64
	FamiliesReached     int64
	Staff               int64   // active staff of the unit
	StaffMeetingTarget  int64   // of whom the year's hours reach the target
	MedianHours         float64 // the median of their hours (see Median)
	SubsidiesPaid       int64
	SubsidyPaidFen      int64 // 0.01 yuan
}

// ComputeCommunity turns the counts into figures. The median is counted
// in SQL; here it is only rounded to 2 decimals, and is absent without
// staff.
func ComputeCommunity(c CommunityCounts) []Figure {
	median := Figure{Key: MedianTrainingHours, Denominator: c.Staff, Unit: Hours}
	if c.Staff > 0 {
		v := math.Round(c.MedianHours*100) / 100
		median.Value = &v
	}
	amount := Figure{Key: SubsidyPaidAmount, Numerator: c.SubsidyPaidFen, Denominator: 100, Unit: Yuan}
	yuan := roundRatio(c.SubsidyPaidFen, 100, 1)
	amount.Value = &yuan
	return []Figure{
		count(EducationEvents, c.EducationEvents),
		count(EducationAttendance, c.EducationAttendance),
		count(FamiliesReached, c.FamiliesReached),
		median,
		ratio(TrainingTargetRate, c.StaffMeetingTarget, c.Staff, 100, Percent),
		count(SubsidiesPaid, c.SubsidiesPaid),
		amount,
	}
}

// Median is the middle value of xs, or the mean of the two middle values
// of an even number; 0 for none. The SQL that counts the figure computes
// the same: with the values ordered and numbered from 1 to n, the mean of
// those numbered (n+1)/2 and (n+2)/2 in integer division.
func Median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return (s[(n+1)/2-1] + s[(n+2)/2-1]) / 2
}
