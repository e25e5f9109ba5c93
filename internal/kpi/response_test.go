package kpi

import "testing"

func TestNearestRank(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		p    int
		want int64
	}{
		{0, 50, 0}, {1, 50, 1}, {1, 90, 1}, {2, 50, 1}, {4, 50, 2}, {5, 50, 3},
		{10, 90, 9}, {11, 90, 10}, {19, 90, 18}, {20, 90, 18}, {100, 90, 90}, {3, 100, 3}, {7, 1, 1},
	} {
		if got := NearestRank(tt.n, tt.p); got != tt.want {
			t.Errorf("R-KPI referral response time: NearestRank(%d, %d) = %d, want %d", tt.n, tt.p, got, tt.want)
		}
	}
}

func TestResponse(t *testing.T) {
	f := Response(ResponseCounts{Requested: 8, Answered: 6, InTarget: 5, MedianSeconds: 3600, P90Seconds: 90000})
	if f.WithinTarget.Numerator != 5 || f.WithinTarget.Denominator != 8 || *f.WithinTarget.Value != 62.5 || f.WithinTarget.Unit != Percent {
		t.Errorf("R-KPI answered within target = %+v", f.WithinTarget)
	}
	if *f.MedianSeconds != 3600 || *f.P90Seconds != 90000 {
		t.Errorf("times %v %v", *f.MedianSeconds, *f.P90Seconds)
	}
	none := Response(ResponseCounts{Requested: 2})
	if none.MedianSeconds != nil || none.P90Seconds != nil || *none.WithinTarget.Value != 0 {
		t.Errorf("nothing answered: %+v", none)
	}
	if z := Response(ResponseCounts{}); z.WithinTarget.Value != nil {
		t.Errorf("nothing requested: value %v", *z.WithinTarget.Value)
	}
}
