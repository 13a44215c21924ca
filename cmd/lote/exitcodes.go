package main

import (
	"fmt"
	"io"

	"lote/batch"
	"lote/ledger"
	"lote/reconcile"
)

// exitCode documents one exit code: `lote help exit-codes` prints the
// list, and the README's table is checked against it.
type exitCode struct {
	code    int
	outcome string // what happened, in a few words
	next    string // what the person or the job does next
}

// exitCodes are in the order of precedence: a run to which several apply
// exits with the first (after exitOK, which applies alone).
var exitCodes = []exitCode{
	{exitOK, "everything paid (validate: every row valid; reconcile: every row final and paid)", "nothing"},
	{exitUsage, "usage or configuration error; nothing was sent", "fix the flag or setting the message names"},
	{exitInterrupted, "interrupted, Stone unreachable, or rows not yet confirmed; resumable", "run the same command again, or `lote resume BATCH`: nothing is paid twice"},
	{exitPerson, "some rows need a person: whether they were paid is unknown", "check the statement, then `lote settle BATCH ROW --paid ID` or `--not-paid`"},
	{exitRejected, "some rows rejected by Stone, or failed or returned after it accepted them", "fix the payee's data in a new sheet for those rows"},
	{exitHeld, "some rows held as repeats of a payout already paid or being paid", "release them on purpose with --allow-repeat, or leave them"},
	{exitRows, "invalid rows; nothing was sent (with --skip-invalid: the valid rows were paid)", "fix the rows listed, or pass --skip-invalid"},
}

// printExitCodes is `lote help exit-codes`.
func printExitCodes(w io.Writer) {
	fmt.Fprintln(w, "Exit codes of lote run, resume, validate and reconcile. When several apply, the first listed here after 0 wins.")
	fmt.Fprintln(w)
	for _, c := range exitCodes {
		fmt.Fprintf(w, "  %d  %s\n     next: %s\n", c.code, c.outcome, c.next)
	}
	fmt.Fprintln(w, "\n`lote run --if-present FILE` exits 0, saying nothing, when FILE does not exist.")
}

// outcome is the exit code of a run that returned no error, from what its
// rows are now: a resumed batch counts the rows of earlier runs too.
func outcome(rep batch.Report) int {
	sum := rep.Summary
	switch {
	case rep.Interrupted || rep.Unresolved > 0 || sum[ledger.Pending].Rows+sum[ledger.Attempted].Rows > 0:
		return exitInterrupted
	case sum[ledger.NeedsReview].Rows > 0:
		return exitPerson
	case sum[ledger.Rejected].Rows > 0:
		return exitRejected
	case sum[ledger.Held].Rows > 0:
		return exitHeld
	case sum[ledger.Invalid].Rows > 0:
		return exitRows
	}
	return exitOK
}

// reconcileExit is the exit code of reconcile: a person first, then rows
// failed or returned, then rows never sent (invalid, rejected before
// sending, held); transfers only in flight or unread ask for another run.
func reconcileExit(rep reconcile.Report) int {
	switch rep.Status() {
	case reconcile.Settled:
		if rep.Interrupted {
			return exitInterrupted
		}
		return exitOK
	case reconcile.Pending:
		return exitInterrupted
	}
	var review, returned bool
	for _, b := range rep.Batches {
		review = review || b.ByCategory[reconcile.CategoryReview].Rows > 0 || len(b.Mismatches) > 0
		returned = returned || b.ByCategory[reconcile.CategoryReturned].Rows > 0 || b.ByCategory[reconcile.CategoryFailed].Rows > 0
		for _, c := range b.Checks {
			review = review || !c.OK
		}
	}
	switch {
	case review:
		return exitPerson
	case returned:
		return exitRejected
	}
	return exitRows
}
