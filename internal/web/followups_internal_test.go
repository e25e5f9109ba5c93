package web

import (
	"testing"

	"kith/internal/care"
)

// TestFollowUpSections: a pre-filled form folds the sections that rarely
// change, unless one holds a message or a required answer left empty.
func TestFollowUpSections(t *testing.T) {
	f := followUpForm(nil, true, 3)
	for _, n := range requiredFolded {
		f.set(n, "good")
	}
	d := followUpData{Form: f, Last: &care.FollowUp{}}
	for section, open := range map[string]bool{"risk": true, "medications": true, "next": true, "insight": false, "social": false,
		"treatment": false, "danger": false} {
		if d.Open(section) != open {
			t.Errorf("pre-filled: section %s open = %v, want %v", section, !open, open)
		}
	}
	f.set("physical_illness", "")
	if !d.Open("treatment") {
		t.Error("a required answer left empty: its section stays folded")
	}
	f.errors["social_function.work"] = "choose one"
	if !d.Open("social") {
		t.Error("a message: its section stays folded")
	}
	if !(followUpData{Form: followUpForm(nil, true, 3)}).Open("social") {
		t.Error("a form not pre-filled folds a section")
	}
}
