package report

// CountsBy is countsBy, for the external tests.
var CountsBy = countsBy
