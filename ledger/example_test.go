package ledger_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"lote/ledger"
)

// A batch's life: import its rows, mark a group attempted before sending,
// record the bank's answer, and count what happened.
func Example() {
	dir, err := os.MkdirTemp("", "ledger-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	l, err := ledger.Open(filepath.Join(dir, "lote.db"), ledger.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	b := ledger.Batch{ID: "5f2b6f6a1c0e4c3c9c1f0b8e7d6a5b4c3d2e1f00112233445566778899aabbcc", FileName: "payouts.csv",
		Format: "csv", AccountID: "acc-1", Environment: "sim", Header: []string{"valor", "documento"}}
	im, err := l.BeginImport(ctx, b, "host pid 42", time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(im.Add(ledger.Row{Row: 2, Cells: []string{"1.500,00", "123.456.789-09"}, Payout: []byte(`{"amount":150000}`),
		AmountCents: 150000, Document: "12345678909", IdempotencyKey: "acc-1:ref-1", State: ledger.Pending}))
	must(im.Add(ledger.Row{Row: 3, Cells: []string{"1.234", ""}, State: ledger.Invalid, ErrorMessage: `["ambiguous amount"]`}))
	must(im.Commit())

	now := time.Now()
	must(l.MarkAttempted(ctx, b.ID, []int{2}, now))
	must(l.Accept(ctx, b.ID, 2, ledger.Attempt{At: now, HTTPStatus: 201}, ledger.Transfer{ID: "tr-1", Status: "CREATED", FeeCents: 150}))
	must(l.SetBatchState(ctx, b.ID, ledger.BatchDone))
	must(l.ReleaseLease(ctx, b.ID, "host pid 42"))

	sum, err := l.Summary(ctx, b.ID)
	must(err)
	fmt.Printf("accepted %d (%d cents, fee %d), invalid %d\n", sum[ledger.Accepted].Rows, sum[ledger.Accepted].Cents,
		sum[ledger.Accepted].Fees, sum[ledger.Invalid].Rows)
	// Output: accepted 1 (150000 cents, fee 150), invalid 1
}
