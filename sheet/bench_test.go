package sheet

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"lote/internal/bombs"
)

// benchCSV writes a payout-like CSV of n rows (8 columns, ';') once per run.
func benchCSV(b *testing.B, n int) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "bench.csv")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "nome;documento;banco;agencia;conta;tipo_conta;valor;referencia")
	for i := range n {
		fmt.Fprintf(w, "Favorecido %d da Silva;%011d;341;%04d;%07d-%d;CC;%d,%02d;ref-%d\n", i, i*7919, i%10000, i, i%10, i%100000, i%100, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return p
}

// BenchmarkReadCSV and BenchmarkBareCSV read the same 1,000,000-row file;
// their ratio is what sniffing, row numbering and cell conversion cost.
func BenchmarkReadCSV(b *testing.B) {
	p := benchCSV(b, 1_000_000)
	b.ResetTimer()
	for b.Loop() {
		r, err := Open(p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil || row.Err != nil {
				b.Fatal(err, row.Err)
			}
			n++
		}
		r.Close()
		if n != 1_000_000 {
			b.Fatalf("%d rows", n)
		}
	}
}

func BenchmarkBareCSV(b *testing.B) {
	p := benchCSV(b, 1_000_000)
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		cr := csv.NewReader(f)
		cr.Comma = ';'
		cr.ReuseRecord = true
		n := 0
		for {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		f.Close()
		if n != 1_000_001 {
			b.Fatalf("%d records", n)
		}
	}
}

func BenchmarkReadXLSX(b *testing.B) {
	const n = 100_000
	p := filepath.Join(b.TempDir(), "bench.xlsx")
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	sw.SetRow("A1", []any{"nome", "documento", "banco", "agencia", "conta", "tipo_conta", "valor", "referencia"})
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{fmt.Sprintf("Favorecido %d", i), i * 7919, "341", fmt.Sprintf("%04d", i%10000), i, "CC", float64(i%100000) + 0.5, fmt.Sprintf("ref-%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.SaveAs(p); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := Open(p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil || row.Err != nil {
				b.Fatal(err, row.Err)
			}
			rows++
		}
		r.Close()
		if rows != n {
			b.Fatalf("%d rows", rows)
		}
	}
}

// BenchmarkCSVGuard is the cost of the limits on a large CSV: the guard's
// pass over the 1,000,000-row file's bytes, which BenchmarkReadCSV
// includes.
func BenchmarkCSVGuard(b *testing.B) {
	data, err := os.ReadFile(benchCSV(b, 1_000_000))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		g := newCSVGuard(nil, ';', DefaultLimits)
		for i := 0; i < len(data); i += 4096 {
			g.scan(data[i:min(i+4096, len(data))])
		}
		if g.err != nil {
			b.Fatal(g.err)
		}
	}
}

// BenchmarkBombs reads the hostile sheets of issue 13 up to their refusal
// (or, for the wide ones, to their end): each should take a few ms and a
// few MB; bench/bombbench measures the whole of lote validate on them.
func BenchmarkBombs(b *testing.B) {
	for _, bb := range []struct {
		name string
		make func(io.Writer) error
	}{
		{"nested.xlsx", func(w io.Writer) error { return bombs.NestedWorkbook(w, 32_000_000) }},
		{"strings.xlsx", func(w io.Writer) error { return bombs.SharedStrings(w, 53_000_000) }},
		{"strings-1m.xlsx", func(w io.Writer) error { return bombs.SharedStrings(w, 1<<20+1) }},
		{"wide.xlsx", func(w io.Writer) error { return bombs.WideRows(w, 5000, "XFD") }},
		{"wide.csv", func(w io.Writer) error { return bombs.WideCSV(w, 40, 1_000_000) }},
		{"name.csv", func(w io.Writer) error { return bombs.LongNameCSV(w, 45<<20) }},
	} {
		b.Run(bb.name, func(b *testing.B) {
			p := bomb(b, bb.name, bb.make)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				readUntilError(p, Options{})
			}
		})
	}
}
