package main

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"lote/ledger"
	"lote/stone/stonetest"
)

// needsPerson runs sheet against a bank that answers the 2nd transfer
// creation 409 without making it: row 3 (sent second, one at a time)
// needs a person. It returns the batch id prefix.
func needsPerson(t *testing.T, b *bank, sheet string) string {
	t.Helper()
	b.sim.SetFaults(stonetest.Faults{OnRequest: onTransfer(2, http.StatusConflict)})
	r := b.run(t, "run", sheet, "--concurrency", "1")
	b.sim.SetFaults(stonetest.Faults{})
	if r.code != exitPerson {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return batchOf(t, r.stdout)
}

// settle runs lote settle against the bank's ledger.
func (b *bank) settle(t *testing.T, args ...string) result {
	t.Helper()
	return cli{t: t}.run(append(append([]string{"settle"}, args...), "--env", "sandbox", "--ledger", filepath.Join(b.dir, "l.db"))...)
}

// ledgerRow reads a row of the bank's ledger, and its settlements.
func ledgerRow(t *testing.T, b *bank, prefix string, row int) (ledger.Row, []ledger.Settlement) {
	t.Helper()
	l, err := (&connFlags{env: "sandbox", ledger: filepath.Join(b.dir, "l.db")}).openLedger()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bt, err := l.FindBatch(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Row(context.Background(), bt.ID, row)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := l.Settlements(context.Background(), bt.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r, ss
}

// A row settled as paid is accepted with the transfer the person found,
// recorded with who and when, and keeps its payout's claim: the same
// payout in another sheet is held, not paid again.
func TestSettlePaid(t *testing.T) {
	b := newBank(t)
	id := needsPerson(t, b, noReferences(t, "a"))
	r := b.settle(t, id, "3", "--paid", "tr-on-the-statement", "--by", "ana", "--reason", "statement of 4 Dec")
	if r.code != exitOK || !strings.Contains(r.stdout, "row 3: settled as paid by transfer tr-on-the-statement (by ana)") {
		t.Fatalf("settle: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	row, ss := ledgerRow(t, b, id, 3)
	if row.State != ledger.Accepted || row.TransferID != "tr-on-the-statement" || len(ss) != 1 ||
		ss[0].Outcome != ledger.SettledPaid || ss[0].By != "ana" || ss[0].At.IsZero() || ss[0].Reason != "statement of 4 Dec" {
		t.Errorf("row %+v, settlements %+v", row, ss)
	}
	if r := b.run(t, "resume", id); r.code != exitOK {
		t.Errorf("resume after settling: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Settled once: settling it again is refused, and nothing is recorded.
	if r := b.settle(t, id, "3", "--not-paid", "--reason", "x", "--by", "bia"); r.code != exitUsage ||
		!strings.Contains(r.stderr, "row 3 is accepted, not needs_review") {
		t.Errorf("second settle: exit %d\n%s", r.code, r.stderr)
	}
	r = b.run(t, "run", noReferences(t, "b"))
	if r.code != exitHeld || !regexp.MustCompile(`held +12 `).MatchString(r.stdout) {
		t.Errorf("the same payouts again: exit %d\n%s", r.code, r.stdout)
	}
	if n := len(b.sim.Transfers()); n != 11 {
		t.Errorf("%d transfers, want 11", n)
	}
}

// A row settled as not paid is never sent again by itself; --resend gives
// it a new key, and a resume sends it once.
func TestSettleNotPaidThenResend(t *testing.T) {
	b := newBank(t)
	id := needsPerson(t, b, noReferences(t, "a"))
	before, _ := ledgerRow(t, b, id, 3)

	if r := b.settle(t, id, "3", "--not-paid", "--by", "ana"); r.code != exitUsage || !strings.Contains(r.stderr, "--not-paid needs --reason") {
		t.Errorf("without a reason: exit %d\n%s", r.code, r.stderr)
	}
	if r := b.settle(t, id, "3", "--resend", "--by", "ana"); r.code != exitUsage || !strings.Contains(r.stderr, "was not settled as not paid") {
		t.Errorf("resend before settling: exit %d\n%s", r.code, r.stderr)
	}
	if r := b.settle(t, id, "3", "--not-paid", "--reason", "not on the statement", "--by", "ana"); r.code != exitOK {
		t.Fatalf("settle: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := b.run(t, "resume", id); r.code != exitPerson {
		t.Errorf("resume of a row settled not paid: exit %d, want %d (still for a person)\n%s", r.code, exitPerson, r.stdout)
	}
	if n := len(b.sim.Transfers()); n != 11 {
		t.Fatalf("%d transfers: a row settled not paid was sent without --resend", n)
	}
	if r := b.settle(t, id, "3", "--resend", "--by", "bia"); r.code != exitOK || !strings.Contains(r.stdout, "`lote resume "+id+"` sends it") {
		t.Fatalf("resend: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := b.run(t, "resume", id); r.code != exitOK {
		t.Fatalf("resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	row, ss := ledgerRow(t, b, id, 3)
	if row.State != ledger.Accepted || row.IdempotencyKey == before.IdempotencyKey || !strings.HasPrefix(row.IdempotencyKey, "lote-s") {
		t.Errorf("row after resend: %+v (key before %s)", row, before.IdempotencyKey)
	}
	if _, ok := b.sim.TransferByKey(row.IdempotencyKey); !ok || len(b.sim.Transfers()) != 12 {
		t.Errorf("%d transfers; the new key's transfer found: %v", len(b.sim.Transfers()), ok)
	}
	if len(ss) != 2 || ss[0].Outcome != ledger.SettledNotPaid || ss[0].Reason != "not on the statement" ||
		ss[1].Outcome != ledger.SettledResend || ss[1].By != "bia" || ss[1].OldKey != before.IdempotencyKey || ss[1].NewKey != row.IdempotencyKey {
		t.Errorf("settlements: %+v", ss)
	}
}

func TestSettleUsage(t *testing.T) {
	c := cli{t: t}
	for _, tt := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"settle", "abc"}, "settle takes a batch"},
		{[]string{"settle", "abc", "1", "--paid", "t", "--by", "a"}, `row "1": give the row's number as Excel numbers it`},
		{[]string{"settle", "abc", "3", "--by", "a"}, "give one of --paid TRANSFER_ID, --not-paid or --resend"},
		{[]string{"settle", "abc", "3", "--paid", "t", "--not-paid", "--by", "a"}, "give one of"},
		{[]string{"settle", "abc", "3", "--paid", "t"}, "--by NAME is required"},
	} {
		if r := c.run(tt.args...); r.code != exitUsage || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tt.args, r.code, r.stderr, tt.stderr)
		}
	}
}
