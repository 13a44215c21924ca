// Package validate holds lote's pure validation rules: it turns the cells of
// one payout row into the exact body lote would send to Stone's
// POST /api/v1/external_transfers, or into a list of problems a finance
// person can fix.
//
// It checks CPF and CNPJ (numeric and the alphanumeric CNPJ issued since
// July 2026), resolves the receiving institution from an embedded directory
// (or the Central Bank's ParticipantesSTR.csv), normalises branch, account
// and account type by Stone's documented rules, converts amounts to integer
// cents without ever going through float64, and checks scheduling dates.
//
// Money safety comes first: nothing here guesses an amount or an
// institution. A value that could be read two ways (an amount such as
// "1.234", a short document that pads to both a CPF and a CNPJ) is an error
// that shows both readings; a value that was changed on purpose (leading
// zeros Excel dropped, an account type changed by Stone's rules) carries a
// warning saying so.
//
// Rows are numbered as Excel numbers them (the header is row 1) and columns
// are named as the user wrote them. Amounts are int64 cents. The package does
// no I/O: it imports only the standard library.
package validate
