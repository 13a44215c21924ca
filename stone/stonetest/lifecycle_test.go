package stonetest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"lote/stone"
)

func statuses(r Record) []string {
	var out []string
	for _, h := range r.History {
		out = append(out, h.Status)
	}
	return out
}

func TestLifecycle(t *testing.T) {
	e := newEnv(t, Options{RefundRule: RefundByAccount(map[string]string{"777777": "3"})})
	e.s.AddAccount("poor", 1000) // R$ 10.00
	paid := e.transfer(e.create(with("amount", 10000), ""))
	refunded := e.transfer(e.create(with("amount", 20000, "target.account.account_code", "0777777"), ""))
	broke := e.transfer(e.create(with("amount", 700, "account_id", "poor"), "")) // 700 + 400 fee > 1000

	bal := func(id string) int64 {
		b, _ := e.s.Balance(id)
		return b
	}
	if got := bal(testAccount); got != 100_000_000-10400-20400 {
		t.Errorf("balance after execution %d, want %d", got, 100_000_000-10400-20400)
	}
	rec, _ := e.s.Transfer(broke.ID)
	if rec.Transfer.Status != stone.StatusFailed || rec.Transfer.FailureReasonCode == nil || *rec.Transfer.FailureReasonCode != "1" ||
		*rec.Transfer.FailureReasonDescription != "insufficient balance" || rec.Transfer.FailedAt == nil {
		t.Errorf("insufficient balance: %+v", rec.Transfer)
	}
	if got := bal("poor"); got != 1000 {
		t.Errorf("failed transfer charged: balance %d, want 1000", got)
	}

	e.s.Advance(59 * time.Second)
	if r, _ := e.s.Transfer(paid.ID); r.Transfer.Status != stone.StatusApproved {
		t.Errorf("after 59 s: %s, want APPROVED", r.Transfer.Status)
	}
	e.s.Advance(time.Second)
	r, _ := e.s.Transfer(paid.ID)
	finished := time.Date(2026, 11, 24, 13, 1, 0, 0, time.UTC)
	if r.Transfer.Status != stone.StatusFinished || !r.Transfer.FinishedAt.Equal(finished) || !r.Transfer.SettledAt.Equal(finished) {
		t.Errorf("after 1 min: %s finished_at %v settled_at %v", r.Transfer.Status, r.Transfer.FinishedAt, r.Transfer.SettledAt)
	}
	// What the API shows agrees with the inspection.
	if got := e.transfer(e.do("GET", "/api/v1/external_transfers/"+paid.ID, nil)); got.Status != stone.StatusFinished {
		t.Errorf("GET shows %s", got.Status)
	}

	e.s.Advance(time.Hour)
	r, _ = e.s.Transfer(refunded.ID)
	if r.Transfer.Status != stone.StatusRefunded || *r.Transfer.RefundReasonCode != "3" ||
		*r.Transfer.RefundReasonDescription != "documento do destinatário incorreto" || r.Transfer.RefundedAt == nil {
		t.Errorf("refund: %+v", r.Transfer)
	}
	if got, want := statuses(r), []string{"APPROVED", "FINISHED", "REFUNDED"}; !equal(got, want) {
		t.Errorf("history %v, want %v", got, want)
	}
	// The refund returns the amount and the fee.
	if got := bal(testAccount); got != 100_000_000-10400 {
		t.Errorf("balance after refund %d, want %d", got, 100_000_000-10400)
	}
	if r, _ := e.s.Transfer(paid.ID); r.Transfer.Status != stone.StatusFinished {
		t.Errorf("unrefunded transfer became %s", r.Transfer.Status)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWindowAndDelays(t *testing.T) {
	tests := []struct {
		name          string
		now           time.Time
		sandbox       bool
		asScheduled   bool
		early         bool
		scheduledTo   string
		wantStatus    string
		wantDelayed   bool
		wantEffective string
		wantExecution time.Time // when it leaves the pending state
	}{
		{name: "business day in window", now: tuesday10h, wantStatus: "APPROVED"},
		{name: "Saturday, production", now: time.Date(2026, 11, 28, 10, 0, 0, 0, brasilia),
			wantStatus: "DELAYED_TO_NEXT_BUSINESS_DAY", wantDelayed: true, wantEffective: "2026-11-30",
			wantExecution: time.Date(2026, 11, 30, 6, 30, 0, 0, brasilia)},
		{name: "Saturday, production, reported as SCHEDULED", now: time.Date(2026, 11, 28, 10, 0, 0, 0, brasilia), asScheduled: true,
			wantStatus: "SCHEDULED", wantDelayed: true, wantEffective: "2026-11-30",
			wantExecution: time.Date(2026, 11, 30, 6, 30, 0, 0, brasilia)},
		{name: "Saturday, sandbox", now: time.Date(2026, 11, 28, 10, 0, 0, 0, brasilia), sandbox: true, wantStatus: "APPROVED"},
		{name: "Nov 20 (Consciência Negra), production", now: time.Date(2026, 11, 20, 11, 0, 0, 0, brasilia),
			wantStatus: "DELAYED_TO_NEXT_BUSINESS_DAY", wantDelayed: true, wantEffective: "2026-11-23",
			wantExecution: time.Date(2026, 11, 23, 6, 30, 0, 0, brasilia)},
		{name: "17:22 is open, production", now: time.Date(2026, 11, 24, 17, 22, 0, 0, brasilia), wantStatus: "APPROVED"},
		{name: "17:23 is closed, production", now: time.Date(2026, 11, 24, 17, 23, 0, 0, brasilia),
			wantStatus: "DELAYED_TO_NEXT_BUSINESS_DAY", wantDelayed: true, wantEffective: "2026-11-25",
			wantExecution: time.Date(2026, 11, 25, 6, 30, 0, 0, brasilia)},
		{name: "17:20 is closed with the alert's cut-off", now: time.Date(2026, 11, 24, 17, 20, 0, 0, brasilia), early: true,
			wantStatus: "DELAYED_TO_NEXT_BUSINESS_DAY", wantDelayed: true, wantEffective: "2026-11-25",
			wantExecution: time.Date(2026, 11, 25, 6, 30, 0, 0, brasilia)},
		{name: "scheduled on Dec 31 moves to the next business day", now: tuesday10h, scheduledTo: "2026-12-31",
			wantStatus: "SCHEDULED", wantEffective: "2027-01-04",
			wantExecution: time.Date(2027, 1, 4, 6, 30, 0, 0, brasilia)},
		{name: "created on Dec 31 waits for Jan 4", now: time.Date(2026, 12, 31, 10, 0, 0, 0, brasilia),
			wantStatus: "DELAYED_TO_NEXT_BUSINESS_DAY", wantDelayed: true, wantEffective: "2027-01-04",
			wantExecution: time.Date(2027, 1, 4, 6, 30, 0, 0, brasilia)},
		{name: "17:22 is open, sandbox", now: time.Date(2026, 11, 24, 17, 22, 0, 0, brasilia), sandbox: true, wantStatus: "APPROVED"},
		{name: "06:29 waits for today's opening", now: time.Date(2026, 11, 24, 6, 29, 0, 0, brasilia),
			wantStatus: "DELAYED_TO_NEXT_BUSINESS_DAY", wantDelayed: true, wantEffective: "2026-11-24",
			wantExecution: time.Date(2026, 11, 24, 6, 30, 0, 0, brasilia)},
		{name: "scheduled on Carnival Monday 2027", now: tuesday10h, scheduledTo: "2027-02-08",
			wantStatus: "SCHEDULED", wantEffective: "2027-02-10",
			wantExecution: time.Date(2027, 2, 10, 6, 30, 0, 0, brasilia)},
		{name: "scheduled for today runs now", now: tuesday10h, scheduledTo: "2026-11-24", wantStatus: "APPROVED"},
		{name: "scheduled in the past runs now", now: tuesday10h, scheduledTo: "2026-01-02", wantStatus: "APPROVED"},
		{name: "scheduled on the execution limit", now: tuesday10h, scheduledTo: "2027-11-24",
			wantStatus: "SCHEDULED", wantEffective: "2027-11-24",
			wantExecution: time.Date(2027, 11, 24, 6, 30, 0, 0, brasilia)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{Now: fixedClock(tt.now), Sandbox: tt.sandbox, DelayedAsScheduled: tt.asScheduled, EarlyCutoff: tt.early})
			b := seedBody()
			if tt.scheduledTo != "" {
				b["scheduled_to"] = tt.scheduledTo
			}
			tr := e.transfer(e.create(b, ""))
			eff := ""
			if tr.ScheduledToEffective != nil {
				eff = *tr.ScheduledToEffective
			}
			if tr.Status != tt.wantStatus || tr.DelayedToNextBusinessDay != tt.wantDelayed || eff != tt.wantEffective {
				t.Fatalf("status %s delayed %v effective %q, want %s %v %q", tr.Status, tr.DelayedToNextBusinessDay, eff, tt.wantStatus, tt.wantDelayed, tt.wantEffective)
			}
			if tt.scheduledTo != "" && (tr.ScheduledToRequested == nil || *tr.ScheduledToRequested != tt.scheduledTo) {
				t.Errorf("scheduled_to_requested %v, want %s", tr.ScheduledToRequested, tt.scheduledTo)
			}
			if tt.wantExecution.IsZero() {
				return
			}
			before, _ := e.s.Balance(testAccount)
			e.s.SetNow(tt.wantExecution.Add(-time.Second))
			if after, _ := e.s.Balance(testAccount); after != before {
				t.Errorf("debited before its date: %d → %d", before, after)
			}
			e.s.SetNow(tt.wantExecution)
			r, _ := e.s.Transfer(tr.ID)
			if last := r.History[len(r.History)-1]; last.Status != "APPROVED" || !last.At.Equal(tt.wantExecution) {
				t.Errorf("history %+v, want APPROVED at %v", r.History, tt.wantExecution.UTC())
			}
			if after, _ := e.s.Balance(testAccount); after != before-500 {
				t.Errorf("balance %d, want %d", after, before-500)
			}
		})
	}
}

func TestScheduledBeyondLimit(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.create(with("scheduled_to", "2027-11-25"), "")
	if r.status != http.StatusUnprocessableEntity || e.errorBody(r).Type != stone.ErrTypeUnprocessableEntity {
		t.Errorf("beyond execution_limit_date: %d %s, want 422", r.status, r.body)
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t, Options{})
	sched := e.transfer(e.create(with("scheduled_to", "2026-12-01"), ""))
	now := e.transfer(e.create(seedBody(), ""))
	if r := e.do("POST", "/api/v1/external_transfers/"+sched.ID+"/cancel", nil); r.status != http.StatusNoContent {
		t.Fatalf("cancel scheduled: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/v1/external_transfers/"+sched.ID+"/cancel", nil); r.status != 422 || e.errorBody(r).Type != stone.ErrTypeWrongStatus {
		t.Errorf("cancel twice: %d %s, want 422 wrong_status", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/external_transfers/"+now.ID+"/cancel", nil); r.status != 422 {
		t.Errorf("cancel approved: %d, want 422", r.status)
	}
	before, _ := e.s.Balance(testAccount)
	e.s.SetNow(time.Date(2026, 12, 2, 12, 0, 0, 0, brasilia))
	r, _ := e.s.Transfer(sched.ID)
	if r.Transfer.Status != stone.StatusCancelled || r.Transfer.CancelledAt == nil {
		t.Errorf("cancelled transfer is %s", r.Transfer.Status)
	}
	if after, _ := e.s.Balance(testAccount); after != before {
		t.Errorf("cancelled transfer debited: %d → %d", before, after)
	}
}

func TestApproval(t *testing.T) {
	e := newEnv(t, Options{RequireApproval: true, ApprovalTTL: 2 * time.Hour})
	a := e.transfer(e.create(seedBody(), ""))
	b := e.transfer(e.create(seedBody(), ""))
	c := e.transfer(e.create(seedBody(), ""))
	if a.Status != stone.StatusCreated || a.ApprovedAt != nil {
		t.Fatalf("created as %s approved_at %v, want CREATED and null", a.Status, a.ApprovedAt)
	}
	if r := e.do("POST", "/api/v1/external_transfers/"+a.ID+"/approve", nil); r.status != 204 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/external_transfers/"+b.ID+"/reject", nil); r.status != 204 {
		t.Fatalf("reject: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/external_transfers/"+b.ID+"/approve", nil); r.status != 422 {
		t.Errorf("approve rejected: %d, want 422", r.status)
	}
	e.s.Advance(2 * time.Hour)
	want := map[string][]string{
		a.ID: {"CREATED", "APPROVED", "FINISHED"},
		b.ID: {"CREATED", "REJECTED"},
		c.ID: {"CREATED", "EXPIRED"},
	}
	for id, w := range want {
		r, _ := e.s.Transfer(id)
		if got := statuses(r); !equal(got, w) {
			t.Errorf("%s: history %v, want %v", id, got, w)
		}
	}
}

func TestCalendar(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.do("GET", "/api/v1/schedulings/calendar?operation_type=external_transfer&start=2026-01-01&end=2027-12-31", nil)
	if r.status != http.StatusCreated { // as documented (stone-api.md §4)
		t.Fatalf("%d %s", r.status, r.body)
	}
	var c stone.Calendar
	if err := json.Unmarshal(r.body, &c); err != nil {
		t.Fatal(err)
	}
	if c.ExecutionLimitDate != "2027-11-24" || c.NextAvailableExecutionDate != "2026-11-24" {
		t.Errorf("limit %s next %s, want 2027-11-24 2026-11-24", c.ExecutionLimitDate, c.NextAvailableExecutionDate)
	}
	holidays := map[string]string{}
	weekends := 0
	for _, d := range c.NonBusinessDays {
		if d.IsHoliday {
			holidays[d.Date] = *d.HolidayDescription
		} else if d.HolidayDescription != nil {
			t.Errorf("%s: description on a plain weekend", d.Date)
		}
		if d.IsWeekend {
			weekends++
		}
	}
	want := map[string]string{
		"2026-01-01": "Confraternização Universal", "2026-02-16": "Carnaval", "2026-02-17": "Carnaval",
		"2026-04-03": "Sexta-feira Santa", "2026-04-21": "Tiradentes", "2026-05-01": "Dia do Trabalho",
		"2026-06-04": "Corpus Christi", "2026-09-07": "Independência do Brasil", "2026-10-12": "Nossa Senhora Aparecida",
		"2026-11-02": "Finados", "2026-11-15": "Proclamação da República",
		"2026-11-20": "Dia Nacional de Zumbi e da Consciência Negra", "2026-12-25": "Natal",
		"2026-12-31": "Sem expediente bancário",
		"2027-01-01": "Confraternização Universal", "2027-02-08": "Carnaval", "2027-02-09": "Carnaval",
		"2027-03-26": "Sexta-feira Santa", "2027-04-21": "Tiradentes", "2027-05-01": "Dia do Trabalho",
		"2027-05-27": "Corpus Christi", "2027-09-07": "Independência do Brasil", "2027-10-12": "Nossa Senhora Aparecida",
		"2027-11-02": "Finados", "2027-11-15": "Proclamação da República",
		"2027-11-20": "Dia Nacional de Zumbi e da Consciência Negra", "2027-12-25": "Natal",
		"2027-12-31": "Sem expediente bancário",
	}
	if len(holidays) != len(want) {
		t.Errorf("%d holidays, want %d: %v", len(holidays), len(want), holidays)
	}
	for d, name := range want {
		if holidays[d] != name {
			t.Errorf("%s: %q, want %q", d, holidays[d], name)
		}
	}
	if weekends != 208 { // 104 weekend days in each of 2026 and 2027
		t.Errorf("%d weekend days, want 208", weekends)
	}

	etag := r.header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := e.do("GET", "/api/v1/schedulings/calendar?operation_type=external_transfer&start=2026-01-01&end=2027-12-31", nil, "If-None-Match", etag)
	if again.status != http.StatusNotModified || len(again.body) != 0 {
		t.Errorf("If-None-Match: %d %q, want 304 with no body", again.status, again.body)
	}
	if r := e.do("GET", "/api/v1/schedulings/calendar?operation_type=external_transfer", nil, "If-None-Match", `"stale"`); r.status != http.StatusCreated {
		t.Errorf("stale ETag: %d, want 200", r.status)
	}
	if r := e.do("GET", "/api/v1/schedulings/calendar?operation_type=external_tranfer&start=2026-13-01", nil); r.status != 400 || len(e.errorBody(r).Reason) != 2 {
		t.Errorf("bad query: %d %s, want 400 with 2 reasons", r.status, r.body)
	}

	// On Nov 20 the next available date is the next business day.
	e.s.SetNow(time.Date(2026, 11, 20, 9, 0, 0, 0, brasilia))
	e.token = e.getToken()
	json.Unmarshal(e.do("GET", "/api/v1/schedulings/calendar?operation_type=external_transfer", nil).body, &c)
	if c.NextAvailableExecutionDate != "2026-11-23" {
		t.Errorf("next available on Nov 20: %s, want 2026-11-23", c.NextAvailableExecutionDate)
	}

	// Internal transfers run every day at any hour (stone-api.md §3.1):
	// their calendar has no non-business day, and today is available.
	var in stone.Calendar
	json.Unmarshal(e.do("GET", "/api/v1/schedulings/calendar?operation_type=internal_transfer&start=2026-11-01&end=2026-12-31", nil).body, &in)
	if len(in.NonBusinessDays) != 0 || in.NextAvailableExecutionDate != "2026-11-20" {
		t.Errorf("internal transfer calendar: %d non-business days, next %s; want none and 2026-11-20", len(in.NonBusinessDays), in.NextAvailableExecutionDate)
	}
}

// TestHolidayTable holds the rules used outside the listed years to
// Febraban's published calendar for 2026 and 2027, day by day.
func TestHolidayTable(t *testing.T) {
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2028; d = d.AddDate(0, 0, 1) {
		listed, inTable := febrabanHolidays[d.Format(dateLayout)]
		ruled, byRule := holidayRule(d)
		if inTable != byRule || listed != ruled {
			t.Errorf("%s: table %q %v, rule %q %v", d.Format(dateLayout), listed, inTable, ruled, byRule)
		}
	}
}

func TestBalanceAndFees(t *testing.T) {
	e := newEnv(t, Options{Fee: 250, FreeTransfers: 1})
	first := e.transfer(e.create(with("amount", 1000), ""))
	second := e.transfer(e.create(with("amount", 1000), ""))
	e.transfer(e.create(with("amount", 5000, "scheduled_to", "2026-12-01"), ""))
	if first.Fee != 0 || second.Fee != 250 {
		t.Errorf("fees %d, %d; want 0 (free) then 250", first.Fee, second.Fee)
	}
	var b stone.Balance
	json.Unmarshal(e.do("GET", "/api/v1/accounts/"+testAccount+"/balance", nil).body, &b)
	if want := (stone.Balance{Balance: 100_000_000 - 1000 - 1250, ScheduledBalance: 5000}); b != want {
		t.Errorf("balance %+v, want %+v", b, want)
	}
	var f stone.Fee
	json.Unmarshal(e.do("GET", "/api/v1/accounts/"+testAccount+"/fees/external_transfer", nil).body, &f)
	if want := (stone.Fee{Amount: 250, FeeType: "external_transfer", OriginalFee: 250, MaxFreeTransfers: 1}); f != want {
		t.Errorf("fee %+v, want %+v", f, want)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{Faults: Faults{RateLimit: 0.01}}) // one request per 100 s
	path := "/api/v1/accounts/" + testAccount + "/balance"
	if r := e.do("GET", path, nil); r.status != 200 {
		t.Fatalf("first: %d", r.status)
	}
	r := e.do("GET", path, nil)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("second: %d, want 429", r.status)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 90 || secs > 100 {
		t.Errorf("Retry-After %q, want about 100 whole seconds", r.header.Get("Retry-After"))
	}
	e.s.SetFaults(Faults{})
	if r := e.do("GET", path, nil); r.status != 200 {
		t.Errorf("after lifting the limit: %d", r.status)
	}
}

func TestInjectedFailures(t *testing.T) {
	e := newEnv(t, Options{Seed: 7})
	e.s.SetFaults(Faults{FailRate: 1})
	for range 10 {
		r := e.create(seedBody(), "k")
		if r.status != 500 && r.status != 503 {
			t.Fatalf("FailRate 1: %d, want 500 or 503", r.status)
		}
	}
	e.s.SetFaults(Faults{OnRequest: func(r *http.Request) (int, bool) {
		return http.StatusBadGateway, r.Method == "POST"
	}})
	if r := e.create(seedBody(), "k"); r.status != http.StatusBadGateway {
		t.Errorf("hook: %d, want 502", r.status)
	}
	if n := len(e.s.Transfers()); n != 0 {
		t.Errorf("%d transfers created by failed requests", n)
	}
	e.s.SetFaults(Faults{})
	if r := e.create(seedBody(), "k"); r.status != 202 {
		t.Errorf("after the faults, the key is still fresh: %d", r.status)
	}
}

func TestAdminHandler(t *testing.T) {
	e := newEnv(t, Options{})
	tr := e.transfer(e.create(seedBody(), "admin-key"))
	resp, err := http.Post(e.s.URL+"/_sim/advance?by=1m", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("advance: %d", resp.StatusCode)
	}
	resp, err = http.Get(e.s.URL + "/_sim/transfers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var recs []Record
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].IdempotencyKey != "admin-key" || recs[0].Transfer.ID != tr.ID || recs[0].Transfer.Status != stone.StatusFinished {
		t.Errorf("admin transfers: %+v", recs)
	}
	if n := e.s.RequestCount(); n < 4 {
		t.Errorf("RequestCount %d, want at least 4", n)
	}
	log := e.s.Requests()
	last := log[len(log)-1]
	if last.Path != "/_sim/transfers" || last.Status != 200 || last.RequestID == "" {
		t.Errorf("last request %+v", last)
	}
}
