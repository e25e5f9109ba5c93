package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"kith/internal/care"
	"kith/internal/markdown"
)

// The articles: the editors' pages (/articles: the list, the form that
// writes, previews and publishes) and the public site's (/public/articles:
// the list in the visitor's language and each article). Markdown is
// rendered by package markdown, which drops raw HTML.

func (s *server) articleRoutes(mux *http.ServeMux) {
	mux.Handle("GET /articles", s.handle(staff, s.articles))
	mux.Handle("GET /articles/new", s.handle(staff, s.newArticle))
	mux.Handle("POST /articles", s.handle(staff, s.createArticle))
	mux.Handle("GET /articles/{id}", s.handle(staff, s.article))
	mux.Handle("POST /articles/{id}", s.handle(staff, s.updateArticle))
	mux.Handle("GET /public/articles", s.public(s.publicArticles))
	mux.Handle("GET /public/articles/{slug}", s.public(s.publicArticle))
}

// mayEdit reports whether the user holds the editor right.
func mayEdit(a *care.Actor) bool { return a != nil && care.Allow(a, care.WriteArticle, ownUnit(a)) }

type articlesData struct {
	List    []care.Article
	NextURL string
}

// articles lists the articles of the editor's jurisdiction, drafts too.
func (s *server) articles(w http.ResponseWriter, r *http.Request, p *page) error {
	if !mayEdit(p.User) {
		return errNoRights
	}
	list, next, err := s.svc.Articles(r.Context(), care.Page{Token: r.URL.Query().Get("page_token")})
	if err != nil {
		return err
	}
	d := articlesData{List: list}
	if next != "" {
		d.NextURL = "/articles?page_token=" + url.QueryEscape(next)
	}
	return s.render(w, p, http.StatusOK, "articles", d)
}

var articleFields = []string{"title", "lang", "body_markdown", "slug", "published"}

type articleData struct {
	Article *care.Article // nil for a new one
	Form    *form
	Preview template.HTML
	Langs   []choiceOption
}

func (s *server) renderArticle(w http.ResponseWriter, p *page, status int, d articleData) error {
	for _, l := range care.Languages {
		d.Langs = append(d.Langs, choiceOption{Value: l, Label: p.LanguageName(l), Checked: d.Form.V("lang") == l})
	}
	return s.render(w, p, status, "article", d)
}

func (s *server) newArticle(w http.ResponseWriter, r *http.Request, p *page) error {
	if !mayEdit(p.User) {
		return errNoRights
	}
	f := newForm(nil, articleFields...)
	f.set("lang", p.Lang)
	return s.renderArticle(w, p, http.StatusOK, articleData{Form: f})
}

// preview renders the form's Markdown below it, saving nothing.
func (s *server) preview(w http.ResponseWriter, p *page, d articleData) error {
	html, err := markdown.Render(d.Form.V("body_markdown"))
	if err != nil {
		return err
	}
	d.Preview = html
	return s.renderArticle(w, p, http.StatusOK, d)
}

func (s *server) createArticle(w http.ResponseWriter, r *http.Request, p *page) error {
	if !mayEdit(p.User) {
		return errNoRights
	}
	f := newForm(r, articleFields...)
	p.Path = "/articles/new"
	d := articleData{Form: f}
	if r.PostFormValue("action") == "preview" {
		return s.preview(w, p, d)
	}
	x, err := s.svc.CreateArticle(r.Context(), care.ArticleInput{Title: f.V("title"), Lang: f.V("lang"),
		BodyMarkdown: f.V("body_markdown"), Slug: f.V("slug"), Published: f.V("published") == "1"})
	if status := p.formError(f, err); status != 0 {
		return s.renderArticle(w, p, status, d)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/articles/"+strconv.FormatInt(x.ID, 10)+"?saved=1", http.StatusSeeOther)
	return nil
}

func (s *server) loadArticle(r *http.Request) (*care.Article, error) {
	id, ok := care.ParseID(r.PathValue("id"))
	if !ok {
		return nil, errPageNotFound
	}
	return s.svc.Article(r.Context(), id)
}

// article is the form of an article, with its text rendered below.
func (s *server) article(w http.ResponseWriter, r *http.Request, p *page) error {
	if !mayEdit(p.User) {
		return errNoRights
	}
	x, err := s.loadArticle(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("saved") {
		p.Flash = p.T("network.saved")
	}
	f := newForm(nil, articleFields...)
	f.set("title", x.Title)
	f.set("lang", x.Lang)
	f.set("body_markdown", x.BodyMarkdown)
	f.set("slug", x.Slug)
	if x.Published {
		f.set("published", "1")
	}
	return s.preview(w, p, articleData{Article: x, Form: f})
}

func (s *server) updateArticle(w http.ResponseWriter, r *http.Request, p *page) error {
	if !mayEdit(p.User) {
		return errNoRights
	}
	x, err := s.loadArticle(r)
	if err != nil {
		return err
	}
	f := newForm(r, articleFields...)
	f.set("slug", x.Slug)
	d := articleData{Article: x, Form: f}
	if r.PostFormValue("action") == "preview" {
		return s.preview(w, p, d)
	}
	title, lang, body, published := f.V("title"), f.V("lang"), f.V("body_markdown"), f.V("published") == "1"
	_, err = s.svc.UpdateArticle(r.Context(), x.ID, care.ArticlePatch{Title: &title, Lang: &lang, BodyMarkdown: &body,
		Published: &published})
	if status := p.formError(f, err); status != 0 {
		return s.renderArticle(w, p, status, d)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/articles/"+strconv.FormatInt(x.ID, 10)+"?saved=1", http.StatusSeeOther)
	return nil
}

type publicArticlesData struct {
	publicBase
	List    []care.Article
	NextURL string
}

// publicArticles lists the published articles in the visitor's language.
func (s *server) publicArticles(w http.ResponseWriter, r *http.Request, p *page) error {
	list, next, err := s.svc.PublishedArticles(r.Context(), p.Lang, care.Page{Token: r.URL.Query().Get("page_token")})
	if err != nil {
		return err
	}
	d := publicArticlesData{List: list}
	if next != "" {
		d.NextURL = "/public/articles?page_token=" + url.QueryEscape(next)
	}
	if d.Hotlines, _, err = s.publicHelp(r.Context(), p, ""); err != nil {
		return err
	}
	return s.render(w, p, http.StatusOK, "public_articles", d)
}

type publicArticleData struct {
	publicBase
	Article *care.Article
	Body    template.HTML
}

// publicArticle shows a published article, its Markdown rendered safely.
func (s *server) publicArticle(w http.ResponseWriter, r *http.Request, p *page) error {
	x, err := s.svc.PublishedArticle(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	d := publicArticleData{Article: x}
	if d.Body, err = markdown.Render(x.BodyMarkdown); err != nil {
		return err
	}
	if d.Hotlines, _, err = s.publicHelp(r.Context(), p, ""); err != nil {
		return err
	}
	return s.render(w, p, http.StatusOK, "public_article", d)
}
