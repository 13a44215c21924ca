package check

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Field is a column lote understands. Columns it does not understand are
// kept and copied to the results.
type Field int

// The fields of DESIGN.md "The sheet", in the order they are listed there.
const (
	FieldAmount Field = iota
	FieldAmountCents
	FieldName
	FieldDocument
	FieldDocumentType
	FieldInstitution
	FieldBranch
	FieldAccount
	FieldAccountType
	FieldScheduledTo
	FieldReference
	numFields
)

// fieldNames are the canonical (English) column names, as the README and
// messages show them.
var fieldNames = [numFields]string{
	FieldAmount:       "amount",
	FieldAmountCents:  "amount_cents",
	FieldName:         "name",
	FieldDocument:     "document",
	FieldDocumentType: "document_type",
	FieldInstitution:  "institution_code",
	FieldBranch:       "branch_code",
	FieldAccount:      "account_code",
	FieldAccountType:  "account_type",
	FieldScheduledTo:  "scheduled_to",
	FieldReference:    "reference",
}

// String returns the canonical column name.
func (f Field) String() string { return fieldNames[f] }

// aliases maps a folded header (see foldHeader) to its field. Finance teams
// write Portuguese headers (Valor, Agência, Conta); English ones come from
// systems. Folding makes case, accents and separators irrelevant.
var aliases = map[string]Field{
	"amount": FieldAmount, "valor": FieldAmount,
	"amountcents": FieldAmountCents, "valorcentavos": FieldAmountCents, "valoremcentavos": FieldAmountCents,
	"name": FieldName, "nome": FieldName, "favorecido": FieldName, "nomefavorecido": FieldName, "nomedofavorecido": FieldName,
	"document": FieldDocument, "documento": FieldDocument, "cpfcnpj": FieldDocument, "cpf": FieldDocument, "cnpj": FieldDocument,
	"documenttype": FieldDocumentType, "tipodocumento": FieldDocumentType, "tipodedocumento": FieldDocumentType,
	"institutioncode": FieldInstitution, "banco": FieldInstitution, "ispb": FieldInstitution, "codigobanco": FieldInstitution, "codigodobanco": FieldInstitution, "institution": FieldInstitution,
	"branchcode": FieldBranch, "agencia": FieldBranch, "branch": FieldBranch,
	"accountcode": FieldAccount, "conta": FieldAccount, "account": FieldAccount,
	"accounttype": FieldAccountType, "tipoconta": FieldAccountType, "tipodeconta": FieldAccountType,
	"scheduledto": FieldScheduledTo, "dataagendamento": FieldScheduledTo, "agendamento": FieldScheduledTo, "datadeagendamento": FieldScheduledTo,
	"reference": FieldReference, "referencia": FieldReference, "id": FieldReference,
}

// required fields must have a column; amount and amount_cents are checked
// apart (exactly one of them).
var required = []Field{FieldName, FieldDocument, FieldInstitution, FieldBranch, FieldAccount}

// foldHeader reduces a header to lower-case ASCII letters and digits:
// "Agência" → "agencia", "branch_code" → "branchcode", " CPF/CNPJ " → "cpfcnpj".
func foldHeader(h string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(h) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// combining accent left by NFD: dropped
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(unicode.ToLower(r))
		case r >= unicode.MaxASCII && unicode.IsLetter(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Mapping says which column of the sheet holds each field.
type Mapping struct {
	// Header is the header row as written.
	Header []string
	// index[f] is the 0-based column of field f, or -1 when absent.
	index [numFields]int
}

// Column returns the 0-based index of field f's column, or -1.
func (m Mapping) Column(f Field) int { return m.index[f] }

// Has reports whether the sheet has a column for f.
func (m Mapping) Has(f Field) bool { return m.index[f] >= 0 }

// ColumnName returns how the user wrote the header of column i, or its
// spreadsheet letter when that header is blank.
func (m Mapping) ColumnName(i int) string {
	if i >= 0 && i < len(m.Header) && strings.TrimSpace(m.Header[i]) != "" {
		return strings.TrimSpace(m.Header[i])
	}
	return "column " + ColumnLetter(i)
}

// ColumnLetter returns the spreadsheet letter of the 0-based column i: A, B, …, Z, AA.
func ColumnLetter(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// HeaderError says why a header row cannot be used: which columns are
// missing or repeated, and what was found.
type HeaderError struct {
	Missing  []string // canonical names of required fields with no column
	Repeated []string // e.g. `"CPF" and "CNPJ" are both document`
	Both     bool     // both amount and amount_cents present
	Found    []string // the header as written
}

func (e *HeaderError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing column "+strings.Join(e.Missing, ", "))
	}
	if e.Both {
		parts = append(parts, "has both amount and amount_cents: keep one")
	}
	parts = append(parts, e.Repeated...)
	found := make([]string, len(e.Found))
	for i, h := range e.Found {
		found[i] = fmt.Sprintf("%q", h)
	}
	return fmt.Sprintf("header: %s (found %s; expected amount or amount_cents, name, document, institution_code, branch_code, account_code, and optionally document_type, account_type, scheduled_to, reference; Portuguese names such as Valor, Nome, CPF, Banco, Agência, Conta also work)",
		strings.Join(parts, "; "), strings.Join(found, ", "))
}

// MapHeader matches a header row to lote's fields. Matching ignores case,
// accents and separators. It fails when a required column is missing, when
// two columns mean the same field, or when both amount and amount_cents
// are present (the amount would be ambiguous).
func MapHeader(header []string) (Mapping, error) {
	m := Mapping{Header: header}
	for f := range m.index {
		m.index[f] = -1
	}
	e := &HeaderError{Found: header}
	for i, h := range header {
		f, ok := aliases[foldHeader(h)]
		if !ok {
			continue
		}
		if j := m.index[f]; j >= 0 {
			e.Repeated = append(e.Repeated, fmt.Sprintf("%q and %q are both %s", m.ColumnName(j), m.ColumnName(i), f))
			continue
		}
		m.index[f] = i
	}
	if !m.Has(FieldAmount) && !m.Has(FieldAmountCents) {
		e.Missing = append(e.Missing, "amount")
	}
	e.Both = m.Has(FieldAmount) && m.Has(FieldAmountCents)
	for _, f := range required {
		if !m.Has(f) {
			e.Missing = append(e.Missing, f.String())
		}
	}
	if len(e.Missing) > 0 || len(e.Repeated) > 0 || e.Both {
		return m, e
	}
	return m, nil
}
