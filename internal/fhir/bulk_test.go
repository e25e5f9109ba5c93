package fhir_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"kith/internal/demo"
	"kith/internal/fhir"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// raw sends a request and returns the status, headers and body as they
// came: the status URL and the files are not FHIR resources.
func (e *env) raw(method, path, token string) (int, http.Header, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, strings.TrimPrefix(path, e.srv.URL), nil)
	req.URL, _ = req.URL.Parse(e.srv.URL + strings.TrimPrefix(path, e.srv.URL))
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Prefer", "respond-async")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body
}

type bulkManifest struct {
	TransactionTime     string `json:"transactionTime"`
	Request             string `json:"request"`
	RequiresAccessToken bool   `json:"requiresAccessToken"`
	Output              []struct {
		Type  string `json:"type"`
		URL   string `json:"url"`
		Count int    `json:"count"`
	} `json:"output"`
	Error []any `json:"error"`
}

// export kicks off an export of unit as token's user and polls it until
// it is done; it returns the status URL and the manifest.
func (e *env) export(unit, query, token string) (string, bulkManifest) {
	e.t.Helper()
	status, h, body := e.raw("GET", "/fhir/R4/Group/"+unit+"/$export"+query, token)
	if status != http.StatusAccepted || h.Get("Content-Location") == "" {
		e.t.Fatalf("kick-off of %s: %d %s", unit, status, body)
	}
	e.validate("kick-off", body)
	loc := h.Get("Content-Location")
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, h, body = e.raw("GET", loc, token)
		if status == http.StatusOK {
			break
		}
		if status != http.StatusAccepted || !strings.HasSuffix(h.Get("X-Progress"), " patients") {
			e.t.Fatalf("status of %s: %d %q %s", unit, status, h.Get("X-Progress"), body)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the export of %s did not finish: %s", unit, h.Get("X-Progress"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Errorf("manifest Content-Type %q", ct)
	}
	var m bulkManifest
	if err := json.Unmarshal(body, &m); err != nil {
		e.t.Fatalf("manifest: %v %s", err, body)
	}
	if !m.RequiresAccessToken || m.Error == nil || m.TransactionTime == "" || !strings.Contains(m.Request, "/Group/"+unit+"/$export") {
		e.t.Errorf("manifest: %s", body)
	}
	return loc, m
}

// download fetches each file of a manifest, validates every line and
// returns the resources by type.
func (e *env) download(m bulkManifest, token string) map[string][]map[string]any {
	e.t.Helper()
	out := map[string][]map[string]any{}
	for _, o := range m.Output {
		status, h, body := e.raw("GET", o.URL, token)
		if status != 200 || h.Get("Content-Type") != fhir.NDJSON {
			e.t.Fatalf("%s: %d %q %s", o.URL, status, h.Get("Content-Type"), body)
		}
		sc := bufio.NewScanner(strings.NewReader(string(body)))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			e.validate(o.Type+" line", line)
			var res map[string]any
			json.Unmarshal(line, &res)
			if res["resourceType"] != o.Type {
				e.t.Errorf("%s holds a %v", o.URL, res["resourceType"])
			}
			out[o.Type] = append(out[o.Type], res)
		}
		if len(out[o.Type]) != o.Count {
			e.t.Errorf("%s: %d lines, the manifest says %d", o.Type, len(out[o.Type]), o.Count)
		}
	}
	return out
}

func TestBulkExport(t *testing.T) {
	fhir.ExportPageSize = 3 // several pages from a small unit
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		t.Cleanup(fhir.WaitExports) // before the server and database close
		ctx := context.Background()
		if _, err := demo.Patients(ctx, db, e.svc, 40, time.Now(), 5); err != nil {
			t.Fatal(err)
		}
		if err := demo.Activity(ctx, e.svc, time.Now()); err != nil {
			t.Fatal(err)
		}
		mgr, mgr2, cg := e.token("manager"), e.token("manager2"), e.token("caregroup")

		// The CapabilityStatement lists the operation.
		meta := e.do("GET", "/fhir/R4/metadata", "", nil)
		if !strings.Contains(meta.raw, `"name":"export"`) || !strings.Contains(meta.raw, "group-export") {
			t.Errorf("metadata does not list $export: %s", meta.raw)
		}

		// The patients of C0101 the manager may see, through the search.
		want := map[string]bool{}
		for next := "/fhir/R4/Patient?organization=Organization/C0101&_count=200"; next != ""; {
			res := e.do("GET", next, mgr, nil)
			for _, p := range entries(res) {
				want[p["id"].(string)] = true
			}
			next = e.link(res, "next")
		}
		if len(want) < 4 {
			t.Fatalf("C0101 has %d patients; the test wants several pages", len(want))
		}
		before := e.count("audit_log WHERE action = 'patient.export'")

		loc, m := e.export("C0101", "?_outputFormat=application/fhir%2Bndjson", mgr)
		files := e.download(m, mgr)
		got := map[string]bool{}
		for _, p := range files["Patient"] {
			got[p["id"].(string)] = true
		}
		if len(got) != len(want) || len(files["Patient"]) != len(want) {
			t.Errorf("export holds %d patients (%d lines), the search %d", len(got), len(files["Patient"]), len(want))
		}
		for id := range want {
			if !got[id] {
				t.Errorf("patient %s is missing from the export", id)
			}
		}
		// National IDs are masked in the export as on every read (issue
		// 15, item 11): a file that leaves the server shows none whole.
		masked := 0
		for _, p := range files["Patient"] {
			ids, _ := p["identifier"].([]any)
			for _, x := range ids {
				id, _ := x.(map[string]any)
				if id["system"] != "urn:kith:fhir:national-id" {
					continue
				}
				if v, _ := id["value"].(string); strings.Count(v, "*") != 8 {
					t.Errorf("patient %v exported with national ID %q", p["id"], v)
				}
				masked++
			}
		}
		if masked == 0 {
			t.Error("no exported patient has a national ID: the test shows nothing")
		}
		// Each patient's encounters are those the search gives.
		encounters := 0
		for id := range want {
			encounters += len(entries(e.do("GET", "/fhir/R4/Encounter?patient="+id+"&_count=200", mgr, nil)))
		}
		if len(files["Encounter"]) != encounters || encounters == 0 {
			t.Errorf("export holds %d encounters, the searches %d", len(files["Encounter"]), encounters)
		}
		// (ServiceRequest: a district this small has no referrals; see TestFHIRFamilyTeamPlanReferral.)
		for _, typ := range []string{"Condition", "Observation", "RelatedPerson", "CareTeam", "CarePlan", "Goal"} {
			if len(files[typ]) == 0 {
				t.Errorf("the export has no %s", typ)
			}
		}
		// Every patient read is audited, one entry each.
		if n := e.count("audit_log WHERE action = 'patient.export'") - before; n != len(want) {
			t.Errorf("%d patient.export audit entries, want %d", n, len(want))
		}
		if n := e.count("audit_log WHERE action = 'export.finish' AND detail LIKE 'done: %'"); n != 1 {
			t.Errorf("%d export.finish audit entries, want 1", n)
		}

		// Another user can neither poll nor download, even with the URLs.
		if status, _, _ := e.raw("GET", loc, mgr2); status != 404 {
			t.Errorf("another user's poll: %d", status)
		}
		if status, _, body := e.raw("GET", m.Output[0].URL, mgr2); status != 404 || !strings.Contains(string(body), "OperationOutcome") {
			t.Errorf("another user's download: %d %s", status, body)
		}
		if status, _, _ := e.raw("GET", m.Output[0].URL, ""); status != 401 {
			t.Errorf("download without a token: %d", status)
		}

		// The care-and-help group's export is its redacted view.
		_, cm := e.export("C0101", "", cg)
		cfiles := e.download(cm, cg)
		if len(cfiles["Patient"]) != len(want) {
			t.Errorf("care-and-help export: %d patients, want %d", len(cfiles["Patient"]), len(want))
		}
		for _, typ := range []string{"Condition", "QuestionnaireResponse", "Flag", "CarePlan", "Goal"} {
			if len(cfiles[typ]) != 0 {
				t.Errorf("care-and-help export holds %d %s", len(cfiles[typ]), typ)
			}
		}
		for _, p := range cfiles["Patient"] {
			if p["birthDate"] != nil || p["identifier"] != nil {
				t.Errorf("care-and-help export shows %v", p)
			}
		}

		// _type limits the files.
		_, tm := e.export("C0101", "?_type=Patient,Encounter", mgr)
		for _, o := range tm.Output {
			if o.Type != "Patient" && o.Type != "Encounter" {
				t.Errorf("_type=Patient,Encounter gave %s", o.Type)
			}
		}

		// A unit outside the caller's jurisdiction, or none: 404 as an
		// OperationOutcome, audited as denied.
		for _, unit := range []string{"C0101", "NOPE"} {
			status, _, body := e.raw("GET", "/fhir/R4/Group/"+unit+"/$export", mgr2)
			e.validate("refused kick-off", body)
			if status != 404 || !strings.Contains(string(body), `"OperationOutcome"`) {
				t.Errorf("manager2 exporting %s: %d %s", unit, status, body)
			}
		}
		if n := e.count("audit_log WHERE action = 'export.start' AND outcome = 'denied'"); n != 2 {
			t.Errorf("%d denied export.start entries, want 2", n)
		}
		// Without Prefer: respond-async, with a parameter not taken: 400.
		if res := e.do("GET", "/fhir/R4/Group/C0101/$export", mgr, nil); res.status != 400 {
			t.Errorf("no Prefer: %d %s", res.status, res.raw)
		}
		if status, _, body := e.raw("GET", "/fhir/R4/Group/C0101/$export?_type=Practitioner", mgr); status != 400 {
			t.Errorf("_type=Practitioner: %d %s", status, body)
		}
		if status, _, _ := e.raw("GET", "/fhir/R4/Group/C0101/$export", ""); status != 401 {
			t.Errorf("kick-off without a token: %d", status)
		}

		// Cancel: 202, and the job and its files are gone.
		if status, _, body := e.raw("DELETE", loc, mgr2); status != 404 {
			t.Errorf("another user's cancel: %d %s", status, body)
		}
		if status, _, body := e.raw("DELETE", loc, mgr); status != 202 {
			t.Fatalf("cancel: %d %s", status, body)
		}
		id := loc[strings.LastIndex(loc, "/")+1:]
		if n := e.count("export_chunks WHERE job_id = '" + id + "'"); n != 0 {
			t.Errorf("%d chunks left after cancel", n)
		}
		if status, _, _ := e.raw("GET", loc, mgr); status != 404 {
			t.Errorf("poll after cancel: %d", status)
		}
		if status, _, _ := e.raw("GET", m.Output[0].URL, mgr); status != 404 {
			t.Errorf("download after cancel: %d", status)
		}
		// A running export cancelled stops at its next page.
		_, h, _ := e.raw("GET", "/fhir/R4/Group/C0101/$export", mgr)
		running := h.Get("Content-Location")
		if status, _, body := e.raw("DELETE", running, mgr); status != 202 {
			t.Fatalf("cancel while running: %d %s", status, body)
		}
		fhir.WaitExports()
		id = running[strings.LastIndex(running, "/")+1:]
		if n := e.count("export_chunks WHERE job_id = '" + id + "'"); n != 0 {
			t.Errorf("%d chunks left after cancelling a running export", n)
		}

		// One running export per user: the next kick-off is told to wait.
		now := store.FormatTime(time.Now())
		if _, err := db.Exec(ctx, `INSERT INTO export_jobs (id, owner, session_id, org_unit, types, since, request, state, cursor,
			patients_done, patients_total, error, holder, heartbeat, transaction_time, created_at, keep_until)
			VALUES ('busy', 'caregroup', '', 'C0101', 'Patient', '', '', 'running', 0, 0, 1, '', 'elsewhere', ?, ?, ?, ?)`,
			now, now, now, store.FormatTime(time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if status, h, body := e.raw("GET", "/fhir/R4/Group/C0101/$export", cg); status != 429 || h.Get("Retry-After") == "" {
			t.Errorf("a second running export: %d %s", status, body)
		}

		// An export whose server stopped is taken over by another, from
		// its cursor; it writes each patient once.
		if _, err := db.Exec(ctx, `DELETE FROM export_jobs WHERE id = 'busy'`); err != nil {
			t.Fatal(err)
		}
		fhir.ExportPageSize = 100
		_, h, _ = e.raw("GET", "/fhir/R4/Group/C0101/$export?_type=Patient", mgr)
		resumed := h.Get("Content-Location")
		rid := resumed[strings.LastIndex(resumed, "/")+1:]
		fhir.WaitExports()
		// Make it look as if its server had stopped after the first page:
		// the patients after it not yet written.
		var firstPage int64
		if err := db.QueryRow(ctx, `SELECT min(id) FROM patients WHERE org_path LIKE '%/C0101/%'`).Scan(&firstPage); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `DELETE FROM export_chunks WHERE job_id = ?`, rid); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO export_chunks (job_id, type, seq, lines, body) VALUES (?, 'Patient', ?, 1, ?)`,
			rid, firstPage, `{"resourceType":"Patient","id":"`+strconv.FormatInt(firstPage, 10)+`"}`+"\n"); err != nil {
			t.Fatal(err)
		}
		old := store.FormatTime(time.Now().Add(-time.Hour))
		if _, err := db.Exec(ctx, `UPDATE export_jobs SET state = 'running', holder = 'gone', heartbeat = ?, cursor = ?,
			patients_done = 1 WHERE id = ?`, old, firstPage, rid); err != nil {
			t.Fatal(err)
		}
		fhir.ExportPageSize = 3
		if err := fhir.ResumeOnce(ctx, e.svc); err != nil {
			t.Fatal(err)
		}
		if err := fhir.ResumeOnce(ctx, e.svc); err != nil { // nothing left to claim
			t.Fatal(err)
		}
		fhir.WaitExports()
		status, _, body := e.raw("GET", resumed, mgr)
		var rm bulkManifest
		json.Unmarshal(body, &rm)
		if status != 200 || len(rm.Output) != 1 || rm.Output[0].Count != len(want) {
			t.Errorf("resumed export: %d %s", status, body)
		} else {
			seen := map[string]bool{}
			for _, p := range e.download(rm, mgr)["Patient"] {
				if id := p["id"].(string); seen[id] || !want[id] {
					t.Errorf("resumed export: patient %s twice or not of C0101", id)
				} else {
					seen[id] = true
				}
			}
		}

		// An export whose token is revoked stops, and says why.
		tmp := e.token("manager")
		_, h, _ = e.raw("GET", "/fhir/R4/Group/C0101/$export", tmp)
		revoked := h.Get("Content-Location")
		fhir.WaitExports()
		rid = revoked[strings.LastIndex(revoked, "/")+1:]
		if _, err := db.Exec(ctx, `UPDATE export_jobs SET state = 'running', holder = 'gone', heartbeat = ? WHERE id = ?`, old, rid); err != nil {
			t.Fatal(err)
		}
		if res := e.do("DELETE", "/api/v1/auth/token", tmp, nil); res.status >= 300 {
			t.Fatalf("sign out: %d %s", res.status, res.raw)
		}
		fhir.ResumeOnce(ctx, e.svc)
		fhir.WaitExports()
		if status, _, body := e.raw("GET", revoked, mgr); status != 500 || !strings.Contains(string(body), "revoked") {
			t.Errorf("export with a revoked token: %d %s", status, body)
		}

		// Files are kept for the time set, then swept.
		e.svc.SetExportKeep(time.Millisecond)
		defer e.svc.SetExportKeep(0)
		_, h, _ = e.raw("GET", "/fhir/R4/Group/C0201/$export", mgr2)
		expired := h.Get("Content-Location")
		time.Sleep(5 * time.Millisecond)
		fhir.WaitExports()
		if status, _, _ := e.raw("GET", expired, mgr2); status != 404 {
			t.Errorf("poll of an expired export: %d", status)
		}
		if n, err := e.svc.SweepExports(ctx); err != nil || n != 1 {
			t.Errorf("sweep: %d, %v", n, err)
		}
		if n := e.count("export_jobs WHERE owner = 'manager2'") + e.count("export_chunks WHERE job_id = '"+
			expired[strings.LastIndex(expired, "/")+1:]+"'"); n != 0 {
			t.Errorf("%d rows left after the sweep", n)
		}
	})
}
