package ledger

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// BenchmarkImport measures rows written per second by Import.Add, with the
// transaction size, prepared statement and indexes of a real import.
func BenchmarkImport(b *testing.B) {
	ctx := context.Background()
	l, _ := openTest(b, newClock())
	batch := testBatch(fmt.Sprint("bench", b.N))
	im, err := l.BeginImport(ctx, batch, "bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := im.Add(validRow(batch.ID, i+2, 100)); err != nil {
			b.Fatal(err)
		}
	}
	if err := im.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkTransition measures one Accept (attempt + row update + status
// history, one transaction, fsync at commit with synchronous=FULL).
func BenchmarkTransition(b *testing.B) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(b, c)
	batch := testBatch("transition")
	rows := make([]Row, b.N)
	nums := make([]int, b.N)
	for i := range rows {
		rows[i] = validRow(batch.ID, i+2, 100)
		nums[i] = i + 2
	}
	importRows(b, l, batch, rows)
	if err := l.MarkAttempted(ctx, batch.ID, nums, c.Now()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := l.Accept(ctx, batch.ID, i+2, Attempt{At: c.Now(), HTTPStatus: 201}, Transfer{ID: "t", Status: "CREATED"}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestImportMillion imports 1,000,000 rows and prints the time and the
// process's peak RSS. Run it with LEDGER_MILLION=1 (it takes seconds and
// hundreds of MB of disk, too much for every test run):
//
//	LEDGER_MILLION=1 go test -run TestImportMillion -v ./ledger
func TestImportMillion(t *testing.T) {
	if os.Getenv("LEDGER_MILLION") == "" {
		t.Skip("set LEDGER_MILLION=1 to import 1,000,000 rows")
	}
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := testBatch("million")
	const total = 1_000_000
	start := time.Now()
	im, err := l.BeginImport(ctx, b, "p", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for n := 2; n < 2+total; n++ {
		if err := im.Add(validRow(b.ID, n, int64(n))); err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	imported := time.Since(start)

	start = time.Now()
	got, err := l.Batch(ctx, b.ID)
	if err != nil || got.Rows != total {
		t.Fatalf("batch = %+v, %v", got, err)
	}
	n := 0
	for _, err := range l.Outstanding(ctx, b.ID) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	lookup := time.Since(start)

	start = time.Now()
	n = 0
	for _, err := range l.Rows(ctx, b.ID) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	iterated := time.Since(start)
	t.Logf("import %d rows: %.2f s (%.0f rows/s); batch + first outstanding row: %v; iterate all: %.2f s; %s",
		total, imported.Seconds(), total/imported.Seconds(), lookup, iterated.Seconds(), vmHWM())
}

// vmHWM reads the process's peak resident set size from /proc.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "peak RSS unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return "peak RSS " + strings.Join(strings.Fields(strings.TrimPrefix(line, "VmHWM:")), " ")
		}
	}
	return "peak RSS unknown"
}
