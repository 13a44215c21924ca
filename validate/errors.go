package validate

import (
	"fmt"
	"strconv"
	"strings"
)

// Rule is the sentinel error of one validation rule. Every error and warning
// this package reports unwraps to one Rule, so callers can test them with
// errors.Is (never by message text) and read the stable code with Code.
type Rule struct {
	code string
	desc string
}

// Code returns the rule's stable, machine-readable code, e.g. "invalid_cpf".
func (r *Rule) Code() string { return r.code }

// Error returns a short phrase that reads well after a column name.
func (r *Rule) Error() string { return r.desc }

// The rules. Errors stop a row from being paid; the ones documented as
// warnings do not, but tell the user that lote changed or doubted something.
var (
	ErrRequired             = &Rule{"required", "is required"}
	ErrInvalidCPF           = &Rule{"invalid_cpf", "is not a valid CPF"}
	ErrInvalidCNPJ          = &Rule{"invalid_cnpj", "is not a valid CNPJ"}
	ErrInvalidDocument      = &Rule{"invalid_document", "is not a valid CPF or CNPJ"}
	ErrAmbiguousDocument    = &Rule{"ambiguous_document", "could be a CPF or a CNPJ"}
	ErrInvalidDocumentType  = &Rule{"invalid_document_type", "is not CPF or CNPJ"}
	ErrDocumentTypeMismatch = &Rule{"document_type_mismatch", "does not match the document"}
	// WarnDocumentZerosRestored is a warning: leading zeros were put back.
	WarnDocumentZerosRestored = &Rule{"document_zeros_restored", "had lost its leading zeros"}

	ErrUnknownInstitution   = &Rule{"unknown_institution", "is not a known institution"}
	ErrAmbiguousInstitution = &Rule{"ambiguous_institution", "could be two institutions"}
	ErrStoneInstitution     = &Rule{"stone_institution", "is Stone itself"}
	ErrNoTED                = &Rule{"institution_not_ted", "cannot receive a TED"}
	ErrInstitutionMismatch  = &Rule{"institution_mismatch", "names another bank than its code"}
	// WarnInstitutionByName is a warning: the bank was read from its name,
	// or its code was read beside a name lote does not know.
	WarnInstitutionByName = &Rule{"institution_by_name", "was read from the bank's name"}
	// WarnInstitutionZerosRestored is a warning: leading zeros were put back.
	WarnInstitutionZerosRestored = &Rule{"institution_zeros_restored", "had lost its leading zeros"}

	ErrInvalidAccount     = &Rule{"invalid_account", "is not a valid account number"}
	ErrAccountCheckLetter = &Rule{"account_check_letter", "ends in a letter check digit"}
	ErrInvalidBranch      = &Rule{"invalid_branch", "is not a valid branch"}
	ErrInvalidAccountType = &Rule{"invalid_account_type", "is not a valid account type"}
	// WarnAccountTypeChanged is a warning: Stone's rules changed the account
	// type or dropped the branch.
	WarnAccountTypeChanged = &Rule{"account_type_changed", "was changed by Stone's account rules"}

	ErrInvalidAmount     = &Rule{"invalid_amount", "is not a valid amount"}
	ErrAmbiguousAmount   = &Rule{"ambiguous_amount", "could be read two ways"}
	ErrTooManyDecimals   = &Rule{"amount_too_many_decimals", "has more than 2 decimals"}
	ErrAmountNotPositive = &Rule{"amount_not_positive", "is not a positive amount"}
	ErrAmountTooLarge    = &Rule{"amount_too_large", "is over the largest amount Stone accepts"}
	// WarnAmountMixedConvention is a warning: this amount's decimal separator
	// differs from the one the rest of the file uses.
	WarnAmountMixedConvention = &Rule{"amount_mixed_convention", "uses a different decimal separator from the rest of the file"}

	ErrInvalidDate = &Rule{"invalid_date", "is not a valid date"}
	ErrDateTooFar  = &Rule{"date_too_far", "is more than a year ahead"}
	// WarnDateInPast is a warning: the transfer will be executed at once.
	WarnDateInPast = &Rule{"date_in_past", "is in the past"}

	ErrMissingName      = &Rule{"missing_name", "is empty"}
	ErrInvalidName      = &Rule{"invalid_name", "is not a valid name"}
	ErrNameTooLong      = &Rule{"name_too_long", "is longer than a TED carries"}
	ErrInvalidReference = &Rule{"invalid_reference", "is not a valid reference"}

	ErrDuplicateRow = &Rule{"duplicate_row", "repeats an earlier row"}
)

// problem is a sentence for a finance person that unwraps to its Rule. Its
// text is format (in English, a fmt format whose verbs are all %s) with
// args, kept apart so that the sentence can be written in the reader's
// language (FieldError.Format).
type problem struct {
	rule   *Rule
	msg    string
	format string
	args   []string
}

func (p *problem) Error() string { return p.msg }
func (p *problem) Unwrap() error { return p.rule }

// fail is the problem of rule: format with args, as fmt.Sprintf writes it.
// The args are copied: they may be cells of a row whose memory is reused.
func fail(rule *Rule, format string, args ...string) error {
	p := &problem{rule: rule, msg: format, format: format}
	if len(args) > 0 {
		p.args = make([]string, len(args))
		as := make([]any, len(args))
		for i, a := range args {
			p.args[i] = strings.Clone(a)
			as[i] = p.args[i]
		}
		p.msg = fmt.Sprintf(format, as...)
	} else {
		p.msg = strings.ReplaceAll(format, "%%", "%")
	}
	return p
}

// FieldError is one problem with one cell: an error that keeps the row from
// being paid, or a warning.
type FieldError struct {
	Row    int    // 1-based, as Excel numbers it (the header is row 1)
	Column string // the header as the user wrote it
	Value  string // the raw cell value
	Code   string // stable code of the rule, e.g. "invalid_cpf"
	Err    error  // the message; unwraps to a *Rule sentinel
}

// Error returns `column "Valor": value "1.234": message`.
func (e FieldError) Error() string {
	return "column " + strconv.Quote(e.Column) + ": value " + strconv.Quote(e.Value) + ": " + e.Message()
}

// Message returns the message alone, a sentence for a finance person.
func (e FieldError) Message() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

// Format returns the message as its English format and its arguments, for
// writing it in another language: the format is the catalogue's key. An
// error that does not come from this package has its text as the format.
func (e FieldError) Format() (format string, args []string) {
	var p *problem
	for err := e.Err; err != nil; {
		if q, ok := err.(*problem); ok {
			p = q
			break
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			break
		}
		err = u.Unwrap()
	}
	if p == nil {
		return strings.ReplaceAll(e.Message(), "%", "%%"), nil
	}
	return p.format, p.args
}

// Unwrap returns Err, so errors.Is(fe, validate.ErrInvalidCPF) works.
func (e FieldError) Unwrap() error { return e.Err }

// codeOf returns the code of the Rule err wraps, or "invalid" for an error
// that does not come from this package.
func codeOf(err error) string {
	for err != nil {
		switch e := err.(type) {
		case *Rule:
			return e.code
		case *problem:
			return e.rule.code
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return "invalid"
		}
	}
	return "invalid"
}
