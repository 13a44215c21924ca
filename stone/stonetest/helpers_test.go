package stonetest

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/internal/fake"
	"lote/stone"
)

// Keys are slow to generate; every test shares these three.
var (
	clientKey = fake.Key
	serverKey = func() *rsa.PrivateKey { return fake.OtherKey(1) }
	otherKey  = func() *rsa.PrivateKey { return fake.OtherKey(2) }
)

const (
	testClient  = "3f2a6c1e-0d5b-4c1f-9a59-4b7e2f1c9d01"
	testAccount = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
)

// tuesday10h is Tuesday 2026-11-24 10:00 in Brasília: a business day, inside
// the TED window.
var tuesday10h = time.Date(2026, 11, 24, 10, 0, 0, 0, brasilia)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// env is an emulator with one client and one account of R$ 1,000,000.00.
type env struct {
	t     testing.TB
	s     *Server
	token string
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedClock(tuesday10h)
	}
	opts.SigningKey = serverKey()
	s := NewServer(opts)
	t.Cleanup(s.Close)
	s.AddClient(testClient, &clientKey().PublicKey)
	s.AddAccount(testAccount, 100_000_000)
	e := &env{t: t, s: s}
	e.token = e.getToken()
	return e
}

// assertion is a client assertion as Stone's guide describes it; change
// edits the claims before signing.
func (e *env) assertion(change func(jwt.MapClaims)) string {
	now := e.s.Now()
	c := jwt.MapClaims{
		"exp":      now.Add(5 * time.Minute).Unix(),
		"nbf":      now.Unix(),
		"iat":      now.Unix(),
		"aud":      e.s.URL + RealmPath,
		"realm":    "stone_bank",
		"sub":      testClient,
		"clientId": testClient,
		"iss":      testClient,
		"jti":      e.s.newUUID(),
	}
	if change != nil {
		change(c)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(clientKey())
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) tokenForm(assertion string) url.Values {
	return url.Values{
		"client_id":             {testClient},
		"grant_type":            {"client_credentials"},
		"client_assertion":      {assertion},
		"client_assertion_type": {assertionType},
	}
}

func (e *env) postToken(form url.Values) (int, []byte) {
	e.t.Helper()
	resp, err := http.PostForm(e.s.URL+TokenPath, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *env) getToken() string {
	e.t.Helper()
	status, b := e.postToken(e.tokenForm(e.assertion(nil)))
	if status != http.StatusOK {
		e.t.Fatalf("token: %d %s", status, b)
	}
	var tr stone.TokenResponse
	if err := json.Unmarshal(b, &tr); err != nil {
		e.t.Fatal(err)
	}
	return tr.AccessToken
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends an authenticated API request; body may be nil, a []byte or a
// value to encode as JSON.
func (e *env) do(method, path string, body any, header ...string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.s.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func (e *env) create(body any, key string) reply {
	e.t.Helper()
	if key == "" {
		return e.do("POST", "/api/v1/external_transfers", body)
	}
	return e.do("POST", "/api/v1/external_transfers", body, "x-stone-idempotency-key", key)
}

// transfer decodes a 202 body, failing the test on any other status.
func (e *env) transfer(r reply) stone.Transfer {
	e.t.Helper()
	if r.status != http.StatusAccepted && r.status != http.StatusOK {
		e.t.Fatalf("status %d, want 202: %s", r.status, r.body)
	}
	var t stone.Transfer
	if err := json.Unmarshal(r.body, &t); err != nil {
		e.t.Fatalf("decode %s: %v", r.body, err)
	}
	return t
}

func (e *env) errorBody(r reply) stone.ErrorBody {
	e.t.Helper()
	var b stone.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		e.t.Fatalf("decode error body %q: %v", r.body, err)
	}
	return b
}

// seedBody is a create body equivalent to Stone's documented example
// (testdata/seed_external_transfer.json).
func seedBody() map[string]any {
	return map[string]any{
		"amount":     100,
		"account_id": testAccount,
		"target": map[string]any{
			"account": map[string]any{
				"account_code":     "58859",
				"branch_code":      "1",
				"institution_code": "90400888",
			},
			"entity": map[string]any{
				"name":          "Octacilio Impoluto",
				"document":      "62752545053",
				"document_type": "cpf",
			},
		},
	}
}

// with returns a copy of seedBody with the value at a dotted path set
// (nil deletes it).
func with(kv ...any) map[string]any {
	b := seedBody()
	for i := 0; i+1 < len(kv); i += 2 {
		path := strings.Split(kv[i].(string), ".")
		m := b
		for _, p := range path[:len(path)-1] {
			m = m[p].(map[string]any)
		}
		if kv[i+1] == nil {
			delete(m, path[len(path)-1])
		} else {
			m[path[len(path)-1]] = kv[i+1]
		}
	}
	return b
}
