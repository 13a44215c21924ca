package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkNotify is what an event costs the run that records it (one
// outbox insert, fsynced), and then its delivery to a local receiver.
func BenchmarkNotify(b *testing.B) {
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer rc.Close()
	l := openLedger(b, nil)
	n := New(Options{Ledger: l, URLs: []string{rc.URL}})
	ev := Sent(Batch{ID: "0123456789abcdef", File: "folha.csv"}, map[string]int{"accepted": 12}, map[string]int64{"accepted": 3848674})
	ctx := context.Background()
	b.Run("record", func(b *testing.B) {
		for i := range b.N {
			if err := n.Notify(ctx, fmt.Sprint("r", i), ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("deliver", func(b *testing.B) {
		for i := range b.N {
			if err := n.Notify(ctx, fmt.Sprint("d", i), ev); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for {
			left, err := n.Deliver(ctx)
			if err != nil {
				b.Fatal(err)
			}
			due, _ := l.Due(ctx, n.opts.Now(), 1)
			if left == 0 && len(due) == 0 {
				break
			}
		}
	})
}
