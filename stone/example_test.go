package stone_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"lote/stone"
	"lote/stone/stonetest"
)

// A payout row is submitted with its own idempotency key; whatever happens,
// Classify says whether it may be retried and whether the transfer may exist.
func Example() {
	srv := stonetest.NewServer(stonetest.Options{Now: func() time.Time {
		return time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC) // 10:00 in São Paulo
	}})
	defer srv.Close()
	key := emuKey() // in production: stone.LoadPrivateKey(path)
	srv.AddClient("app-1", &key.PublicKey)
	srv.AddAccount("acc-1", 1_000_000)

	c, err := stone.NewClient(stone.Config{APIURL: srv.URL, AuthURL: srv.URL, ClientID: "app-1", Key: key, Now: srv.Now})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	tr, err := c.CreateTransfer(ctx, "batch-7-row-2", stone.CreateExternalTransfer{
		Amount:    123456, // R$ 1.234,56
		AccountID: "acc-1",
		Target: stone.TransferTarget{
			Account: stone.TargetAccount{AccountCode: "58859", BranchCode: "1", InstitutionCode: "033", AccountType: stone.AccountChecking},
			Entity:  stone.TargetEntity{Name: "Octacilio Impoluto", Document: "62752545053", DocumentType: "cpf"},
		},
	})
	fmt.Println(tr.Amount, tr.Status, err)

	_, err = c.CreateTransfer(ctx, strings.Repeat("k", 73), stone.CreateExternalTransfer{}) // Stone allows 72
	outcome, why := stone.Classify(err)
	fmt.Println(outcome, why, errors.Is(err, stone.ErrNotSent))
	// Output:
	// 123456 APPROVED <nil>
	// final not sent: invalid request true
}
