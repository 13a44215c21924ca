package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lote/stone"
	"lote/stone/stonetest"
)

func TestReceiptsUsage(t *testing.T) {
	c := cli{t: t, env: map[string]string{}}
	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no batch", []string{"receipts"}, "name one batch"},
		{"two batches", []string{"receipts", "abc", "def"}, "name one batch"},
		{"bad rate", []string{"receipts", "abc", "--rate", "0"}, "--rate must be positive"},
		{"sim has no transfers", []string{"receipts", "abc"}, "--env sim keeps its transfers only while `lote run` runs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := c.run(tt.args...); r.code != exitUsage || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tt.stderr)
			}
		})
	}
}

// receiptsSim is an emulator with the sample sheet paid through it by
// `lote run`; it returns the connection flags and the batch id.
func receiptsSim(t *testing.T, o stonetest.Options) (*stonetest.Server, []string, string) {
	t.Helper()
	o.Sandbox = true
	sim := stonetest.NewServer(o)
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	key, err := stone.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.pem")
	if err := stone.WriteKeyPair(keyFile, key); err != nil {
		t.Fatal(err)
	}
	sim.AddClient("client", &key.PublicKey)
	sim.AddAccount("acct", 1_000_000_00)
	conn := []string{"--env", "sandbox", "--api-url", sim.URL, "--auth-url", sim.URL, "--client-id", "client",
		"--key", keyFile, "--account-id", "acct", "--ledger", filepath.Join(dir, "l.db")}
	c := cli{t: t}
	if r := c.run(append([]string{"run", sample(t, "payouts.csv"), "--format", "json"}, conn...)...); r.code != exitOK {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	recs := sim.Transfers()
	if len(recs) != 12 {
		t.Fatalf("%d transfers, want 12", len(recs))
	}
	r := c.run("status", "--ledger", filepath.Join(dir, "l.db"), "--format", "json")
	var list struct {
		Batches []batchStatus `json:"batches"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list.Batches) != 1 {
		t.Fatalf("status: %v\n%s%s", err, r.stdout, r.stderr)
	}
	return sim, conn, list.Batches[0].Batch
}

func receiptRequests(sim *stonetest.Server) int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Method == http.MethodPost && r.Path == "/api/v1/receipts" {
			n++
		}
	}
	return n
}

// `lote receipts BATCH --out FILE.zip` writes one PDF per paid row, named
// by reference and payee, holding the payee and the amount; `--out DIR`
// writes the same files into a folder. A row whose receipt Stone refuses
// is named with the reason, and the exit code says a row needs a look.
func TestReceiptsZipAndFolder(t *testing.T) {
	sim, conn, id := receiptsSim(t, stonetest.Options{})
	c := cli{t: t}
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "comprovantes.zip")
	r := c.run(append([]string{"receipts", id[:10], "--out", zipPath}, conn...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "12 receipts written to "+zipPath) {
		t.Fatalf("receipts: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := receiptRequests(sim); n != 12 {
		t.Errorf("%d receipt requests, want 12", n)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	pdf, ok := files["PAY-2026-11-001 - Ana Beatriz Souza.pdf"]
	if len(files) != 12 || !ok {
		t.Fatalf("zip holds %d files, row 2's present %v", len(files), ok)
	}
	for _, want := range []string{"%PDF-", "(Favorecido: Ana Beatriz Souza) Tj", "(Valor: R$ 1.500,00) Tj", "%%EOF"} {
		if !bytes.Contains(pdf, []byte(want)) {
			t.Errorf("row 2's receipt lacks %q", want)
		}
	}

	// Into a folder, with one transfer Stone no longer gives a receipt for.
	var third string
	for _, rec := range sim.Transfers() {
		if rec.Transfer.Target.Entity.Name == "João Pedro Lima" {
			third = rec.Transfer.ID
		}
	}
	if !sim.Mutate(third, func(tr *stone.Transfer) { tr.Status = stone.StatusFailed }) {
		t.Fatal("no transfer to João Pedro Lima")
	}
	folder := filepath.Join(dir, "pdfs")
	r = c.run(append([]string{"receipts", id[:10], "--out", folder}, conn...)...)
	if r.code != exitRows || !strings.Contains(r.stdout, "11 receipts written to "+folder) || !strings.Contains(r.stdout, "row 3: no receipt: ") {
		t.Fatalf("receipts into a folder: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ents, err := os.ReadDir(folder)
	if err != nil || len(ents) != 11 {
		t.Fatalf("folder holds %d files (%v), want 11", len(ents), err)
	}
	if _, err := os.Stat(filepath.Join(folder, "PAY-2026-11-001 - Ana Beatriz Souza.pdf")); err != nil {
		t.Error(err)
	}
}
