package ledger

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// State is a row's place in the state machine described in the package doc.
type State string

// Row states.
const (
	Invalid     State = "invalid"      // failed validation; never sent, never changes
	Pending     State = "pending"      // valid, not yet known to the bank
	Held        State = "held"         // suspected repeat, waits for the user
	Attempted   State = "attempted"    // a request may have reached the bank
	Accepted    State = "accepted"     // the bank created the transfer
	Rejected    State = "rejected"     // a 4xx that proves no transfer was made
	NeedsReview State = "needs_review" // outcome unknowable; a person must look
)

// Row is one sheet row in the ledger.
type Row struct {
	// Row is the sheet row as Excel numbers it (header = 1).
	Row int
	// Seq is the input order, from 1. Set by the ledger.
	Seq int
	// Cells are the original cells, every column including unknown ones.
	Cells []string
	// Payout is exactly the JSON body to send, less account_id; nil for
	// invalid rows.
	Payout json.RawMessage
	// AmountCents is the amount in cents (0 if an invalid row has none).
	AmountCents int64
	// Document, ISPB, Branch and Account are the normalised payee, kept
	// apart for repeat detection.
	Document, ISPB, Branch, Account string
	Reference                       string
	// Fingerprint identifies the payout whatever file carries it (hex
	// SHA-256; see batch.Fingerprint): a row about to be sent claims it,
	// and a row of another batch with the same fingerprint is then held.
	// Empty for invalid rows.
	Fingerprint string
	// IdempotencyKey is the row's key for its whole life; required unless
	// the row is invalid, unique across the ledger.
	IdempotencyKey string
	State          State

	// ErrorCode and ErrorMessage explain an invalid, held, rejected or
	// needs_review row. For invalid rows ErrorMessage is the list of
	// validation errors as JSON, as the caller encoded it.
	ErrorCode    string
	ErrorMessage string

	// Set by transitions.
	TransferID           string
	APIStatus            string
	FeeCents             int64  // fee charged by the bank, in cents
	ScheduledToEffective string // yyyy-mm-dd as the bank answered it
	FirstAttemptedAt     time.Time
	ProcessedAt          time.Time // when the row reached accepted/rejected/needs_review
	UpdatedAt            time.Time

	// Rail is how the row is paid: RailTED (also for ""), RailInternal or
	// RailPix. Set by the import.
	Rail string
	// A Pix is created, then confirmed, each with its own key:
	// PixConfirmKey is written before the create is first sent (SetPixConfirmKey),
	// PixPaymentID and EndToEndID as soon as the create answers
	// (PixCreated), so a resume never creates a second payment.
	PixConfirmKey, PixPaymentID, EndToEndID string
	// PayeeName and PayeeDocument are the payee as Stone resolved it, for
	// a person comparing it with the sheet's.
	PayeeName, PayeeDocument string
}

// Rails a row is paid by (Row.Rail).
const (
	RailTED      = "ted"
	RailInternal = "internal"
	RailPix      = "pix"
)

const rowColumns = `r.row, r.seq, r.cells, r.payout, r.amount_cents, r.document, r.ispb, r.branch, r.account, r.reference,
	r.idempotency_key, r.state, r.error_code, r.error_message, r.transfer_id, r.api_status, r.fee_cents,
	r.scheduled_to_effective, r.first_attempted_at, r.processed_at, r.updated_at, coalesce(r.fingerprint, ''),
	r.rail, coalesce(r.pix_confirm_key, ''), coalesce(r.pix_payment_id, ''), coalesce(r.end_to_end_id, ''), r.payee_name, r.payee_document`

func scanRow(sc interface{ Scan(...any) error }) (Row, error) {
	var (
		r                                   Row
		cells                               string
		payout, key, code, msg, tid, status sql.NullString
		sched, first, processed, updated    sql.NullString
		fee                                 sql.NullInt64
	)
	err := sc.Scan(&r.Row, &r.Seq, &cells, &payout, &r.AmountCents, &r.Document, &r.ISPB, &r.Branch, &r.Account,
		&r.Reference, &key, &r.State, &code, &msg, &tid, &status, &fee, &sched, &first, &processed, &updated, &r.Fingerprint,
		&r.Rail, &r.PixConfirmKey, &r.PixPaymentID, &r.EndToEndID, &r.PayeeName, &r.PayeeDocument)
	if err != nil {
		return Row{}, err
	}
	if err := json.Unmarshal([]byte(cells), &r.Cells); err != nil {
		return Row{}, fmt.Errorf("row %d cells: %w", r.Row, err)
	}
	if payout.Valid {
		r.Payout = json.RawMessage(payout.String)
	}
	r.IdempotencyKey, r.ErrorCode, r.ErrorMessage = key.String, code.String, msg.String
	r.TransferID, r.APIStatus, r.FeeCents, r.ScheduledToEffective = tid.String, status.String, fee.Int64, sched.String
	for _, p := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&r.FirstAttemptedAt, first}, {&r.ProcessedAt, processed}, {&r.UpdatedAt, updated}} {
		if *p.dst, err = parseTime(p.src); err != nil {
			return Row{}, fmt.Errorf("row %d: %w", r.Row, err)
		}
	}
	return r, nil
}

// Outcome classifies one attempt to send a row.
type Outcome string

// Attempt outcomes.
const (
	OutcomeAccepted  Outcome = "accepted"  // 2xx, transfer created
	OutcomeRejected  Outcome = "rejected"  // 4xx proving no transfer was made
	OutcomeRetry     Outcome = "retry"     // failed before reaching the bank, or 423/429/5xx: send again
	OutcomeAmbiguous Outcome = "ambiguous" // may have reached the bank (timeout, reset)
	OutcomeError     Outcome = "error"     // anything else, recorded for the audit
)

// Attempt is one request for a row, as the append-only audit log keeps it.
type Attempt struct {
	At         time.Time
	HTTPStatus int    // 0 when no response arrived
	RequestID  string // the response's x-request-id, to quote to support
	Latency    time.Duration
	Outcome    Outcome
	Error      string
}
