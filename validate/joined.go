package validate

// Sheets often split what Stone takes as one value over two columns: the
// account and its check digit ("Conta" 22113, "Dígito" 4, for the account
// 22113-4), the branch and its digit, a CPF column and a CNPJ column. The
// functions here put them back together, and refuse a row where the two
// columns disagree rather than guess.

// accountWithDigit returns the account text to read, with the separate
// check digit appended. On error, at is the cell the error is about.
func accountWithDigit(account, digit Cell) (text string, at Cell, err error) {
	acc := digitsOf(account)
	if !digit.Present {
		return acc, account, nil
	}
	d := trimSpace(digitsOf(digit))
	inline := hasInlineDigit(acc)
	switch {
	case d == "" && trimSpace(acc) == "":
		return acc, account, nil // the account's own error says it is missing
	case d == "" && inline:
		return acc, account, nil // "22113-4" with the digit column left empty
	case d == "":
		return "", digit, fail(ErrRequired, "The account's check digit is missing: write it in \"%s\", or write the account with its digit in \"%s\" (like 22113-4). Without it the transfer would go to another account.", column(digit, "account_digit"), column(account, "account_code"))
	case len(d) != 1 || !isDigit(d[0]) && !isLetter(d[0]):
		return "", digit, fail(ErrInvalidAccount, "A check digit is one digit (or a letter such as X); is this the right column?")
	case inline:
		return "", account, fail(ErrInvalidAccount, "The account is written with a check digit, and \"%s\" has one too (%s): write the account without its digit, or leave \"%s\" empty.", column(digit, "account_digit"), d, column(digit, "account_digit"))
	}
	return trimSpace(acc) + d, account, nil
}

// hasInlineDigit reports whether an account is written with its check
// digit after a hyphen: "22113-4", "22113 - X".
func hasInlineDigit(acc string) bool {
	for i := len(acc) - 1; i >= 0; i-- {
		if acc[i] == '-' {
			tail := trimSpace(acc[i+1:])
			return len(tail) == 1 && trimSpace(acc[:i]) != ""
		}
	}
	return false
}

// branchDigit checks a separate branch check-digit cell. Stone takes the
// branch without its digit, so the digit is not sent; a cell that is not
// one digit or letter means the columns are not what they seem.
func branchDigit(digit Cell) error {
	d := trimSpace(digitsOf(digit))
	if d == "" || len(d) == 1 && (isDigit(d[0]) || isLetter(d[0])) {
		return nil
	}
	return fail(ErrInvalidBranch, "A branch check digit is one digit (or a letter such as X); is this the right column?")
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// splitDocument picks a row's document from separate CPF and CNPJ
// columns: the one that is filled, read as the kind its column names. dt
// is the document type column's value ("" when none); it must agree.
func splitDocument(in *Input, dt string) (Cell, string, error) {
	cpf, cnpj := trimSpace(in.CPF.Value) != "", trimSpace(in.CNPJ.Value) != ""
	switch {
	case cpf && cnpj:
		return in.CNPJ, dt, fail(ErrInvalidDocument, "Both \"%s\" and \"%s\" are filled: keep the payee's one document and empty the other.", column(in.CPF, "cpf"), column(in.CNPJ, "cnpj"))
	case !cpf && !cnpj:
		at := in.CPF
		if !at.Present {
			at = in.CNPJ
		}
		return at, dt, fail(ErrRequired, "The document is missing: fill \"%s\" or \"%s\".", column(in.CPF, "cpf"), column(in.CNPJ, "cnpj"))
	case cpf:
		if dt == "cnpj" {
			return in.CPF, dt, fail(ErrDocumentTypeMismatch, "The document type says CNPJ, but the document is in the CPF column.")
		}
		return in.CPF, "cpf", nil
	}
	if dt == "cpf" {
		return in.CNPJ, dt, fail(ErrDocumentTypeMismatch, "The document type says CPF, but the document is in the CNPJ column.")
	}
	return in.CNPJ, "cnpj", nil
}
