package ledger

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A Pix row keeps its confirmation key and its created payment across a
// reopen; one payment id never serves two rows; the rails are summed apart.
func TestPixRows(t *testing.T) {
	ctx := context.Background()
	l, path := openTest(t, newClock())
	b := testBatch("pix")
	rows := []Row{validRow(b.ID, 2, 100), validRow(b.ID, 3, 200), validRow(b.ID, 4, 300)}
	rows[0].Rail, rows[1].Rail = RailPix, RailPix
	importRows(t, l, b, rows)
	if err := l.MarkAttempted(ctx, b.ID, []int{2, 3}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := l.SetPixConfirmKey(ctx, b.ID, 2, "confirm-2"); err != nil {
		t.Fatal(err)
	}
	a := Attempt{At: time.Now(), HTTPStatus: 201, Outcome: OutcomeAccepted}
	if err := l.PixCreated(ctx, b.ID, 2, a, "pay-1", "E1650155520260310", "Ana Lima", "***982247**"); err != nil {
		t.Fatal(err)
	}
	var taken *TransferTakenError
	if err := l.PixCreated(ctx, b.ID, 3, a, "pay-1", "E2", "X", ""); !errors.As(err, &taken) {
		t.Errorf("a second row with payment pay-1: %v, want a TransferTakenError", err)
	}
	if err := l.SetPixConfirmKey(ctx, b.ID, 3, "confirm-2"); err == nil {
		t.Errorf("two rows with one confirmation key were accepted")
	}
	l.Close()
	l2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	r := mustRow(t, l2, b.ID, 2)
	if r.State != Attempted || r.Rail != RailPix || r.PixConfirmKey != "confirm-2" || r.PixPaymentID != "pay-1" ||
		r.EndToEndID != "E1650155520260310" || r.PayeeName != "Ana Lima" || r.PayeeDocument != "***982247**" {
		t.Errorf("row 2 after a reopen: %+v", r)
	}
	if r := mustRow(t, l2, b.ID, 3); r.PixPaymentID != "" || r.PixConfirmKey != "" {
		t.Errorf("row 3 holds %q / %q after refused writes", r.PixPaymentID, r.PixConfirmKey)
	}
	rails, err := l2.RailSummary(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rails) != 2 || rails[0].Rail != RailTED || rails[0].ToSend != (Totals{Rows: 1, Cents: 300}) ||
		rails[1].Rail != RailPix || rails[1].ToSend != (Totals{Rows: 2, Cents: 300}) {
		t.Errorf("rails %+v", rails)
	}
}
