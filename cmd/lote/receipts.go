package main

import (
	"context"
	"fmt"
	"lote/internal/i18n"
	"strconv"

	"lote/receipts"
)

// runReceipts is `lote receipts BATCH [--out DIR|FILE.zip]`: one PDF
// receipt per paid row, fetched from Stone.
func runReceipts(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("receipts", "BATCH", cio)
	var conn connFlags
	conn.register(fs)
	out := fs.String("out", "", "write the receipts into this `folder`, or into one FILE.zip (default: comprovantes-BATCH.zip)")
	rate := fs.Float64("rate", 10, "requests per second to Stone")
	ids, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if len(ids) != 1 {
		return usageError(fs, cio.stderr, "name one batch (or a unique prefix; `lote status` lists them)")
	}
	if *rate <= 0 {
		return usageError(fs, cio.stderr, "--rate must be positive")
	}
	if err := conn.check(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	if conn.env == "sim" {
		fmt.Fprintln(cio.stderr, "lote: --env sim keeps its transfers only while `lote run` runs: fetch receipts from stonesim "+
			"(--env sandbox --api-url URL --auth-url URL …)")
		return exitUsage
	}
	c, err := conn.connect()
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	defer c.Close()
	b, err := c.ledger.FindBatch(ctx, ids[0])
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	dest := *out
	if dest == "" {
		dest = "comprovantes-" + b.ID[:10] + ".zip"
	}
	rep, err := receipts.Fetch(ctx, receipts.Options{Ledger: c.ledger, Client: c.client, Batch: b.ID, Out: dest, Rate: *rate})
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitRows
	}
	fmt.Fprintln(cio.stdout, cio.p.T(plural(len(rep.Files), i18n.Mark("%d receipt written to %s"), i18n.Mark("%d receipts written to %s")), len(rep.Files), dest))
	for _, m := range rep.Missing {
		fmt.Fprintln(cio.stdout, cio.p.T("row %s: no receipt: %s", strconv.Itoa(m.Row), m.Reason))
	}
	if len(rep.Missing) > 0 {
		return exitRows
	}
	return exitOK
}
