package web

import (
	"io/fs"
	"net/http"
	"slices"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"kith/internal/care"
)

// The UI languages, named as care.Languages names them.
const (
	langEnglish = "en"
	langChinese = "zh-Hans"
)

// langCookie remembers the language chosen with the switch, so that the
// sign-in page and other pages seen before signing in speak it too.
const langCookie = "kith_lang"

// languages are the UI languages, whose catalogues are in locales/.
var languages = care.Languages

// loadCatalogue reads the embedded message files.
func loadCatalogue() (*i18n.Bundle, error) {
	b := i18n.NewBundle(language.English)
	for _, l := range languages {
		for _, name := range catalogueFiles(l) {
			if _, err := b.LoadMessageFileFS(files, name); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// catalogueFiles lists the message files of a language: LANG.json, and
// PART.LANG.json for the parts of the UI kept apart (the public site, the
// assessments).
func catalogueFiles(lang string) []string {
	parts, _ := fs.Glob(files, "locales/*."+lang+".json")
	return append([]string{"locales/" + lang + ".json"}, parts...)
}

// validLanguage reports whether name is one of the UI languages.
func validLanguage(name string) bool { return slices.Contains(languages, name) }

// pickLanguage chooses the language of a response: the signed-in user's
// setting, else the language cookie, else the browser's Accept-Language,
// else English.
func pickLanguage(r *http.Request, a *care.Actor) string {
	if a != nil && validLanguage(a.Language) {
		return a.Language
	}
	if c, err := r.Cookie(langCookie); err == nil && validLanguage(c.Value) {
		return c.Value
	}
	return care.MatchLanguage(r.Header.Get("Accept-Language"))
}

// setLanguage serves the language switch: it remembers the choice in a
// cookie, saves it as the signed-in user's setting, and goes back to the
// page the switch was on. An empty language means "as the browser asks".
func (s *server) setLanguage(w http.ResponseWriter, r *http.Request, p *page) error {
	lang := r.PostFormValue("lang")
	if lang != "" && !validLanguage(lang) {
		return &care.Error{Kind: care.Invalid, Message: "please correct the fields shown",
			Fields: []care.FieldError{{Field: "language", Message: "must be en or zh-Hans"}}}
	}
	if p.User != nil {
		if err := s.svc.SetLanguage(r.Context(), lang); err != nil {
			return err
		}
	}
	c := &http.Cookie{Name: langCookie, Value: lang, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int((365 * 24 * time.Hour).Seconds())}
	if lang == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
	back := localPath(r.PostFormValue("return"))
	if back == "" {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
