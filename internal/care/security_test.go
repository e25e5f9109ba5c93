package care_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"kith/internal/audit"
	"kith/internal/auth"
	"kith/internal/care"
	"kith/internal/clinical"
	"kith/internal/kpi"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

var (
	// manager3 and doctor3 work in a second district, D2.
	manager3 = &care.Actor{Username: "mgr3", FullName: "Manager Three", Role: auth.CommunityManager, UnitCode: "C3", UnitPath: "/D2/S3/C3/"}
	doctor3  = &care.Actor{Username: "doc3", FullName: "Doctor Three", Role: auth.Psychiatrist, UnitCode: "D2", UnitPath: "/D2/"}
	doctor1  = &care.Actor{Username: "doc1", FullName: "Doctor One", Role: auth.Psychiatrist, UnitCode: "D1", UnitPath: "/D1/"}
	dadmin1  = &care.Actor{Username: "dadmin1", Role: auth.DistrictAdmin, UnitCode: "D1", UnitPath: "/D1/"}
	dadmin2  = &care.Actor{Username: "dadmin2", Role: auth.DistrictAdmin, UnitCode: "D2", UnitPath: "/D2/"}
	care3    = &care.Actor{Username: "police3", Role: auth.CareGroup, UnitCode: "C3", UnitPath: "/D2/S3/C3/"}
)

// twoDistricts builds tree's D1 and a second district D2 → S3 → C3.
func twoDistricts(t *testing.T, svc *care.Service) {
	t.Helper()
	tree(t, svc)
	for _, u := range []care.UnitInput{
		{Code: "D2", Name: "District 2", Level: "district"},
		{Code: "S3", Name: "Street 3", Level: "street", ParentCode: "D2"},
		{Code: "C3", Name: "Community 3", Level: "community", ParentCode: "S3"},
	} {
		if _, err := svc.CreateUnit(as(adminActor), u); err != nil {
			t.Fatal(err)
		}
	}
}

func problemOf(err error) *care.Error {
	var ce *care.Error
	errors.As(err, &ce)
	return ce
}

// Probe finding 1: registration must not tell whether someone is on the
// register outside the caller's jurisdiction.
func TestRegistrationIsNoOracle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		twoDistricts(t, svc)
		nid := validID("1980-05-17", 1)
		p := register(t, svc, manager, care.PatientInput{Name: "王芳", NationalID: nid})

		// Same national ID from another district: 409, no id, and an entry in D1's log.
		_, err := svc.RegisterPatient(as(manager3), care.PatientInput{Name: "王芳", Sex: "female", BirthDate: "1980-05-17",
			NationalID: nid, OrgUnit: "C3"})
		ce := problemOf(err)
		if ce == nil || ce.Kind != care.Conflict || ce.ExistingID != "" || strings.Contains(ce.Error(), strconv.FormatInt(p.ID, 10)) {
			t.Fatalf("national ID known elsewhere: %+v", ce)
		}
		if !strings.Contains(ce.Message, "district") {
			t.Errorf("message %q does not send the caller to the district", ce.Message)
		}
		list, _, err := svc.AuditLog(as(dadmin1), care.AuditQuery{SubjectID: strconv.FormatInt(p.ID, 10)}, care.Page{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range list {
			found = found || (e.Action == "patient.register_collision" && e.OrgPath == "/D1/S1/C1/" && e.Actor == "mgr3")
		}
		if !found {
			t.Errorf("D1's administrator does not see the probe: %+v", list)
		}
		// Same name and birth date in the same district but outside the
		// caller's jurisdiction: no id either.
		_, err = svc.RegisterPatient(as(manager2), care.PatientInput{Name: "王芳", Sex: "female", BirthDate: "1980-05-17", OrgUnit: "C2"})
		if ce := problemOf(err); ce == nil || ce.Kind != care.Conflict || ce.ExistingID != "" {
			t.Errorf("name and birth date known outside the jurisdiction: %+v", ce)
		}
		// Inside the jurisdiction the id is still given.
		_, err = svc.RegisterPatient(as(manager), care.PatientInput{Name: "王芳", Sex: "female", BirthDate: "1980-05-17",
			NationalID: nid, OrgUnit: "C1"})
		if ce := problemOf(err); ce == nil || ce.ExistingID != strconv.FormatInt(p.ID, 10) {
			t.Errorf("inside the jurisdiction: %+v", ce)
		}

		// A username taken in another district: no existing_id.
		if _, err := svc.CreateUserWithPassword(as(adminActor), care.UserInput{Username: "zhang", FullName: "Zhang", Password: "a long password",
			Role: "nurse", OrgUnit: "C1"}); err != nil {
			t.Fatal(err)
		}
		_, _, err = svc.CreateUser(as(dadmin2), care.UserInput{Username: "zhang", FullName: "Zhang",
			Role: "nurse", OrgUnit: "C3"})
		if ce := problemOf(err); ce == nil || ce.Kind != care.Conflict || ce.ExistingID != "" || fieldOf(err) != "username" ||
			strings.Contains(ce.Error(), "C1") {
			t.Errorf("username taken elsewhere: %+v", ce)
		}
		// The probe is recorded where the account is: D1's administrator
		// sees it, with the prober and the unit probed from.
		collisions := func(a *care.Actor) []audit.Entry {
			t.Helper()
			all, _, err := svc.AuditLog(as(a), care.AuditQuery{Kind: "user"}, care.Page{})
			if err != nil {
				t.Fatal(err)
			}
			var out []audit.Entry
			for _, e := range all {
				if e.Action == "user.create_collision" {
					out = append(out, e)
				}
			}
			return out
		}
		if list := collisions(dadmin1); len(list) != 1 || list[0].Actor != "dadmin2" || list[0].OrgPath != "/D1/S1/C1/" || list[0].SubjectID != "zhang" ||
			!strings.Contains(list[0].Detail, "C3") {
			t.Errorf("D1's administrator sees the username probe as %+v", list)
		}
		if list := collisions(dadmin2); len(list) != 0 {
			t.Errorf("the prober's district sees the other district's account: %+v", list)
		}
		// A username taken inside the caller's own district: refused, no
		// collision entry (the caller may see the account anyway).
		_, _, err = svc.CreateUser(as(dadmin1), care.UserInput{Username: "zhang", FullName: "Zhang", Role: "nurse", OrgUnit: "C1"})
		if ce := problemOf(err); ce == nil || ce.Kind != care.Conflict || fieldOf(err) != "username" {
			t.Errorf("username taken in the same district: %+v", ce)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'user.create_collision'`); n != 1 {
			t.Errorf("%d collision entries, want 1", n)
		}
	})
}

// Probe finding 2: one cleaning of every free text.
func TestCleanText(t *testing.T) {
	for _, tt := range []struct {
		in        string
		multiline bool
		want      string
		problem   care.TextProblem
	}{
		{"  王小明 ", false, "王小明", care.TextOK},
		{"e\u0301", false, "é", care.TextOK},
		{"\u200b\u200d\ufeff", false, "", care.TextOK},
		{" \u200b ", false, "", care.TextOK},
		{"abc\u202edef", false, "", care.TextBidi},
		{"abc\u2067def", true, "", care.TextBidi},
		{"a\x00b", true, "", care.TextControl},
		{"a\x1bb", true, "", care.TextControl},
		{"a\u0085b", true, "", care.TextControl},
		{"line 1\nline 2\tx", true, "line 1\nline 2\tx", care.TextOK},
		{"line 1\r\nline 2", true, "line 1\nline 2", care.TextOK},
		{"line 1\nline 2", false, "", care.TextLineBreak},
		{"a\tb", false, "", care.TextLineBreak},
		{"a\xffb", false, "", care.TextInvalidUTF8},
		{"\xed\xa0\x80", false, "", care.TextInvalidUTF8}, // a lone surrogate
	} {
		got, p := care.CleanText(tt.in, tt.multiline)
		if got != tt.want || p != tt.problem {
			t.Errorf("CleanText(%q, %v) = %q, %q; want %q, %q", tt.in, tt.multiline, got, p, tt.want, tt.problem)
		}
	}
}

func TestCleanTextOnEveryWrite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		for _, name := range []string{"\u200b\u200b", "王\u202e芳", "王\x00芳", "王\x1b芳", "王\n芳"} {
			_, err := svc.RegisterPatient(as(manager), care.PatientInput{Name: name, Sex: "male", BirthDate: "1980-01-01", OrgUnit: "C1"})
			if kind(err) != care.Invalid || fieldOf(err) != "name" {
				t.Errorf("patient name %q: %v", name, err)
			}
			_, err = svc.CreateUnit(as(adminActor), care.UnitInput{Code: "X1", Name: name, Level: "district"})
			if kind(err) != care.Invalid || fieldOf(err) != "name" {
				t.Errorf("unit name %q: %v", name, err)
			}
		}
		p := register(t, svc, manager, care.PatientInput{Name: "e\u0301 ", Address: "1 Road\u200b"})
		if p.Name != "é" || p.Address != "1 Road" {
			t.Errorf("stored %q, %q: want NFC and trimmed", p.Name, p.Address)
		}
		in := form("2025-02-01", 1)
		in.Notes = "two\nlines"
		if _, err := svc.RecordFollowUp(as(manager), p.ID, in); err != nil {
			t.Errorf("a note of two lines: %v", err)
		}
		in.Notes = "bad \u202e note"
		if _, err := svc.RecordFollowUp(as(manager), p.ID, in); fieldOf(err) != "notes" {
			t.Errorf("a note with a bidi override: %v", err)
		}
	})
}

// Probe finding 3: a caller without the permission is refused before the
// body is validated.
func TestRefuseBeforeValidate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		twoDistricts(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "李四"})
		for _, tt := range []struct {
			name string
			a    *care.Actor
			call func(context.Context) error
			want care.Kind
		}{
			{"care group registers", careMan, func(ctx context.Context) error {
				_, err := svc.RegisterPatient(ctx, care.PatientInput{})
				return err
			}, care.Forbidden},
			{"other district registers in C1", manager3, func(ctx context.Context) error {
				_, err := svc.RegisterPatient(ctx, care.PatientInput{OrgUnit: "C1", Name: "\u202e"})
				return err
			}, care.Forbidden},
			{"nurse creates a unit", manager, func(ctx context.Context) error {
				_, err := svc.CreateUnit(ctx, care.UnitInput{})
				return err
			}, care.Forbidden},
			{"manager creates a user", manager, func(ctx context.Context) error {
				_, _, err := svc.CreateUser(ctx, care.UserInput{})
				return err
			}, care.Forbidden},
			{"other district updates", manager3, func(ctx context.Context) error {
				_, err := svc.UpdatePatient(ctx, p.ID, care.PatientPatch{Name: ptr("")})
				return err
			}, care.NotFound},
			{"other district follows up", manager3, func(ctx context.Context) error {
				_, err := svc.RecordFollowUp(ctx, p.ID, care.FollowUpInput{})
				return err
			}, care.NotFound},
			{"other district transfers", manager3, func(ctx context.Context) error {
				_, err := svc.TransferPatient(ctx, p.ID, care.TransferInput{})
				return err
			}, care.NotFound},
			{"other district records an emergency", manager3, func(ctx context.Context) error {
				_, err := svc.RecordEmergency(ctx, p.ID, care.EmergencyInput{})
				return err
			}, care.NotFound},
			{"other district assesses", manager3, func(ctx context.Context) error {
				_, err := svc.Assess(ctx, p.ID, care.AssessmentInput{})
				return err
			}, care.NotFound},
			{"care group breaks the glass", care3, func(ctx context.Context) error {
				_, err := svc.BreakGlass(ctx, p.ID, care.GlassInput{})
				return err
			}, care.Forbidden},
			{"admin breaks the glass", adminActor, func(ctx context.Context) error {
				_, err := svc.BreakGlass(ctx, p.ID, care.GlassInput{})
				return err
			}, care.Forbidden},
		} {
			if err := tt.call(as(tt.a)); kind(err) != tt.want {
				t.Errorf("%s: %v, want kind %d", tt.name, err, tt.want)
			}
		}
	})
}

// Probe finding 5: dates from outside are bounded.
func TestDateBounds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		tree(t, svc)
		clock(svc, "2026-11-25")
		for _, asOf := range []string{"9999-12-31", "0001-01-01", "1899-12-31", "2032-01-01"} {
			if _, _, err := svc.Worklist(as(manager), care.WorklistQuery{AsOf: asOf}, care.Page{}); fieldOf(err) != "as_of" {
				t.Errorf("as_of %s: %v", asOf, err)
			}
		}
		if _, _, err := svc.Worklist(as(manager), care.WorklistQuery{AsOf: "2027-01-01"}, care.Page{}); err != nil {
			t.Errorf("as_of next year: %v", err)
		}
		for _, s := range []string{"9999", "0001-Q1", "1000-01"} {
			per, err := kpi.ParsePeriod(s)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Figures(as(doctor1), "D1", per, kpi.DefaultTargets()); fieldOf(err) != "period" {
				t.Errorf("figures for %s: %v", s, err)
			}
		}
		if _, err := svc.FigureTrend(as(doctor1), "D1", clinical.Date{Year: 9999, Month: 1, Day: 1}, 12, kpi.DefaultTargets()); fieldOf(err) != "period" {
			t.Errorf("trend ending 9999: %v", err)
		}
		if _, _, err := svc.AuditLog(as(dadmin1), care.AuditQuery{From: "0001-01-01"}, care.Page{}); fieldOf(err) != "from" {
			t.Errorf("audit from year 1: %v", err)
		}
	})
}

func TestParseID(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1", 1, true}, {"42", 42, true}, {"9223372036854775807", 9223372036854775807, true},
		{"", 0, false}, {"0", 0, false}, {"01", 0, false}, {"+1", 0, false}, {"-1", 0, false}, {" 1", 0, false},
		{"1 ", 0, false}, {"1.0", 0, false}, {"1e3", 0, false}, {"0x1", 0, false}, {"9223372036854775808", 0, false},
		{"١", 0, false},
	} {
		got, ok := care.ParseID(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseID(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// Probe finding 6: failures from one address lock that address out, not
// the account's owner elsewhere; a slower limit per username holds
// across addresses.
func TestLockoutByAddress(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		if _, err := svc.CreateAdmin(context.Background(), "root", "Root", "a long password"); err != nil {
			t.Fatal(err)
		}
		from := func(addr string) context.Context {
			return care.WithRequest(context.Background(), care.RequestInfo{ClientAddr: addr})
		}
		wrong := care.Credentials{Username: "root", Password: "wrong password"}
		right := care.Credentials{Username: "root", Password: "a long password"}
		for i := 0; i < 5; i++ {
			svc.Login(from("203.0.113.9"), wrong, care.APIToken)
		}
		if _, _, err := svc.Login(from("203.0.113.9"), right, care.APIToken); kind(err) != care.TooManyRequests {
			t.Errorf("the guessing address after 5 failures: %v", err)
		}
		if _, _, err := svc.Login(from("198.51.100.7"), right, care.APIToken); err != nil {
			t.Errorf("the owner from another address is locked out: %v", err)
		}
		// The address is counted under its keyed hash, never stored.
		if n := count(t, db, `SELECT count(*) FROM login_failures WHERE username LIKE ?`, "%203.0.113.9%"); n != 0 {
			t.Errorf("login_failures holds the client address in %d rows", n)
		}
		if n := count(t, db, `SELECT count(*) FROM login_failures WHERE username LIKE 'a:% root'`); n != 1 {
			t.Errorf("login_failures has %d rows for root from one address, want 1", n)
		}
		// Failures spread over many addresses meet the global limit.
		for i := 0; i < 60; i++ {
			svc.Login(from("192.0.2."+strconv.Itoa(i)), wrong, care.APIToken)
		}
		if _, _, err := svc.Login(from("198.51.100.7"), right, care.APIToken); kind(err) != care.TooManyRequests {
			t.Errorf("after 60 failures from 60 addresses: %v", err)
		}
	})
}

// Capability 7: break the glass.
func TestBreakGlass(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		twoDistricts(t, svc)
		p := register(t, svc, manager, care.PatientInput{Name: "赵六"})
		other := register(t, svc, manager, care.PatientInput{Name: "钱七"})

		if _, err := svc.Patient(as(doctor3), p.ID); kind(err) != care.NotFound {
			t.Fatalf("before the grant: %v", err)
		}
		if _, err := svc.BreakGlass(as(doctor3), p.ID, care.GlassInput{}); fieldOf(err) != "reason" {
			t.Errorf("without a reason: %v", err)
		}
		if _, err := svc.BreakGlass(as(doctor3), p.ID, care.GlassInput{Reason: "other"}); fieldOf(err) != "note" {
			t.Errorf("other without a note: %v", err)
		}
		if _, err := svc.BreakGlass(as(doctor3), 99999, care.GlassInput{Reason: "emergency"}); kind(err) != care.NotFound {
			t.Errorf("no such patient: %v", err)
		}
		if _, err := svc.BreakGlass(as(manager), p.ID, care.GlassInput{Reason: "emergency"}); kind(err) != care.Conflict {
			t.Errorf("inside the jurisdiction: %v", err)
		}
		g, err := svc.BreakGlass(as(doctor3), p.ID, care.GlassInput{Reason: "emergency", Note: "brought in by police"})
		if err != nil {
			t.Fatal(err)
		}
		if d := g.ExpiresAt.Sub(g.CreatedAt); d != 3*time.Hour {
			t.Errorf("grant lasts %v", d)
		}
		got, err := svc.Patient(as(doctor3), p.ID)
		if err != nil || got.Name != "赵六" || got.View != "full" {
			t.Fatalf("read under the grant: %+v, %v", got, err)
		}
		if e := lastAudit(t, db); e.Action != "patient.read" || e.Outcome != audit.Allowed {
			t.Errorf("last audit = %+v", e)
		}
		var detail string
		db.QueryRow(context.Background(), `SELECT detail FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&detail)
		if detail != "break-glass emergency" {
			t.Errorf("read under the grant audited with detail %q", detail)
		}
		if _, err := svc.Patient(as(doctor3), other.ID); kind(err) != care.NotFound {
			t.Errorf("another patient under the grant: %v", err)
		}
		if _, err := svc.RecordFollowUp(as(doctor3), p.ID, form("2025-02-01", 1)); kind(err) != care.NotFound {
			t.Errorf("a write under the grant: %v", err)
		}
		// The record shows it; the district's psychiatrists and administrator see it.
		rec, err := svc.PatientRecord(as(manager), p.ID)
		if err != nil || len(rec.BreakGlass) != 1 || rec.BreakGlass[0].FullName != "doc3" || rec.BreakGlass[0].Reason != "emergency" {
			t.Errorf("record's break-glass list: %+v, %v", rec, err)
		}
		for _, a := range []*care.Actor{doctor1, dadmin1} {
			list, err := svc.RecentGlass(as(a))
			if err != nil || len(list) != 1 || list[0].PatientID != p.ID || list[0].Username != "doc3" {
				t.Errorf("%s's list: %+v, %v", a.Username, list, err)
			}
		}
		if list, err := svc.RecentGlass(as(dadmin2)); err != nil || len(list) != 0 {
			t.Errorf("the other district's list: %+v, %v", list, err)
		}
		if _, err := svc.RecentGlass(as(manager)); kind(err) != care.Forbidden {
			t.Errorf("a community manager's list: %v", err)
		}
		// After the grant expires the record is closed again.
		svc.SetGlassFor(time.Millisecond)
		if _, err := svc.BreakGlass(as(manager3), other.ID, care.GlassInput{Reason: "referral"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if _, err := svc.Patient(as(manager3), other.ID); kind(err) != care.NotFound {
			t.Errorf("after the grant expired: %v", err)
		}
	})
}

// Capability 12: the patient's access report.
func TestAccessReport(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		twoDistricts(t, svc)
		for _, u := range []care.UserInput{
			{Username: "mgr", FullName: "Manager One", Role: "community_manager", OrgUnit: "C1"},
			{Username: "doc3", FullName: "Doctor Three", Role: "psychiatrist", OrgUnit: "D2"},
		} {
			u.Password = "a long password"
			if _, err := svc.CreateUserWithPassword(as(adminActor), u); err != nil {
				t.Fatal(err)
			}
		}
		p := register(t, svc, manager, care.PatientInput{Name: "孙八"})
		if _, err := svc.RecordFollowUp(as(manager), p.ID, form("2025-02-01", 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.BreakGlass(as(doctor3), p.ID, care.GlassInput{Reason: "crisis_call", Note: "hotline"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PatientRecord(as(doctor3), p.ID); err != nil {
			t.Fatal(err)
		}
		list, _, err := svc.AccessReport(as(manager), p.ID, care.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		glass := 0
		for _, x := range list {
			actions = append(actions, x.Action)
			if x.BreakGlass {
				glass++
				if x.FullName != "Doctor Three" || x.Role != auth.Psychiatrist || x.Reason != "crisis_call" || x.Note != "hotline" {
					t.Errorf("break-glass line: %+v", x)
				}
			}
		}
		want := "patient.read patient.break_glass followup.create patient.read patient.create"
		if got := strings.Join(actions, " "); got != want {
			t.Errorf("actions = %s, want %s", got, want)
		}
		if glass != 2 || list[len(list)-1].FullName != "Manager One" || list[len(list)-1].What != "registered the patient" {
			t.Errorf("report: %+v", list)
		}
		// Reading the report is itself recorded, and is in the next report.
		list, _, _ = svc.AccessReport(as(manager), p.ID, care.Page{Limit: 1})
		if len(list) != 1 || list[0].Action != "patient.access_report" {
			t.Errorf("newest line: %+v", list)
		}
		for _, a := range []*care.Actor{doctor3, careMan, social} {
			if _, _, err := svc.AccessReport(as(a), p.ID, care.Page{}); kind(err) != care.NotFound {
				t.Errorf("%s asks for the report: %v", a.Username, err)
			}
			if _, _, err := svc.FullAccessReport(as(a), p.ID); kind(err) != care.NotFound {
				t.Errorf("%s asks for the whole report: %v", a.Username, err)
			}
		}

		// The whole report, to print: every line in one read, past a page.
		for range care.MaxLimit {
			if _, err := svc.Patient(as(manager), p.ID); err != nil {
				t.Fatal(err)
			}
		}
		_, next, err := svc.AccessReport(as(manager), p.ID, care.Page{Limit: care.MaxLimit})
		if err != nil || next == "" {
			t.Fatalf("a first page: next %q, %v", next, err)
		}
		n := count(t, db, `SELECT count(*) FROM audit_log WHERE subject_type = 'patient' AND subject_id = ?`, strconv.FormatInt(p.ID, 10))
		all, more, err := svc.FullAccessReport(as(manager), p.ID)
		// (Whether a report lists its own reading depends on when the
		// engine writes the audit entry; the next report lists it.)
		if err != nil || more || len(all) < n || len(all) > n+1 || all[len(all)-1].Action != "patient.create" ||
			all[0].Action != "patient.access_report" {
			t.Errorf("whole report: %d lines (audit %d), more %v, %v", len(all), n, more, err)
		}
	})
}
