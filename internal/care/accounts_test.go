package care_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// accounts builds the tree with a system administrator (root), a district
// administrator of D1 (da1), a psychiatrist of D1 (psy1) and one of another
// district (psy2), all with passwords set through the internal path.
func accounts(t *testing.T, svc *care.Service) {
	t.Helper()
	tree(t, svc)
	if _, err := svc.CreateUnit(as(adminActor), care.UnitInput{Code: "D2", Name: "District 2", Level: "district"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateAdmin(context.Background(), "root", "Root", "a long password"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []care.UserInput{
		{Username: "da1", FullName: "District Admin", Role: "district_admin", OrgUnit: "D1"},
		{Username: "psy1", FullName: "Psychiatrist One", Role: "psychiatrist", OrgUnit: "D1"},
		{Username: "psy2", FullName: "Psychiatrist Two", Role: "psychiatrist", OrgUnit: "D2"},
	} {
		u.Password = "a long password"
		if _, err := svc.CreateUserWithPassword(as(adminActor), u); err != nil {
			t.Fatal(err)
		}
	}
}

// signIn returns the actor of a new API session of username.
func signIn(t *testing.T, svc *care.Service, username, password, code string) (*care.Actor, string) {
	t.Helper()
	tok, _, err := svc.Login(context.Background(), care.Credentials{Username: username, Password: password, TOTP: code}, care.APIToken)
	if err != nil {
		t.Fatalf("sign in as %s: %v", username, err)
	}
	a, err := svc.ResolveSession(context.Background(), tok, care.APIToken)
	if err != nil {
		t.Fatal(err)
	}
	return a, tok
}

func TestActivation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		accounts(t, svc)
		da, _ := signIn(t, svc, "da1", "a long password", "")
		da.MustEnrol = false // this test is not about the second factor

		u, act, err := svc.CreateUser(as(da), care.UserInput{Username: "nurse1", FullName: "Nurse One", Role: "nurse", OrgUnit: "C1"})
		if err != nil || act == nil || act.Token == "" || u.Activated {
			t.Fatalf("CreateUser = %+v, %+v, %v", u, act, err)
		}
		if d := act.ExpiresAt.Sub(time.Now()); d < 71*time.Hour || d > 73*time.Hour {
			t.Errorf("activation expires in %v, want 72 h", d)
		}
		if n := count(t, db, `SELECT count(*) FROM activations WHERE token_hash = ?`, act.Token); n != 0 {
			t.Error("the raw activation token is stored")
		}
		if n := count(t, db, `SELECT count(*) FROM users WHERE username = 'nurse1' AND password_hash = ''`); n != 1 {
			t.Error("a new account has a password before its owner sets one")
		}
		if _, _, err := svc.Login(context.Background(), care.Credentials{Username: "nurse1", Password: "anything at all"}, care.APIToken); kind(err) != care.Unauthenticated {
			t.Errorf("sign-in before activation: %v", err)
		}
		if _, err := svc.Activate(context.Background(), act.Token, "short"); fieldOf(err) != "password" {
			t.Errorf("short password: %v", err)
		}
		if _, err := svc.Activate(context.Background(), "made-up", "a long passphrase"); fieldOf(err) != "token" {
			t.Errorf("unknown token: %v", err)
		}
		name, err := svc.Activate(context.Background(), act.Token, "a long passphrase")
		if err != nil || name != "nurse1" {
			t.Fatalf("Activate = %q, %v", name, err)
		}
		if e := lastAudit(t, db); e.Action != "user.activate" || e.Actor != "nurse1" || e.Outcome != audit.Allowed {
			t.Errorf("last audit = %+v", e)
		}
		if _, err := svc.Activate(context.Background(), act.Token, "another passphrase"); kind(err) != care.Invalid || fieldOf(err) != "token" {
			t.Errorf("second use of the link: %v", err)
		}
		nurse, _ := signIn(t, svc, "nurse1", "a long passphrase", "")

		// A new link (the password reset): the password and sessions end.
		act2, err := svc.IssueActivation(as(da), "nurse1")
		if err != nil {
			t.Fatal(err)
		}
		if e := lastAudit(t, db); e.Action != "user.activation" || e.Actor != "da1" || e.SubjectID != "nurse1" {
			t.Errorf("last audit = %+v", e)
		}
		if n := count(t, db, `SELECT count(*) FROM sessions WHERE user_id = ?`, nurse.UserID); n != 0 {
			t.Errorf("%d sessions left after a new activation link", n)
		}
		if _, _, err := svc.Login(context.Background(), care.Credentials{Username: "nurse1", Password: "a long passphrase"}, care.APIToken); kind(err) != care.Unauthenticated {
			t.Errorf("old password after a reset: %v", err)
		}
		// Expired: refused.
		if _, err := db.Exec(context.Background(), `UPDATE activations SET expires_at = ?`, store.FormatTime(time.Now().Add(-time.Minute))); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Activate(context.Background(), act2.Token, "a long passphrase"); fieldOf(err) != "token" {
			t.Errorf("expired link: %v", err)
		}
		// Not one's own account, not an admin's (for a district admin), not outside.
		if _, err := svc.IssueActivation(as(da), "da1"); kind(err) != care.Conflict {
			t.Errorf("own account: %v", err)
		}
		if _, err := svc.IssueActivation(as(da), "root"); kind(err) != care.NotFound {
			t.Errorf("the admin's account: %v", err)
		}
		if _, err := svc.IssueActivation(as(da), "psy2"); kind(err) != care.NotFound {
			t.Errorf("outside the district: %v", err)
		}
	})
}

func TestAccessAnnouncements(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		accounts(t, svc)
		da, _ := signIn(t, svc, "da1", "a long password", "")
		da.MustEnrol = false
		psy1, _ := signIn(t, svc, "psy1", "a long password", "")
		psy2, _ := signIn(t, svc, "psy2", "a long password", "")

		// The demo-style accounts made by root (psy1, psy2) are announced too;
		// start counting from here.
		before := count(t, db, `SELECT count(*) FROM access_announcements`)
		if _, _, err := svc.CreateUser(as(da), care.UserInput{Username: "nurse1", FullName: "Nurse One", Role: "nurse", OrgUnit: "C1"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.CreateUser(as(da), care.UserInput{Username: "da2", FullName: "Second Admin", Role: "district_admin", OrgUnit: "S1"}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM access_announcements`); n != before+1 {
			t.Errorf("%d announcements, want %d: only the role that reads records is announced", n, before+1)
		}
		// A refused create leaves none.
		if _, _, err := svc.CreateUser(as(da), care.UserInput{Username: "nurse1", FullName: "Again", Role: "nurse", OrgUnit: "C1"}); kind(err) != care.Conflict {
			t.Fatal(err)
		}
		// The district administrator gives their colleague a clinical role.
		if _, err := svc.UpdateUser(as(da), "da2", care.UserPatch{Role: ptr("psychotherapist")}); err != nil {
			t.Fatal(err)
		}
		list, _, err := svc.AccessAnnouncements(as(psy1), care.Page{})
		if err != nil || len(list) < 2 {
			t.Fatalf("psy1 sees %+v, %v", list, err)
		}
		if n := list[0]; n.Username != "da2" || n.Change != care.ChangeRole || n.Actor != "da1" || n.ActorName != "District Admin" || n.Role != auth.Psychotherapist {
			t.Errorf("newest = %+v", n)
		}
		if n := list[1]; n.Username != "nurse1" || n.Change != care.ChangeCreated || n.OrgUnit != "C1" {
			t.Errorf("second = %+v", n)
		}
		for _, n := range list {
			if n.Username == "psy1" {
				t.Error("psy1 is shown their own account")
			}
		}
		if other, _, err := svc.AccessAnnouncements(as(psy2), care.Page{}); err != nil || len(other) != 0 {
			t.Errorf("the other district's psychiatrist sees %+v, %v", other, err)
		}
		if _, _, err := svc.AccessAnnouncements(as(da), care.Page{}); kind(err) != care.Forbidden {
			t.Errorf("district admin lists announcements: %v", err)
		}
		// Paginated.
		page1, next, err := svc.AccessAnnouncements(as(psy1), care.Page{Limit: 1})
		if err != nil || len(page1) != 1 || next == "" {
			t.Fatalf("page 1: %+v %q %v", page1, next, err)
		}
		page2, _, err := svc.AccessAnnouncements(as(psy1), care.Page{Limit: 1, Token: next})
		if err != nil || len(page2) != 1 || page2[0].ID >= page1[0].ID {
			t.Errorf("page 2: %+v %v", page2, err)
		}
		// Dismissed: gone for psy1, audited.
		if err := svc.DismissAnnouncement(as(psy2), list[0].ID); kind(err) != care.NotFound {
			t.Errorf("psy2 dismisses one outside: %v", err)
		}
		if err := svc.DismissAnnouncement(as(psy1), list[0].ID); err != nil {
			t.Fatal(err)
		}
		if e := lastAudit(t, db); e.Action != "announcement.dismiss" || e.Actor != "psy1" || e.Outcome != audit.Allowed {
			t.Errorf("last audit = %+v", e)
		}
		after, _, _ := svc.AccessAnnouncements(as(psy1), care.Page{})
		if len(after) != len(list)-1 {
			t.Errorf("after dismissing: %d, want %d", len(after), len(list)-1)
		}
		// Moving a nurse and enabling one again are announced; disabling is not.
		if _, err := svc.UpdateUser(as(da), "nurse1", care.UserPatch{OrgUnit: ptr("C2")}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateUser(as(da), "nurse1", care.UserPatch{Disabled: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateUser(as(da), "nurse1", care.UserPatch{Disabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.IssueActivation(as(da), "nurse1"); err != nil {
			t.Fatal(err)
		}
		got, _, _ := svc.AccessAnnouncements(as(psy1), care.Page{Limit: 3})
		var changes []string
		for _, n := range got {
			changes = append(changes, n.Change)
		}
		if strings.Join(changes, " ") != "activation enabled org_unit" {
			t.Errorf("changes = %v", changes)
		}
	})
}

func TestTwoFactor(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		accounts(t, svc)
		ctx := context.Background()

		// The default: administrators must enrol, and may do nothing else.
		if !svc.RequiresTOTP(auth.Admin) || !svc.RequiresTOTP(auth.DistrictAdmin) || svc.RequiresTOTP(auth.Nurse) {
			t.Error("default TOTP roles are not admin and district_admin")
		}
		da, _ := signIn(t, svc, "da1", "a long password", "")
		if !da.MustEnrol || da.TOTP {
			t.Fatalf("district admin before enrolment: %+v", da)
		}
		if care.Allow(da, care.ReadUser, care.Target{Path: "/D1/"}) {
			t.Error("the policy lets an actor who must enrol read users")
		}
		if _, _, err := svc.Users(as(da), "", care.Page{}); kind(err) != care.Forbidden {
			t.Errorf("list users before enrolment: %v", err)
		}
		if _, err := svc.ConfirmTOTP(as(da), "123456"); kind(err) != care.Conflict {
			t.Errorf("confirm before start: %v", err)
		}
		e, err := svc.StartTOTP(as(da))
		if err != nil || e.Secret == "" || !strings.HasPrefix(e.OtpauthURL, "otpauth://totp/") {
			t.Fatalf("StartTOTP = %+v, %v", e, err)
		}
		if n := count(t, db, `SELECT count(*) FROM users WHERE username = 'da1' AND (totp_pending LIKE ? OR totp_pending = '')`, "%"+e.Secret+"%"); n != 0 {
			t.Error("the TOTP secret is stored in clear")
		}
		if _, err := svc.ConfirmTOTP(as(da), "000000"); fieldOf(err) != "code" {
			t.Errorf("wrong code: %v", err)
		}
		now := time.Now()
		code, _ := totp.GenerateCode(e.Secret, now)
		codes, err := svc.ConfirmTOTP(as(da), code)
		if err != nil || len(codes) != care.RecoveryCodes {
			t.Fatalf("ConfirmTOTP = %v, %v", codes, err)
		}
		if e := lastAudit(t, db); e.Action != "account.totp.enrol" || e.Actor != "da1" {
			t.Errorf("last audit = %+v", e)
		}
		if n := count(t, db, `SELECT count(*) FROM recovery_codes WHERE code_hash = ?`, codes[0]); n != 0 {
			t.Error("a recovery code is stored in clear")
		}

		// Signing in now needs the code; the code of enrolment is used up.
		_, _, err = svc.Login(ctx, care.Credentials{Username: "da1", Password: "a long password"}, care.APIToken)
		var ce *care.Error
		if !errors.As(err, &ce) || ce.Kind != care.Unauthenticated || !ce.TOTPRequired || ce.Challenge != "" {
			t.Errorf("without a code: %v", err)
		}
		if _, _, err := svc.Login(ctx, care.Credentials{Username: "da1", Password: "a long password", TOTP: code}, care.APIToken); kind(err) != care.Unauthenticated {
			t.Errorf("the enrolment's code replayed: %v", err)
		}
		next, _ := totp.GenerateCode(e.Secret, now.Add(30*time.Second))
		da, _ = signIn(t, svc, "da1", "a long password", next)
		if da.MustEnrol || !da.TOTP {
			t.Errorf("after enrolment: %+v", da)
		}
		if _, _, err := svc.Login(ctx, care.Credentials{Username: "da1", Password: "a long password", TOTP: next}, care.APIToken); kind(err) != care.Unauthenticated {
			t.Errorf("a code replayed: %v", err)
		}
		// A recovery code works once, in any case and with or without its dash.
		signIn(t, svc, "da1", "a long password", strings.ToUpper(strings.ReplaceAll(codes[3], "-", "")))
		if _, _, err := svc.Login(ctx, care.Credentials{Username: "da1", Password: "a long password", TOTP: codes[3]}, care.APIToken); kind(err) != care.Unauthenticated {
			t.Errorf("a recovery code used twice: %v", err)
		}
		if n, _ := svc.RecoveryCodesLeft(as(da)); n != care.RecoveryCodes-1 {
			t.Errorf("%d recovery codes left", n)
		}
		// The web's second step: a challenge, then the code.
		_, _, err = svc.Login(ctx, care.Credentials{Username: "da1", Password: "a long password"}, care.WebSession)
		if !errors.As(err, &ce) || ce.Challenge == "" {
			t.Fatalf("web sign-in without a code: %v", err)
		}
		if _, _, err := svc.LoginCode(ctx, ce.Challenge, "999999"); kind(err) != care.Unauthenticated {
			t.Errorf("wrong code at the second step: %v", err)
		}
		if _, _, err := svc.LoginCode(ctx, ce.Challenge, codes[4]); err != nil {
			t.Errorf("second step with a recovery code: %v", err)
		}
		if _, _, err := svc.LoginCode(ctx, ce.Challenge, codes[5]); kind(err) != care.Unauthenticated {
			t.Errorf("a challenge used twice: %v", err)
		}
		// A role that requires it cannot turn it off; another can.
		if err := svc.DisableTOTP(as(da), codes[6]); kind(err) != care.Conflict {
			t.Errorf("district admin disables: %v", err)
		}
		psy, _ := signIn(t, svc, "psy1", "a long password", "")
		if psy.MustEnrol {
			t.Error("a psychiatrist must enrol by default")
		}
		pe, err := svc.StartTOTP(as(psy))
		if err != nil {
			t.Fatal(err)
		}
		pc, _ := totp.GenerateCode(pe.Secret, now)
		if _, err := svc.ConfirmTOTP(as(psy), pc); err != nil {
			t.Fatal(err)
		}
		psy.TOTP = true
		if err := svc.DisableTOTP(as(psy), "000000"); fieldOf(err) != "code" {
			t.Errorf("disable with a wrong code: %v", err)
		}
		pc2, _ := totp.GenerateCode(pe.Secret, now.Add(30*time.Second))
		if err := svc.DisableTOTP(as(psy), pc2); err != nil {
			t.Errorf("disable: %v", err)
		}
		signIn(t, svc, "psy1", "a long password", "")

		// Configured roles: none.
		svc.SetTOTPRoles(nil)
		if a, _ := signIn(t, svc, "root", "a long password", ""); a.MustEnrol {
			t.Error("admin must enrol with no TOTP roles configured")
		}
		if roles, err := care.ParseRoles("admin, nurse"); err != nil || len(roles) != 2 {
			t.Errorf("ParseRoles = %v, %v", roles, err)
		}
		if _, err := care.ParseRoles("admin,boss"); err == nil {
			t.Error("ParseRoles accepts an unknown role")
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		accounts(t, svc)
		svc.SetTOTPRoles(nil)
		firefox := care.WithRequest(context.Background(), care.RequestInfo{ClientAddr: "192.0.2.7",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"})
		tok1, _, err := svc.Login(firefox, care.Credentials{Username: "psy1", Password: "a long password"}, care.WebSession)
		if err != nil {
			t.Fatal(err)
		}
		a, tok2 := signIn(t, svc, "psy1", "a long password", "")
		list, _, err := svc.MySessions(as(a), care.Page{})
		if err != nil || len(list) != 2 {
			t.Fatalf("MySessions = %+v, %v", list, err)
		}
		var web care.SessionInfo
		for _, s := range list {
			if s.Kind == care.WebSession {
				web = s
			} else if !s.Current {
				t.Error("the API token used is not marked current")
			}
			if s.ID == "" || s.ID == tok1 || s.ID == tok2 || strings.Contains(s.ID, tok1) {
				t.Errorf("session id %q", s.ID)
			}
		}
		if web.Device != "Firefox on Linux" || web.ClientAddr != "192.0.2.7" || web.Current {
			t.Errorf("web session = %+v", web)
		}
		p1, next, err := svc.MySessions(as(a), care.Page{Limit: 1})
		if err != nil || len(p1) != 1 || next == "" {
			t.Fatalf("page 1: %v %q %v", p1, next, err)
		}
		if p2, _, err := svc.MySessions(as(a), care.Page{Limit: 1, Token: next}); err != nil || len(p2) != 1 || p2[0].ID == p1[0].ID {
			t.Errorf("page 2: %v %v", p2, err)
		}
		// Another's session cannot be ended by its id.
		psy2, _ := signIn(t, svc, "psy2", "a long password", "")
		if err := svc.EndSession(as(psy2), web.ID); kind(err) != care.NotFound {
			t.Errorf("ending another's session: %v", err)
		}
		if err := svc.EndSession(as(a), web.ID); err != nil {
			t.Fatal(err)
		}
		if e := lastAudit(t, db); e.Action != "session.end" || e.Actor != "psy1" || e.Outcome != audit.Allowed {
			t.Errorf("last audit = %+v", e)
		}
		if _, err := svc.ResolveSession(context.Background(), tok1, care.WebSession); kind(err) != care.Unauthenticated {
			t.Errorf("an ended session still works: %v", err)
		}
		// An administrator ends them all; a psychiatrist cannot.
		if _, err := svc.EndUserSessions(as(psy2), "psy1"); kind(err) != care.NotFound {
			t.Errorf("psychiatrist ends another's sessions: %v", err)
		}
		da, _ := signIn(t, svc, "da1", "a long password", "")
		if _, err := svc.EndUserSessions(as(da), "psy2"); kind(err) != care.NotFound {
			t.Errorf("district admin ends sessions outside: %v", err)
		}
		n, err := svc.EndUserSessions(as(da), "psy1")
		if err != nil || n != 1 {
			t.Errorf("EndUserSessions = %d, %v", n, err)
		}
		if e := lastAudit(t, db); e.Action != "user.sessions.end" || e.SubjectID != "psy1" {
			t.Errorf("last audit = %+v", e)
		}
		if _, err := svc.ResolveSession(context.Background(), tok2, care.APIToken); kind(err) != care.Unauthenticated {
			t.Errorf("a token still works after all sessions ended: %v", err)
		}
	})
}

func TestDevice(t *testing.T) {
	for _, tt := range []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"curl/8.5.0", "curl"},
		{"Go-http-client/1.1", "Go"},
		{"", "unknown"},
	} {
		if got := care.Device(tt.ua); got != tt.want {
			t.Errorf("Device(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}
