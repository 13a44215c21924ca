package stonetest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"rsc.io/pdf"

	"lote/stone"
)

// TestFailedTransferOnTheWire: failure_reason_code is a JSON string, as
// the documentation types it, and a FAILED transfer shows no fee.
func TestFailedTransferOnTheWire(t *testing.T) {
	e := newEnv(t, Options{})
	e.s.AddAccount("poor", 1000)
	tr := e.transfer(e.create(with("amount", 700, "account_id", "poor"), ""))
	raw := e.do("GET", "/api/v1/external_transfers/"+tr.ID, nil)
	var m map[string]any
	if err := json.Unmarshal(raw.body, &m); err != nil {
		t.Fatal(err)
	}
	if m["status"] != stone.StatusFailed || m["failure_reason_code"] != "1" || m["fee"] != 0.0 {
		t.Errorf("status %v failure_reason_code %#v fee %v, want FAILED \"1\" 0", m["status"], m["failure_reason_code"], m["fee"])
	}
	if got := e.s.Statement("poor"); len(got) != 0 {
		t.Errorf("a FAILED transfer is in the statement: %+v", got)
	}
}

// TestScheduledShortfall: a scheduled TED that finds the account short on
// its date ends REFUNDED, with no money moved and no fee; the other reading
// ends FAILED.
func TestScheduledShortfall(t *testing.T) {
	for _, fails := range []bool{false, true} {
		e := newEnv(t, Options{ScheduledShortfallFails: fails})
		e.s.AddAccount("poor", 1000)
		tr := e.transfer(e.create(with("amount", 700, "account_id", "poor", "scheduled_to", "2026-11-26"), ""))
		if tr.Status != stone.StatusScheduled {
			t.Fatalf("created %s, want SCHEDULED", tr.Status)
		}
		e.s.Advance(72 * time.Hour)
		rec, _ := e.s.Transfer(tr.ID)
		want := stone.StatusRefunded
		if fails {
			want = stone.StatusFailed
		}
		got := rec.Transfer
		if got.Status != want || got.Fee != 0 || got.FailureReasonCode == nil || *got.FailureReasonCode != "1" {
			t.Errorf("fails=%v: %s fee %d code %v, want %s fee 0 code 1", fails, got.Status, got.Fee, got.FailureReasonCode, want)
		}
		if b, _ := e.s.Balance("poor"); b != 1000 {
			t.Errorf("fails=%v: balance %d, want 1000", fails, b)
		}
	}
}

// TestUserAgentRequired: Stone's guide requires a User-Agent on every call.
func TestUserAgentRequired(t *testing.T) {
	e := newEnv(t, Options{})
	req, _ := http.NewRequest("GET", e.s.URL+"/api/v1/accounts/"+testAccount+"/balance", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header["User-Agent"] = []string{""} // net/http then sends none
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no User-Agent: %d, want 400", resp.StatusCode)
	}
	if r := e.do("GET", "/api/v1/accounts/"+testAccount+"/balance", nil, "User-Agent", "lote-test/1"); r.status != 200 {
		t.Errorf("with User-Agent: %d %s", r.status, r.body)
	}
}

// TestMissingScope: an application without the transfer scope cannot
// create a TED, and reading still works.
func TestMissingScope(t *testing.T) {
	e := newEnv(t, Options{})
	e.s.SetScopes(testClient, ScopeRead)
	r := e.create(seedBody(), "k1")
	if r.status != http.StatusForbidden || e.errorBody(r).Type != stone.ErrTypeUnauthorized ||
		!strings.Contains(e.errorBody(r).Title, ScopeTransfersExternal) {
		t.Errorf("create without scope: %d %s, want 403 naming %s", r.status, r.body, ScopeTransfersExternal)
	}
	if len(e.s.Transfers()) != 0 {
		t.Error("a transfer was created without the scope")
	}
	if r := e.do("GET", "/api/v1/accounts/"+testAccount+"/balance", nil); r.status != 200 {
		t.Errorf("balance with read scope: %d", r.status)
	}
	var tr stone.TokenResponse
	_, b := e.postToken(e.tokenForm(e.assertion(nil)))
	json.Unmarshal(b, &tr)
	if tr.Scope != ScopeRead {
		t.Errorf("token scope %q, want %q", tr.Scope, ScopeRead)
	}
}

// TestOwnerApproval: transfers wait for the account's owner; the
// application cannot approve them; the owner's approval, rejection or
// silence decides, through the admin endpoints.
func TestOwnerApproval(t *testing.T) {
	e := newEnv(t, Options{OwnerApproval: true, ApprovalTTL: 2 * time.Hour})
	a := e.transfer(e.create(seedBody(), "a"))
	b := e.transfer(e.create(seedBody(), "b"))
	c := e.transfer(e.create(seedBody(), "c"))
	if a.Status != stone.StatusCreated {
		t.Fatalf("created %s, want CREATED", a.Status)
	}
	if r := e.do("POST", "/api/v1/external_transfers/"+a.ID+"/approve", nil); r.status != http.StatusForbidden {
		t.Errorf("application approves: %d, want 403", r.status)
	}
	admin := func(path string) int {
		resp, err := http.Post(e.s.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := admin("/_sim/transfers/" + a.ID + "/approve"); st != 204 {
		t.Fatalf("owner approves: %d", st)
	}
	if st := admin("/_sim/transfers/" + b.ID + "/reject"); st != 204 {
		t.Fatalf("owner rejects: %d", st)
	}
	if st := admin("/_sim/transfers/" + b.ID + "/approve"); st != 422 {
		t.Errorf("approve a rejected transfer: %d, want 422", st)
	}
	if st := admin("/_sim/transfers/nope/approve"); st != 404 {
		t.Errorf("approve an unknown transfer: %d, want 404", st)
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
	if r, _ := e.s.Transfer(a.ID); r.Transfer.ApprovedBy == nil || !strings.HasPrefix(*r.Transfer.ApprovedBy, "user:") {
		t.Errorf("approved_by %v, want the owner (user:…)", r.Transfer.ApprovedBy)
	}
	// Only the approved transfer moved money.
	if st := e.s.Statement(testAccount); len(st) != 1 || st[0].OperationID != a.ID {
		t.Errorf("statement %+v, want one entry for %s", st, a.ID)
	}
}

// TestStatement: the statement lists each executed TED's debit (amount +
// fee) and a refund's credit, newest first, consistent with the balance.
func TestStatement(t *testing.T) {
	e := newEnv(t, Options{RefundRule: RefundByAccount(map[string]string{"777777": "1"})})
	paid := e.transfer(e.create(with("amount", 10000), "p"))
	back := e.transfer(e.create(with("amount", 20000, "target.account.account_code", "777777"), "r"))
	e.s.Advance(2 * time.Hour)
	e.token = e.getToken()
	r := e.do("GET", "/api/v1/accounts/"+testAccount+"/statement", nil)
	if r.status != http.StatusCreated {
		t.Fatalf("statement: %d %s", r.status, r.body)
	}
	var page stone.Page[stone.StatementEntry]
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	type line struct {
		typ, op, id string
		amount, fee int64
	}
	var got []line
	for _, en := range page.Data {
		got = append(got, line{en.Type, en.Operation, en.OperationID, en.Amount, en.FeeAmount})
	}
	want := []line{
		{"external_refund", "credit", back.ID, 20400, 400},
		{"external", "debit", back.ID, -20400, 400},
		{"external", "debit", paid.ID, -10400, 400},
	}
	if len(got) != len(want) {
		t.Fatalf("statement %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if b, _ := e.s.Balance(testAccount); page.Data[0].BalanceAfter != b {
		t.Errorf("last balance_after %d, balance %d", page.Data[0].BalanceAfter, b)
	}
	only := e.do("GET", "/api/v1/accounts/"+testAccount+"/statement?type[]=external_refund", nil)
	json.Unmarshal(only.body, &page)
	if len(page.Data) != 1 || page.Data[0].Type != "external_refund" {
		t.Errorf("type filter: %+v", page.Data)
	}
	id := page.Data[0].ID
	for _, path := range []string{"/api/v1/accounts/" + testAccount + "/statement/entries/" + id, "/api/v1/statement/entries/" + id} {
		var en stone.StatementEntry
		r := e.do("GET", path, nil)
		json.Unmarshal(r.body, &en)
		if r.status != 200 || en.ID != id {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/accounts/other/statement/entries/"+id, nil); r.status != 404 {
		t.Errorf("entry under another account: %d, want 404", r.status)
	}
}

// TestReceipt: a receipt is a PDF that a reader opens and that shows the
// payee and the amount; only successful or scheduled transfers have one.
func TestReceipt(t *testing.T) {
	e := newEnv(t, Options{})
	e.s.AddAccount("poor", 1000)
	tr := e.transfer(e.create(with("amount", 123456, "target.entity.name", "João Araújo (ME)"), "p"))
	failed := e.transfer(e.create(with("amount", 700, "account_id", "poor"), "f"))
	e.s.Advance(2 * time.Minute)

	r := e.do("POST", "/api/v1/receipts", stone.ReceiptRequest{ResourceType: "external_transfer", ResourceID: tr.ID})
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("receipt: %d %s %.80q", r.status, r.header.Get("Content-Type"), r.body)
	}
	text := pdfText(t, r.body)
	for _, want := range []string{"João Araújo (ME)", "R$ 1.234,56", "R$ 4,00", tr.ID, "FINISHED"} {
		if !strings.Contains(text, noSpaces(want)) {
			t.Errorf("receipt text lacks %q:\n%s", want, text)
		}
	}

	for _, c := range []struct {
		body   stone.ReceiptRequest
		status int
	}{
		{stone.ReceiptRequest{ResourceType: "external_transfer", ResourceID: failed.ID}, 422},
		{stone.ReceiptRequest{ResourceType: "external_transfer", ResourceID: "nope"}, 404},
		{stone.ReceiptRequest{ResourceType: "internal_transfer", ResourceID: tr.ID}, 404},
		{stone.ReceiptRequest{ResourceType: "boleto", ResourceID: tr.ID}, 400},
		{stone.ReceiptRequest{}, 400},
	} {
		if r := e.do("POST", "/api/v1/receipts", c.body); r.status != c.status {
			t.Errorf("%+v: %d %s, want %d", c.body, r.status, r.body, c.status)
		}
	}
}

// pdfText opens a PDF with a reader and returns the text of its pages, a
// line per baseline, without spaces: rsc.io/pdf yields the glyphs of the
// standard fonts without their widths, so word gaps cannot be told apart.
// Compare with noSpaces.
func pdfText(t testing.TB, b []byte) string {
	t.Helper()
	rd, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("open PDF: %v", err)
	}
	var out strings.Builder
	for i := 1; i <= rd.NumPage(); i++ {
		var prev pdf.Text
		for j, tx := range rd.Page(i).Content().Text {
			if j > 0 && tx.Y != prev.Y {
				out.WriteByte('\n')
			}
			out.WriteString(noSpaces(tx.S))
			prev = tx
		}
		out.WriteByte('\n')
	}
	return out.String()
}

func noSpaces(s string) string { return strings.ReplaceAll(s, " ", "") }
