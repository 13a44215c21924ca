// Package web is `lote serve`: the page where a finance team signs in,
// uploads a payout sheet, sees every row checked (invalid cells with their
// reasons), submits the batch after confirming its total, has a second
// person approve it when four eyes are required, follows the sending live,
// pauses and resumes it, and downloads the results.
//
// It is built on the same ledger and engine as the command line: a batch
// uploaded here is a ledger batch (`lote status` lists it), sent by
// batch.Resume in the server process under the batch's lease, so the CLI
// and the server never send one batch at the same time.
//
// Pages are rendered on the server from html/template (which escapes every
// cell of the sheet: a name like "<script>" or "=HYPERLINK(…)" shows as
// text), with a stylesheet and a small script embedded in the binary.
// Every handler checks the session and the role itself; every POST must
// carry its session's CSRF token, whatever its content type, and a POST
// that a browser says comes from another origin is refused. Sessions are
// the ledger's (session.go): each request reads its user's role there, so
// a change of password, role or state ends it at once. Sign-ins are
// counted before their check and throttled per name and address
// (auth.go); bodies, answers and connections are bounded (listen.go).
// Uploads are kept under Options.DataDir and never served back as
// uploaded; they go once past the ledger's retention (retention.go).
package web
