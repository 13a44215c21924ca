package stonetest

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lote/stone"
)

// delivered is one POST a test receiver got.
type delivered struct {
	id, typ string
	body    []byte
}

// receiver is a webhook endpoint that records every POST and answers with
// status(n) for the n-th one (1-based), 200 when status is nil.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []delivered
	status func(n int) int
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	t.Helper()
	r := &receiver{status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, delivered{req.Header.Get(stone.HeaderWebhookEventID), req.Header.Get(stone.HeaderWebhookEventType), b})
		n := len(r.got)
		r.mu.Unlock()
		code := http.StatusOK
		if r.status != nil {
			code = r.status(n)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *receiver) types() []string {
	var out []string
	for _, d := range r.deliveries() {
		out = append(out, d.typ)
	}
	return out
}

// decoder opens deliveries to testClient, trusting the emulator's key.
func decoder(e *env) *stone.WebhookDecoder {
	d := stone.NewWebhookDecoder(clientKey(), func(_ context.Context, kid string) (*rsa.PublicKey, error) {
		if want, _ := e.s.SigningKeyID(); kid != want {
			return nil, stone.ErrUnknownKey
		}
		return &serverKey().PublicKey, nil
	})
	d.Now = e.s.Now
	return d
}

func TestKeysEndpointPublishesPublicKeys(t *testing.T) {
	e := newEnv(t, Options{EncryptionKey: otherKey()})
	resp, err := http.Get(e.s.URL + stone.KeysPath) // no access token
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("%d keys, want sig and enc: %s", len(set.Keys), body)
	}
	for _, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("key %v publishes private member %q", k["kid"], private)
			}
		}
	}
	var keys []stone.JWK
	json.Unmarshal(body, &struct{ Keys *[]stone.JWK }{&keys})
	tests := []struct {
		use, alg string
		want     *rsa.PublicKey
	}{
		{stone.KeyUseSig, "RS256", &serverKey().PublicKey},
		{stone.KeyUseEnc, "RSA-OAEP-256", &otherKey().PublicKey},
	}
	for i, tt := range tests {
		k := keys[i]
		if k.Kty != "RSA" || k.Use != tt.use || k.Alg != tt.alg || k.Kid != keyID(tt.want) {
			t.Errorf("key %d = %+v, want kty RSA, use %s, alg %s, kid %s", i, k, tt.use, tt.alg, keyID(tt.want))
		}
		pub, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if !pub.Equal(tt.want) {
			t.Errorf("key %d (%s) is not the emulator's %s key", i, k.Kid, tt.use)
		}
	}
	if kid, _ := e.s.SigningKeyID(); kid != keys[0].Kid {
		t.Errorf("SigningKeyID = %s, key set says %s", kid, keys[0].Kid)
	}
}

func TestWebhookEventsFollowTheLifecycle(t *testing.T) {
	const (
		created   = stone.EventTransferCreated
		approved  = stone.EventTransferApproved
		started   = stone.EventTransferExecutionStarted
		finished  = stone.EventTransferFinished
		scheduled = stone.EventTransferScheduled
	)
	saturday := time.Date(2026, 11, 28, 10, 0, 0, 0, brasilia)
	tests := []struct {
		name string
		opts Options
		body map[string]any
		// after creating the transfer (id), act moves it on.
		act  func(e *env, id string)
		want []string
	}{
		{"finished", Options{}, seedBody(), func(e *env, _ string) { e.s.Advance(DefaultFinishDelay) },
			[]string{created, approved, started, finished}},
		{"refunded", Options{RefundRule: RefundByAccount(map[string]string{"58859": "1"})}, seedBody(),
			func(e *env, _ string) { e.s.Advance(DefaultFinishDelay); e.s.Advance(DefaultRefundDelay) },
			[]string{created, approved, started, finished, stone.EventTransferRefund}},
		{"insufficient funds", Options{}, with("amount", 200_000_000), nil,
			[]string{created, approved, stone.EventTransferFailed}},
		{"delayed then cancelled", Options{Now: fixedClock(saturday)}, seedBody(),
			func(e *env, id string) { e.do("POST", "/api/v1/external_transfers/"+id+"/cancel", nil) },
			[]string{created, scheduled, stone.EventTransferCancelled}},
		{"rejected", Options{RequireApproval: true}, seedBody(),
			func(e *env, id string) { e.do("POST", "/api/v1/external_transfers/"+id+"/reject", nil) },
			[]string{created, stone.EventTransferRejected}},
		{"expired", Options{RequireApproval: true}, seedBody(), func(e *env, _ string) { e.s.Advance(DefaultApprovalTTL) },
			[]string{created, stone.EventTransferExpired}},
		{"approved, delayed, executed", Options{RequireApproval: true, Now: fixedClock(saturday)}, seedBody(),
			func(e *env, id string) {
				e.do("POST", "/api/v1/external_transfers/"+id+"/approve", nil)
				e.s.Advance(48 * time.Hour) // Monday 10:00
				e.s.Advance(DefaultFinishDelay)
			},
			[]string{created, scheduled, approved, started, finished}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts)
			rcv := newReceiver(t, nil)
			e.s.SetWebhook(testClient, rcv.srv.URL)
			tr := e.transfer(e.create(tt.body, "key-1"))
			if tt.act != nil {
				tt.act(e, tr.ID)
			}
			e.s.DeliverWebhooks(context.Background())
			if got := rcv.types(); !slices.Equal(got, tt.want) {
				t.Fatalf("events %v, want %v", got, tt.want)
			}
			dec := decoder(e)
			final, _ := e.s.Transfer(tr.ID)
			for i, d := range rcv.deliveries() {
				ev, err := dec.Decode(context.Background(), http.Header{
					"X-Stone-Webhook-Event-Id":   {d.id},
					"X-Stone-Webhook-Event-Type": {d.typ},
				}, d.body)
				if err != nil {
					t.Fatalf("delivery %d (%s): %v", i, d.typ, err)
				}
				// Shaped as Stone's examples: the signed id is the
				// transfer's, target_type names the event.
				if ev.ID != d.id || ev.ResourceID != tr.ID || ev.Type != d.typ || ev.Env != "production" ||
					ev.TargetType != strings.TrimPrefix(strings.TrimPrefix(d.typ, "cash_out_"), "cash_in_") || ev.TargetID != tr.ID {
					t.Errorf("delivery %d: event %+v does not match its headers %s %s", i, ev, d.id, d.typ)
				}
				if ev.Transfer == nil || ev.Transfer.AccountID != testAccount || ev.Transfer.Amount != final.Transfer.Amount {
					t.Fatalf("delivery %d: target_data %+v, want the transfer of %d cents from %s", i, ev.Transfer, final.Transfer.Amount, testAccount)
				}
			}
			// The last event carries the transfer's final state.
			last, _ := dec.Decode(context.Background(), nil, rcv.deliveries()[len(tt.want)-1].body)
			if last.Transfer.Status != final.Transfer.Status {
				t.Errorf("last event's transfer is %s, the emulator's %s", last.Transfer.Status, final.Transfer.Status)
			}
			if !last.HappenedAt.Equal(final.History[len(final.History)-1].At) {
				t.Errorf("last event happened at %s, the status changed at %s", last.HappenedAt, final.History[len(final.History)-1].At)
			}
			for _, w := range e.s.Webhooks() {
				if !w.Delivered || w.Attempts != 1 || w.LastStatus != 200 || !w.NextAttempt.IsZero() {
					t.Errorf("webhook %+v, want delivered at the first attempt", w)
				}
			}
		})
	}
}

func TestWebhookRetriedOnTheEmulatorClock(t *testing.T) {
	e := newEnv(t, Options{RequireApproval: true}) // one event: created
	rcv := newReceiver(t, func(n int) int {
		if n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	e.s.SetWebhook(testClient, rcv.srv.URL)
	e.transfer(e.create(seedBody(), "key-1"))
	ctx := context.Background()

	// attempt n fails at t0 + 0, 1, 3 s; the fourth, at t0+7 s, succeeds.
	steps := []struct {
		advance   time.Duration
		posts     int
		attempts  int
		delivered bool
	}{
		{0, 1, 1, false},
		{0, 0, 1, false}, // not due yet
		{time.Second, 1, 2, false},
		{time.Second, 0, 2, false},
		{time.Second, 1, 3, false},
		{3 * time.Second, 0, 3, false},
		{time.Second, 1, 4, true},
		{time.Hour, 0, 4, true},
	}
	t0 := e.s.Now()
	for i, st := range steps {
		e.s.Advance(st.advance)
		if n := e.s.DeliverWebhooks(ctx); n != st.posts {
			t.Fatalf("step %d (t0+%s): %d posts, want %d", i, e.s.Now().Sub(t0), n, st.posts)
		}
		w := e.s.Webhooks()[0]
		if w.Attempts != st.attempts || w.Delivered != st.delivered {
			t.Fatalf("step %d: %+v, want %d attempts, delivered %v", i, w, st.attempts, st.delivered)
		}
	}
	got := rcv.deliveries()
	for _, d := range got[1:] {
		if d.id != got[0].id || string(d.body) != string(got[0].body) {
			t.Errorf("a retry changed the event: id %s body %d bytes, first %s %d bytes", d.id, len(d.body), got[0].id, len(got[0].body))
		}
	}
}

func TestWebhookGivesUpAfterMaxAttempts(t *testing.T) {
	// One event (created) that never expires while the days go by.
	e := newEnv(t, Options{RequireApproval: true, ApprovalTTL: 1000 * time.Hour})
	rcv := newReceiver(t, func(int) int { return http.StatusServiceUnavailable })
	e.s.SetWebhook(testClient, rcv.srv.URL)
	e.transfer(e.create(seedBody(), "key-1"))
	for range WebhookMaxAttempts + 5 {
		e.s.DeliverWebhooks(context.Background())
		e.s.Advance(webhookMaxRetry)
	}
	w := e.s.Webhooks()[0]
	if !w.GaveUp || w.Delivered || w.Attempts != WebhookMaxAttempts || w.LastStatus != 503 {
		t.Errorf("%+v, want given up after %d attempts answered 503", w, WebhookMaxAttempts)
	}
	if n := len(rcv.deliveries()); n != WebhookMaxAttempts {
		t.Errorf("receiver got %d posts, want %d", n, WebhookMaxAttempts)
	}
}

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {12, 2048 * time.Second}, {13, time.Hour}, {49, time.Hour}}
	for _, tt := range tests {
		if got := retryDelay(tt.n); got != tt.want {
			t.Errorf("retryDelay(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestWebhookDuplicates(t *testing.T) {
	e := newEnv(t, Options{Faults: Faults{DuplicateWebhookRate: 1}})
	rcv := newReceiver(t, nil)
	e.s.SetWebhook(testClient, rcv.srv.URL)
	e.transfer(e.create(seedBody(), "key-1"))
	if n := e.s.DeliverWebhooks(context.Background()); n != 6 {
		t.Fatalf("%d posts, want created, approved and execution_started twice each", n)
	}
	got := rcv.deliveries()
	for i := 0; i < len(got); i += 2 {
		if got[i].id != got[i+1].id || string(got[i].body) != string(got[i+1].body) {
			t.Errorf("post %d and %d differ: %s vs %s", i, i+1, got[i].id, got[i+1].id)
		}
	}
	if got[0].id == got[2].id {
		t.Errorf("two events share id %s", got[0].id)
	}
	for _, w := range e.s.Webhooks() {
		if w.Duplicates != 1 || w.Attempts != 1 {
			t.Errorf("%+v, want 1 attempt and 1 duplicate", w)
		}
	}
}

func TestWebhooksOnlyForRegisteredClients(t *testing.T) {
	e := newEnv(t, Options{})
	rcv := newReceiver(t, nil)
	e.transfer(e.create(seedBody(), "key-1")) // before SetWebhook
	e.s.SetWebhook(testClient, rcv.srv.URL)
	e.s.SetWebhook(testClient, "") // and removed again
	e.transfer(e.create(seedBody(), "key-2"))
	e.s.Advance(DefaultFinishDelay)
	e.s.DeliverWebhooks(context.Background())
	if w := e.s.Webhooks(); len(w) != 0 {
		t.Errorf("queued %d events for a client without a webhook: %+v", len(w), w)
	}
	if got := rcv.deliveries(); len(got) != 0 {
		t.Errorf("receiver got %d posts", len(got))
	}
}

// A slow receiver holds the deliverer, never the API.
func TestSlowWebhookReceiverDoesNotBlockTheAPI(t *testing.T) {
	e := newEnv(t, Options{RequireApproval: true})
	entered, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { // runs before slow.Close, which waits for the handler
		select {
		case <-release:
		default:
			close(release)
		}
	})
	e.s.SetWebhook(testClient, slow.URL)
	tr := e.transfer(e.create(seedBody(), "key-1"))
	done := make(chan int)
	go func() { done <- e.s.DeliverWebhooks(context.Background()) }()
	<-entered
	if r := e.do("GET", "/api/v1/external_transfers/"+tr.ID, nil); r.status != http.StatusOK {
		t.Fatalf("GET during a delivery: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/external_transfers/"+tr.ID+"/reject", nil); r.status != http.StatusNoContent {
		t.Fatalf("reject during a delivery: %d %s", r.status, r.body)
	}
	close(release)
	if n := <-done; n != 1 {
		t.Errorf("%d posts, want 1", n)
	}
	if got := e.s.Webhooks(); len(got) != 2 || got[1].EventType != stone.EventTransferRejected {
		t.Errorf("events %+v, want created then rejected", got)
	}
}

func TestEncryptJWEShape(t *testing.T) {
	jwe, err := EncryptJWE(&clientKey().PublicKey, []byte("a.b.c"))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jwe, ".")
	if len(parts) != 5 {
		t.Fatalf("%d parts, want 5", len(parts))
	}
	if parts[0] != "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIiwiY3R5IjoiSldUIn0" {
		t.Errorf("protected header %s, want base64url of %s", parts[0], jweHeader)
	}
	// 2048-bit key: 256-byte wrapped key; 12-byte iv; 5-byte text; 16-byte tag.
	for i, n := range []int{342, 16, 7, 22} {
		if len(parts[i+1]) != n {
			t.Errorf("part %d is %d characters, want %d", i+1, len(parts[i+1]), n)
		}
	}
}

func TestAdminWebhookEndpoints(t *testing.T) {
	e := newEnv(t, Options{RequireApproval: true})
	rcv := newReceiver(t, nil)
	e.s.SetWebhook(testClient, rcv.srv.URL)
	e.transfer(e.create(seedBody(), "key-1"))
	resp, err := http.Post(e.s.URL+"/_sim/webhooks/deliver", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != `{"posts":1}` {
		t.Fatalf("deliver: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(e.s.URL + "/_sim/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []WebhookDelivery
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].EventType != stone.EventTransferCreated || !got[0].Delivered || got[0].EventID != rcv.deliveries()[0].id {
		t.Errorf("webhooks %+v, want the delivered created event", got)
	}
}
