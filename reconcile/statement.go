package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"lote/internal/pace"
	"lote/ledger"
	"lote/stone"
	"lote/validate"
)

// The statement check compares each settled row with the account's
// statement (stone-api.md §7.4), which lists what actually moved: a TED's
// debit of amount + fee when it executes, and an external_refund credit of
// both when the receiving bank returns it. A FAILED transfer never moved
// money and never appears there (§2.3). Stone's transfer and the statement
// are two records of one payment; the check reports where they disagree.

// DefaultStatementLag is how long after a transfer finished (or was
// returned) its movement may still be missing from the statement before
// the row is reported as differing.
const DefaultStatementLag = 6 * time.Hour

// StatementState is what the statement says of one row's transfer.
type StatementState string

// Statement states of a row.
const (
	// StatementOK: the money left (and came back, for a returned row) as
	// Stone's transfer says, fee included; for a failed row, nothing moved.
	StatementOK StatementState = "ok"
	// StatementNotYet: the movement is not in the statement, but the
	// transfer settled less than the lag ago. Checked again next time.
	StatementNotYet StatementState = "not yet in the statement"
	// StatementDiffers: the movement is missing past the lag, or its
	// amount, fee or count differ from the transfer's.
	StatementDiffers StatementState = "differs"
)

// StatementCheck is the statement's verdict on one row.
type StatementCheck struct {
	State  StatementState
	Detail string // what differs, for a person; "" unless StatementDiffers
}

// text is the check as the report's statement column shows it.
func (sc StatementCheck) text() string {
	if sc.State == StatementDiffers {
		return "differs: " + sc.Detail
	}
	return string(sc.State)
}

// StatementTotals count a batch's rows by what the statement says.
type StatementTotals struct {
	// Checked says the statement was read for the batch.
	Checked bool `json:"checked"`
	OK      int  `json:"ok"`
	NotYet  int  `json:"not_yet"`
	Differ  int  `json:"differ"`
}

// statementTypes are the entry types read: an outgoing TED and its refund.
var statementTypes = []string{stone.StatementExternal, stone.StatementExternalRefund}

// statementRow is what the check needs of a row whose transfer settled.
type statementRow struct {
	batch, row       int // index in Report.Batches; Excel row
	cat              Category
	amount, fee      int64
	settled          time.Time // finished_at (paid) or refunded_at (returned)
	failureCode      string
	flagged          bool // already counted as needing a person
	debits, refunds  []stone.StatementEntry
	unexpectedOthers []stone.StatementEntry
}

// checkStatement reads the account's statement once, from the newest entry
// back to the oldest settled transfer of the report's batches, and judges
// every paid, returned or failed row against it. A statement that cannot
// be read leaves the rows unjudged and says why in StatementErr; Stone
// refusing the credentials stops with the error.
func (rc *reconciler) checkStatement(ctx context.Context, rep *Report) error {
	rep.StatementLag = rc.opts.StatementLag
	byID := map[string]*statementRow{}
	var earliest time.Time
	for i := range rep.Batches {
		b := &rep.Batches[i]
		b.Statement = StatementTotals{Checked: true}
		b.statement = map[int]StatementCheck{}
		for rr, err := range rc.l.Reconciled(context.WithoutCancel(ctx), b.Batch.ID) {
			if err != nil {
				return fmt.Errorf("reconcile batch %s: %w", ledger.ShortID(b.Batch.ID), err)
			}
			cat := categorize(rr.Row)
			// The check reads TED debits and refunds only: a Pix or an
			// internal transfer moves money under other entry types, and
			// is left unjudged rather than reported missing.
			if rail := rr.Row.Rail; rail != "" && rail != ledger.RailTED {
				continue
			}
			if rr.TransferID == "" || !rr.Checked || !rr.Rec.Found ||
				(cat != CategoryPaid && cat != CategoryReturned && cat != CategoryFailed) {
				continue
			}
			sr := &statementRow{batch: i, row: rr.Row.Row, cat: cat, amount: rr.AmountCents, fee: rr.Rec.FeeCents,
				failureCode: rr.Rec.FailureCode, flagged: needsPerson(cat) || rr.Rec.Mismatch != ""}
			sr.settled = rr.Rec.FinishedAt
			if cat == CategoryReturned {
				sr.settled = rr.Rec.RefundedAt
			}
			if sr.settled.IsZero() {
				sr.settled = rr.Rec.CheckedAt
			}
			byID[rr.TransferID] = sr
			if c := rr.Rec.CreatedAt; !c.IsZero() && (earliest.IsZero() || c.Before(earliest)) {
				earliest = c
			}
		}
	}
	if len(byID) == 0 {
		return nil
	}
	if err := rc.readStatement(ctx, byID, earliest); err != nil {
		if errors.Is(err, errStatementUnread) {
			rep.StatementErr = err.Error()
			for i := range rep.Batches {
				rep.Batches[i].Statement.Checked = false
			}
			if ctx.Err() != nil {
				rep.Interrupted = true
			}
			return nil
		}
		return err
	}
	now := rc.opts.Now()
	for id, sr := range byID {
		sc := judgeStatement(sr, now, rc.opts.StatementLag)
		b := &rep.Batches[sr.batch]
		b.statement[sr.row] = sc
		switch sc.State {
		case StatementOK:
			b.Statement.OK++
		case StatementNotYet:
			b.Statement.NotYet++
		default:
			b.Statement.Differ++
			b.Mismatches = append(b.Mismatches, Mismatch{Batch: b.Batch.ID, Row: sr.row, TransferID: id, Detail: "statement: " + sc.Detail})
			if !sr.flagged {
				b.NeedsPerson++
			}
		}
	}
	for i := range rep.Batches {
		b := &rep.Batches[i]
		sortMismatches(b.Mismatches)
		t := b.Statement
		b.Checks = append(b.Checks, Invariant{Name: "statement", OK: t.Differ == 0,
			Detail: fmt.Sprintf("of %d settled transfers: %d match the account statement, %d not in it yet (settled less than %s ago), %d differ",
				t.OK+t.NotYet+t.Differ, t.OK, t.NotYet, lagText(rc.opts.StatementLag), t.Differ)})
	}
	return nil
}

// errStatementUnread marks a statement that could not be read this time.
var errStatementUnread = errors.New("the account statement could not be read")

// readStatement reads the statement newest first into the rows' entries,
// stopping an hour before the earliest transfer was created: no movement
// of these transfers can be older. Pages leave at the limiter's pace;
// retryable errors start the read again, with backoff.
func (rc *reconciler) readStatement(ctx context.Context, byID map[string]*statementRow, earliest time.Time) error {
	stop := earliest.Add(-time.Hour)
	for attempt := 1; ; attempt++ {
		for _, sr := range byID {
			sr.debits, sr.refunds, sr.unexpectedOthers = nil, nil, nil
		}
		err := rc.statementPass(ctx, byID, stop)
		if err == nil {
			return nil
		}
		if cerr := stone.ConfigError(err); cerr != nil {
			return cerr
		}
		outcome, why := stone.Classify(err)
		var se *stone.Error
		if errors.As(err, &se) && se.Status == http.StatusTooManyRequests {
			rc.lim.Throttled(se.RetryAfter)
		}
		if outcome == stone.OutcomeFinal || attempt >= rc.opts.MaxAttempts || ctx.Err() != nil {
			rc.log.Warn("statement not read", "attempts", attempt, "why", why)
			return fmt.Errorf("%w: %s", errStatementUnread, why)
		}
		if err := rc.opts.Sleep(ctx, pace.Backoff(attempt)); err != nil {
			return fmt.Errorf("%w: interrupted", errStatementUnread)
		}
	}
}

// statementPageSize is the page the client asks for (stone.Client.Statement):
// the limiter is waited on before each page.
const statementPageSize = 100

func (rc *reconciler) statementPass(ctx context.Context, byID map[string]*statementRow, stop time.Time) error {
	if err := rc.lim.Wait(ctx); err != nil {
		return err
	}
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := 0
	for e, err := range rc.c.Statement(reqCtx, rc.opts.AccountID, statementTypes) {
		if err != nil {
			return err
		}
		rc.lim.Succeeded()
		if e.CreatedAt != nil && !stop.IsZero() && e.CreatedAt.Before(stop) {
			return nil
		}
		if sr := byID[e.OperationID]; sr != nil {
			switch {
			case e.Type == stone.StatementExternal && e.Amount < 0:
				sr.debits = append(sr.debits, e)
			case e.Type == stone.StatementExternalRefund:
				sr.refunds = append(sr.refunds, e)
			default:
				sr.unexpectedOthers = append(sr.unexpectedOthers, e)
			}
		}
		if n++; n%statementPageSize == 0 {
			// The next entry comes from the next page.
			if err := rc.lim.Wait(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// judgeStatement says whether the statement's entries for a row are what
// its transfer's outcome implies.
func judgeStatement(sr *statementRow, now time.Time, lag time.Duration) StatementCheck {
	brl := validate.FormatBRL
	late := now.Sub(sr.settled) >= lag
	missing := func(what string) StatementCheck {
		if !late {
			return StatementCheck{State: StatementNotYet}
		}
		return StatementCheck{State: StatementDiffers, Detail: fmt.Sprintf("%s, %s after Stone's transfer says it %s",
			what, roundAge(now.Sub(sr.settled)), map[Category]string{CategoryPaid: "finished", CategoryReturned: "was returned"}[sr.cat])}
	}
	var diffs []string
	for _, e := range sr.unexpectedOthers {
		diffs = append(diffs, fmt.Sprintf("unexpected %s entry %s of %s", e.Type, e.ID, brl(e.Amount)))
	}
	if len(sr.debits) > 1 {
		diffs = append(diffs, fmt.Sprintf("debited %d times (entries %s)", len(sr.debits), entryIDs(sr.debits)))
	}
	if len(sr.refunds) > 1 {
		diffs = append(diffs, fmt.Sprintf("refunded %d times (entries %s)", len(sr.refunds), entryIDs(sr.refunds)))
	}
	switch sr.cat {
	case CategoryFailed:
		var net int64
		for _, e := range append(append([]stone.StatementEntry{}, sr.debits...), sr.refunds...) {
			net += e.Amount
		}
		if net != 0 {
			diffs = append(diffs, fmt.Sprintf("the transfer failed, but the statement moved %s (entries %s)", brl(net), entryIDs(append(sr.debits, sr.refunds...))))
		}
	case CategoryPaid:
		if len(sr.debits) == 0 {
			if len(diffs) == 0 {
				return missing(fmt.Sprintf("no debit of %s in the statement", brl(sr.amount+sr.fee)))
			}
			break
		}
		diffs = append(diffs, debitDiffs(sr, sr.debits[0])...)
		for _, e := range sr.refunds {
			diffs = append(diffs, fmt.Sprintf("a refund of %s came back (entry %s) but the transfer is FINISHED", brl(e.Amount), e.ID))
		}
	case CategoryReturned:
		switch {
		case len(sr.debits) == 0 && len(sr.refunds) == 0:
			if sr.failureCode != "" {
				// A scheduled TED short of funds on its date: returned
				// without money ever leaving (stonetest, the docs' refund
				// section).
				break
			}
			if len(diffs) == 0 {
				return missing(fmt.Sprintf("neither the debit of %s nor its refund is in the statement", brl(sr.amount+sr.fee)))
			}
		case len(sr.debits) == 0:
			diffs = append(diffs, fmt.Sprintf("a refund of %s (entry %s) without its debit", brl(sr.refunds[0].Amount), sr.refunds[0].ID))
		case len(sr.refunds) == 0:
			diffs = append(diffs, debitDiffs(sr, sr.debits[0])...)
			if len(diffs) == 0 {
				return missing(fmt.Sprintf("the refund of %s did not come back", brl(-sr.debits[0].Amount)))
			}
		default:
			d, r := sr.debits[0], sr.refunds[0]
			diffs = append(diffs, debitDiffs(sr, d)...)
			if r.Amount != -d.Amount {
				diffs = append(diffs, fmt.Sprintf("refund credit %s, the debit was %s: amount and fee did not both come back", brl(r.Amount), brl(-d.Amount)))
			}
		}
	}
	if len(diffs) > 0 {
		return StatementCheck{State: StatementDiffers, Detail: strings.Join(diffs, "; ")}
	}
	return StatementCheck{State: StatementOK}
}

// debitDiffs compares a TED's debit with the row's amount and the fee
// Stone's transfer shows.
func debitDiffs(sr *statementRow, d stone.StatementEntry) []string {
	brl := validate.FormatBRL
	var diffs []string
	if d.OperationAmount != sr.amount {
		diffs = append(diffs, fmt.Sprintf("statement amount %s, ledger %s (entry %s)", brl(d.OperationAmount), brl(sr.amount), d.ID))
	}
	if d.FeeAmount != sr.fee {
		diffs = append(diffs, fmt.Sprintf("statement fee %s, Stone's transfer %s (entry %s)", brl(d.FeeAmount), brl(sr.fee), d.ID))
	}
	if want := -(sr.amount + sr.fee); (d.Amount != want && len(diffs) == 0) || d.Amount != -(d.OperationAmount+d.FeeAmount) {
		diffs = append(diffs, fmt.Sprintf("statement debit %s, expected %s (amount + fee) (entry %s)", brl(-d.Amount), brl(sr.amount+sr.fee), d.ID))
	}
	return diffs
}

func entryIDs(es []stone.StatementEntry) string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return strings.Join(ids, ", ")
}

// roundAge is d for a person: minutes under two hours, else hours.
func roundAge(d time.Duration) string {
	if d < 2*time.Hour {
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return fmt.Sprintf("%d h", int(d.Hours()))
}

// lagText is the lag for a person: "6 h", "30 min".
func lagText(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return d.String()
}

// sortMismatches orders mismatches by row, so the statement's join the
// transfers' in input order.
func sortMismatches(ms []Mismatch) {
	slices.SortStableFunc(ms, func(a, b Mismatch) int { return cmp.Compare(a.Row, b.Row) })
}

// withStatement sets the line's statement column, and adds a difference
// to what a person must look at.
func (ln *Line) withStatement(sc StatementCheck) {
	ln.Statement = csvText(sc.text())
	if sc.State == StatementDiffers {
		why := "the account statement differs: " + sc.Detail
		if ln.NeedsPerson != "" {
			why = string(ln.NeedsPerson) + "; " + why
		}
		ln.NeedsPerson = csvText(why)
	}
}

// statementParts are the verdict line's words about the statement.
func statementParts(rep Report) []string {
	var parts []string
	if rep.StatementErr != "" {
		parts = append(parts, rep.StatementErr+": run reconcile --statement again")
	}
	notYet, differ := 0, 0
	for _, b := range rep.Batches {
		notYet += b.Statement.NotYet
		differ += b.Statement.Differ
	}
	if differ > 0 {
		parts = append(parts, fmt.Sprintf("%d rows differ from the account statement", differ))
	}
	if notYet > 0 {
		parts = append(parts, fmt.Sprintf("%d rows not yet in the account statement", notYet))
	}
	return parts
}

// statementSummary are a batch's Summary rows about the statement.
func statementSummary(id string, b BatchReport) [][]sumCell {
	if !b.Statement.Checked {
		return nil
	}
	t := b.Statement
	return [][]sumCell{
		{txt(id), txt("statement ok"), count(t.OK)},
		{txt(id), txt("not yet in the statement"), count(t.NotYet)},
		{txt(id), txt("statement differs"), count(t.Differ)},
	}
}
