package reconcile

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"lote/internal/fake"
	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
)

// hookEnv is the reconciliation scenario with every delivered webhook posted
// twice, to a receiver running WebhookHandler on the test's ledger.
func hookEnv(t *testing.T) (*env, *httptest.Server) {
	t.Helper()
	e := newReconEnv(t, stonetest.Faults{DuplicateWebhookRate: 1})
	dec := stone.NewWebhookDecoder(fake.Key(), stone.NewJWKS(e.srv.Client(), e.srv.URL, e.srv.Now).Key)
	dec.Now = e.srv.Now
	rcv := httptest.NewServer(WebhookHandlerWith(e.l, dec, nil, WebhookOptions{AccountID: testAccount, Now: e.srv.Now}))
	t.Cleanup(rcv.Close)
	e.srv.SetWebhook("app-1", rcv.URL)
	return e, rcv
}

func TestWebhookDeliveredTwiceAppliesOnce(t *testing.T) {
	ctx := context.Background()
	e, _ := hookEnv(t)
	id := runRecon(t, e)
	e.srv.DeliverWebhooks(ctx)
	e.srv.Advance(stonetest.DefaultFinishDelay)
	e.srv.DeliverWebhooks(ctx)
	e.srv.Advance(stonetest.DefaultRefundDelay)
	e.srv.DeliverWebhooks(ctx)

	dups := 0
	for _, d := range e.srv.Webhooks() {
		if !d.Delivered || d.LastStatus != http.StatusOK {
			t.Errorf("event %s %s: delivered %v, status %d", d.EventID, d.EventType, d.Delivered, d.LastStatus)
		}
		dups += d.Duplicates
	}
	if dups == 0 {
		t.Fatal("the emulator posted no duplicate: the test proves nothing")
	}
	// The events are shaped as Stone's examples: the signed id is the
	// transfer's, the same for its created, approved, execution_started
	// and finished events; each is recorded under its own event id.
	for _, d := range e.srv.Webhooks() {
		if _, seen, err := e.l.WebhookEventSeen(ctx, d.EventID); err != nil || !seen {
			t.Errorf("event %s %s of transfer %s not recorded (%v)", d.EventID, d.EventType, d.TransferID, err)
		}
	}
	if got := statuses(t, e, id); !maps3(got, stone.StatusFinished, stone.StatusFailed, stone.StatusRefunded) {
		t.Fatalf("statuses from webhooks: %v", got)
	}
	// Each status once in the history, from the webhook, whatever the
	// number of deliveries.
	want := map[int][]string{
		2: {"APPROVED/create", "FINISHED/webhook"},
		3: {"APPROVED/create", "FAILED/webhook"},
		4: {"APPROVED/create", "FINISHED/webhook", "REFUNDED/webhook"},
	}
	for row, w := range want {
		hist, err := e.l.StatusHistory(ctx, id, row)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range hist {
			got = append(got, h.Status+"/"+h.Source)
		}
		if !slices.Equal(got, w) {
			t.Errorf("history of row %d = %v, want %v", row, got, w)
		}
	}

	// Reconciling now agrees, and the refund code came with the webhook.
	rep, err := Run(ctx, e.reconOpts(id))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed != 0 || len(rep.Mismatches()) != 0 {
		t.Errorf("reconcile after webhooks: %d changes, mismatches %v", rep.Changed, rep.Mismatches())
	}
	for rr, err := range e.l.Reconciled(ctx, id) {
		if err != nil {
			t.Fatal(err)
		}
		if rr.Row.Row == 4 && (rr.Rec.RefundCode != "3" || rr.Rec.RefundedAt.IsZero()) {
			t.Errorf("row 4 reconciliation = %+v", rr.Rec)
		}
	}
}

func TestWebhookHandlerAnswers(t *testing.T) {
	e, rcv := hookEnv(t)
	tests := []struct {
		name, method, body string
		want               int
	}{
		{"get", http.MethodGet, "", http.StatusMethodNotAllowed},
		{"not json", http.MethodPost, "hello", http.StatusBadRequest},
		{"not encrypted to us", http.MethodPost, `{"encrypted_body":"a.b.c.d.e"}`, http.StatusBadRequest},
		{"too large", http.MethodPost, `{"encrypted_body":"` + strings.Repeat("a", stone.MaxWebhookBody) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, rcv.URL, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rcv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	// Nothing was recorded for refused deliveries.
	if out, seen, err := e.l.WebhookEventSeen(context.Background(), "anything"); err != nil || seen {
		t.Errorf("seen %v %s %v", seen, out, err)
	}
}

func TestWebhookDecisionKeepsNewerStatus(t *testing.T) {
	row := ledger.ReconciledRow{Row: ledger.Row{Row: 2, State: ledger.Accepted, TransferID: "t", APIStatus: stone.StatusRefunded,
		AmountCents: 100, Payout: []byte(`{"amount":100}`)}}
	late := &stone.Transfer{ID: "t", Status: stone.StatusFinished, Amount: 100}
	if _, apply := webhookDecision(row, late, "", emuStart); apply {
		t.Error("a FINISHED event delivered after REFUNDED was applied")
	}
	row.APIStatus = stone.StatusFinished
	refund := &stone.Transfer{ID: "t", Status: stone.StatusRefunded, Amount: 100}
	if rec, apply := webhookDecision(row, refund, "", emuStart); !apply || rec.Status != stone.StatusRefunded {
		t.Errorf("refund after FINISHED: apply %v, %+v", apply, rec)
	}
}
