// Package clinical holds Kith's clinical rules as pure functions: the
// enumerations of the national follow-up form, classification at each
// follow-up, next due dates, overdue and lost-to-follow-up tests, emergency
// deadlines and national ID checks.
//
// The rules are those of CLINICAL.md and carry its names (R-CLASS-UNSTABLE,
// R-NEXT-STABLE, …), which the tests cite. The package does no I/O and never
// reads the clock: callers pass the dates, so every rule can be table-tested.
package clinical
