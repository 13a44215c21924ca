package ledger

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := testBatch("lifecycle")
	invalid := Row{Row: 2, Cells: []string{"1.234", "x"}, State: Invalid, ErrorCode: "invalid",
		ErrorMessage: `[{"column":"valor","error":"ambiguous"}]`}
	held := validRow(b.ID, 8, 900)
	held.State, held.ErrorCode, held.ErrorMessage = Held, "repeat", "same as batch x row 3"
	importRows(t, l, b, []Row{invalid, validRow(b.ID, 3, 150075), validRow(b.ID, 4, 200), validRow(b.ID, 5, 300),
		validRow(b.ID, 6, 400), validRow(b.ID, 7, 500), held})

	got, err := l.Batch(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != BatchImported || got.Rows != 7 || got.Valid != 6 || got.Invalid != 1 || got.TotalCents != 150075+200+300+400+500+900 {
		t.Fatalf("batch after import = %+v", got)
	}
	if !reflect.DeepEqual(got.Header, b.Header) || got.ImportOptions.Decimal != "comma" {
		t.Errorf("header/options = %v %v", got.Header, got.ImportOptions)
	}
	if err := l.SetBatchState(ctx, b.ID, BatchRunning); err != nil {
		t.Fatal(err)
	}

	sent := c.Now()
	if err := l.MarkAttempted(ctx, b.ID, []int{3, 4, 5, 6}, sent); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	at := c.Now()
	ok := Attempt{At: at, HTTPStatus: 201, RequestID: "req-3", Latency: 120 * time.Millisecond}
	if err := l.Accept(ctx, b.ID, 3, ok, Transfer{ID: "tr-3", Status: "CREATED", FeeCents: 150, ScheduledToEffective: "2026-11-23"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Reject(ctx, b.ID, 4, Attempt{At: at, HTTPStatus: 422, RequestID: "req-4"}, "target_account_not_found", "account not found"); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordAttempt(ctx, b.ID, 5, Attempt{At: at, Outcome: OutcomeAmbiguous, Error: "timeout"}); err != nil {
		t.Fatal(err)
	}
	if err := l.NeedsReview(ctx, b.ID, 5, nil, "key_expired", "idempotency key may have expired"); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordAttempt(ctx, b.ID, 6, Attempt{At: at, HTTPStatus: 503, Outcome: OutcomeRetry}); err != nil {
		t.Fatal(err)
	}
	if err := l.Hold(ctx, b.ID, 7, "repeat", "same as batch y row 9"); err != nil {
		t.Fatal(err)
	}
	if err := l.AllowRepeat(ctx, b.ID, 8); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	if err := l.RecordStatus(ctx, b.ID, 3, "FINISHED", c.Now(), "poll"); err != nil {
		t.Fatal(err)
	}

	r3 := mustRow(t, l, b.ID, 3)
	if r3.State != Accepted || r3.TransferID != "tr-3" || r3.APIStatus != "FINISHED" || r3.FeeCents != 150 ||
		r3.ScheduledToEffective != "2026-11-23" || !r3.FirstAttemptedAt.Equal(sent) || !r3.ProcessedAt.Equal(at) ||
		r3.AmountCents != 150075 || r3.Seq != 2 || r3.Cells[0] != "1500,75" {
		t.Errorf("row 3 = %+v", r3)
	}
	r4 := mustRow(t, l, b.ID, 4)
	if r4.State != Rejected || r4.ErrorCode != "target_account_not_found" || r4.ErrorMessage != "account not found" {
		t.Errorf("row 4 = %+v", r4)
	}
	if r5 := mustRow(t, l, b.ID, 5); r5.State != NeedsReview || r5.ErrorCode != "key_expired" {
		t.Errorf("row 5 = %+v", r5)
	}
	if r6 := mustRow(t, l, b.ID, 6); r6.State != Attempted || !r6.FirstAttemptedAt.Equal(sent) {
		t.Errorf("row 6 = %+v", r6)
	}
	if r7 := mustRow(t, l, b.ID, 7); r7.State != Held || r7.ErrorMessage != "same as batch y row 9" {
		t.Errorf("row 7 = %+v", r7)
	}
	if r8 := mustRow(t, l, b.ID, 8); r8.State != Pending || r8.ErrorCode != "" {
		t.Errorf("row 8 = %+v", r8)
	}
	if r2 := mustRow(t, l, b.ID, 2); r2.State != Invalid || r2.ErrorMessage != invalid.ErrorMessage || r2.Payout != nil {
		t.Errorf("row 2 = %+v", r2)
	}

	atts, err := l.Attempts(ctx, b.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []Attempt{{At: at, HTTPStatus: 201, RequestID: "req-3", Latency: 120 * time.Millisecond, Outcome: OutcomeAccepted}}
	if !reflect.DeepEqual(atts, want) {
		t.Errorf("attempts of row 3 = %+v, want %+v", atts, want)
	}
	hist, err := l.StatusHistory(ctx, b.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Status != "CREATED" || hist[0].Source != "create" || hist[1].Status != "FINISHED" || hist[1].Source != "poll" {
		t.Errorf("history of row 3 = %+v", hist)
	}

	sum, err := l.Summary(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantSum := map[State]Totals{
		Invalid:     {Rows: 1},
		Accepted:    {Rows: 1, Cents: 150075, Fees: 150},
		Rejected:    {Rows: 1, Cents: 200},
		NeedsReview: {Rows: 1, Cents: 300},
		Attempted:   {Rows: 1, Cents: 400},
		Held:        {Rows: 1, Cents: 500},
		Pending:     {Rows: 1, Cents: 900},
	}
	if !reflect.DeepEqual(sum, wantSum) {
		t.Errorf("summary = %+v\nwant %+v", sum, wantSum)
	}

	// done is refused while rows 6 (attempted) and 8 (pending) are left.
	if err := l.SetBatchState(ctx, b.ID, BatchDone); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("done with work left: err = %v, want ErrIllegalTransition", err)
	}
	if err := l.Accept(ctx, b.ID, 6, Attempt{At: at}, Transfer{ID: "tr-6"}); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkAttempted(ctx, b.ID, []int{8}, at); err != nil {
		t.Fatal(err)
	}
	if err := l.Reject(ctx, b.ID, 8, Attempt{At: at, HTTPStatus: 400}, "validation", "bad"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetBatchState(ctx, b.ID, BatchDone); err != nil {
		t.Fatal(err)
	}
	// Allowing a held row reopens a done batch, so the row is not forgotten.
	if err := l.AllowRepeat(ctx, b.ID, 7); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Batch(ctx, b.ID); got.State != BatchRunning {
		t.Errorf("batch after AllowRepeat on done batch: state %s, want running", got.State)
	}
}

// TestIllegalTransitions tries every transition from every state it does
// not start from: each must fail with *TransitionError naming the current
// state, and leave the row and its attempts exactly as they were.
func TestIllegalTransitions(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := testBatch("illegal")
	at := c.Now()
	rows := []Row{{Row: 2, Cells: []string{"x"}, State: Invalid}}
	for n := 3; n <= 8; n++ {
		rows = append(rows, validRow(b.ID, n, 100))
	}
	rows[2].State = Held // row 4
	importRows(t, l, b, rows)
	// Row 2 invalid, 3 pending, 4 held, 5 attempted, 6 accepted, 7 rejected, 8 needs_review.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.MarkAttempted(ctx, b.ID, []int{5, 6, 7, 8}, at))
	must(l.Accept(ctx, b.ID, 6, Attempt{At: at}, Transfer{ID: "t6"}))
	must(l.Reject(ctx, b.ID, 7, Attempt{At: at}, "c", "m"))
	must(l.NeedsReview(ctx, b.ID, 8, nil, "c", "m"))
	byState := map[State]int{Invalid: 2, Pending: 3, Held: 4, Attempted: 5, Accepted: 6, Rejected: 7, NeedsReview: 8}

	ops := []struct {
		name string
		to   State
		from []State
		do   func(row int) error
	}{
		{"MarkAttempted", Attempted, []State{Pending}, func(r int) error { return l.MarkAttempted(ctx, b.ID, []int{r}, at) }},
		{"Accept", Accepted, []State{Attempted}, func(r int) error { return l.Accept(ctx, b.ID, r, Attempt{At: at}, Transfer{ID: "x"}) }},
		{"Reject", Rejected, []State{Attempted}, func(r int) error { return l.Reject(ctx, b.ID, r, Attempt{At: at}, "c", "m") }},
		{"NeedsReview", NeedsReview, []State{Attempted}, func(r int) error {
			return l.NeedsReview(ctx, b.ID, r, &Attempt{At: at, Outcome: OutcomeAmbiguous}, "c", "m")
		}},
		{"RecordAttempt", Attempted, []State{Attempted}, func(r int) error {
			return l.RecordAttempt(ctx, b.ID, r, Attempt{At: at, Outcome: OutcomeRetry})
		}},
		{"Hold", Held, []State{Pending}, func(r int) error { return l.Hold(ctx, b.ID, r, "c", "m") }},
		{"AllowRepeat", Pending, []State{Held}, func(r int) error { return l.AllowRepeat(ctx, b.ID, r) }},
		{"RecordStatus", Accepted, []State{Accepted}, func(r int) error { return l.RecordStatus(ctx, b.ID, r, "FINISHED", at, "poll") }},
	}
	for _, op := range ops {
		for state, row := range byState {
			legal := false
			for _, f := range op.from {
				legal = legal || f == state
			}
			if legal {
				continue
			}
			t.Run(fmt.Sprintf("%s from %s", op.name, state), func(t *testing.T) {
				before := mustRow(t, l, b.ID, row)
				attsBefore, _ := l.Attempts(ctx, b.ID, row)
				err := op.do(row)
				var te *TransitionError
				if !errors.As(err, &te) || !errors.Is(err, ErrIllegalTransition) {
					t.Fatalf("err = %v, want *TransitionError", err)
				}
				if want := (TransitionError{Batch: b.ID, Row: row, From: state, To: op.to}); *te != want {
					t.Errorf("error = %+v, want %+v", *te, want)
				}
				if after := mustRow(t, l, b.ID, row); !reflect.DeepEqual(after, before) {
					t.Errorf("row changed:\nbefore %+v\nafter  %+v", before, after)
				}
				if attsAfter, _ := l.Attempts(ctx, b.ID, row); len(attsAfter) != len(attsBefore) {
					t.Errorf("attempts %d → %d", len(attsBefore), len(attsAfter))
				}
			})
		}
	}
}

// TestMarkAttemptedAllOrNothing: one row not pending leaves the others pending.
func TestMarkAttemptedAllOrNothing(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := testBatch("group")
	importRows(t, l, b, []Row{validRow(b.ID, 2, 1), validRow(b.ID, 3, 1), validRow(b.ID, 4, 1)})
	if err := l.MarkAttempted(ctx, b.ID, []int{3}, c.Now()); err != nil {
		t.Fatal(err)
	}
	err := l.MarkAttempted(ctx, b.ID, []int{2, 3, 4}, c.Now())
	var te *TransitionError
	if !errors.As(err, &te) || te.Row != 3 || te.From != Attempted {
		t.Fatalf("err = %v, want row 3 from attempted", err)
	}
	for _, n := range []int{2, 4} {
		if r := mustRow(t, l, b.ID, n); r.State != Pending || !r.FirstAttemptedAt.IsZero() {
			t.Errorf("row %d = %s (first attempt %v), want pending", n, r.State, r.FirstAttemptedAt)
		}
	}
	if err := l.MarkAttempted(ctx, b.ID, []int{99}, c.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown row: err = %v, want ErrNotFound", err)
	}
}

func TestOutcomeMustFitTransition(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := testBatch("outcome")
	importRows(t, l, b, []Row{validRow(b.ID, 2, 1)})
	if err := l.MarkAttempted(ctx, b.ID, []int{2}, c.Now()); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"accept with rejected outcome": l.Accept(ctx, b.ID, 2, Attempt{At: c.Now(), Outcome: OutcomeRejected}, Transfer{ID: "t"}),
		"accept without transfer id":   l.Accept(ctx, b.ID, 2, Attempt{At: c.Now()}, Transfer{}),
		"record accepted attempt":      l.RecordAttempt(ctx, b.ID, 2, Attempt{At: c.Now(), Outcome: OutcomeAccepted}),
		"record attempt without time":  l.RecordAttempt(ctx, b.ID, 2, Attempt{Outcome: OutcomeRetry}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if r := mustRow(t, l, b.ID, 2); r.State != Attempted {
		t.Errorf("row = %s, want attempted", r.State)
	}
}

func TestAttemptsAreAppendOnly(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := testBatch("audit")
	importRows(t, l, b, []Row{validRow(b.ID, 2, 1)})
	if err := l.MarkAttempted(ctx, b.ID, []int{2}, c.Now()); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordAttempt(ctx, b.ID, 2, Attempt{At: c.Now(), Outcome: OutcomeAmbiguous}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE attempts SET outcome = 'accepted'`, `DELETE FROM attempts`} {
		_, err := l.w.Exec(q)
		if err == nil || !strings.Contains(err.Error(), "attempts are append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
	if atts, _ := l.Attempts(ctx, b.ID, 2); len(atts) != 1 || atts[0].Outcome != OutcomeAmbiguous {
		t.Errorf("attempts = %+v", atts)
	}
	// Invalid rows never change, even through SQL.
	if _, err := l.w.Exec(`UPDATE rows SET state = 'pending' WHERE state = 'invalid'`); err != nil {
		t.Errorf("no invalid row to change, yet: %v", err)
	}
}

// TestConcurrentTransitions drives 8 goroutines through the whole send path
// on distinct rows; with -race this checks the single-writer design gives no
// SQLITE_BUSY and loses no update.
func TestConcurrentTransitions(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := testBatch("concurrent")
	const workers, perWorker = 8, 20
	var rows []Row
	for n := 2; n < 2+workers*perWorker; n++ {
		rows = append(rows, validRow(b.ID, n, int64(n)))
	}
	importRows(t, l, b, rows)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				row := 2 + w*perWorker + i
				if err := l.MarkAttempted(ctx, b.ID, []int{row}, c.Now()); err != nil {
					errs <- err
					return
				}
				if err := l.RecordAttempt(ctx, b.ID, row, Attempt{At: c.Now(), Outcome: OutcomeRetry}); err != nil {
					errs <- err
					return
				}
				if err := l.Accept(ctx, b.ID, row, Attempt{At: c.Now()}, Transfer{ID: fmt.Sprint("t", row), FeeCents: 1}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sum, err := l.Summary(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := workers * perWorker
	wantCents := int64((2 + n + 1) * n / 2)
	if got := sum[Accepted]; got.Rows != n || got.Fees != int64(n) || got.Cents != wantCents || len(sum) != 1 {
		t.Errorf("summary = %+v, want %d accepted, %d cents", sum, n, wantCents)
	}
}
