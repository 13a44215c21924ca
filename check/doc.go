// Package check reads a payout sheet and checks every row: it maps the
// header to the columns lote understands (English and Portuguese names,
// matched without regard to case, accents or separators), and runs the
// concurrent pipeline that reads the sheet in chunks, splits each row into
// the validator's input and delivers the results in row order.
//
// It writes nothing: lote validate prints what it delivers, and batch
// imports it into the ledger.
package check
