package stone

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/internal/fake"
)

// okBalance answers every API call with a balance.
func okBalance(w http.ResponseWriter, r *http.Request) {
	reply(w, http.StatusOK, `{"balance":1000,"blocked_balance":0,"scheduled_balance":0}`)
}

func TestTokenRequestAndAssertion(t *testing.T) {
	clock := newClock()
	f := newFakeStone(t, okBalance)
	c := f.client(t, clock)
	if _, err := c.Balance(context.Background(), "acc-1"); err != nil {
		t.Fatal(err)
	}
	forms := f.Forms()
	if len(forms) != 1 {
		t.Fatalf("token requests = %d, want 1", len(forms))
	}
	form := forms[0]
	for k, want := range map[string]string{
		"client_id":             "app-123",
		"grant_type":            "client_credentials",
		"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
	} {
		if got := form.Get(k); got != want {
			t.Errorf("form %s = %q, want %q", k, got, want)
		}
	}
	if len(form) != 4 {
		t.Errorf("form has %d fields, want exactly 4: %v", len(form), form)
	}

	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(form.Get("client_assertion"), claims,
		func(*jwt.Token) (any, error) { return &testKey().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(clock.Now))
	if err != nil {
		t.Fatalf("assertion does not verify with the public key: %v", err)
	}
	if tok.Header["typ"] != "JWT" {
		t.Errorf("typ = %v, want JWT", tok.Header["typ"])
	}
	now := clock.Now().Unix()
	want := map[string]any{
		"exp":      float64(now + 300),
		"nbf":      float64(now),
		"iat":      float64(now),
		"realm":    "stone_bank",
		"aud":      f.srv.URL + "/auth/realms/stone_bank",
		"sub":      "app-123",
		"iss":      "app-123",
		"clientId": "app-123",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %#v, want %#v", k, claims[k], v)
		}
	}
	if jti, _ := claims["jti"].(string); len(jti) < 16 {
		t.Errorf("jti = %q, want a unique id", jti)
	}
	if len(claims) != len(want)+1 {
		t.Errorf("claims = %v, want exactly %d", claims, len(want)+1)
	}

	// A wrong key must not verify: the check above can fail.
	other := fake.OtherKey(1)
	if _, err := jwt.Parse(form.Get("client_assertion"), func(*jwt.Token) (any, error) { return &other.PublicKey, nil },
		jwt.WithTimeFunc(clock.Now)); err == nil {
		t.Error("assertion verified with an unrelated key")
	}

	api := f.Requests()[0]
	if got := api.Header.Get("Authorization"); got != "Bearer tok-1" {
		t.Errorf("Authorization = %q, want Bearer tok-1", got)
	}
	if got := api.Header.Get("User-Agent"); got != "lote-test/1" {
		t.Errorf("User-Agent = %q", got)
	}
}

func TestAssertionJTIIsUnique(t *testing.T) {
	clock := newClock()
	f := newFakeStone(t, okBalance)
	c := f.client(t, clock)
	seen := map[string]bool{}
	for range 20 {
		a, err := c.assertion(clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(a, claims); err != nil {
			t.Fatal(err)
		}
		jti := claims["jti"].(string)
		if seen[jti] {
			t.Fatalf("jti %s repeated", jti)
		}
		seen[jti] = true
	}
}

func TestTokenCachedUntilAMinuteBeforeExpiry(t *testing.T) {
	clock := newClock()
	f := newFakeStone(t, okBalance)
	c := f.client(t, clock)
	ctx := context.Background()
	steps := []struct {
		advance    time.Duration
		wantTokens int32
		wantAuth   string
	}{
		{0, 1, "Bearer tok-1"},
		{13 * time.Minute, 1, "Bearer tok-1"},             // 780 s of 900: reused
		{59 * time.Second, 1, "Bearer tok-1"},             // 839 s: still 61 s left
		{2 * time.Second, 2, "Bearer tok-2"},              // 841 s: within the last minute
		{14*time.Minute - time.Second, 2, "Bearer tok-2"}, // 839 s into tok-2
		{time.Hour, 3, "Bearer tok-3"},                    // long expired
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if _, err := c.Balance(ctx, "acc-1"); err != nil {
			t.Fatal(err)
		}
		if got := f.tokenCalls.Load(); got != s.wantTokens {
			t.Errorf("step %d: token requests = %d, want %d", i, got, s.wantTokens)
		}
		reqs := f.Requests()
		if got := reqs[len(reqs)-1].Header.Get("Authorization"); got != s.wantAuth {
			t.Errorf("step %d: Authorization = %q, want %q", i, got, s.wantAuth)
		}
	}
}

func TestShortTokenLifetimeRefreshesAtHalfLife(t *testing.T) {
	clock := newClock()
	f := newFakeStone(t, okBalance)
	f.tokenTTL = 60
	c := f.client(t, clock)
	ctx := context.Background()
	for _, s := range []struct {
		advance time.Duration
		want    int32
	}{{0, 1}, {29 * time.Second, 1}, {2 * time.Second, 2}} {
		clock.Advance(s.advance)
		if _, err := c.Balance(ctx, "acc-1"); err != nil {
			t.Fatal(err)
		}
		if got := f.tokenCalls.Load(); got != s.want {
			t.Errorf("after %v: token requests = %d, want %d", s.advance, got, s.want)
		}
	}
}

func TestConcurrentCallsShareOneTokenRequest(t *testing.T) {
	clock := newClock()
	f := newFakeStone(t, okBalance)
	f.tokenGate = make(chan struct{})
	c := f.client(t, clock)
	const n = 50
	var started, done sync.WaitGroup
	errs := make(chan error, n)
	started.Add(n)
	done.Add(n)
	for range n {
		go func() {
			defer done.Done()
			started.Done()
			_, err := c.Balance(context.Background(), "acc-1")
			errs <- err
		}()
	}
	started.Wait()
	close(f.tokenGate)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.tokenCalls.Load(); got != 1 {
		t.Errorf("token requests = %d for %d concurrent calls, want 1", got, n)
	}
	if got := len(f.Requests()); got != n {
		t.Errorf("API requests = %d, want %d", got, n)
	}

	// Expired: again exactly one refresh for 50 callers.
	clock.Advance(15 * time.Minute)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Balance(context.Background(), "acc-1"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := f.tokenCalls.Load(); got != 2 {
		t.Errorf("token requests after expiry = %d, want 2", got)
	}
}

func TestWaiterLeavesOnItsOwnContext(t *testing.T) {
	f := newFakeStone(t, okBalance)
	f.tokenGate = make(chan struct{})
	c := f.client(t, newClock())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Balance(ctx, "acc-1")
		errc <- err
	}()
	// Wait until the token request is in flight, then give up on it.
	waitFor(t, func() bool {
		c.tokens.mu.Lock()
		defer c.tokens.mu.Unlock()
		return c.tokens.flight != nil
	})
	cancel()
	err := <-errc
	if o, why := Classify(err); o != OutcomeFinal || !strings.Contains(why, "not sent") {
		t.Errorf("Classify = %v %q, want final, not sent", o, why)
	}
	if !errorsIsNotSent(err) {
		t.Errorf("errors.Is(%v, ErrNotSent) = false", err)
	}
	// The shared request goes on for the others and fills the cache.
	close(f.tokenGate)
	if _, err := c.Balance(context.Background(), "acc-1"); err != nil {
		t.Fatal(err)
	}
	if got := f.tokenCalls.Load(); got != 1 {
		t.Errorf("token requests = %d, want 1", got)
	}
}

func TestReauthenticatesOnceOn401(t *testing.T) {
	tests := []struct {
		name         string
		failWith     map[string]bool // Authorization values answered 401
		wantErr      bool
		wantTokens   int32
		wantRequests int
	}{
		{"token revoked early", map[string]bool{"Bearer tok-1": true}, false, 2, 2},
		{"401 after a fresh token", map[string]bool{"Bearer tok-1": true, "Bearer tok-2": true}, true, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStone(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.failWith[r.Header.Get("Authorization")] {
					reply(w, http.StatusUnauthorized, `{"type":"srn:error:unauthenticated"}`)
					return
				}
				okBalance(w, r)
			})
			c := f.client(t, newClock())
			var info CallInfo
			_, err := c.Balance(context.Background(), "acc-1", WithCallInfo(&info))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := f.tokenCalls.Load(); got != tt.wantTokens {
				t.Errorf("token requests = %d, want %d", got, tt.wantTokens)
			}
			if got := len(f.Requests()); got != tt.wantRequests {
				t.Errorf("API requests = %d, want %d", got, tt.wantRequests)
			}
			if info.Attempts != 2 {
				t.Errorf("CallInfo.Attempts = %d, want 2", info.Attempts)
			}
			if err != nil {
				if o, _ := Classify(err); o != OutcomeFinal {
					t.Errorf("Classify = %v, want final", o)
				}
				if strings.Contains(err.Error(), "tok-") {
					t.Errorf("error %q shows a token", err)
				}
			}
		})
	}
}

func TestTokenEndpointRefusal(t *testing.T) {
	tests := []struct {
		status  int
		body    string
		want    Outcome
		wantMsg string
	}{
		{400, `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`, OutcomeFinal,
			"stone: GET /api/v1/accounts/acc-1/balance: not sent: get access token: stone: 400 invalid_client: Invalid client or Invalid client credentials (request kc-9)"},
		{503, `<html><body><h1>503 Service Unavailable</h1></body></html>`, OutcomeRetry,
			"stone: GET /api/v1/accounts/acc-1/balance: not sent: get access token: stone: 503: 503 Service Unavailable (request kc-9)"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			f := newFakeStone(t, okBalance)
			mux := http.NewServeMux()
			mux.HandleFunc(tokenPath, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-Id", "kc-9")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			mux.HandleFunc("/", f.serve)
			f.srv.Config.Handler = mux
			c := f.client(t, newClock())
			_, err := c.Balance(context.Background(), "acc-1")
			if err == nil || err.Error() != tt.wantMsg {
				t.Fatalf("err = %v\nwant   %s", err, tt.wantMsg)
			}
			if o, _ := Classify(err); o != tt.want {
				t.Errorf("Classify = %v, want %v", o, tt.want)
			}
			if len(f.Requests()) != 0 {
				t.Errorf("API called without a token")
			}
			if !errorsIsNotSent(err) {
				t.Errorf("errors.Is(err, ErrNotSent) = false")
			}
		})
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	f := newFakeStone(t, okBalance)
	c := f.client(t, newClock())
	if _, err := c.Balance(context.Background(), "acc-1"); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Env: EnvSandbox, ClientID: "app-123", Key: testKey()}
	d := testKey().D.String()[:20]
	for _, s := range []string{
		fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg),
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
	} {
		if strings.Contains(s, d) || strings.Contains(s, "tok-1") {
			t.Errorf("printed secret: %s", s)
		}
	}
}

func TestTokenEndpointUnusable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	tests := []struct {
		name    string
		auth    string // auth URL; default the fake server answering body
		body    string
		wantWhy string
	}{
		{"refused", refused, "", "not sent: token endpoint unreachable"},
		{"no access_token", "", `{"expires_in":900,"token_type":"bearer"}`, "not sent: token endpoint answer unusable"},
		{"not bearer", "", `{"access_token":"x","expires_in":900,"token_type":"mac"}`, "not sent: token endpoint answer unusable"},
		{"not JSON", "", `<html>`, "not sent: token endpoint answer unusable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStone(t, okBalance)
			mux := http.NewServeMux()
			mux.HandleFunc(tokenPath, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tt.body) })
			mux.HandleFunc("/", f.serve)
			f.srv.Config.Handler = mux
			c := f.client(t, newClock())
			if tt.auth != "" {
				c.auth = tt.auth
			}
			_, err := c.Balance(context.Background(), "acc-1")
			if o, why := Classify(err); o != OutcomeRetry || why != tt.wantWhy {
				t.Errorf("Classify(%v) = %v %q, want retry %q", err, o, why, tt.wantWhy)
			}
			if !errorsIsNotSent(err) || len(f.Requests()) != 0 {
				t.Errorf("err %v: want ErrNotSent and no API request", err)
			}
		})
	}
}
