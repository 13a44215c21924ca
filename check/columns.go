package check

import (
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"

	"lote/sheet"
	"lote/validate"
)

// Field is a column lote understands. Columns it does not understand are
// kept and copied to the results.
type Field int

// The fields of DESIGN.md "The sheet", in the order they are listed there,
// then the columns that are joined to one of them.
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
	// FieldAccountDigit is a separate check-digit column, appended to the
	// account (Stone takes the account with its digit).
	FieldAccountDigit
	// FieldBranchDigit is a separate branch check-digit column: read, and
	// left out of the branch (Stone takes the branch without its digit).
	FieldBranchDigit
	// FieldCPF and FieldCNPJ are separate CPF and CNPJ columns, read as
	// one document: per row, whichever is filled. A sheet with only one of
	// them has it as FieldDocument.
	FieldCPF
	FieldCNPJ
	// FieldPixKey is a Pix key: a row with one is paid by Pix to the key
	// and needs no bank data.
	FieldPixKey
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
	FieldAccountDigit: "account_digit",
	FieldBranchDigit:  "branch_digit",
	FieldCPF:          "cpf",
	FieldCNPJ:         "cnpj",
	FieldPixKey:       "pix_key",
}

// String returns the canonical column name.
func (f Field) String() string { return fieldNames[f] }

// fieldDigit marks a check-digit column that does not say whose digit it
// is ("Dígito", "DV"): it belongs to the branch or account column at its
// left.
const fieldDigit Field = -1

// Headers are the column names lote reads, as finance teams and systems
// write them, by field. Matching folds case, accents, punctuation, spaces
// and "R$" away (see validate.Fold), so "Valor (R$)", "VALOR R$" and "valor"
// are one; the list holds each name once in a readable form. Within a
// field, an earlier group is preferred: the README's table is made from
// this list, and TestHeadersReadme keeps the two in step.
var Headers = []HeaderNames{
	{FieldAmount, [][]string{{"amount", "valor", "vlr", "valor líquido", "vlr. líquido", "valor a pagar", "valor do pagamento", "valor pagamento", "valor pgto", "vlr. pgto", "valor da transferência", "valor transferência", "valor em reais", "valor em", "líquido", "salário líquido", "valor líquido a receber", "net amount", "payment amount", "value"}}},
	{FieldAmountCents, [][]string{{"amount_cents", "valor_centavos", "valor em centavos", "centavos"}}},
	{FieldName, [][]string{{"name", "nome", "favorecido", "nome favorecido", "nome do favorecido", "beneficiário", "nome do beneficiário", "nome beneficiário", "razão social", "nome/razão social", "nome ou razão social", "fornecedor", "nome do fornecedor", "funcionário", "nome do funcionário", "colaborador", "nome do colaborador", "titular", "nome do titular", "payee", "beneficiary", "recipient", "full name"}}},
	{FieldDocument, [][]string{{"document", "documento", "cpf/cnpj", "cnpj/cpf", "cpf ou cnpj", "cpf/cnpj do favorecido", "documento do favorecido", "nº documento do favorecido", "tax id"}}},
	{FieldCPF, [][]string{{"cpf", "cpf do favorecido", "cpf favorecido", "cpf do funcionário"}}},
	{FieldCNPJ, [][]string{{"cnpj", "cnpj do favorecido", "cnpj favorecido", "cnpj do fornecedor"}}},
	{FieldDocumentType, [][]string{{"document_type", "tipo documento", "tipo de documento", "tipo doc", "tipo pessoa", "tipo de pessoa"}}},
	{FieldInstitution, [][]string{{"institution_code", "institution", "banco", "ispb", "código banco", "cód. banco", "código do banco", "cód. do banco", "nº banco", "número do banco", "banco do favorecido", "banco favorecido", "instituição", "instituição financeira", "bank", "bank code"}}},
	{FieldBranch, [][]string{{"branch_code", "branch", "agência", "ag.", "nº agência", "número da agência", "agência do favorecido", "agência favorecido", "cód. agência", "agência sem dígito"}}},
	{FieldBranchDigit, [][]string{{"dv agência", "dígito agência", "dígito da agência", "dig. agência", "dv ag.", "agência dv", "agência dígito", "branch digit"}}},
	{FieldAccount, [][]string{{"account_code", "account", "conta", "conta corrente", "nº conta", "nº da conta", "número da conta", "número conta", "conta do favorecido", "conta favorecido", "conta bancária", "conta com dígito", "account number"}}},
	{FieldAccountDigit, [][]string{{"dígito conta", "dígito da conta", "dv conta", "dig. conta", "conta dv", "conta dígito", "dac", "account digit"}}},
	{fieldDigit, [][]string{{"dígito", "dig.", "dv", "check digit"}}},
	{FieldAccountType, [][]string{{"account_type", "tipo conta", "tipo de conta", "tipo da conta", "modalidade da conta"}}},
	{FieldScheduledTo, [][]string{
		{"scheduled_to", "data_agendamento", "agendamento", "data de agendamento", "data pagamento", "data de pagamento", "data do pagamento", "dt. pgto", "dt. pagamento", "data pgto", "data de crédito", "data crédito", "payment date", "scheduled date"},
		{"vencimento", "data vencimento", "data de vencimento", "dt. vencimento", "due date"},
		{"data", "date"},
	}},
	{FieldPixKey, [][]string{{"pix_key", "chave_pix", "pix", "chave", "chave pix do favorecido", "chave do favorecido"}}},
	{FieldReference, [][]string{{"reference", "referência", "ref.", "id", "identificador", "seu número", "external id"}}},
}

// HeaderNames are the names of one field's column, most preferred group
// first.
type HeaderNames struct {
	Field  Field
	Groups [][]string
}

// alias is a folded header's field, and its rank within the field's names
// (0 preferred).
type alias struct {
	field Field
	rank  int
}

// aliases maps a folded header (see validate.Fold) to its field.
var aliases = func() map[string]alias {
	m := map[string]alias{}
	for _, h := range Headers {
		for rank, g := range h.Groups {
			for _, name := range g {
				m[validate.Fold(name)] = alias{h.Field, rank}
			}
		}
	}
	return m
}()

// payoutWords are the words of a header that looks like a payout field; a
// column so named that lote does not read is a warning, never silence (a
// second amount, a second date, a bank column under another name).
var payoutWords = []struct{ stem, what string }{
	{"valor", "an amount"}, {"vlr", "an amount"}, {"amount", "an amount"}, {"liquido", "an amount"}, {"bruto", "an amount"}, {"salario", "an amount"}, {"montante", "an amount"}, {"quantia", "an amount"},
	{"data", "a date"}, {"date", "a date"}, {"dt", "a date"}, {"vencimento", "a date"},
	{"conta", "an account"}, {"account", "an account"}, {"agencia", "a branch"}, {"branch", "a branch"},
	{"banco", "a bank"}, {"bank", "a bank"}, {"cpf", "a document"}, {"cnpj", "a document"}, {"documento", "a document"},
	{"digito", "a check digit"}, {"dv", "a check digit"},
}

// required fields must have a column; amount and amount_cents are checked
// apart (exactly one of them), and document may be separate CPF and CNPJ
// columns.
var required = []Field{FieldName, FieldDocument, FieldInstitution, FieldBranch, FieldAccount}

// bankField reports whether f is bank data, which a sheet with a Pix key
// column need not have.
func bankField(f Field) bool {
	return f == FieldInstitution || f == FieldBranch || f == FieldAccount
}

// Mapping says which column of the sheet holds each field.
type Mapping struct {
	// Header is the header row as written.
	Header []string
	// Notes are what the user should know about the columns: a column
	// that looks like a payout field but is not read, a date column left
	// for a better one. Each names the column as written.
	Notes []string
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
	return "column " + sheet.ColumnLetter(i)
}

// HeaderError says why a header row cannot be used: which columns are
// missing, repeated or ambiguous, and what was found.
type HeaderError struct {
	Missing   []string // canonical names of required fields with no column
	Repeated  []string // e.g. `"Valor" and "Valor Líquido" are both amount`
	Ambiguous []string // e.g. a check-digit column beside neither branch nor account
	Both      bool     // both amount and amount_cents present
	Found     []string // the header as written
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
	parts = append(parts, e.Ambiguous...)
	found := make([]string, len(e.Found))
	for i, h := range e.Found {
		found[i] = fmt.Sprintf("%q", h)
	}
	return fmt.Sprintf("header: %s (found %s; expected amount or amount_cents, name, document (or CPF and CNPJ), institution_code, branch_code, account_code, and optionally document_type, account_type, scheduled_to, reference; Portuguese names such as Valor, Nome, CPF/CNPJ, Banco, Agência, Conta, Dígito, Data de Pagamento also work)",
		strings.Join(parts, "; "), strings.Join(found, ", "))
}

// score is how many of the required columns m has, for a row that is not
// a header: the closest one is named in the error.
func (m Mapping) score() int {
	n := 0
	if m.Has(FieldAmount) || m.Has(FieldAmountCents) {
		n++
	}
	for _, f := range required {
		if m.Has(f) || f == FieldDocument && (m.Has(FieldCPF) || m.Has(FieldCNPJ)) {
			n++
		}
	}
	return n
}

// IsHeader tells whether cells are a payout sheet's header (sheet.Options
// IsHeader): the row maps every required column, and if not, how many.
func IsHeader(cells []string) (score int, ok bool) {
	m, err := MapHeader(cells)
	return m.score(), err == nil
}

// MapHeader matches a header row to lote's fields. Matching ignores case,
// accents, punctuation and units. It fails when a required column is
// missing, when two columns mean the same field, when a check-digit column
// stands beside neither the branch nor the account, or when both amount
// and amount_cents are present (the amount would be ambiguous). A lesser
// date column ("Vencimento" beside "Data de Pagamento") and columns that
// look like payout fields but are not read are Notes.
func MapHeader(header []string) (Mapping, error) {
	m := Mapping{Header: header}
	for f := range m.index {
		m.index[f] = -1
	}
	e := &HeaderError{Found: header}
	rank := [numFields]int{}
	var digits []int
	known := make([]bool, len(header)) // read, or noted already
	for i, h := range header {
		a, ok := aliases[validate.Fold(h)]
		if !ok {
			continue
		}
		if a.field == fieldDigit {
			digits = append(digits, i)
			continue
		}
		f := a.field
		if j := m.index[f]; j >= 0 {
			switch {
			case a.rank == rank[f]:
				e.Repeated = append(e.Repeated, fmt.Sprintf("%q and %q are both %s: rename the one not to be read", m.ColumnName(j), m.ColumnName(i), f))
				known[i] = true
				continue
			case a.rank > rank[f]:
				m.Notes = append(m.Notes, fmt.Sprintf("column %q is not read: the %s is read from %q", m.ColumnName(i), f, m.ColumnName(j)))
				known[i] = true
				continue
			}
			m.Notes = append(m.Notes, fmt.Sprintf("column %q is not read: the %s is read from %q", m.ColumnName(j), f, m.ColumnName(i)))
		}
		m.index[f], rank[f], known[i] = i, a.rank, true
	}
	// "Dígito" or "DV" alone is the check digit of the column at its left.
	for _, i := range digits {
		f := Field(-1)
		switch {
		case i > 0 && m.index[FieldAccount] == i-1:
			f = FieldAccountDigit
		case i > 0 && m.index[FieldBranch] == i-1:
			f = FieldBranchDigit
		}
		if f < 0 || m.index[f] >= 0 {
			e.Ambiguous = append(e.Ambiguous, fmt.Sprintf("column %q is a check digit, but not right of the branch or the account: name it \"Dígito Conta\" or \"DV Agência\"", m.ColumnName(i)))
			continue
		}
		m.index[f], known[i] = i, true
	}
	// One of CPF and CNPJ alone is the document, whichever it holds; both
	// are read per row as one document.
	switch cpf, cnpj := m.index[FieldCPF], m.index[FieldCNPJ]; {
	case m.Has(FieldDocument) && (cpf >= 0 || cnpj >= 0):
		j := max(cpf, cnpj)
		e.Repeated = append(e.Repeated, fmt.Sprintf("%q and %q are both document: rename the one not to be read", m.ColumnName(m.index[FieldDocument]), m.ColumnName(j)))
	case cpf >= 0 && cnpj < 0:
		m.index[FieldDocument], m.index[FieldCPF] = cpf, -1
	case cnpj >= 0 && cpf < 0:
		m.index[FieldDocument], m.index[FieldCNPJ] = cnpj, -1
	}
	for i, h := range header {
		if known[i] {
			continue
		}
		if what := payoutLike(h); what != "" {
			m.Notes = append(m.Notes, fmt.Sprintf("column %q looks like %s but is not read; rename it if lote should read it (see the README's sheet columns)", strings.TrimSpace(h), what))
		}
	}
	if !m.Has(FieldAmount) && !m.Has(FieldAmountCents) {
		e.Missing = append(e.Missing, "amount")
	}
	e.Both = m.Has(FieldAmount) && m.Has(FieldAmountCents)
	for _, f := range required {
		if bankField(f) && m.Has(FieldPixKey) {
			continue // rows without bank data are paid to their key
		}
		if !m.Has(f) && !(f == FieldDocument && m.Has(FieldCPF)) {
			e.Missing = append(e.Missing, f.String())
		}
	}
	if len(e.Missing) > 0 || len(e.Repeated) > 0 || len(e.Ambiguous) > 0 || e.Both {
		return m, e
	}
	return m, nil
}

// payoutLike returns what a header not read looks like ("an amount", "a
// date"), or "" when it looks like none of the payout fields.
func payoutLike(h string) string {
	f := validate.Fold(h)
	for _, w := range payoutWords {
		if len(w.stem) <= 2 {
			// "dt", "dv": only as the header's first word, lest "advogado"
			// look like a check digit.
			if words := strings.Fields(strings.ToLower(norm.NFKD.String(h))); len(words) > 0 && strings.Trim(words[0], ".:-_/") == w.stem {
				return w.what
			}
			continue
		}
		if strings.Contains(f, w.stem) {
			return w.what
		}
	}
	return ""
}
