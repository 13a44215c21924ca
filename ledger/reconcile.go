package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"
)

// Reconciliation is what Stone last said about an accepted row's transfer,
// as a poll or a webhook brought it (migration 003). Amounts are cents;
// times are zero when Stone gave none.
type Reconciliation struct {
	// Status is the transfer's status ("FINISHED", …). For a transfer Stone
	// does not know (Found false) it is the status the row had.
	Status string
	// Found is false when Stone answered 404 for the transfer: the ledger
	// holds a transfer Stone denies, which a person must look at.
	Found bool
	// AmountCents and FeeCents are Stone's amount and fee, in cents.
	AmountCents, FeeCents                                    int64
	CreatedAt, FinishedAt, FailedAt, RefundedAt, CancelledAt time.Time
	// FailureCode and RefundCode are Stone's failure_reason_code and
	// refund_reason_code ("" when none), with Stone's descriptions.
	FailureCode, FailureReason string
	RefundCode, RefundReason   string
	// RefundedCents is how much of a Pix came back (Stone's
	// refunded_amount): all of it when REFUNDED, part of it when a
	// SETTLED payment was partly refunded.
	RefundedCents int64
	// Mismatch says how Stone's transfer differs from the row's payout
	// (amount, target); "" when it matches.
	Mismatch string
	// CheckedAt is when Stone was asked (or the webhook received); Source
	// is "poll" or "webhook".
	CheckedAt time.Time
	Source    string
}

// ReconciledRow is a row with what reconciliation knows of its transfer.
type ReconciledRow struct {
	Row
	// Rec is valid when Checked: the row's transfer was looked at.
	Rec     Reconciliation
	Checked bool
}

const recColumns = `c.status, c.found, c.amount_cents, c.fee_cents, c.created_at, c.finished_at, c.failed_at,
	c.refunded_at, c.cancelled_at, c.failure_code, c.failure_reason, c.refund_code, c.refund_reason, c.mismatch,
	c.checked_at, c.source, c.refunded_cents`

func scanReconciled(sc interface{ Scan(...any) error }) (ReconciledRow, error) {
	var (
		status, fcode, freason, rcode, rreason, mismatch, source sql.NullString
		found, amount, fee, refunded                             sql.NullInt64
		cre, fin, fail, ref, can, checked                        sql.NullString
	)
	// scanRow reads the row's own columns; scanPrefix hands it the
	// destinations of the reconciliation's, which come after.
	row, err := scanRow(scanPrefix{sc: sc, extra: []any{&status, &found, &amount, &fee, &cre, &fin, &fail, &ref, &can,
		&fcode, &freason, &rcode, &rreason, &mismatch, &checked, &source, &refunded}})
	if err != nil {
		return ReconciledRow{}, err
	}
	rr := ReconciledRow{Row: row}
	if !status.Valid {
		return rr, nil
	}
	rr.Checked = true
	c := &rr.Rec
	c.Status, c.Found, c.AmountCents, c.FeeCents = status.String, found.Int64 == 1, amount.Int64, fee.Int64
	c.FailureCode, c.FailureReason, c.RefundCode, c.RefundReason = fcode.String, freason.String, rcode.String, rreason.String
	c.Mismatch, c.Source, c.RefundedCents = mismatch.String, source.String, refunded.Int64
	for _, p := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&c.CreatedAt, cre}, {&c.FinishedAt, fin}, {&c.FailedAt, fail}, {&c.RefundedAt, ref}, {&c.CancelledAt, can}, {&c.CheckedAt, checked}} {
		if *p.dst, err = parseTime(p.src); err != nil {
			return ReconciledRow{}, fmt.Errorf("row %d: %w", row.Row, err)
		}
	}
	return rr, nil
}

// scanPrefix lets scanRow read a result whose first columns are a row's
// and whose last ones go to extra.
type scanPrefix struct {
	sc    interface{ Scan(...any) error }
	extra []any
}

func (s scanPrefix) Scan(dst ...any) error { return s.sc.Scan(append(dst, s.extra...)...) }

// Reconciled yields every row of the batch in input order, invalid ones
// included, each with what reconciliation knows of its transfer, a page at
// a time like Rows.
func (l *Ledger) Reconciled(ctx context.Context, batch string) iter.Seq2[ReconciledRow, error] {
	return l.reconPages(ctx, batch, `SELECT `+rowColumns+`, `+recColumns+` FROM rows r
		LEFT JOIN reconciliations c ON c.batch = r.batch AND c.row = r.row
		WHERE r.id > ?1 AND r.id < ?2 ORDER BY r.id LIMIT ?3`, nil)
}

// finalStatuses are the statuses after which Stone changes a transfer no
// more (stone-api.md §2.3). FINISHED is not among them: a finished TED can
// still be returned (REFUNDED) by the receiving bank.
const finalStatuses = `('FAILED', 'REFUNDED', 'CANCELLED', 'REJECTED', 'EXPIRED')`

// ToReconcile yields the accepted rows of the batch whose transfer may
// still change: every status but a final one, and FINISHED (a Pix:
// SETTLED, which may still be refunded) until refundWindow has passed
// since it finished (by the finished_at Stone
// reported; a FINISHED row without one is kept). now is the current time.
// Paged like Rows, in input order, so the caller may record statuses while
// iterating.
func (l *Ledger) ToReconcile(ctx context.Context, batch string, now time.Time, refundWindow time.Duration) iter.Seq2[ReconciledRow, error] {
	cutoff := fmtTime(now.Add(-refundWindow))
	return l.reconPages(ctx, batch, `SELECT `+rowColumns+`, `+recColumns+` FROM rows r
		LEFT JOIN reconciliations c ON c.batch = r.batch AND c.row = r.row
		WHERE r.id > ?1 AND r.id < ?2 AND r.state = 'accepted'
		AND (r.api_status IS NULL OR (r.api_status NOT IN `+finalStatuses+` AND r.api_status NOT IN ('FINISHED', 'SETTLED'))
		     OR (r.api_status IN ('FINISHED', 'SETTLED') AND (c.finished_at IS NULL OR c.finished_at > ?4)))
		ORDER BY r.id LIMIT ?3`, []any{cutoff})
}

// reconPages runs q page after page; its parameters are ?1 and ?2 (the id
// range, exclusive), ?3 (the page size), then more.
func (l *Ledger) reconPages(ctx context.Context, batch, q string, more []any) iter.Seq2[ReconciledRow, error] {
	return pagesOf(ctx, l, batch, q, func(int64) []any { return more }, scanReconciled,
		func(r ReconciledRow) int { return r.Seq })
}

// RecordReconciliation records what Stone said about an accepted row's
// transfer, in one transaction: the row's api_status, a history entry
// (source rec.Source) when the status changed, and the details in
// reconciliations, replacing the previous ones. It reports whether the
// status changed. A row that is not accepted is refused with a
// *TransitionError.
func (l *Ledger) RecordReconciliation(ctx context.Context, batch string, row int, rec Reconciliation) (changed bool, err error) {
	if rec.Status == "" || rec.Source == "" || rec.CheckedAt.IsZero() {
		return false, fmt.Errorf("record reconciliation batch %s row %d: status, source and time are required", batch, row)
	}
	err = l.inTx(ctx, func(tx *sql.Tx) error {
		num, _, err := batchNum(ctx, tx, batch)
		if err != nil {
			return fmt.Errorf("record reconciliation row %d: %w", row, err)
		}
		changed, err = l.applyReconciliation(ctx, tx, batch, num, row, rec)
		return err
	})
	return changed, err
}

// applyReconciliation is RecordReconciliation inside tx.
func (l *Ledger) applyReconciliation(ctx context.Context, tx *sql.Tx, batch string, num int64, row int, rec Reconciliation) (bool, error) {
	var cur sql.NullString
	var state State
	err := tx.QueryRowContext(ctx, `SELECT state, api_status FROM rows WHERE batch = ? AND row = ?`, num, row).Scan(&state, &cur)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("batch %s row %d: %w", batch, row, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("record reconciliation batch %s row %d: %w", batch, row, err)
	}
	if state != Accepted {
		return false, &TransitionError{Batch: batch, Row: row, From: state, To: Accepted}
	}
	changed := cur.String != rec.Status
	if changed {
		// Guarded by state like every transition, although the read above
		// is in the same immediate transaction.
		res, err := tx.ExecContext(ctx, `UPDATE rows SET api_status = ?, updated_at = ? WHERE batch = ? AND row = ? AND state = 'accepted'`,
			rec.Status, fmtTime(l.now()), num, row)
		if err != nil {
			return false, fmt.Errorf("record reconciliation batch %s row %d: %w", batch, row, err)
		}
		if err := mustAffect(res, 1, fmt.Errorf("batch %s row %d: %w", batch, row, ErrIllegalTransition)); err != nil {
			return false, err
		}
		// The history keeps when the status was reached, as Stone dates it
		// when it does, else when lote learnt it.
		if _, err := tx.ExecContext(ctx, `INSERT INTO transfer_status_history (batch, row, status, at, source) VALUES (?, ?, ?, ?, ?)`,
			num, row, rec.Status, fmtTime(statusTime(rec)), rec.Source); err != nil {
			return false, fmt.Errorf("record reconciliation batch %s row %d: %w", batch, row, err)
		}
	}
	found := 0
	if rec.Found {
		found = 1
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO reconciliations (batch, row, status, found, amount_cents, fee_cents,
		created_at, finished_at, failed_at, refunded_at, cancelled_at, failure_code, failure_reason, refund_code,
		refund_reason, mismatch, checked_at, source, refunded_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (batch, row) DO UPDATE SET status = excluded.status, found = excluded.found,
		amount_cents = excluded.amount_cents, fee_cents = excluded.fee_cents, created_at = excluded.created_at,
		finished_at = excluded.finished_at, failed_at = excluded.failed_at, refunded_at = excluded.refunded_at,
		cancelled_at = excluded.cancelled_at, failure_code = excluded.failure_code,
		failure_reason = excluded.failure_reason, refund_code = excluded.refund_code,
		refund_reason = excluded.refund_reason, mismatch = excluded.mismatch, checked_at = excluded.checked_at,
		source = excluded.source, refunded_cents = excluded.refunded_cents`,
		num, row, rec.Status, found, rec.AmountCents, rec.FeeCents, nullTime(rec.CreatedAt), nullTime(rec.FinishedAt),
		nullTime(rec.FailedAt), nullTime(rec.RefundedAt), nullTime(rec.CancelledAt), rec.FailureCode, rec.FailureReason,
		rec.RefundCode, rec.RefundReason, rec.Mismatch, fmtTime(rec.CheckedAt), rec.Source, rec.RefundedCents)
	if err != nil {
		return false, fmt.Errorf("record reconciliation batch %s row %d: %w", batch, row, err)
	}
	return changed, nil
}

// statusTime is when the transfer reached rec.Status, as far as rec says.
func statusTime(rec Reconciliation) time.Time {
	var t time.Time
	switch rec.Status {
	case "FINISHED":
		t = rec.FinishedAt
	case "FAILED":
		t = rec.FailedAt
	case "REFUNDED":
		t = rec.RefundedAt
	case "CANCELLED":
		t = rec.CancelledAt
	}
	if t.IsZero() {
		return rec.CheckedAt
	}
	return t
}

// WebhookEvent identifies one webhook event for deduplication.
type WebhookEvent struct {
	ID         string // Stone's event id (x-stone-webhook-event-id)
	Type       string // such as "cash_out_external_transfer_finished"
	TransferID string // the transfer it is about; "" if none
	ReceivedAt time.Time
}

// WebhookOutcome is what ApplyWebhook did with an event.
type WebhookOutcome string

// Webhook outcomes.
const (
	WebhookApplied   WebhookOutcome = "applied"   // a row's transfer status or details were recorded
	WebhookUnchanged WebhookOutcome = "unchanged" // the caller decided nothing was to change for the row
	WebhookUnknown   WebhookOutcome = "unknown"   // no row holds the transfer
	WebhookDuplicate WebhookOutcome = "duplicate" // the event was received before; nothing done
)

// WebhookDecision is what the caller makes of an event for the row that
// holds its transfer: apply reports whether to record rec.
type WebhookDecision func(r ReconciledRow) (rec Reconciliation, apply bool)

// ApplyWebhook records a webhook event once: in one transaction it stores
// the event id, and unless the id was seen before (WebhookDuplicate), finds
// the accepted row holding ev.TransferID and records what decide returns for
// it, as RecordReconciliation does. A second delivery of an event therefore
// changes nothing, even when two deliveries race. It returns the outcome and
// the row (batch id and Excel row number) the event was about, if any.
func (l *Ledger) ApplyWebhook(ctx context.Context, ev WebhookEvent, decide WebhookDecision) (out WebhookOutcome, batch string, row int, err error) {
	if ev.ID == "" || ev.ReceivedAt.IsZero() {
		return "", "", 0, errors.New("apply webhook: event id and time are required")
	}
	err = l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (id, type, transfer_id, received_at, outcome)
			VALUES (?, ?, ?, ?, 'unknown') ON CONFLICT (id) DO NOTHING`, ev.ID, ev.Type, ev.TransferID, fmtTime(ev.ReceivedAt))
		if err != nil {
			return fmt.Errorf("apply webhook %s: %w", ev.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("apply webhook %s: %w", ev.ID, err)
		} else if n == 0 {
			out = WebhookDuplicate
			return nil
		}
		out = WebhookUnknown
		if ev.TransferID == "" {
			return nil
		}
		rr, num, err := rowByTransfer(ctx, tx, ev.TransferID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("apply webhook %s: %w", ev.ID, err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM batches WHERE num = ?`, num).Scan(&batch); err != nil {
			return fmt.Errorf("apply webhook %s: %w", ev.ID, err)
		}
		row = rr.Row.Row
		out = WebhookUnchanged
		if rec, apply := decide(rr); apply {
			if _, err := l.applyReconciliation(ctx, tx, batch, num, row, rec); err != nil {
				return fmt.Errorf("apply webhook %s: %w", ev.ID, err)
			}
			out = WebhookApplied
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhook_events SET outcome = ?, batch = ?, row = ? WHERE id = ?`, out, num, row, ev.ID)
		if err != nil {
			return fmt.Errorf("apply webhook %s: %w", ev.ID, err)
		}
		return nil
	})
	if err != nil {
		return "", "", 0, err
	}
	return out, batch, row, nil
}

// rowByTransfer finds the accepted row holding a transfer, with what
// reconciliation knows of it, through the rows_transfer index.
func rowByTransfer(ctx context.Context, tx *sql.Tx, transferID string) (ReconciledRow, int64, error) {
	var num int64
	var rr ReconciledRow
	err := tx.QueryRowContext(ctx, `SELECT r.batch FROM rows r INDEXED BY rows_transfer
		WHERE r.transfer_id = ? AND r.state = 'accepted' ORDER BY r.id LIMIT 1`, transferID).Scan(&num)
	if err != nil {
		return rr, 0, err
	}
	rr, err = scanReconciled(tx.QueryRowContext(ctx, `SELECT `+rowColumns+`, `+recColumns+` FROM rows r
		LEFT JOIN reconciliations c ON c.batch = r.batch AND c.row = r.row
		WHERE r.batch = ? AND r.transfer_id = ? AND r.state = 'accepted' ORDER BY r.id LIMIT 1`, num, transferID))
	return rr, num, err
}

// WebhookEventSeen reports whether an event id was received before, and
// what was done with it.
func (l *Ledger) WebhookEventSeen(ctx context.Context, id string) (WebhookOutcome, bool, error) {
	var out WebhookOutcome
	err := l.r.QueryRowContext(ctx, `SELECT outcome FROM webhook_events WHERE id = ?`, id).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read webhook event %s: %w", id, err)
	}
	return out, true, nil
}
