package ledger

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestForgetNeverSent: a batch is forgotten only while nothing of it can
// have reached the bank and no one works on it.
func TestForgetNeverSent(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)

	// Stopped for its invalid rows: pending and invalid rows, no attempt.
	stopped := testBatch("stopped")
	importRows(t, l, stopped, []Row{validRow(stopped.ID, 2, 1000), {Row: 3, Cells: []string{"x"}, State: Invalid}})
	// Sent: one row was marked attempted before its request.
	sent := testBatch("sent")
	importRows(t, l, sent, []Row{validRow(sent.ID, 2, 1000), validRow(sent.ID, 3, 2000)})
	if err := l.MarkAttempted(ctx, sent.ID, []int{2}, c.Now()); err != nil {
		t.Fatal(err)
	}
	// Leased: a runner is importing or about to send it.
	leased := testBatch("leased")
	importRows(t, l, leased, []Row{validRow(leased.ID, 2, 1000)})
	if _, err := l.AcquireLease(ctx, leased.ID, "other host pid 7", time.Minute); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		batch Batch
		want  bool
	}{
		{"never sent", stopped, true},
		{"a row attempted", sent, false},
		{"leased", leased, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := l.NeverSent(ctx, tc.batch.ID)
			if err != nil || got != tc.want {
				t.Fatalf("NeverSent = %v, %v; want %v", got, err, tc.want)
			}
			forgot, err := l.ForgetNeverSent(ctx, tc.batch.ID)
			if err != nil || forgot != tc.want {
				t.Fatalf("ForgetNeverSent = %v, %v; want %v", forgot, err, tc.want)
			}
			_, err = l.Batch(ctx, tc.batch.ID)
			if gone := errors.Is(err, ErrNotFound); gone != tc.want {
				t.Fatalf("batch gone %v (%v), want %v", gone, err, tc.want)
			}
		})
	}

	// The forgotten batch's key is free again; the kept ones' are not.
	again := testBatch("again")
	row := validRow(stopped.ID, 2, 1000) // the same key as the forgotten row
	importRows(t, l, again, []Row{row})
	if got := mustRow(t, l, again.ID, 2); got.IdempotencyKey != row.IdempotencyKey || got.State != Pending {
		t.Fatalf("re-imported row %+v", got)
	}

	// A leased batch whose lease ran out (its runner was killed before
	// sending anything) can be forgotten.
	c.Advance(2 * time.Minute)
	if forgot, err := l.ForgetNeverSent(ctx, leased.ID); err != nil || !forgot {
		t.Fatalf("after the lease expired: ForgetNeverSent = %v, %v; want true", forgot, err)
	}
	if _, err := l.NeverSent(ctx, "no-such-batch"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("NeverSent of an unknown batch: %v", err)
	}
}
