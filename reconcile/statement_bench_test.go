package reconcile

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lote/batch"
	"lote/check"
	"lote/internal/fake"
	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
	"lote/validate"
)

// BenchmarkStatementCheck is what --statement adds to a reconciliation of
// a settled batch of 2,000 paid rows: nothing is polled (the refund window
// is over), so "off" is the report's ledger pass and "on" adds the
// statement's read (20 pages) and the second ledger pass.
func BenchmarkStatementCheck(b *testing.B) {
	const rows = 2000
	var requests, statementPages atomic.Int64
	srv := stonetest.NewServer(stonetest.Options{Now: func() time.Time { return emuStart }, Faults: stonetest.Faults{
		OnRequest: func(r *http.Request) (int, bool) {
			requests.Add(1)
			if strings.HasSuffix(r.URL.Path, "/statement") {
				statementPages.Add(1)
			}
			return 0, false
		}}})
	defer srv.Close()
	srv.AddClient("app-1", &fake.Key().PublicKey)
	srv.AddAccount(testAccount, 1_000_000_000)
	c, err := stone.NewClient(stone.Config{APIURL: srv.URL, AuthURL: srv.URL, ClientID: "app-1", Key: fake.Key(), Now: srv.Now})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	l, err := ledger.Open(filepath.Join(dir, "ledger.db"), ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var sheet strings.Builder
	sheet.WriteString("reference,name,document,institution_code,branch_code,account_code,account_type,amount_cents\n")
	for i := range rows {
		fmt.Fprintf(&sheet, "NF-%d,Pessoa %d,%s,341,1234,%d,CC,%d\n", i, i, fake.CPF(100000000+i*7919%800000000), 10000+i, 1000+i)
	}
	in := filepath.Join(dir, "folha.csv")
	if err := os.WriteFile(in, []byte(sheet.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	run, err := batch.Run(ctx, in, batch.RunOptions{Ledger: l, Client: c, AccountID: testAccount, Env: "sim",
		Check: check.CheckOptions{Validate: validate.Options{Today: emuStart}}, Rate: 100000, Concurrency: 8,
		Holder: "bench", Sleep: fake.NoSleep})
	if err != nil || run.Summary[ledger.Accepted].Rows != rows {
		b.Fatalf("run: %v %+v", err, run.Summary)
	}
	srv.Advance(stonetest.DefaultFinishDelay)
	opts := Options{Ledger: l, Client: c, AccountID: testAccount, Env: "sim", Batches: []string{run.Batch.ID},
		Rate: 100000, Now: srv.Now, Sleep: fake.NoSleep}
	if _, err := Run(ctx, opts); err != nil { // records FINISHED
		b.Fatal(err)
	}
	opts.RefundWindow = time.Nanosecond
	srv.Advance(time.Minute) // past the refund window: nothing to poll
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) {
			o := opts
			o.Statement = on
			requests.Store(0)
			statementPages.Store(0)
			for b.Loop() {
				rep, err := Run(ctx, o)
				if err != nil {
					b.Fatal(err)
				}
				if on && rep.Batches[0].Statement.OK != rows {
					b.Fatalf("statement %+v", rep.Batches[0].Statement)
				}
			}
			b.ReportMetric(float64(requests.Load())/float64(b.N), "requests/op")
			b.ReportMetric(float64(statementPages.Load())/float64(b.N), "pages/op")
		})
	}
}
