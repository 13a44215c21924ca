package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"lote/ledger"
	"lote/stone/stonetest"
)

// An admin settles on the page a row that needs a person, with a reason:
// not paid, then sent again with a new key once they say so; nobody else
// may, and the ledger records who.
func TestPageSettlesARowThatNeedsAPerson(t *testing.T) {
	e := newEnv(t, nil)
	var creates atomic.Int64
	e.sim.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		// The second creation is answered 409 and not made: its row's
		// outcome is unknown.
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/external_transfers" && creates.Add(1) == 2 {
			return http.StatusConflict, true
		}
		return 0, false
	}})
	ana, caio := e.login("ana"), e.login("caio")
	_, page, path := ana.upload("payouts.csv", readSample(t, "payouts.csv"))
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, body := ana.post(path+"/submit", form); code != http.StatusOK {
		t.Fatalf("submit: %d\n%.2000s", code, body)
	}
	id := strings.TrimPrefix(path, "/batches/")
	e.waitSent(id)
	e.sim.SetFaults(stonetest.Faults{})
	review, _, err := e.l.FindRows(context.Background(), id, ledger.RowFilter{States: []ledger.State{ledger.NeedsReview}}, 1)
	if err != nil || len(review) != 1 {
		t.Fatalf("rows needing review: %v, %v", review, err)
	}
	row := review[0]
	settle := path + "/rows/" + strconv.Itoa(row.Row) + "/settle"

	if _, body := ana.get(path); strings.Contains(body, `id="settle-`) {
		t.Error("an uploader sees the settle form")
	}
	if _, body := caio.get(path); !strings.Contains(body, `id="settle-`+strconv.Itoa(row.Row)+`"`) {
		t.Errorf("the admin does not see the settle form of row %d", row.Row)
	}
	if code, _ := ana.post(settle, url.Values{"outcome": {"not_paid"}, "reason": {"x"}}); code != http.StatusForbidden {
		t.Errorf("an uploader settled: %d", code)
	}
	if code, body := caio.post(settle, url.Values{"outcome": {"not_paid"}}); code != http.StatusBadRequest || !strings.Contains(body, "Say what the statement showed") {
		t.Errorf("without a reason: %d", code)
	}
	if code, body := caio.post(settle, url.Values{"outcome": {"resend"}, "reason": {"x"}}); code != http.StatusConflict || !strings.Contains(body, "was not settled as not paid") {
		t.Errorf("resend before not paid: %d", code)
	}
	if code, body := caio.post(settle, url.Values{"outcome": {"not_paid"}, "reason": {"not on the statement of 4 Dec"}}); code != http.StatusOK ||
		!strings.Contains(body, "Settled: the ledger records what you found") {
		t.Fatalf("settle not paid: %d\n%.2000s", code, body)
	}
	if code, _ := caio.post(settle, url.Values{"outcome": {"resend"}, "reason": {"checked with the payee"}}); code != http.StatusOK {
		t.Fatalf("resend: %d", code)
	}
	if n := len(e.sim.Transfers()); n != 11 {
		t.Fatalf("%d transfers before Resume: a resent row went by itself", n)
	}
	if code, body := caio.post(path+"/resume", nil); code != http.StatusOK {
		t.Fatalf("resume: %d\n%.2000s", code, body)
	}
	e.waitSent(id)
	after, err := e.l.Row(context.Background(), id, row.Row)
	if err != nil || after.State != ledger.Accepted || after.IdempotencyKey == row.IdempotencyKey || len(e.sim.Transfers()) != 12 {
		t.Errorf("row %+v, %v; %d transfers", after, err, len(e.sim.Transfers()))
	}
	ss, err := e.l.Settlements(context.Background(), id)
	if err != nil || len(ss) != 2 || ss[0].By != "page: caio" || ss[0].Reason != "not on the statement of 4 Dec" || ss[1].Outcome != ledger.SettledResend || ss[1].Reason != "checked with the payee" {
		t.Errorf("settlements %+v, %v", ss, err)
	}
}
