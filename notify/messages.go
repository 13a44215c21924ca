package notify

import (
	"fmt"

	"lote/validate"
)

// Every text an event carries is made here, one function per event and
// one whole format per message and plural form, so that a catalogue can
// translate each later. Documents and accounts never appear in them: a
// chat channel is read by more people than the ledger.

// Batch names the batch an event is about.
type Batch struct {
	ID, File, Env, Account string
}

func (b Batch) event(typ string) Event {
	return Event{Type: typ, Batch: b.ID, File: b.File, Env: b.Env, Account: b.Account}
}

// short is a batch id as people type it.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func plural(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}

// AwaitingApproval: someone submitted the batch and it waits for approvals.
func AwaitingApproval(b Batch, by string, rows int, cents int64, needed int) Event {
	ev := b.event(BatchAwaitingApproval)
	ev.By, ev.ApprovalsNeeded = by, needed
	ev.Rows, ev.AmountCents = map[string]int{"to_send": rows}, map[string]int64{"to_send": cents}
	ev.Text = fmt.Sprintf(plural(rows, "lote: batch %s (%s) waits for approval: %d payment, total %s, submitted by %s.",
		"lote: batch %s (%s) waits for approval: %d payments, total %s, submitted by %s."),
		short(b.ID), b.File, rows, validate.FormatBRL(cents), by)
	return ev
}

// Approved: an approver approved the batch; approvals of needed so far.
func Approved(b Batch, by string, approvals, needed int) Event {
	ev := b.event(BatchApproved)
	ev.By, ev.Approvals, ev.ApprovalsNeeded = by, approvals, needed
	if approvals >= needed {
		ev.Text = fmt.Sprintf("lote: batch %s (%s) approved by %s; it is being sent.", short(b.ID), b.File, by)
	} else {
		ev.Text = fmt.Sprintf("lote: batch %s (%s) approved by %s: approval %d of %d; it waits for the next.", short(b.ID), b.File, by, approvals, needed)
	}
	return ev
}

// Rejected: an approver rejected the batch; it is never sent.
func Rejected(b Batch, by, reason string) Event {
	ev := b.event(BatchRejected)
	ev.By, ev.Reason = by, reason
	ev.Text = fmt.Sprintf("lote: batch %s (%s) rejected by %s: %s. It will not be sent.", short(b.ID), b.File, by, reason)
	return ev
}

// Sent: a run of the batch ended; rows and cents by state.
func Sent(b Batch, rows map[string]int, cents map[string]int64) Event {
	ev := b.event(BatchSent)
	ev.Rows, ev.AmountCents = rows, cents
	ev.Text = fmt.Sprintf("lote: batch %s (%s) sent: accepted %d (%s), rejected %d, needing a person %d, held %d, not yet confirmed %d.",
		short(b.ID), b.File, rows["accepted"], validate.FormatBRL(cents["accepted"]), rows["rejected"], rows["needs_review"], rows["held"],
		rows["pending"]+rows["attempted"])
	return ev
}

// NeedPerson: rows of the batch whose outcome is unknown.
func NeedPerson(b Batch, rows int, cents int64) Event {
	ev := b.event(RowsNeedPerson)
	ev.Rows, ev.AmountCents = map[string]int{"needs_review": rows}, map[string]int64{"needs_review": cents}
	ev.Text = fmt.Sprintf(plural(rows,
		"lote: %d row of batch %s (%s), %s, needs a person: whether it was paid is unknown. Check the statement, then `lote settle`.",
		"lote: %d rows of batch %s (%s), %s, need a person: whether they were paid is unknown. Check the statement, then `lote settle`."),
		rows, short(b.ID), b.File, validate.FormatBRL(cents))
	return ev
}

// Returned: a payment Stone accepted failed or came back afterwards.
func Returned(b Batch, row int, transferID, status string, cents int64) Event {
	ev := b.event(PaymentReturned)
	ev.Row, ev.TransferID, ev.Status = row, transferID, status
	ev.AmountCents = map[string]int64{"returned": cents}
	ev.Text = fmt.Sprintf("lote: the payment of row %d of batch %s (%s), %s, was not completed after Stone accepted it (Stone: %s): the payee was not paid.",
		row, short(b.ID), b.File, validate.FormatBRL(cents), status)
	return ev
}

// Reconciled: a reconciliation ended with verdict (settled, pending,
// attention); the sums are in cents.
func Reconciled(verdict string, batches, needPerson int, paid, returned int64) Event {
	ev := Event{Type: ReconciliationFinished, Verdict: verdict,
		Rows: map[string]int{"batches": batches, "need_person": needPerson}, AmountCents: map[string]int64{"paid": paid, "returned": returned}}
	ev.Text = fmt.Sprintf(plural(needPerson,
		"lote: reconciliation finished (%s): paid %s, returned %s; %d row needs a person.",
		"lote: reconciliation finished (%s): paid %s, returned %s; %d rows need a person."),
		verdict, validate.FormatBRL(paid), validate.FormatBRL(returned), needPerson)
	return ev
}
