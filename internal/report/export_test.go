package report

// CountsBy is countsBy, for the external tests.
var CountsBy = countsBy

// ConfirmCurrent is confirmCurrent, for the external tests.
var ConfirmCurrent = confirmCurrent
