package stonetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"lote/stone"
)

// The contract test pins what the emulator sends against the examples of
// Stone's documentation, kept in testdata/contract/ with the page each comes
// from: for every endpoint, the status code, and for every field of the
// example, its presence and its JSON type, at every depth. A null in the
// example says nothing about the type; a value in the example must come
// back as a value of the same type (an integer as an integer), so a client
// written from the documentation decodes every answer. The emulator may
// send fields the example lacks. An array is checked item by item against
// the example's items of the same "type", or its first item.

// example is one documented answer (or webhook claims, Status 0).
type example struct {
	Source string `json:"source"`
	Status int    `json:"status"`
	Body   any    `json:"body"`
}

func loadExample(t *testing.T, name string) example {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "contract", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var ex example
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !strings.HasPrefix(ex.Source, "stone-co/stone-api-docs ") {
		t.Fatalf("%s names no source page", name)
	}
	return ex
}

// conform appends to errs every way got differs from the shape of doc.
func conform(path string, doc, got any, errs *[]string) {
	if doc == nil {
		return
	}
	bad := func(format string, a ...any) { *errs = append(*errs, path+": "+fmt.Sprintf(format, a...)) }
	if got == nil {
		bad("null, the example has %s", jsonType(doc))
		return
	}
	if jsonType(doc) != jsonType(got) {
		bad("%s, the example has %s", jsonType(got), jsonType(doc))
		return
	}
	switch d := doc.(type) {
	case map[string]any:
		g := got.(map[string]any)
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				*errs = append(*errs, path+"."+k+": missing")
				continue
			}
			conform(path+"."+k, d[k], gv, errs)
		}
	case []any:
		// Each item of the example must be matched by some item of the
		// answer (of the same "type", when items have one); the errors
		// reported are those of the closest item.
		g := got.([]any)
		for i, dv := range d {
			if len(g) == 0 {
				bad("empty, the example has items")
				return
			}
			m, typed := dv.(map[string]any)
			typed = typed && m["type"] != nil
			var best []string
			found := false
			for _, x := range g {
				if xm, ok := x.(map[string]any); typed && (!ok || xm["type"] != m["type"]) {
					continue
				}
				var e []string
				conform(fmt.Sprintf("%s[%d]", path, i), dv, x, &e)
				if len(e) == 0 {
					found = true
					break
				}
				if best == nil || len(e) < len(best) {
					best = e
				}
			}
			switch {
			case found:
			case best == nil:
				bad("no item of type %v, the example's item %d", m["type"], i)
			default:
				*errs = append(*errs, best...)
			}
		}
	}
}

// jsonType names a decoded JSON value's type; an integer is told from a
// number with a fraction.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// checkAnswer compares an answer with the example: status, then body.
func checkAnswer(t *testing.T, name string, r reply) {
	t.Helper()
	ex := loadExample(t, name)
	if r.status != ex.Status {
		t.Fatalf("%s: status %d, the documentation (%s) says %d: %s", name, r.status, ex.Source, ex.Status, r.body)
	}
	if r.header.Get("x-request-id") == "" {
		t.Errorf("%s: no x-request-id", name)
	}
	if ex.Body == nil {
		if len(r.body) != 0 {
			t.Errorf("%s: body %q, the documentation has none", name, r.body)
		}
		return
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", name, ct)
	}
	var got any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("%s: body is not JSON: %v: %s", name, err, r.body)
	}
	checkShape(t, name, ex, got)
}

func checkShape(t *testing.T, name string, ex example, got any) {
	t.Helper()
	var errs []string
	conform("$", ex.Body, got, &errs)
	if len(errs) > 0 {
		b, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("%s differs from %s:\n  %s\ngot: %s", name, ex.Source, strings.Join(errs, "\n  "), b)
	}
}

func TestConformShapeChecker(t *testing.T) {
	doc := map[string]any{"a": 1.0, "b": nil, "c": map[string]any{"d": "x"}, "e": []any{map[string]any{"type": "p", "f": true}}}
	var errs []string
	conform("$", doc, map[string]any{"a": 1.5, "b": "any", "c": map[string]any{}, "e": []any{map[string]any{"type": "q"}}}, &errs)
	want := []string{"$.a: number, the example has integer", "$.c.d: missing", "$.e: no item of type p, the example's item 0"}
	if strings.Join(errs, "|") != strings.Join(want, "|") {
		t.Errorf("errors %q, want %q", errs, want)
	}
	errs = nil
	conform("$", doc, map[string]any{"a": 2.0, "b": nil, "c": map[string]any{"d": "y", "z": 1.0}, "e": []any{map[string]any{"type": "p", "f": false}}}, &errs)
	if len(errs) != 0 {
		t.Errorf("a conforming value: %q", errs)
	}
}

func internalBody(code string) map[string]any {
	return map[string]any{"amount": 100, "account_id": testAccount, "target": map[string]any{"account": map[string]any{"account_code": code}}}
}

func TestContractTED(t *testing.T) {
	e := newEnv(t, Options{})
	created := e.create(seedBody(), "ted-1")
	checkAnswer(t, "ted_create_202", created)
	tr := e.transfer(created)
	e.s.Advance(DefaultFinishDelay)
	checkAnswer(t, "ted_get_200", e.do("GET", "/api/v1/external_transfers/"+tr.ID, nil))
	checkAnswer(t, "ted_list_200", e.do("GET", "/api/v1/external_transfers?account_id="+testAccount, nil))
}

func TestContractInternalTransfers(t *testing.T) {
	e := pixEnv(t, Options{})
	key := func(k string) []string { return []string{"x-stone-idempotency-key", k} }
	created := e.do("POST", "/api/v1/internal_transfers", internalBody("58859"), key("int-1")...)
	checkAnswer(t, "internal_create_202", created)
	var it stone.InternalTransfer
	json.Unmarshal(created.body, &it)
	e.s.Advance(2 * time.Second)
	checkAnswer(t, "internal_get_200", e.do("GET", "/api/v1/internal_transfers/"+it.ID, nil))
	checkAnswer(t, "internal_list_200", e.do("GET", "/api/v1/internal_transfers?account_id="+testAccount, nil))
	checkAnswer(t, "internal_dry_run_200", e.do("POST", "/api/v1/dry_run/internal_transfers", internalBody("58859")))
	scheduled := internalBody("58859")
	scheduled["scheduled_to"] = "2026-11-29"
	r := e.do("POST", "/api/v1/internal_transfers", scheduled, key("int-2")...)
	json.Unmarshal(r.body, &it)
	checkAnswer(t, "internal_cancel_204", e.do("POST", "/api/v1/internal_transfers/"+it.ID+"/cancel", nil))
}

func TestContractPix(t *testing.T) {
	e := pixEnv(t, Options{})
	e.s.SetAccountHolder(testAccount, "34", StoneAccount{Name: "João da Silva", Document: "91092573062"})
	e.s.AddAccountFor("another-client", "not-mine", 1000)
	byKey := map[string]any{"account_id": testAccount, "amount": 39511, "description": "some description",
		"key": "+5521988040465", "transaction_id": "c62153a222df4e60b2e538b068635d41"}
	created := e.pixCreate(byKey, "pix-1")
	checkAnswer(t, "pix_create_201", created)
	p := e.pix(created)

	withKey := func(key string) map[string]any {
		return map[string]any{"account_id": testAccount, "amount": 100, "key": key}
	}
	byBank := func(ispb, code string) map[string]any {
		return map[string]any{"account_id": testAccount, "amount": 100, "target": map[string]any{
			"entity":      map[string]any{"name": "Gabriela Abreu", "document": "12409265707"},
			"account":     map[string]any{"account_code": code, "account_type": "CC", "branch_code": "4208"},
			"institution": map[string]any{"ispb": ispb}}}
	}
	checkAnswer(t, "pix_create_400", e.pixCreate(withKey(strings.Repeat("k", 78)), "pix-2"))
	checkAnswer(t, "pix_create_422_invalid_key", e.pixCreate(withKey("(21) 98804-0465"), "pix-3"))
	checkAnswer(t, "pix_create_422_key_not_found", e.pixCreate(withKey("+5511900000000"), "pix-4"))
	checkAnswer(t, "pix_create_422_target_institution_not_found", e.pixCreate(byBank("33657248", "10022294"), "pix-5"))
	checkAnswer(t, "pix_create_422_target_account_not_found", e.pixCreate(byBank(stoneISPB, "424242"), "pix-6"))
	checkAnswer(t, "pix_create_409", e.pixCreate(withKey("+5521988040465"), "pix-1"))
	checkAnswer(t, "pix_create_403", e.pixCreate(map[string]any{"account_id": "not-mine", "amount": 1, "key": "+5521988040465"}, "pix-7"))
	unauth := e.do("POST", "/api/v1/pix/outbound_pix_payments", withKey("+5521988040465"), "Authorization", "Bearer expired", "x-stone-idempotency-key", "pix-8")
	checkAnswer(t, "pix_create_401", unauth)

	confirm := func(id, key string, body any) reply {
		return e.do("POST", "/api/v1/pix/outbound_pix_payments/"+id+"/actions/confirm", body, "x-stone-idempotency-key", key)
	}
	checkAnswer(t, "pix_confirm_204", confirm(p.ID, "pix-1-confirm", map[string]any{}))
	checkAnswer(t, "pix_confirm_409", confirm(p.ID, "pix-1-confirm", map[string]any{"amount": 1}))
	e.s.Advance(DefaultPixReserveDelay)
	checkAnswer(t, "pix_get_200_money_reserved", e.do("GET", "/api/v1/pix/outbound_pix_payments/"+p.ID, nil))
	e.s.Advance(DefaultPixSettleDelay)
	checkAnswer(t, "pix_get_200_settled", e.do("GET", "/api/v1/pix/outbound_pix_payments/"+p.ID, nil))
	if _, err := e.s.RefundPix(p.ID, 1010); err != nil {
		t.Fatal(err)
	}
	checkAnswer(t, "pix_list_200", e.do("GET", "/api/v1/pix/"+testAccount+"/pix_payments", nil))
}

func TestContractAccount(t *testing.T) {
	e := pixEnv(t, Options{})
	checkAnswer(t, "ted_dry_run_202", e.do("POST", "/api/v1/dry_run/external_transfers", seedBody()))
	checkAnswer(t, "calendar_201", e.do("GET", "/api/v1/schedulings/calendar?operation_type=external_transfer&start=2026-11-24&end=2026-12-31", nil))
	checkAnswer(t, "balance_200", e.do("GET", "/api/v1/accounts/"+testAccount+"/balance", nil))
	checkAnswer(t, "fee_201", e.do("GET", "/api/v1/accounts/"+testAccount+"/fees/internal_transfer", nil))
	e.do("POST", "/api/v1/internal_transfers", internalBody("58859"), "x-stone-idempotency-key", "st-1")
	e.s.Advance(2 * time.Second)
	checkAnswer(t, "statement_201", e.do("GET", "/api/v1/accounts/"+testAccount+"/statement", nil))
}

// TestContractWebhooks: the claims of the webhooks, once decrypted and
// verified, have the shape of the documentation's examples.
func TestContractWebhooks(t *testing.T) {
	e := pixEnv(t, Options{Sandbox: true})
	rcv := newReceiver(t, nil)
	e.s.SetWebhook(testClient, rcv.srv.URL)
	p := e.pix(e.pixCreate(map[string]any{"account_id": testAccount, "amount": 1000, "key": "+5521988040465"}, "w-1"))
	e.do("POST", "/api/v1/pix/outbound_pix_payments/"+p.ID+"/actions/confirm", nil, "x-stone-idempotency-key", "w-1-confirm")
	e.s.Advance(DefaultPixReserveDelay + DefaultPixSettleDelay)
	e.do("POST", "/api/v1/internal_transfers", internalBody("58859"), "x-stone-idempotency-key", "w-2")
	e.s.Advance(2 * time.Second)
	e.s.DeliverWebhooks(context.Background())
	dec := decoder(e)
	seen := map[string]bool{}
	for _, d := range rcv.deliveries() {
		name := "webhook_" + d.typ
		if _, err := os.Stat(filepath.Join("testdata", "contract", name+".json")); err != nil {
			continue
		}
		ev, err := dec.Decode(context.Background(), http.Header{"X-Stone-Webhook-Event-Id": {d.id}}, d.body)
		if err != nil {
			t.Fatalf("%s: %v", d.typ, err)
		}
		var claims any
		if err := json.Unmarshal(ev.Raw, &claims); err != nil {
			t.Fatal(err)
		}
		checkShape(t, name, loadExample(t, name), claims)
		seen[d.typ] = true
	}
	for _, want := range []string{stone.EventPixCreated, stone.EventPixMoneyReserved, stone.EventInternalFinished} {
		if !seen[want] {
			t.Errorf("no %s webhook was delivered", want)
		}
	}
}

// TestContractExamplesAllUsed: every example kept is checked by a test
// above, so that none rots unread.
func TestContractExamplesAllUsed(t *testing.T) {
	src, err := os.ReadFile("contract_test.go")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "contract", "*.json"))
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if !strings.Contains(string(src), `"`+name+`"`) && !strings.HasPrefix(name, "webhook_") {
			t.Errorf("example %s is checked by no test", name)
		}
	}
}
