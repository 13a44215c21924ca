package batch

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

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
	if got := b.ImportOptions["separator"]; got != "," {
		t.Errorf("separator recorded %q, want %q", got, ",")
	}
}
