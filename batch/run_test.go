package batch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lote/internal/fake"
	"lote/ledger"
	"lote/stone/stonetest"
	"lote/validate"
)

func validateToday() validate.Options { return validate.Options{Today: emuStart} }

func TestRunSendsEveryRowOnceUnderFaults(t *testing.T) {
	e := newEnv(t, stonetest.Options{Seed: 7})
	e.srv.SetFaults(stonetest.Faults{FailRate: 0.10, DropRate: 0.05})
	ps := payees(60)
	path := e.writeCSV("folha.csv", ps, true)
	o := e.opts()
	o.MaxAttempts = 20
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Interrupted || rep.Unresolved != 0 || rep.Summary[ledger.Accepted].Rows != 60 {
		t.Fatalf("report: interrupted %v, unresolved %d, summary %+v", rep.Interrupted, rep.Unresolved, rep.Summary)
	}
	if rep.Batch.State != ledger.BatchDone || rep.Plan.ToSend != 60 || rep.Plan.TotalCents != 60*1000+59*60/2 {
		t.Errorf("batch %s, plan %+v", rep.Batch.State, rep.Plan)
	}
	if got := len(e.srv.Transfers()); got != 60 {
		t.Errorf("emulator has %d transfers; want 60", got)
	}
	e.checkExactlyOnce(rep.Batch.ID, ps)

	// Running the same file again sends nothing and says so.
	before := e.srv.RequestCount()
	rep2, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep2.NothingToDo || e.srv.RequestCount() != before {
		t.Errorf("second run: NothingToDo %v, %d new requests", rep2.NothingToDo, e.srv.RequestCount()-before)
	}
}

func TestRunServerRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("spends about a second of real time against a rate limit")
	}
	e := newEnv(t, stonetest.Options{})
	e.srv.SetFaults(stonetest.Faults{RateLimit: 40, RateBurst: 5})
	ps := payees(40)
	path := e.writeCSV("folha.csv", ps, true)
	o := e.opts()
	o.Rate, o.Sleep, o.MaxAttempts = 60, nil, 20 // real pacing: the server's limit is on the real clock
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary[ledger.Accepted].Rows != 40 {
		t.Fatalf("summary %+v", rep.Summary)
	}
	e.checkExactlyOnce(rep.Batch.ID, ps)
	limited := 0
	for _, r := range e.srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited > 20 {
		t.Errorf("%d answers were 429 for 40 rows; the limiter should back off", limited)
	}
	t.Logf("429s: %d", limited)
}

func TestRunInvalidRows(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(5)
	ps[2].doc = "12345678900" // row 4: bad check digits
	path := e.writeCSV("folha.csv", ps, true)
	rep, err := Run(context.Background(), path, e.opts())
	if !errors.Is(err, ErrInvalidRows) {
		t.Fatalf("err = %v; want ErrInvalidRows", err)
	}
	if e.creates() != 0 || rep.Plan.Invalid != 1 || rep.Plan.Valid != 4 {
		t.Fatalf("%d creates, plan %+v", e.creates(), rep.Plan)
	}
	r := e.rows(rep.Batch.ID)[4]
	if r.State != ledger.Invalid || r.ErrorCode != "invalid_cpf" {
		t.Errorf("row 4: %s %s", r.State, r.ErrorCode)
	}
	if is := Issues(r); len(is) != 1 || is[0].Column != "document" || is[0].Value != "12345678900" {
		t.Errorf("row 4 issues %+v", is)
	}

	o := e.opts()
	o.SkipInvalid = true
	rep, err = Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary[ledger.Accepted].Rows != 4 || rep.Summary[ledger.Invalid].Rows != 1 || len(e.srv.Transfers()) != 4 {
		t.Errorf("summary %+v, %d transfers", rep.Summary, len(e.srv.Transfers()))
	}
	for _, rec := range e.srv.Transfers() {
		if rec.Transfer.Target.Entity.Document == "12345678900" {
			t.Error("the invalid row was sent")
		}
	}
}

func TestRunRepeatsAcrossFiles(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(4)
	first := e.writeCSV("marco.csv", ps, false)
	if _, err := Run(context.Background(), first, e.opts()); err != nil {
		t.Fatal(err)
	}
	// Same payouts, another order: another file, another batch.
	re := []payee{ps[3], ps[1], ps[2], ps[0]}
	second := e.writeCSV("marco-de-novo.csv", re, false)
	rep, err := Run(context.Background(), second, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Plan.Held != 4 || rep.Plan.ToSend != 0 || len(e.srv.Transfers()) != 4 {
		t.Fatalf("plan %+v, %d transfers", rep.Plan, len(e.srv.Transfers()))
	}
	r := e.rows(rep.Batch.ID)[2]
	if r.State != ledger.Held || r.ErrorCode != CodeSuspectedRepeat || !strings.Contains(r.ErrorMessage, "row 5") {
		t.Errorf("row 2: %s %s %q", r.State, r.ErrorCode, r.ErrorMessage)
	}
	o := e.opts()
	o.AllowRepeat = true
	rep, err = Run(context.Background(), second, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary[ledger.Accepted].Rows != 4 || len(e.srv.Transfers()) != 8 {
		t.Errorf("summary %+v, %d transfers; want 4 accepted and 8 in all", rep.Summary, len(e.srv.Transfers()))
	}
}

func TestRunReferences(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(3)
	ps[2].ref = ps[0].ref // row 4 repeats row 2's reference
	path := e.writeCSV("a.csv", ps, true)
	o := e.opts()
	o.SkipInvalid = true
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	r := e.rows(rep.Batch.ID)[4]
	if r.State != ledger.Invalid || r.ErrorCode != CodeReferenceRepeated || !strings.Contains(r.ErrorMessage, "row 2") {
		t.Errorf("row 4: %s %s %s", r.State, r.ErrorCode, r.ErrorMessage)
	}
	// The same reference in another file, for another payee.
	other := []payee{payees(9)[8]}
	other[0].ref = ps[1].ref
	rep2, err := Run(context.Background(), e.writeCSV("b.csv", other, true), o)
	if err != nil {
		t.Fatal(err)
	}
	r = e.rows(rep2.Batch.ID)[2]
	if r.ErrorCode != CodeReferenceReused || !strings.Contains(r.ErrorMessage, ledger.ShortID(rep.Batch.ID)+" row 3") {
		t.Errorf("row 2 of the second file: %s %s", r.ErrorCode, r.ErrorMessage)
	}
}

func TestRunConcurrentRunsOfOneFile(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	path := e.writeCSV("folha.csv", payees(5), true)
	inConfirm := make(chan struct{})
	release := make(chan struct{})
	o := e.opts()
	o.Confirm = func(ctx context.Context, p Plan) error {
		close(inConfirm)
		<-release
		return nil
	}
	done := make(chan error, 1)
	var rep Report
	go func() {
		var err error
		rep, err = Run(context.Background(), path, o)
		done <- err
	}()
	<-inConfirm
	o2 := e.opts()
	o2.Holder = "other"
	_, err := Run(context.Background(), path, o2)
	var held *ledger.LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "test" {
		t.Errorf("second run: %v; want LeaseHeldError naming test", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rep.Summary[ledger.Accepted].Rows != 5 || len(e.srv.Transfers()) != 5 {
		t.Errorf("summary %+v", rep.Summary)
	}
}

func TestRunDifferentAccount(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	path := e.writeCSV("folha.csv", payees(2), true)
	o := e.opts()
	o.Confirm = func(context.Context, Plan) error { return errors.New("no") }
	if _, err := Run(context.Background(), path, o); err == nil || e.creates() != 0 {
		t.Fatalf("refused confirmation: err %v, %d creates", err, e.creates())
	}
	o = e.opts()
	o.AccountID = "acc-2"
	if _, err := Run(context.Background(), path, o); !errors.Is(err, ErrBatchMismatch) {
		t.Errorf("err = %v; want ErrBatchMismatch", err)
	}
}

func TestRunInterruptedAndResumed(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(40)
	path := e.writeCSV("folha.csv", ps, true)
	clock := fake.NewClock(emuStart)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := e.opts()
	o.Now = func() time.Time { clock.Advance(time.Second); return clock.Now() }
	var calls atomic.Int32
	o.Progress = func(p Progress) {
		calls.Add(1)
		if p.Done >= 8 {
			cancel()
		}
	}
	rep, err := Run(ctx, path, o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Batch.State == ledger.BatchDone {
		t.Fatalf("interrupted %v, batch %s", rep.Interrupted, rep.Batch.State)
	}
	sent := rep.Summary[ledger.Accepted].Rows
	if sent < 8 || sent >= 40 || rep.Summary[ledger.Pending].Rows == 0 {
		t.Fatalf("after interruption: %+v", rep.Summary)
	}
	if rep.Summary[ledger.Attempted].Rows+rep.Summary[ledger.Pending].Rows+sent != 40 {
		t.Errorf("rows lost: %+v", rep.Summary)
	}
	e.checkExactlyOnce(rep.Batch.ID, ps)

	o.Progress = nil
	rep, err = Resume(context.Background(), rep.Batch.ID[:10], o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary[ledger.Accepted].Rows != 40 || rep.Batch.State != ledger.BatchDone || len(e.srv.Transfers()) != 40 {
		t.Errorf("after resume: %+v, %d transfers", rep.Summary, len(e.srv.Transfers()))
	}
	e.checkExactlyOnce(rep.Batch.ID, ps)
	if calls.Load() == 0 {
		t.Error("Progress was never called")
	}
}

func TestRunConfigRefused(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(6)
	path := e.writeCSV("folha.csv", ps, true)
	forbid := true
	e.srv.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		if forbid && r.Method == http.MethodPost && r.URL.Path == "/api/v1/external_transfers" {
			return http.StatusForbidden, true
		}
		return 0, false
	}})
	rep, err := Run(context.Background(), path, e.opts())
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("err = %v; want ErrConfig", err)
	}
	if len(e.srv.Transfers()) != 0 || rep.Summary[ledger.Attempted].Rows == 0 || rep.Summary[ledger.Accepted].Rows != 0 {
		t.Fatalf("summary %+v", rep.Summary)
	}
	forbid = false
	e.srv.SetFaults(stonetest.Faults{})
	rep, err = Resume(context.Background(), rep.Batch.ID, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary[ledger.Accepted].Rows != 6 {
		t.Errorf("after resume %+v", rep.Summary)
	}
	e.checkExactlyOnce(rep.Batch.ID, ps)
}

func TestRunConflictLookup(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(3)
	path := e.writeCSV("folha.csv", ps, true)
	// Every transfer is created, and every answer is lost.
	e.srv.SetFaults(stonetest.Faults{DropRate: 1})
	clock := fake.NewClock(e.srv.Now())
	o := e.opts()
	o.Now, o.Sleep, o.MaxAttempts = clock.Now, clock.Sleep, 1
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unresolved != 3 || rep.Summary[ledger.Attempted].Rows != 3 || len(e.srv.Transfers()) != 3 {
		t.Fatalf("first run: unresolved %d, %+v", rep.Unresolved, rep.Summary)
	}
	// The emulator forgets the keys (its TTL is 24 h); lote still trusts
	// them (23 h after the first attempt is not reached): the resend gets
	// 409 and the transfer is found.
	e.srv.SetFaults(stonetest.Faults{})
	e.srv.Advance(25 * time.Hour)
	clock.Advance(time.Hour)
	rep, err = Resume(context.Background(), rep.Batch.ID, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary[ledger.Accepted].Rows != 3 || len(e.srv.Transfers()) != 3 {
		t.Fatalf("after 409 lookup: %+v, %d transfers", rep.Summary, len(e.srv.Transfers()))
	}
	e.checkExactlyOnce(rep.Batch.ID, ps)
}

func TestRunExpiredKeyNeedsReview(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	path := e.writeCSV("folha.csv", payees(2), true)
	e.srv.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		return http.StatusServiceUnavailable, r.Method == http.MethodPost && r.URL.Path == "/api/v1/external_transfers"
	}})
	clock := fake.NewClock(emuStart)
	o := e.opts()
	o.Now, o.Sleep, o.MaxAttempts = clock.Now, clock.Sleep, 2
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unresolved != 2 || rep.Summary[ledger.Attempted].Rows != 2 {
		t.Fatalf("first run %+v", rep.Summary)
	}
	e.srv.SetFaults(stonetest.Faults{})
	clock.Advance(24 * time.Hour)
	before := e.creates()
	rep, err = Resume(context.Background(), rep.Batch.ID, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary[ledger.NeedsReview].Rows != 2 || e.creates() != before {
		t.Fatalf("after a day: %+v, %d new creates", rep.Summary, e.creates()-before)
	}
	r := e.rows(rep.Batch.ID)[2]
	if r.ErrorCode != CodeKeyExpired {
		t.Errorf("row 2 code %s", r.ErrorCode)
	}
}

func TestRunRejectedRow(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(3)
	path := e.writeCSV("folha.csv", ps, true)
	o := e.opts()
	o.Check.Validate.Today = emuStart
	// Stone refuses the second row's account: a 422 proves nothing was made.
	e.srv.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		if r.Method == http.MethodPost && r.Header.Get("x-stone-idempotency-key") == IdempotencyKey(testAccount, ps[1].ref, "", "") {
			return http.StatusUnprocessableEntity, true
		}
		return 0, false
	}})
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	r := e.rows(rep.Batch.ID)[3]
	if r.State != ledger.Rejected || r.ErrorCode != "srn:error:injected" || rep.Summary[ledger.Accepted].Rows != 2 {
		t.Errorf("row 3: %s %s; summary %+v", r.State, r.ErrorCode, rep.Summary)
	}
}
