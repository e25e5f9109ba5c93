package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kith/internal/store"
	"kith/internal/store/storetest"
)

func TestServicesAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		district, manager := e.token("district"), e.token("manager")
		before := e.count("services")

		body := map[string]any{"name": "安宁心理咨询室", "name_en": "Anning counselling room", "kind": "counselling_room",
			"address": "安宁小区5号楼", "phone": "010-5555-0199", "hours": "周六", "capacity": 12, "serves": []string{"C0101"}}
		res := e.do("POST", "/api/v1/services", district, body)
		if res.status != 201 || res.body["path"] != "/D01/S01/C0101/" {
			t.Fatalf("create: %d %s", res.status, res.raw)
		}
		id := int64(res.body["id"].(float64))
		one := fmt.Sprintf("/api/v1/services/%d", id)

		// Refused before validation, and bad input with fields; nothing written.
		if res := e.do("POST", "/api/v1/services", manager, body); res.status != 403 {
			t.Errorf("manager creates: %d", res.status)
		}
		if res := e.do("POST", "/api/v1/services", manager, "{not json"); res.status != 403 {
			t.Errorf("manager sends junk: %d", res.status)
		}
		if res := e.do("POST", "/api/v1/services", district, map[string]any{"name": "x", "kind": "shop", "phone": "1", "serves": []string{}}); res.status != 422 || firstField(res) != "kind" {
			t.Errorf("bad kind: %d %s", res.status, res.raw)
		}
		if n := e.count("services"); n != before+1 {
			t.Errorf("%d services, want %d", n, before+1)
		}

		// Read, list by unit and kind, replace.
		if res := e.do("GET", one, manager, nil); res.status != 200 || res.body["name"] != "安宁心理咨询室" {
			t.Errorf("get: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/api/v1/services?org_unit=C0101&kind=counselling_room", manager, nil)
		if items, _ := res.body["items"].([]any); res.status != 200 || len(items) != 2 { // this one and the district's
			t.Errorf("list: %d %s", res.status, res.raw)
		}
		body["serves"] = []string{"C0102"}
		if res := e.do("PUT", one, district, body); res.status != 200 || res.body["path"] != "/D01/S01/C0102/" {
			t.Errorf("put: %d %s", res.status, res.raw)
		}

		// The public list for a community, in the language asked for.
		h := http.Header{"Accept-Language": {"en"}}
		res = e.doWith(h, "GET", "/api/v1/public/services?community=C0102", "", nil)
		items, _ := res.body["items"].([]any)
		if res.status != 200 || len(items) < 2 {
			t.Fatalf("public: %d %s", res.status, res.raw)
		}
		first := items[0].(map[string]any)
		if first["name"] != "Anning counselling room" || first["near"] != "C0102" {
			t.Errorf("public first: %v", first)
		}
		if res := e.do("GET", "/api/v1/public/services?community=NOPE", "", nil); res.status != 422 || firstField(res) != "community" {
			t.Errorf("public unknown: %d %s", res.status, res.raw)
		}

		// Delete.
		if res := e.do("DELETE", one, manager, nil); res.status != 403 {
			t.Errorf("manager deletes: %d", res.status)
		}
		if res := e.do("DELETE", one, district, nil); res.status != 204 {
			t.Errorf("delete: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", one, district, nil); res.status != 404 {
			t.Errorf("deleted: %d", res.status)
		}
	})
}

func TestArticlesAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		manager, nurse := e.token("manager"), e.token("nurse")
		before := e.count("articles")

		md := "## Sleep\n\nRest well. <script>alert('x')</script>\n\n[bad](javascript:alert(1)) <img src=x onerror=alert(1)>"
		res := e.do("POST", "/api/v1/articles", manager, map[string]any{"title": "Sleep well", "lang": "en", "body_markdown": md, "published": true})
		if res.status != 201 || res.body["slug"] != "sleep-well" {
			t.Fatalf("create: %d %s", res.status, res.raw)
		}
		id := int64(res.body["id"].(float64))
		if res := e.do("POST", "/api/v1/articles", nurse, map[string]any{"title": "x", "lang": "en", "body_markdown": "y"}); res.status != 403 {
			t.Errorf("nurse writes: %d", res.status)
		}
		if res := e.do("POST", "/api/v1/articles", nurse, "{junk"); res.status != 403 {
			t.Errorf("nurse sends junk: %d", res.status)
		}
		if res := e.do("POST", "/api/v1/articles", manager, map[string]any{"title": "x", "lang": "fr", "body_markdown": "y"}); res.status != 422 || firstField(res) != "lang" {
			t.Errorf("bad lang: %d %s", res.status, res.raw)
		}
		if n := e.count("articles"); n != before+1 {
			t.Errorf("%d articles, want %d", n, before+1)
		}

		// Public: listed in its language, rendered without the script.
		res = e.do("GET", "/api/v1/public/articles?lang=en", "", nil)
		items, _ := res.body["items"].([]any)
		found := false
		for _, it := range items {
			found = found || it.(map[string]any)["slug"] == "sleep-well"
		}
		if res.status != 200 || !found {
			t.Errorf("public list: %d %s", res.status, res.raw)
		}
		res = e.do("GET", "/api/v1/public/articles/sleep-well", "", nil)
		html, _ := res.body["html"].(string)
		if res.status != 200 || !strings.Contains(html, "<h2>Sleep</h2>") || strings.Contains(html, "<script") ||
			strings.Contains(html, "javascript:") || strings.Contains(html, "onerror") {
			t.Errorf("public article: %d %q", res.status, html)
		}

		// Withdrawn: gone from the public site, still the editor's.
		one := fmt.Sprintf("/api/v1/articles/%d", id)
		if res := e.do("PATCH", one, manager, map[string]any{"published": false}); res.status != 200 || res.body["published"] != false {
			t.Errorf("withdraw: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/public/articles/sleep-well", "", nil); res.status != 404 {
			t.Errorf("withdrawn public: %d", res.status)
		}
		if res := e.do("GET", one, manager, nil); res.status != 200 || res.body["author_name"] != "Zhang Wei 张伟" {
			t.Errorf("editor reads: %d %s", res.status, res.raw)
		}
		if res := e.do("GET", "/api/v1/articles", manager, nil); res.status != 200 {
			t.Errorf("editor list: %d", res.status)
		}
	})
}
