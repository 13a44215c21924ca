package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestInterruptedImport stops an import after two of its transactions were
// committed, as a killed process would, and imports the file again: every
// row is there exactly once, and nothing of the half import could be sent.
func TestInterruptedImport(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := testBatch("interrupted")
	const total = 3000

	im, err := l.BeginImport(ctx, b, "proc 1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for n := 2; n < 2+2500; n++ {
		if err := im.Add(validRow(b.ID, n, int64(n))); err != nil {
			t.Fatal(err)
		}
	}
	im.Close() // killed: 2000 rows committed, 500 rolled back, no Commit

	got, err := l.Batch(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != BatchImporting || got.Rows != 0 {
		t.Fatalf("interrupted batch = %s with %d rows, want importing with 0", got.State, got.Rows)
	}
	if err := l.MarkAttempted(ctx, b.ID, []int{2}, c.Now()); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("mark attempted in importing batch: err = %v, want ErrIllegalTransition", err)
	}
	if err := l.SetBatchState(ctx, b.ID, BatchRunning); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("run importing batch: err = %v, want ErrIllegalTransition", err)
	}
	// Another process cannot restart it while the first one's lease lives…
	var held *LeaseHeldError
	if _, err := l.BeginImport(ctx, b, "proc 2", time.Minute); !errors.As(err, &held) || held.Holder != "proc 1" {
		t.Fatalf("restart under live lease: err = %v, want LeaseHeldError", err)
	}
	// …but can once it expires, and the import starts over.
	c.Advance(2 * time.Minute)
	im, err = l.BeginImport(ctx, b, "proc 2", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for n := 2; n < 2+total; n++ {
		if err := im.Add(validRow(b.ID, n, int64(n))); err != nil {
			t.Fatal(err)
		}
		want += int64(n)
	}
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ = l.Batch(ctx, b.ID); got.State != BatchImported || got.Rows != total || got.Valid != total || got.TotalCents != want {
		t.Fatalf("batch = %+v", got)
	}
	seq := 0
	for r, err := range l.Rows(ctx, b.ID) {
		if err != nil {
			t.Fatal(err)
		}
		seq++
		if r.Seq != seq || r.Row != seq+1 || r.AmountCents != int64(seq+1) {
			t.Fatalf("row %d: seq %d amount %d, want seq %d", r.Row, r.Seq, r.AmountCents, seq)
		}
	}
	if seq != total {
		t.Errorf("%d rows, want %d", seq, total)
	}
	if _, err := l.BeginImport(ctx, b, "proc 2", time.Minute); !errors.Is(err, ErrAlreadyImported) {
		t.Errorf("import again: err = %v, want ErrAlreadyImported", err)
	}
	if err := im.Add(validRow(b.ID, 9999, 1)); err == nil {
		t.Error("Add after Commit succeeded")
	}
}

// TestImportKeyConflict: Add refuses the very row whose key another row
// owns (in its group, an earlier group, or another batch), naming the
// owner, and the import goes on.
func TestImportKeyConflict(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	first := testBatch("first")
	importRows(t, l, first, []Row{validRow(first.ID, 2, 100)})

	b := testBatch("second")
	im, err := l.BeginImport(ctx, b, "p", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	reuse := map[int]Row{
		12:  validRow(b.ID, 5, 0), // same group
		72:  validRow(b.ID, 2, 0), // an earlier group, already written
		142: validRow(first.ID, 2, 0),
	}
	owner := map[int]KeyConflictError{
		12:  {OtherBatch: b.ID, OtherRow: 5},
		72:  {OtherBatch: b.ID, OtherRow: 2},
		142: {OtherBatch: first.ID, OtherRow: 2},
	}
	for n := 2; n < 2+3*insertGroup; n++ { // whole groups and a partial one
		r := validRow(b.ID, n, 100)
		if o, ok := reuse[n]; ok {
			r.IdempotencyKey = o.IdempotencyKey
			err := im.Add(r)
			want := owner[n]
			want.Row, want.Key = n, r.IdempotencyKey
			var kc *KeyConflictError
			if !errors.As(err, &kc) || *kc != want {
				t.Fatalf("row %d: err = %v, want %+v", n, err, want)
			}
			// The caller records the row as invalid, saying why.
			r = Row{Row: n, Cells: r.Cells, State: Invalid, ErrorCode: "reference_reused", ErrorMessage: kc.Error()}
		}
		if err := im.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	got, _ := l.Batch(ctx, b.ID)
	if got.Rows != 150 || got.Valid != 147 || got.Invalid != 3 || got.TotalCents != 14700 {
		t.Errorf("batch = %+v", got)
	}
	if r := mustRow(t, l, b.ID, 72); r.State != Invalid || r.Seq != 71 || r.IdempotencyKey != "" {
		t.Errorf("row 72 = %s seq %d key %q", r.State, r.Seq, r.IdempotencyKey)
	}
}

func TestImportRowTwice(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	b := testBatch("twice")
	im, err := l.BeginImport(ctx, b, "p", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	for _, r := range []Row{validRow(b.ID, 2, 1), {Row: 2, Cells: []string{"again"}, State: Invalid}} {
		if err := im.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Commit(); err == nil || !strings.Contains(err.Error(), "row 2: row added twice") {
		t.Errorf("commit: err = %v, want row added twice", err)
	}
	if got, _ := l.Batch(ctx, b.ID); got.State != BatchImporting {
		t.Errorf("batch after failed import: %s, want importing", got.State)
	}
}

func TestImportRefusesIncompleteRows(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	b := testBatch("incomplete")
	im, err := l.BeginImport(ctx, b, "p", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	noKey := validRow(b.ID, 2, 100)
	noKey.IdempotencyKey = ""
	zero := validRow(b.ID, 3, 0)
	badJSON := validRow(b.ID, 4, 1)
	badJSON.Payout = []byte("{")
	attempted := validRow(b.ID, 5, 1)
	attempted.State = Attempted
	header := validRow(b.ID, 0, 1)
	for name, r := range map[string]Row{"no key": noKey, "zero amount": zero, "bad payout": badJSON, "attempted": attempted, "row 0": header} {
		if err := im.Add(r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestImportNotes records the header row asked for and the check's notes
// with the batch, and reads back options written before either existed.
func TestImportNotes(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	b := testBatch("notes")
	b.ImportOptions = ImportOptions{Decimal: "comma", Sheet: "Pagamentos", HeaderRow: 4}
	im, err := l.BeginImport(ctx, b, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Add(validRow(b.ID, 5, 100)); err != nil {
		t.Fatal(err)
	}
	notes := []string{`read worksheet "Pagamentos"`, "row 9 is a totals row (R$ 1,00): skipped, not a payee"}
	im.SetNotes(notes)
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := l.Batch(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := ImportOptions{Decimal: "comma", Sheet: "Pagamentos", HeaderRow: 4, Notes: notes}
	if got.ImportOptions.Decimal != want.Decimal || got.ImportOptions.Sheet != want.Sheet || got.ImportOptions.HeaderRow != 4 ||
		strings.Join(got.ImportOptions.Notes, "|") != strings.Join(notes, "|") {
		t.Errorf("options = %+v, want %+v", got.ImportOptions, want)
	}
	// Options as an earlier lote wrote them still read.
	if _, err := l.w.ExecContext(ctx, `UPDATE batches SET options = '{"decimal":"point","separator":";"}' WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	if got, err = l.Batch(ctx, b.ID); err != nil || got.ImportOptions.Decimal != "point" || got.ImportOptions.HeaderRow != 0 || got.ImportOptions.Notes != nil {
		t.Errorf("old options = %+v, %v", got.ImportOptions, err)
	}
}
