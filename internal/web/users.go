package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"kith/internal/auth"
	"kith/internal/care"
)

type usersData struct {
	Users     []care.User
	NextURL   string
	Filter    *form // the unit filter
	Form      *form // the new user form
	FormOpen  bool
	Roles     []auth.Role
	Languages []string
	Units     []care.Unit // suggested for unit codes
}

var userFields = []string{"username", "full_name", "role", "org_unit", "language"}

// users lists accounts by username, optionally beneath one unit, with the
// form for a new account.
func (s *server) users(w http.ResponseWriter, r *http.Request, p *page) error {
	// As for units, the confirmation names only an account that exists.
	if name := r.URL.Query().Get("created"); name != "" {
		if u, err := s.svc.User(r.Context(), name); err == nil {
			p.Flash = p.T("users.created", "Username", u.Username)
		}
	}
	return s.renderUsers(w, r, p, http.StatusOK, newForm(nil, userFields...))
}

func (s *server) renderUsers(w http.ResponseWriter, r *http.Request, p *page, status int, f *form) error {
	q := r.URL.Query()
	filter := &form{values: map[string]string{"unit": q.Get("unit")}, errors: map[string]string{}}
	d := usersData{Filter: filter, Form: f, FormOpen: f.Failed(), Roles: auth.Roles, Languages: languageChoices}
	list, next, err := s.svc.Users(r.Context(), filter.V("unit"), care.Page{Token: q.Get("page_token")})
	if err != nil {
		// An unknown unit in the filter is shown by the filter.
		var ce *care.Error
		if !errors.As(err, &ce) || ce.Kind != care.Invalid || status != http.StatusOK {
			return err
		}
		for _, fe := range ce.Fields {
			filter.errors["unit"] = p.Msg(fe.Message)
		}
		status = http.StatusUnprocessableEntity
	}
	d.Users = list
	if next != "" {
		v := url.Values{"page_token": {next}}
		if filter.V("unit") != "" {
			v.Set("unit", filter.V("unit"))
		}
		d.NextURL = "/admin/users?" + v.Encode()
	}
	if d.Units, _, err = s.svc.Units(r.Context(), "", care.Page{Limit: care.MaxLimit}); err != nil {
		return err
	}
	return s.render(w, p, status, "users", d)
}

// languageChoices are the language settings a form offers; "" follows the browser.
var languageChoices = []string{"", langEnglish, langChinese}

func (s *server) createUser(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, userFields...)
	p.Path = "/admin/users"
	u, act, err := s.svc.CreateUser(r.Context(), care.UserInput{Username: f.V("username"),
		FullName: f.V("full_name"), Role: f.V("role"), OrgUnit: f.V("org_unit"), Language: f.V("language")})
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return s.renderUsers(w, r, p, status, f)
	}
	// The activation link is shown this once, on the answer to the form:
	// it is stored only hashed and never goes into a URL of this site.
	return s.showActivation(w, r, p, u, act, true)
}

type userData struct {
	User           *care.User
	Form           *form
	ConfirmDisable bool // the form asks to disable the account: ask once more
	Roles          []auth.Role
	Languages      []string
	Units          []care.Unit
	Self           bool // the account is the user's own
}

var userEditFields = []string{"full_name", "role", "org_unit", "language", "disabled"}

// user shows one account with the forms to change it, to issue a new
// activation link (the password reset) and to end its sessions.
func (s *server) user(w http.ResponseWriter, r *http.Request, p *page) error {
	u, err := s.svc.User(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("saved") {
	case "1":
		p.Flash = p.T("user.saved")
	}
	if n := r.URL.Query().Get("ended"); n != "" {
		if k, err := strconv.Atoi(n); err == nil {
			p.Flash = p.TN("user.sessions.ended", k)
		}
	}
	d := userData{User: u, Form: accountForm(u)}
	return s.renderUser(w, r, p, http.StatusOK, d)
}

// accountForm is the edit form filled from the account as it is.
func accountForm(u *care.User) *form {
	f := newForm(nil, userEditFields...)
	f.set("full_name", u.FullName)
	f.set("role", string(u.Role))
	f.set("org_unit", u.OrgUnit)
	f.set("language", u.Language)
	if u.Disabled {
		f.set("disabled", "1")
	}
	return f
}

func (s *server) renderUser(w http.ResponseWriter, r *http.Request, p *page, status int, d userData) error {
	p.Path = "/admin/users/" + url.PathEscape(d.User.Username)
	d.Roles, d.Languages, d.Self = auth.Roles, languageChoices, d.User.Username == p.User.Username
	var err error
	if d.Units, _, err = s.svc.Units(r.Context(), "", care.Page{Limit: care.MaxLimit}); err != nil {
		return err
	}
	return s.render(w, p, status, "user", d)
}

// updateUser saves changes to an account. Disabling an account signs its
// user out everywhere, so the form asks for a confirmation first.
func (s *server) updateUser(w http.ResponseWriter, r *http.Request, p *page) error {
	u, err := s.svc.User(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	f := newForm(r, userEditFields...)
	d := userData{User: u, Form: f}
	disable := f.V("disabled") != ""
	if disable && !u.Disabled && r.PostFormValue("confirm_disable") == "" {
		d.ConfirmDisable = true
		return s.renderUser(w, r, p, http.StatusOK, d)
	}
	name, role, unit, lang := f.V("full_name"), f.V("role"), f.V("org_unit"), f.V("language")
	_, err = s.svc.UpdateUser(r.Context(), u.Username, care.UserPatch{FullName: &name, Role: &role, OrgUnit: &unit,
		Language: &lang, Disabled: &disable})
	if err != nil {
		status := p.formError(f, err)
		if status == 0 {
			return err
		}
		return s.renderUser(w, r, p, status, d)
	}
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(u.Username)+"?saved=1", http.StatusSeeOther)
	return nil
}
