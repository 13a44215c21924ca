package reconcile

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lote/batch"
	"lote/internal/fake"
	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
)

// A sheet paid by the three rails, reconciled after the clock moves: Pix
// SETTLED is paid, a whole refund returns the row, a partial one splits it,
// and the totals per rail and the money check hold.
func TestReconcileRails(t *testing.T) {
	now := emuStart
	e := newEnv(t, stonetest.Options{Now: func() time.Time { return now }})
	cpf := func(n int) string { return fake.CPF(100000000 + n*7919) }
	for k, v := range map[string]stonetest.PixKey{
		"ana@exemplo.com":   {Name: "Ana Lima", Document: cpf(1), ISPB: "18236120"},
		"+5511987654321":    {Name: "Bruno Alves", Document: cpf(2), ISPB: "00000000"},
		"carla@exemplo.com": {Name: "Carla Dias", Document: cpf(3)},
	} {
		if err := e.srv.AddPixKey(k, v); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.AddStoneAccount("58859", stonetest.StoneAccount{Name: "Fernando Pereira", Document: cpf(4)})
	sheet := "reference,name,document,institution_code,branch_code,account_code,account_type,chave_pix,amount_cents\n" +
		"T1,Pessoa Um," + cpf(5) + ",341,1234,10001,CC,,1000\n" +
		"I1,Fernando Pereira," + cpf(4) + ",197,0001,58859,CC,,2000\n" +
		"P1,Ana Lima," + cpf(1) + ",,,,,ana@exemplo.com,3000\n" +
		"P2,Bruno Alves," + cpf(2) + ",,,,,+5511987654321,4000\n" +
		"P3,Carla Dias," + cpf(3) + ",,,,,carla@exemplo.com,5000\n"
	path := filepath.Join(e.dir, "rails.csv")
	if err := os.WriteFile(path, []byte(sheet), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run, err := batch.Run(ctx, path, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	id := run.Batch.ID
	now = now.Add(time.Hour)
	rows := e.rows(id)
	// Row 5 is refunded whole, row 6 in part (R$ 15 of R$ 50).
	if _, err := e.srv.RefundPix(rows[5].TransferID, 4000); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.RefundPix(rows[6].TransferID, 1500); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, e.reconOpts(id))
	if err != nil {
		t.Fatal(err)
	}
	st := statuses(t, e, id)
	want := statusOf{2: stone.StatusFinished, 3: stone.StatusFinished, 4: stone.PixSettled, 5: stone.PixRefunded, 6: stone.PixSettled}
	for n, s := range want {
		if st[n] != s {
			t.Errorf("row %d: status %q, want %q", n, st[n], s)
		}
	}
	br := rep.Batches[0]
	for _, c := range br.Checks {
		if !c.OK {
			t.Errorf("check %s failed: %s", c.Name, c.Detail)
		}
	}
	wantRail := map[string]RailTotals{
		ledger.RailTED:      {Rows: 1, AmountCents: 1000, PaidCents: 1000},
		ledger.RailInternal: {Rows: 1, AmountCents: 2000, PaidCents: 2000},
		ledger.RailPix:      {Rows: 3, AmountCents: 12000, PaidCents: 3000 + 3500, ReturnedCents: 4000 + 1500},
	}
	for rail, w := range wantRail {
		if got := br.ByRail[rail]; got != w {
			t.Errorf("rail %s: %+v, want %+v", rail, got, w)
		}
	}
	if br.PaidCents != 9500 || br.ReturnedCents != 5500 {
		t.Errorf("paid %d, returned %d; want 9500 and 5500", br.PaidCents, br.ReturnedCents)
	}
	// Whole refund and partial refund both need a person.
	if br.NeedsPerson != 2 {
		t.Errorf("%d rows need a person, want 2", br.NeedsPerson)
	}
}

// TestStatementCheckLeavesOtherRailsAlone: the statement check reads TED
// debits and refunds only, so a Pix or an internal transfer, paid, is never
// reported as missing from the statement; it is left unjudged.
func TestStatementCheckLeavesOtherRailsAlone(t *testing.T) {
	now := emuStart
	e := newEnv(t, stonetest.Options{Now: func() time.Time { return now }})
	cpf := func(n int) string { return fake.CPF(100000000 + n*7919) }
	if err := e.srv.AddPixKey("ana@exemplo.com", stonetest.PixKey{Name: "Ana Lima", Document: cpf(1), ISPB: "18236120"}); err != nil {
		t.Fatal(err)
	}
	e.srv.AddStoneAccount("58859", stonetest.StoneAccount{Name: "Fernando Pereira", Document: cpf(4)})
	sheet := "reference,name,document,institution_code,branch_code,account_code,account_type,chave_pix,amount_cents\n" +
		"T1,Pessoa Um," + cpf(5) + ",341,1234,10001,CC,,1000\n" +
		"I1,Fernando Pereira," + cpf(4) + ",197,0001,58859,CC,,2000\n" +
		"P1,Ana Lima," + cpf(1) + ",,,,,ana@exemplo.com,3000\n"
	path := filepath.Join(e.dir, "rails.csv")
	if err := os.WriteFile(path, []byte(sheet), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run, err := batch.Run(ctx, path, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(48 * time.Hour) // well past the statement's lag
	o := e.reconOpts(run.Batch.ID)
	o.Statement = true
	rep, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	br := rep.Batches[0]
	for _, m := range br.Mismatches {
		if m.Row != 2 {
			t.Errorf("row %d (not a TED) reported against the statement: %s", m.Row, m.Detail)
		}
	}
	if br.Statement.Differ != 0 || br.NeedsPerson != 0 {
		t.Errorf("statement %+v, %d need a person; want no difference", br.Statement, br.NeedsPerson)
	}
}
