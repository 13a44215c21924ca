package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"lote/notify"
)

// receiver is a local HTTP server that keeps every event posted to it.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	events []notify.Event
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev notify.Event
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &ev) != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.events = append(rc.events, ev)
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) byType(typ string) []notify.Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []notify.Event
	for _, ev := range rc.events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// The page announces a batch waiting for approval, its approval, what
// was sent, and a rejection, each once, to a receiver of --notify.
func TestPageNotifies(t *testing.T) {
	rc := newReceiver(t)
	var n *notify.Notifier
	e := newEnv(t, func(o *Options) {
		o.RequireApproval = true
		n = notify.New(notify.Options{Ledger: o.Ledger, URLs: []string{rc.URL}})
		o.Notify = n
	})
	_, fixed := sheets(t)
	ana, bia := e.login("ana"), e.login("bia")
	otherID, otherPath := submittedForApproval(t, ana, fixed)
	if code, body := bia.post(otherPath+"/reject", url.Values{"reason": {"wrong month"}}); code != http.StatusOK {
		t.Fatalf("reject: %d\n%.2000s", code, body)
	}
	december := strings.ReplaceAll(string(fixed), "PAY-2026-11-", "PAY-2026-12-")
	id, path := submittedForApproval(t, ana, []byte(december))
	if code, body := bia.post(path+"/approve", nil); code != http.StatusOK {
		t.Fatalf("approve: %d\n%.2000s", code, body)
	}
	e.waitSent(id)
	if left, err := n.Deliver(context.Background()); err != nil || left != 0 {
		t.Fatalf("deliver: %d left, %v", left, err)
	}

	waiting := rc.byType(notify.BatchAwaitingApproval)
	if len(waiting) != 2 || waiting[1].Batch != id || waiting[1].By != "ana" || waiting[1].Rows["to_send"] != 12 ||
		!strings.Contains(waiting[1].Text, "waits for approval: 12 payments, total R$ 38.486,74, submitted by ana") {
		t.Errorf("waiting for approval: %+v", waiting)
	}
	if ap := rc.byType(notify.BatchApproved); len(ap) != 1 || ap[0].By != "bia" || !strings.Contains(ap[0].Text, "approved by bia; it is being sent") {
		t.Errorf("approved: %+v", ap)
	}
	sent := rc.byType(notify.BatchSent)
	if len(sent) != 1 || sent[0].Rows["accepted"] != 12 || sent[0].AmountCents["accepted"] != 3848674 || sent[0].File != "payouts.csv" {
		t.Errorf("sent: %+v", sent)
	}
	if rj := rc.byType(notify.BatchRejected); len(rj) != 1 || rj[0].Batch != otherID || rj[0].Reason != "wrong month" ||
		!strings.Contains(rj[0].Text, "rejected by bia: wrong month") {
		t.Errorf("rejected: %+v", rj)
	}
	// Delivered ones are not posted again.
	before := len(rc.events)
	if _, err := n.Deliver(context.Background()); err != nil || len(rc.events) != before {
		t.Errorf("a second delivery posted %d more, %v", len(rc.events)-before, err)
	}
}
