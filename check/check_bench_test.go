package check

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCheckCSV checks a 100,000-row CSV like the ones `make bench`
// measures (English header, decimal point, every row valid and distinct),
// generated once per run. One op is the whole file; rows/s is reported.
func BenchmarkCheckCSV(b *testing.B) {
	const rows = 100_000
	path := filepath.Join(b.TempDir(), "payouts.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "reference,name,document,institution_code,branch_code,account_code,account_type,amount")
	banks := []string{"001", "033", "104", "237", "260", "341", "336", "077", "756", "208"}
	for i := 0; i < rows; i++ {
		cents := 1000 + (i*37)%900000
		fmt.Fprintf(w, "R%d,Payee %d,%s,%s,%d,%d%d,CC,%d.%02d\n",
			i, i, chkCPF(i*7919), banks[i%len(banks)], 1+i%9000, 10000000+i, i%10, cents/100, cents%100)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	opts := chkOptions()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		sum, _, err := Check(context.Background(), path, opts, func(c Checked) error {
			n++
			return nil
		})
		if err != nil || n != rows || sum.Valid != rows {
			b.Fatalf("%d rows delivered, %d valid, err %v", n, sum.Valid, err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
