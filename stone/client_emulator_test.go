package stone_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"lote/internal/fake"
	"lote/stone"
	"lote/stone/stonetest"
)

// emuKey is the application's key the emulator trusts.
var emuKey = fake.Key

// emulator starts stonetest with one client and one funded account, and a
// Client for it that shares the emulator's clock (a Tuesday, 10:00 in São
// Paulo, inside the TED window).
func emulator(t *testing.T, opts stonetest.Options) (*stonetest.Server, *stone.Client) {
	t.Helper()
	base := time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)
	opts.Now = func() time.Time { return base }
	opts.Seed = 1
	srv := stonetest.NewServer(opts)
	t.Cleanup(srv.Close)
	srv.AddClient("app-1", &emuKey().PublicKey)
	srv.AddAccount("acc-1", 100_000_00)
	c, err := stone.NewClient(stone.Config{
		APIURL: srv.URL, AuthURL: srv.URL, ClientID: "app-1", Key: emuKey(),
		UserAgent: "lote-emulator-test/1", Now: srv.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func ted(amount int64) stone.CreateExternalTransfer {
	return stone.CreateExternalTransfer{
		Amount:    amount,
		AccountID: "acc-1",
		Target: stone.TransferTarget{
			Account: stone.TargetAccount{AccountCode: "58859", BranchCode: "1", InstitutionCode: "033", AccountType: stone.AccountChecking},
			Entity:  stone.TargetEntity{Name: "Octacilio Impoluto", Document: "62752545053", DocumentType: "cpf"},
		},
	}
}

func TestEmulatorCreateGetAndLifecycle(t *testing.T) {
	srv, c := emulator(t, stonetest.Options{})
	ctx := context.Background()
	var info stone.CallInfo
	tr, err := c.CreateTransfer(ctx, "batch-1-row-2", ted(123456), stone.WithCallInfo(&info))
	if err != nil {
		t.Fatal(err)
	}
	if tr.ID == "" || tr.Amount != 123456 || tr.Status != stone.StatusApproved {
		t.Errorf("created %+v", tr)
	}
	if info.Status != http.StatusAccepted || info.RequestID == "" || info.Attempts != 1 || !info.Written {
		t.Errorf("CallInfo = %+v", info)
	}
	rec, ok := srv.TransferByKey("batch-1-row-2")
	if !ok || rec.Transfer.ID != tr.ID || rec.AccountID != "acc-1" {
		t.Fatalf("emulator record = %+v, %v", rec, ok)
	}

	// Same key, same body: the same transfer, not a second one.
	again, err := c.CreateTransfer(ctx, "batch-1-row-2", ted(123456))
	if err != nil || again.ID != tr.ID {
		t.Fatalf("replay = %+v, %v", again, err)
	}
	// Same key, another body: 409, final, and nothing new.
	_, err = c.CreateTransfer(ctx, "batch-1-row-2", ted(654321))
	var se *stone.Error
	if !errors.As(err, &se) || se.Status != http.StatusConflict {
		t.Fatalf("different body: err = %v, want 409", err)
	}
	if o, _ := stone.Classify(err); o != stone.OutcomeFinal {
		t.Errorf("409 classified %v", o)
	}
	if n := len(srv.Transfers()); n != 1 {
		t.Errorf("emulator holds %d transfers, want 1", n)
	}

	srv.Advance(24 * time.Hour) // also outlives the first access token
	got, err := c.GetTransfer(ctx, tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != stone.StatusFinished || got.FinishedAt == nil {
		t.Errorf("after a day: status %s, finished_at %v", got.Status, got.FinishedAt)
	}
}

func TestEmulatorValidationError(t *testing.T) {
	_, c := emulator(t, stonetest.Options{})
	bad := ted(100)
	bad.Target.Account.AccountCode = "0"
	_, err := c.CreateTransfer(context.Background(), "row-3", bad)
	var se *stone.Error
	if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.Type != stone.ErrTypeValidation || len(se.Reasons) == 0 {
		t.Fatalf("err = %v, want a 400 validation error with reasons", err)
	}
	if !strings.Contains(err.Error(), "target.account.account_code") {
		t.Errorf("message %q does not name the field", err)
	}
	if o, _ := stone.Classify(err); o != stone.OutcomeFinal {
		t.Errorf("Classify = %v, want final", o)
	}
}

func TestEmulatorListCancelDryRunAccount(t *testing.T) {
	_, c := emulator(t, stonetest.Options{})
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 5 {
		tr, err := c.CreateTransfer(ctx, "list-"+string(rune('a'+i)), ted(int64(100+i)))
		if err != nil {
			t.Fatal(err)
		}
		want[tr.ID] = true
	}
	n := 0
	for tr, err := range c.ListTransfers(ctx, "acc-1", 2) {
		if err != nil {
			t.Fatal(err)
		}
		if !want[tr.ID] {
			t.Errorf("unexpected or repeated transfer %s", tr.ID)
		}
		delete(want, tr.ID)
		n++
	}
	if n != 5 || len(want) != 0 {
		t.Errorf("listed %d transfers, missing %v", n, want)
	}

	sched := ted(500)
	sched.ScheduledTo = "2026-03-20"
	tr, err := c.CreateTransfer(ctx, "scheduled-1", sched)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CancelTransfer(ctx, tr.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetTransfer(ctx, tr.ID); err != nil || got.Status != stone.StatusCancelled {
		t.Errorf("after cancel: %v, %v", got.Status, err)
	}

	dr, err := c.DryRunTransfer(ctx, ted(700))
	if err != nil || dr.Fee != stonetest.DefaultFee {
		t.Errorf("dry run = %+v, %v", dr, err)
	}

	bal, err := c.Balance(ctx, "acc-1")
	if err != nil || bal.Balance <= 0 {
		t.Errorf("balance = %+v, %v", bal, err)
	}
	fee, err := c.TransferFee(ctx, "acc-1")
	if err != nil || fee.Amount != stonetest.DefaultFee || fee.FeeType != "external_transfer" {
		t.Errorf("fee = %+v, %v", fee, err)
	}

	var info stone.CallInfo
	cal, err := c.Calendar(ctx, "2026-03-10", "2026-12-31")
	if err != nil || cal.NextAvailableExecutionDate == "" || len(cal.NonBusinessDays) == 0 {
		t.Fatalf("calendar = %+v, %v", cal, err)
	}
	again, err := c.Calendar(ctx, "2026-03-10", "2026-12-31", stone.WithCallInfo(&info))
	if err != nil || info.Status != http.StatusNotModified || len(again.NonBusinessDays) != len(cal.NonBusinessDays) {
		t.Errorf("second calendar: status %d, %d days, err %v", info.Status, len(again.NonBusinessDays), err)
	}
	found := false
	for _, d := range cal.NonBusinessDays {
		found = found || d.Date == "2026-11-20"
	}
	if !found {
		t.Error("calendar misses Nov 20")
	}
}

func TestEmulatorDroppedAnswerThenReplay(t *testing.T) {
	srv, c := emulator(t, stonetest.Options{Faults: stonetest.Faults{DropRate: 1}})
	ctx := context.Background()
	_, err := c.CreateTransfer(ctx, "row-9", ted(4200))
	if o, why := stone.Classify(err); o != stone.OutcomeAmbiguous {
		t.Fatalf("dropped answer: Classify = %v %q (err %v), want ambiguous", o, why, err)
	}
	if errors.Is(err, stone.ErrNotSent) {
		t.Error("ErrNotSent for a request the bank stored")
	}
	srv.SetFaults(stonetest.Faults{})
	tr, err := c.CreateTransfer(ctx, "row-9", ted(4200))
	if err != nil {
		t.Fatal(err)
	}
	recs := srv.Transfers()
	if len(recs) != 1 || recs[0].Transfer.ID != tr.ID {
		t.Errorf("after retry the emulator holds %d transfers, want the one replayed", len(recs))
	}
}

func TestEmulatorRateLimitAndServerErrors(t *testing.T) {
	srv, c := emulator(t, stonetest.Options{Faults: stonetest.Faults{RateLimit: 0.001, RateBurst: 1}})
	ctx := context.Background()
	if _, err := c.Balance(ctx, "acc-1"); err != nil {
		t.Fatal(err)
	}
	_, err := c.Balance(ctx, "acc-1")
	var se *stone.Error
	if !errors.As(err, &se) || se.Status != http.StatusTooManyRequests || se.RetryAfter < time.Second {
		t.Fatalf("err = %v, want 429 with Retry-After", err)
	}
	if o, _ := stone.Classify(err); o != stone.OutcomeRetry {
		t.Errorf("429 classified %v", o)
	}
	srv.SetFaults(stonetest.Faults{FailRate: 1})
	_, err = c.CreateTransfer(ctx, "row-5", ted(1))
	if !errors.As(err, &se) || se.Status < 500 {
		t.Fatalf("err = %v, want 5xx", err)
	}
	if o, _ := stone.Classify(err); o != stone.OutcomeRetry {
		t.Errorf("%d classified %v", se.Status, o)
	}
	if n := len(srv.Transfers()); n != 0 {
		t.Errorf("%d transfers after a failed create", n)
	}
}
