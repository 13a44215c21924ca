package validate

import "strconv"

// Doc is a checked payee document, as Stone's entity wants it.
type Doc struct {
	Number        string // digits and upper-case letters only: 11 for a CPF, 14 for a CNPJ
	Type          string // "cpf" or "cnpj", lower case as Stone's responses use
	ZerosRestored bool   // leading zeros that Excel had dropped were put back
	// AlsoCNPJ is set when a restored CPF would also be a valid CNPJ
	// padded with more zeros: the warning names it so a person can check.
	AlsoCNPJ string
}

// CPF checks a CPF, masked ("529.982.247-25") or not, and returns its 11
// digits. A CPF made of one repeated digit is rejected even though its check
// digits work out. It never pads: see Document for lost leading zeros.
func CPF(s string) (string, error) {
	n, ok := normalizeDocument(s)
	switch {
	case n == "":
		return "", fail(ErrRequired, "The CPF is empty.")
	case !ok || len(n) != 11 || !allDigits(n):
		return "", fail(ErrInvalidCPF, "A CPF has 11 digits; this value has %s.", describeLength(n, ok))
	case !cpfValid(n):
		return "", fail(ErrInvalidCPF, "The CPF's check digits do not match: check the number with the payee.")
	}
	return n, nil
}

// CNPJ checks a CNPJ, numeric ("11.222.333/0001-81") or alphanumeric
// ("12.ABC.345/01DE-35", issued since July 2026), masked or not, any case,
// and returns its 14 characters in upper case. It never pads: see Document.
func CNPJ(s string) (string, error) {
	n, ok := normalizeDocument(s)
	switch {
	case n == "":
		return "", fail(ErrRequired, "The CNPJ is empty.")
	case !ok || len(n) != 14:
		return "", fail(ErrInvalidCNPJ, "A CNPJ has 14 characters; this value has %s.", describeLength(n, ok))
	case !cnpjValid(n):
		return "", fail(ErrInvalidCNPJ, "The CNPJ's check digits do not match: check the number with the payee.")
	}
	return n, nil
}

// DocumentType normalises a document_type cell: "" (not given), "cpf" or
// "cnpj". It accepts any case and the abbreviations PF and PJ.
func DocumentType(s string) (string, error) {
	switch lowerASCII(trimSpace(s)) {
	case "":
		return "", nil
	case "cpf", "pf":
		return "cpf", nil
	case "cnpj", "pj":
		return "cnpj", nil
	}
	// A "Tipo Pessoa" column: F or J, física or jurídica.
	switch Fold(s) {
	case "f", "fisica", "pessoafisica":
		return "cpf", nil
	case "j", "juridica", "pessoajuridica":
		return "cnpj", nil
	}
	return "", fail(ErrInvalidDocumentType, "The document type must be CPF or CNPJ (or F/J, física/jurídica), or left empty to infer it from the document.")
}

// Document checks a CPF or CNPJ and infers which it is. documentType is ""
// (infer), "cpf" or "cnpj" (as returned by DocumentType); when given, the
// value must agree with it.
//
// Excel turns a CPF or CNPJ typed as a number into a shorter number
// ("191" for 00.000.000/0001-91). A digits-only value shorter than its kind
// is zero-padded back only when the padded value passes the check digits,
// and Doc.ZerosRestored says so.
//
// Every CPF that starts with 0 is also a valid CNPJ once padded to 14 digits
// (the weights differ only on the first digit), so "both pad validly" cannot
// mean ambiguous on its own. A 9- or 10-digit value is read as a CPF that
// lost one or two zeros: the CNPJ reading would need a company root below
// 00010000 (four or more lost zeros), which only a handful of the oldest
// registrations have; Doc.AlsoCNPJ names it for the warning. A value of 1 to
// 8 digits that pads to both is ambiguous (an error: "191" is Banco do
// Brasil's CNPJ 00.000.000/0001-91 and the CPF 000.000.001-91) unless
// documentType says which it is. An 11-digit value that is a valid CPF is a
// CPF unless documentType says "cnpj".
func Document(value, documentType string) (Doc, error) {
	if len(value) == 11 && (documentType == "" || documentType == "cpf") && cpfValid(value) {
		return Doc{Number: value, Type: "cpf"}, nil // the usual cell, read below the same way
	}
	n, ok := normalizeDocument(value)
	if n == "" {
		return Doc{}, fail(ErrRequired, "The CPF or CNPJ is missing.")
	}
	if documentType != "" && documentType != "cpf" && documentType != "cnpj" {
		return Doc{}, fail(ErrInvalidDocumentType, "The document type must be CPF or CNPJ.")
	}
	if !ok {
		return Doc{}, fail(ErrInvalidDocument, "A CPF or CNPJ may hold only digits, letters (alphanumeric CNPJ) and the separators . - /.")
	}
	digits := allDigits(n)
	if !digits {
		// Letters: only the alphanumeric CNPJ has them, and no number cell
		// produced it, so there are no lost zeros to restore.
		if len(n) != 14 {
			return Doc{}, fail(ErrInvalidDocument, "A CNPJ has 14 characters and a CPF 11 digits; this value has %s.", describeLength(n, true))
		}
		if documentType == "cpf" {
			return Doc{}, fail(ErrDocumentTypeMismatch, "The document type says CPF, but the value has letters, like an alphanumeric CNPJ; a CPF has 11 digits.")
		}
		if !cnpjValid(n) {
			return Doc{}, fail(ErrInvalidCNPJ, "The CNPJ's check digits do not match: check the number with the payee.")
		}
		return Doc{Number: n, Type: "cnpj"}, nil
	}

	// Digits only. The exact lengths first: an exact match is not a guess.
	if len(n) == 14 {
		if documentType == "cpf" {
			return Doc{}, fail(ErrDocumentTypeMismatch, "The document type says CPF, but the value has 14 digits, like a CNPJ; a CPF has 11.")
		}
		if !cnpjValid(n) {
			return Doc{}, fail(ErrInvalidCNPJ, "The CNPJ's check digits do not match: check the number with the payee.")
		}
		return Doc{Number: n, Type: "cnpj"}, nil
	}
	if len(n) > 14 {
		return Doc{}, fail(ErrInvalidDocument, "A CNPJ has 14 digits and a CPF 11; this value has %s.", strconv.Itoa(len(n)))
	}
	if len(n) == 11 && documentType != "cnpj" && cpfValid(n) {
		return Doc{Number: n, Type: "cpf"}, nil
	}

	// Shorter than its kind: maybe Excel dropped leading zeros. Only a bare
	// number can be Excel's doing; a masked value was typed short.
	cpf, cnpj := "", ""
	bare := allDigits(trimSpace(value))
	if bare && len(n) < 11 && documentType != "cnpj" {
		if p := zeroPad(n, 11); cpfValid(p) {
			cpf = p
		}
	}
	if bare && documentType != "cpf" {
		if p := zeroPad(n, 14); cnpjValid(p) {
			cnpj = p
		}
	}
	switch {
	case cpf != "" && cnpj != "" && len(n) >= 9:
		return Doc{Number: cpf, Type: "cpf", ZerosRestored: true, AlsoCNPJ: cnpj}, nil
	case cpf != "" && cnpj != "":
		return Doc{}, fail(ErrAmbiguousDocument, "This number lost its leading zeros and could be the CPF %s or the CNPJ %s: write it in full, or fill the document type column.", formatCPF(cpf), formatCNPJ(cnpj))
	case cpf != "":
		return Doc{Number: cpf, Type: "cpf", ZerosRestored: true}, nil
	case cnpj != "":
		return Doc{Number: cnpj, Type: "cnpj", ZerosRestored: true}, nil
	}

	if !bare && len(n) != 11 {
		return Doc{}, fail(ErrInvalidDocument, "A CPF has 11 digits and a CNPJ 14; this value has %s.", strconv.Itoa(len(n)))
	}
	switch {
	case len(n) == 11 && documentType == "cnpj" && cpfValid(n):
		return Doc{}, fail(ErrDocumentTypeMismatch, "The document type says CNPJ, but the value is a valid CPF (%s).", formatCPF(n))
	case len(n) == 11:
		return Doc{}, fail(ErrInvalidCPF, "The CPF's check digits do not match: check the number with the payee.")
	case documentType == "cpf" && len(n) > 11:
		return Doc{}, fail(ErrInvalidCPF, "A CPF has 11 digits; this value has %s.", strconv.Itoa(len(n)))
	case documentType == "cpf":
		return Doc{}, fail(ErrInvalidCPF, "A CPF has 11 digits; this value has %s, and adding leading zeros does not make a valid CPF.", strconv.Itoa(len(n)))
	case len(n) > 11 || documentType == "cnpj":
		return Doc{}, fail(ErrInvalidCNPJ, "A CNPJ has 14 digits; this value has %s, and adding leading zeros does not make a valid CNPJ.", strconv.Itoa(len(n)))
	}
	return Doc{}, fail(ErrInvalidDocument, "A CPF has 11 digits and a CNPJ 14; this value has %s, and adding leading zeros makes neither a valid CPF nor a valid CNPJ.", strconv.Itoa(len(n)))
}

// normalizeDocument removes the mask characters (. - / and spaces) and
// upper-cases letters. ok is false when another character is present.
func normalizeDocument(s string) (n string, ok bool) {
	// Most cells are already bare digits: return them without a copy.
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		clean = c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'
	}
	if clean {
		return s, true
	}
	var buf [32]byte
	b := buf[:0]
	ok = true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
			b = append(b, c)
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		case c == '.' || c == '-' || c == '/' || c == ' ' || c == '\t':
		case c == 0xC2 && i+1 < len(s) && s[i+1] == 0xA0: // no-break space
			i++
		default:
			ok = false
		}
	}
	return string(b), ok
}

func describeLength(n string, ok bool) string {
	if !ok {
		return "other characters"
	}
	if allDigits(n) {
		return strconv.Itoa(len(n)) + " digits"
	}
	return strconv.Itoa(len(n)) + " characters"
}

// cpfValid reports whether n is 11 digits, not one repeated digit, with
// matching mod-11 check digits.
func cpfValid(n string) bool {
	if len(n) != 11 {
		return false
	}
	// Both check digits in one pass over the digits: the first weighs the
	// 9 body digits 10 down to 2, the second the 10 digits before it 11
	// down to 2.
	sum1, sum2 := 0, 0
	same := true
	for i := 0; i < 9; i++ {
		d := uint(n[i] - '0') // a byte below '0' wraps to a large value
		if d > 9 {
			return false
		}
		same = same && n[i] == n[0]
		sum1 += int(d) * (10 - i)
		sum2 += int(d) * (11 - i)
	}
	if !isDigit(n[9]) || !isDigit(n[10]) || same && n[9] == n[0] && n[10] == n[0] {
		return false
	}
	if mod11(sum1) != n[9] {
		return false
	}
	return mod11(sum2+int(n[9]-'0')*2) == n[10]
}

// cnpjValid reports whether n is 12 characters of 0-9/A-Z followed by two
// digits, not one repeated character, with matching check digits. Each
// character counts as its ASCII code minus 48 (A = 17), which keeps numeric
// CNPJs valid under the alphanumeric rule (IN RFB 2.229/2024).
func cnpjValid(n string) bool {
	if len(n) != 14 || allSame(n) {
		return false
	}
	for i := 0; i < 12; i++ {
		if c := n[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	if !isDigit(n[12]) || !isDigit(n[13]) {
		return false
	}
	return cnpjDigit(n[:12]) == n[12] && cnpjDigit(n[:13]) == n[13]
}

// cnpjDigit computes a CNPJ check digit: weights cycle 2..9 from the right.
func cnpjDigit(body string) byte {
	sum := 0
	w := 2
	for i := len(body) - 1; i >= 0; i-- {
		sum += int(body[i]-'0') * w
		w++
		if w > 9 {
			w = 2
		}
	}
	return mod11(sum)
}

func mod11(sum int) byte {
	r := sum % 11
	if r < 2 {
		return '0'
	}
	return byte('0' + 11 - r)
}

func formatCPF(n string) string {
	return n[0:3] + "." + n[3:6] + "." + n[6:9] + "-" + n[9:11]
}

func formatCNPJ(n string) string {
	return n[0:2] + "." + n[2:5] + "." + n[5:8] + "/" + n[8:12] + "-" + n[12:14]
}

func formatDocument(d Doc) string {
	if d.Type == "cpf" {
		return "CPF " + formatCPF(d.Number)
	}
	return "CNPJ " + formatCNPJ(d.Number)
}
