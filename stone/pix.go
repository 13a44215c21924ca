package stone

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Pix payment statuses (referencia-da-api/pix/apis-stone/pagamento/
// consultar-pagamento, stone-api.md §3.2). A created payment waits in
// CREATED until it is confirmed, and never expires; CONFIRMED has not moved
// money yet; MONEY_RESERVED has left the account; SETTLED is paid. REFUNDED
// means the receiving bank returned it. SCHEDULED and CANCELLED concern
// payments with scheduled_to.
const (
	PixCreated       = "CREATED"
	PixConfirmed     = "CONFIRMED"
	PixScheduled     = "SCHEDULED"
	PixCancelled     = "CANCELLED"
	PixFailed        = "FAILED"
	PixMoneyReserved = "MONEY_RESERVED"
	PixRefunded      = "REFUNDED"
	PixSettled       = "SETTLED"
)

// Types of the operations GET /api/v1/pix/{account_id}/pix_payments lists
// (pix/apis-stone/pagamento/listar-pagamentos).
const (
	PixTypeOutboundPayment    = "outbound_pix_payment"
	PixTypeInboundPayment     = "inbound_pix_payment"
	PixTypeRefundForOutbound  = "refund_for_outbound_pix_payment" // a refund of a Pix this account sent
	PixTypeRefundForInbound   = "refund_for_inbound_pix_payment"  // a refund this account sent
	maxPixKey                 = 77                                // characters (criar-pagamento-pendente)
	maxPixDescription         = 140                               // characters
	pixPaymentsPath           = "/api/v1/pix/outbound_pix_payments"
	pixConfirmSuffix          = "/actions/confirm"
	pixPaymentsListPathFormat = "/api/v1/pix/%s/pix_payments"
)

// CreatePixPayment is the body of POST /api/v1/pix/outbound_pix_payments
// (pix/apis-stone/pagamento/criar-pagamento-pendente): a Pix to Key, or,
// without a key, to the bank data of Target. Amount is in centavos, at most
// 1,000,000,000,000; 0 leaves it out, and then the confirmation must carry
// it. TransactionID (a charge's id, from a QR code) requires Key.
type CreatePixPayment struct {
	AccountID     string     `json:"account_id"`
	Amount        int64      `json:"amount,omitempty"`
	Description   string     `json:"description,omitempty"` // at most 140 characters
	Key           string     `json:"key,omitempty"`         // at most 77 characters
	TransactionID string     `json:"transaction_id,omitempty"`
	ScheduledTo   string     `json:"scheduled_to,omitempty"` // yyyy-mm-dd
	Target        *PixTarget `json:"target,omitempty"`
}

// PixTarget is the payee of a Pix by bank data, as the create page lists
// its fields: the owner's name and document, the account (branch_code 4
// digits, account_type PG, PP or CC) and the institution's ISPB.
type PixTarget struct {
	Entity struct {
		Document string `json:"document"`
		Name     string `json:"name"`
	} `json:"entity"`
	Account     PixAccount `json:"account"`
	Institution struct {
		ISPB string `json:"ispb"`
	} `json:"institution"`
}

// NewPixTarget returns the bank-data target of a Pix.
func NewPixTarget(name, document, ispb string, account PixAccount) *PixTarget {
	t := &PixTarget{Account: account}
	t.Entity.Name, t.Entity.Document, t.Institution.ISPB = name, document, ispb
	return t
}

// PixParty is one side of a Pix in Stone's answers: who (entity), which
// account, and at which institution. For a Pix by key, Stone leaves the
// target's account out of its answers until the payment is settled, and
// masks a CPF target document ("***369163**").
type PixParty struct {
	Account     *PixAccount    `json:"account,omitempty"`
	Entity      PixEntity      `json:"entity"`
	Institution PixInstitution `json:"institution"`
}

// PixEntity is the owner of a Pix account. DocumentType is "cpf" or "cnpj".
type PixEntity struct {
	Document     string `json:"document"`
	DocumentType string `json:"document_type"`
	Name         string `json:"name"`
}

// PixAccount is a bank account in a Pix.
type PixAccount struct {
	AccountCode string `json:"account_code"`
	AccountType string `json:"account_type"`
	BranchCode  string `json:"branch_code"`
}

// PixInstitution is an institution in a Pix.
type PixInstitution struct {
	ISPB string `json:"ispb"`
	Name string `json:"name"`
}

// ConfirmPixPayment is the optional body of
// POST /api/v1/pix/outbound_pix_payments/{id}/actions/confirm: Amount is
// required there when the create left it out; AddTargetToContacts saves the
// payee in the account's contacts.
type ConfirmPixPayment struct {
	Amount              int64  `json:"amount,omitempty"`
	Description         string `json:"description,omitempty"`
	AddTargetToContacts bool   `json:"add_target_to_contacts,omitempty"`
}

// PixPayment is an outbound Pix as Stone returns it (criar-pagamento-pendente,
// detalhar-pix-enviado, the pix_outbound_payment_* webhooks). Amount, Fee and
// RefundedAmount are centavos; RefundedAmount grows with each refund, whole
// or partial, whose details are separate PixRefund objects. Not settled by
// the documentation: the type of failure_reason_code (null in every example;
// decoded from a string or a number) and whether fee is sent before
// confirmation (absent from the create example: decoded as 0).
type PixPayment struct {
	ID                       string      `json:"id"`
	AccountID                string      `json:"account_id"`
	Amount                   int64       `json:"amount"`
	Fee                      int64       `json:"fee"`
	Status                   string      `json:"status"`
	Description              string      `json:"description"`
	EndToEndID               string      `json:"end_to_end_id"`
	Key                      *string     `json:"key"`
	TransactionID            *string     `json:"transaction_id"`
	RequestID                string      `json:"request_id"`
	CreatedAt                *time.Time  `json:"created_at"`
	CreatedBy                *string     `json:"created_by"`
	ApprovedAt               *time.Time  `json:"approved_at,omitempty"`
	ApprovedBy               *string     `json:"approved_by,omitempty"`
	ConfirmedAt              *time.Time  `json:"confirmed_at,omitempty"`
	ConfirmedBy              *string     `json:"confirmed_by,omitempty"`
	MoneyReservedAt          *time.Time  `json:"money_reserved_at"`
	SettledAt                *time.Time  `json:"settled_at"`
	FailedAt                 *time.Time  `json:"failed_at"`
	FailureReasonCode        *StringCode `json:"failure_reason_code"`
	FailureReasonDescription *string     `json:"failure_reason_description"`
	RefundedAmount           int64       `json:"refunded_amount"`
	ScheduledTo              *string     `json:"scheduled_to"` // yyyy-mm-dd
	Source                   PixParty    `json:"source"`
	Target                   PixParty    `json:"target"`
}

// Confirmed reports whether the payment has been confirmed: any status but
// CREATED. It settles an ambiguous confirmation: a payment read back
// CREATED was not confirmed, and confirming it again with the same
// idempotency key is safe.
func (p *PixPayment) Confirmed() bool { return p.Status != PixCreated }

// PixRefund is a refund of an outbound Pix ("refund_for_outbound_pix_payment"
// in the list of Pix operations): the receiving bank or its customer
// returned Amount centavos of the payment OutboundPixPaymentID, whole or in
// part, possibly days later. ReturnID is the refund's end-to-end id ("D…").
type PixRefund struct {
	ID                      string     `json:"id"`
	AccountID               string     `json:"account_id"`
	Amount                  int64      `json:"amount"`
	Status                  string     `json:"status"`
	Type                    string     `json:"type"`
	OutboundPixPaymentID    string     `json:"outbound_pix_payment_id"`
	ReturnID                string     `json:"return_id"`
	RefundReason            string     `json:"refund_reason"`
	RefundReasonCode        string     `json:"refund_reason_code"`
	RefundReasonDescription string     `json:"refund_reason_description"`
	RejectedAt              *time.Time `json:"rejected_at"`
	RejectionReason         *string    `json:"rejection_reason"`
	RequestID               string     `json:"request_id"`
	CreatedAt               *time.Time `json:"created_at"`
	SettledAt               *time.Time `json:"settled_at"`
}

// PixOperation is one item of the list of an account's Pix operations:
// Type says which; Payment is set for an outbound payment, Refund for a
// refund of one, and Raw holds the item as sent, for the other types.
type PixOperation struct {
	Type    string
	Payment *PixPayment
	Refund  *PixRefund
	Raw     json.RawMessage
}

// UnmarshalJSON decodes an item by its type field.
func (o *PixOperation) UnmarshalJSON(b []byte) error {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	*o = PixOperation{Type: head.Type, Raw: append(json.RawMessage(nil), b...)}
	switch head.Type {
	case PixTypeOutboundPayment:
		o.Payment = new(PixPayment)
		return json.Unmarshal(b, o.Payment)
	case PixTypeRefundForOutbound:
		o.Refund = new(PixRefund)
		return json.Unmarshal(b, o.Refund)
	}
	return nil
}

// checkPix refuses, before anything is sent, a body Stone's documentation
// says it would refuse: neither key nor target, a key or description too long.
func checkPix(p CreatePixPayment) error {
	switch {
	case strings.TrimSpace(p.AccountID) == "":
		return fmt.Errorf("account_id is empty")
	case p.Key == "" && p.Target == nil:
		return fmt.Errorf("neither key nor target is set")
	case len([]rune(p.Key)) > maxPixKey:
		return fmt.Errorf("key has %d characters, at most %d allowed", len([]rune(p.Key)), maxPixKey)
	case len([]rune(p.Description)) > maxPixDescription:
		return fmt.Errorf("description has %d characters, at most %d allowed", len([]rune(p.Description)), maxPixDescription)
	case p.Amount < 0:
		return fmt.Errorf("amount %d is negative", p.Amount)
	case p.TransactionID != "" && p.Key == "":
		return fmt.Errorf("transaction_id requires key")
	}
	return nil
}

// CreatePix creates a Pix waiting for confirmation (201, status CREATED),
// with the idempotency key of this step. Nothing is paid yet: the answer
// names the payee that Stone resolved (Target.Entity's name and masked
// document, the institution) and its end_to_end_id, so the caller can check
// the payee before ConfirmPix. A created Pix never expires. A key that is
// malformed or not in the DICT, or an institution outside Pix, is refused
// with 422 (ErrInvalidKey, ErrKeyNotFound, ErrTargetInstitutionNotFound).
func (c *Client) CreatePix(ctx context.Context, idempotencyKey string, p CreatePixPayment, opts ...CallOption) (*PixPayment, error) {
	return create(ctx, c, pixPaymentsPath, idempotencyKey, p, func() error { return checkPix(p) }, "payment",
		func(p *PixPayment) string { return p.ID }, collect(opts))
}

// ConfirmPix confirms a created Pix (204), with the idempotency key of this
// step, which must differ from the create's. body may be nil. A 503 means
// Stone's external services are down and nothing was confirmed: retry with
// the same key (Classify says OutcomeRetry). An ambiguous failure is
// settled by GetPix: CREATED means not confirmed.
func (c *Client) ConfirmPix(ctx context.Context, idempotencyKey, id string, body *ConfirmPixPayment, opts ...CallOption) error {
	co := collect(opts)
	r := &request{method: http.MethodPost, path: pixPaymentsPath + "/" + url.PathEscape(id) + pixConfirmSuffix}
	if err := checkID("payment id", id); err != nil {
		return inputError(r.op(), err)
	}
	key, err := checkIdempotencyKey(idempotencyKey)
	if err != nil {
		return inputError(r.op(), err)
	}
	r.idemKey = key
	if body == nil {
		body = &ConfirmPixPayment{}
	}
	if r.body, err = json.Marshal(body); err != nil {
		return inputError(r.op(), err)
	}
	_, err = c.do(ctx, r, co)
	return err
}

// GetPix returns the outbound Pix with the given id
// (GET /api/v1/pix/outbound_pix_payments/{id}).
func (c *Client) GetPix(ctx context.Context, id string, opts ...CallOption) (*PixPayment, error) {
	return getByID[PixPayment](ctx, c, pixPaymentsPath, "payment id", id, collect(opts))
}

// PixFilter narrows ListPix. Each list is sent as one comma-separated query
// parameter (end_to_end_ids, transaction_ids, keys); the documentation
// names the parameters but not how several values are joined.
type PixFilter struct {
	EndToEndIDs    []string
	TransactionIDs []string
	Keys           []string
}

// ListPix iterates over an account's Pix operations, newest first: payments
// sent and received and refunds either way, each with its type
// (GET /api/v1/pix/{account_id}/pix_payments). Stone serves it to indirect
// participants only; others get 422 srn:error:not_indirect_participant.
func (c *Client) ListPix(ctx context.Context, accountID string, f PixFilter, pageSize int, opts ...CallOption) iter.Seq2[PixOperation, error] {
	co := collect(opts)
	path := fmt.Sprintf(pixPaymentsListPathFormat, url.PathEscape(accountID))
	if err := checkID("account id", accountID); err != nil {
		return func(yield func(PixOperation, error) bool) {
			yield(PixOperation{}, inputError("GET "+path, err))
		}
	}
	q := url.Values{}
	for name, vs := range map[string][]string{"end_to_end_ids": f.EndToEndIDs, "transaction_ids": f.TransactionIDs, "keys": f.Keys} {
		if len(vs) > 0 {
			q.Set(name, strings.Join(vs, ","))
		}
	}
	return paginate[PixOperation](ctx, c, path, q, pageSize, co)
}
