package care_test

import (
	"context"
	"testing"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/directory"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestServiceNetwork(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		da := as(&care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"})
		mgr := as(&care.Actor{Username: "m", Role: auth.CommunityManager, UnitCode: "C1", UnitPath: "/D1/S1/C1/"})

		// A district administrator adds a service of their district.
		in := care.ProviderInput{Name: "安宁社区卫生服务站", NameEN: "Anning health station", Kind: care.KindHealthCentre,
			Phone: "010-5555-0111", Hours: "周一至周五", Capacity: 30, Serves: []string{"C1", "C1", " S1 "}}
		p, err := svc.CreateProvider(da, in)
		if err != nil {
			t.Fatal(err)
		}
		if p.Path != "/D1/S1/" || len(p.Serves) != 2 || p.Serves[0] != "S1" || p.Serves[1] != "C1" {
			t.Errorf("created %+v: want path /D1/S1/ serving S1, C1", p)
		}
		if e := lastAudit(t, db); e.Action != "service.create" || e.Outcome != audit.Allowed {
			t.Errorf("audit %+v", e)
		}

		// Bad input: field messages and nothing written.
		before := count(t, db, `SELECT COUNT(*) FROM services`)
		for _, c := range []struct {
			name  string
			in    care.ProviderInput
			field string
		}{
			{"no name", care.ProviderInput{Kind: care.KindNGO, Phone: "110", Serves: []string{"C1"}}, "name"},
			{"bad kind", care.ProviderInput{Name: "x", Kind: "shop", Phone: "110", Serves: []string{"C1"}}, "kind"},
			{"bad phone", care.ProviderInput{Name: "x", Kind: care.KindNGO, Phone: "call us", Serves: []string{"C1"}}, "phone"},
			{"serves nothing", care.ProviderInput{Name: "x", Kind: care.KindNGO, Phone: "110"}, "serves"},
			{"unknown unit", care.ProviderInput{Name: "x", Kind: care.KindNGO, Phone: "110", Serves: []string{"NOPE"}}, "serves"},
			{"partner without contact", care.ProviderInput{Name: "x", Kind: care.KindPartner, Phone: "110", Serves: []string{"C1"}}, "contact_name"},
			{"negative capacity", care.ProviderInput{Name: "x", Kind: care.KindNGO, Phone: "110", Capacity: -1, Serves: []string{"C1"}}, "capacity"},
		} {
			_, err := svc.CreateProvider(da, c.in)
			if kind(err) != care.Invalid || fieldOf(err) != c.field {
				t.Errorf("%s: %v, want invalid %s", c.name, err, c.field)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM services`); n != before {
			t.Errorf("refused writes left %d services, want %d", n, before)
		}

		// A community manager may not edit; a district administrator may
		// not add a national hotline (it serves no unit: the admins').
		if _, err := svc.CreateProvider(mgr, in); kind(err) != care.Forbidden {
			t.Errorf("manager creates: %v", err)
		}
		if _, err := svc.CreateProvider(da, care.ProviderInput{Name: "热线", Kind: care.KindHotline, Phone: "12356"}); kind(err) != care.Forbidden {
			t.Errorf("district admin adds a national hotline: %v", err)
		}
		national, err := svc.CreateProvider(as(adminActor), care.ProviderInput{Name: "全国心理援助热线", NameEN: "National line",
			Kind: care.KindHotline, Phone: "12356", Hours: "24小时"})
		if err != nil || national.Path != "/" {
			t.Fatalf("admin adds a national hotline: %+v %v", national, err)
		}
		// Another district's admin may not touch this district's service.
		other := as(&care.Actor{Username: "da2", Role: auth.DistrictAdmin, UnitCode: "D2", UnitPath: "/D2/"})
		if _, err := svc.UpdateProvider(other, p.ID, in); kind(err) != care.Forbidden {
			t.Errorf("other district updates: %v", err)
		}
		if err := svc.DeleteProvider(other, p.ID); kind(err) != care.Forbidden {
			t.Errorf("other district deletes: %v", err)
		}

		// Update replaces the units served.
		in.Serves = []string{"C2"}
		in.Name = "改名服务站"
		up, err := svc.UpdateProvider(da, p.ID, in)
		if err != nil || up.Path != "/D1/S2/C2/" || up.Name != "改名服务站" || len(up.Serves) != 1 {
			t.Fatalf("update: %+v %v", up, err)
		}

		// A partner serving the district.
		partner, err := svc.CreateProvider(da, care.ProviderInput{Name: "区残联", Kind: care.KindPartner, Phone: "010-1",
			ContactName: "钱军", Serves: []string{"D1"}})
		if err != nil {
			t.Fatal(err)
		}

		// The public list for C2: its own first, then the district's.
		list, err := svc.ServicesFor(context.Background(), "C2")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != p.ID || list[0].Near != "C2" || list[1].ID != partner.ID || list[1].Near != "D1" {
			t.Errorf("services for C2: %+v", list)
		}
		// C1 no longer has the station: only the district's partner.
		if list, _ := svc.ServicesFor(context.Background(), "C1"); len(list) != 1 || list[0].ID != partner.ID {
			t.Errorf("services for C1: %+v", list)
		}
		if _, err := svc.ServicesFor(context.Background(), "NOPE"); kind(err) != care.Invalid {
			t.Errorf("unknown community: %v", err)
		}

		// The help beside a screening: the network's hotlines and the
		// nearest services.
		h, err := svc.Help(context.Background(), "C2")
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Hotlines) != 1 || h.Hotlines[0].Number != "12356" || len(h.Services) != 1 || h.Services[0].Phone != "010-5555-0111" {
			t.Errorf("help for C2: %+v", h)
		}

		// Staff lists: the manager of C1 sees the district's services and
		// the national hotline, not C2's station.
		if got, _, err := svc.Providers(mgr, care.ProviderQuery{}, care.Page{}); err != nil || len(got) != 2 {
			t.Errorf("manager's list: %+v %v", got, err)
		}
		// The district administrator sees all three, a page at a time,
		// and filters by unit and kind.
		all, next, err := svc.Providers(da, care.ProviderQuery{}, care.Page{Limit: 2})
		if err != nil || len(all) != 2 || next == "" {
			t.Fatalf("first page: %+v %q %v", all, next, err)
		}
		rest, next2, err := svc.Providers(da, care.ProviderQuery{}, care.Page{Limit: 2, Token: next})
		if err != nil || len(rest) != 1 || next2 != "" {
			t.Fatalf("second page: %+v %q %v", rest, next2, err)
		}
		if got, _, _ := svc.Providers(mgr, care.ProviderQuery{OrgUnit: "C2", Kind: care.KindPartner}, care.Page{}); len(got) != 1 || got[0].ID != partner.ID {
			t.Errorf("partners serving C2: %+v", got)
		}

		// Delete.
		if err := svc.DeleteProvider(da, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Provider(da, p.ID); kind(err) != care.NotFound {
			t.Errorf("deleted service: %v", err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM service_units WHERE service_id = ?`, p.ID); n != 0 {
			t.Errorf("%d units left for a deleted service", n)
		}
	})
}

func TestSeedDirectory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		d := &directory.Directory{
			Hotlines: []directory.Hotline{{Name: directory.Text{EN: "Police", ZH: "报警"}, Number: "110"}},
			Services: []directory.Service{
				{Unit: "C1", Kind: care.KindHospital, Name: directory.Text{EN: "H", ZH: "医院"}, Phone: "010-1"},
				{Unit: "C9", Name: directory.Text{EN: "Nowhere", ZH: "无"}, Phone: "010-2"}, // no such unit
			},
		}
		n, err := svc.SeedDirectory(context.Background(), d)
		if err != nil || n != 2 {
			t.Fatalf("seed: %d %v", n, err)
		}
		// A network that holds anything is not seeded again.
		if n, err := svc.SeedDirectory(context.Background(), directory.Demo()); err != nil || n != 0 {
			t.Errorf("second seed: %d %v", n, err)
		}
		h, err := svc.Help(context.Background(), "C1")
		if err != nil || len(h.Hotlines) != 1 || h.Hotlines[0].Number != "110" || len(h.Services) != 1 || h.Services[0].Name.EN != "H" {
			t.Errorf("help: %+v %v", h, err)
		}
		// With every hotline removed, the built-in national ones are shown.
		if _, err := db.Exec(context.Background(), `DELETE FROM services WHERE kind = 'hotline'`); err != nil {
			t.Fatal(err)
		}
		if h, _ := svc.Help(context.Background(), ""); len(h.Hotlines) == 0 || h.Hotlines[0].Number != "12356" {
			t.Errorf("fallback hotlines: %+v", h.Hotlines)
		}
	})
}
