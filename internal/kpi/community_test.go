package kpi

import "testing"

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7.5}, 7.5},
		{[]float64{0, 20}, 10},
		{[]float64{20, 0, 6}, 6},
		{[]float64{0, 0, 6, 21.5}, 3},
		{[]float64{4, 1, 3, 2, 5}, 3},
	} {
		if got := Median(tt.xs); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

// TestComputeCommunity checks the community figures' formulas: counts as
// counted, the training target rate as staff meeting it ÷ staff in %, the
// median rounded to 2 decimals and absent without staff, the amount paid in
// yuan from fen.
func TestComputeCommunity(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    CommunityCounts
		want map[Key]string
	}{
		{"a district", CommunityCounts{EducationEvents: 4, EducationAttendance: 161, FamiliesReached: 7, Staff: 8, StaffMeetingTarget: 3,
			MedianHours: 6.666666, SubsidiesPaid: 4, SubsidyPaidFen: 240050},
			map[Key]string{EducationEvents: "4", EducationAttendance: "161", FamiliesReached: "7", MedianTrainingHours: "6.67",
				TrainingTargetRate: "37.5", SubsidiesPaid: "4", SubsidyPaidAmount: "2400.5"}},
		{"nothing yet", CommunityCounts{},
			map[Key]string{EducationEvents: "0", EducationAttendance: "0", FamiliesReached: "0", MedianTrainingHours: "nil",
				TrainingTargetRate: "nil", SubsidiesPaid: "0", SubsidyPaidAmount: "0"}},
	} {
		figs := ComputeCommunity(tt.c)
		if len(figs) != len(CommunityKeys) {
			t.Fatalf("%s: %d figures, want %d", tt.name, len(figs), len(CommunityKeys))
		}
		for i, f := range figs {
			if f.Key != CommunityKeys[i] {
				t.Errorf("%s: figure %d is %s, want %s", tt.name, i, f.Key, CommunityKeys[i])
			}
			if got := fmtValue(f.Value); got != tt.want[f.Key] {
				t.Errorf("%s: %s = %s, want %s", tt.name, f.Key, got, tt.want[f.Key])
			}
		}
	}
}
