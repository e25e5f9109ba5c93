package care_test

import (
	"context"
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestColleagues: forms name staff by name. The suggestions are the active
// staff of one's district; a name resolves to its one account, with the
// unit when several share it; usernames still work; the care-and-help
// group may not look staff up.
func TestColleagues(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		if _, err := svc.CreateUnit(as(adminActor), care.UnitInput{Code: "D2", Name: "Other district", Level: "district"}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []care.UserInput{
			{Username: "wang1", FullName: "王芳", Role: "nurse", OrgUnit: "C1"},
			{Username: "wang2", FullName: "王芳", Role: "psychiatrist", OrgUnit: "C2"},
			{Username: "lee", FullName: "李强", Role: "community_manager", OrgUnit: "C1"},
			{Username: "gone", FullName: "赵离", Role: "nurse", OrgUnit: "C1"},
			{Username: "far", FullName: "周远", Role: "psychiatrist", OrgUnit: "D2"},
			{Username: "group", FullName: "钱助", Role: "care_group", OrgUnit: "C1"},
		} {
			u.Password = "a long enough password 1"
			if _, err := svc.CreateUserWithPassword(as(adminActor), u); err != nil {
				t.Fatalf("%s: %v", u.Username, err)
			}
		}
		if _, err := db.Exec(context.Background(), `UPDATE users SET disabled = ? WHERE username = ?`, true, "gone"); err != nil {
			t.Fatal(err)
		}
		me := as(&care.Actor{Username: "lee", Role: auth.CommunityManager, UnitPath: "/D1/S1/C1/"})

		list, err := svc.Colleagues(me)
		if err != nil {
			t.Fatal(err)
		}
		var labels []string
		for _, c := range list {
			labels = append(labels, c.Label())
		}
		// By name; the district's only (not 周远 of D2), active only (not 赵离).
		want := []string{"李强（安宁社区）", "钱助（安宁社区）", "王芳（安宁社区）", "王芳（Community 2）"}
		if len(labels) != len(want) {
			t.Fatalf("colleagues %q, want %q", labels, want)
		}
		seen := map[string]bool{}
		for _, l := range labels {
			seen[l] = true
		}
		for _, w := range want {
			if !seen[w] {
				t.Errorf("colleagues %q lack %q", labels, w)
			}
		}

		for _, c := range []struct{ text, want, field string }{
			{"李强", "lee", ""},
			{"周远", "far", ""}, // another district: by name too
			{"王芳（Community 2）", "wang2", ""},
			{"王芳 (安宁社区)", "wang1", ""},
			{"wang1", "wang1", ""},
			{"王芳", "", "username"},
			{"赵离", "", "username"},
			{"无名", "", "username"},
			{"", "", ""},
		} {
			got, err := svc.ResolveColleague(me, c.text)
			if got != c.want || fieldOf(err) != c.field {
				t.Errorf("ResolveColleague(%q) = %q, %v; want %q, field %q", c.text, got, err, c.want, c.field)
			}
		}
		group := as(&care.Actor{Username: "group", Role: auth.CareGroup, UnitPath: "/D1/S1/C1/"})
		if _, err := svc.Colleagues(group); kind(err) != care.Forbidden {
			t.Errorf("the care-and-help group looked staff up: %v", err)
		}
		if _, err := svc.ResolveColleague(group, "李强"); kind(err) != care.Forbidden {
			t.Errorf("the care-and-help group resolved a colleague: %v", err)
		}
	})
}
