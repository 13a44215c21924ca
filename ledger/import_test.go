package ledger

import (
	"context"
	"errors"
	"fmt"
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

// TestImportKeyConflict: a row whose key another row owns is stored as
// invalid, saying which row owns the key; it is neither dropped nor sendable.
func TestImportKeyConflict(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	first := testBatch("first")
	importRows(t, l, first, []Row{validRow(first.ID, 2, 100)})

	b := testBatch("second")
	var rows []Row
	for n := 2; n < 2+3*insertGroup; n++ { // whole groups and a partial one
		rows = append(rows, validRow(b.ID, n, 100))
	}
	rows[10].IdempotencyKey = rows[3].IdempotencyKey                   // row 12 reuses row 5's key, same group
	rows[70].IdempotencyKey = rows[0].IdempotencyKey                   // row 72 reuses row 2's key, earlier group
	rows[140].IdempotencyKey = validRow(first.ID, 2, 0).IdempotencyKey // row 142 reuses another batch's key
	importRows(t, l, b, rows)

	got, _ := l.Batch(ctx, b.ID)
	if got.Rows != 150 || got.Valid != 147 || got.Invalid != 3 || got.TotalCents != 14700 {
		t.Errorf("batch = %+v", got)
	}
	for _, tt := range []struct {
		row, ownerRow int
		owner         string
	}{{12, 5, b.ID}, {72, 2, b.ID}, {142, 2, first.ID}} {
		r := mustRow(t, l, b.ID, tt.row)
		wantMsg := fmt.Sprintf(`[{"code":"duplicate_idempotency_key","message":"idempotency key %s already used by batch %s row %d"}]`,
			rows[tt.row-2].IdempotencyKey, tt.owner, tt.ownerRow)
		if r.State != Invalid || r.ErrorCode != ErrorCodeDuplicateKey || r.ErrorMessage != wantMsg || r.IdempotencyKey != "" || r.Seq != tt.row-1 {
			t.Errorf("row %d = %s %q %q key %q seq %d", tt.row, r.State, r.ErrorCode, r.ErrorMessage, r.IdempotencyKey, r.Seq)
		}
	}
	if r := mustRow(t, l, b.ID, 13); r.State != Pending || r.Seq != 12 {
		t.Errorf("row 13 = %s seq %d", r.State, r.Seq)
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
