package kpi

// Referral response time (R-KPI): the time from a referral's request to its
// acceptance or decline, as its median and 90th percentile, and the share
// answered within their urgency's target. SQL counts and picks the order
// statistics; this file says which ones and divides.

// WithinTarget is the key of the share of referrals answered within target.
const WithinTarget Key = "referrals_within_target"

// NearestRank is the 1-based rank, among n values in ascending order, of
// the p-th percentile by the nearest-rank method: the smallest rank r with
// r ≥ p/100 × n, that is ⌈p·n/100⌉ (at least 1). It is 0 when there are no
// values. The median is NearestRank(n, 50): of 4 values the 2nd, of 5 the
// 3rd; the 90th percentile of 10 values is the 9th, of 11 the 10th.
func NearestRank(n int64, p int) int64 {
	if n <= 0 {
		return 0
	}
	r := (int64(p)*n + 99) / 100
	return max(r, 1)
}

// ResponseCounts are what SQL counts for the referrals up requested in one
// org unit and period: how many were requested, how many of them answered
// (accepted or declined), how many answered within target, and the response
// times in seconds at the ranks NearestRank gives for 50 and 90 among the
// answered.
type ResponseCounts struct {
	Requested, Answered, InTarget int64
	MedianSeconds, P90Seconds     int64
}

// ResponseFigures are the response-time figures: the median and 90th
// percentile response time (nil when nothing was answered) and the share
// answered within target, of the referrals requested (R-KPI: answered within
// target ÷ requested in the period), in %.
type ResponseFigures struct {
	Requested     int64  `json:"requested"`
	Answered      int64  `json:"answered"`
	MedianSeconds *int64 `json:"median_seconds"`
	P90Seconds    *int64 `json:"p90_seconds"`
	WithinTarget  Figure `json:"within_target"`
}

// Response turns the counts into the figures.
func Response(c ResponseCounts) ResponseFigures {
	f := ResponseFigures{Requested: c.Requested, Answered: c.Answered,
		WithinTarget: ratio(WithinTarget, c.InTarget, c.Requested, 100, Percent)}
	if c.Answered > 0 {
		m, p := c.MedianSeconds, c.P90Seconds
		f.MedianSeconds, f.P90Seconds = &m, &p
	}
	return f
}
