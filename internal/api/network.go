package api

import (
	"net/http"
	"strconv"
	"time"

	"kith/internal/care"
	"kith/internal/markdown"
)

// networkRoutes are the service network and, for residents, the services
// serving a community.
var networkRoutes = []route{
	{Method: "GET", Pattern: "/api/v1/services", Handle: (*handler).listProviders},
	{Method: "POST", Pattern: "/api/v1/services", Handle: (*handler).createProvider},
	{Method: "GET", Pattern: "/api/v1/services/{id}", Handle: (*handler).getProvider},
	{Method: "PUT", Pattern: "/api/v1/services/{id}", Handle: withID(http.StatusOK, (*care.Service).UpdateProvider)},
	{Method: "DELETE", Pattern: "/api/v1/services/{id}", Handle: (*handler).deleteProvider},
	{Method: "GET", Pattern: "/api/v1/public/services", Public: true, Handle: (*handler).publicServices},
}

func init() {
	routes = append(routes, networkRoutes...)
	refuseFirst["POST /api/v1/services"] = care.WriteService
	refuseFirst["PUT /api/v1/services/{id}"] = care.WriteService
}

func (h *handler) listProviders(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, next, err := h.svc.Providers(r.Context(), care.ProviderQuery{OrgUnit: q.Get("org_unit"), Kind: q.Get("kind")}, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (h *handler) createProvider(w http.ResponseWriter, r *http.Request) error {
	var in care.ProviderInput
	if err := decode(r, &in); err != nil {
		return err
	}
	out, err := h.svc.CreateProvider(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (h *handler) getProvider(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	out, err := h.svc.Provider(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) deleteProvider(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteProvider(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// publicServices lists, for a resident, the services serving a community,
// its street or its district, nearest first.
func (h *handler) publicServices(w http.ResponseWriter, r *http.Request) error {
	l, err := lang(w, r)
	if err != nil {
		return err
	}
	code := r.URL.Query().Get("community")
	if code == "" {
		return fieldErr("community", "is required: the code of a community (GET /api/v1/communities)")
	}
	list, err := h.svc.ServicesFor(r.Context(), code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(care.PublicServices(list, l), ""))
	return nil
}

// articleRoutes are the public site's articles: written by editors, read
// by everyone once published.
var articleRoutes = []route{
	{Method: "GET", Pattern: "/api/v1/articles", Handle: (*handler).listArticles},
	{Method: "POST", Pattern: "/api/v1/articles", Handle: (*handler).createArticle},
	{Method: "GET", Pattern: "/api/v1/articles/{id}", Handle: (*handler).getArticle},
	{Method: "PATCH", Pattern: "/api/v1/articles/{id}", Handle: withID(http.StatusOK, (*care.Service).UpdateArticle)},
	{Method: "GET", Pattern: "/api/v1/public/articles", Public: true, Handle: (*handler).publicArticles},
	{Method: "GET", Pattern: "/api/v1/public/articles/{slug}", Public: true, Handle: (*handler).publicArticle},
}

func init() {
	routes = append(routes, articleRoutes...)
	refuseFirst["POST /api/v1/articles"] = care.WriteArticle
	refuseFirst["PATCH /api/v1/articles/{id}"] = care.WriteArticle
}

func (h *handler) listArticles(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.Articles(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (h *handler) createArticle(w http.ResponseWriter, r *http.Request) error {
	var in care.ArticleInput
	if err := decode(r, &in); err != nil {
		return err
	}
	out, err := h.svc.CreateArticle(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/articles/"+strconv.FormatInt(out.ID, 10))
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (h *handler) getArticle(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	out, err := h.svc.Article(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// publicArticleJSON is a published article for residents: its Markdown
// and the HTML it renders to (raw HTML in the Markdown is dropped).
type publicArticleJSON struct {
	Slug         string     `json:"slug"`
	Title        string     `json:"title"`
	Lang         string     `json:"lang"`
	PublishedAt  *time.Time `json:"published_at"`
	BodyMarkdown string     `json:"body_markdown,omitempty"`
	HTML         string     `json:"html,omitempty"`
}

// publicArticles lists the published articles in the language asked for
// (?lang=, else Accept-Language), newest first, without their bodies.
func (h *handler) publicArticles(w http.ResponseWriter, r *http.Request) error {
	l, err := lang(w, r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.PublishedArticles(r.Context(), l, p)
	if err != nil {
		return err
	}
	out := make([]publicArticleJSON, len(items))
	for i, x := range items {
		out[i] = publicArticleJSON{Slug: x.Slug, Title: x.Title, Lang: x.Lang, PublishedAt: x.PublishedAt}
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

func (h *handler) publicArticle(w http.ResponseWriter, r *http.Request) error {
	x, err := h.svc.PublishedArticle(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	html, err := markdown.Render(x.BodyMarkdown)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, publicArticleJSON{Slug: x.Slug, Title: x.Title, Lang: x.Lang, PublishedAt: x.PublishedAt,
		BodyMarkdown: x.BodyMarkdown, HTML: string(html)})
	return nil
}
