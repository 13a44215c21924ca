package stone

import (
	"encoding/json"
	"fmt"
	"time"
)

// Transfer statuses as Stone reports them (stone-api.md §2.3).
const (
	StatusCreated                  = "CREATED"
	StatusApproved                 = "APPROVED"
	StatusScheduled                = "SCHEDULED"
	StatusDelayedToNextBusinessDay = "DELAYED_TO_NEXT_BUSINESS_DAY"
	StatusFinished                 = "FINISHED"
	StatusFailed                   = "FAILED"
	StatusRefunded                 = "REFUNDED"
	StatusCancelled                = "CANCELLED"
	StatusRejected                 = "REJECTED"
	StatusExpired                  = "EXPIRED"
)

// Account types accepted for target.account.account_type (stone-api.md §2.1).
const (
	AccountChecking  = "CC" // conta corrente
	AccountDeposit   = "CD" // conta de depósito
	AccountGuarantee = "CG" // conta garantida
	AccountPayment   = "PG" // conta de pagamento
	AccountSavings   = "PP" // poupança
)

// CreateExternalTransfer is the body of POST /api/v1/external_transfers.
// Amount is in centavos. DocumentType is sent in lower case ("cpf", "cnpj"),
// as Stone's responses and public clients use it (stone-api.md §2.1).
type CreateExternalTransfer struct {
	Amount      int64          `json:"amount"`
	AccountID   string         `json:"account_id"`
	Target      TransferTarget `json:"target"`
	ScheduledTo string         `json:"scheduled_to,omitempty"` // yyyy-mm-dd
	Description string         `json:"description,omitempty"`
}

// TransferTarget is the payee of a transfer: where the money goes and who owns it.
type TransferTarget struct {
	Account TargetAccount `json:"account"`
	Entity  TargetEntity  `json:"entity"`
}

// TargetAccount is the target bank account. In a request only AccountCode,
// BranchCode, InstitutionCode and AccountType are sent; Stone fills the
// institution fields in its responses.
type TargetAccount struct {
	AccountCode           string `json:"account_code"`
	BranchCode            string `json:"branch_code,omitempty"`
	InstitutionCode       string `json:"institution_code"`
	AccountType           string `json:"account_type,omitempty"`
	InstitutionISPB       string `json:"institution_ispb,omitempty"`
	InstitutionName       string `json:"institution_name,omitempty"`
	InstitutionNumberCode string `json:"institution_number_code,omitempty"`
}

// TargetEntity is the owner of the target account. Responses also echo the
// document in the legacy CPF field.
type TargetEntity struct {
	Name         string `json:"name"`
	Document     string `json:"document"`
	DocumentType string `json:"document_type,omitempty"`
	CPF          string `json:"cpf,omitempty"`
}

// Transfer is an external transfer (TED) as Stone returns it (stone-api.md §2.2).
// Stone sends every nullable field, as null when unset; the pointer fields
// here keep that shape on the wire. Amount and Fee are centavos.
type Transfer struct {
	ID                       string         `json:"id"`
	AccountID                string         `json:"account_id,omitempty"`
	Amount                   int64          `json:"amount"`
	Fee                      int64          `json:"fee"`
	Status                   string         `json:"status"`
	CreatedAt                *time.Time     `json:"created_at"`
	CreatedBy                *string        `json:"created_by"`
	ApprovedAt               *time.Time     `json:"approved_at"`
	ApprovedBy               *string        `json:"approved_by"`
	ApprovalExpiredAt        *time.Time     `json:"approval_expired_at"`
	RejectedAt               *time.Time     `json:"rejected_at"`
	RejectedBy               *string        `json:"rejected_by"`
	CancelledAt              *time.Time     `json:"cancelled_at"`
	FailedAt                 *time.Time     `json:"failed_at"`
	FailureReasonCode        *StringCode    `json:"failure_reason_code"`
	FailureReasonDescription *string        `json:"failure_reason_description"`
	FinishedAt               *time.Time     `json:"finished_at"`
	SettledAt                *time.Time     `json:"settled_at"`
	RefundedAt               *time.Time     `json:"refunded_at"`
	RefundReasonCode         *StringCode    `json:"refund_reason_code"`
	RefundReasonDescription  *string        `json:"refund_reason_description"`
	DelayedToNextBusinessDay bool           `json:"delayed_to_next_business_day"`
	ScheduledToRequested     *string        `json:"scheduled_to_requested"` // yyyy-mm-dd
	ScheduledToEffective     *string        `json:"scheduled_to_effective"` // yyyy-mm-dd
	Target                   TransferTarget `json:"target"`
}

// StringCode is a reason code Stone documents as a string:
// failure_reason_code ("0".."2") and refund_reason_code ("0".."14"). It
// also decodes from a JSON number, which older answers sent for
// failure_reason_code, so that neither form loses a FAILED transfer; it is
// always written as a string, as the documentation types it and Stone's
// public Go client decodes it.
type StringCode string

// UnmarshalJSON accepts "3" and 3.
func (c *StringCode) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = StringCode(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("reason code %s is neither a string nor a number", b)
	}
	*c = StringCode(n.String())
	return nil
}

// Page is one page of a cursor-paginated list (stone-api.md §7.1).
type Page[T any] struct {
	Cursor Cursor `json:"cursor"`
	Data   []T    `json:"data"`
}

// Cursor locates a page. After is null on the last page.
type Cursor struct {
	After  *string `json:"after"`
	Before *string `json:"before"`
	Limit  int     `json:"limit"`
}

// Calendar is the answer of GET /api/v1/schedulings/calendar (stone-api.md §4).
type Calendar struct {
	ExecutionLimitDate         string           `json:"execution_limit_date"`
	NextAvailableExecutionDate string           `json:"next_available_execution_date"`
	NonBusinessDays            []NonBusinessDay `json:"non_business_days"`
}

// NonBusinessDay is one day on which no TED is executed.
type NonBusinessDay struct {
	Date               string  `json:"date"`
	IsWeekend          bool    `json:"is_weekend"`
	IsHoliday          bool    `json:"is_holiday"`
	HolidayDescription *string `json:"holiday_description"`
}

// Balance is an account's balance in centavos (stone-api.md §7.4).
type Balance struct {
	Balance          int64 `json:"balance"`
	BlockedBalance   int64 `json:"blocked_balance"`
	ScheduledBalance int64 `json:"scheduled_balance"`
}

// Fee is the fee of one operation type for an account (stone-api.md §2.6).
type Fee struct {
	Amount                      int64  `json:"amount"`
	FeeType                     string `json:"fee_type"`
	BillingExemptionParticipant bool   `json:"billing_exemption_participant"`
	OriginalFee                 int64  `json:"original_fee"`
	MaxFreeTransfers            int    `json:"max_free_transfers"`
	RemainingFreeTransfers      int    `json:"remaining_free_transfers"`
}

// TokenResponse is the token endpoint's answer (stone-api.md §1.5).
type TokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int    `json:"expires_in"` // seconds
	RefreshExpiresIn int    `json:"refresh_expires_in,omitempty"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	TokenType        string `json:"token_type"`
	NotBeforePolicy  int    `json:"not-before-policy"`
	SessionState     string `json:"session_state,omitempty"`
	Scope            string `json:"scope,omitempty"`
}

// ErrorBody is the JSON body of an error answer. Stone's endpoints use several
// shapes (stone-api.md §6): a "reason" list or a "reason" string, an "errors"
// list, a "title". Reason holds whichever list was sent; ReasonText the string.
type ErrorBody struct {
	Type       string        `json:"type"`
	Reason     []ErrorReason `json:"-"`
	ReasonText string        `json:"-"`
	Title      string        `json:"title,omitempty"`
	Path       string        `json:"path,omitempty"`
}

// ErrorReason is one cumulative validation failure: what is wrong and where,
// as a path of JSON keys (["target", "account", "account_code"]).
type ErrorReason struct {
	Error string   `json:"error"`
	Path  []string `json:"path"`
}

// Error types (the "type" field) the client and the emulator use.
const (
	ErrTypeUnauthenticated           = "srn:error:unauthenticated"
	ErrTypeUnauthorized              = "srn:error:unauthorized"
	ErrTypeValidation                = "srn:error:validation"
	ErrTypeIdempotencyConflict       = "srn:error:idempotency_conflict"
	ErrTypeConflict                  = "srn:error:conflict"
	ErrTypeUnprocessableEntity       = "srn:error:unprocessable_entity"
	ErrTypeNotFound                  = "srn:error:not_found"
	ErrTypeInvalidCursor             = "srn:error:invalid_cursor"
	ErrTypeWrongStatus               = "srn:error:wrong_status"
	ErrTypeTargetInstitutionNotFound = "srn:error:target_institution_not_found"
	ErrTypeTargetAccountNotFound     = "srn:error:target_account_not_found"
	ErrTypeCannotTransferToSource    = "srn:error:cannot_transfer_to_source_account"
	ErrTypeKeyNotFound               = "srn:error:key_not_found"
	ErrTypeInvalidKey                = "srn:error:invalid_key"
	ErrTypeNotIndirectParticipant    = "srn:error:not_indirect_participant"
	ErrTypeAlreadyConfirmed          = "srn:error:already_confirmed"
)

// MarshalJSON writes Reason as a "reason" list, or ReasonText as a "reason"
// string, whichever is set.
func (e ErrorBody) MarshalJSON() ([]byte, error) {
	m := map[string]any{"type": e.Type}
	if e.Title != "" {
		m["title"] = e.Title
	}
	if e.Path != "" {
		m["path"] = e.Path
	}
	switch {
	case e.Reason != nil:
		m["reason"] = e.Reason
	case e.ReasonText != "":
		m["reason"] = e.ReasonText
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads every documented error shape: "reason" as a list or a
// string, "errors" or "validation_errors" as a list, and "title"/"message".
func (e *ErrorBody) UnmarshalJSON(b []byte) error {
	var raw struct {
		Type             string          `json:"type"`
		Reason           json.RawMessage `json:"reason"`
		Errors           []ErrorReason   `json:"errors"`
		ValidationErrors []ErrorReason   `json:"validation_errors"`
		Title            string          `json:"title"`
		Message          string          `json:"message"`
		Path             json.RawMessage `json:"path"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*e = ErrorBody{Type: raw.Type, Title: raw.Title}
	if e.Title == "" {
		e.Title = raw.Message
	}
	if len(raw.Path) > 0 {
		var p string
		if json.Unmarshal(raw.Path, &p) == nil {
			e.Path = p
		}
	}
	if len(raw.Reason) > 0 && string(raw.Reason) != "null" {
		if raw.Reason[0] == '"' {
			if err := json.Unmarshal(raw.Reason, &e.ReasonText); err != nil {
				return err
			}
		} else if err := json.Unmarshal(raw.Reason, &e.Reason); err != nil {
			return err
		}
	}
	e.Reason = append(e.Reason, raw.Errors...)
	e.Reason = append(e.Reason, raw.ValidationErrors...)
	return nil
}

// Statement entry types lote reads (stone-api.md §7.4): an outgoing TED and
// the money of a TED the receiving bank returned.
const (
	StatementExternal       = "external"
	StatementExternalRefund = "external_refund"
	// StatementInternal is an internal transfer's movement.
	StatementInternal = "internal"
	// StatementInstantPayment is a Pix's movement: the payment's debit
	// and, with the operation "credit", each refund of it. The statement
	// page lists the type without describing its entries.
	StatementInstantPayment = "instant_payment"
)

// StatementEntry is one movement of an account's statement
// (GET /api/v1/accounts/{id}/statement, stone-api.md §7.4). Amount is
// signed centavos, OperationAmount + FeeAmount with the sign of Operation
// ("debit" or "credit"); OperationID is the transfer's id.
type StatementEntry struct {
	ID              string                 `json:"id"`
	Type            string                 `json:"type"`
	Operation       string                 `json:"operation"`
	Amount          int64                  `json:"amount"`
	OperationAmount int64                  `json:"operation_amount"`
	FeeAmount       int64                  `json:"fee_amount"`
	BalanceBefore   int64                  `json:"balance_before"`
	BalanceAfter    int64                  `json:"balance_after"`
	OperationID     string                 `json:"operation_id"`
	Status          string                 `json:"status"`
	Description     string                 `json:"description"`
	CreatedAt       *time.Time             `json:"created_at"`
	ScheduledAt     *time.Time             `json:"scheduled_at"`
	ScheduledTo     *string                `json:"scheduled_to"`
	CounterParty    *StatementCounterParty `json:"counter_party,omitempty"`
}

// StatementCounterParty is the other side of a statement entry.
type StatementCounterParty struct {
	Account struct {
		AccountCode     string `json:"account_code"`
		BranchCode      string `json:"branch_code"`
		Institution     string `json:"institution"`
		InstitutionName string `json:"institution_name"`
	} `json:"account"`
	Entity struct {
		Name string `json:"name"`
	} `json:"entity"`
}

// Receipt resource types of POST /api/v1/receipts (stone-api.md §2.5).
const (
	ReceiptExternalTransfer = "external_transfer"
	ReceiptInternalTransfer = "internal_transfer"
	ReceiptPayment          = "payment"
	// ReceiptPixPayment is not among the documented resource types (the
	// receipts page predates Pix); lote and the emulator use the type the
	// list of Pix operations gives an outbound payment.
	ReceiptPixPayment = "outbound_pix_payment"
)

// ReceiptRequest is the body of POST /api/v1/receipts.
type ReceiptRequest struct {
	ResourceType string `json:"resource_type"`
	ResourceID   string `json:"resource_id"`
}
