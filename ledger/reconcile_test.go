package ledger

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// acceptRows imports n valid rows (sheet rows 2…n+1) and accepts them with
// transfers "t2", "t3", … in status APPROVED.
func acceptRows(t *testing.T, l *Ledger, c *clock, content string, n int) Batch {
	t.Helper()
	ctx := context.Background()
	b := testBatch(content)
	var rows []Row
	for i := range n {
		rows = append(rows, validRow(b.ID, i+2, int64(100*(i+1))))
	}
	importRows(t, l, b, rows)
	for _, r := range rows {
		if err := l.MarkAttempted(ctx, b.ID, []int{r.Row}, c.Now()); err != nil {
			t.Fatal(err)
		}
		tr := Transfer{ID: "t" + string(rune('0'+r.Row)), Status: "APPROVED", FeeCents: 400}
		if err := l.Accept(ctx, b.ID, r.Row, Attempt{At: c.Now(), HTTPStatus: 202}, tr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func toReconcile(t *testing.T, l *Ledger, b string, now time.Time, window time.Duration) []int {
	t.Helper()
	var out []int
	for r, err := range l.ToReconcile(context.Background(), b, now, window) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Row.Row)
	}
	return out
}

func TestReconciliationHistoryAndCandidates(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := acceptRows(t, l, c, "recon", 4)
	week := 7 * 24 * time.Hour
	if got := toReconcile(t, l, b.ID, c.Now(), week); !slices.Equal(got, []int{2, 3, 4, 5}) {
		t.Fatalf("to reconcile before any poll: %v, want rows 2-5", got)
	}
	finished := c.Now().Add(time.Minute)
	recs := map[int]Reconciliation{
		2: {Status: "FINISHED", Found: true, AmountCents: 100, FeeCents: 400, FinishedAt: finished},
		3: {Status: "FAILED", Found: true, AmountCents: 200, FailedAt: finished, FailureCode: "1", FailureReason: "insufficient balance"},
		4: {Status: "APPROVED", Found: true, AmountCents: 999, Mismatch: "amount: ledger R$ 3,00, Stone R$ 9,99"},
	}
	for row, rec := range recs {
		rec.CheckedAt, rec.Source = c.Now().Add(time.Hour), "poll"
		changed, err := l.RecordReconciliation(ctx, b.ID, row, rec)
		if err != nil {
			t.Fatal(err)
		}
		if want := rec.Status != "APPROVED"; changed != want {
			t.Errorf("row %d: changed = %v, want %v", row, changed, want)
		}
	}
	// The same answer again changes nothing and adds no history.
	again := recs[2]
	again.CheckedAt, again.Source = c.Now().Add(2*time.Hour), "poll"
	if changed, err := l.RecordReconciliation(ctx, b.ID, 2, again); err != nil || changed {
		t.Fatalf("second FINISHED: changed %v, %v", changed, err)
	}
	hist, err := l.StatusHistory(ctx, b.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []StatusChange{{Status: "APPROVED", At: c.Now(), Source: "create"}, {Status: "FINISHED", At: finished, Source: "poll"}}
	if !slices.Equal(hist, want) {
		t.Errorf("history of row 2 = %+v, want %+v", hist, want)
	}

	// FAILED is final; FINISHED stays until the refund window passes; an
	// APPROVED row (even with a mismatch) stays; row 5 was never polled.
	if got := toReconcile(t, l, b.ID, c.Now().Add(time.Hour), week); !slices.Equal(got, []int{2, 4, 5}) {
		t.Errorf("to reconcile after the poll: %v, want 2 4 5", got)
	}
	if got := toReconcile(t, l, b.ID, finished.Add(week+time.Second), week); !slices.Equal(got, []int{4, 5}) {
		t.Errorf("to reconcile after the refund window: %v, want 4 5", got)
	}

	var got []ReconciledRow
	for r, err := range l.Reconciled(ctx, b.ID) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 4 || !got[0].Checked || got[3].Checked {
		t.Fatalf("reconciled rows: %+v", got)
	}
	if r := got[1]; r.APIStatus != "FAILED" || r.Rec.FailureCode != "1" || !r.Rec.FailedAt.Equal(finished) || r.Rec.AmountCents != 200 {
		t.Errorf("row 3 = %+v", r)
	}
	if r := got[2]; r.Rec.Mismatch == "" || r.Rec.AmountCents != 999 || r.AmountCents != 300 {
		t.Errorf("row 4 = %+v", r)
	}
}

func TestRecordReconciliationRefusesRowNotAccepted(t *testing.T) {
	c := newClock()
	l, _ := openTest(t, c)
	b := testBatch("pending")
	importRows(t, l, b, []Row{validRow(b.ID, 2, 100)})
	_, err := l.RecordReconciliation(context.Background(), b.ID, 2, Reconciliation{Status: "FINISHED", Source: "poll", CheckedAt: c.Now()})
	var te *TransitionError
	if !errors.As(err, &te) || te.From != Pending {
		t.Fatalf("err = %v, want a TransitionError from pending", err)
	}
}

func TestApplyWebhookOnce(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := acceptRows(t, l, c, "hooks", 2)
	fin := Reconciliation{Status: "FINISHED", Found: true, AmountCents: 100, FinishedAt: c.Now(), CheckedAt: c.Now(), Source: "webhook"}
	decide := func(r ReconciledRow) (Reconciliation, bool) { return fin, r.APIStatus != fin.Status }
	ev := WebhookEvent{ID: "ev-1", Type: "cash_out_external_transfer_finished", TransferID: "t2", ReceivedAt: c.Now()}

	// Two deliveries of one event at the same time: one applies it.
	outs := make([]WebhookOutcome, 2)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() {
			out, batch, row, err := l.ApplyWebhook(ctx, ev, decide)
			if err != nil {
				t.Error(err)
			}
			if out != WebhookDuplicate && (batch != b.ID || row != 2) {
				t.Errorf("delivery %d: batch %s row %d", i, batch, row)
			}
			outs[i] = out
		})
	}
	wg.Wait()
	slices.Sort(outs)
	if !slices.Equal(outs, []WebhookOutcome{WebhookApplied, WebhookDuplicate}) {
		t.Errorf("outcomes = %v, want one applied and one duplicate", outs)
	}
	if hist, _ := l.StatusHistory(ctx, b.ID, 2); len(hist) != 2 || hist[1].Source != "webhook" {
		t.Errorf("history of row 2 = %+v", hist)
	}

	// Another event with nothing new; and one for a transfer not ours.
	ev2 := WebhookEvent{ID: "ev-2", Type: ev.Type, TransferID: "t2", ReceivedAt: c.Now()}
	if out, _, _, err := l.ApplyWebhook(ctx, ev2, decide); err != nil || out != WebhookUnchanged {
		t.Errorf("repeated status: %s, %v", out, err)
	}
	ev3 := WebhookEvent{ID: "ev-3", Type: ev.Type, TransferID: "elsewhere", ReceivedAt: c.Now()}
	if out, _, _, err := l.ApplyWebhook(ctx, ev3, decide); err != nil || out != WebhookUnknown {
		t.Errorf("foreign transfer: %s, %v", out, err)
	}
	for id, want := range map[string]WebhookOutcome{"ev-1": WebhookApplied, "ev-2": WebhookUnchanged, "ev-3": WebhookUnknown} {
		if out, seen, err := l.WebhookEventSeen(ctx, id); err != nil || !seen || out != want {
			t.Errorf("event %s: %s %v %v, want %s", id, out, seen, err, want)
		}
	}
}
