package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbeddedIsCurrent regenerates the list from the reference snapshot and
// compares it with the committed validate/pix_participants.csv; skipped
// where the reference, outside the module, is absent.
func TestEmbeddedIsCurrent(t *testing.T) {
	ref := filepath.Join("..", "..", "..", "..", "shared", "data", "institutions.csv")
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("reference %s not available: %v", ref, err)
	}
	out := filepath.Join(t.TempDir(), "pix.csv")
	if err := run(ref, out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	committed, err := os.ReadFile(filepath.Join("..", "..", "pix_participants.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Errorf("validate/pix_participants.csv is stale: run go generate ./validate")
	}
}

func TestRunRejectsUnknownPixType(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(in, []byte("ISPB,PixType\n00000000,DRCT\n12345678,XPTO\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(in, filepath.Join(t.TempDir(), "out.csv"))
	if err == nil || !strings.Contains(err.Error(), `row 3: PixType "XPTO"`) {
		t.Errorf("err %v, want row 3 named", err)
	}
}
