package batch

import (
	"encoding/json"
	"fmt"

	"lote/ledger"
	"lote/stone"
	"lote/validate"
)

// A validated payout reaches its payee by one rail. TED (an external
// transfer, stone-api.md §2) is the only one today; Stone's internal
// transfers and Pix are the next. Each rail has one function here that
// builds Stone's request from the payout, and the sender calls the one the
// row's rail names: nothing else knows a request's shape.

// tedRequest is the TED request that pays p from accountID.
func tedRequest(accountID string, p *validate.Payout) stone.CreateExternalTransfer {
	a, e := p.Target.Account, p.Target.Entity
	return stone.CreateExternalTransfer{
		Amount:    p.Amount,
		AccountID: accountID,
		Target: stone.TransferTarget{
			Account: stone.TargetAccount{AccountCode: a.AccountCode, BranchCode: a.BranchCode,
				InstitutionCode: a.InstitutionCode, AccountType: a.AccountType},
			Entity: stone.TargetEntity{Name: e.Name, Document: e.Document, DocumentType: e.DocumentType},
		},
		ScheduledTo: p.ScheduledTo,
	}
}

// encodePayout is how the ledger keeps a row's validated payout.
func encodePayout(p *validate.Payout) ([]byte, error) { return json.Marshal(p) }

// storedPayout reads back the payout the import kept for row.
func storedPayout(batchID string, row ledger.Row) (validate.Payout, error) {
	var p validate.Payout
	if err := json.Unmarshal(row.Payout, &p); err != nil {
		return p, fmt.Errorf("batch %s row %d: stored payout: %w", ledger.ShortID(batchID), row.Row, err)
	}
	return p, nil
}
