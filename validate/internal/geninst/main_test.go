package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestEmbeddedIsCurrent regenerates the directory from the reference
// snapshot and compares it with the committed validate/institutions.csv.
// The reference lives outside the module, so the test is skipped where it
// is absent (the project builds and runs without it).
func TestEmbeddedIsCurrent(t *testing.T) {
	ref := filepath.Join("..", "..", "..", "..", "shared", "data", "institutions.csv")
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("reference %s not available: %v", ref, err)
	}
	out := filepath.Join(t.TempDir(), "institutions.csv")
	if err := run(ref, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "institutions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Errorf("validate/institutions.csv is stale: run go generate ./validate")
	}
}

func TestRunRejectsMissingColumn(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(in, []byte("\xef\xbb\xbfCOMPE,ISPB\n001,00000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, filepath.Join(t.TempDir(), "out.csv")); err == nil {
		t.Errorf("run accepted a reference without ShortName")
	}
}
