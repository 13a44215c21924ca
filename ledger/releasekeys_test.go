package ledger

import (
	"context"
	"errors"
	"testing"
)

// A checked sheet (an upload with an invalid row) gives up its keys, is
// never submitted, and another batch can then take the keys it held.
func TestReleaseKeys(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	people(t, l)
	b := testBatch("checked")
	bad := Row{Row: 3, Cells: []string{"x"}, State: Invalid, ErrorCode: "invalid", ErrorMessage: "[]"}
	importRows(t, l, b, []Row{validRow(b.ID, 2, 100), bad, validRow(b.ID, 4, 300)})
	if n, err := l.ReleaseKeys(ctx, b.ID); err != nil || n != 0 {
		t.Fatalf("without an upload: %d keys released, %v; want none", n, err)
	}
	if _, _, err := l.RecordUpload(ctx, Upload{BatchID: b.ID, FileName: "checked.csv", StoredPath: "/c", UploadedBy: "up"}); err != nil {
		t.Fatal(err)
	}
	held := mustRow(t, l, b.ID, 2).IdempotencyKey
	if n, err := l.ReleaseKeys(ctx, b.ID); err != nil || n != 2 {
		t.Fatalf("ReleaseKeys = %d, %v; want 2", n, err)
	}
	if got, want := mustRow(t, l, b.ID, 2).IdempotencyKey, "lote-"+b.ID[:40]+"-2"; got != want {
		t.Errorf("row 2 key %q, want %q", got, want)
	}
	if n, err := l.ReleaseKeys(ctx, b.ID); err != nil || n != 0 {
		t.Errorf("again: %d, %v; want 0", n, err)
	}
	if err := l.Submit(ctx, b.ID, "up", 400, 2); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("Submit of a checked sheet = %v, want ErrIllegalTransition", err)
	}
	// The corrected sheet takes the key the checked one held.
	c := testBatch("corrected")
	r := validRow(c.ID, 2, 100)
	r.IdempotencyKey = held
	importRows(t, l, c, []Row{r})
	if got := mustRow(t, l, c.ID, 2); got.State != Pending || got.IdempotencyKey != held {
		t.Errorf("corrected row: %s %q", got.State, got.IdempotencyKey)
	}
}
