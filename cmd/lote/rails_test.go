package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lote/internal/fake"
	"lote/stone"
)

// A sheet mixing every rail (TED, an account at Stone, a Pix key of each
// kind, Pix by bank data with --rail auto) paid against stonesim, then
// reconciled once the bank's clock has moved: every row final and paid,
// the totals per rail right, exit 0.
func TestRailsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binaries")
	}
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	dir := t.TempDir()
	key, err := stone.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.pem")
	if err := stone.WriteKeyPair(keyFile, key); err != nil {
		t.Fatal(err)
	}
	doc := func(i int) string { return fake.CPF(500000000 + i*7) }
	url := startSim(t, []string{"--addr", "127.0.0.1:0", "--mode", "sandbox",
		"--client", "e2e=" + keyFile + ".pub", "--account", "acct=100000000000",
		"--stone-account", "58859=Fernando Pereira," + doc(3),
		"--pix-key", doc(4) + "=Carla Dias," + doc(4) + ",18236120",
		"--pix-key", "11222333000181=Padaria Pão Quente Ltda,11222333000181,60701190",
		"--pix-key", "joao@exemplo.com.br=João Souza," + doc(6) + ",00000000",
		"--pix-key", "+5511987654321=Ana Lima," + doc(7),
		"--pix-key", "123e4567-e89b-12d3-a456-426614174000=Bruno Alves," + doc(8) + ",18236120",
	})
	sheet := filepath.Join(dir, "rails.csv")
	body := "reference,name,document,institution_code,branch_code,account_code,account_type,chave_pix,amount\n" +
		"E-1,Pessoa Um," + doc(1) + ",018,0001,10001-1,CC,,100.00\n" + // Banco Tricury: not in Pix, a TED
		"E-2,Pessoa Dois," + doc(2) + ",341,0501,20002-2,CC,,200.00\n" + // Itaú: Pix by bank data
		"E-3,Fernando Pereira," + doc(3) + ",197,0001,58859,CC,,300.00\n" +
		"E-4,Carla Dias," + doc(4) + ",,,,," + doc(4) + ",400.00\n" +
		"E-5,Padaria Pão Quente,11222333000181,,,,,11.222.333/0001-81,500.00\n" +
		"E-6,João Souza," + doc(6) + ",,,,,joao@exemplo.com.br,600.00\n" +
		"E-7,Ana Lima," + doc(7) + ",,,,,+55 11 98765-4321,700.00\n" +
		"E-8,Bruno Alves," + doc(8) + ",,,,,123e4567-e89b-12d3-a456-426614174000,800.00\n"
	if err := os.WriteFile(sheet, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ledgerFile := filepath.Join(dir, "lote.db")
	common := []string{"--env", "sandbox", "--api-url", url, "--auth-url", url,
		"--client-id", "e2e", "--key", keyFile, "--account-id", "acct", "--ledger", ledgerFile}
	run := runBin(t, append([]string{"run", sheet, "--rail", "auto"}, common...)...)
	if run.code != exitOK {
		t.Fatalf("run: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	want := "  by rail: TED 1 (R$ 100,00), internal transfer 1 (R$ 300,00), Pix 6 (R$ 3.200,00)\n"
	if !strings.Contains(run.stdout, want) {
		t.Errorf("plan lacks %q:\n%s", want, run.stdout)
	}
	resp, err := http.Post(url+"/_sim/advance?by=26h", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rec := runBin(t, append([]string{"reconcile", "--all", "--format", "json", "--out", filepath.Join(dir, "recon.csv")}, common...)...)
	if rec.code != exitOK {
		t.Fatalf("reconcile: exit %d\n%s%s", rec.code, rec.stdout, rec.stderr)
	}
	var doc2 reconcileDoc
	if err := json.Unmarshal([]byte(rec.stdout), &doc2); err != nil || len(doc2.Batches) != 1 {
		t.Fatalf("reconcile json: %v\n%s", err, rec.stdout)
	}
	b := doc2.Batches[0]
	if doc2.Status != "settled" || b.PaidCents != 360000 || b.NeedsPerson != 0 || b.ByCategory["paid"].Rows != 8 {
		t.Errorf("reconcile: status %s, paid %d, %d need a person, by category %+v", doc2.Status, b.PaidCents, b.NeedsPerson, b.ByCategory)
	}
	for rail, w := range map[string][2]int64{"ted": {1, 10000}, "internal": {1, 30000}, "pix": {6, 320000}} {
		if got := b.ByRail[rail]; int64(got.Rows) != w[0] || got.PaidCents != w[1] || got.AmountCents != w[1] {
			t.Errorf("rail %s: %+v, want %d rows paid %d", rail, got, w[0], w[1])
		}
	}
	for _, c := range b.Checks {
		if !c.OK {
			t.Errorf("check %s: %s", c.Name, c.Detail)
		}
	}
}
