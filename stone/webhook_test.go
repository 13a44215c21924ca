package stone_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/internal/fake"
	"lote/stone"
	"lote/stone/stonetest"
)

// Keys for the webhook tests: the application's, the emulator's signing key
// and a stranger's. Generated once per test binary.
var (
	whAppKey   = fake.Key
	whSimKey   = func() *rsa.PrivateKey { return fake.OtherKey(1) }
	whOtherKey = func() *rsa.PrivateKey { return fake.OtherKey(2) }
)

const (
	whClient  = "app-webhooks"
	whAccount = "acc-webhooks"
	whKid     = "sim-sig-1"
)

// whTuesday is 10:00 in São Paulo on a business day: TEDs execute at once.
var whTuesday = time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)

// whReceiver is the application's webhook endpoint as cmd/lote will build
// it: it decodes every delivery, answers 400 to a forged one and 503 when
// Stone's keys cannot be had, and deduplicates on the event id.
type whReceiver struct {
	srv  *httptest.Server
	dec  *stone.WebhookDecoder
	fail func(ev stone.WebhookEvent, n int) bool // answer 500 to the n-th delivery of ev

	mu     sync.Mutex
	seen   map[string]int // event id → deliveries received
	events []stone.WebhookEvent
	errs   []error
}

func newWHReceiver(t *testing.T, dec *stone.WebhookDecoder) *whReceiver {
	t.Helper()
	r := &whReceiver{dec: dec, seen: make(map[string]int)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *whReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, stone.MaxWebhookBody+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ev, err := r.dec.Decode(req.Context(), req.Header, body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs = append(r.errs, err)
		if errors.Is(err, stone.ErrInvalidWebhook) {
			w.WriteHeader(http.StatusBadRequest)
		} else {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		return
	}
	r.seen[ev.ID]++
	if r.fail != nil && r.fail(ev, r.seen[ev.ID]) {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if r.seen[ev.ID] == 1 || !slices.ContainsFunc(r.events, func(e stone.WebhookEvent) bool { return e.ID == ev.ID }) {
		r.events = append(r.events, ev)
	}
	w.WriteHeader(http.StatusNoContent)
}

// statuses lists, per transfer id, the event types received in order.
func (r *whReceiver) types(transferID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		if ev.TargetID == transferID {
			out = append(out, ev.Type)
		}
	}
	return out
}

// whEmulator starts the emulator with the application registered, a funded
// account, a client for its API, and a receiver for its webhooks that
// verifies signatures against the emulator's published key set.
func whEmulator(t *testing.T, opts stonetest.Options) (*stonetest.Server, *stone.Client, *whReceiver) {
	t.Helper()
	opts.Now = func() time.Time { return whTuesday }
	opts.SigningKey = whSimKey()
	opts.EncryptionKey = whOtherKey()
	opts.Seed = 7
	sim := stonetest.NewServer(opts)
	t.Cleanup(sim.Close)
	sim.AddClient(whClient, &whAppKey().PublicKey)
	sim.AddAccount(whAccount, 1_000_000_00)
	c, err := stone.NewClient(stone.Config{APIURL: sim.URL, AuthURL: sim.URL, ClientID: whClient, Key: whAppKey(), Now: sim.Now})
	if err != nil {
		t.Fatal(err)
	}
	dec := stone.NewWebhookDecoder(whAppKey(), stone.NewJWKS(sim.Client(), sim.URL, sim.Now).Key)
	dec.Now = sim.Now
	rcv := newWHReceiver(t, dec)
	sim.SetWebhook(whClient, rcv.srv.URL)
	return sim, c, rcv
}

func whTED(amount int64, accountCode string) stone.CreateExternalTransfer {
	return stone.CreateExternalTransfer{
		Amount:    amount,
		AccountID: whAccount,
		Target: stone.TransferTarget{
			Account: stone.TargetAccount{AccountCode: accountCode, BranchCode: "1", InstitutionCode: "033", AccountType: stone.AccountChecking},
			Entity:  stone.TargetEntity{Name: "Octacilio Impoluto", Document: "62752545053", DocumentType: "cpf"},
		},
	}
}

func TestWebhooksEndToEnd(t *testing.T) {
	sim, c, rcv := whEmulator(t, stonetest.Options{
		RefundRule: stonetest.RefundByAccount(map[string]string{"77777": "3"}),
		Faults:     stonetest.Faults{DuplicateWebhookRate: 0.5},
	})
	// The receiver is down for the first delivery of every finished event.
	rcv.fail = func(ev stone.WebhookEvent, n int) bool { return ev.Type == stone.EventTransferFinished && n == 1 }
	ctx := context.Background()
	paid, err := c.CreateTransfer(ctx, "row-2", whTED(123_45, "58859"))
	if err != nil {
		t.Fatal(err)
	}
	returned, err := c.CreateTransfer(ctx, "row-3", whTED(500_00, "77777"))
	if err != nil {
		t.Fatal(err)
	}
	sim.DeliverWebhooks(ctx)
	sim.Advance(stonetest.DefaultFinishDelay)
	sim.DeliverWebhooks(ctx) // finished: answered 500
	sim.Advance(time.Second)
	sim.DeliverWebhooks(ctx) // finished again: delivered
	sim.Advance(stonetest.DefaultRefundDelay)
	sim.DeliverWebhooks(ctx)

	if len(rcv.errs) > 0 {
		t.Fatalf("receiver refused deliveries: %v", rcv.errs)
	}
	lifecycle := []string{stone.EventTransferCreated, stone.EventTransferApproved, stone.EventTransferExecutionStarted, stone.EventTransferFinished}
	if got := rcv.types(paid.ID); !slices.Equal(got, lifecycle) {
		t.Errorf("transfer of R$ 123,45: events %v, want %v", got, lifecycle)
	}
	if got := rcv.types(returned.ID); !slices.Equal(got, append(lifecycle, stone.EventTransferRefund)) {
		t.Errorf("refunded transfer: events %v, want %v + refund", got, lifecycle)
	}

	// What lote will apply to its ledger: the final status and amounts.
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	duplicates := 0
	for _, ev := range rcv.events {
		tr := ev.Transfer
		if tr == nil || tr.ID != ev.TargetID || tr.AccountID != whAccount || ev.Env != "production" {
			t.Fatalf("event %s %s: transfer %+v, env %q", ev.ID, ev.Type, tr, ev.Env)
		}
		want := map[string]int64{paid.ID: 123_45, returned.ID: 500_00}[tr.ID]
		if tr.Amount != want || tr.Fee != stonetest.DefaultFee {
			t.Errorf("event %s: amount %d fee %d, want %d and %d cents", ev.Type, tr.Amount, tr.Fee, want, stonetest.DefaultFee)
		}
		switch ev.Type {
		case stone.EventTransferFinished:
			if tr.Status != stone.StatusFinished || tr.FinishedAt == nil || !ev.HappenedAt.Equal(*tr.FinishedAt) {
				t.Errorf("finished event: status %s finished_at %v happened %s", tr.Status, tr.FinishedAt, ev.HappenedAt)
			}
			if rcv.seen[ev.ID] < 2 {
				t.Errorf("finished event %s received %d times, want again after the 500", ev.ID, rcv.seen[ev.ID])
			}
		case stone.EventTransferRefund:
			if tr.Status != stone.StatusRefunded || tr.RefundReasonCode == nil || *tr.RefundReasonCode != "3" {
				t.Errorf("refund event: status %s reason %v, want REFUNDED with code 3", tr.Status, tr.RefundReasonCode)
			}
		}
		if ev.Type != stone.EventTransferFinished && rcv.seen[ev.ID] == 2 {
			duplicates++
		}
	}
	if duplicates == 0 {
		t.Error("no event was delivered twice at DuplicateWebhookRate 0.5")
	}
	// Every delivery the emulator counts arrived and was deduplicated here.
	for _, w := range sim.Webhooks() {
		if want := w.Attempts + w.Duplicates; rcv.seen[w.EventID] != want || !w.Delivered {
			t.Errorf("event %s %s: emulator posted %d, receiver saw %d", w.EventID, w.EventType, want, rcv.seen[w.EventID])
		}
	}
}

// genuine returns one delivery the emulator made (header and body) and the
// emulator, for tests that alter it.
func genuine(t *testing.T) (http.Header, []byte, *stonetest.Server) {
	t.Helper()
	sim, c, rcv := whEmulator(t, stonetest.Options{RequireApproval: true})
	var (
		mu     sync.Mutex
		header http.Header
		body   []byte
	)
	rcv.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		header, body = r.Header.Clone(), b
		mu.Unlock()
	})
	if _, err := c.CreateTransfer(context.Background(), "row-2", whTED(100, "58859")); err != nil {
		t.Fatal(err)
	}
	if n := sim.DeliverWebhooks(context.Background()); n != 1 {
		t.Fatalf("%d deliveries, want the created event only", n)
	}
	mu.Lock()
	defer mu.Unlock()
	return header, body, sim
}

func staticKeys(kid string, pub *rsa.PublicKey) stone.KeySource {
	return func(_ context.Context, k string) (*rsa.PublicKey, error) {
		if k != kid {
			return nil, fmt.Errorf("kid %q: %w", k, stone.ErrUnknownKey)
		}
		return pub, nil
	}
}

// whClaims is a valid envelope of a created event.
func whClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"env": "sandbox", "event_type": stone.EventTransferCreated, "id": "ev-1",
		"event_happened_at": "2026-03-10T13:00:00Z", "event_notified_at": "2026-03-10T13:00:01Z",
		"target_type": "external_transfer", "target_id": "tr-1",
		"target_data": map[string]any{"id": "tr-1", "amount": 12345, "fee": 400, "status": "APPROVED", "account_id": whAccount},
		"iat":         whTuesday.Unix(), "nbf": whTuesday.Unix(), "jti": "j-1",
	}
}

// sealed signs claims with method and key (kid in the header) and encrypts
// the token to the application's key, as a delivery body.
func sealed(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) []byte {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return encryptTo(t, &whAppKey().PublicKey, s)
}

func encryptTo(t testing.TB, pub *rsa.PublicKey, plaintext string) []byte {
	t.Helper()
	jwe, err := stonetest.EncryptJWE(pub, []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`{"encrypted_body":"` + jwe + `"}`)
}

// alter decodes part i of the body's compact JWE, lets change edit it, and
// re-encodes it.
func alter(t *testing.T, body []byte, i int, change func([]byte) []byte) []byte {
	t.Helper()
	var wire struct {
		EncryptedBody string `json:"encrypted_body"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(wire.EncryptedBody, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	parts[i] = base64.RawURLEncoding.EncodeToString(change(slices.Clone(b)))
	out, _ := json.Marshal(map[string]string{"encrypted_body": strings.Join(parts, ".")})
	return out
}

func flip(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }

func TestDecodeGenuineDelivery(t *testing.T) {
	header, body, sim := genuine(t)
	dec := stone.NewWebhookDecoder(whAppKey(), stone.NewJWKS(sim.Client(), sim.URL, sim.Now).Key)
	dec.Now = sim.Now
	ev, err := dec.Decode(context.Background(), header, body)
	if err != nil {
		t.Fatal(err)
	}
	tr := sim.Transfers()[0].Transfer
	if ev.ID != header.Get(stone.HeaderWebhookEventID) || ev.Type != stone.EventTransferCreated ||
		ev.TargetID != tr.ID || ev.Transfer.Status != stone.StatusCreated || ev.Transfer.Amount != 100 ||
		!ev.HappenedAt.Equal(whTuesday) || !ev.NotifiedAt.Equal(whTuesday) {
		t.Errorf("event %+v, want the created event of transfer %s (R$ 1,00) at %s", ev, tr.ID, whTuesday)
	}
	var raw map[string]any
	if err := json.Unmarshal(ev.Raw, &raw); err != nil || raw["target_detail_uri"] != sim.URL+"/api/v1/external_transfers/"+tr.ID {
		t.Errorf("Raw claims %s (%v) lack target_detail_uri", ev.Raw, err)
	}
}

func TestDecodeRefusesForgedDeliveries(t *testing.T) {
	header, body, sim := genuine(t)
	simKid, err := sim.SigningKeyID()
	if err != nil {
		t.Fatal(err)
	}
	keys := staticKeys(simKid, &whSimKey().PublicKey)
	wrongHeader := func(h string) []byte {
		return alter(t, body, 0, func([]byte) []byte { return []byte(h) })
	}
	withHeader := func(k, v string) http.Header {
		h := header.Clone()
		h.Set(k, v)
		return h
	}
	hs256Key, _ := x509.MarshalPKIXPublicKey(&whSimKey().PublicKey) // the classic alg confusion

	tests := []struct {
		name   string
		key    *rsa.PrivateKey // nil: the application's
		header http.Header     // nil: the genuine one
		body   []byte
		want   string // in the error
	}{
		{"ciphertext altered", nil, nil, alter(t, body, 3, flip), "authentication failed"},
		{"tag altered", nil, nil, alter(t, body, 4, flip), "authentication failed"},
		{"iv altered", nil, nil, alter(t, body, 2, flip), "authentication failed"},
		{"protected header altered", nil, nil, wrongHeader(`{"alg":"RSA-OAEP-256","enc":"A256GCM","cty":"jwt"}`), "authentication failed"},
		{"encrypted key altered", nil, nil, alter(t, body, 1, flip), "does not open with the application's key"},
		{"another application's key", whOtherKey(), nil, body, "does not open with the application's key"},
		{"alg RSA1_5", nil, nil, wrongHeader(`{"alg":"RSA1_5","enc":"A256GCM"}`), `jwe alg "RSA1_5" is not RSA-OAEP-256`},
		{"alg dir", nil, nil, wrongHeader(`{"alg":"dir","enc":"A256GCM"}`), `jwe alg "dir"`},
		{"enc A128GCM", nil, nil, wrongHeader(`{"alg":"RSA-OAEP-256","enc":"A128GCM"}`), `jwe enc "A128GCM" is not A256GCM`},
		{"zip", nil, nil, wrongHeader(`{"alg":"RSA-OAEP-256","enc":"A256GCM","zip":"DEF"}`), `jwe zip "DEF"`},
		{"crit", nil, nil, wrongHeader(`{"alg":"RSA-OAEP-256","enc":"A256GCM","crit":["exp"]}`), `jwe crit`},
		{"iv too short", nil, nil, alter(t, body, 2, func(b []byte) []byte { return b[:8] }), "jwe iv is 8 bytes"},
		{"signed with alg none", nil, nil, sealed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, simKid, whClaims()), "signing method none is invalid"},
		{"signed HS256 with the public key", nil, nil, sealed(t, jwt.SigningMethodHS256, hs256Key, simKid, whClaims()), "signing method HS256 is invalid"},
		{"signed RS512", nil, nil, sealed(t, jwt.SigningMethodRS512, whSimKey(), simKid, whClaims()), "signing method RS512 is invalid"},
		{"signed by another key under Stone's kid", nil, nil, sealed(t, jwt.SigningMethodRS256, whOtherKey(), simKid, whClaims()), "verification error"},
		{"unknown kid", nil, nil, sealed(t, jwt.SigningMethodRS256, whSimKey(), "rotated-away", whClaims()), "no such signing key"},
		{"not a JWT inside", nil, nil, encryptTo(t, &whAppKey().PublicKey, "hello"), "jwt:"},
		{"event id header too long", nil, withHeader(stone.HeaderWebhookEventID, strings.Repeat("x", 201)), body, "x-stone-webhook-event-id is longer than 200 bytes"},
		{"event type header differs", nil, withHeader(stone.HeaderWebhookEventType, stone.EventTransferFinished), body, "x-stone-webhook-event-type"},
		{"no id claim", nil, http.Header{}, sealed(t, jwt.SigningMethodRS256, whSimKey(), simKid, without(whClaims(), "id")), "claim id is missing"},
		{"amount not in cents", nil, http.Header{}, sealed(t, jwt.SigningMethodRS256, whSimKey(), simKid,
			set(whClaims(), "target_data", map[string]any{"id": "tr-1", "amount": 123.45})), "target_data is not a transfer"},
		{"target_data of another transfer", nil, http.Header{}, sealed(t, jwt.SigningMethodRS256, whSimKey(), simKid,
			set(whClaims(), "target_data", map[string]any{"id": "tr-2", "amount": 100})), `target_data.id "tr-2" differs from target_id "tr-1"`},
		{"bad happened_at", nil, http.Header{}, sealed(t, jwt.SigningMethodRS256, whSimKey(), simKid,
			set(whClaims(), "event_happened_at", "10/03/2026")), `claim event_happened_at: "10/03/2026" is not an RFC 3339 time`},
		{"not yet valid", nil, http.Header{}, sealed(t, jwt.SigningMethodRS256, whSimKey(), simKid,
			set(whClaims(), "nbf", whTuesday.Add(time.Hour).Unix())), "token is not valid yet"},
		{"empty body", nil, nil, nil, "body is not JSON"},
		{"no encrypted_body", nil, nil, []byte(`{"body":"x"}`), "body has no encrypted_body"},
		{"encrypted_body not a string", nil, nil, []byte(`{"encrypted_body":5}`), "body is not JSON with encrypted_body"},
		{"four parts", nil, nil, []byte(`{"encrypted_body":"a.b.c.d"}`), "has 4 dot-separated parts"},
		{"padding in base64", nil, nil, []byte(`{"encrypted_body":"YQ==.b.c.d.e"}`), "jwe protected header is not base64url"},
		{"too large", nil, nil, make([]byte, stone.MaxWebhookBody+1), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := whAppKey()
			if tt.key != nil {
				key = tt.key
			}
			h := header
			if tt.header != nil {
				h = tt.header
			}
			dec := stone.NewWebhookDecoder(key, keys)
			dec.Now = sim.Now
			ev, err := dec.Decode(context.Background(), h, tt.body)
			if err == nil {
				t.Fatalf("decoded %+v, want an error", ev)
			}
			if !errors.Is(err, stone.ErrInvalidWebhook) {
				t.Errorf("error %q does not wrap ErrInvalidWebhook", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
		})
	}
}

func without(c jwt.MapClaims, k string) jwt.MapClaims { delete(c, k); return c }

func set(c jwt.MapClaims, k string, v any) jwt.MapClaims { c[k] = v; return c }

// A key set that cannot be fetched is not a forgery: the receiver must
// answer 5xx so that Stone delivers again.
func TestDecodeKeySourceFailureIsNotInvalid(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(down.Close)
	dec := stone.NewWebhookDecoder(whAppKey(), stone.NewJWKS(down.Client(), down.URL, nil).Key)
	dec.Now = func() time.Time { return whTuesday }
	_, err := dec.Decode(context.Background(), nil, sealed(t, jwt.SigningMethodRS256, whSimKey(), whKid, whClaims()))
	if err == nil || errors.Is(err, stone.ErrInvalidWebhook) || !strings.Contains(err.Error(), "status 502") {
		t.Errorf("error %v, want the key set's 502, not ErrInvalidWebhook", err)
	}
}

func TestDecodeLenientEnvelope(t *testing.T) {
	claims := whClaims()
	claims["target_statement_uri"] = "/api/v1/statement/entries/1" // fields Stone adds
	claims["something_new"] = map[string]any{"x": 1}
	claims["event_happened_at"] = whTuesday.Unix() // Unix seconds accepted too
	delete(claims, "event_notified_at")
	td := claims["target_data"].(map[string]any)
	td["batch_id"] = nil
	td["cancelled_by"] = nil
	dec := stone.NewWebhookDecoder(whAppKey(), staticKeys(whKid, &whSimKey().PublicKey))
	dec.Now = func() time.Time { return whTuesday }
	ev, err := dec.Decode(context.Background(), http.Header{stone.HeaderWebhookEventID: {"ev-1"}}, sealed(t, jwt.SigningMethodRS256, whSimKey(), whKid, claims))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Transfer == nil || ev.Transfer.Amount != 12345 || ev.Transfer.AccountID != whAccount || !ev.HappenedAt.Equal(whTuesday) || !ev.NotifiedAt.IsZero() || ev.Env != "sandbox" {
		t.Errorf("event %+v transfer %+v", ev, ev.Transfer)
	}

	// An event about something other than a TED has no Transfer.
	other := whClaims()
	other["event_type"], other["target_type"] = "pix_outbound_payment_created", "pix_payment"
	ev, err = dec.Decode(context.Background(), nil, sealed(t, jwt.SigningMethodRS256, whSimKey(), whKid, other))
	if err != nil || ev.Transfer != nil || ev.Type != "pix_outbound_payment_created" {
		t.Errorf("pix event: %+v, %v; want no Transfer", ev, err)
	}
}

// TestDecodeDocumentedIdentity: in Stone's examples (guias/WEBHOOKS/
// cash_out_payment*.json) the claim id is the resource's id, the same in
// each event about it, and target_type names the event. The events of one
// transfer must decode with distinct identities (the header's event id, or
// resource and type without it), and a redelivery with the same one.
func TestDecodeDocumentedIdentity(t *testing.T) {
	dec := stone.NewWebhookDecoder(whAppKey(), staticKeys(whKid, &whSimKey().PublicKey))
	dec.Now = func() time.Time { return whTuesday }
	event := func(typ, status string) []byte {
		c := whClaims()
		c["id"], c["event_type"], c["target_type"] = "tr-1", typ, strings.TrimPrefix(typ, "cash_out_")
		c["target_statement_uri"] = nil
		c["target_data"].(map[string]any)["status"] = status
		return sealed(t, jwt.SigningMethodRS256, whSimKey(), whKid, c)
	}
	approved := event(stone.EventTransferApproved, "APPROVED")
	finished := event(stone.EventTransferFinished, "FINISHED")
	ids := map[string]string{}
	for _, c := range []struct {
		name, header string
		body         []byte
		wantID       string
	}{
		{"approved", "e-approved", approved, "e-approved"},
		{"finished", "e-finished", finished, "e-finished"},
		{"approved without header", "", approved, "tr-1:" + stone.EventTransferApproved},
		{"finished without header", "", finished, "tr-1:" + stone.EventTransferFinished},
	} {
		h := http.Header{}
		if c.header != "" {
			h.Set(stone.HeaderWebhookEventID, c.header)
		}
		ev, err := dec.Decode(context.Background(), h, c.body)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ev.ID != c.wantID || ev.ResourceID != "tr-1" || ev.TargetID != "tr-1" || ev.Transfer == nil {
			t.Errorf("%s: id %q resource %q target %q transfer %v, want id %q", c.name, ev.ID, ev.ResourceID, ev.TargetID, ev.Transfer, c.wantID)
		}
		if prev, dup := ids[ev.ID]; dup {
			t.Errorf("%s and %s share the identity %q", prev, c.name, ev.ID)
		}
		ids[ev.ID] = c.name
	}
}
