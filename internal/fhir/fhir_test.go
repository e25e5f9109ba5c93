package fhir_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	"github.com/pquerna/otp/totp"

	"kith/internal/care"
	"kith/internal/demo"
	"kith/internal/fhir"
	"kith/internal/secrets"
	"kith/internal/server"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// env is a running server on a fresh database holding the demo district,
// with a FHIR R4 validator: every FHIR response the test reads is checked
// against the R4 base definitions, and the resource types seen are kept so
// that the test can require one of each type the server emits.
type env struct {
	t         *testing.T
	db        *store.DB
	svc       *care.Service
	srv       *httptest.Server
	recovery  map[string][]string
	validator *jsonformat.Unmarshaller
	seen      map[string]bool
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	keys, err := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
	if err != nil {
		t.Fatal(err)
	}
	svc := care.New(db, keys)
	if _, err := demo.Seed(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(svc, server.Options{MaxBodyBytes: 64 << 10}))
	t.Cleanup(srv.Close)
	v, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, svc: svc, srv: srv, recovery: map[string][]string{}, validator: v, seen: map[string]bool{}}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request; a FHIR response (any under /fhir/) must validate.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	json.Unmarshal(raw, &out.body)
	if strings.HasPrefix(path, fhir.Base) {
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, fhir.ContentType) {
			e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
		e.validate(method+" "+path, raw)
	}
	return out
}

// validate checks a FHIR resource (a Bundle's entries with it) against the
// R4 base definitions and notes its type and its entries' types.
func (e *env) validate(what string, raw []byte) {
	e.t.Helper()
	if _, err := e.validator.Unmarshal(raw); err != nil {
		e.t.Errorf("%s: not valid FHIR R4: %v\n%s", what, err, raw)
		return
	}
	var res struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	json.Unmarshal(raw, &res)
	// The base definitions do not check what a reference points to: every
	// one must be Type/id of a type this server serves.
	var doc any
	json.Unmarshal(raw, &doc)
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "reference" {
					typ, _, _ := strings.Cut(s, "/")
					if !referenceRE.MatchString(s) || !served[typ] {
						e.t.Errorf("%s: reference %q is not Type/id of a type this server serves", what, s)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	e.seen[res.ResourceType] = true
	for _, en := range res.Entry {
		e.seen[en.Resource.ResourceType] = true
	}
}

var referenceRE = regexp.MustCompile(`^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$`)

// served are the resource types of the CapabilityStatement.
var served = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range fhir.Capability().Rest[0].Resource {
		m[r.Type] = true
	}
	return m
}()

// token signs username in through the API, enrolling a second factor for
// the roles that need one, as api's tests do.
func (e *env) token(username string) string {
	e.t.Helper()
	creds := map[string]string{"username": username, "password": demo.Password}
	if codes := e.recovery[username]; len(codes) > 0 {
		creds["totp"], e.recovery[username] = codes[0], codes[1:]
	}
	res := e.do("POST", "/api/v1/auth/token", "", creds)
	if res.status != 200 {
		e.t.Fatalf("token for %s: %d %s", username, res.status, res.raw)
	}
	tok := res.body["token"].(string)
	if _, ok := creds["totp"]; !ok {
		if me := e.do("GET", "/api/v1/users", tok, nil); me.status == 403 && me.body["type"] == "urn:kith:problem:enrol-totp" {
			res := e.do("POST", "/api/v1/account/totp", tok, nil)
			secret, _ := res.body["secret"].(string)
			code, err := totp.GenerateCode(secret, time.Now())
			if err != nil {
				e.t.Fatal(err)
			}
			res = e.do("POST", "/api/v1/account/totp/confirm", tok, map[string]string{"code": code})
			list, _ := res.body["recovery_codes"].([]any)
			for _, c := range list {
				e.recovery[username] = append(e.recovery[username], c.(string))
			}
		}
	}
	return tok
}

func (e *env) count(table string) int {
	var n int
	if err := e.db.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// day is a date offset days from today in the installation's time zone,
// the zone in which the server reads dates (in UTC it lags a day from 16:00).
func day(offset int) string {
	return time.Now().In(care.DefaultZone()).AddDate(0, 0, offset).Format("2006-01-02")
}

// entries returns the resources of a Bundle.
func entries(r response) []map[string]any {
	var out []map[string]any
	list, _ := r.body["entry"].([]any)
	for _, en := range list {
		out = append(out, en.(map[string]any)["resource"].(map[string]any))
	}
	return out
}

// link returns a Bundle's link of one relation, as a path on the server.
func (e *env) link(r response, relation string) string {
	list, _ := r.body["link"].([]any)
	for _, l := range list {
		m := l.(map[string]any)
		if m["relation"] == relation {
			return strings.TrimPrefix(m["url"].(string), e.srv.URL)
		}
	}
	return ""
}

// expression returns the first issue's first expression of an OperationOutcome.
func expression(r response) string {
	issues, _ := r.body["issue"].([]any)
	if len(issues) == 0 {
		return ""
	}
	exprs, _ := issues[0].(map[string]any)["expression"].([]any)
	if len(exprs) == 0 {
		return ""
	}
	return exprs[0].(string)
}

func isOutcome(r response) bool { return r.body["resourceType"] == "OperationOutcome" }

// phq9 is a QuestionnaireResponse for patient id with these nine answers.
func phq9(id string, answers ...int) map[string]any {
	var items []map[string]any
	for i, v := range answers {
		items = append(items, map[string]any{"linkId": "phq9_" + strconv.Itoa(i+1),
			"answer": []map[string]any{{"valueCoding": map[string]any{"code": strconv.Itoa(v)}}}})
	}
	return map[string]any{"resourceType": "QuestionnaireResponse", "status": "completed",
		"questionnaire": "http://example.org/fhir/R4/Questionnaire/phq9", "subject": map[string]any{"reference": "Patient/" + id},
		"authored": day(0), "item": items}
}

func TestFHIR(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)

		// The capability statement lists the routes that exist.
		meta := e.do("GET", "/fhir/R4/metadata", "", nil)
		if meta.status != 200 || meta.body["fhirVersion"] != "4.0.1" || meta.body["resourceType"] != "CapabilityStatement" {
			t.Fatalf("metadata: %d %s", meta.status, meta.raw)
		}
		if !strings.Contains(meta.raw, `{"type":"Patient","interaction":[{"code":"read"},{"code":"search-type"},{"code":"create"}]`) ||
			!strings.Contains(meta.raw, `"searchInclude":["Encounter:subject"]`) || strings.Contains(meta.raw, `"MedicationRequest"`) {
			t.Errorf("metadata does not list what is implemented: %s", meta.raw)
		}
		if res := e.do("GET", "/fhir/R4/Patient/1", "", nil); res.status != 401 || !isOutcome(res) {
			t.Errorf("no token: %d %s", res.status, res.raw)
		}
		mgr, mgr2, cg := e.token("manager"), e.token("manager2"), e.token("caregroup")

		// Registration from a Patient resource, with the API's checks.
		patient := map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"text": "陈静"}}, "gender": "female",
			"birthDate": "1949-12-31", "identifier": []any{map[string]any{"system": "urn:kith:fhir:national-id", "value": "11010519491231002X"}},
			"telecom":              []any{map[string]any{"system": "phone", "value": "13800138000"}},
			"contact":              []any{map[string]any{"name": map[string]any{"text": "陈刚"}, "relationship": []any{map[string]any{"text": "兄"}}}},
			"managingOrganization": map[string]any{"reference": "Organization/C0101"},
			"extension":            []any{map[string]any{"url": "urn:kith:fhir:registered-on", "valueDate": day(-60)}}}
		bad := map[string]any{}
		for k, v := range patient {
			bad[k] = v
		}
		bad["gender"] = "unknown"
		before := e.count("patients")
		if res := e.do("POST", "/fhir/R4/Patient", mgr, bad); res.status != 422 || !isOutcome(res) || expression(res) != "Patient.gender" {
			t.Errorf("bad gender: %d %s", res.status, res.raw)
		}
		bad["gender"], bad["birthDate"] = "female", "1950-01-01"
		if res := e.do("POST", "/fhir/R4/Patient", mgr, bad); res.status != 422 || expression(res) != "Patient.identifier[0].value" {
			t.Errorf("national ID of another birth date: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/fhir/R4/Patient", cg, patient); res.status != 403 {
			t.Errorf("care-and-help group registers: %d %s", res.status, res.raw)
		}
		// Refused before the body is described, whatever it holds.
		if res := e.do("POST", "/fhir/R4/Patient", cg, `{"resourceType":"Patient","gender":5}`); res.status != 403 {
			t.Errorf("care-and-help group sends a malformed Patient: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/fhir/R4/Patient", mgr, `{"resourceType":"Patient","gender":5}`); res.status != 400 || !strings.Contains(res.raw, "gender") {
			t.Errorf("a malformed Patient: %d %s", res.status, res.raw)
		}
		if e.count("patients") != before {
			t.Fatal("a refused registration wrote a patient")
		}
		res := e.do("POST", "/fhir/R4/Patient", mgr, patient)
		if res.status != 201 || res.body["id"] == nil || !strings.HasSuffix(res.header.Get("Location"), "/fhir/R4/Patient/"+res.body["id"].(string)) {
			t.Fatalf("register: %d %s", res.status, res.raw)
		}
		id := res.body["id"].(string)
		if res := e.do("POST", "/fhir/R4/Patient", mgr, patient); res.status != 409 || !isOutcome(res) {
			t.Errorf("the same national ID again: %d %s", res.status, res.raw)
		}

		// Read: the Kith id, the community, the national ID masked.
		res = e.do("GET", "/fhir/R4/Patient/"+id, mgr, nil)
		if res.status != 200 || res.body["id"] != id || !strings.Contains(res.raw, `"managingOrganization":{"reference":"Organization/C0101"`) ||
			!strings.Contains(res.raw, `"value":"110105********002X"`) || strings.Contains(res.raw, "11010519491231002X") {
			t.Errorf("read: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Patient/"+id, mgr2, nil); res.status != 404 || !isOutcome(res) {
			t.Errorf("another community's patient: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Patient/"+id, cg, nil); res.status != 200 || res.body["birthDate"] != nil || res.body["identifier"] != nil {
			t.Errorf("care-and-help group's view: %d %s", res.status, res.raw)
		}
		// A FHIR read is a read of the record: it is audited.
		var reads int
		db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'patient.read' AND subject_id = ?`, id).Scan(&reads)
		if reads < 3 {
			t.Errorf("FHIR reads audited: %d entries, want 3", reads)
		}

		// Search.
		for _, q := range []string{"name=陈", "identifier=urn:kith:fhir:national-id|11010519491231002X", "birthdate=1949-12-31",
			"phone=138001", "name=cj&birthdate=1949-12-31", "organization=Organization/C0101&name=陈"} {
			res := e.do("GET", "/fhir/R4/Patient?"+q, mgr, nil)
			if res.status != 200 || res.body["type"] != "searchset" || len(entries(res)) != 1 || entries(res)[0]["id"] != id {
				t.Errorf("Patient?%s: %d %s", q, res.status, res.raw)
			}
		}
		if res := e.do("GET", "/fhir/R4/Patient?name=陈", mgr2, nil); len(entries(res)) != 0 {
			t.Errorf("search outside the jurisdiction: %s", res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Patient?organization=Organization/C0201", mgr, nil); res.status != 422 || expression(res) != "organization" {
			t.Errorf("another community's patients: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Patient?colour=red", mgr, nil); res.status != 400 || expression(res) != "colour" {
			t.Errorf("unknown parameter: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Patient?name=002X", mgr, nil); res.status != 200 || len(entries(res)) != 0 {
			t.Errorf("a name that is the end of a national ID: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Patient?identifier=110105194912310021", mgr, nil); res.status != 200 || len(entries(res)) != 0 {
			t.Errorf("a number that is no national ID: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Patient?birthdate=1949-13-01", mgr, nil); res.status != 400 || expression(res) != "birthdate" {
			t.Errorf("bad birthdate: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Patient?_count=500", mgr, nil); res.status != 400 || expression(res) != "_count" {
			t.Errorf("_count 500: %d %s", res.status, res.raw)
		}
		if res := e.do("DELETE", "/fhir/R4/Patient/"+id, mgr, nil); res.status != 405 || res.header.Get("Allow") != "GET, HEAD" || !isOutcome(res) {
			t.Errorf("DELETE: %d %v %s", res.status, res.header, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Medication/1", mgr, nil); res.status != 404 || !isOutcome(res) {
			t.Errorf("a type this server does not serve: %d %s", res.status, res.raw)
		}

		// Three follow-ups through the API: Encounters with Observations.
		api := func(path string, body any) {
			t.Helper()
			j, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(j))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+mgr)
			r, err := http.DefaultClient.Do(req)
			if err != nil || r.StatusCode != 201 {
				b, _ := io.ReadAll(r.Body)
				t.Fatalf("%s: %v %d %s", path, err, r.StatusCode, b)
			}
			r.Body.Close()
		}
		for i, d := range []int{-30, -20, -10} {
			api("/api/v1/patients/"+id+"/follow-ups", map[string]any{"date": day(d), "mode": []string{"clinic", "home_visit", "phone"}[i],
				"reached": true, "risk_level": 1, "psychotic_symptoms": "some", "insight": "partial", "adverse_reaction": "none",
				"physical_illness": "none", "medication_adherence": "regular", "sleep": "good", "diet": "fair",
				"symptoms":            []string{"hallucinations", "suspiciousness"},
				"social_function":     map[string]string{"self_care": "good", "housework": "good", "work": "fair", "learning": "fair", "social_contact": "fair"},
				"medications":         []map[string]string{{"name": "olanzapine", "dose": "10 mg", "frequency": "nightly"}},
				"dangerous_behaviour": map[string]int{"minor_trouble": i}})
		}
		res = e.do("GET", "/fhir/R4/Encounter?patient="+id+"&_count=2&_sort=-date&_include=Encounter:subject", mgr, nil)
		list := entries(res)
		if res.status != 200 || len(list) != 3 || list[0]["resourceType"] != "Encounter" || list[2]["resourceType"] != "Patient" ||
			list[0]["period"].(map[string]any)["start"] != day(-10) {
			t.Fatalf("Encounter?patient: %d %s", res.status, res.raw)
		}
		next := e.link(res, "next")
		if next == "" {
			t.Fatalf("no next link: %s", res.raw)
		}
		res = e.do("GET", next, mgr, nil)
		if list := entries(res); len(list) != 2 || list[0]["period"].(map[string]any)["start"] != day(-30) || e.link(res, "next") != "" {
			t.Errorf("second page: %s", res.raw)
		}
		res = e.do("GET", "/fhir/R4/Encounter?patient=Patient/"+id+"&date=ge"+day(-25)+"&date=le"+day(-15), mgr, nil)
		if list := entries(res); len(list) != 1 || list[0]["period"].(map[string]any)["start"] != day(-20) {
			t.Errorf("Encounter by date: %s", res.raw)
		}
		enc := entries(e.do("GET", "/fhir/R4/Encounter?patient="+id, mgr, nil))[0]["id"].(string)
		if res := e.do("GET", "/fhir/R4/Encounter/"+enc, mgr, nil); res.status != 200 || res.body["class"].(map[string]any)["code"] != "VR" {
			t.Errorf("Encounter read: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Encounter/"+enc, mgr2, nil); res.status != 404 {
			t.Errorf("Encounter of another community: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/fhir/R4/Observation?patient="+id+"&code=medication-adherence", mgr, nil)
		if list := entries(res); len(list) != 3 || !strings.Contains(res.raw, `"code":"regular"`) {
			t.Errorf("adherence observations: %s", res.raw)
		}
		// Observations page over the follow-ups and the scores together;
		// walking the next links gives what one big page gives.
		all := len(entries(e.do("GET", "/fhir/R4/Observation?patient="+id+"&_count=200", mgr, nil)))
		walked, pages := 0, 0
		for next := "/fhir/R4/Observation?patient=" + id + "&_count=1"; next != "" && pages < 10; pages++ {
			res := e.do("GET", next, mgr, nil)
			walked += len(entries(res))
			next = e.link(res, "next")
		}
		if all == 0 || walked != all || pages != 3 {
			t.Errorf("Observation pages: %d observations in %d pages, want %d in 3", walked, pages, all)
		}
		if res := e.do("GET", "/fhir/R4/Observation?patient="+id+"&_format=xml", mgr, nil); res.status != 406 {
			t.Errorf("_format=xml: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Observation/fu"+enc+"-symptoms", mgr, nil); res.status != 200 || len(res.body["component"].([]any)) != 2 {
			t.Errorf("symptoms: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Observation/fu"+enc+"-dangerous-behaviour-minor-trouble", mgr, nil); res.status != 200 || res.body["valueInteger"] != 2.0 {
			t.Errorf("dangerous behaviour count: %d %s", res.status, res.raw)
		}
		var fuReads int
		db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'followup.read' AND subject_id = ?`, id).Scan(&fuReads)
		if fuReads == 0 {
			t.Error("reading an Encounter is not audited")
		}
		for _, item := range []string{"risk-level", "classification", "medication-adherence", "insight", "social-function-self-care",
			"social-function-social-contact"} {
			if res := e.do("GET", "/fhir/R4/Observation/fu"+enc+"-"+item, mgr, nil); res.status != 200 {
				t.Errorf("Observation %s: %d %s", item, res.status, res.raw)
			}
		}
		// The care-and-help group sees the risk level, not the classification.
		res = e.do("GET", "/fhir/R4/Observation?patient="+id, cg, nil)
		if res.status != 200 || !strings.Contains(res.raw, "risk-level") || strings.Contains(res.raw, `"classification"`) {
			t.Errorf("care-and-help group's observations: %d %s", res.status, res.raw)
		}

		// Questionnaire and a posted response, scored by Kith's engine.
		res = e.do("GET", "/fhir/R4/Questionnaire/phq9", mgr, nil)
		if res.status != 200 || len(res.body["item"].([]any)) != 9 || !strings.Contains(res.raw, "ordinalValue") {
			t.Fatalf("Questionnaire/phq9: %d %s", res.status, res.raw)
		}
		before = e.count("assessments")
		short := phq9(id, 1, 1, 1)
		if res := e.do("POST", "/fhir/R4/QuestionnaireResponse", mgr, short); res.status != 422 || expression(res) != "QuestionnaireResponse.item" {
			t.Errorf("three answers: %d %s", res.status, res.raw)
		}
		wrong := phq9(id, 1, 1, 1, 1, 1, 1, 1, 1, 7)
		if res := e.do("POST", "/fhir/R4/QuestionnaireResponse", mgr, wrong); res.status != 422 || expression(res) != "QuestionnaireResponse.item[8].answer[0]" {
			t.Errorf("an answer out of range: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/fhir/R4/QuestionnaireResponse", mgr2, phq9(id, 1, 1, 1, 1, 1, 1, 1, 1, 1)); res.status != 404 {
			t.Errorf("a response for another community's patient: %d %s", res.status, res.raw)
		}
		if res := e.do("POST", "/fhir/R4/QuestionnaireResponse", mgr2, phq9(id, 1, 1, 1)); res.status != 404 {
			t.Errorf("a bad response for another community's patient: %d %s", res.status, res.raw)
		}
		if e.count("assessments") != before {
			t.Fatal("a refused response was stored")
		}
		res = e.do("POST", "/fhir/R4/QuestionnaireResponse", mgr, phq9(id, 2, 2, 2, 1, 1, 1, 1, 1, 2))
		if res.status != 201 || res.header.Get("Location") == "" {
			t.Fatalf("post response: %d %s", res.status, res.raw)
		}
		qr := res.body["id"].(string)
		var score int
		db.QueryRow(context.Background(), `SELECT score FROM assessments WHERE id = ?`, qr).Scan(&score)
		if score != 13 {
			t.Errorf("stored score %d, want 13", score)
		}
		if res := e.do("GET", "/fhir/R4/QuestionnaireResponse/"+qr, mgr, nil); res.status != 200 || len(res.body["item"].([]any)) != 9 {
			t.Errorf("QuestionnaireResponse read: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/QuestionnaireResponse?patient="+id+"&questionnaire=Questionnaire/phq9", mgr, nil); len(entries(res)) != 1 {
			t.Errorf("QuestionnaireResponse search: %s", res.raw)
		}
		// Scores speak of the diagnosis: not in the care-and-help group's view.
		if res := e.do("GET", "/fhir/R4/QuestionnaireResponse/"+qr, cg, nil); res.status != 403 || !isOutcome(res) {
			t.Errorf("care-and-help group reads a response: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/fhir/R4/Observation/as"+qr, mgr, nil)
		if res.status != 200 || res.body["valueInteger"] != 13.0 {
			t.Errorf("score observation: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Observation?patient="+id+"&code=phq9", mgr, nil); len(entries(res)) != 1 {
			t.Errorf("score search: %s", res.raw)
		}
		// Item 9 above 0 raised an alert: an open Flag.
		res = e.do("GET", "/fhir/R4/Flag?patient="+id, mgr, nil)
		if list := entries(res); len(list) != 1 || list[0]["status"] != "active" {
			t.Fatalf("Flag search: %s", res.raw)
		}
		flag := entries(res)[0]["id"].(string)
		if res := e.do("GET", "/fhir/R4/Flag/"+flag, mgr, nil); res.status != 200 {
			t.Errorf("Flag read: %d %s", res.status, res.raw)
		}
		// Alerts reach the community managers and psychiatrists, not nurses.
		if res := e.do("GET", "/fhir/R4/Flag/"+flag, e.token("nurse"), nil); res.status != 404 {
			t.Errorf("a nurse reads an alert: %d %s", res.status, res.raw)
		}

		// The rest of what the record holds. Diagnoses come from the API's
		// registration, which takes them.
		j, _ := json.Marshal(map[string]any{"name": "王强", "sex": "male", "birth_date": "1980-02-03", "org_unit": "C0101",
			"diagnoses": []map[string]any{{"code": "schizophrenia", "diagnosed_on": "2019-04-01", "institution": "河畔区精神卫生中心"}, {"code": "F32.1"}}})
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/patients", bytes.NewReader(j))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+mgr)
		r, err := http.DefaultClient.Do(req)
		if err != nil || r.StatusCode != 201 {
			t.Fatalf("register with diagnoses: %v %d", err, r.StatusCode)
		}
		var second struct{ ID int64 }
		json.NewDecoder(r.Body).Decode(&second)
		r.Body.Close()
		sid := strconv.FormatInt(second.ID, 10)
		res = e.do("GET", "/fhir/R4/Condition?patient="+sid, mgr, nil)
		if list := entries(res); res.status != 200 || len(list) != 2 || !strings.Contains(res.raw, `"code":"F20"`) || !strings.Contains(res.raw, `"code":"F32.1"`) {
			t.Errorf("Condition search: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Condition/"+sid+"-2", mgr, nil); res.status != 200 || !strings.Contains(res.raw, "F32.1") {
			t.Errorf("Condition read: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Condition?patient="+sid, cg, nil); len(entries(res)) != 0 {
			t.Errorf("the care-and-help group sees diagnoses: %s", res.raw)
		}
		if res := e.do("GET", "/fhir/R4/RelatedPerson?patient="+id, mgr, nil); len(entries(res)) != 1 {
			t.Errorf("RelatedPerson search: %s", res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Questionnaire", mgr, nil); len(entries(res)) < 5 {
			t.Errorf("Questionnaire search: %s", res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Organization?partof=Organization/C0101", mgr, nil); res.status != 200 || len(entries(res)) != 1 {
			t.Errorf("Organization search: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/RelatedPerson/"+id+"-guardian", mgr, nil); res.status != 200 || !strings.Contains(res.raw, "陈刚") {
			t.Errorf("RelatedPerson: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Organization/C0101", mgr, nil); res.status != 200 || res.body["partOf"] == nil {
			t.Errorf("Organization: %d %s", res.status, res.raw)
		}
		district, admin := e.token("district"), e.token("admin")
		if res := e.do("GET", "/fhir/R4/Practitioner/manager", district, nil); res.status != 200 || !strings.Contains(res.raw, "Zhang Wei") {
			t.Errorf("Practitioner: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/AuditEvent?patient="+id, mgr, nil); res.status != 403 {
			t.Errorf("audit events for a community manager: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/fhir/R4/AuditEvent?patient="+id+"&_count=5", admin, nil)
		if list := entries(res); res.status != 200 || len(list) != 5 {
			t.Fatalf("AuditEvent search: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/AuditEvent?date=ge"+day(1), admin, nil); res.status != 200 || len(entries(res)) != 0 {
			t.Errorf("AuditEvent from tomorrow: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/AuditEvent/"+entries(res)[0]["id"].(string), admin, nil); res.status != 200 {
			t.Errorf("AuditEvent read: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/fhir/R4/Practitioner?organization=Organization/C0101", district, nil); len(entries(res)) < 2 {
			t.Errorf("Practitioner search: %s", res.raw)
		}

		// Every resource type the server emits was read above and
		// validated against the R4 base definitions.
		rest := meta.body["rest"].([]any)[0].(map[string]any)["resource"].([]any)
		for _, typ := range append([]string{"CapabilityStatement", "Bundle", "OperationOutcome"}, func() (out []string) {
			for _, r := range rest {
				// A type with operations only (Group's $export) is not itself
				// emitted; the team's, plan's and referral's types are read and
				// validated by TestFHIRFamilyTeamPlanReferral.
				typ := r.(map[string]any)["type"].(string)
				if r.(map[string]any)["interaction"] != nil && !ownTest[typ] {
					out = append(out, r.(map[string]any)["type"].(string))
				}
			}
			return out
		}()...) {
			if !e.seen[typ] {
				t.Errorf("no %s was validated", typ)
			}
		}
	})
}

// ownTest are the types TestFHIRFamilyTeamPlanReferral reads and validates.
var ownTest = map[string]bool{"CareTeam": true, "CarePlan": true, "Goal": true, "ServiceRequest": true}

// TestFHIRDemoValidates reads the generated demo district (its patients'
// whole histories: attempts that did not reach the patient, the dead and
// the moved away, corrections, alerts) through the FHIR interface as a
// psychiatrist of the district and validates every resource.
func TestFHIRDemoValidates(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		if _, err := demo.Patients(ctx, db, e.svc, 40, time.Now(), 5); err != nil {
			t.Fatal(err)
		}
		if err := demo.Activity(ctx, e.svc, time.Now()); err != nil {
			t.Fatal(err)
		}
		psy := e.token("psychiatrist")
		var patients []string
		for next := "/fhir/R4/Patient?_count=200"; next != ""; {
			res := e.do("GET", next, psy, nil)
			for _, p := range entries(res) {
				patients = append(patients, p["id"].(string))
			}
			next = e.link(res, "next")
		}
		if len(patients) < 40 {
			t.Fatalf("%d patients found, want 40 or more", len(patients))
		}
		for _, id := range patients {
			e.do("GET", "/fhir/R4/Patient/"+id, psy, nil)
			for _, typ := range []string{"Encounter", "Observation", "Condition", "QuestionnaireResponse", "Flag", "RelatedPerson",
				"CareTeam", "CarePlan", "Goal", "ServiceRequest"} {
				if res := e.do("GET", "/fhir/R4/"+typ+"?patient="+id+"&_count=200", psy, nil); res.status != 200 {
					t.Errorf("%s?patient=%s: %d %s", typ, id, res.status, res.raw)
				}
			}
		}
		e.do("GET", "/fhir/R4/Organization?_count=200", psy, nil)
		// (A district this small has no referrals: see TestFHIRFamilyTeamPlanReferral.)
		for _, typ := range []string{"Patient", "Encounter", "Observation", "Condition", "QuestionnaireResponse", "Flag", "RelatedPerson",
			"CareTeam", "CarePlan", "Goal"} {
			if !e.seen[typ] {
				t.Errorf("the demo district gave no %s", typ)
			}
		}
	})
}
