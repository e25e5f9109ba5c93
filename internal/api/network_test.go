package api_test

import (
	"fmt"
	"net/http"
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
