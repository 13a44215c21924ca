package validate

// Kind is the kind of spreadsheet cell a value came from.
type Kind uint8

// The cell kinds.
const (
	Text   Kind = iota // text, or any CSV value
	Number             // raw numeric XLSX cell, e.g. "76937.320000000022", "12345678909"
	Date               // XLSX date cell, handed over as "yyyy-mm-dd"
)
