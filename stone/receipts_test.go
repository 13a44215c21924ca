package stone_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"lote/stone"
	"lote/stone/stonetest"
)

// TestEmulatorReceiptStatementAndScope: receipts come back as PDF bytes,
// a failed transfer has none, the statement shows the debit of amount +
// fee, and a missing scope is a 403 that names it.
func TestEmulatorReceiptStatementAndScope(t *testing.T) {
	srv, c := emulator(t, stonetest.Options{})
	ctx := context.Background()
	tr, err := c.CreateTransfer(ctx, "k-1", ted(1234))
	if err != nil {
		t.Fatal(err)
	}
	srv.AddAccount("poor", 10)
	poor := ted(1000)
	poor.AccountID = "poor"
	failed, err := c.CreateTransfer(ctx, "k-2", poor)
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(2 * time.Minute)

	pdf, err := c.Receipt(ctx, stone.ReceiptExternalTransfer, tr.ID)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-1.4")) {
		t.Fatalf("receipt: %.20q, %v", pdf, err)
	}
	var se *stone.Error
	if _, err := c.Receipt(ctx, stone.ReceiptExternalTransfer, failed.ID); !errors.As(err, &se) || se.Status != 422 {
		t.Errorf("receipt of a FAILED transfer: %v, want a 422", err)
	}

	var got []stone.StatementEntry
	for e, err := range c.Statement(ctx, "acc-1", []string{stone.StatementExternal}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 1 || got[0].OperationID != tr.ID || got[0].Amount != -(1234+400) || got[0].FeeAmount != 400 {
		t.Errorf("statement %+v, want one debit of 1634 for %s", got, tr.ID)
	}

	srv.SetScopes("app-1", stonetest.ScopeRead)
	_, err = c.CreateTransfer(ctx, "k-3", ted(1))
	if !errors.As(err, &se) || se.Status != http.StatusForbidden || se.Type != stone.ErrTypeUnauthorized {
		t.Fatalf("create without scope: %v, want 403 unauthorized", err)
	}
	if o, _ := stone.Classify(err); o != stone.OutcomeFinal {
		t.Errorf("403 classified %v, want final", o)
	}
}

// TestFailureReasonCodeReadsBoth: failure_reason_code decodes from the
// documented string and from the number older answers sent, and is
// written as a string.
func TestFailureReasonCodeReadsBoth(t *testing.T) {
	for _, body := range []string{`{"id":"t","failure_reason_code":"1"}`, `{"id":"t","failure_reason_code":1}`} {
		var tr stone.Transfer
		if err := json.Unmarshal([]byte(body), &tr); err != nil || tr.FailureReasonCode == nil || *tr.FailureReasonCode != "1" {
			t.Errorf("%s: %v %v", body, tr.FailureReasonCode, err)
		}
		out, _ := json.Marshal(tr)
		if !bytes.Contains(out, []byte(`"failure_reason_code":"1"`)) {
			t.Errorf("written as %s", out)
		}
	}
}
