package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lote/internal/bombs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

// TestValidateSamples runs `lote validate` on every sample in every format
// and compares what a user sees with the golden files: the exact rows,
// columns, messages and summaries, and the exit code.
func TestValidateSamples(t *testing.T) {
	t.Chdir("../..") // paths in the output are the ones a user types in the repository
	cases := []struct {
		sample string
		exit   int
	}{
		{"samples/payouts.csv", exitOK},
		{"samples/payouts.xlsx", exitOK},
		{"samples/folha-excel-br.csv", exitOK},
		{"samples/errors.csv", exitRows},
	}
	for _, c := range cases {
		for _, format := range []string{"text", "json", "jsonl"} {
			name := strings.ReplaceAll(filepath.Base(c.sample), ".", "_") + "." + format
			t.Run(name, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), []string{"validate", "--today", "2026-11-23", c.sample, "--format", format},
					strings.NewReader(""), &stdout, &stderr, noEnv)
				if code != c.exit {
					t.Errorf("exit code %d, want %d; stderr: %s", code, c.exit, stderr.String())
				}
				if stderr.Len() > 0 {
					t.Errorf("stderr: %s", stderr.String())
				}
				golden(t, filepath.Join("cmd", "lote", "testdata", "validate", name+".golden"), stdout.Bytes())
			})
		}
	}
}

// TestValidateSamplesPortuguese pins the text output in Portuguese (with
// --lang, and with LANG as a shell sets it), and checks that JSON does not
// depend on the language.
func TestValidateSamplesPortuguese(t *testing.T) {
	t.Chdir("../..")
	for _, sample := range []string{"samples/payouts.csv", "samples/errors.csv"} {
		name := strings.ReplaceAll(filepath.Base(sample), ".", "_")
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			run(context.Background(), []string{"validate", "--lang", "pt-BR", "--today", "2026-11-23", sample},
				strings.NewReader(""), &stdout, &stderr, noEnv)
			if stderr.Len() > 0 {
				t.Errorf("stderr: %s", stderr.String())
			}
			golden(t, filepath.Join("cmd", "lote", "testdata", "validate", name+".text.pt-BR.golden"), stdout.Bytes())
			var byLocale bytes.Buffer
			run(context.Background(), []string{"validate", "--today", "2026-11-23", sample},
				strings.NewReader(""), &byLocale, &stderr, func(k string) string {
					if k == "LANG" {
						return "pt_BR.UTF-8"
					}
					return ""
				})
			if byLocale.String() != stdout.String() {
				t.Errorf("LANG=pt_BR.UTF-8 prints other text than --lang pt-BR:\n%s", byLocale.String())
			}
			for _, format := range []string{"json", "jsonl"} {
				var en, pt bytes.Buffer
				run(context.Background(), []string{"validate", "--today", "2026-11-23", sample, "--format", format},
					strings.NewReader(""), &en, &stderr, noEnv)
				run(context.Background(), []string{"validate", "--today", "2026-11-23", sample, "--format", format, "--lang=pt-BR"},
					strings.NewReader(""), &pt, &stderr, noEnv)
				if en.String() != pt.String() {
					t.Errorf("--format %s depends on the language", format)
				}
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"validate", "--lang", "de", "samples/payouts.csv"}, strings.NewReader(""), &stdout, &stderr, noEnv); code != exitUsage ||
		stderr.String() != "lote: --lang \"de\": use pt-BR or en\n" {
		t.Errorf("--lang de: exit %d, stderr %q", code, stderr.String())
	}
}

// TestValidateRefusals covers what makes validate exit 2 with one line
// saying why: no stack trace, nothing else.
func TestValidateRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noAccount := write("no-account.csv", "name,document,institution_code,branch_code,amount\nAna,52998224725,341,1,10.00\n")
	pdf := write("folha.xlsx", "%PDF-1.7\n%garbage\n")
	var long, nested bytes.Buffer
	bombs.LongNameCSV(&long, 40_000)
	bombs.NestedWorkbook(&nested, 32_000_000)
	longCell := write("long.csv", long.String())
	deep := write("deep.xlsx", nested.String())
	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no file", []string{"validate"}, "validate takes one file, got 0"},
		{"two files", []string{"validate", "a.csv", "b.csv"}, "validate takes one file, got 2"},
		{"missing file", []string{"validate", filepath.Join(dir, "nope.csv")}, "nope.csv"},
		{"missing column", []string{"validate", noAccount}, "missing column account_code"},
		{"not a sheet", []string{"validate", pdf}, "folha.xlsx"},
		{"bad format", []string{"validate", noAccount, "--format", "xml"}, `--format "xml"`},
		{"bad decimal", []string{"validate", noAccount, "--decimal", "both"}, `--decimal "both"`},
		{"bad today", []string{"validate", noAccount, "--today", "23/11/2026"}, `--today "23/11/2026"`},
		// The sheet readers' limits, as the page meets them too.
		{"long cell", []string{"validate", longCell}, "row 2, cell A2: more than 32,767 characters in a cell, lote's limit\n"},
		{"nested workbook", []string{"validate", deep}, "xl/workbook.xml: more than 8 MiB decompressed, lote's limit\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), c.args, strings.NewReader(""), &stdout, &stderr, noEnv)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr %q does not say %q", stderr.String(), c.want)
			}
			if strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "panic") {
				t.Errorf("stderr has a stack trace: %s", stderr.String())
			}
		})
	}
}

// TestValidateEnvironment checks that LOTE_<FLAG> variables fill flags
// not given on the command line, and that the command line wins.
func TestValidateEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ambiguous.csv")
	body := "name,document,institution_code,branch_code,account_code,amount\nAna,52998224725,341,1,12345,1.234\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) env { return func(k string) string { return m[k] } }
	cases := []struct {
		name string
		args []string
		env  map[string]string
		exit int
		want string
	}{
		{"ambiguous without a convention", nil, nil, exitRows, "0 valid, 1 invalid"},
		{"comma from the environment", nil, map[string]string{"LOTE_DECIMAL": "comma"}, exitOK, "total R$ 1.234,00"},
		{"command line over environment", []string{"--decimal", "dot"}, map[string]string{"LOTE_DECIMAL": "comma"}, exitRows, "0 valid, 1 invalid"},
		{"bad environment value", nil, map[string]string{"LOTE_FORMAT": "xml"}, exitUsage, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"validate", path}, c.args...)
			code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, env(c.env))
			if code != c.exit {
				t.Fatalf("exit code %d, want %d; stdout %s stderr %s", code, c.exit, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), c.want) {
				t.Errorf("stdout %q does not say %q", stdout.String(), c.want)
			}
		})
	}
}

func noEnv(string) string { return "" }

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/lote -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
