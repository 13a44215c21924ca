package sheet

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNeutralize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Ana Souza", "Ana Souza"},
		{"=1+1", "'=1+1"},
		{"+55 11", "'+55 11"},
		{"-5", "'-5"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"  =1+1", "  '=1+1"}, // a reader that trims spaces sees "=1+1"
		// After a separator inside the cell, as a reader splitting on it
		// would see a field start.
		{"Ana;=2*21;x", "Ana;'=2*21;x"},
		{"Ana,=2*21,x", "Ana,'=2*21,x"},
		{"Ana; =2*21", "Ana; '=2*21"},
		{"a\t=1", "a\t'=1"},
		{"a;\t=1", "a;'\t'=1"},
		{"=1;=2,+3", "'=1;'=2,'+3"},
		{"Ana\n=1", "Ana\n'=1"},
		{"Ana\r\n@x", "Ana\r\n'@x"},
		{"x;", "x;"},
		{"x; ", "x; "},
		// Full-width forms, which some input methods type.
		{"＝1+1", "'＝1+1"},
		{"＋1", "'＋1"},
		{"－1", "'－1"},
		{"＠x", "'＠x"},
		{"Ana;＝1", "Ana;'＝1"},
		{"Ａna", "Ａna"}, // another full-width character
		// Not formula starts: inside a field, and other characters.
		{"1+1", "1+1"},
		{"a=b", "a=b"},
		{"2026-07-01", "2026-07-01"},
		{"R$ -5,00", "R$ -5,00"},
	}
	for _, tt := range tests {
		if got := Neutralize(tt.in); got != tt.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCSVText(t *testing.T) {
	tests := []struct {
		c    Cell
		want string
	}{
		{Cell{Value: "-1234,56", Kind: Number}, "-1234,56"},
		{Cell{Value: "-0.5", Kind: Number}, "-0.5"},
		{Cell{Value: "12345678909", Kind: Number}, "12345678909"},
		{Cell{Value: "-1234,56"}, "'-1234,56"}, // text from a sheet: neutralised
		{Cell{Value: "=1+1", Kind: Number}, "'=1+1"},
		{Cell{Value: "-1,2,3", Kind: Number}, "'-1,2,3"},
		{Cell{Value: "-", Kind: Number}, "'-"},
		{Cell{Value: "2026-07-01", Kind: Date}, "2026-07-01"},
	}
	for _, tt := range tests {
		if got := CSVText(tt.c); got != tt.want {
			t.Errorf("CSVText(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
}

// injectionRows are cells that try to run a formula in a reader that
// splits lines on another separator than the file's.
func injectionRows() [][]Cell {
	return [][]Cell{
		{{Value: "Ana;=2*21;x"}, {Value: "-1050", Kind: Number}, {Value: "ok"}},
		{{Value: "Bia,=2*21,x"}, {Value: "7", Kind: Number}, {Value: "＝1+1"}},
		{{Value: "Caio\t=1"}, {Value: "0", Kind: Number}, {Value: " @x"}},
	}
}

// The bytes of results written with each separator: every field holding
// ',', ';' or a tab quoted, every formula start neutralised, the amounts
// lote writes left as numbers.
func TestWriteCSVInjectionGolden(t *testing.T) {
	tests := []struct {
		sep  rune
		want string
	}{
		{';', "\xEF\xBB\xBFnome;valor;obs\r\n" +
			"\"Ana;'=2*21;x\";\"-10,50\";ok\r\n" +
			"\"Bia,'=2*21,x\";\"0,07\";'＝1+1\r\n" +
			"\"Caio\t'=1\";\"0,00\";\" '@x\"\r\n"},
		{',', "\xEF\xBB\xBFnome,valor,obs\r\n" +
			"\"Ana;'=2*21;x\",-10.50,ok\r\n" +
			"\"Bia,'=2*21,x\",0.07,'＝1+1\r\n" +
			"\"Caio\t'=1\",0.00,\" '@x\"\r\n"},
		{'\t', "\xEF\xBB\xBFnome\tvalor\tobs\r\n" +
			"\"Ana;'=2*21;x\"\t-10.50\tok\r\n" +
			"\"Bia,'=2*21,x\"\t0.07\t'＝1+1\r\n" +
			"\"Caio\t'=1\"\t0.00\t\" '@x\"\r\n"},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "resultado.csv")
		w, err := Create(p, WriteOptions{Separator: tt.sep, MoneyColumns: []int{1}, StatusColumn: -1})
		if err != nil {
			t.Fatal(err)
		}
		w.WriteHeader([]string{"nome", "valor", "obs"})
		for _, r := range injectionRows() {
			if err := w.WriteRow(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("separator %q:\n got %q\nwant %q", tt.sep, got, tt.want)
		}
		noFormulaField(t, got)
	}
}

// noFormulaField splits a CSV file as a spreadsheet in any locale might,
// on ',', ';' or tab, honouring quotes only at a field's start, and fails
// on any field (spaces trimmed) that a spreadsheet would run, unless it is
// a plain number.
func noFormulaField(t *testing.T, file []byte) {
	t.Helper()
	file = bytes.TrimPrefix(file, utf8BOM)
	for _, sep := range []rune{',', ';', '\t'} {
		cr := csv.NewReader(bytes.NewReader(file))
		cr.Comma, cr.LazyQuotes, cr.FieldsPerRecord = sep, true, -1
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				break // a reader that gives up runs nothing
			}
			for _, f := range rec {
				g := strings.TrimLeft(f, " ")
				if formulaAt(g, 0) && !isNumber(strings.TrimRight(g, "\"")) {
					t.Errorf("split on %q, field %q would run as a formula (record %q)", sep, f, rec)
				}
			}
		}
	}
}

func FuzzCSVNoFormula(f *testing.F) {
	f.Add("Ana;=2*21;x", "＝1+1", ",")
	f.Add("x\";=1", " -2", ";")
	f.Add("a\t+1", "\"=1,\"", "\t")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, a, b, sep string) {
		seps := map[string]rune{",": ',', ";": ';', "\t": '\t'}
		s, ok := seps[sep]
		if !ok {
			s = ';'
		}
		p := filepath.Join(dir, "n.csv")
		w, err := Create(p, WriteOptions{Separator: s, StatusColumn: -1})
		if err != nil {
			t.Fatal(err)
		}
		w.WriteHeader([]string{"a", "b"})
		w.WriteRow([]Cell{{Value: a}, {Value: b}})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		noFormulaField(t, got)
	})
}
