package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzRowRoundTrip stores arbitrary cells, amounts and keys and reads them
// back: what a user's sheet said, and the amount in cents, must come back
// unchanged, and input the ledger refuses must be refused with an error,
// never stored half-way or panicking.
func FuzzRowRoundTrip(f *testing.F) {
	f.Add("1.234,56\x00123.456.789-09\x00=SUM(A1)", int64(123456), "acc-ref-1", "12345678909", 2)
	f.Add("", int64(1), "k", "", 1048576)
	f.Add("\xff\xfe bad utf8\x00\"quoted\"", int64(-5), "", "doc", 3)
	f.Add("R$ 1.000.000,00", int64(1<<62), strings.Repeat("x", 72), "00.000.000/0001-91", 99)
	ctx := context.Background()
	l, _ := openTest(f, newClock())
	n := 0
	f.Fuzz(func(t *testing.T, cells string, amount int64, key, doc string, row int) {
		n++
		b := testBatch(fmt.Sprint("fuzz", n))
		im, err := l.BeginImport(ctx, b, "fuzz", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		defer im.Close()
		payout, _ := json.Marshal(map[string]any{"amount": amount, "document": doc})
		in := Row{Row: row, Cells: strings.Split(cells, "\x00"), Payout: payout, AmountCents: amount,
			Document: doc, IdempotencyKey: key, State: Pending}
		err = im.Add(in)
		var kc *KeyConflictError
		switch {
		case errors.As(err, &kc):
			if _, err := l.Row(ctx, kc.OtherBatch, kc.OtherRow); err != nil || kc.Row != row || kc.Key != key {
				t.Fatalf("key conflict %+v names a row that does not exist: %v", kc, err)
			}
			return
		case err != nil:
			if key != "" && amount > 0 && row >= 1 {
				t.Fatalf("valid row refused: %v", err)
			}
			if cerr := im.Commit(); cerr != nil {
				t.Fatal(cerr)
			}
			if got, _ := l.Batch(ctx, b.ID); got.Rows != 0 {
				t.Fatalf("refused row counted: %+v", got)
			}
			return
		}
		if err := im.Commit(); err != nil {
			t.Fatal(err)
		}
		got := mustRow(t, l, b.ID, row)
		// JSON cannot carry invalid UTF-8; encoding/json replaces it, so
		// compare against what a JSON round trip of the cells gives.
		var want []string
		enc, _ := json.Marshal(in.Cells)
		json.Unmarshal(enc, &want)
		if !reflect.DeepEqual(got.Cells, want) || got.AmountCents != amount || got.IdempotencyKey != key ||
			got.Document != doc || got.State != Pending || got.Seq != 1 || string(got.Payout) != string(payout) {
			t.Fatalf("round trip:\nin  %+v\ngot %+v", in, got)
		}
		bt, err := l.Batch(ctx, b.ID)
		if err != nil || bt.TotalCents != amount || bt.Valid != 1 {
			t.Fatalf("batch totals = %+v, %v", bt, err)
		}
	})
}
