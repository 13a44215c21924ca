package stonetest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lote/stone"
)

// pixEnv is an emulator with one Pix key and one Stone account in its
// directories.
func pixEnv(t *testing.T, opts Options) *env {
	t.Helper()
	e := newEnv(t, opts)
	if err := e.s.AddPixKey("+5521988040465", PixKey{Name: "ARCILIO BERNARDI CARDOSO", Document: "12436916300", ISPB: "92894922"}); err != nil {
		t.Fatal(err)
	}
	e.s.AddStoneAccount("58859", StoneAccount{Name: "Fernando Antonio", Document: "62752545053"})
	return e
}

func (e *env) pixCreate(body any, key string) reply {
	e.t.Helper()
	return e.do("POST", "/api/v1/pix/outbound_pix_payments", body, "x-stone-idempotency-key", key)
}

func (e *env) pix(r reply) stone.PixPayment {
	e.t.Helper()
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		e.t.Fatalf("status %d, want 201: %s", r.status, r.body)
	}
	var p stone.PixPayment
	if err := json.Unmarshal(r.body, &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// TestPixWebhooks: a Pix sends the documented pix_outbound_payment_*
// events, each with the payment as target_data and target_type without
// "pix_outbound_", decoded by lote's webhook decoder.
func TestPixWebhooks(t *testing.T) {
	e := pixEnv(t, Options{})
	rcv := newReceiver(t, nil)
	e.s.SetWebhook(testClient, rcv.srv.URL)
	p := e.pix(e.pixCreate(map[string]any{"account_id": testAccount, "amount": 1000, "key": "+5521988040465"}, "c-1"))
	if r := e.do("POST", "/api/v1/pix/outbound_pix_payments/"+p.ID+"/actions/confirm", map[string]any{}, "x-stone-idempotency-key", "k-1"); r.status != http.StatusNoContent {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	e.s.Advance(DefaultPixReserveDelay + DefaultPixSettleDelay)
	if _, err := e.s.RefundPix(p.ID, 400); err != nil {
		t.Fatal(err)
	}
	e.s.DeliverWebhooks(context.Background())
	want := []string{stone.EventPixCreated, stone.EventPixMoneyReserved, stone.EventPixSettled, stone.EventPixRefunded}
	if got := rcv.types(); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	dec := decoder(e)
	// As in Stone's example, the created event is sent at the confirmation
	// and shows the payment CONFIRMED.
	wantStatus := []string{stone.PixConfirmed, stone.PixMoneyReserved, stone.PixSettled, stone.PixSettled}
	for i, d := range rcv.deliveries() {
		ev, err := dec.Decode(context.Background(), http.Header{"X-Stone-Webhook-Event-Id": {d.id}}, d.body)
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		if ev.Pix == nil || ev.Pix.ID != p.ID || ev.Pix.AccountID != testAccount || ev.Pix.Status != wantStatus[i] ||
			ev.TargetType != strings.TrimPrefix(d.typ, "pix_outbound_") || ev.TargetID != p.ID {
			t.Errorf("delivery %d (%s): type %s target %s %s, pix %+v", i, d.typ, ev.Type, ev.TargetType, ev.TargetID, ev.Pix)
		}
		if i == 0 && !ev.HappenedAt.Equal(*p.CreatedAt) {
			t.Errorf("created event happened at %s, the payment was created at %s", ev.HappenedAt, p.CreatedAt)
		}
	}
	last, _ := dec.Decode(context.Background(), nil, rcv.deliveries()[3].body)
	if last.Pix.RefundedAmount != 400 {
		t.Errorf("refund event's payment has refunded_amount %d, want 400", last.Pix.RefundedAmount)
	}
}

// TestInternalWebhooks: an internal transfer's events, in Stone's names.
func TestInternalWebhooks(t *testing.T) {
	e := pixEnv(t, Options{})
	rcv := newReceiver(t, nil)
	e.s.SetWebhook(testClient, rcv.srv.URL)
	r := e.do("POST", "/api/v1/internal_transfers", map[string]any{"amount": 100, "account_id": testAccount,
		"target": map[string]any{"account": map[string]any{"account_code": "58859"}}}, "x-stone-idempotency-key", "i-1")
	if r.status != http.StatusAccepted {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	e.s.Advance(DefaultFinishDelay)
	e.s.DeliverWebhooks(context.Background())
	want := []string{stone.EventInternalCreated, stone.EventInternalApproved, stone.EventInternalFinished}
	if got := rcv.types(); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	ev, err := decoder(e).Decode(context.Background(), nil, rcv.deliveries()[2].body)
	if err != nil || ev.Internal == nil || ev.Internal.Status != stone.StatusFinished || ev.Internal.TargetAccountOwnerName != "Fernando Antonio" ||
		ev.TargetType != "internal_transfer_finished" {
		t.Errorf("finished event %+v (%v)", ev, err)
	}
}

// TestPixCreateValidation: the documented 400s are cumulative, and the
// idempotency key is required.
func TestPixCreateValidation(t *testing.T) {
	e := pixEnv(t, Options{})
	r := e.do("POST", "/api/v1/pix/outbound_pix_payments", map[string]any{"account_id": testAccount, "amount": -1,
		"key": strings.Repeat("a", 78), "transaction_id": "x"})
	if r.status != http.StatusBadRequest {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	got := e.errorBody(r)
	want := []stone.ErrorReason{
		{Error: "must be greater than or equal to 0", Path: []string{"amount"}},
		{Error: "should be at most 77 characters", Path: []string{"key"}},
		{Error: "can't be blank", Path: []string{"idempotency_key"}},
	}
	if got.Type != stone.ErrTypeValidation || len(got.Reason) != len(want) {
		t.Fatalf("reasons %+v, want %+v", got, want)
	}
	for i := range want {
		if got.Reason[i].Error != want[i].Error || !slices.Equal(got.Reason[i].Path, want[i].Path) {
			t.Errorf("reason %d: %+v, want %+v", i, got.Reason[i], want[i])
		}
	}
	if r := e.pixCreate(map[string]any{"account_id": testAccount, "amount": 100}, "no-target"); r.status != http.StatusBadRequest ||
		!strings.Contains(string(r.body), `"path":["target"]`) {
		t.Errorf("neither key nor target: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/pix/outbound_pix_payments/not-a-uuid", nil); r.status != http.StatusBadRequest || len(r.body) != 0 {
		t.Errorf("id not a UUID: %d %q, want a bare 400", r.status, r.body)
	}
}

// TestAdminPixRefund: POST /_sim/pix/{id}/refund refunds part of a settled
// Pix and answers the refund; GET /_sim/pix and /_sim/internal_transfers
// list what was created.
func TestAdminPixRefund(t *testing.T) {
	e := pixEnv(t, Options{})
	p := e.pix(e.pixCreate(map[string]any{"account_id": testAccount, "amount": 1000, "key": "+5521988040465"}, "c-1"))
	e.do("POST", "/api/v1/pix/outbound_pix_payments/"+p.ID+"/actions/confirm", nil, "x-stone-idempotency-key", "k-1")
	post := func(q string) *http.Response {
		resp, err := http.Post(e.s.URL+"/_sim/pix/"+p.ID+"/refund"+q, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := post("?amount=100"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("refund before settlement: %d, want 422", resp.StatusCode)
	}
	e.s.Advance(DefaultPixReserveDelay + DefaultPixSettleDelay)
	resp := post("?amount=100")
	var f stone.PixRefund
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil || resp.StatusCode != http.StatusOK || f.Amount != 100 || f.OutboundPixPaymentID != p.ID {
		t.Fatalf("refund: %d %+v %v", resp.StatusCode, f, err)
	}
	list, err := http.Get(e.s.URL + "/_sim/pix")
	if err != nil {
		t.Fatal(err)
	}
	defer list.Body.Close()
	var recs []PixRecord
	if err := json.NewDecoder(list.Body).Decode(&recs); err != nil || len(recs) != 1 || len(recs[0].Refunds) != 1 || recs[0].Payment.RefundedAmount != 100 {
		t.Errorf("GET /_sim/pix: %+v %v", recs, err)
	}
}

// TestInternalApproval: with approval required, an internal transfer waits
// in CREATED, moves no money until approved, and expires when nobody
// decides; with the owner deciding, the application's approve gets 403.
func TestInternalApproval(t *testing.T) {
	create := func(e *env, key string) stone.InternalTransfer {
		r := e.do("POST", "/api/v1/internal_transfers", internalBody("58859"), "x-stone-idempotency-key", key)
		var it stone.InternalTransfer
		if err := json.Unmarshal(r.body, &it); err != nil || r.status != http.StatusAccepted {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		return it
	}
	status := func(e *env, id string) string {
		for _, rec := range e.s.InternalTransfers() {
			if rec.Transfer.ID == id {
				return rec.Transfer.Status
			}
		}
		return ""
	}

	e := pixEnv(t, Options{RequireApproval: true})
	it := create(e, "a-1")
	if it.Status != stone.StatusCreated || it.ApprovedAt != nil {
		t.Fatalf("created %s approved at %v, want CREATED", it.Status, it.ApprovedAt)
	}
	e.s.Advance(10 * time.Minute) // within the access token's 15 minutes
	if b, _ := e.s.Balance(testAccount); b != 100_000_000 || status(e, it.ID) != stone.StatusCreated {
		t.Fatalf("unapproved: %s, balance %d", status(e, it.ID), b)
	}
	if r := e.do("POST", "/api/v1/internal_transfers/"+it.ID+"/approve", nil); r.status != http.StatusNoContent {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	e.s.Advance(2 * time.Second)
	if b, _ := e.s.Balance(testAccount); b != 100_000_000-100 || status(e, it.ID) != stone.StatusFinished {
		t.Errorf("approved: %s, balance %d", status(e, it.ID), b)
	}
	expiring := create(e, "a-2")
	e.s.Advance(DefaultApprovalTTL)
	if got := status(e, expiring.ID); got != stone.StatusExpired {
		t.Errorf("nobody decided: %s, want EXPIRED", got)
	}

	o := pixEnv(t, Options{OwnerApproval: true})
	it = create(o, "o-1")
	if r := o.do("POST", "/api/v1/internal_transfers/"+it.ID+"/approve", nil); r.status != http.StatusForbidden {
		t.Errorf("application's approve: %d, want 403", r.status)
	}
	if err := o.s.RejectAsOwner(it.ID); err != nil {
		t.Fatal(err)
	}
	if got := status(o, it.ID); got != stone.StatusRejected {
		t.Errorf("owner rejected: %s", got)
	}
	if err := o.s.ApproveAsOwner(it.ID); err == nil {
		t.Error("a rejected transfer was approved")
	}
}

// TestPixFailsAfterConfirmation: a Pix to an account the receiving bank
// does not have is created and confirmed, then FAILED, with no money moved;
// a short account fails the same way.
func TestPixFailsAfterConfirmation(t *testing.T) {
	e := pixEnv(t, Options{PixFailRule: FailPixToAccounts("99999")})
	rcv := newReceiver(t, nil)
	e.s.SetWebhook(testClient, rcv.srv.URL)
	body := map[string]any{"account_id": testAccount, "amount": 1000, "target": map[string]any{
		"entity":      map[string]any{"name": "Gabriela Abreu", "document": "12409265707"},
		"account":     map[string]any{"account_code": "99999", "account_type": "CC", "branch_code": "4208"},
		"institution": map[string]any{"ispb": "90400888"}}}
	p := e.pix(e.pixCreate(body, "f-1"))
	e.do("POST", "/api/v1/pix/outbound_pix_payments/"+p.ID+"/actions/confirm", nil, "x-stone-idempotency-key", "f-1-confirm")
	short := e.pix(e.pixCreate(map[string]any{"account_id": testAccount, "amount": 200_000_000, "key": "+5521988040465"}, "f-2"))
	e.do("POST", "/api/v1/pix/outbound_pix_payments/"+short.ID+"/actions/confirm", nil, "x-stone-idempotency-key", "f-2-confirm")
	e.s.Advance(DefaultPixReserveDelay + DefaultPixSettleDelay)
	for _, id := range []string{p.ID, short.ID} {
		rec, _ := e.s.Pix(id)
		if rec.Payment.Status != stone.PixFailed || rec.Payment.FailedAt == nil || rec.Payment.FailureReasonCode == nil {
			t.Errorf("%s: %s, want FAILED with a reason", id, rec.Payment.Status)
		}
	}
	if b, _ := e.s.Balance(testAccount); b != 100_000_000 || len(e.s.Statement(testAccount)) != 0 {
		t.Errorf("balance %d, statement %v: a failed Pix moved money", b, e.s.Statement(testAccount))
	}
	e.s.DeliverWebhooks(context.Background())
	failed := 0
	for _, typ := range rcv.types() {
		if typ == stone.EventPixFailed {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d %s webhooks, want 2 (%v)", failed, stone.EventPixFailed, rcv.types())
	}
}

// TestPixConfirmInFlight: a confirmation retried while the first one is
// still being served gets 423, and once it is done the retry replays 204:
// the payment is confirmed once. Concurrent creates with one key make one
// payment.
func TestPixConfirmInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var hold atomic.Bool
	e := pixEnv(t, Options{InFlight: func(r *http.Request) {
		if hold.Load() && strings.HasSuffix(r.URL.Path, "/actions/confirm") {
			once.Do(func() { close(entered); <-release })
		}
	}})
	p := e.pix(e.pixCreate(map[string]any{"account_id": testAccount, "amount": 100, "key": "+5521988040465"}, "c-1"))
	hold.Store(true)
	path := "/api/v1/pix/outbound_pix_payments/" + p.ID + "/actions/confirm"
	done := make(chan reply)
	go func() { done <- e.do("POST", path, map[string]any{}, "x-stone-idempotency-key", "k-1") }()
	<-entered
	if r := e.do("POST", path, map[string]any{}, "x-stone-idempotency-key", "k-1"); r.status != http.StatusLocked {
		t.Errorf("while in flight: %d %s, want 423", r.status, r.body)
	}
	close(release)
	if r := <-done; r.status != http.StatusNoContent {
		t.Fatalf("first confirm: %d %s", r.status, r.body)
	}
	if r := e.do("POST", path, map[string]any{}, "x-stone-idempotency-key", "k-1"); r.status != http.StatusNoContent {
		t.Errorf("after completion: %d, want 204", r.status)
	}
	if rec, _ := e.s.Pix(p.ID); rec.Confirmations != 1 {
		t.Errorf("confirmed %d times", rec.Confirmations)
	}

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			e.pixCreate(map[string]any{"account_id": testAccount, "amount": 200, "key": "+5521988040465"}, "same-key")
		})
	}
	wg.Wait()
	n := 0
	for _, rec := range e.s.PixPayments() {
		if rec.CreateKey == "same-key" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d payments for one create key, want 1", n)
	}
}
