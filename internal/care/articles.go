package care

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kith/internal/store"
)

// Articles of the public site (issue 13, item 5): education written in
// Markdown by staff with the editor right (the policy's WriteArticle),
// each in one language, published or a draft. The Markdown is kept as
// written; the transports render it safely (package markdown). Drafts are
// seen by the editors of the article's jurisdiction only; a published
// article by everyone, without sign-in.

// Article is one article.
type Article struct {
	ID           int64      `json:"id"`
	Slug         string     `json:"slug"`
	Title        string     `json:"title"`
	Lang         string     `json:"lang"`
	BodyMarkdown string     `json:"body_markdown"`
	Published    bool       `json:"published"`
	PublishedAt  *time.Time `json:"published_at,omitempty"`
	OrgUnit      string     `json:"org_unit"` // the author's unit: the jurisdiction that edits it
	Author       string     `json:"author"`
	AuthorName   string     `json:"author_name"` // the full name of author
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	path         string
}

// ArticleInput writes an article. Slug is optional: without one it is
// made from the title.
type ArticleInput struct {
	Title        string `json:"title"`
	Lang         string `json:"lang"`
	BodyMarkdown string `json:"body_markdown"`
	Published    bool   `json:"published"`
	Slug         string `json:"slug"`
}

// ArticlePatch changes an article; nil fields stay as they are.
// "published": false withdraws it from the public site.
type ArticlePatch struct {
	Title        *string `json:"title"`
	Lang         *string `json:"lang"`
	BodyMarkdown *string `json:"body_markdown"`
	Published    *bool   `json:"published"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

const (
	maxSlug = 80
	maxBody = 100_000 // characters: a long article, far below the request limit
)

func checkArticle(f *fields, title, lang, body string) (string, string) {
	title = checkName(f, "title", title, 200)
	if !slices.Contains(Languages, lang) {
		f.add("lang", "must be zh-Hans or en")
	}
	body, p := CleanText(body, true)
	switch {
	case p != TextOK:
		f.add("body_markdown", string(p))
	case body == "":
		f.add("body_markdown", "is required")
	case utf8.RuneCountInString(body) > maxBody:
		f.add("body_markdown", "must be at most 100000 characters")
	}
	return title, body
}

// slugOf makes a slug of a title's Latin letters and digits; a title with
// none (a Chinese one) gives "".
func slugOf(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// freeSlug returns base, or base-2, base-3…, whichever no article has yet.
func freeSlug(ctx context.Context, tx *store.Tx, base string) (string, error) {
	for i := 1; i < 1000; i++ {
		s := base
		if i > 1 {
			s = base + "-" + strconv.Itoa(i)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM articles WHERE slug = ?`, s).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return s, nil
		}
	}
	return "", errConflict("too many articles share this title; give the article a slug of its own")
}

// CreateArticle writes an article, published at once or as a draft. Its
// slug is the one given, or one made from the title (or the language and
// date, for a title without Latin letters), made unique.
func (s *Service) CreateArticle(ctx context.Context, in ArticleInput) (*Article, error) {
	var out *Article
	err := s.act(ctx, "article.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "article", a.UnitCode, a.UnitPath
		if !mayEver(a, WriteArticle) || !Allow(a, WriteArticle, Target{Path: a.UnitPath}) {
			return errForbidden()
		}
		f := s.fields()
		in.Title, in.BodyMarkdown = checkArticle(&f, in.Title, in.Lang, in.BodyMarkdown)
		in.Slug = strings.TrimSpace(in.Slug)
		if in.Slug != "" && (len(in.Slug) > maxSlug || !slugRE.MatchString(in.Slug)) {
			f.add("slug", "must be lower-case letters and digits joined by -, at most 80")
		}
		if err := f.err(); err != nil {
			return err
		}
		slug := in.Slug
		if slug != "" {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM articles WHERE slug = ?`, slug).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return &Error{Kind: Conflict, Message: "another article has this slug", ExistingID: slug}
			}
		} else {
			base := slugOf(in.Title)
			if base == "" {
				base = strings.ToLower(strings.ReplaceAll(in.Lang, "-", "")) + "-" + strings.ReplaceAll(s.today().String(), "-", "")
			}
			var err error
			if slug, err = freeSlug(ctx, tx, base); err != nil {
				return err
			}
		}
		now := store.FormatTime(tx.Now())
		var publishedAt any
		if in.Published {
			publishedAt = now
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO articles (slug, title, lang, body_markdown, published, published_at, org_path, author,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			slug, in.Title, in.Lang, in.BodyMarkdown, boolInt(in.Published), publishedAt, a.UnitPath, a.Username, now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return &Error{Kind: Conflict, Message: "another article has this slug", ExistingID: slug}
		}
		if err != nil {
			return err
		}
		sub.ID, sub.Detail = strconv.FormatInt(id, 10), slug
		out, err = articleBy(ctx, tx, "a.id = ?", id)
		return err
	})
	return out, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

var articleColumns = `a.id, a.slug, a.title, a.lang, a.body_markdown, a.published, a.published_at, COALESCE(u.code, ''), a.author,
	` + fullName("a.author") + `, a.created_at, a.updated_at, a.org_path`

const articleFrom = ` FROM articles a LEFT JOIN org_units u ON u.path = a.org_path`

func scanArticle(sc interface{ Scan(...any) error }) (Article, error) {
	var x Article
	var published int
	var at sql.NullString
	var created, updated string
	err := sc.Scan(&x.ID, &x.Slug, &x.Title, &x.Lang, &x.BodyMarkdown, &published, &at, &x.OrgUnit, &x.Author, &x.AuthorName,
		&created, &updated, &x.path)
	if err != nil {
		return x, err
	}
	x.Published = published != 0
	if at.Valid {
		t := store.MustTime(at.String)
		x.PublishedAt = &t
	}
	x.CreatedAt, x.UpdatedAt = store.MustTime(created), store.MustTime(updated)
	return x, nil
}

// articleBy loads one article by a condition; nil, nil if none.
func articleBy(ctx context.Context, tx *store.Tx, cond string, arg any) (*Article, error) {
	x, err := scanArticle(tx.QueryRow(ctx, `SELECT `+articleColumns+articleFrom+` WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &x, nil
}

// Article returns an article, published or not, to an editor of its
// jurisdiction.
func (s *Service) Article(ctx context.Context, id int64) (*Article, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, errUnauthenticated
	}
	var out *Article
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		x, err := articleBy(ctx, tx, "a.id = ?", id)
		if err != nil {
			return err
		}
		if x == nil || !Allow(a, WriteArticle, Target{Path: x.path}) {
			return errNotFound("article")
		}
		out = x
		return nil
	})
	return out, err
}

// Articles lists the articles of the editor's jurisdiction, drafts too,
// the last changed first.
func (s *Service) Articles(ctx context.Context, pg Page) ([]Article, string, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, "", errUnauthenticated
	}
	if !mayEver(a, WriteArticle) {
		return nil, "", errForbidden()
	}
	limit, after, err := pg.start("|")
	if err != nil {
		return nil, "", err
	}
	var out []Article
	err = s.db.Read(ctx, func(tx *store.Tx) error {
		lo, hi := store.Beneath(a.UnitPath)
		where, args := "a.org_path >= ? AND a.org_path < ?", []any{lo, hi}
		if after.set {
			where += " AND (a.updated_at < ? OR (a.updated_at = ? AND a.id < ?))"
			args = append(args, after.key, after.key, after.id)
		}
		rows, err := tx.Query(ctx, `SELECT `+articleColumns+articleFrom+` WHERE `+where+`
			ORDER BY a.updated_at DESC, a.id DESC LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scanArticle(rows)
			if err != nil {
				return err
			}
			out = append(out, x)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(x Article) string {
		return store.FormatTime(x.UpdatedAt) + "|" + strconv.FormatInt(x.ID, 10)
	})
	return out, next, nil
}

// UpdateArticle changes an article; publishing it sets its publication
// time, withdrawing it ("published": false) takes it off the public site.
// The slug never changes, so that links to it keep working.
func (s *Service) UpdateArticle(ctx context.Context, id int64, in ArticlePatch) (*Article, error) {
	var out *Article
	err := s.act(ctx, "article.update", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "article", strconv.FormatInt(id, 10), a.UnitCode, a.UnitPath
		if !mayEver(a, WriteArticle) {
			return errForbidden()
		}
		x, err := articleBy(ctx, tx, "a.id = ?", id)
		if err != nil {
			return err
		}
		if x == nil || !Allow(a, WriteArticle, Target{Path: x.path}) {
			return errHidden("article")
		}
		sub.Path, sub.Detail = x.path, x.Slug
		title, lang, body := x.Title, x.Lang, x.BodyMarkdown
		if in.Title != nil {
			title = *in.Title
		}
		if in.Lang != nil {
			lang = *in.Lang
		}
		if in.BodyMarkdown != nil {
			body = *in.BodyMarkdown
		}
		f := s.fields()
		title, body = checkArticle(&f, title, lang, body)
		if err := f.err(); err != nil {
			return err
		}
		published, publishedAt := x.Published, any(nil)
		if x.PublishedAt != nil {
			publishedAt = store.FormatTime(*x.PublishedAt)
		}
		now := store.FormatTime(tx.Now())
		if in.Published != nil {
			if *in.Published && !x.Published {
				publishedAt = now
			}
			published = *in.Published
		}
		if _, err := tx.Exec(ctx, `UPDATE articles SET title = ?, lang = ?, body_markdown = ?, published = ?, published_at = ?,
			updated_at = ? WHERE id = ?`, title, lang, body, boolInt(published), publishedAt, now, id); err != nil {
			return err
		}
		out, err = articleBy(ctx, tx, "a.id = ?", id)
		return err
	})
	return out, err
}

// PublishedArticles lists the published articles of a language, newest
// first, for the public site. It needs no sign-in.
func (s *Service) PublishedArticles(ctx context.Context, lang string, pg Page) ([]Article, string, error) {
	if !slices.Contains(Languages, lang) {
		return nil, "", invalid("lang", "must be zh-Hans or en")
	}
	limit, after, err := pg.start("|")
	if err != nil {
		return nil, "", err
	}
	var out []Article
	err = s.db.Read(ctx, func(tx *store.Tx) error {
		where, args := "a.lang = ? AND a.published = 1", []any{lang}
		if after.set {
			where += " AND (a.published_at < ? OR (a.published_at = ? AND a.id < ?))"
			args = append(args, after.key, after.key, after.id)
		}
		rows, err := tx.Query(ctx, `SELECT `+articleColumns+articleFrom+` WHERE `+where+`
			ORDER BY a.published_at DESC, a.id DESC LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scanArticle(rows)
			if err != nil {
				return err
			}
			x.Author, x.AuthorName, x.OrgUnit = "", "", "" // staff accounts are not shown to the public
			out = append(out, x)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(x Article) string {
		return store.FormatTime(*x.PublishedAt) + "|" + strconv.FormatInt(x.ID, 10)
	})
	return out, next, nil
}

// PublishedArticle returns a published article by slug; a draft or an
// unknown slug is not found. It needs no sign-in.
func (s *Service) PublishedArticle(ctx context.Context, slug string) (*Article, error) {
	var out *Article
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		x, err := articleBy(ctx, tx, "a.slug = ?", slug)
		if err != nil {
			return err
		}
		if x == nil || !x.Published {
			return errNotFound("article")
		}
		x.Author, x.AuthorName, x.OrgUnit = "", "", ""
		out = x
		return nil
	})
	return out, err
}
