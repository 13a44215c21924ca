package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"lote/notify"
	"lote/stone/stonetest"
)

// events is a local receiver of --notify that keeps what it was posted.
type events struct {
	*httptest.Server
	mu   sync.Mutex
	all  []notify.Event
	fail int // answer 503 to this many posts first
}

func newEvents(t *testing.T) *events {
	e := &events{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.fail > 0 {
			e.fail--
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var ev notify.Event
		if err := json.Unmarshal(b, &ev); err != nil || ev.Text == "" {
			http.Error(w, "not an event", http.StatusBadRequest)
			return
		}
		e.all = append(e.all, ev)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *events) of(typ string) []notify.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []notify.Event
	for _, ev := range e.all {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// A run posts what it sent and the rows that need a person; a
// reconciliation posts each payment returned after it was paid, and its
// end. Each once: the same outcome seen again is not posted again.
func TestRunAndReconcileNotify(t *testing.T) {
	rc := newEvents(t)
	b := newBank(t, stonetest.Options{Sandbox: true, AssertionClock: time.Now, RefundRule: stonetest.RefundByAccount(map[string]string{"7788991": "1"})})
	b.sim.SetFaults(stonetest.Faults{OnRequest: onTransfer(2, http.StatusConflict)})
	in := sample(t, "payouts.csv")
	r := b.run(t, "run", in, "--notify", rc.URL)
	if r.code != exitPerson {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	sent := rc.of(notify.BatchSent)
	if len(sent) != 1 || sent[0].Rows["accepted"] != 11 || sent[0].Rows["needs_review"] != 1 || sent[0].File != "payouts.csv" ||
		sent[0].Env != "sandbox" || !strings.Contains(sent[0].Text, "sent: accepted 11 (") || len(sent[0].Batch) != 64 {
		t.Errorf("batch.sent: %+v", sent)
	}
	review := rc.of(notify.RowsNeedPerson)
	if len(review) != 1 || review[0].Rows["needs_review"] != 1 || !strings.Contains(review[0].Text, "1 row of batch ") ||
		!strings.Contains(review[0].Text, "needs a person") {
		t.Errorf("rows.need_person: %+v", review)
	}
	b.sim.SetFaults(stonetest.Faults{})

	// A day passes at the bank: transfers finish, the one to 7788991 is
	// refunded by the payee's bank.
	b.sim.Advance(26 * time.Hour)
	rec := append([]string{"reconcile", "--all", "--out", b.dir + "/recon.csv", "--notify", rc.URL}, b.args...)
	r = cli{t: t}.run(rec...)
	if r.code != exitPerson {
		t.Fatalf("reconcile: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	returned := rc.of(notify.PaymentReturned)
	if len(returned) != 1 || returned[0].Status != "REFUNDED" || returned[0].Row != 11 || returned[0].TransferID == "" ||
		returned[0].AmountCents["returned"] != 35000 || !strings.Contains(returned[0].Text, "row 11 of batch") {
		t.Errorf("payment.returned: %+v", returned)
	}
	done := rc.of(notify.ReconciliationFinished)
	if len(done) != 1 || done[0].Verdict != "attention" || done[0].AmountCents["returned"] != 35000 {
		t.Errorf("reconciliation.finished: %+v", done)
	}

	// Nothing new: nothing posted again.
	before := len(rc.all)
	cli{t: t}.run(rec...)
	b.run(t, "run", in, "--notify", rc.URL)
	if n := len(rc.all); n != before {
		t.Errorf("%d more events for outcomes already announced", n-before)
	}
}

// A receiver that fails is retried later, by the next lote with the same
// --notify: the run neither waits for it nor loses the event.
func TestNotifyRetriedByTheNextRun(t *testing.T) {
	rc := newEvents(t)
	rc.fail = 1
	b := newBank(t)
	if r := b.run(t, "run", sample(t, "payouts.csv"), "--notify", rc.URL); r.code != exitOK {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	if n := len(rc.of(notify.BatchSent)); n != 0 {
		t.Fatalf("%d events delivered to a receiver that answered 503", n)
	}
	if r := b.run(t, "run", sample(t, "payouts.csv"), "--notify", rc.URL); r.code != exitOK {
		t.Fatalf("second run: exit %d\n%s", r.code, r.stderr)
	}
	// The second run had nothing to do, and the event is due only after
	// its backoff: still in the outbox, recorded with the failure.
	cn, err := (&connFlags{env: "sandbox", ledger: b.args[len(b.args)-1]}).openLedger()
	if err != nil {
		t.Fatal(err)
	}
	defer cn.Close()
	out, err := cn.Notifications(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Attempts != 1 || !strings.Contains(out[0].LastError, "503") || !out[0].DeliveredAt.IsZero() ||
		!out[0].NextAt.After(out[0].CreatedAt) {
		t.Errorf("outbox: %+v", out)
	}
}

func TestNotifyRefusesOtherURLs(t *testing.T) {
	r := cli{t: t}.run("run", "x.csv", "--notify", "ftp://example.com/hook")
	if r.code != exitUsage || !strings.Contains(r.stderr, "give an http:// or https:// URL") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	r = cli{t: t}.run("run", "x.csv", "--notify", "mailto:financeiro@example.com")
	if r.code != exitUsage || !strings.Contains(r.stderr, "needs --smtp HOST:PORT and --smtp-from ADDRESS") {
		t.Errorf("mailto without a server: exit %d\n%s", r.code, r.stderr)
	}
}
