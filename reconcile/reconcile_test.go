package reconcile

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"lote/batch"
	"lote/internal/fake"
	"lote/internal/i18n"
	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
)

// The flag has its own name so that it cannot clash with another golden
// flag of the package.
var updateRecon = flag.Bool("update-recon", false, "rewrite the reconciliation golden files in testdata")

// Accounts of the reconciliation scenario's payees.
const (
	paidAccount     = "10001"
	returnedAccount = "77777" // refunded by the emulator with code 3
)

// reconPayees are three rows: row 2 is paid, row 3 is more than the paying
// account holds (FAILED, insufficient balance), row 4 is refunded an hour
// after it finished (wrong target document).
func reconPayees() []payee {
	ps := payees(3)
	ps[0].account = paidAccount
	ps[1].account, ps[1].cents = "20002", 2_000_000_000 // R$ 20 million: more than acc-1 holds
	ps[2].account = returnedAccount
	return ps
}

// runRecon runs the scenario's sheet, one request at a time so transfer
// ids come in row order, and returns the batch id.
func runRecon(t *testing.T, e *env) string {
	t.Helper()
	o := e.opts()
	o.Concurrency = 1
	rep, err := batch.Run(context.Background(), e.writeCSV("folha.csv", reconPayees(), true), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary[ledger.Accepted].Rows != 3 {
		t.Fatalf("run: %+v", rep.Summary)
	}
	return rep.Batch.ID
}

// newReconEnv is an emulator whose transfer ids the report's golden file
// can name.
func newReconEnv(t *testing.T, faults stonetest.Faults) *env {
	return newEnv(t, stonetest.Options{Seed: 11, DeterministicIDs: true, Faults: faults,
		RefundRule: stonetest.RefundByAccount(map[string]string{returnedAccount: "3"})})
}

func (e *env) reconOpts(batch string) Options {
	return Options{Ledger: e.l, Client: e.c, AccountID: testAccount, Env: "sim", Batches: []string{batch[:10]},
		Rate: 10000, Now: e.srv.Now, Sleep: fake.NoSleep}
}

// statusOf is the api_status of rows by Excel row number.
type statusOf map[int]string

func statuses(t *testing.T, e *env, batch string) statusOf {
	t.Helper()
	out := statusOf{}
	for n, r := range e.rows(batch) {
		out[n] = r.APIStatus
	}
	return out
}

func TestReconcileFinishFailRefund(t *testing.T) {
	ctx := context.Background()
	e := newReconEnv(t, stonetest.Faults{})
	id := runRecon(t, e)

	// Before the emulator's clock moves, rows 2 and 4 are in flight.
	rep, err := Run(ctx, e.reconOpts(id))
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, e, id); !maps3(got, stone.StatusApproved, stone.StatusFailed, stone.StatusApproved) {
		t.Fatalf("statuses before finishing: %v", got)
	}
	if rep.Status() != Attention { // row 3 failed at once
		t.Errorf("status = %s, want attention", rep.Status())
	}

	e.srv.Advance(stonetest.DefaultFinishDelay)
	rep, err = Run(ctx, e.reconOpts(id))
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, e, id); !maps3(got, stone.StatusFinished, stone.StatusFailed, stone.StatusFinished) {
		t.Fatalf("statuses after finishing: %v", got)
	}
	b := rep.Batches[0]
	if b.PaidCents != 1000+1002 || b.FeeCents != 2*stonetest.DefaultFee || b.ReturnedCents != 0 || b.NeedsPerson != 1 {
		t.Errorf("paid %d fees %d returned %d people %d; want 2002, 800, 0, 1", b.PaidCents, b.FeeCents, b.ReturnedCents, b.NeedsPerson)
	}
	if rep.Polled != 2 { // row 3 is final and not asked about again
		t.Errorf("polled %d transfers, want 2", rep.Polled)
	}

	// The refund comes an hour after finishing: the next reconcile sees it.
	e.srv.Advance(stonetest.DefaultRefundDelay)
	rep, err = Run(ctx, e.reconOpts(id))
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, e, id); !maps3(got, stone.StatusFinished, stone.StatusFailed, stone.StatusRefunded) {
		t.Fatalf("statuses after the refund: %v", got)
	}
	b = rep.Batches[0]
	if b.PaidCents != 1000 || b.FeeCents != stonetest.DefaultFee || b.ReturnedCents != 1002 || b.NeedsPerson != 2 {
		t.Errorf("paid %d fees %d returned %d people %d; want 1000, 400, 1002, 2", b.PaidCents, b.FeeCents, b.ReturnedCents, b.NeedsPerson)
	}
	for _, c := range b.Checks {
		if !c.OK {
			t.Errorf("check %s failed: %s", c.Name, c.Detail)
		}
	}
	if rep.Status() != Attention || len(rep.Mismatches()) != 0 {
		t.Errorf("status %s, mismatches %v", rep.Status(), rep.Mismatches())
	}
	hist, err := e.l.StatusHistory(ctx, id, 4)
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for _, h := range hist {
		seq = append(seq, h.Status+"/"+h.Source)
	}
	if want := []string{"APPROVED/create", "FINISHED/poll", "REFUNDED/poll"}; !slices.Equal(seq, want) {
		t.Errorf("history of row 4 = %v, want %v", seq, want)
	}
	if want := emuStart.Add(stonetest.DefaultFinishDelay + stonetest.DefaultRefundDelay); !hist[2].At.Equal(want) {
		t.Errorf("refund recorded at %s, want Stone's refunded_at %s", hist[2].At, want)
	}

	// The report, as finance reads it: CSV bytes against a golden file, and
	// the same lines in XLSX with the summary on top.
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "recon.csv")
	if err := WriteReport(ctx, e.l, rep, csvPath); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, csvPath, "recon.csv.golden", id)
	checkGolden(t, SummaryPath(csvPath), "recon.summary.csv.golden", id)
	// And in Portuguese: the header, lote's states, the codes' meanings,
	// why a person is needed and the Summary.
	ptPath := filepath.Join(dir, "recon.pt-BR.csv")
	if err := WriteReportIn(ctx, e.l, rep, ptPath, i18n.New(i18n.Portuguese)); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, ptPath, "recon.pt-BR.csv.golden", id)
	checkGolden(t, SummaryPath(ptPath), "recon.pt-BR.summary.csv.golden", id)

	xlsxPath := filepath.Join(dir, "recon.xlsx")
	if err := WriteReport(ctx, e.l, rep, xlsxPath); err != nil {
		t.Fatal(err)
	}
	rows, summary := readXLSX(t, xlsxPath)
	if len(rows) != 4 {
		t.Fatalf("xlsx has %d rows, want header + 3", len(rows))
	}
	want := [][]string{
		{"2", "FINISHED", "", "", "", "10", "4", ""},
		{"3", "FAILED", "1", "", "insufficient balance", "20000000", "0", "the transfer failed: the payee was not paid"},
		{"4", "REFUNDED", "", "3", "wrong target document", "10.02", "0", "returned by the receiving bank: the payee was not paid"},
	}
	for i, w := range want {
		r := rows[i+1]
		got := []string{r[1], r[13], r[16], r[17], r[18], r[11], r[19], r[25]}
		// Beside what Stone holds (ISPB 60701190), the bank as typed.
		if r[5] != "60701190" || r[8] != "341" || r[9] != "1234" || r[10] != r[7] {
			t.Errorf("xlsx line %d: institution %q, as typed %q %q %q (account %q)", i+2, r[5], r[8], r[9], r[10], r[7])
		}
		if !slices.Equal(got, w) {
			t.Errorf("xlsx line %d = %q, want %q", i+2, got, w)
		}
	}
	if summary[0][0] != "reconciliation" || summary[0][1] != "ATTENTION" || !strings.Contains(summary[0][2], "2 rows need a person") {
		t.Errorf("summary starts %q", summary[0])
	}
}

// maps3 says whether rows 2, 3 and 4 have the statuses given.
func maps3(got statusOf, s2, s3, s4 string) bool {
	return got[2] == s2 && got[3] == s3 && got[4] == s4
}

// checkGolden compares a written file with testdata/golden, the batch id
// replaced by BATCH (it is the hash of a file written by the test).
func checkGolden(t *testing.T, path, golden, batchID string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got = bytes.ReplaceAll(got, []byte(ledger.ShortID(batchID)), []byte("BATCH"))
	gp := filepath.Join("testdata", golden)
	if *updateRecon {
		if err := os.WriteFile(gp, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(gp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n got %q\nwant %q", path, gp, got, want)
	}
}

// readXLSX returns the report's sheet and its Summary sheet.
func readXLSX(t *testing.T, path string) (rows, summary [][]string) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) < 2 {
		t.Fatalf("sheets %v, want the report and Summary", sheets)
	}
	if rows, err = f.GetRows(sheets[0], excelize.Options{RawCellValue: true}); err != nil {
		t.Fatal(err)
	}
	if summary, err = f.GetRows("Summary"); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		for len(rows[i]) < len(reconHeader()) {
			rows[i] = append(rows[i], "")
		}
	}
	return rows, summary
}

func TestReconcileVerdicts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, stonetest.Options{Seed: 3})
	o := e.opts()
	rep, err := batch.Run(ctx, e.writeCSV("ok.csv", payees(2), true), o)
	if err != nil {
		t.Fatal(err)
	}
	id := rep.Batch.ID
	tests := []struct {
		advance time.Duration
		want    Status
	}{
		{0, Pending},                               // APPROVED: in flight
		{stonetest.DefaultFinishDelay, Settled},    // FINISHED: paid, watched for refunds
		{DefaultRefundWindow + time.Hour, Settled}, // out of the window: final
	}
	for _, tt := range tests {
		e.srv.Advance(tt.advance)
		got, err := Run(ctx, e.reconOpts(id))
		if err != nil {
			t.Fatal(err)
		}
		if got.Status() != tt.want {
			t.Errorf("after %s: status %s, want %s (%+v)", tt.advance, got.Status(), tt.want, got.Batches[0].ByStatus)
		}
	}
	// Once every FINISHED row left the refund window nothing is polled.
	before := e.srv.RequestCount()
	got, err := Run(ctx, e.reconOpts(id))
	if err != nil || got.Polled != 0 || e.srv.RequestCount() != before {
		t.Errorf("final batch: polled %d, %d requests, %v", got.Polled, e.srv.RequestCount()-before, err)
	}
}

func TestReconcileWatchPollsUntilFinal(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, stonetest.Options{Seed: 5})
	rep, err := batch.Run(ctx, e.writeCSV("w.csv", payees(3), true), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	o := e.reconOpts(rep.Batch.ID)
	o.Watch = true
	var slept []time.Duration
	// Sleeping moves the emulator's clock: the transfers finish while
	// reconcile waits between rounds.
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		if d >= time.Second { // not the rate limiter's pacing
			slept = append(slept, d)
		}
		e.srv.Advance(d)
		return ctx.Err()
	}
	got, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status() != Settled || got.Rounds != 3 || got.TimedOut {
		t.Errorf("status %s after %d rounds (timed out %v), want settled after 3", got.Status(), got.Rounds, got.TimedOut)
	}
	if !slices.Equal(slept, []time.Duration{30 * time.Second, time.Minute}) {
		t.Errorf("slept %v, want 30s then 1m", slept)
	}

	// With a watch shorter than the first wait, it gives up at once.
	e2 := newEnv(t, stonetest.Options{Seed: 6})
	rep, err = batch.Run(ctx, e2.writeCSV("w.csv", payees(1), true), e2.opts())
	if err != nil {
		t.Fatal(err)
	}
	o = e2.reconOpts(rep.Batch.ID)
	o.Watch, o.WatchTimeout = true, 10*time.Second
	got, err = Run(ctx, o)
	if err != nil || !got.TimedOut || got.Status() != Pending {
		t.Errorf("short watch: timed out %v, status %s, %v", got.TimedOut, got.Status(), err)
	}
}

func TestReconcileCatchesAmountMismatch(t *testing.T) {
	ctx := context.Background()
	e := newReconEnv(t, stonetest.Faults{})
	id := runRecon(t, e)
	e.srv.Advance(stonetest.DefaultFinishDelay)
	row2 := e.rows(id)[2]
	if !e.srv.Mutate(row2.TransferID, func(tr *stone.Transfer) { tr.Amount += 1 }) {
		t.Fatal("transfer of row 2 not in the emulator")
	}
	rep, err := Run(ctx, e.reconOpts(id))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mismatch{{Batch: id, Row: 2, TransferID: row2.TransferID, Detail: "amount: ledger R$ 10,00, Stone R$ 10,01"}}
	if got := rep.Mismatches(); !slices.Equal(got, want) {
		t.Errorf("mismatches = %+v, want %+v", got, want)
	}
	if rep.Status() != Attention {
		t.Errorf("status %s, want attention", rep.Status())
	}
	path := filepath.Join(t.TempDir(), "m.xlsx")
	if err := WriteReport(ctx, e.l, rep, path); err != nil {
		t.Fatal(err)
	}
	_, summary := readXLSX(t, path)
	if len(summary) < 2 || summary[0][1] != "ATTENTION" || !strings.Contains(summary[0][2], "1 transfers differ from Stone") ||
		!slices.Equal(summary[1], []string{"MISMATCH", ledger.ShortID(id), "row 2", row2.TransferID, want[0].Detail}) {
		t.Errorf("summary starts %q", summary[:min(2, len(summary))])
	}
}

func TestReconcileTransferUnknownToStone(t *testing.T) {
	ctx := context.Background()
	e := newReconEnv(t, stonetest.Faults{})
	id := runRecon(t, e)
	row2 := e.rows(id)[2]
	e.srv.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		if strings.HasSuffix(r.URL.Path, "/"+row2.TransferID) {
			return http.StatusNotFound, true
		}
		return 0, false
	}})
	rep, err := Run(ctx, e.reconOpts(id))
	if err != nil {
		t.Fatal(err)
	}
	ms := rep.Mismatches()
	if len(ms) != 1 || ms[0].Row != 2 || !strings.Contains(ms[0].Detail, "Stone does not know transfer "+row2.TransferID) {
		t.Errorf("mismatches = %+v", ms)
	}
}

func TestReconcileRetriesAndRefusals(t *testing.T) {
	ctx := context.Background()
	e := newReconEnv(t, stonetest.Faults{})
	id := runRecon(t, e)
	// Every answer is a 503: nothing is read, nothing recorded, and the
	// rows are counted as unchecked, not failed.
	e.srv.SetFaults(stonetest.Faults{FailRate: 1})
	o := e.reconOpts(id)
	o.MaxAttempts = 3
	rep, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unchecked != 3 || rep.Polled != 0 || rep.Status() != Pending {
		t.Errorf("unchecked %d polled %d status %s, want 3, 0, pending", rep.Unchecked, rep.Polled, rep.Status())
	}
	// A batch of another account is refused by name.
	o = e.reconOpts(id)
	o.AccountID = "acc-2"
	if _, err := Run(ctx, o); !errors.Is(err, ledger.ErrBatchMismatch) {
		t.Errorf("other account: %v, want ledger.ErrBatchMismatch", err)
	}
	// …and skipped with All.
	o.Batches, o.All = nil, true
	if rep, err := Run(ctx, o); err != nil || len(rep.Batches) != 0 || len(rep.Skipped) != 1 {
		t.Errorf("all of another account: %d batches, %d skipped, %v", len(rep.Batches), len(rep.Skipped), err)
	}
}
