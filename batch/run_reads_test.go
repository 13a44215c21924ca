package batch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lote/ledger"
	"lote/stone/stonetest"
)

// TestRunRetriesReadsBeforeSending: a 503 while reading the calendar, the
// fee or the balance is retried instead of ending the run with nothing sent.
func TestRunRetriesReadsBeforeSending(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	var calendar, fee, balance atomic.Int32
	e.srv.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		p := r.URL.Path
		switch {
		case strings.HasSuffix(p, "/schedulings/calendar") && calendar.Add(1) <= 2,
			strings.Contains(p, "/fees/") && fee.Add(1) <= 2,
			strings.HasSuffix(p, "/balance") && balance.Add(1) <= 2:
			return http.StatusServiceUnavailable, true
		}
		return 0, false
	}})
	ps := payees(3)
	rep, err := Run(context.Background(), e.writeCSV("folha.csv", ps, true), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Summary[ledger.Accepted].Rows; got != 3 {
		t.Fatalf("%d rows accepted, want 3: %+v", got, rep.Summary)
	}
	if calendar.Load() != 3 || fee.Load() != 3 || balance.Load() != 3 {
		t.Errorf("calendar, fee, balance read %d, %d, %d times; want 3 each (two 503s, then an answer)", calendar.Load(), fee.Load(), balance.Load())
	}
	if !rep.Plan.BalanceKnown || rep.Plan.FeeCents != 3*400 {
		t.Errorf("plan %+v: want the balance known and fees of 3 transfers", rep.Plan)
	}
	e.checkExactlyOnce(rep.Batch.ID, ps)
}

// TestRunRecordsTheSeparator: the batch remembers the input's CSV
// separator, so results written on resume (without the file) use it.
func TestRunRecordsTheSeparator(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	rep, err := Run(context.Background(), e.writeCSV("folha.csv", payees(1), false), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.l.Batch(context.Background(), rep.Batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.ImportOptions.Separator; got != "," {
		t.Errorf("separator recorded %q, want %q", got, ",")
	}
}

// TestRunStoneNotAnsweringBeforeSendingIsResumable: a Stone slower than
// RequestTimeout on every attempt, while the calendar is read before the
// import or the fee and balance before sending, ends the run interrupted
// with ErrNoAnswer and nothing sent; the same run later finishes. A refusal
// of the credentials is still ErrConfig, not resumable by waiting.
func TestRunStoneNotAnsweringBeforeSendingIsResumable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, stonetest.Options{})
	ps := payees(3)
	path := e.writeCSV("folha.csv", ps, true)
	o := e.opts()
	// Only the runs against a slow Stone wait this little: the others
	// must not time out on a loaded machine.
	short := o
	short.RequestTimeout, short.MaxAttempts = 20*time.Millisecond, 3
	slow := stonetest.Faults{Latency: 300 * time.Millisecond}

	// The calendar, before the import, and first the token: every attempt
	// waits on the one token request, which outlives them.
	e.srv.SetFaults(slow)
	rep, err := Run(ctx, path, short)
	if !errors.Is(err, ErrNoAnswer) || !strings.Contains(err.Error(), "calendar") || !rep.Interrupted {
		t.Fatalf("run with a silent Stone: interrupted %v, err %v; want interrupted, ErrNoAnswer naming the calendar", rep.Interrupted, err)
	}
	if bs, _ := e.l.Batches(ctx); len(bs) != 0 || e.creates() != 0 {
		t.Fatalf("%d batches, %d creates; want none", len(bs), e.creates())
	}

	// The fee and the balance, before sending: the batch is imported.
	e.srv.SetFaults(stonetest.Faults{})
	stop := o
	stop.Confirm = func(context.Context, Plan) error { return errors.New("not now") }
	if rep, err = Run(ctx, path, stop); err == nil || rep.Batch.ID == "" {
		t.Fatalf("run stopped at confirmation: %v", err)
	}
	id := rep.Batch.ID
	e.srv.SetFaults(slow)
	rep, err = Resume(ctx, id, short)
	if !errors.Is(err, ErrNoAnswer) || !strings.Contains(err.Error(), "fee") || !rep.Interrupted || rep.Batch.ID != id {
		t.Fatalf("resume with a silent Stone: interrupted %v, batch %q, err %v; want interrupted, ErrNoAnswer naming the fee", rep.Interrupted, rep.Batch.ID, err)
	}
	if e.creates() != 0 || rep.Summary[ledger.Pending].Rows != 3 {
		t.Fatalf("%d creates, summary %+v; want nothing sent", e.creates(), rep.Summary)
	}

	e.srv.SetFaults(stonetest.Faults{})
	if rep, err = Resume(ctx, id, o); err != nil || rep.Summary[ledger.Accepted].Rows != 3 {
		t.Fatalf("resume once Stone answers: %v, %+v", err, rep.Summary)
	}
	e.checkExactlyOnce(id, ps)

	// Refused credentials are configuration, whatever the step.
	e.srv.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		return http.StatusForbidden, strings.HasSuffix(r.URL.Path, "/schedulings/calendar")
	}})
	rep, err = Run(ctx, e.writeCSV("outra.csv", payees(1), false), o)
	if !errors.Is(err, ErrConfig) || errors.Is(err, ErrNoAnswer) || rep.Interrupted {
		t.Errorf("calendar refused: interrupted %v, err %v; want ErrConfig", rep.Interrupted, err)
	}
}
