package notify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lote/ledger"
)

func openLedger(t testing.TB, now func() time.Time) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(filepath.Join(t.TempDir(), "l.db"), ledger.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// A receiver that keeps failing is tried MaxAttempts times, each after its
// backoff, then the event is abandoned and kept with the last error; a
// URL this Notifier was not given is never posted to.
func TestRetriedThenAbandoned(t *testing.T) {
	var posts atomic.Int64
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer down.Close()
	clock := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	l := openLedger(t, now)
	n := New(Options{Ledger: l, URLs: []string{down.URL}, MaxAttempts: 3, Now: now})
	ctx := context.Background()
	if err := n.Notify(ctx, "k", Rejected(Batch{ID: "b1", File: "f.csv"}, "bia", "wrong month")); err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(ctx, "k", Rejected(Batch{ID: "b1", File: "f.csv"}, "bia", "wrong month")); err != nil {
		t.Fatal(err)
	}
	// Another process's receiver, in the same outbox.
	if _, err := l.Enqueue(ctx, []string{"http://127.0.0.1:1/other"}, BatchSent, "x", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := n.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		if got := posts.Load(); got != int64(i) {
			t.Fatalf("after delivery %d: %d posts, want %d (one event, once per due time)", i, got, i)
		}
		if _, err := n.Deliver(ctx); err != nil || posts.Load() != int64(i) {
			t.Fatalf("posted again before its backoff: %d, %v", posts.Load(), err)
		}
		clock = clock.Add(5 * time.Hour) // past any backoff
	}
	if _, err := n.Deliver(ctx); err != nil || posts.Load() != 3 {
		t.Fatalf("posted after the last attempt: %d, %v", posts.Load(), err)
	}
	all, err := l.Notifications(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("%d notifications, want 2: %+v", len(all), all)
	}
	ev := all[0]
	if ev.Attempts != 3 || ev.AbandonedAt.IsZero() || !ev.DeliveredAt.IsZero() || !strings.Contains(ev.LastError, "502") {
		t.Errorf("abandoned event: %+v", ev)
	}
	if other := all[1]; other.Attempts != 0 {
		t.Errorf("a URL not given was tried: %+v", other)
	}
}

func TestNilNotifierDoesNothing(t *testing.T) {
	var n *Notifier = New(Options{})
	if n != nil {
		t.Fatal("New without URLs made a notifier")
	}
	if err := n.Notify(context.Background(), "k", Event{}); err != nil {
		t.Error(err)
	}
	if _, err := n.Deliver(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestTextsSayOneAndMany(t *testing.T) {
	b := Batch{ID: "0123456789abcdef", File: "folha.csv"}
	for _, tt := range []struct{ got, want string }{
		{NeedPerson(b, 1, 100).Text, "lote: 1 row of batch 0123456789ab (folha.csv), R$ 1,00, needs a person: whether it was paid is unknown."},
		{NeedPerson(b, 2, 100).Text, "lote: 2 rows of batch 0123456789ab (folha.csv), R$ 1,00, need a person: whether they were paid is unknown."},
		{AwaitingApproval(b, "ana", 1, 150000, 1).Text, "waits for approval: 1 payment, total R$ 1.500,00, submitted by ana."},
		{Approved(b, "bia", 1, 2).Text, "approved by bia: approval 1 of 2; it waits for the next."},
	} {
		if !strings.Contains(tt.got, tt.want) {
			t.Errorf("text %q lacks %q", tt.got, tt.want)
		}
	}
}
