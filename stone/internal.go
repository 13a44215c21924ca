package stone

import (
	"context"
	"iter"
	"time"
)

// CreateInternalTransfer is the body of POST /api/v1/internal_transfers, a
// transfer to another Stone account (stone-api.md §3.1). Amount is in
// centavos. Only the target's account_code is sent: Stone resolves its owner
// up front and answers with the owner's name.
type CreateInternalTransfer struct {
	Amount    int64          `json:"amount"`
	AccountID string         `json:"account_id"`
	Target    InternalTarget `json:"target"`
	// Description is shown on both statements; Stone's create page allows
	// 200 characters, its object table 140 (stone-api.md §3.1): keep it
	// under 140.
	Description string `json:"description,omitempty"`
	ScheduledTo string `json:"scheduled_to,omitempty"` // yyyy-mm-dd
}

// InternalTarget is the Stone account an internal transfer pays.
type InternalTarget struct {
	Account InternalAccount `json:"account"`
}

// InternalAccount is a Stone account by its number (digits only, ^\d+$).
type InternalAccount struct {
	AccountCode string `json:"account_code"`
}

// InternalTransferTarget is the target as Stone answers it: the account and
// the name of its owner.
type InternalTransferTarget struct {
	Account InternalAccount `json:"account"`
	Entity  struct {
		Name string `json:"name"`
	} `json:"entity"`
}

// InternalTransfer is an internal transfer as Stone returns it
// (transferencias-internas/*, stone-api.md §3.1). Its statuses are a TED's
// minus REFUNDED and DELAYED_TO_NEXT_BUSINESS_DAY: an internal transfer runs
// 24×7 and its target is checked before it is accepted. Amount and Fee are
// centavos. The documented examples carry no account_id; webhooks add it,
// with batch_id and cancelled_by.
type InternalTransfer struct {
	ID                       string                 `json:"id"`
	AccountID                string                 `json:"account_id,omitempty"`
	Amount                   int64                  `json:"amount"`
	Fee                      int64                  `json:"fee"`
	Status                   string                 `json:"status"`
	Description              string                 `json:"description"`
	CreatedAt                *time.Time             `json:"created_at"`
	CreatedBy                *string                `json:"created_by"`
	ApprovedAt               *time.Time             `json:"approved_at"`
	ApprovedBy               *string                `json:"approved_by"`
	ApprovalExpiredAt        *time.Time             `json:"approval_expired_at"`
	RejectedAt               *time.Time             `json:"rejected_at"`
	RejectedBy               *string                `json:"rejected_by"`
	CancelledAt              *time.Time             `json:"cancelled_at"`
	CancelledBy              *string                `json:"cancelled_by"` // in webhooks
	BatchID                  *string                `json:"batch_id"`     // in webhooks; null for a single transfer
	FailedAt                 *time.Time             `json:"failed_at"`
	FailureReasonCode        *StringCode            `json:"failure_reason_code"`
	FailureReasonDescription *string                `json:"failure_reason_description"`
	FinishedAt               *time.Time             `json:"finished_at"`
	SettledAt                *time.Time             `json:"settled_at"`
	ScheduledTo              *string                `json:"scheduled_to"` // yyyy-mm-dd
	Target                   InternalTransferTarget `json:"target"`
	TargetAccountCode        string                 `json:"target_account_code"`
	TargetAccountOwnerName   string                 `json:"target_account_owner_name"`
}

// CreateInternalTransfer submits an internal transfer with the idempotency
// key that identifies it for its whole life (stone-api.md §3.1, §5). A 202
// means accepted, not executed: follow it with GetInternalTransfer. An
// account_code that is no Stone account is refused with 422
// srn:error:target_account_not_found (errors.Is(err, ErrTargetAccountNotFound)).
func (c *Client) CreateInternalTransfer(ctx context.Context, idempotencyKey string, t CreateInternalTransfer, opts ...CallOption) (*InternalTransfer, error) {
	return create(ctx, c, "/api/v1/internal_transfers", idempotencyKey, t, nil, "transfer",
		func(t *InternalTransfer) string { return t.ID }, collect(opts))
}

// DryRunInternalTransfer asks Stone to check t, resolve its target's owner
// and show its fee without moving money (POST /api/v1/dry_run/internal_transfers).
func (c *Client) DryRunInternalTransfer(ctx context.Context, t CreateInternalTransfer, opts ...CallOption) (*InternalTransfer, error) {
	return dryRun[InternalTransfer](ctx, c, "/api/v1/dry_run/internal_transfers", t, collect(opts))
}

// GetInternalTransfer returns the internal transfer with the given id.
func (c *Client) GetInternalTransfer(ctx context.Context, id string, opts ...CallOption) (*InternalTransfer, error) {
	return getByID[InternalTransfer](ctx, c, "/api/v1/internal_transfers", "transfer id", id, collect(opts))
}

// CancelInternalTransfer cancels a scheduled internal transfer (POST
// …/cancel, 204).
func (c *Client) CancelInternalTransfer(ctx context.Context, id string, opts ...CallOption) error {
	return postAction(ctx, c, "/api/v1/internal_transfers", "transfer id", id, "/cancel", collect(opts))
}

// ListInternalTransfers iterates over every internal transfer of an
// account, newest first, page after page (stone-api.md §3.1, §7.1).
// pageSize 0 lets Stone choose. The sequence ends after the first error,
// yielded with a zero InternalTransfer.
func (c *Client) ListInternalTransfers(ctx context.Context, accountID string, pageSize int, opts ...CallOption) iter.Seq2[InternalTransfer, error] {
	return listAccount[InternalTransfer](ctx, c, "/api/v1/internal_transfers", accountID, pageSize, collect(opts))
}
