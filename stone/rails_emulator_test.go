package stone_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"lote/stone"
	"lote/stone/stonetest"
)

func internal(amount int64, code string) stone.CreateInternalTransfer {
	return stone.CreateInternalTransfer{Amount: amount, AccountID: "acc-1",
		Target: stone.InternalTarget{Account: stone.InternalAccount{AccountCode: code}}}
}

func TestEmulatorInternalTransfer(t *testing.T) {
	srv, c := emulator(t, stonetest.Options{})
	srv.AddStoneAccount("58859", stonetest.StoneAccount{Name: "Fernando Antonio", Document: "62752545053"})
	ctx := context.Background()

	tr, err := c.CreateInternalTransfer(ctx, "int-1", internal(12_345, "058859"))
	if err != nil {
		t.Fatal(err)
	}
	// The owner is resolved up front, and the number is stored without its
	// leading zero.
	if tr.Status != stone.StatusApproved || tr.TargetAccountOwnerName != "Fernando Antonio" || tr.Target.Entity.Name != "Fernando Antonio" ||
		tr.TargetAccountCode != "58859" || tr.Amount != 12_345 || tr.Fee != 0 {
		t.Fatalf("created %+v", tr)
	}
	again, err := c.CreateInternalTransfer(ctx, "int-1", internal(12_345, "058859"))
	if err != nil || again.ID != tr.ID {
		t.Fatalf("replay: %v, id %v, want %s", err, again, tr.ID)
	}
	if n := len(srv.InternalTransfers()); n != 1 {
		t.Fatalf("%d internal transfers stored after a replay, want 1", n)
	}

	srv.Advance(2 * time.Second)
	got, err := c.GetInternalTransfer(ctx, tr.ID)
	if err != nil || got.Status != stone.StatusFinished || got.FinishedAt == nil {
		t.Fatalf("after 2 s: %+v, %v; want FINISHED", got, err)
	}
	if b, _ := srv.Balance("acc-1"); b != 100_000_00-12_345 {
		t.Errorf("balance %d, want %d", b, 100_000_00-12_345)
	}
	st := srv.Statement("acc-1")
	if len(st) != 1 || st[0].Type != stone.StatementInternal || st[0].Amount != -12_345 || st[0].OperationID != tr.ID {
		t.Errorf("statement %+v, want one internal debit of 12345 for %s", st, tr.ID)
	}

	_, err = c.CreateInternalTransfer(ctx, "int-2", internal(100, "99999"))
	if !errors.Is(err, stone.ErrTargetAccountNotFound) {
		t.Fatalf("unknown account: %v, want ErrTargetAccountNotFound", err)
	}
	if o, _ := stone.Classify(err); o != stone.OutcomeFinal {
		t.Errorf("unknown account is %v, want final", o)
	}

	// Scheduled (internal transfers run on any day), listed, cancelled.
	sch := internal(500, "58859")
	sch.ScheduledTo = "2026-03-15" // a Sunday
	scheduled, err := c.CreateInternalTransfer(ctx, "int-3", sch)
	if err != nil || scheduled.Status != stone.StatusScheduled {
		t.Fatalf("scheduled: %+v, %v", scheduled, err)
	}
	var ids []string
	for it, err := range c.ListInternalTransfers(ctx, "acc-1", 1) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	if len(ids) != 2 || ids[0] != scheduled.ID || ids[1] != tr.ID {
		t.Errorf("listed %v, want newest first [%s %s]", ids, scheduled.ID, tr.ID)
	}
	if err := c.CancelInternalTransfer(ctx, scheduled.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.CancelInternalTransfer(ctx, tr.ID); err == nil {
		t.Error("a finished transfer was cancelled")
	}
	srv.Advance(10 * 24 * time.Hour)
	if got, _ := c.GetInternalTransfer(ctx, scheduled.ID); got.Status != stone.StatusCancelled {
		t.Errorf("cancelled transfer is %s", got.Status)
	}
	if b, _ := srv.Balance("acc-1"); b != 100_000_00-12_345 {
		t.Errorf("balance %d after a cancelled transfer's date, want %d", b, 100_000_00-12_345)
	}

	dry, err := c.DryRunInternalTransfer(ctx, internal(700, "58859"))
	if err != nil || dry.TargetAccountOwnerName != "Fernando Antonio" {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if n := len(srv.InternalTransfers()); n != 2 {
		t.Errorf("%d internal transfers after a dry run, want 2", n)
	}
}

func pixKeyEnv(t *testing.T, opts stonetest.Options) (*stonetest.Server, *stone.Client) {
	t.Helper()
	srv, c := emulator(t, opts)
	for key, k := range map[string]stonetest.PixKey{
		"+5521988040465":                       {Name: "ARCILIO BERNARDI CARDOSO", Document: "12436916300", ISPB: "92894922"},
		"pagamentos@exemplo.com.br":            {Name: "EXEMPLO COMERCIO LTDA", Document: "11222333000181", ISPB: "90400888"},
		"5b695a22-187a-4181-93c8-811e155a89fc": {Name: "Luna Lovegood", Document: "12409265707", ISPB: "00000000"},
	} {
		if err := srv.AddPixKey(key, k); err != nil {
			t.Fatal(err)
		}
	}
	return srv, c
}

func TestEmulatorPixByKey(t *testing.T) {
	srv, c := pixKeyEnv(t, stonetest.Options{})
	ctx := context.Background()
	body := stone.CreatePixPayment{AccountID: "acc-1", Amount: 39_511, Key: "+5521988040465", Description: "salário"}
	p, err := c.CreatePix(ctx, "pix-1-create", body)
	if err != nil {
		t.Fatal(err)
	}
	// Before anything is paid, the answer names the key's owner with a
	// masked CPF, and the end-to-end id.
	tg := p.Target
	if p.Status != stone.PixCreated || tg.Entity.Name != "ARCILIO BERNARDI CARDOSO" || tg.Entity.Document != "***369163**" ||
		tg.Entity.DocumentType != "cpf" || tg.Institution.ISPB != "92894922" || tg.Account != nil ||
		!strings.HasPrefix(p.EndToEndID, "E16501555") || len(p.EndToEndID) != 32 || p.Key == nil || *p.Key != "+5521988040465" {
		t.Fatalf("created %+v", p)
	}
	if again, err := c.CreatePix(ctx, "pix-1-create", body); err != nil || again.ID != p.ID {
		t.Fatalf("replayed create: %v, %v; want %s", again, err, p.ID)
	}
	// A created Pix never expires, and nothing moves until it is confirmed.
	srv.Advance(72 * time.Hour)
	if got, _ := c.GetPix(ctx, p.ID); got.Status != stone.PixCreated || got.Confirmed() {
		t.Fatalf("after 3 days unconfirmed: %s, want CREATED", got.Status)
	}
	if b, _ := srv.Balance("acc-1"); b != 100_000_00 {
		t.Fatalf("balance %d before confirmation", b)
	}

	if err := c.ConfirmPix(ctx, "pix-1-confirm", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfirmPix(ctx, "pix-1-confirm", p.ID, nil); err != nil {
		t.Fatalf("replayed confirm: %v", err)
	}
	if got, _ := c.GetPix(ctx, p.ID); got.Status != stone.PixConfirmed || got.ConfirmedAt == nil {
		t.Fatalf("confirmed: %+v", got)
	}
	srv.Advance(stonetest.DefaultPixReserveDelay)
	if got, _ := c.GetPix(ctx, p.ID); got.Status != stone.PixMoneyReserved || got.MoneyReservedAt == nil {
		t.Fatalf("after the reserve delay: %s", got.Status)
	}
	if b, _ := srv.Balance("acc-1"); b != 100_000_00-39_511 {
		t.Errorf("balance %d, want %d", b, 100_000_00-39_511)
	}
	srv.Advance(stonetest.DefaultPixSettleDelay)
	got, _ := c.GetPix(ctx, p.ID)
	if got.Status != stone.PixSettled || got.SettledAt == nil || got.Target.Account == nil {
		t.Fatalf("after the settle delay: %+v", got)
	}
	recs := srv.PixPayments()
	if len(recs) != 1 || recs[0].Confirmations != 1 || recs[0].CreateKey != "pix-1-create" || recs[0].ConfirmKey != "pix-1-confirm" {
		t.Errorf("stored %+v, want one Pix confirmed once", recs)
	}
	if err := c.ConfirmPix(ctx, "pix-1-other", p.ID, nil); !errors.Is(err, stone.ErrAlreadyConfirmed) {
		t.Errorf("a settled Pix confirmed again with another key: %v, want ErrAlreadyConfirmed", err)
	}
	st := srv.Statement("acc-1")
	if len(st) != 1 || st[0].Type != stone.StatementInstantPayment || st[0].Amount != -39_511 || st[0].OperationID != p.ID {
		t.Errorf("statement %+v, want one instant_payment debit", st)
	}
}

func TestEmulatorPixRefusals(t *testing.T) {
	srv, c := pixKeyEnv(t, stonetest.Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		body stone.CreatePixPayment
		want error
	}{
		{"malformed key", stone.CreatePixPayment{AccountID: "acc-1", Amount: 100, Key: "21 98804-0465"}, stone.ErrInvalidKey},
		{"key not in the DICT", stone.CreatePixPayment{AccountID: "acc-1", Amount: 100, Key: "+5511900000000"}, stone.ErrKeyNotFound},
		{"institution outside Pix", stone.CreatePixPayment{AccountID: "acc-1", Amount: 100, Target: stone.NewPixTarget("BNDES", "33657248000189", "33657248",
			stone.PixAccount{AccountCode: "12345", BranchCode: "0001", AccountType: "CC"})}, stone.ErrTargetInstitutionNotFound},
		{"Stone account unknown", stone.CreatePixPayment{AccountID: "acc-1", Amount: 100, Target: stone.NewPixTarget("Ninguém", "62752545053", "16501555",
			stone.PixAccount{AccountCode: "424242", BranchCode: "0001", AccountType: "PG"})}, stone.ErrTargetAccountNotFound},
	} {
		_, err := c.CreatePix(ctx, "k-"+tc.name[:5], tc.body)
		var se *stone.Error
		if !errors.Is(err, tc.want) || !errors.As(err, &se) || se.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %v, want 422 %v", tc.name, err, tc.want)
		}
		if o, _ := stone.Classify(err); o != stone.OutcomeFinal {
			t.Errorf("%s: classified %v, want final", tc.name, o)
		}
	}
	if n := len(srv.PixPayments()); n != 0 {
		t.Errorf("%d payments stored from refused creates", n)
	}

	// By bank data, at a Pix participant: the target is echoed with its account.
	p, err := c.CreatePix(ctx, "bank-data", stone.CreatePixPayment{AccountID: "acc-1", Amount: 1000, Target: stone.NewPixTarget("Gabriela Abreu", "12409265707", "90400888",
		stone.PixAccount{AccountCode: "10022294", BranchCode: "4208", AccountType: "CC"})})
	if err != nil || p.Target.Account == nil || p.Target.Account.BranchCode != "4208" || p.Target.Institution.Name == "" {
		t.Fatalf("by bank data: %+v, %v", p, err)
	}

	// The confirm's 503 is retryable and changes nothing.
	srv.SetFaults(stonetest.Faults{PixConfirmUnavailableRate: 1})
	err = c.ConfirmPix(ctx, "bank-data-confirm", p.ID, nil)
	var se *stone.Error
	if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable {
		t.Fatalf("confirm under the fault: %v, want 503", err)
	}
	if o, _ := stone.Classify(err); o != stone.OutcomeRetry {
		t.Errorf("503 on confirm classified %v, want retry", o)
	}
	if got, _ := c.GetPix(ctx, p.ID); got.Status != stone.PixCreated {
		t.Errorf("after a 503 the Pix is %s, want CREATED", got.Status)
	}
	srv.SetFaults(stonetest.Faults{})
	if err := c.ConfirmPix(ctx, "bank-data-confirm", p.ID, nil); err != nil {
		t.Fatalf("retried confirm: %v", err)
	}
	// The same key with another body is a conflict, never a second confirmation.
	err = c.ConfirmPix(ctx, "bank-data-confirm", p.ID, &stone.ConfirmPixPayment{Amount: 2000})
	if !errors.As(err, &se) || se.Status != http.StatusConflict || se.Type != stone.ErrTypeIdempotencyConflict {
		t.Errorf("confirm key reused with another body: %v, want 409 idempotency_conflict", err)
	}
	if got, _ := c.GetPix(ctx, p.ID); got.Amount != 1000 {
		t.Errorf("amount %d after a conflicting confirm, want 1000", got.Amount)
	}
}

// A Pix whose create answer is lost is found by replaying its key: one
// payment, confirmed once.
func TestEmulatorPixDroppedAnswers(t *testing.T) {
	srv, c := pixKeyEnv(t, stonetest.Options{})
	ctx := context.Background()
	body := stone.CreatePixPayment{AccountID: "acc-1", Amount: 5000, Key: "pagamentos@exemplo.com.br"}
	srv.SetFaults(stonetest.Faults{DropRate: 1})
	_, err := c.CreatePix(ctx, "drop-create", body)
	if o, _ := stone.Classify(err); o != stone.OutcomeAmbiguous {
		t.Fatalf("dropped create: %v (%v), want ambiguous", err, o)
	}
	srv.SetFaults(stonetest.Faults{})
	p, err := c.CreatePix(ctx, "drop-create", body)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(stonetest.Faults{DropRate: 1})
	if err := c.ConfirmPix(ctx, "drop-confirm", p.ID, nil); err == nil {
		t.Fatal("dropped confirm succeeded")
	}
	srv.SetFaults(stonetest.Faults{})
	// The ambiguous confirm is settled by reading the payment.
	if got, _ := c.GetPix(ctx, p.ID); got.Status != stone.PixConfirmed || !got.Confirmed() {
		t.Fatalf("after a dropped confirm: %s, want CONFIRMED", got.Status)
	}
	if err := c.ConfirmPix(ctx, "drop-confirm", p.ID, nil); err != nil {
		t.Fatalf("replayed confirm: %v", err)
	}
	recs := srv.PixPayments()
	if len(recs) != 1 || recs[0].Confirmations != 1 {
		t.Errorf("stored %+v, want one payment confirmed once", recs)
	}
	// A CNPJ key's owner is shown whole.
	if recs[0].Payment.Target.Entity.Document != "11222333000181" {
		t.Errorf("CNPJ shown as %q", recs[0].Payment.Target.Entity.Document)
	}
}

func TestEmulatorPixRefunds(t *testing.T) {
	srv, c := pixKeyEnv(t, stonetest.Options{})
	ctx := context.Background()
	p, err := c.CreatePix(ctx, "r-create", stone.CreatePixPayment{AccountID: "acc-1", Amount: 1000, Key: "5b695a22-187a-4181-93c8-811e155a89fc"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RefundPix(p.ID, 0); err == nil {
		t.Fatal("a Pix not yet settled was refunded")
	}
	if err := c.ConfirmPix(ctx, "r-confirm", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	srv.Advance(stonetest.DefaultPixReserveDelay + stonetest.DefaultPixSettleDelay)
	first, err := srv.RefundPix(p.ID, 300)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := c.GetPix(ctx, p.ID)
	if got.Status != stone.PixSettled || got.RefundedAmount != 300 {
		t.Fatalf("after a partial refund: %s refunded %d, want SETTLED 300", got.Status, got.RefundedAmount)
	}
	if _, err := srv.RefundPix(p.ID, 800); err == nil {
		t.Error("refunded more than was left")
	}
	if _, err := srv.RefundPix(p.ID, 0); err != nil {
		t.Fatal(err)
	}
	got, _ = c.GetPix(ctx, p.ID)
	if got.Status != stone.PixRefunded || got.RefundedAmount != 1000 {
		t.Fatalf("after the whole refund: %s refunded %d, want REFUNDED 1000", got.Status, got.RefundedAmount)
	}
	if b, _ := srv.Balance("acc-1"); b != 100_000_00 {
		t.Errorf("balance %d after a whole refund, want it back", b)
	}
	var moves []int64
	for _, en := range srv.Statement("acc-1") {
		if en.Type != stone.StatementInstantPayment || en.OperationID != p.ID {
			t.Errorf("statement entry %+v", en)
		}
		moves = append(moves, en.Amount)
	}
	if len(moves) != 3 || moves[0] != -1000 || moves[1] != 300 || moves[2] != 700 {
		t.Errorf("statement moves %v, want [-1000 300 700]", moves)
	}
	var refunds, payments int64
	for op, err := range c.ListPix(ctx, "acc-1", stone.PixFilter{}, 2) {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case op.Refund != nil:
			if op.Refund.OutboundPixPaymentID != p.ID || !strings.HasPrefix(op.Refund.ReturnID, "D16501555") {
				t.Errorf("refund %+v", op.Refund)
			}
			refunds += op.Refund.Amount
		case op.Payment != nil:
			payments++
		}
	}
	if refunds != 1000 || payments != 1 {
		t.Errorf("listed refunds of %d cents and %d payments, want 1000 and 1", refunds, payments)
	}
	var byE2E int
	for _, err := range c.ListPix(ctx, "acc-1", stone.PixFilter{EndToEndIDs: []string{first.ReturnID}}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		byE2E++
	}
	if byE2E != 1 {
		t.Errorf("%d operations with the first refund's return id, want 1", byE2E)
	}
}

// PixRefundRule returns a payment some time after it settles.
func TestEmulatorPixRefundRule(t *testing.T) {
	srv, c := pixKeyEnv(t, stonetest.Options{PixRefundRule: stonetest.RefundPixByKey(map[string]int64{"+5521988040465": 250})})
	ctx := context.Background()
	p, err := c.CreatePix(ctx, "rule-create", stone.CreatePixPayment{AccountID: "acc-1", Amount: 1000, Key: "+5521988040465"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ConfirmPix(ctx, "rule-confirm", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	srv.Advance(stonetest.DefaultPixReserveDelay + stonetest.DefaultPixSettleDelay)
	srv.Advance(stonetest.DefaultRefundDelay)
	if got, _ := c.GetPix(ctx, p.ID); got.Status != stone.PixSettled || got.RefundedAmount != 250 {
		t.Errorf("%s refunded %d, want SETTLED 250", got.Status, got.RefundedAmount)
	}
}

// Receipts of an internal transfer and of a Pix are PDFs once they are
// paid, and refused before.
func TestEmulatorRailReceipts(t *testing.T) {
	srv, c := pixKeyEnv(t, stonetest.Options{})
	srv.AddStoneAccount("58859", stonetest.StoneAccount{Name: "Fernando Antonio"})
	ctx := context.Background()
	it, err := c.CreateInternalTransfer(ctx, "rc-int", internal(100, "58859"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreatePix(ctx, "rc-pix", stone.CreatePixPayment{AccountID: "acc-1", Amount: 100, Key: "+5521988040465"})
	if err != nil {
		t.Fatal(err)
	}
	var se *stone.Error
	if _, err := c.Receipt(ctx, stone.ReceiptPixPayment, p.ID); !errors.As(err, &se) || se.Status != http.StatusUnprocessableEntity {
		t.Errorf("receipt of a created Pix: %v, want 422", err)
	}
	if err := c.ConfirmPix(ctx, "rc-pix-confirm", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	srv.Advance(stonetest.DefaultPixReserveDelay + stonetest.DefaultPixSettleDelay)
	for _, rt := range []struct{ typ, id string }{{stone.ReceiptInternalTransfer, it.ID}, {stone.ReceiptPixPayment, p.ID}} {
		pdf, err := c.Receipt(ctx, rt.typ, rt.id)
		if err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
			t.Errorf("receipt of %s %s: %d bytes, %v", rt.typ, rt.id, len(pdf), err)
		}
	}
	cal, err := c.CalendarFor(ctx, stone.CalendarInternalTransfer, "2026-03-10", "2026-04-10")
	if err != nil || len(cal.NonBusinessDays) != 0 {
		t.Errorf("internal transfer calendar: %+v, %v; want no non-business day", cal, err)
	}
	if _, err := c.CalendarFor(ctx, "pix", "", ""); !errors.Is(err, stone.ErrNotSent) {
		t.Errorf("unknown operation type: %v, want not sent", err)
	}
}

// ListPix is served to indirect participants only; others get a typed 422.
func TestEmulatorPixListDirectParticipant(t *testing.T) {
	_, c := pixKeyEnv(t, stonetest.Options{DirectParticipant: true})
	for _, err := range c.ListPix(context.Background(), "acc-1", stone.PixFilter{}, 0) {
		var se *stone.Error
		if !errors.As(err, &se) || se.Status != http.StatusUnprocessableEntity || se.Type != stone.ErrTypeNotIndirectParticipant {
			t.Errorf("list: %v, want 422 not_indirect_participant", err)
		}
	}
}

// A Pix create key reused after the idempotency TTL is refused with 409,
// which the client classifies as final: look the payment up, never resend.
func TestEmulatorPixKeyAfterTTL(t *testing.T) {
	srv, c := pixKeyEnv(t, stonetest.Options{IdempotencyTTL: 10 * time.Minute})
	ctx := context.Background()
	body := stone.CreatePixPayment{AccountID: "acc-1", Amount: 100, Key: "+5521988040465"}
	if _, err := c.CreatePix(ctx, "ttl-create", body); err != nil {
		t.Fatal(err)
	}
	srv.Advance(11 * time.Minute)
	_, err := c.CreatePix(ctx, "ttl-create", body)
	var se *stone.Error
	if !errors.As(err, &se) || se.Status != http.StatusConflict || se.Type != stone.ErrTypeConflict {
		t.Fatalf("key after its TTL: %v, want 409 srn:error:conflict", err)
	}
	if o, _ := stone.Classify(err); o != stone.OutcomeFinal {
		t.Errorf("classified %v, want final", o)
	}
	if n := len(srv.PixPayments()); n != 1 {
		t.Errorf("%d payments, want 1", n)
	}
}
