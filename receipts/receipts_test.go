package receipts_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rsc.io/pdf"

	"lote/batch"
	"lote/ledger"
	"lote/receipts"
	"lote/reconcile"
	"lote/stone"
	"lote/stone/stonetest"
)

// TestFetchZip: a paid batch gives one receipt per paid row, named by
// reference and payee, that a PDF reader opens and that shows the payee
// and the amount; the row that failed has none.
func TestFetchZip(t *testing.T) {
	ctx := context.Background()
	key, err := stone.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)
	srv := stonetest.NewServer(stonetest.Options{Now: func() time.Time { return base }})
	t.Cleanup(srv.Close)
	srv.AddClient("app-1", &key.PublicKey)
	srv.AddAccount("acc-1", 1_000_000)
	c, err := stone.NewClient(stone.Config{APIURL: srv.URL, AuthURL: srv.URL, ClientID: "app-1", Key: key, Now: srv.Now})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := ledger.Open(filepath.Join(dir, "ledger.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	sheet := "reference,name,document,institution_code,branch_code,account_code,amount\n" +
		"NF-1,João Araújo,10000791989,341,1234,10001,\"1.234,56\"\n" +
		"NF-2,Maria Souza,10001583816,341,1234,20002,\"9.000,00\"\n" // more than the account holds
	path := filepath.Join(dir, "folha.csv")
	os.WriteFile(path, []byte(sheet), 0o600)
	rep, err := batch.Run(ctx, path, batch.RunOptions{Ledger: l, Client: c, AccountID: "acc-1", Env: "sim", Concurrency: 1, Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(2 * time.Minute)
	if _, err := reconcile.Run(ctx, reconcile.Options{Ledger: l, Client: c, AccountID: "acc-1", Env: "sim",
		Batches: []string{rep.Batch.ID}, Rate: 1000, Now: srv.Now}); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "comprovantes.zip")
	got, err := receipts.Fetch(ctx, receipts.Options{Ledger: l, Client: c, Batch: rep.Batch.ID, Out: out, Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != 1 || got.Files[0].Name != "NF-1 - Joao Araujo.pdf" || got.Files[0].Row != 2 {
		t.Fatalf("files %+v, want one, NF-1 - Joao Araujo.pdf", got.Files)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 {
		t.Fatalf("zip holds %d files", len(zr.File))
	}
	f, _ := zr.File[0].Open()
	b, _ := io.ReadAll(f)
	f.Close()
	rd, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("open receipt: %v", err)
	}
	var text strings.Builder
	for _, tx := range rd.Page(1).Content().Text {
		text.WriteString(tx.S)
	}
	// The reader drops spaces (see stonetest's receipt test).
	for _, want := range []string{"JoãoAraújo", "R$1.234,56"} {
		if !strings.Contains(strings.ReplaceAll(text.String(), " ", ""), want) {
			t.Errorf("receipt lacks %q: %s", want, text.String())
		}
	}
}
