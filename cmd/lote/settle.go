package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"lote/batch"
	"lote/ledger"
)

// runSettle is `lote settle BATCH ROW`: a person's finding, after checking
// the bank statement, about a row that needs one.
func runSettle(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("settle", "BATCH ROW (--paid TRANSFER_ID | --not-paid --reason TEXT | --resend) --by NAME", cio)
	var conn connFlags
	conn.registerLedger(fs)
	paid := fs.String("paid", "", "the row was paid: Stone's `transfer id` found on the statement")
	notPaid := fs.Bool("not-paid", false, "the row was not paid: the statement shows no transfer for it (give --reason)")
	resend := fs.Bool("resend", false, "send again, with a new key, a row settled as not paid (lote resume BATCH then sends it)")
	reason := fs.String("reason", "", "why, as the person found it (required with --not-paid)")
	by := fs.String("by", "", "who settles the row (recorded with the time)")
	pos, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if len(pos) != 2 {
		return usageError(fs, cio.stderr, "settle takes a batch (or a unique prefix) and a row number as Excel numbers it, got %d arguments", len(pos))
	}
	row, err := strconv.Atoi(pos[1])
	if err != nil || row < 2 {
		return usageError(fs, cio.stderr, "row %q: give the row's number as Excel numbers it (the header is row 1)", pos[1])
	}
	actions := 0
	for _, set := range []bool{*paid != "", *notPaid, *resend} {
		if set {
			actions++
		}
	}
	switch {
	case actions != 1:
		return usageError(fs, cio.stderr, "give one of --paid TRANSFER_ID, --not-paid or --resend")
	case strings.TrimSpace(*by) == "":
		return usageError(fs, cio.stderr, "--by NAME is required: the ledger records who settled the row")
	case *notPaid && strings.TrimSpace(*reason) == "":
		return usageError(fs, cio.stderr, "--not-paid needs --reason TEXT: what the statement showed")
	case utf8.RuneCountInString(*reason) > ledger.MaxReason:
		return usageError(fs, cio.stderr, "--reason: at most %d characters", ledger.MaxReason)
	}
	if err := conn.checkEnv(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	if _, err := os.Stat(conn.ledgerPath()); err != nil && !conn.newLedger {
		fmt.Fprintf(cio.stderr, "lote: no ledger at %s (--ledger or --env chooses another)\n", conn.ledgerPath())
		return exitUsage
	}
	l, err := conn.openLedger()
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	defer l.Close()
	b, err := l.FindBatch(ctx, pos[0])
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	who := strings.TrimSpace(*by)
	var te *ledger.TransitionError
	var taken *ledger.TransferTakenError
	switch {
	case *paid != "":
		err = l.SettlePaid(ctx, b.ID, row, strings.TrimSpace(*paid), who, strings.TrimSpace(*reason))
	case *notPaid:
		err = l.SettleNotPaid(ctx, b.ID, row, who, strings.TrimSpace(*reason))
	default:
		err = resendRow(ctx, l, b.ID, row, who, strings.TrimSpace(*reason))
	}
	switch {
	case err == nil:
	case errors.As(err, &te):
		fmt.Fprintf(cio.stderr, "lote: batch %s row %d is %s, not needs_review: only a row that needs a person is settled; nothing was recorded\n",
			ledger.ShortID(b.ID), row, te.From)
		return exitUsage
	case errors.As(err, &taken):
		fmt.Fprintf(cio.stderr, "lote: transfer %s is already recorded for batch %s row %d: one transfer never pays two rows; nothing was recorded\n",
			taken.TransferID, ledger.ShortID(taken.OtherBatch), taken.OtherRow)
		return exitUsage
	case errors.Is(err, ledger.ErrNotSettledNotPaid):
		fmt.Fprintf(cio.stderr, "lote: batch %s row %d was not settled as not paid: only `lote settle %s %d --not-paid --reason …` lets it go again; nothing was recorded\n",
			ledger.ShortID(b.ID), row, ledger.ShortID(b.ID), row)
		return exitUsage
	default:
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	switch {
	case *paid != "":
		fmt.Fprintf(cio.stdout, "batch %s row %d: settled as paid by transfer %s (by %s); `lote reconcile` follows it at Stone\n", ledger.ShortID(b.ID), row, *paid, who)
	case *notPaid:
		fmt.Fprintf(cio.stdout, "batch %s row %d: settled as not paid (by %s); it is not sent again unless `lote settle %s %d --resend --by NAME`\n",
			ledger.ShortID(b.ID), row, who, ledger.ShortID(b.ID), row)
	default:
		fmt.Fprintf(cio.stdout, "batch %s row %d: to be sent again with a new key (by %s); `lote resume %s` sends it\n", ledger.ShortID(b.ID), row, who, ledger.ShortID(b.ID))
	}
	return exitOK
}

// resendRow gives a row settled as not paid a new key and returns it to
// pending.
func resendRow(ctx context.Context, l *ledger.Ledger, id string, row int, by, reason string) error {
	ss, err := l.Settlements(ctx, id)
	if err != nil {
		return err
	}
	resends := 0
	for _, s := range ss {
		if s.Row == row && s.Outcome == ledger.SettledResend {
			resends++
		}
	}
	r, err := l.Row(ctx, id, row)
	if err != nil {
		return err
	}
	return l.Resend(ctx, id, row, by, reason, batch.ResentKey(r.IdempotencyKey, id, row, resends))
}
