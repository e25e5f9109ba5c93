package care_test

import (
	"context"
	"testing"

	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestArticles(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		mgr := as(&care.Actor{Username: "m", Role: auth.CommunityManager, UnitCode: "C1", UnitPath: "/D1/S1/C1/"})
		mgr2 := as(&care.Actor{Username: "m2", Role: auth.CommunityManager, UnitCode: "C2", UnitPath: "/D1/S2/C2/"})
		da := as(&care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"})
		nurse := as(&care.Actor{Username: "n", Role: auth.Nurse, UnitCode: "C1", UnitPath: "/D1/S1/C1/"})

		x, err := svc.CreateArticle(mgr, care.ArticleInput{Title: "Sleep & Stress: 5 tips", Lang: "en", BodyMarkdown: "# Sleep\n\nRest.", Published: true})
		if err != nil {
			t.Fatal(err)
		}
		if x.Slug != "sleep-stress-5-tips" || !x.Published || x.PublishedAt == nil || x.OrgUnit != "C1" {
			t.Errorf("created %+v", x)
		}
		// The same title gets a slug of its own; a Chinese title one of
		// language and date.
		y, err := svc.CreateArticle(mgr, care.ArticleInput{Title: "Sleep & stress — 5 tips", Lang: "en", BodyMarkdown: "draft"})
		if err != nil || y.Slug != "sleep-stress-5-tips-2" || y.Published {
			t.Errorf("second: %+v %v", y, err)
		}
		z, err := svc.CreateArticle(da, care.ArticleInput{Title: "睡眠与压力", Lang: "zh-Hans", BodyMarkdown: "正文", Published: true})
		if err != nil || z.Slug == "" {
			t.Fatalf("chinese: %+v %v", z, err)
		}
		if _, err := svc.CreateArticle(mgr, care.ArticleInput{Title: "x", Lang: "en", BodyMarkdown: "y", Slug: "sleep-stress-5-tips"}); kind(err) != care.Conflict {
			t.Errorf("taken slug: %v", err)
		}

		// Who may write: not a nurse; bad input with fields, nothing written.
		n := count(t, db, `SELECT COUNT(*) FROM articles`)
		if _, err := svc.CreateArticle(nurse, care.ArticleInput{Title: "x", Lang: "en", BodyMarkdown: "y"}); kind(err) != care.Forbidden {
			t.Errorf("nurse writes: %v", err)
		}
		for _, c := range []struct {
			in    care.ArticleInput
			field string
		}{
			{care.ArticleInput{Lang: "en", BodyMarkdown: "y"}, "title"},
			{care.ArticleInput{Title: "x", Lang: "fr", BodyMarkdown: "y"}, "lang"},
			{care.ArticleInput{Title: "x", Lang: "en", BodyMarkdown: " \u200b "}, "body_markdown"},
			{care.ArticleInput{Title: "x", Lang: "en", BodyMarkdown: "y", Slug: "Not A Slug"}, "slug"},
		} {
			if _, err := svc.CreateArticle(mgr, c.in); kind(err) != care.Invalid || fieldOf(err) != c.field {
				t.Errorf("%+v: %v, want invalid %s", c.in, err, c.field)
			}
		}
		if got := count(t, db, `SELECT COUNT(*) FROM articles`); got != n {
			t.Errorf("refused writes left %d articles, want %d", got, n)
		}

		// The public sees the published ones of its language only.
		en, _, err := svc.PublishedArticles(context.Background(), "en", care.Page{})
		if err != nil || len(en) != 1 || en[0].ID != x.ID || en[0].Author != "" {
			t.Errorf("public en: %+v %v", en, err)
		}
		if zh, _, _ := svc.PublishedArticles(context.Background(), "zh-Hans", care.Page{}); len(zh) != 1 || zh[0].ID != z.ID {
			t.Errorf("public zh: %+v", zh)
		}
		if _, err := svc.PublishedArticle(context.Background(), y.Slug); kind(err) != care.NotFound {
			t.Errorf("a draft is public: %v", err)
		}

		// Withdraw; another community's manager may neither see nor change it,
		// the district administrator may.
		if _, err := svc.UpdateArticle(mgr2, x.ID, care.ArticlePatch{Published: ptr(false)}); kind(err) != care.NotFound {
			t.Errorf("other community withdraws: %v", err)
		}
		up, err := svc.UpdateArticle(da, x.ID, care.ArticlePatch{Published: ptr(false), Title: ptr("Sleep")})
		if err != nil || up.Published || up.Title != "Sleep" || up.Slug != x.Slug {
			t.Errorf("withdraw: %+v %v", up, err)
		}
		if _, err := svc.PublishedArticle(context.Background(), x.Slug); kind(err) != care.NotFound {
			t.Errorf("a withdrawn article is public: %v", err)
		}
		if _, err := svc.UpdateArticle(mgr, x.ID, care.ArticlePatch{Title: ptr("")}); kind(err) != care.Invalid {
			t.Errorf("empty title: %v", err)
		}

		// The editors' list: the district sees all three, the manager two.
		if list, _, err := svc.Articles(da, care.Page{}); err != nil || len(list) != 3 {
			t.Errorf("district list: %d %v", len(list), err)
		}
		list, next, err := svc.Articles(mgr, care.Page{Limit: 1})
		if err != nil || len(list) != 1 || next == "" {
			t.Fatalf("manager list: %+v %q %v", list, next, err)
		}
		if rest, next, _ := svc.Articles(mgr, care.Page{Limit: 1, Token: next}); len(rest) != 1 || next != "" || rest[0].ID == list[0].ID {
			t.Errorf("manager page 2: %+v %q", rest, next)
		}
		if _, _, err := svc.Articles(nurse, care.Page{}); kind(err) != care.Forbidden {
			t.Errorf("nurse lists: %v", err)
		}
	})
}
