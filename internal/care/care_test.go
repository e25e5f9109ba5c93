package care_test

import (
	"context"
	"errors"
	"testing"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/secrets"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func newService(t *testing.T, db *store.DB) *care.Service {
	t.Helper()
	keys, err := secrets.Load(testKey, "")
	if err != nil {
		t.Fatal(err)
	}
	svc := care.New(db, keys)
	t.Cleanup(svc.Drain) // before the database closes
	return svc
}

var adminActor = &care.Actor{Username: "root", Role: auth.Admin}

func as(a *care.Actor) context.Context { return care.WithActor(context.Background(), a) }

// tree builds D1 → S1, S2 → C1 (under S1), C2 (under S2).
func tree(t *testing.T, svc *care.Service) {
	t.Helper()
	for _, u := range []care.UnitInput{
		{Code: "D1", Name: "District", Level: "district", Population: 1000},
		{Code: "S1", Name: "Street 1", Level: "street", ParentCode: "D1"},
		{Code: "S2", Name: "Street 2", Level: "street", ParentCode: "D1"},
		{Code: "C1", Name: "安宁社区", Level: "community", ParentCode: "S1", Population: 400},
		{Code: "C2", Name: "Community 2", Level: "community", ParentCode: "S2"},
	} {
		if _, err := svc.CreateUnit(as(adminActor), u); err != nil {
			t.Fatalf("create %s: %v", u.Code, err)
		}
	}
}

func kind(err error) care.Kind { return care.ErrorKind(err) }

func fieldOf(err error) string {
	var ce *care.Error
	if errors.As(err, &ce) && len(ce.Fields) > 0 {
		return ce.Fields[0].Field
	}
	return ""
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func lastAudit(t *testing.T, db *store.DB) audit.Entry {
	t.Helper()
	var e audit.Entry
	var outcome string
	if err := db.QueryRow(context.Background(), `SELECT actor, action, subject_id, outcome FROM audit_log ORDER BY seq DESC LIMIT 1`).
		Scan(&e.Actor, &e.Action, &e.SubjectID, &outcome); err != nil {
		t.Fatal(err)
	}
	e.Outcome = audit.Outcome(outcome)
	return e
}

func TestUnits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		ctx := as(adminActor)

		c1, err := svc.Unit(ctx, "C1")
		if err != nil || c1.Path != "/D1/S1/C1/" || c1.ParentCode != "S1" || c1.Name != "安宁社区" {
			t.Fatalf("Unit(C1) = %+v, %v", c1, err)
		}
		bad := []struct {
			name  string
			in    care.UnitInput
			kind  care.Kind
			field string
		}{
			{"duplicate code", care.UnitInput{Code: "C1", Name: "x", Level: "community", ParentCode: "S1"}, care.Conflict, ""},
			{"unknown parent", care.UnitInput{Code: "C9", Name: "x", Level: "community", ParentCode: "S9"}, care.Invalid, "parent_code"},
			{"community under community", care.UnitInput{Code: "C9", Name: "x", Level: "community", ParentCode: "C1"}, care.Invalid, "parent_code"},
			{"district with parent", care.UnitInput{Code: "D9", Name: "x", Level: "district", ParentCode: "D1"}, care.Invalid, "parent_code"},
			{"street without parent", care.UnitInput{Code: "S9", Name: "x", Level: "street"}, care.Invalid, "parent_code"},
			{"bad level", care.UnitInput{Code: "X9", Name: "x", Level: "province"}, care.Invalid, "level"},
			{"bad code", care.UnitInput{Code: "a/b", Name: "x", Level: "district"}, care.Invalid, "code"},
			{"empty name", care.UnitInput{Code: "D9", Name: " ", Level: "district"}, care.Invalid, "name"},
			{"negative population", care.UnitInput{Code: "D9", Name: "x", Level: "district", Population: -1}, care.Invalid, "population"},
		}
		for _, tt := range bad {
			before := count(t, db, `SELECT count(*) FROM org_units`)
			_, err := svc.CreateUnit(ctx, tt.in)
			if kind(err) != tt.kind || fieldOf(err) != tt.field {
				t.Errorf("%s: err = %v (kind %d, field %q), want kind %d field %q", tt.name, err, kind(err), fieldOf(err), tt.kind, tt.field)
			}
			if after := count(t, db, `SELECT count(*) FROM org_units`); after != before {
				t.Errorf("%s: %d units after a refused create, want %d", tt.name, after, before)
			}
			if e := lastAudit(t, db); e.Outcome != audit.Failed || e.Action != "unit.create" {
				t.Errorf("%s: last audit entry = %+v, want a failed unit.create", tt.name, e)
			}
		}

		// Moves: a cycle, a wrong level, an unknown parent are refused; a
		// street moves with its communities.
		for _, tt := range []struct {
			code, parent string
		}{{"S1", "C1"}, {"D1", "C1"}, {"C1", "D1"}, {"C1", "C2"}, {"C1", "NOPE"}} {
			p := tt.parent
			if _, err := svc.UpdateUnit(ctx, tt.code, care.UnitPatch{ParentCode: &p}); kind(err) != care.Invalid || fieldOf(err) != "parent_code" {
				t.Errorf("move %s under %s: err = %v, want invalid parent_code", tt.code, tt.parent, err)
			}
		}
		if _, err := svc.CreateUnit(ctx, care.UnitInput{Code: "D2", Name: "Other", Level: "district"}); err != nil {
			t.Fatal(err)
		}
		d2 := "D2"
		s1, err := svc.UpdateUnit(ctx, "S1", care.UnitPatch{ParentCode: &d2})
		if err != nil || s1.Path != "/D2/S1/" {
			t.Fatalf("move S1 to D2 = %+v, %v", s1, err)
		}
		if c1, _ := svc.Unit(ctx, "C1"); c1.Path != "/D2/S1/C1/" {
			t.Errorf("C1 path after its street moved = %q, want /D2/S1/C1/", c1.Path)
		}
		lvl := "street"
		if _, err := svc.UpdateUnit(ctx, "C1", care.UnitPatch{Level: &lvl}); fieldOf(err) != "level" {
			t.Errorf("level change: err = %v", err)
		}
		pop := int64(555)
		if u, err := svc.UpdateUnit(ctx, "C1", care.UnitPatch{Population: &pop}); err != nil || u.Population != 555 {
			t.Errorf("population change = %+v, %v", u, err)
		}
	})
}

// TestMovedUnitTakesItsRecords: a community moved to another street takes
// its patients along: the new street's staff see them and the old
// street's no longer do; the audit log keeps where things happened.
func TestMovedUnitTakesItsRecords(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2025-04-15")
		p := register(t, svc, manager, care.PatientInput{Name: "P", RegisteredOn: "2024-01-01", Diagnoses: []care.Diagnosis{{Code: "schizophrenia"}}})
		street1 := &care.Actor{Username: "sw1", Role: auth.SocialWorker, UnitCode: "S1", UnitPath: "/D1/S1/"}
		street2 := &care.Actor{Username: "sw2", Role: auth.SocialWorker, UnitCode: "S2", UnitPath: "/D1/S2/"}
		sees := func(a *care.Actor) bool {
			_, err := svc.Patient(as(a), p.ID)
			if err != nil && kind(err) != care.NotFound {
				t.Fatal(err)
			}
			return err == nil
		}
		if !sees(street1) || sees(street2) {
			t.Fatal("before the move: the patient is not seen by C1's street alone")
		}
		logged := count(t, db, `SELECT count(*) FROM audit_log WHERE org_path = '/D1/S1/C1/'`)
		if _, err := svc.UpdateUnit(as(adminActor), "C1", care.UnitPatch{ParentCode: ptr("S2")}); err != nil {
			t.Fatal(err)
		}
		if sees(street1) || !sees(street2) {
			t.Errorf("after C1 moved to S2: seen by S1 %v, by S2 %v; want S2 only", sees(street1), sees(street2))
		}
		if n := count(t, db, `SELECT count(*) FROM patients WHERE org_path = '/D1/S2/C1/'`); n != 1 {
			t.Errorf("%d patients at C1's new path, want 1", n)
		}
		// (The move's own entry is there too.)
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE org_path = '/D1/S1/C1/'`); n < logged || logged == 0 {
			t.Errorf("%d audit entries at C1's old path after the move, %d before; want them kept", n, logged)
		}
	})
}

func TestUnitsJurisdiction(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		manager := &care.Actor{Username: "m", Role: auth.CommunityManager, UnitCode: "C1", UnitPath: "/D1/S1/C1/"}
		units, next, err := svc.Units(as(manager), "", care.Page{})
		if err != nil || len(units) != 1 || units[0].Code != "C1" || next != "" {
			t.Errorf("manager's units = %+v, %q, %v; want only C1", units, next, err)
		}
		if _, err := svc.Unit(as(manager), "C2"); kind(err) != care.NotFound {
			t.Errorf("manager reads C2: err = %v, want not found", err)
		}
		name := "renamed"
		if _, err := svc.UpdateUnit(as(manager), "C1", care.UnitPatch{Name: &name}); kind(err) != care.Forbidden {
			t.Errorf("manager renames own unit: err = %v, want forbidden", err)
		}
		if e := lastAudit(t, db); e.Outcome != audit.Denied || e.Actor != "m" {
			t.Errorf("last audit = %+v, want denied for m", e)
		}
		da := &care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "S2", UnitPath: "/D1/S2/"}
		if _, err := svc.UpdateUnit(as(da), "C1", care.UnitPatch{Name: &name}); kind(err) != care.NotFound {
			t.Errorf("district admin of S2 renames C1: err = %v, want not found", err)
		}
		if _, err := svc.UpdateUnit(as(da), "C2", care.UnitPatch{Name: &name}); err != nil {
			t.Errorf("district admin of S2 renames C2: %v", err)
		}
		if _, _, err := svc.Units(context.Background(), "", care.Page{}); kind(err) != care.Unauthenticated {
			t.Errorf("no actor: err = %v", err)
		}
	})
}

func TestPagination(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		ctx := as(adminActor)
		var got []string
		p := care.Page{Limit: 2}
		for i := 0; i < 10; i++ {
			units, next, err := svc.Units(ctx, "", p)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range units {
				got = append(got, u.Code)
			}
			if next == "" {
				break
			}
			p.Token = next
		}
		want := []string{"D1", "S1", "C1", "S2", "C2"}
		if len(got) != len(want) {
			t.Fatalf("paged through %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("paged through %v, want %v", got, want)
			}
		}
		for _, bad := range []care.Page{{Limit: 201}, {Limit: -1}, {Token: "%%%"}} {
			if _, _, err := svc.Units(ctx, "", bad); kind(err) != care.Invalid {
				t.Errorf("page %+v: err = %v, want invalid", bad, err)
			}
		}
	})
}

func TestUsers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		if _, err := svc.CreateAdmin(context.Background(), "root", "Root", "a long password"); err != nil {
			t.Fatal(err)
		}
		ctx := as(adminActor)
		mk := func(ctx context.Context, username, role, unit string) error {
			_, err := svc.CreateUserWithPassword(ctx, care.UserInput{Username: username, Password: "0123456789", FullName: "名 " + username, Role: role, OrgUnit: unit})
			return err
		}
		if err := mk(ctx, "DA1", "district_admin", "D1"); err != nil {
			t.Fatal(err)
		}
		if u, err := svc.User(ctx, "da1"); err != nil || u.Role != auth.DistrictAdmin || u.OrgUnit != "D1" {
			t.Fatalf("User(da1) = %+v, %v (usernames are case-insensitive)", u, err)
		}
		if err := mk(ctx, "da1", "nurse", "C1"); kind(err) != care.Conflict {
			t.Errorf("duplicate username: %v", err)
		}
		_, err := svc.CreateUserWithPassword(ctx, care.UserInput{Username: "shorty", Password: "123456789", FullName: "x", Role: "nurse", OrgUnit: "C1"})
		if kind(err) != care.Invalid || fieldOf(err) != "password" {
			t.Errorf("9-character password: %v", err)
		}
		if err := mk(ctx, "nounit", "nurse", ""); fieldOf(err) != "org_unit" {
			t.Errorf("nurse without unit: %v", err)
		}
		if n := count(t, db, `SELECT count(*) FROM users`); n != 2 {
			t.Errorf("%d users after refused creates, want 2", n)
		}

		da := &care.Actor{Username: "da1", Role: auth.DistrictAdmin, UnitCode: "S1", UnitPath: "/D1/S1/"}
		if err := mk(as(da), "nurse1", "nurse", "C1"); err != nil {
			t.Errorf("district admin creates a nurse inside: %v", err)
		}
		if err := mk(as(da), "nurse2", "nurse", "C2"); kind(err) != care.Forbidden {
			t.Errorf("district admin creates a nurse outside: %v", err)
		}
		if err := mk(as(da), "admin2", "admin", "C1"); kind(err) != care.Forbidden {
			t.Errorf("district admin creates an admin: %v", err)
		}
		nurse := &care.Actor{Username: "nurse1", Role: auth.Nurse, UnitCode: "C1", UnitPath: "/D1/S1/C1/"}
		if err := mk(as(nurse), "nurse3", "nurse", "C1"); kind(err) != care.Forbidden {
			t.Errorf("nurse creates a user: %v", err)
		}
		if _, _, err := svc.Users(as(nurse), "", care.Page{}); kind(err) != care.Forbidden {
			t.Errorf("nurse lists users: %v", err)
		}
		users, _, err := svc.Users(as(da), "", care.Page{})
		if err != nil || len(users) != 1 || users[0].Username != "nurse1" {
			t.Errorf("district admin of S1 lists %+v, %v; want nurse1 only", users, err)
		}

		// Disabling ends sessions and blocks sign-in.
		tok, _, err := svc.Login(context.Background(), care.Credentials{Username: "nurse1", Password: "0123456789"}, care.APIToken)
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		if _, err := svc.UpdateUser(as(da), "nurse1", care.UserPatch{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ResolveSession(context.Background(), tok, care.APIToken); kind(err) != care.Unauthenticated {
			t.Errorf("token of a disabled user still works: %v", err)
		}
		if _, _, err := svc.Login(context.Background(), care.Credentials{Username: "nurse1", Password: "0123456789"}, care.APIToken); kind(err) != care.Unauthenticated {
			t.Errorf("disabled user signs in: %v", err)
		}
		// Guards: no self-disable, never leave no admin.
		root := &care.Actor{Username: "root", Role: auth.Admin}
		if _, err := svc.UpdateUser(as(root), "root", care.UserPatch{Disabled: &yes}); kind(err) != care.Conflict {
			t.Errorf("admin disables self: %v", err)
		}
		role := "nurse"
		if _, err := svc.UpdateUser(as(da), "nurse1", care.UserPatch{Role: &role, OrgUnit: ptr("C2")}); kind(err) != care.Forbidden {
			t.Errorf("district admin moves a nurse out of their district: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestLoginAndLockout(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		ctx := context.Background()
		if _, err := svc.CreateAdmin(ctx, "root", "Root", "a long password"); err != nil {
			t.Fatal(err)
		}
		tok, exp, err := svc.Login(ctx, care.Credentials{Username: "ROOT", Password: "a long password"}, care.WebSession)
		if err != nil || tok == "" || exp.IsZero() {
			t.Fatalf("Login = %q, %v, %v", tok, exp, err)
		}
		a, err := svc.ResolveSession(ctx, tok, care.WebSession)
		if err != nil || a.Username != "root" {
			t.Fatalf("ResolveSession = %+v, %v", a, err)
		}
		if _, err := svc.ResolveSession(ctx, tok, care.APIToken); kind(err) != care.Unauthenticated {
			t.Errorf("a web session used as an API token: %v", err)
		}
		if n := count(t, db, `SELECT count(*) FROM sessions WHERE token_hash = ?`, tok); n != 0 {
			t.Error("the raw token is stored")
		}
		if err := svc.Logout(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ResolveSession(ctx, tok, care.WebSession); kind(err) != care.Unauthenticated {
			t.Errorf("session after logout: %v", err)
		}

		// Unknown user and wrong password: the same answer.
		_, _, e1 := svc.Login(ctx, care.Credentials{Username: "root", Password: "wrong password"}, care.APIToken)
		_, _, e2 := svc.Login(ctx, care.Credentials{Username: "nobody", Password: "wrong password"}, care.APIToken)
		if kind(e1) != care.Unauthenticated || e1.Error() != e2.Error() || kind(e2) != kind(e1) {
			t.Errorf("wrong password = %v, unknown user = %v: want the same", e1, e2)
		}
		// Five failures in a row lock the username, even with the right password.
		for i := 0; i < 4; i++ {
			svc.Login(ctx, care.Credentials{Username: "root", Password: "wrong password"}, care.APIToken)
		}
		_, _, err = svc.Login(ctx, care.Credentials{Username: "root", Password: "a long password"}, care.APIToken)
		var ce *care.Error
		if !errors.As(err, &ce) || ce.Kind != care.TooManyRequests || ce.RetryAfter <= 0 {
			t.Errorf("after 5 failures: err = %v, want too many requests with a retry time", err)
		}
		if e := lastAudit(t, db); e.Action != "auth.login" || e.Outcome != audit.Denied {
			t.Errorf("last audit = %+v", e)
		}
		if _, _, err := svc.Login(ctx, care.Credentials{Username: "", Password: ""}, care.APIToken); kind(err) != care.Invalid {
			t.Errorf("empty credentials: %v", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		ctx := context.Background()
		svc.CreateAdmin(ctx, "root", "Root", "a long password")
		t1, _, _ := svc.Login(ctx, care.Credentials{Username: "root", Password: "a long password"}, care.WebSession)
		t2, _, _ := svc.Login(ctx, care.Credentials{Username: "root", Password: "a long password"}, care.APIToken)
		a, _ := svc.ResolveSession(ctx, t1, care.WebSession)
		actx := care.WithActor(ctx, a)
		if err := svc.ChangePassword(actx, "wrong", "another long one", t1); fieldOf(err) != "current_password" {
			t.Errorf("wrong current password: %v", err)
		}
		if err := svc.ChangePassword(actx, "a long password", "short", t1); fieldOf(err) != "new_password" {
			t.Errorf("short new password: %v", err)
		}
		if err := svc.ChangePassword(actx, "a long password", "another long one", t1); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ResolveSession(ctx, t1, care.WebSession); err != nil {
			t.Errorf("the session that changed the password ended: %v", err)
		}
		if _, err := svc.ResolveSession(ctx, t2, care.APIToken); kind(err) != care.Unauthenticated {
			t.Errorf("another session survived a password change: %v", err)
		}
		if _, _, err := svc.Login(ctx, care.Credentials{Username: "root", Password: "another long one"}, care.WebSession); err != nil {
			t.Errorf("sign-in with the new password: %v", err)
		}
	})
}

func TestAuditLogScope(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		da := &care.Actor{Username: "da", Role: auth.DistrictAdmin, UnitCode: "S2", UnitPath: "/D1/S2/"}
		entries, _, err := svc.AuditLog(as(da), care.AuditQuery{}, care.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].SubjectID != "C2" || entries[1].SubjectID != "S2" {
			t.Errorf("district admin of S2 sees %d entries (%+v), want the creations of C2 and S2 only", len(entries), entries)
		}
		all, _, err := svc.AuditLog(as(adminActor), care.AuditQuery{SubjectID: "C1"}, care.Page{})
		if err != nil || len(all) != 1 || all[0].Action != "unit.create" {
			t.Errorf("admin filter by subject C1 = %+v, %v", all, err)
		}
		nurse := &care.Actor{Username: "n", Role: auth.Nurse, UnitPath: "/D1/S1/C1/"}
		if _, _, err := svc.AuditLog(as(nurse), care.AuditQuery{}, care.Page{}); kind(err) != care.Forbidden {
			t.Errorf("nurse reads audit: %v", err)
		}
		if _, _, err := svc.AuditLog(as(adminActor), care.AuditQuery{From: "2026-02-30"}, care.Page{}); fieldOf(err) != "from" {
			t.Errorf("impossible date: %v", err)
		}
		if _, err := audit.Seal(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		if n, err := audit.Verify(context.Background(), db); err != nil || n == 0 {
			t.Errorf("Verify = %d, %v", n, err)
		}
	})
}
