package validate

import "strconv"

// Account normalises an account_code cell as Stone wants it: separators
// ("-", ".", spaces) removed, leading zeros removed, then 2 to 20 digits
// starting with 1-9 (^[1-9]\d{1,19}$, stone-api.md §2.1); "00012345-6"
// becomes "123456". bank names the payee's bank for messages; it may be "".
//
// A letter check digit (X at Banco do Brasil, P at Bradesco) is an error:
// Stone takes digits only, and lote never substitutes a digit for it.
func Account(value, bank string) (string, error) {
	if len(value) <= 40 && allDigits(value) {
		// Bare digits, the usual cell: no separator to remove, so the
		// result is a substring of value and needs no copy.
		n := trimLeftZeros(value)
		switch {
		case len(n) < 2:
			return "", fail(ErrInvalidAccount, "An account number (with its check digit) has at least 2 digits besides leading zeros.")
		case len(n) > 20:
			return "", fail(ErrInvalidAccount, "An account number has at most 20 digits; this one has %s.", strconv.Itoa(len(n)))
		}
		return n, nil
	}
	var buf [40]byte
	b := buf[:0]
	letter := byte(0)
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case isDigit(c):
			if letter != 0 {
				return "", fail(ErrInvalidAccount, "An account number has only digits (with its check digit at the end).")
			}
			if len(b) < cap(buf) {
				b = append(b, c)
			} else {
				return "", fail(ErrInvalidAccount, "An account number has at most 20 digits.")
			}
		case c == '-' || c == '.' || c == ' ' || c == '\t' || c == '/':
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			if letter != 0 {
				return "", fail(ErrInvalidAccount, "An account number has only digits (with its check digit at the end).")
			}
			letter = c
		case c == 0xC2 && i+1 < len(value) && value[i+1] == 0xA0: // no-break space
			i++
		default:
			return "", fail(ErrInvalidAccount, "An account number has only digits (with its check digit at the end).")
		}
	}
	if letter != 0 {
		if len(b) == 0 {
			return "", fail(ErrInvalidAccount, "An account number has only digits (with its check digit at the end).")
		}
		if bank != "" {
			return "", fail(ErrAccountCheckLetter, "The account ends in the check digit \"%s\" at %s, but Stone accepts digits only. Ask the payee or the bank for the account number written with digits; lote does not replace the letter.", string(rune(upper(letter))), bank)
		}
		return "", fail(ErrAccountCheckLetter, "The account ends in the check digit \"%s\", but Stone accepts digits only. Ask the payee or the bank for the account number written with digits; lote does not replace the letter.", string(rune(upper(letter))))
	}
	n := trimLeftZeros(string(b))
	switch {
	case len(b) == 0:
		return "", fail(ErrRequired, "The account number is missing.")
	case len(n) < 2:
		return "", fail(ErrInvalidAccount, "An account number (with its check digit) has at least 2 digits besides leading zeros.")
	case len(n) > 20:
		return "", fail(ErrInvalidAccount, "An account number has at most 20 digits; this one has %s.", strconv.Itoa(len(n)))
	}
	return n, nil
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// Branch normalises a branch_code cell: empty (no branch) or 1 to 4 digits,
// without check digit (^\d{1,4}$, stone-api.md §2.1). A branch written with
// its check digit ("1234-5") is an error saying to drop the digit.
func Branch(value string) (string, error) {
	v := trimSpace(value)
	if v == "" {
		return "", nil
	}
	if allDigits(v) && len(v) <= 4 {
		return v, nil
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '-' {
			head, tail := trimSpace(v[:i]), trimSpace(v[i+1:])
			if allDigits(head) && len(head) <= 4 && len(tail) == 1 {
				return "", fail(ErrInvalidBranch, "The branch is written with its check digit; Stone takes the branch without it: write %s.", head)
			}
			break
		}
	}
	return "", fail(ErrInvalidBranch, "A branch has 1 to 4 digits, without its check digit.")
}

// AccountType normalises an account_type cell to CC (conta corrente), CD
// (depósito), CG (garantida), PG (pagamento) or PP (poupança); "" when empty.
// It accepts any case and the Portuguese words (corrente, poupança,
// pagamento, depósito, garantida, with or without "conta"). A conta
// salário or investimento is an error that says why and what to ask for.
func AccountType(value string) (string, error) {
	// The usual cell is a bare two-letter code in any case; folding it
	// would only lower-case it, at the cost of a copy per row.
	if len(value) == 2 {
		for _, code := range [...]string{"CC", "CD", "CG", "PG", "PP"} {
			if upper(value[0]) == code[0] && upper(value[1]) == code[1] {
				return code, nil
			}
		}
	}
	v := Fold(value)
	if len(v) > 5 && v[:5] == "conta" {
		v = v[5:]
		if len(v) > 2 && v[:2] == "de" && v != "deposito" {
			v = v[2:]
		}
	}
	switch v {
	case "":
		return "", nil
	case "cc", "corrente", "checking":
		return "CC", nil
	case "cd", "deposito":
		return "CD", nil
	case "cg", "garantida":
		return "CG", nil
	case "pg", "pagamento", "pagamentos", "payment":
		return "PG", nil
	case "pp", "poupanca", "poup", "savings":
		return "PP", nil
	case "salario":
		return "", fail(ErrInvalidAccountType, "A conta salário is not one of the types a TED from Stone takes (CC, CD, CG, PG, PP): ask the payee or the bank which to use, usually CC (corrente).")
	case "ci", "investimento":
		return "", fail(ErrInvalidAccountType, "Stone no longer sends TEDs to a conta investimento: ask the payee for a conta corrente or poupança, and write CC or PP.")
	}
	return "", fail(ErrInvalidAccountType, "The account type must be CC (corrente), CD (depósito), CG (garantida), PG (pagamento) or PP (poupança), as the code or the word.")
}

// AccountRules applies Stone's account-type rules (stone-api.md §2.1) to a
// normalised type, branch and account, and returns what will be sent. note
// explains the change when the result differs from what the user wrote
// (other than an empty type becoming CC), and is "" otherwise:
//   - PG has no branch: the branch is dropped;
//   - CC or empty with more than 13 account digits becomes PG, branch dropped;
//   - CC or empty without a branch becomes PG;
//   - otherwise empty is CC.
func AccountRules(accountType, branch, account string) (typ, br, note string) {
	switch {
	case accountType == "PG" && branch != "":
		return "PG", "", "A payment account (PG) has no branch; the branch " + branch + " will not be sent."
	case (accountType == "CC" || accountType == "") && len(account) > 13:
		msg := "An account with more than 13 digits is a payment account: it will be sent as PG"
		if accountType == "CC" {
			msg = "An account with more than 13 digits cannot be a CC: it will be sent as a payment account (PG)"
		}
		if branch != "" {
			msg += ", without the branch " + branch
		}
		return "PG", "", msg + "."
	case (accountType == "CC" || accountType == "") && branch == "":
		if accountType == "CC" {
			return "PG", "", "A CC needs a branch; with none, Stone sends it as a payment account (PG)."
		}
		return "PG", "", "With no branch and no account type, it will be sent as a payment account (PG)."
	case accountType == "":
		return "CC", branch, ""
	}
	return accountType, branch, ""
}
