package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestImportOnKeyConflict: with OnKeyConflict set, Add takes every row and
// the UNIQUE index finds the reused keys as the rows are written; each one
// is handed to the function with the row that owns its key (in its group,
// an earlier group, another batch, or a key reused twice in one group) and
// recorded as the row it returns, in its place.
func TestImportOnKeyConflict(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	first := testBatch("first")
	importRows(t, l, first, []Row{validRow(first.ID, 2, 100)})

	b := testBatch("second")
	im, err := l.BeginImport(ctx, b, "p", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	tests := []struct {
		row   int
		owner Row // whose key the row reuses
		want  KeyConflictError
	}{
		{row: 12, owner: validRow(b.ID, 5, 0), want: KeyConflictError{OtherBatch: b.ID, OtherRow: 5}},          // same group
		{row: 13, owner: validRow(b.ID, 5, 0), want: KeyConflictError{OtherBatch: b.ID, OtherRow: 5}},          // twice in one group
		{row: 72, owner: validRow(b.ID, 2, 0), want: KeyConflictError{OtherBatch: b.ID, OtherRow: 2}},          // an earlier group
		{row: 142, owner: validRow(first.ID, 2, 0), want: KeyConflictError{OtherBatch: first.ID, OtherRow: 2}}, // another batch
		{row: 152, owner: validRow(first.ID, 2, 0), want: KeyConflictError{OtherBatch: first.ID, OtherRow: 2}}, // the last, partial group
	}
	reuse := map[int]string{}
	for i, tt := range tests {
		tests[i].want.Row, tests[i].want.Key = tt.row, tt.owner.IdempotencyKey
		reuse[tt.row] = tt.owner.IdempotencyKey
	}
	var got []KeyConflictError
	err = im.OnKeyConflict(func(r Row, kc *KeyConflictError) (Row, error) {
		got = append(got, *kc)
		if r.State != Pending || r.Seq != r.Row-1 || r.Cells[4] != validRow(b.ID, r.Row, 100).Cells[4] || len(r.Payout) == 0 {
			t.Errorf("row %d handed over as %+v", r.Row, r)
		}
		return Row{Row: r.Row, Cells: r.Cells, State: Invalid, ErrorCode: "reference_reused", ErrorMessage: kc.Error()}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for n := 2; n < 2+3*insertGroup+1; n++ { // whole groups and a partial one
		r := validRow(b.ID, n, 100)
		if k, ok := reuse[n]; ok {
			r.IdempotencyKey = k
		}
		if err := im.Add(r); err != nil {
			t.Fatalf("row %d: %v", n, err)
		}
	}
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(tests) {
		t.Fatalf("conflicts = %+v, want %d", got, len(tests))
	}
	for i, tt := range tests {
		if got[i] != tt.want {
			t.Errorf("conflict %d = %+v, want %+v", i, got[i], tt.want)
		}
		r := mustRow(t, l, b.ID, tt.row)
		if r.State != Invalid || r.Seq != tt.row-1 || r.IdempotencyKey != "" || r.ErrorCode != "reference_reused" ||
			r.ErrorMessage != got[i].Error() || len(r.Cells) != 5 {
			t.Errorf("row %d = %s seq %d key %q %s %q", tt.row, r.State, r.Seq, r.IdempotencyKey, r.ErrorCode, r.ErrorMessage)
		}
	}
	bt, _ := l.Batch(ctx, b.ID)
	if bt.Rows != 151 || bt.Valid != 146 || bt.Invalid != 5 || bt.TotalCents != 14600 {
		t.Errorf("batch = %+v", bt)
	}
}

// TestImportOnKeyConflictRefused: a handler's error, or a replacement that
// could still be sent, ends the import; the batch stays importing.
func TestImportOnKeyConflictRefused(t *testing.T) {
	ctx := context.Background()
	errHandler := errors.New("handler says no")
	tests := []struct {
		name    string
		replace func(Row) (Row, error)
		want    string
	}{
		{"error", func(Row) (Row, error) { return Row{}, errHandler }, "handler says no"},
		{"still pending", func(r Row) (Row, error) { return r, nil }, "invalid row without a key"},
		{"another row", func(r Row) (Row, error) { return Row{Row: r.Row + 1, State: Invalid}, nil }, "invalid row without a key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := openTest(t, newClock())
			b := testBatch(tt.name)
			im, err := l.BeginImport(ctx, b, "p", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if err := im.OnKeyConflict(func(r Row, _ *KeyConflictError) (Row, error) { return tt.replace(r) }); err != nil {
				t.Fatal(err)
			}
			dup := validRow(b.ID, 3, 100)
			dup.IdempotencyKey = validRow(b.ID, 2, 100).IdempotencyKey
			for _, r := range []Row{validRow(b.ID, 2, 100), dup} {
				if err := im.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			err = im.Commit()
			if err == nil || !strings.Contains(err.Error(), "row 3") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("commit: err = %v, want row 3: …%s", err, tt.want)
			}
			if tt.name == "error" && !errors.Is(err, errHandler) {
				t.Errorf("commit: err = %v, want the handler's error wrapped", err)
			}
			if got, _ := l.Batch(ctx, b.ID); got.State != BatchImporting {
				t.Errorf("batch after failed import: %s, want importing", got.State)
			}
		})
	}
}

// TestOnKeyConflictAfterAdd: the handler decides how every row is checked,
// so it cannot change once rows were added.
func TestOnKeyConflictAfterAdd(t *testing.T) {
	l, _ := openTest(t, newClock())
	b := testBatch("late")
	im, err := l.BeginImport(context.Background(), b, "p", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if err := im.Add(validRow(b.ID, 2, 100)); err != nil {
		t.Fatal(err)
	}
	if err := im.OnKeyConflict(func(r Row, _ *KeyConflictError) (Row, error) { return r, nil }); err == nil {
		t.Error("OnKeyConflict after Add: no error")
	}
}

// TestAppendJSONStrings: cells are stored byte for byte as json.Marshal
// writes them, plain or not.
func TestAppendJSONStrings(t *testing.T) {
	for _, cells := range [][]string{
		nil,
		{},
		{""},
		{"1.234,56", "123.456.789-09", "341", "0001", "12345-6"},
		{"José da Conceição", "R$ 1.000,00"},
		{`a "quoted" \ cell`, "tab\there", "line\nfeed", "\x00\x1f\x7f"},
		{"<b>&amp;</b>", "=HYPERLINK(\"x\")"},
		{"\xff\xfe bad utf8", "\u2028\u2029", "😀"},
	} {
		want, _ := json.Marshal(nonNil(cells))
		if got := appendJSONStrings(nil, cells); string(got) != string(want) {
			t.Errorf("appendJSONStrings(%q) = %s, want %s", cells, got, want)
		}
	}
}

func FuzzAppendJSONStrings(f *testing.F) {
	f.Add("plain\x00José\x00<&>\x00\xff")
	f.Add("")
	f.Add("\"\\\x00\x01\u2028")
	f.Fuzz(func(t *testing.T, joined string) {
		cells := strings.Split(joined, "\x00")
		want, _ := json.Marshal(cells)
		got := appendJSONStrings([]byte("kept"), cells)
		if string(got) != "kept"+string(want) {
			t.Fatalf("appendJSONStrings(%q) = %s, want %s", cells, got[4:], want)
		}
	})
}
