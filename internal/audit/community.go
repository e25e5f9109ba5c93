package audit

// The kinds of action and the reads of families, events, training and the
// guardian subsidy (issue 13), added here so that the lists above stay
// each helper's own to edit.
func init() {
	Kinds = append(Kinds, "family", "event", "course", "training", "subsidy")
	NotChanges = append(NotChanges, "family.read", "event.read", "event.list", "course.list", "training.read", "training.list",
		"subsidy.read", "subsidy.list", "figures.community.read")
}
