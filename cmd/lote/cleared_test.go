package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lote/ledger"
)

// TestRunRefusesUploadedSheet is finding 2b of issue 13 at the command
// line: `lote run` of the bytes of a sheet uploaded on the page, never
// submitted there, sends nothing and exits 2 saying why; so does
// `lote resume` of its batch.
func TestRunRefusesUploadedSheet(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "lote.db")
	c := cli{t: t, env: map[string]string{"LOTE_LEDGER": db}}
	in := sample(t, "payouts.csv")
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	id := hex.EncodeToString(sum[:])
	l, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := l.AddUser(ctx, "ana", ledger.RoleUploader, []byte("$2a$10$not-a-real-hash")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.RecordUpload(ctx, ledger.Upload{BatchID: id, FileName: "payouts.csv", StoredPath: in, UploadedBy: "ana"}); err != nil {
		t.Fatal(err)
	}
	l.Close()

	r := c.run("run", in)
	if r.code != exitUsage || !strings.Contains(r.stderr, "uploaded by ana on the web page and not submitted there; nothing was sent") {
		t.Errorf("lote run of the uploaded bytes: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitUsage, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "accepted") {
		t.Errorf("stdout reports rows sent:\n%s", r.stdout)
	}
	r = c.run("run", in, "--format", "json")
	var out runOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != exitUsage || out.ExitCode != exitUsage ||
		!strings.Contains(out.Error, "not cleared for sending") {
		t.Errorf("--format json: exit %d, %+v, %v\n%s", r.code, out, err, r.stdout)
	}
	l, err = ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Batch(ctx, id); err == nil {
		t.Error("the refused run imported the uploaded sheet")
	}
}
