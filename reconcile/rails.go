package reconcile

import (
	"encoding/json"
	"fmt"
	"strings"

	"lote/ledger"
	"lote/stone"
	"lote/validate"
)

// pixReconciliation is what the ledger keeps of a Pix Stone returned for
// row. SETTLED is paid; refunds, whole or partial and possibly days later,
// are added up in refunded_amount: REFUNDED when all came back, still
// SETTLED when part did.
func pixReconciliation(row ledger.Row, p *stone.PixPayment, accountID string) ledger.Reconciliation {
	rec := ledger.Reconciliation{
		Status: cmpOr(p.Status, "UNKNOWN"), Found: true, AmountCents: p.Amount, FeeCents: p.Fee,
		CreatedAt: timeOf(p.CreatedAt), FinishedAt: timeOf(p.SettledAt), FailedAt: timeOf(p.FailedAt),
		RefundedCents: p.RefundedAmount,
	}
	if p.FailureReasonCode != nil {
		rec.FailureCode = string(*p.FailureReasonCode)
	}
	if p.FailureReasonDescription != nil {
		rec.FailureReason = *p.FailureReasonDescription
	}
	var diffs []string
	if p.ID != row.TransferID {
		diffs = append(diffs, fmt.Sprintf("payment id: ledger %s, Stone %s", row.TransferID, p.ID))
	}
	if p.Amount != row.AmountCents {
		diffs = append(diffs, fmt.Sprintf("amount: ledger %s, Stone %s", validate.FormatBRL(row.AmountCents), validate.FormatBRL(p.Amount)))
	}
	if p.AccountID != "" && p.AccountID != accountID {
		diffs = append(diffs, fmt.Sprintf("paying account: ledger %s, Stone %s", stone.MaskAccount(accountID), stone.MaskAccount(p.AccountID)))
	}
	if row.EndToEndID != "" && p.EndToEndID != row.EndToEndID {
		diffs = append(diffs, fmt.Sprintf("end_to_end_id: ledger %s, Stone %s", row.EndToEndID, p.EndToEndID))
	}
	var want validate.Payout
	if err := json.Unmarshal(row.Payout, &want); err == nil && want.PixKey != "" && p.Key != nil && *p.Key != want.PixKey {
		diffs = append(diffs, fmt.Sprintf("key: ledger %s, Stone %s", want.PixKey, *p.Key))
	}
	if p.RefundedAmount > p.Amount {
		diffs = append(diffs, fmt.Sprintf("refunded %s of a payment of %s", validate.FormatBRL(p.RefundedAmount), validate.FormatBRL(p.Amount)))
	}
	rec.Mismatch = strings.Join(diffs, "; ")
	return rec
}

// internalReconciliation is what the ledger keeps of an internal transfer
// Stone returned for row. Internal transfers are never refunded.
func internalReconciliation(row ledger.Row, t *stone.InternalTransfer, accountID string) ledger.Reconciliation {
	rec := ledger.Reconciliation{
		Status: cmpOr(t.Status, "UNKNOWN"), Found: true, AmountCents: t.Amount, FeeCents: t.Fee,
		CreatedAt: timeOf(t.CreatedAt), FinishedAt: timeOf(t.FinishedAt), FailedAt: timeOf(t.FailedAt),
		CancelledAt: timeOf(t.CancelledAt),
	}
	if t.FailureReasonCode != nil {
		rec.FailureCode = string(*t.FailureReasonCode)
	}
	if t.FailureReasonDescription != nil {
		rec.FailureReason = *t.FailureReasonDescription
	}
	var diffs []string
	if t.ID != row.TransferID {
		diffs = append(diffs, fmt.Sprintf("transfer id: ledger %s, Stone %s", row.TransferID, t.ID))
	}
	if t.Amount != row.AmountCents {
		diffs = append(diffs, fmt.Sprintf("amount: ledger %s, Stone %s", validate.FormatBRL(row.AmountCents), validate.FormatBRL(t.Amount)))
	}
	if t.AccountID != "" && t.AccountID != accountID {
		diffs = append(diffs, fmt.Sprintf("paying account: ledger %s, Stone %s", stone.MaskAccount(accountID), stone.MaskAccount(t.AccountID)))
	}
	code := cmpOr(t.Target.Account.AccountCode, t.TargetAccountCode)
	if row.Account != "" && strings.TrimLeft(code, "0") != strings.TrimLeft(row.Account, "0") {
		diffs = append(diffs, fmt.Sprintf("account: ledger %s, Stone %s", row.Account, code))
	}
	rec.Mismatch = strings.Join(diffs, "; ")
	return rec
}
