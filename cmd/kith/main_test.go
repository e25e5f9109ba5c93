package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"kith/internal/demo"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// The crash test runs this test binary as the kith command.
func TestMain(m *testing.M) {
	if os.Getenv("KITH_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runKith(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out)
	return out.String(), err
}

func forEachEngine(t *testing.T, f func(t *testing.T, e store.Engine)) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) { f(t, e) })
	}
}

// TestAuditVerifyNamesTamperedEntry: an intruder with database access edits
// one audit row; "kith audit verify" exits 1 and names it.
func TestAuditVerifyNamesTamperedEntry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e store.Engine) {
		dsn, data := storetest.DSN(t, e), t.TempDir()
		out, err := runKith(t, "", "demo", "-db", dsn, "-data", data)
		if err != nil {
			t.Fatal(err)
		}
		// The demo says which accounts must enrol a second factor, and how.
		if !strings.Contains(out, "admin and district must enrol on first sign-in") || !strings.Contains(out, "authenticator app") {
			t.Errorf("demo output lacks the two-factor note:\n%s", out)
		}
		out, err = runKith(t, "", "audit", "verify", "-db", dsn, "-data", data)
		if err != nil || !strings.Contains(out, "intact") {
			t.Fatalf("verify of an untouched log: %q, %v", out, err)
		}
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		guard := []string{`DROP TRIGGER audit_log_no_update`}
		if e == store.Postgres {
			guard = []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`}
		}
		for _, q := range append(guard, `UPDATE audit_log SET outcome = 'denied' WHERE seq = 5`) {
			if _, err := db.Exec(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
		out, err = runKith(t, "", "audit", "verify", "-db", dsn, "-data", data)
		t.Logf("verify after tampering: %s", out)
		if exitCode(err) != 1 || !strings.Contains(fmt.Sprint(err), "entry 5") {
			t.Errorf("verify after tampering: exit %d, %v; want exit 1 naming entry 5", exitCode(err), err)
		}
	})
}

func TestAdminCreate(t *testing.T) {
	dsn, data := storetest.DSN(t, store.SQLite), t.TempDir()
	if _, err := runKith(t, "short\n", "admin", "create", "-username", "root", "-db", dsn, "-data", data); err == nil ||
		!strings.Contains(err.Error(), "password") {
		t.Errorf("short password: %v", err)
	}
	out, err := runKith(t, "a long enough password\n", "admin", "create", "-username", "root", "-db", dsn, "-data", data)
	if err != nil || !strings.Contains(out, `created administrator "root"`) {
		t.Fatalf("admin create: %q, %v", out, err)
	}
	if _, err := runKith(t, "a long enough password\n", "admin", "create", "-username", "root", "-db", dsn, "-data", data); err == nil {
		t.Error("a second admin with the same username was created")
	}
	if _, err := runKith(t, "", "admin", "create", "-db", dsn); exitCode(err) != 2 {
		t.Errorf("missing -username: exit %d", exitCode(err))
	}
	out, err = runKith(t, "", "migrate", "status", "-db", dsn, "-data", data)
	if err != nil || !strings.Contains(out, "applied") {
		t.Errorf("migrate status: %q, %v", out, err)
	}
	if _, err := runKith(t, "", "nonsense"); exitCode(err) != 2 {
		t.Errorf("unknown command: exit %d", exitCode(err))
	}
}

// TestAcknowledgedWriteSurvivesKill starts kith, creates an org unit
// through the API, kills the process with SIGKILL as soon as the 201 arrives,
// starts it again and finds the unit.
func TestAcknowledgedWriteSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server twice")
	}
	forEachEngine(t, func(t *testing.T, e store.Engine) {
		dsn, data := storetest.DSN(t, e), t.TempDir()
		base, kill := startKith(t, "serve", "-demo", "-db", dsn, "-data", data, "-addr", "127.0.0.1:0", "-totp-roles", "none")
		tok := apiToken(t, base)
		res := apiCall(t, "POST", base+"/api/v1/org-units", tok, `{"code":"C0199","name":"崩溃测试社区","parent_code":"S01","level":"community","population":1}`)
		if res.StatusCode != 201 {
			t.Fatalf("create: %d", res.StatusCode)
		}
		kill()
		base, kill = startKith(t, "serve", "-db", dsn, "-data", data, "-addr", "127.0.0.1:0", "-totp-roles", "none")
		defer kill()
		res = apiCall(t, "GET", base+"/api/v1/org-units/C0199", apiToken(t, base), "")
		var u struct{ Name string }
		json.NewDecoder(res.Body).Decode(&u)
		if res.StatusCode != 200 || u.Name != "崩溃测试社区" {
			t.Errorf("after kill -9: %d %q, want the unit back", res.StatusCode, u.Name)
		}
	})
}

// startKith runs the test binary as kith with args and returns its base URL
// and a function that kills it with SIGKILL.
func startKith(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "KITH_TEST_AS_MAIN=1", "KITH_LOG_LEVEL=warn")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill := func() {
		cmd.Process.Kill() // SIGKILL: no shutdown, no flush
		cmd.Wait()
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Kith is running at "); ok {
				found <- strings.TrimSuffix(rest, "/")
			}
		}
	}()
	select {
	case base := <-found:
		return base, kill
	case <-time.After(60 * time.Second):
		kill()
		t.Fatal("kith did not start within 60 s")
	}
	return "", nil
}

func apiToken(t *testing.T, base string) string {
	t.Helper()
	res := apiCall(t, "POST", base+"/api/v1/auth/token", "", `{"username":"admin","password":"`+demo.Password+`"}`)
	var v struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil || v.Token == "" {
		t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	return v.Token
}

func apiCall(t *testing.T, method, url, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// TestBenchImportAndFHIR runs the benchmark command's import mode on a
// small generated registry (every generated row must pass the importer's
// checks) and its FHIR searches, as the README's figures are measured.
func TestBenchImportAndFHIR(t *testing.T) {
	dsn, data := storetest.DSN(t, store.SQLite), t.TempDir()
	if out, err := runKith(t, "", "demo", "-patients", "0", "-db", dsn, "-data", data); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	out, err := runKith(t, "", "bench", "-import", "30", "-import-followups", "3", "-db", dsn, "-data", data)
	if err != nil {
		t.Fatalf("bench -import: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`kith import \(CSV, with checks and rules\) +120 `).MatchString(out) || !strings.Contains(out, "fhirbase") {
		t.Errorf("bench -import did not import 120 records beside fhirbase's figure:\n%s", out)
	}
	out, err = runKith(t, "", "bench", "-n", "3", "-fhir", "-db", dsn, "-data", data)
	if err != nil {
		t.Fatalf("bench -fhir: %v\n%s", err, out)
	}
	for _, want := range []string{"FHIR Patient?name=", "FHIR Encounter?patient="} {
		if !strings.Contains(out, want) {
			t.Errorf("bench -fhir output lacks %q:\n%s", want, out)
		}
	}
}
