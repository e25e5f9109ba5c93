package web

import (
	"io/fs"
	"net/http"
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

// languages pairs Kith's language names with their tags, in the order the
// matcher prefers them: English first, so that it is the fallback.
var languages = []struct {
	name string
	tag  language.Tag
}{
	{langEnglish, language.English},
	{langChinese, language.SimplifiedChinese},
}

var matcher = func() language.Matcher {
	tags := make([]language.Tag, len(languages))
	for i, l := range languages {
		tags[i] = l.tag
	}
	return language.NewMatcher(tags)
}()

// loadCatalogue reads the embedded message files.
func loadCatalogue() (*i18n.Bundle, error) {
	b := i18n.NewBundle(language.English)
	for _, l := range languages {
		for _, name := range catalogueFiles(l.name) {
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
func validLanguage(name string) bool {
	for _, l := range languages {
		if l.name == name {
			return true
		}
	}
	return false
}

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
	return matchAcceptLanguage(r.Header.Get("Accept-Language"))
}

// matchAcceptLanguage returns the UI language that best serves an
// Accept-Language header, such as zh-Hans for "zh-CN,zh;q=0.9".
func matchAcceptLanguage(header string) string {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return langEnglish
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return langEnglish
	}
	return languages[i].name
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
