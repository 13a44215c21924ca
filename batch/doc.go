// Package batch is lote's pipeline: it reads a payout sheet (package sheet),
// maps its columns (English or Portuguese headers), validates every row
// (package validate), and — for `lote run` — records the rows in the ledger,
// submits the valid ones to Stone under a rate limit and writes the results
// sheet. Rows are numbered as Excel numbers them: the header is row 1.
package batch
