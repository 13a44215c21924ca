package i18n

// The row states as lote names them in the ledger, on the page and in the
// sheets; JSON and the ledger keep the English word.
var _ = []string{
	Mark("invalid"), Mark("pending"), Mark("held"), Mark("attempted"),
	Mark("accepted"), Mark("rejected"), Mark("needs_review"),
}

// The batch states, as lote run and lote status name them.
var _ = []string{Mark("importing"), Mark("imported"), Mark("running"), Mark("done")}

// The roles of the page's users, as the page shows them; `lote user` and
// the ledger keep the English word.
var _ = []string{Mark("uploader"), Mark("approver"), Mark("admin")}

// Fragments validate passes as arguments of its messages (check.Issue's
// MessageIn looks each argument up).
var _ = []string{
	Mark("no other amount in the file shows which separator it uses."),
	Mark("other characters"),
	Mark("comma (1.234,56)"),
	Mark("point (1,234.56)"),
}
