package batch

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lote/internal/fake"
	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
	"lote/validate"

	_ "modernc.org/sqlite"
)

// paidPerPayee counts the emulator's transfers per payee account.
func (e *env) paidPerPayee() map[string]int {
	out := map[string]int{}
	for _, rec := range e.srv.Transfers() {
		out[rec.Transfer.Target.Entity.Document+"/"+rec.Transfer.Target.Account.AccountCode]++
	}
	return out
}

// checkPaidOnce fails unless every payee of ps got exactly one transfer
// (counted at the emulator) and nobody else got any.
func (e *env) checkPaidOnce(ps []payee) {
	e.t.Helper()
	got := e.paidPerPayee()
	for _, p := range ps {
		if n := got[p.doc+"/"+p.account]; n != 1 {
			e.t.Errorf("payee %s account %s: %d transfers; want 1", p.doc, p.account, n)
		}
	}
	if len(got) != len(ps) {
		e.t.Errorf("%d payees paid; want %d", len(got), len(ps))
	}
}

// stopAfterCreates returns a context that ends when the emulator has
// served n transfer creations, as a person pressing Ctrl-C mid-run.
func (e *env) stopAfterCreates(n int64) context.Context {
	ctx, stop := context.WithCancel(context.Background())
	e.t.Cleanup(stop)
	var creates atomic.Int64
	e.srv.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/external_transfers" && creates.Add(1) == n {
			stop()
		}
		return 0, false
	}})
	return ctx
}

// resaved writes the sheet of ps as a person saving it again would: the
// same rows with other line ends or another separator, so other bytes and
// another batch. No reference column: nothing but the payouts ties them.
func (e *env) resaved(name string, ps []payee, crlf bool, sep string) string {
	e.t.Helper()
	path := e.writeCSV(name, ps, false)
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), ",", sep)
	if crlf {
		s = strings.ReplaceAll(s, "\n", "\r\n")
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

func TestSameSheetSavedThreeWaysRunAtOncePaysEachPayeeOnce(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(60)
	files := []string{
		e.resaved("folha.csv", ps, false, ","),
		e.resaved("folha-crlf.csv", ps, true, ","),
		e.resaved("folha-excel.csv", ps, true, ";"),
	}
	var wg sync.WaitGroup
	reps := make([]Report, len(files))
	errs := make([]error, len(files))
	for i, f := range files {
		wg.Go(func() {
			o := e.opts()
			o.Holder = fmt.Sprintf("runner %d", i)
			reps[i], errs[i] = Run(context.Background(), f, o)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	e.checkPaidOnce(ps)
	accepted, held := 0, 0
	for _, rep := range reps {
		accepted += rep.Summary[ledger.Accepted].Rows
		held += rep.Summary[ledger.Held].Rows
	}
	if accepted != len(ps) || held != 2*len(ps) {
		t.Errorf("%d rows accepted and %d held over the three batches; want %d and %d", accepted, held, len(ps), 2*len(ps))
	}
	// A held row names the batch and row that has its payout.
	for _, rep := range reps {
		for _, r := range e.rows(rep.Batch.ID) {
			if r.State == ledger.Held && (r.ErrorCode != CodeClaimed || !strings.Contains(r.ErrorMessage, "batch ") ||
				!strings.Contains(r.ErrorMessage, fmt.Sprintf("row %d", r.Row))) {
				t.Errorf("batch %s row %d held with %s %q", ledger.ShortID(rep.Batch.ID), r.Row, r.ErrorCode, r.ErrorMessage)
			}
		}
	}
}

func TestSameSheetRunOnTwoLedgersIsPaidOnceByStone(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(40)
	first := e.resaved("folha.csv", ps, false, ",")
	second := e.resaved("folha-crlf.csv", ps, true, ";")
	other, err := ledger.Open(filepath.Join(t.TempDir(), "other-host.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var wg sync.WaitGroup
	var err1, err2 error
	wg.Go(func() { _, err1 = Run(context.Background(), first, e.opts()) })
	wg.Go(func() {
		o := e.opts()
		o.Ledger = other
		_, err2 = Run(context.Background(), second, o)
	})
	wg.Wait()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	// Neither ledger knows the other: the keys, derived from the payouts,
	// are what Stone recognises.
	e.checkPaidOnce(ps)
}

func TestKilledRunEditedRerunAndResumedPaysEachPayeeOnce(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(30)
	path := e.resaved("folha.csv", ps, false, ",")

	// The first run is stopped after 10 transfers.
	ctx := e.stopAfterCreates(10)
	o := e.opts()
	o.Concurrency = 2
	old, err := Run(ctx, path, o)
	if err != nil || !old.Interrupted {
		t.Fatalf("first run: %v, interrupted %v", err, old.Interrupted)
	}
	e.srv.SetFaults(stonetest.Faults{})
	oldRows := e.rows(old.Batch.ID)
	if oldRows[2].State != ledger.Accepted || oldRows[31].State != ledger.Pending {
		t.Fatalf("after the stop: row 2 %s, row 31 %s; want accepted and pending", oldRows[2].State, oldRows[31].State)
	}

	// The person edits two amounts in place: one already paid, one not.
	edited := append([]payee(nil), ps...)
	edited[0].cents += 500  // row 2: paid by the first run
	edited[29].cents += 700 // row 31: not sent yet
	e.resaved("folha.csv", edited, false, ",")
	rep, err := Run(context.Background(), path, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Supersedes) != 1 || rep.Supersedes[0].Old != old.Batch.ID {
		t.Fatalf("the new batch supersedes %+v; want the first batch", rep.Supersedes)
	}
	rows := e.rows(rep.Batch.ID)
	if r := rows[2]; r.State != ledger.Held || r.ErrorCode != CodeChangedAmount || !strings.Contains(r.ErrorMessage, ledger.ShortID(old.Batch.ID)+" row 2") {
		t.Errorf("edited row 2, paid before: %s %s %q; want held, naming the first batch's row 2", r.State, r.ErrorCode, r.ErrorMessage)
	}
	if r := rows[31]; r.State != ledger.Accepted {
		t.Errorf("edited row 31, never sent: %s %q; want accepted at the new amount", r.State, r.ErrorMessage)
	}

	// Then the old batch is resumed, as `lote status` suggests.
	res, err := Resume(context.Background(), old.Batch.ID, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.Superseded == nil || res.Superseded.New != rep.Batch.ID {
		t.Errorf("resume says superseded %+v; want by the new batch", res.Superseded)
	}
	if r := e.rows(old.Batch.ID)[31]; r.State != ledger.Held || r.ErrorCode != CodeSuperseded {
		t.Errorf("old row 31 after resume: %s %s; want held as superseded", r.State, r.ErrorCode)
	}
	e.checkPaidOnce(ps)
	for _, rec := range e.srv.Transfers() {
		if rec.Transfer.Target.Entity.Document == ps[29].doc && rec.Transfer.Amount != edited[29].cents {
			t.Errorf("row 31's payee got %d cents; want the edited %d", rec.Transfer.Amount, edited[29].cents)
		}
	}
}

func TestReleasedRepeatIsRecordedWithAKeyOfItsOwn(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(3)
	first, err := Run(context.Background(), e.resaved("a.csv", ps, false, ","), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	again := e.resaved("a-crlf.csv", ps, true, ",")
	rep, err := Run(context.Background(), again, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Plan.Held != 3 || rep.Plan.ToSend != 0 || len(rep.Plan.HeldRows) != 3 {
		t.Fatalf("plan %+v; want the 3 rows held and listed", rep.Plan)
	}
	o := e.opts()
	o.AllowRepeat = true
	o.ReleasedBy = "alice"
	if rep, err = Run(context.Background(), again, o); err != nil {
		t.Fatal(err)
	}
	if rep.Summary[ledger.Accepted].Rows != 3 || len(e.srv.Transfers()) != 6 {
		t.Fatalf("summary %+v, %d transfers; want 3 accepted, 6 transfers", rep.Summary, len(e.srv.Transfers()))
	}
	firstRows, rows := e.rows(first.Batch.ID), e.rows(rep.Batch.ID)
	rels, err := e.l.Releases(context.Background(), rep.Batch.ID)
	if err != nil || len(rels) != 3 {
		t.Fatalf("releases %+v, %v; want 3", rels, err)
	}
	for _, rel := range rels {
		if rel.By != "alice" || (rel.HeldCode != CodeClaimed && rel.HeldCode != CodeSuspectedRepeat) || rel.NewKey == rel.OldKey || rel.NewKey != rows[rel.Row].IdempotencyKey {
			t.Errorf("release of row %d: %+v", rel.Row, rel)
		}
		if rows[rel.Row].IdempotencyKey == firstRows[rel.Row].IdempotencyKey {
			t.Errorf("row %d was sent again with the key of the payout it repeats", rel.Row)
		}
	}
}

func TestRepeatsAreLookedForInTheSameEnvironmentOnly(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(2)
	o := e.opts()
	o.Env = "sandbox"
	if _, err := Run(context.Background(), e.writeCSV("a.csv", ps, false), o); err != nil {
		t.Fatal(err)
	}
	// The same payouts, in another file, in another environment.
	rep, err := Run(context.Background(), e.resaved("b.csv", ps, true, ";"), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Plan.Held != 0 || rep.Summary[ledger.Accepted].Rows != 2 {
		t.Errorf("plan %+v summary %+v: a sandbox batch held the same payouts in sim", rep.Plan, rep.Summary)
	}
}

func TestChangedAmountToAPayeeIsAWarningNamingTheEarlierPayment(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(3)
	first, err := Run(context.Background(), e.writeCSV("novembro.csv", ps, false), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	next := append([]payee(nil), ps[1:2]...)
	next[0].cents = 99900
	rep, err := Run(context.Background(), e.writeCSV("dezembro.csv", next, false), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Plan.WarningCount != 1 || len(rep.Plan.Warnings) != 1 ||
		!strings.Contains(rep.Plan.Warnings[0].Message, ledger.ShortID(first.Batch.ID)+" row 3") ||
		!strings.Contains(rep.Plan.Warnings[0].Message, validate.FormatBRL(ps[1].cents)) {
		t.Errorf("plan warnings %d %+v; want one naming the first batch's row 3 and its amount", rep.Plan.WarningCount, rep.Plan.Warnings)
	}
	if rep.Summary[ledger.Accepted].Rows != 1 {
		t.Errorf("summary %+v: a warning does not stop the row", rep.Summary)
	}
	if is := Issues(e.rows(rep.Batch.ID)[2]); len(is) != 1 || !is[0].Warning {
		t.Errorf("issues %+v; want one warning", is)
	}
}

func TestTransferIDStoneGaveAnotherRowLeavesTheRowForReview(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(2)
	first, err := Run(context.Background(), e.writeCSV("a.csv", ps[:1], true), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	taken := e.rows(first.Batch.ID)[2].TransferID
	// A bank (or an emulator restarted with its old seed) answering with
	// an id it gave before: a proxy rewrites the create's answer.
	target, _ := url.Parse(e.srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodPost || resp.Request.URL.Path != "/api/v1/external_transfers" {
			return nil
		}
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return err
		}
		resp.Body.Close()
		body["id"] = taken
		b, _ := json.Marshal(body)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	c, err := stone.NewClient(stone.Config{APIURL: front.URL, AuthURL: e.srv.URL, ClientID: "app-1", Key: fake.Key(), Now: e.srv.Now})
	if err != nil {
		t.Fatal(err)
	}
	o := e.opts()
	o.Client = c
	rep, err := Run(context.Background(), e.writeCSV("b.csv", ps[1:], true), o)
	if err != nil {
		t.Fatal(err)
	}
	r := e.rows(rep.Batch.ID)[2]
	if r.State != ledger.NeedsReview || r.ErrorCode != CodeTransferTaken || !strings.Contains(r.ErrorMessage, ledger.ShortID(first.Batch.ID)+" row 2") {
		t.Errorf("row 2: %s %s %q; want needs_review naming the row holding the transfer", r.State, r.ErrorCode, r.ErrorMessage)
	}
}

func TestRunnerThatLostItsLeaseSaysWhoTookTheBatchOver(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	path := e.writeCSV("a.csv", payees(6), true)
	o := e.opts()
	o.Concurrency = 1
	o.Confirm = func(ctx context.Context, p Plan) error {
		// While this runner waits, another one takes the batch over.
		if err := e.l.ReleaseLease(ctx, p.BatchID, "test"); err != nil {
			return err
		}
		_, err := e.l.AcquireLease(ctx, p.BatchID, "host-b pid 7", DefaultLeaseTTL)
		return err
	}
	_, err := Run(context.Background(), path, o)
	if !errors.Is(err, ledger.ErrLeaseLost) || !strings.Contains(err.Error(), "another runner (host-b pid 7) took the batch over") {
		t.Fatalf("run: %v; want the lease lost to host-b pid 7", err)
	}
	if len(e.srv.Transfers()) != 0 {
		t.Errorf("%d transfers sent after the lease was lost", len(e.srv.Transfers()))
	}
}

func TestResultsOfTwoBatchesFromOneFileNameDoNotOverwriteEachOther(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(2)
	path := e.writeCSV("folha.csv", ps, true)
	a, err := Run(context.Background(), path, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteResults(context.Background(), e.l, a.Batch.ID, ResultsPath(path)); err != nil {
		t.Fatal(err)
	}
	ps[1].cents++
	ps[1].ref = "NF-99"
	b, err := Run(context.Background(), e.writeCSV("folha.csv", ps[1:], true), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	err = WriteResults(context.Background(), e.l, b.Batch.ID, ResultsPath(path))
	if !errors.Is(err, ErrResultsTaken) {
		t.Fatalf("second batch's results over the first's: %v; want ErrResultsTaken", err)
	}
	if want := strings.TrimSuffix(ResultsPath(path), ".csv") + "." + ledger.ShortID(b.Batch.ID) + ".csv"; ResultsPathOf(ResultsPath(path), b.Batch.ID) != want {
		t.Errorf("ResultsPathOf = %q; want %q", ResultsPathOf(ResultsPath(path), b.Batch.ID), want)
	}
}

func TestEditedFileWhileTheOldBatchIsStillRunningHoldsTheChangedRows(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(12)
	path := e.resaved("folha.csv", ps, false, ",")
	ctx := e.stopAfterCreates(4)
	o := e.opts()
	o.Concurrency = 1
	old, err := Run(ctx, path, o)
	if err != nil || !old.Interrupted {
		t.Fatalf("first run: %v, interrupted %v", err, old.Interrupted)
	}
	e.srv.SetFaults(stonetest.Faults{})
	// Another process is running the old batch (its lease is live).
	if _, err := e.l.AcquireLease(context.Background(), old.Batch.ID, "host-x pid 1", DefaultLeaseTTL); err != nil {
		t.Fatal(err)
	}
	edited := append([]payee(nil), ps...)
	edited[0].cents += 1  // row 2: paid by the old batch
	edited[11].cents += 1 // row 13: still pending there
	e.resaved("folha.csv", edited, false, ",")
	rep, err := Run(context.Background(), path, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	rows := e.rows(rep.Batch.ID)
	for _, n := range []int{2, 13} {
		if r := rows[n]; r.State != ledger.Held || r.ErrorCode != CodeChangedAmount {
			t.Errorf("edited row %d: %s %s %q; want held: the old batch pays this payee another amount", n, r.State, r.ErrorCode, r.ErrorMessage)
		}
	}
	for payee, n := range e.paidPerPayee() {
		if n > 1 {
			t.Errorf("payee %s paid %d times", payee, n)
		}
	}
}

func TestAllowRepeatDeclinedReleasesNothing(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(3)
	if _, err := Run(context.Background(), e.resaved("a.csv", ps, false, ","), e.opts()); err != nil {
		t.Fatal(err)
	}
	again := e.resaved("a-crlf.csv", ps, true, ",")
	o := e.opts()
	o.AllowRepeat = true
	var shown Plan
	o.Confirm = func(ctx context.Context, p Plan) error { shown = p; return errors.New("no") }
	rep, err := Run(context.Background(), again, o)
	if err == nil {
		t.Fatal("a declined run reported no error")
	}
	if shown.Releasing != 3 || shown.ToSend != 3 || len(shown.HeldRows) != 3 {
		t.Errorf("the plan shown: %+v; want the 3 held rows counted as released and listed", shown)
	}
	if rep.Summary[ledger.Held].Rows != 3 {
		t.Errorf("after a no: %+v; want the 3 rows still held", rep.Summary)
	}
	// The next plain run pays nothing more.
	if _, err := Run(context.Background(), again, e.opts()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Transfers()); n != 3 {
		t.Errorf("%d transfers; want the first 3 only", n)
	}
}

func TestEditedFileStoppedForInvalidRowsSupersedesNothing(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(12)
	path := e.writeCSV("folha.csv", ps, true)
	o := e.opts()
	o.Concurrency = 1
	old, err := Run(e.stopAfterCreates(4), path, o)
	if err != nil || !old.Interrupted {
		t.Fatalf("first run: %v, interrupted %v", err, old.Interrupted)
	}
	e.srv.SetFaults(stonetest.Faults{})
	// The references stay: every row of the edited file reuses one.
	ps[10].cents++
	e.writeCSV("folha.csv", ps, true)
	if _, err := Run(context.Background(), path, e.opts()); !errors.Is(err, ErrInvalidRows) {
		t.Fatalf("edited run: %v; want it stopped for invalid rows", err)
	}
	if _, err := Resume(context.Background(), old.Batch.ID, e.opts()); err != nil {
		t.Fatal(err)
	}
	e.checkPaidOnce(payees(12))
}

func TestAnEditedFileDeclinedThenResumedStillSupersedes(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(10)
	path := e.resaved("folha.csv", ps, false, ",")
	o := e.opts()
	o.Concurrency = 1
	old, err := Run(e.stopAfterCreates(3), path, o)
	if err != nil || !old.Interrupted {
		t.Fatalf("first run: %v", err)
	}
	e.srv.SetFaults(stonetest.Faults{})
	edited := append([]payee(nil), ps...)
	edited[0].cents++ // paid by the first run
	edited[9].cents++ // not yet
	e.resaved("folha.csv", edited, false, ",")
	no := e.opts()
	no.Confirm = func(context.Context, Plan) error { return errors.New("not now") }
	nb, err := Run(context.Background(), path, no)
	if err == nil {
		t.Fatal("declined run reported no error")
	}
	if r := e.rows(old.Batch.ID)[11]; r.State != ledger.Pending {
		t.Errorf("a declined run changed the old batch: row 11 %s", r.State)
	}
	// Confirmed later, by resuming the new batch.
	rep, err := Resume(context.Background(), nb.Batch.ID, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Supersedes) != 1 {
		t.Errorf("resuming the new batch superseded %+v; want the old one", rep.Supersedes)
	}
	if r := e.rows(nb.Batch.ID)[2]; r.State != ledger.Held || r.ErrorCode != CodeChangedAmount {
		t.Errorf("edited row 2, paid before: %s %s; want held", r.State, r.ErrorCode)
	}
	if _, err := Resume(context.Background(), old.Batch.ID, e.opts()); err != nil {
		t.Fatal(err)
	}
	e.checkPaidOnce(ps)
}

func TestNextMonthsFileAtTheSamePathSupersedesNothing(t *testing.T) {
	// The ledger stamps batches with the real clock; the run's clock
	// moves on a month from there.
	c := fake.NewClock(time.Now())
	e := newEnv(t, stonetest.Options{})
	ps := payees(6)
	path := e.resaved("folha.csv", ps, false, ",")
	o := e.opts()
	o.Now, o.Concurrency = c.Now, 1
	if _, err := Run(e.stopAfterCreates(2), path, o); err != nil {
		t.Fatal(err)
	}
	e.srv.SetFaults(stonetest.Faults{})
	c.Advance(40 * 24 * time.Hour)
	next := append([]payee(nil), ps...)
	next[0].cents += 100
	e.resaved("folha.csv", next, false, ",")
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Supersedes) != 0 {
		t.Errorf("next month's sheet supersedes %+v; want nothing", rep.Supersedes)
	}
	// Only a payout whose first row is still in flight (its outcome
	// unknown, whatever its age) is held; the paid ones are paid again.
	for _, r := range e.rows(rep.Batch.ID) {
		if r.State == ledger.Held && (r.ErrorCode != CodeClaimed || !strings.Contains(r.ErrorMessage, "is being sent by")) {
			t.Errorf("row %d held: %s %q", r.Row, r.ErrorCode, r.ErrorMessage)
		}
	}
	if rep.Summary[ledger.Accepted].Rows < 4 {
		t.Errorf("summary %+v; want last month's paid payouts paid again", rep.Summary)
	}
}

func TestABatchFromBeforeFingerprintsResumedAfterACopyWasPaidPaysNobodyTwice(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(20)
	o := e.opts()
	o.Concurrency = 1
	old, err := Run(e.stopAfterCreates(5), e.resaved("folha.csv", ps, false, ","), o)
	if err != nil || !old.Interrupted {
		t.Fatalf("first run: %v", err)
	}
	e.srv.SetFaults(stonetest.Faults{})
	// As a lote from before fingerprints left it.
	db, err := sql.Open("sqlite", filepath.Join(e.dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE rows SET fingerprint = NULL, idempotency_key = 'old-' || id WHERE state = 'pending'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Run(context.Background(), e.resaved("folha-copia.csv", ps, true, ";"), e.opts()); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(context.Background(), old.Batch.ID, e.opts()); err != nil {
		t.Fatal(err)
	}
	e.checkPaidOnce(ps)
}
