package i18n

// The row states as lote names them in the ledger, on the page and in the
// sheets; JSON and the ledger keep the English word.
var _ = []string{
	Mark("invalid"), Mark("pending"), Mark("held"), Mark("attempted"),
	Mark("accepted"), Mark("rejected"), Mark("needs_review"),
}

// The roles of the page's users, as the page shows them; `lote user` and
// the ledger keep the English word.
var _ = []string{Mark("uploader"), Mark("approver"), Mark("admin")}
