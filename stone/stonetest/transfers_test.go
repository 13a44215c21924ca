package stonetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/stone"
)

// TestCreateMatchesStoneExample checks the 202 body against Stone's
// documented example, field by field, with only the id, the timestamps and
// the creator normalised.
func TestCreateMatchesStoneExample(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.create(seedBody(), "seed-1")
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if r.header.Get("x-request-id") == "" {
		t.Error("no x-request-id header")
	}
	var got, want map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile("../testdata/seed_external_transfer.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(seed, &want); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]any{got, want} {
		for _, k := range []string{"id", "created_at", "approved_at", "created_by", "approved_by"} {
			if m[k] == nil {
				t.Errorf("%s is null or missing", k)
			}
			m[k] = "normalised"
		}
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("202 body differs from Stone's example\ngot:  %s\nwant: %s", g, w)
	}
	// Timestamps are whole seconds in UTC, as in the example.
	var raw struct {
		CreatedAt string `json:"created_at"`
	}
	json.Unmarshal(r.body, &raw)
	if raw.CreatedAt != "2026-11-24T13:00:00Z" {
		t.Errorf("created_at = %q, want 2026-11-24T13:00:00Z", raw.CreatedAt)
	}
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		name string
		body any
		want []stone.ErrorReason
	}{
		{"amount missing", with("amount", nil), []stone.ErrorReason{why("can't be blank", "amount")}},
		{"amount zero", with("amount", 0), []stone.ErrorReason{why("must be greater than 0", "amount")}},
		{"amount negative", with("amount", -5), []stone.ErrorReason{why("must be greater than 0", "amount")}},
		{"amount fractional", with("amount", 10.5), []stone.ErrorReason{why("must be an integer", "amount")}},
		{"amount as string", with("amount", "100"), []stone.ErrorReason{why("must be an integer", "amount")}},
		{"amount over maximum", with("amount", json.Number("1000000000000000000")), []stone.ErrorReason{why("must be less than or equal to 999999999999999999", "amount")}},
		{"amount beyond int64", with("amount", json.Number("99999999999999999999999")), []stone.ErrorReason{why("must be less than or equal to 999999999999999999", "amount")}},
		{"account_id missing", with("account_id", nil), []stone.ErrorReason{why("can't be blank", "account_id")}},
		{"account_code with dash", with("target.account.account_code", "12345-6"), []stone.ErrorReason{why("is invalid", "target", "account", "account_code")}},
		{"account_code one digit", with("target.account.account_code", "0007"), []stone.ErrorReason{why("is invalid", "target", "account", "account_code")}},
		{"account_code 21 digits", with("target.account.account_code", "123456789012345678901"), []stone.ErrorReason{why("is invalid", "target", "account", "account_code")}},
		{"account_code all zeros", with("target.account.account_code", "0000"), []stone.ErrorReason{why("is invalid", "target", "account", "account_code")}},
		{"account_code as number", with("target.account.account_code", 58859), []stone.ErrorReason{why("must be a string", "target", "account", "account_code")}},
		{"branch with check digit", with("target.account.branch_code", "1234-5"), []stone.ErrorReason{why("is invalid", "target", "account", "branch_code")}},
		{"branch 5 digits", with("target.account.branch_code", "12345"), []stone.ErrorReason{why("is invalid", "target", "account", "branch_code")}},
		{"institution 4 digits", with("target.account.institution_code", "0033"), []stone.ErrorReason{why("is invalid", "target", "account", "institution_code")}},
		{"institution missing", with("target.account.institution_code", nil), []stone.ErrorReason{why("can't be blank", "target", "account", "institution_code")}},
		{"account type CI", with("target.account.account_type", "CI"), []stone.ErrorReason{why("is invalid", "target", "account", "account_type")}},
		{"account type lower case", with("target.account.account_type", "cc"), []stone.ErrorReason{why("is invalid", "target", "account", "account_type")}},
		{"name blank", with("target.entity.name", "  "), []stone.ErrorReason{why("can't be blank", "target", "entity", "name")}},
		{"document masked", with("target.entity.document", "627.525.450-53"), []stone.ErrorReason{why("is invalid", "target", "entity", "document")}},
		{"document missing", with("target.entity.document", nil), []stone.ErrorReason{why("can't be blank", "target", "entity", "document")}},
		{"document_type disagrees", with("target.entity.document_type", "cnpj"), []stone.ErrorReason{why("is invalid", "target", "entity", "document_type")}},
		{"scheduled_to Brazilian format", with("scheduled_to", "25/12/2026"), []stone.ErrorReason{why("is invalid", "scheduled_to")}},
		{"cumulative", with("amount", 0, "target.account.branch_code", "ABC", "target.entity.name", ""), []stone.ErrorReason{
			why("must be greater than 0", "amount"),
			why("is invalid", "target", "account", "branch_code"),
			why("can't be blank", "target", "entity", "name"),
		}},
		{"not JSON", []byte(`{"amount":`), []stone.ErrorReason{why("body is not a valid JSON object: unexpected end of JSON input")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.create(tt.body, "")
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			b := e.errorBody(r)
			if b.Type != stone.ErrTypeValidation {
				t.Errorf("type %q, want %q", b.Type, stone.ErrTypeValidation)
			}
			for i := range b.Reason {
				if b.Reason[i].Path == nil {
					b.Reason[i].Path = []string{}
				}
			}
			if !reflect.DeepEqual(b.Reason, tt.want) {
				t.Errorf("reasons %+v, want %+v", b.Reason, tt.want)
			}
		})
	}
	if n := len(e.s.Transfers()); n != 0 {
		t.Errorf("%d transfers stored by invalid requests", n)
	}
}

func TestCreateAcceptsValidVariants(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		name     string
		body     any
		wantType string // echoed document_type
	}{
		{"CNPJ", with("target.entity.document", "11222333000181", "target.entity.document_type", "CNPJ"), "cnpj"},
		{"alphanumeric CNPJ", with("target.entity.document", "12ABC34501DE35", "target.entity.document_type", nil), "cnpj"},
		{"legacy cpf field", with("target.entity.document", nil, "target.entity.cpf", "62752545053"), "cpf"},
		{"check digits not verified", with("target.entity.document", "11111111112"), "cpf"},
		{"unknown fields tolerated", with("Type", ""), "cpf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := e.transfer(e.create(tt.body, ""))
			if tr.Target.Entity.DocumentType != tt.wantType {
				t.Errorf("document_type %q, want %q", tr.Target.Entity.DocumentType, tt.wantType)
			}
		})
	}
}

func TestInt32Amount(t *testing.T) {
	e := newEnv(t, Options{Int32Amount: true})
	if r := e.create(with("amount", 2147483647), ""); r.status != http.StatusAccepted {
		t.Errorf("2147483647: status %d, want 202: %s", r.status, r.body)
	}
	r := e.create(with("amount", 2147483648), "")
	if got := e.errorBody(r); r.status != 400 || len(got.Reason) != 1 || got.Reason[0].Error != "must be less than or equal to 2147483647" {
		t.Errorf("2147483648: %d %s", r.status, r.body)
	}
}

func TestAccountTypeRules(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		name, accountType, branch, code string
		wantType, wantBranch, wantCode  string
	}{
		{"PG drops branch", "PG", "1234", "123456", "PG", "", "123456"},
		{"CC over 13 digits becomes PG", "CC", "1234", "12345678901234", "PG", "", "12345678901234"},
		{"null over 13 digits becomes PG", "", "1234", "12345678901234", "PG", "", "12345678901234"},
		{"CC without branch becomes PG", "CC", "", "123456", "PG", "", "123456"},
		{"null without branch becomes PG", "", "", "123456", "PG", "", "123456"},
		{"null with branch is CC, not echoed", "", "1234", "123456", "", "1234", "123456"},
		{"CC with branch stays", "CC", "0001", "123456", "CC", "0001", "123456"},
		{"PP keeps branch", "PP", "1234", "123456", "PP", "1234", "123456"},
		{"leading zeros stripped", "CC", "1234", "000123456", "CC", "1234", "123456"},
		{"13 digits stays CC", "CC", "1234", "1234567890123", "CC", "1234", "1234567890123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := with("target.account.account_code", tt.code, "target.account.branch_code", tt.branch)
			if tt.branch == "" {
				b = with("target.account.account_code", tt.code, "target.account.branch_code", nil)
			}
			if tt.accountType != "" {
				b["target"].(map[string]any)["account"].(map[string]any)["account_type"] = tt.accountType
			}
			a := e.transfer(e.create(b, "")).Target.Account
			if a.AccountType != tt.wantType || a.BranchCode != tt.wantBranch || a.AccountCode != tt.wantCode {
				t.Errorf("got type %q branch %q code %q, want %q %q %q", a.AccountType, a.BranchCode, a.AccountCode, tt.wantType, tt.wantBranch, tt.wantCode)
			}
		})
	}
}

func TestInstitutions(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		name, code           string
		status               int
		errType              string
		ispb, number, bankNm string
	}{
		{"Itaú by COMPE code", "341", 202, "", "60701190", "341", "ITAÚ UNIBANCO S.A."},
		{"Banco do Brasil's all-zero ISPB", "00000000", 202, "", "00000000", "001", "Banco do Brasil S.A."},
		{"Inter by code with leading zero", "077", 202, "", "00416968", "077", "Banco Inter S.A."},
		// Not among the banks the emulator used to know; lote accepts it.
		{"Unicred by COMPE code", "136", 202, "", "00315557", "136", "COOPERATIVA CENTRAL DE CRÉDITO UNICRED DO BRASIL - UNICRED DO BRASIL"},
		{"unknown code", "999", 422, stone.ErrTypeTargetInstitutionNotFound, "", "", ""},
		{"Stone by code", "197", 422, stone.ErrTypeUnprocessableEntity, "", "", ""},
		{"Stone by ISPB", "16501555", 422, stone.ErrTypeUnprocessableEntity, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.create(with("target.account.institution_code", tt.code), "")
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status != 202 {
				if got := e.errorBody(r).Type; got != tt.errType {
					t.Errorf("type %q, want %q", got, tt.errType)
				}
				return
			}
			a := e.transfer(r).Target.Account
			if a.InstitutionISPB != tt.ispb || a.InstitutionNumberCode != tt.number || a.InstitutionName != tt.bankNm || a.InstitutionCode != tt.code {
				t.Errorf("got %+v", a)
			}
		})
	}

	custom := newEnv(t, Options{Institutions: func(code string) (string, string, string, bool) {
		return "12345678", "123", "Banco Teste", code == "123"
	}})
	a := custom.transfer(custom.create(with("target.account.institution_code", "123"), "")).Target.Account
	if a.InstitutionISPB != "12345678" || a.InstitutionName != "Banco Teste" {
		t.Errorf("custom directory: got %+v", a)
	}
	if r := custom.create(seedBody(), ""); r.status != 422 {
		t.Errorf("custom directory without Santander: status %d, want 422", r.status)
	}
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t, Options{})
	e.s.AddAccountFor("someone-else", "foreign", 1000)
	r := e.create(with("account_id", "foreign"), "")
	if r.status != http.StatusForbidden || e.errorBody(r).Type != stone.ErrTypeUnauthorized {
		t.Errorf("foreign account: %d %s, want 403 unauthorized", r.status, r.body)
	}
	if r := e.create(with("account_id", "no-such-account"), ""); r.status != http.StatusForbidden {
		t.Errorf("unknown account: %d, want 403", r.status)
	}
	if r := e.do("GET", "/api/v1/accounts/foreign/balance", nil); r.status != http.StatusForbidden {
		t.Errorf("foreign balance: %d, want 403", r.status)
	}

	for name, tok := range map[string]string{"missing": "", "garbage": "abc.def.ghi", "other server's": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"} {
		e2 := *e
		e2.token = tok
		r := e2.create(seedBody(), "")
		if r.status != http.StatusUnauthorized || string(r.body) != `{"type":"srn:error:unauthenticated"}` {
			t.Errorf("%s token: %d %s, want 401 unauthenticated", name, r.status, r.body)
		}
	}

	// The access token lives 900 s on the emulator's clock.
	e.s.Advance(899 * time.Second)
	if r := e.do("GET", "/api/v1/accounts/"+testAccount+"/balance", nil); r.status != http.StatusOK {
		t.Errorf("token at 899 s: %d, want 200", r.status)
	}
	e.s.Advance(time.Second)
	if r := e.do("GET", "/api/v1/accounts/"+testAccount+"/balance", nil); r.status != http.StatusUnauthorized {
		t.Errorf("token at 900 s: %d, want 401", r.status)
	}
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t, Options{IdempotencyTTL: time.Hour})
	first := e.transfer(e.create(seedBody(), "key-1"))

	// Same key, same body (re-encoded with other spacing): the same answer.
	again := e.create([]byte(`{ "account_id": "`+testAccount+`", "amount": 100, "target": {"entity": {"name": "Octacilio Impoluto", "document": "62752545053", "document_type": "cpf"}, "account": {"institution_code": "90400888", "branch_code": "1", "account_code": "58859"}}}`), "key-1")
	if got := e.transfer(again); got.ID != first.ID {
		t.Errorf("replay id %s, want %s", got.ID, first.ID)
	}

	r := e.create(with("amount", 101), "key-1")
	if r.status != http.StatusConflict || e.errorBody(r).Type != stone.ErrTypeIdempotencyConflict {
		t.Errorf("different body: %d %s, want 409 idempotency_conflict", r.status, r.body)
	}

	r = e.create(seedBody(), strings.Repeat("k", 73))
	if r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("73-character key: %d, want 431", r.status)
	}
	if r := e.create(seedBody(), strings.Repeat("k", 72)); r.status != http.StatusAccepted {
		t.Errorf("72-character key: %d, want 202", r.status)
	}

	// Keys are per client: another client may use the same one.
	// After the TTL the key is refused, whatever the body.
	e.s.Advance(time.Hour)
	e.token = e.getToken()
	r = e.create(seedBody(), "key-1")
	if r.status != http.StatusConflict || e.errorBody(r).Type != stone.ErrTypeConflict {
		t.Errorf("after TTL: %d %s, want 409 conflict", r.status, r.body)
	}

	// An error answer does not use the key up: the corrected request passes.
	if r := e.create(with("amount", 0), "key-2"); r.status != 400 {
		t.Fatalf("invalid: %d", r.status)
	}
	if r := e.create(seedBody(), "key-2"); r.status != http.StatusAccepted {
		t.Errorf("corrected request with the same key: %d %s, want 202", r.status, r.body)
	}

	if n := len(e.s.Transfers()); n != 3 {
		t.Errorf("%d transfers, want 3", n)
	}
	if rec, ok := e.s.TransferByKey("key-1"); !ok || rec.Transfer.ID != first.ID {
		t.Errorf("TransferByKey(key-1) = %s, %v; want %s", rec.Transfer.ID, ok, first.ID)
	}
}

func TestIdempotencyKeysArePerClient(t *testing.T) {
	e := newEnv(t, Options{})
	e.s.AddClient("second", &clientKey().PublicKey)
	a := e.transfer(e.create(seedBody(), "shared"))

	e2 := &env{t: t, s: e.s}
	form := e.tokenForm(e.assertion(func(c jwt.MapClaims) {
		c["sub"], c["iss"], c["clientId"] = "second", "second", "second"
	}))
	form.Set("client_id", "second")
	status, body := e.postToken(form)
	if status != 200 {
		t.Fatalf("token for second client: %d %s", status, body)
	}
	var tr stone.TokenResponse
	json.Unmarshal(body, &tr)
	e2.token = tr.AccessToken
	b := e2.transfer(e2.create(seedBody(), "shared"))
	if a.ID == b.ID {
		t.Error("two clients' identical keys returned one transfer")
	}
}

func TestIdempotencyInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e := newEnv(t, Options{InFlight: func(*http.Request) {
		once.Do(func() { close(entered); <-release })
	}})
	done := make(chan reply)
	go func() { done <- e.create(seedBody(), "slow") }()
	<-entered
	r := e.create(seedBody(), "slow")
	if r.status != http.StatusLocked {
		t.Errorf("while in flight: %d %s, want 423", r.status, r.body)
	}
	if r := e.create(with("amount", 5), "slow"); r.status != http.StatusConflict {
		t.Errorf("different body while in flight: %d, want 409", r.status)
	}
	close(release)
	first := e.transfer(<-done)
	if got := e.transfer(e.create(seedBody(), "slow")); got.ID != first.ID {
		t.Errorf("after completion: id %s, want %s", got.ID, first.ID)
	}
}

func TestConcurrentCreatesOneTransferPerKey(t *testing.T) {
	e := newEnv(t, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]map[string]bool{}
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "row-" + string(rune('A'+i%50/26)) + string(rune('a'+i%50%26))
			b := with("amount", 100+i%50)
			r := e.create(b, key)
			if r.status == http.StatusLocked {
				return // the same key is being created right now; a retry would replay
			}
			tr := e.transfer(r)
			mu.Lock()
			if ids[key] == nil {
				ids[key] = map[string]bool{}
			}
			ids[key][tr.ID] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	recs := e.s.Transfers()
	if len(recs) != 50 {
		t.Fatalf("%d transfers, want 50", len(recs))
	}
	for key, set := range ids {
		if len(set) != 1 {
			t.Errorf("key %s answered with %d ids", key, len(set))
		}
		rec, _ := e.s.TransferByKey(key)
		if !set[rec.Transfer.ID] {
			t.Errorf("key %s: answered %v, stored %s", key, set, rec.Transfer.ID)
		}
	}
}

func TestDropAfterCommitThenRetry(t *testing.T) {
	e := newEnv(t, Options{Faults: Faults{DropRate: 1}})
	req, _ := http.NewRequest("POST", e.s.URL+"/api/v1/external_transfers", strings.NewReader(mustJSON(seedBody())))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("x-stone-idempotency-key", "dropped")
	if resp, err := http.DefaultTransport.RoundTrip(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer %d, want a dropped connection", resp.StatusCode)
	}
	recs := e.s.Transfers()
	if len(recs) != 1 {
		t.Fatalf("%d transfers after the drop, want 1", len(recs))
	}
	e.s.SetFaults(Faults{})
	got := e.transfer(e.create(seedBody(), "dropped"))
	if got.ID != recs[0].Transfer.ID {
		t.Errorf("retry id %s, want the dropped one %s", got.ID, recs[0].Transfer.ID)
	}
	if n := len(e.s.Transfers()); n != 1 {
		t.Errorf("%d transfers after the retry, want 1", n)
	}
	var dropped int
	for _, l := range e.s.Requests() {
		if l.Status == 0 {
			dropped++
		}
	}
	if dropped != 1 {
		t.Errorf("%d requests logged as dropped, want 1", dropped)
	}
}

// why is the reason Stone gives for a field (path empty for the body).
func why(msg string, path ...string) stone.ErrorReason {
	if path == nil {
		path = []string{}
	}
	return stone.ErrorReason{Error: msg, Path: path}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestDryRunStoresNothing(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.do("POST", "/api/v1/dry_run/external_transfers", seedBody())
	tr := e.transfer(r)
	if tr.Fee != 400 || tr.Target.Account.InstitutionNumberCode != "033" || tr.Status != stone.StatusApproved {
		t.Errorf("dry run: %+v", tr)
	}
	if r := e.do("POST", "/api/v1/dry_run/external_transfers", with("amount", 0)); r.status != 400 {
		t.Errorf("invalid dry run: %d, want 400", r.status)
	}
	if n := len(e.s.Transfers()); n != 0 {
		t.Errorf("dry run stored %d transfers", n)
	}
	if r := e.do("GET", "/api/v1/external_transfers/"+tr.ID, nil); r.status != 404 {
		t.Errorf("dry-run id found: %d", r.status)
	}
}

func TestGetAndNotFound(t *testing.T) {
	e := newEnv(t, Options{})
	tr := e.transfer(e.create(seedBody(), ""))
	got := e.transfer(e.do("GET", "/api/v1/external_transfers/"+tr.ID, nil))
	if got.ID != tr.ID || got.Amount != 100 {
		t.Errorf("get: %+v", got)
	}
	r := e.do("GET", "/api/v1/external_transfers/00000000-0000-4000-8000-000000000000", nil)
	if r.status != 404 || e.errorBody(r).Type != stone.ErrTypeNotFound {
		t.Errorf("unknown id: %d %s", r.status, r.body)
	}
}

func TestListPagination(t *testing.T) {
	e := newEnv(t, Options{})
	var ids []string // creation order
	for i := range 60 {
		ids = append(ids, e.transfer(e.create(with("amount", i+1), "")).ID)
	}
	list := func(q string) stone.Page[stone.Transfer] {
		t.Helper()
		r := e.do("GET", "/api/v1/external_transfers?account_id="+testAccount+q, nil)
		if r.status != 200 {
			t.Fatalf("list %s: %d %s", q, r.status, r.body)
		}
		var p stone.Page[stone.Transfer]
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Walk forward (newest first) with the default limit of 25.
	var seen []string
	q := ""
	var pages []stone.Page[stone.Transfer]
	for {
		p := list(q)
		pages = append(pages, p)
		for _, tr := range p.Data {
			seen = append(seen, tr.ID)
		}
		if p.Cursor.After == nil {
			break
		}
		q = "&after=" + *p.Cursor.After
	}
	if len(pages) != 3 || len(pages[0].Data) != 25 || len(pages[1].Data) != 25 || len(pages[2].Data) != 10 {
		t.Fatalf("page sizes: %d pages", len(pages))
	}
	if pages[0].Cursor.Limit != 25 || pages[0].Cursor.Before != nil {
		t.Errorf("first page cursor: %+v", pages[0].Cursor)
	}
	for i, id := range seen {
		if id != ids[59-i] {
			t.Fatalf("item %d is %s, want %s (newest first)", i, id, ids[59-i])
		}
	}
	// Walk back from the last page.
	back := list("&before=" + *pages[2].Cursor.Before)
	if len(back.Data) != 25 || back.Data[0].ID != ids[34] || back.Data[24].ID != ids[10] {
		t.Errorf("page before the last: %d items, first %s", len(back.Data), back.Data[0].ID)
	}
	if p := list("&limit=100"); len(p.Data) != 60 || p.Cursor.After != nil {
		t.Errorf("limit 100: %d items", len(p.Data))
	}
	// The documentation sets no maximum: a larger limit is served at 100,
	// not refused.
	if p := list("&limit=1000"); len(p.Data) != 60 || p.Cursor.Limit != 100 {
		t.Errorf("limit 1000: %d items, cursor.limit %d, want 60 and 100", len(p.Data), p.Cursor.Limit)
	}
	for _, bad := range []string{"&after=not-a-cursor", "&before=eHl6", "&limit=0", "&limit=x"} {
		r := e.do("GET", "/api/v1/external_transfers?account_id="+testAccount+bad, nil)
		if r.status != 400 || e.errorBody(r).Type != stone.ErrTypeInvalidCursor {
			t.Errorf("%s: %d %s, want 400 invalid_cursor", bad, r.status, r.body)
		}
	}
}

// TestTransferIDsDifferAcrossRestarts: two emulators with the same seed, as
// one stonesim restarted with its default --seed, issue different transfer
// ids, so a ledger kept across the restart never sees one id for two
// transfers. DeterministicIDs still gives a golden file the same ids.
func TestTransferIDsDifferAcrossRestarts(t *testing.T) {
	ids := func(o Options) []string {
		e := newEnv(t, o)
		var out []string
		for i := range 3 {
			out = append(out, e.transfer(e.create(seedBody(), fmt.Sprintf("key-%d", i))).ID)
		}
		return out
	}
	first, second := ids(Options{Seed: 1}), ids(Options{Seed: 1})
	for _, id := range second {
		if slices.Contains(first, id) {
			t.Errorf("transfer id %s issued by both emulators of seed 1 (%v, %v)", id, first, second)
		}
	}
	a, b := ids(Options{Seed: 1, DeterministicIDs: true}), ids(Options{Seed: 1, DeterministicIDs: true})
	if !slices.Equal(a, b) {
		t.Errorf("with DeterministicIDs, seed 1 issued %v then %v; want the same ids", a, b)
	}
}
