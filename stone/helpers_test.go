package stone

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lote/internal/fake"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// testKey is the test binary's one RSA key.
var testKey = fake.Key

// newClock is a clock that moves only when told to.
func newClock() *fake.Clock { return fake.NewClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)) }

// fakeStone is a minimal Stone for tests: a token endpoint that hands out
// "tok-1", "tok-2", … and an API handler set by each test. It records every
// token form and API request.
type fakeStone struct {
	srv *httptest.Server

	tokenTTL   int           // expires_in; 900 unless set
	tokenGate  chan struct{} // when non-nil, token requests wait for it to close
	tokenCalls atomic.Int32

	mu       sync.Mutex
	forms    []url.Values
	requests []recorded
	api      http.HandlerFunc
}

// recorded is one API request as the server saw it.
type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

func newFakeStone(t testing.TB, api http.HandlerFunc) *fakeStone {
	t.Helper()
	f := &fakeStone{tokenTTL: 900, api: api}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeStone) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == tokenPath {
		f.serveToken(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
	api := f.api
	f.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	api(w, r)
}

func (f *fakeStone) serveToken(w http.ResponseWriter, r *http.Request) {
	if f.tokenGate != nil {
		<-f.tokenGate
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n := f.tokenCalls.Add(1)
	f.mu.Lock()
	f.forms = append(f.forms, r.PostForm)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":%d,"refresh_expires_in":1800,"token_type":"bearer","not-before-policy":0,"scope":"paymentaccount:*"}`, n, f.tokenTTL)
}

func (f *fakeStone) Requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

func (f *fakeStone) Forms() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.forms...)
}

// client returns a Client for f with the clock, if any.
func (f *fakeStone) client(t testing.TB, clock *fake.Clock) *Client {
	t.Helper()
	cfg := Config{APIURL: f.srv.URL, AuthURL: f.srv.URL, ClientID: "app-123", Key: testKey(), UserAgent: "lote-test/1"}
	if clock != nil {
		cfg.Now = clock.Now
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reply writes status and a JSON body, with an x-request-id.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req-1")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\ngot:  %s\nwant: %s", path, got, want)
	}
}

// seedTransfer is Stone's documented 202 example.
func seedTransfer(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seed_external_transfer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonMap decodes b into a generic map, for comparisons that ignore key order.
func jsonMap(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func errorsIsNotSent(err error) bool { return errors.Is(err, ErrNotSent) }

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10 s")
		}
		runtime.Gosched()
	}
}
