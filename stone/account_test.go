package stone

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

const calendarBody = `{"execution_limit_date":"2027-03-10","next_available_execution_date":"2026-03-11","non_business_days":[{"date":"2026-04-03","is_weekend":false,"is_holiday":true,"holiday_description":"Sexta-feira Santa"},{"date":"2026-11-20","is_weekend":false,"is_holiday":true,"holiday_description":"Dia Nacional de Zumbi e da Consciência Negra"}]}`

func TestCalendarUsesETag(t *testing.T) {
	version := `"v1"`
	f := newFakeStone(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == version {
			w.Header().Set("ETag", version)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", version)
		reply(w, http.StatusCreated, calendarBody) // documented as 201 (§4)
	})
	c := f.client(t, newClock())
	ctx := context.Background()

	first, err := c.Calendar(ctx, "2026-03-10", "2027-03-10")
	if err != nil {
		t.Fatal(err)
	}
	if first.NextAvailableExecutionDate != "2026-03-11" || len(first.NonBusinessDays) != 2 ||
		*first.NonBusinessDays[1].HolidayDescription != "Dia Nacional de Zumbi e da Consciência Negra" {
		t.Fatalf("calendar = %+v", first)
	}
	first.NonBusinessDays[0].Date = "changed by the caller"

	var info CallInfo
	second, err := c.Calendar(ctx, "2026-03-10", "2027-03-10", WithCallInfo(&info))
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != http.StatusNotModified {
		t.Errorf("second call status = %d, want 304", info.Status)
	}
	if second.NonBusinessDays[0].Date != "2026-04-03" || len(second.NonBusinessDays) != 2 {
		t.Errorf("cached calendar = %+v", second)
	}

	// A new version replaces the cache.
	version = `"v2"`
	if _, err := c.Calendar(ctx, "2026-03-10", "2027-03-10", WithCallInfo(&info)); err != nil || info.Status != http.StatusCreated {
		t.Fatalf("after change: status %d, err %v", info.Status, err)
	}

	reqs := f.Requests()
	wantINM := []string{"", `"v1"`, `"v1"`}
	for i, r := range reqs {
		if r.Path != "/api/v1/schedulings/calendar" || r.Query != "end=2027-03-10&operation_type=external_transfer&start=2026-03-10" {
			t.Errorf("request %d: %s?%s", i, r.Path, r.Query)
		}
		if got := r.Header.Get("If-None-Match"); got != wantINM[i] {
			t.Errorf("request %d: If-None-Match = %q, want %q", i, got, wantINM[i])
		}
	}

	if _, err := c.Calendar(ctx, "10/03/2026", ""); !errors.Is(err, ErrNotSent) {
		t.Errorf("bad date: err = %v, want ErrNotSent", err)
	}
}

func TestUnexpected304IsAnError(t *testing.T) {
	f := newFakeStone(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
	c := f.client(t, newClock())
	if _, err := c.Balance(context.Background(), "acc-1"); err == nil {
		t.Error("304 to a request without If-None-Match accepted")
	}
	if _, err := c.Calendar(context.Background(), "", ""); err == nil {
		t.Error("304 without a cached calendar accepted")
	}
}

func TestBalanceAndFee(t *testing.T) {
	f := newFakeStone(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/accounts/acc-1/balance":
			reply(w, 200, `{"balance":150000,"blocked_balance":2500,"scheduled_balance":900000}`)
		case "/api/v1/accounts/acc-1/fees/external_transfer":
			reply(w, 200, `{"amount":400,"fee_type":"external_transfer","billing_exemption_participant":false,"original_fee":400,"max_free_transfers":5,"remaining_free_transfers":2}`)
		default:
			reply(w, 404, `{"type":"srn:error:not_found"}`)
		}
	})
	c := f.client(t, newClock())
	ctx := context.Background()
	b, err := c.Balance(ctx, "acc-1")
	if err != nil || *b != (Balance{Balance: 150000, BlockedBalance: 2500, ScheduledBalance: 900000}) {
		t.Errorf("Balance = %+v, %v", b, err)
	}
	fee, err := c.TransferFee(ctx, "acc-1")
	want := Fee{Amount: 400, FeeType: "external_transfer", OriginalFee: 400, MaxFreeTransfers: 5, RemainingFreeTransfers: 2}
	if err != nil || *fee != want {
		t.Errorf("TransferFee = %+v, %v", fee, err)
	}
	// An id with a slash stays one path segment.
	if _, err := c.Balance(ctx, "acc/1"); err == nil {
		t.Error("Balance(acc/1) succeeded")
	}
	if got := f.Requests()[2].Path; got != "/api/v1/accounts/acc%2F1/balance" {
		t.Errorf("path = %q, want the slash escaped", got)
	}
	for _, call := range []func() error{
		func() error { _, err := c.Balance(ctx, ""); return err },
		func() error { _, err := c.TransferFee(ctx, " "); return err },
	} {
		if err := call(); !errors.Is(err, ErrNotSent) {
			t.Errorf("empty account id: err = %v, want ErrNotSent", err)
		}
	}
}
