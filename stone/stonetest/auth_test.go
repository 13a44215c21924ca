package stonetest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/stone"
)

func TestTokenResponse(t *testing.T) {
	e := newEnv(t, Options{})
	status, body := e.postToken(e.tokenForm(e.assertion(nil)))
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var tr stone.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.ExpiresIn != 900 || tr.TokenType != "bearer" {
		t.Errorf("expires_in %d token_type %q, want 900 bearer", tr.ExpiresIn, tr.TokenType)
	}
	// The access token is an RS256 JWT signed by the emulator's key.
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tr.AccessToken, claims, func(*jwt.Token) (any, error) { return &serverKey().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(e.s.Now)); err != nil {
		t.Fatalf("access token: %v", err)
	}
	if claims["clientId"] != testClient || claims["iss"] != e.s.URL+RealmPath {
		t.Errorf("claims %v", claims)
	}
}

func TestAssertionChecks(t *testing.T) {
	tests := []struct {
		name    string
		lenient bool
		change  func(c jwt.MapClaims)
		form    func(f map[string][]string)
		sign    func(c jwt.MapClaims) string
		status  int
		oauth   string // error field
	}{
		{name: "as documented", status: 200},
		{name: "aud is the token URL", change: func(c jwt.MapClaims) { c["aud"] = c["aud"].(string) + "/protocol/openid-connect/token" }, status: 200},
		{name: "aud as a list", change: func(c jwt.MapClaims) { c["aud"] = []string{"other", c["aud"].(string)} }, status: 200},
		{name: "no nbf", change: func(c jwt.MapClaims) { delete(c, "nbf") }, status: 200},
		{name: "wrong aud", change: func(c jwt.MapClaims) { c["aud"] = "https://accounts.openbank.stone.com.br/auth/realms/stone_bank" }, status: 401, oauth: "invalid_client"},
		{name: "aud with trailing slash", change: func(c jwt.MapClaims) { c["aud"] = c["aud"].(string) + "/" }, status: 401, oauth: "invalid_client"},
		{name: "bad signature", sign: func(c jwt.MapClaims) string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(otherKey())
			return s
		}, status: 401, oauth: "invalid_client"},
		{name: "HS256", sign: func(c jwt.MapClaims) string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("secret"))
			return s
		}, status: 401, oauth: "invalid_client"},
		{name: "expired", change: func(c jwt.MapClaims) {
			c["iat"], c["exp"] = tuesday10h.Add(-10*time.Minute).Unix(), tuesday10h.Add(-time.Second).Unix()
		}, status: 401, oauth: "invalid_client"},
		{name: "exp 16 minutes, strict", change: func(c jwt.MapClaims) { c["exp"] = tuesday10h.Add(16 * time.Minute).Unix() }, status: 401, oauth: "invalid_client"},
		{name: "exp 15 minutes, strict", change: func(c jwt.MapClaims) { c["exp"] = tuesday10h.Add(15 * time.Minute).Unix() }, status: 200},
		{name: "exp 2 hours, lenient", lenient: true, change: func(c jwt.MapClaims) { c["exp"] = tuesday10h.Add(2 * time.Hour).Unix() }, status: 200},
		{name: "exp 3 hours, lenient", lenient: true, change: func(c jwt.MapClaims) { c["exp"] = tuesday10h.Add(3 * time.Hour).Unix() }, status: 401, oauth: "invalid_client"},
		{name: "client_id claim, strict", change: func(c jwt.MapClaims) { delete(c, "clientId"); c["client_id"] = testClient }, status: 401, oauth: "invalid_client"},
		{name: "client_id claim, lenient", lenient: true, change: func(c jwt.MapClaims) { delete(c, "clientId"); c["client_id"] = testClient }, status: 200},
		{name: "sub differs", change: func(c jwt.MapClaims) { c["sub"] = "someone" }, status: 401, oauth: "invalid_client"},
		{name: "no iss", change: func(c jwt.MapClaims) { delete(c, "iss") }, status: 401, oauth: "invalid_client"},
		{name: "realm missing", change: func(c jwt.MapClaims) { delete(c, "realm") }, status: 401, oauth: "invalid_client"},
		{name: "nbf in a minute", change: func(c jwt.MapClaims) { c["nbf"] = tuesday10h.Add(time.Minute).Unix() }, status: 401, oauth: "invalid_client"},
		{name: "nbf within skew", change: func(c jwt.MapClaims) { c["nbf"] = tuesday10h.Add(3 * time.Second).Unix() }, status: 200},
		{name: "no jti", change: func(c jwt.MapClaims) { delete(c, "jti") }, status: 401, oauth: "invalid_client"},
		{name: "unknown client", form: func(f map[string][]string) { f["client_id"] = []string{"nobody"} }, status: 401, oauth: "invalid_client"},
		{name: "missing grant_type", form: func(f map[string][]string) { delete(f, "grant_type") }, status: 400, oauth: "invalid_request"},
		{name: "password grant", form: func(f map[string][]string) { f["grant_type"] = []string{"password"} }, status: 400, oauth: "unsupported_grant_type"},
		{name: "wrong assertion type", form: func(f map[string][]string) { f["client_assertion_type"] = []string{"jwt"} }, status: 400, oauth: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{LenientAssertions: tt.lenient})
			var a string
			if tt.sign != nil {
				c := jwt.MapClaims{}
				e.assertion(func(m jwt.MapClaims) {
					for k, v := range m {
						c[k] = v
					}
				})
				a = tt.sign(c)
			} else {
				a = e.assertion(tt.change)
			}
			f := e.tokenForm(a)
			if tt.form != nil {
				tt.form(f)
			}
			status, body := e.postToken(f)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if tt.oauth != "" {
				var oe oauthError
				json.Unmarshal(body, &oe)
				if oe.Error != tt.oauth || oe.Description == "" {
					t.Errorf("body %s, want error %q with a description", body, tt.oauth)
				}
			}
		})
	}
}

func TestAssertionReplay(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.assertion(nil)
	if status, body := e.postToken(e.tokenForm(a)); status != 200 {
		t.Fatalf("first use: %d %s", status, body)
	}
	status, body := e.postToken(e.tokenForm(a))
	var oe oauthError
	json.Unmarshal(body, &oe)
	if status != http.StatusUnauthorized || oe.Error != "invalid_client" {
		t.Errorf("replayed jti: %d %s, want 401 invalid_client", status, body)
	}
}

func TestTokenExpiresOnEmulatorClock(t *testing.T) {
	e := newEnv(t, Options{})
	path := "/api/v1/accounts/" + testAccount + "/fees/external_transfer"
	e.s.Advance(899 * time.Second)
	if r := e.do("GET", path, nil); r.status != 201 {
		t.Fatalf("at 899 s: %d", r.status)
	}
	e.s.Advance(time.Second)
	r := e.do("GET", path, nil)
	if r.status != 401 || e.errorBody(r).Type != stone.ErrTypeUnauthenticated {
		t.Errorf("at 900 s: %d %s, want 401 unauthenticated", r.status, r.body)
	}
	if r.header.Get("x-request-id") == "" {
		t.Error("401 without x-request-id")
	}
}

// TestAssertionClock: with AssertionClock on the clients' (real) clock, an
// assertion made now is accepted after the emulator's clock was moved two
// hours ahead, as stonesim needs; on the emulator's clock it has expired.
func TestAssertionClock(t *testing.T) {
	for _, tt := range []struct {
		name   string
		clock  func() time.Time
		status int
	}{
		{"emulator's clock", nil, http.StatusUnauthorized},
		{"clients' clock", fixedClock(tuesday10h), http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{AssertionClock: tt.clock})
			e.s.Advance(2 * time.Hour)
			// Made on the clients' clock, which did not move.
			a := e.assertion(func(c jwt.MapClaims) {
				c["iat"], c["nbf"], c["exp"] = tuesday10h.Unix(), tuesday10h.Unix(), tuesday10h.Add(5*time.Minute).Unix()
			})
			if status, body := e.postToken(e.tokenForm(a)); status != tt.status {
				t.Errorf("token: %d %s, want %d", status, body, tt.status)
			}
		})
	}
}
