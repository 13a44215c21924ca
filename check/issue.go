package check

import (
	"cmp"
	"encoding/json"
	"strconv"
	"strings"

	"lote/validate"
)

// Issue is one problem of a row, whoever shows it: lote validate and lote
// run print it, the ledger keeps an invalid row's list of them as JSON, the
// page lists them and the results and errors sheets write them as text.
// Row is the row as Excel numbers it (the header is 1), Column the header as
// the user wrote it ("" for a problem of the whole row), Value the raw cell,
// Code the rule's code (validate's Rule codes, UnreadableRow, batch's).
type Issue struct {
	Row     int    `json:"-"` // the ledger keeps it beside the list
	Column  string `json:"column,omitempty"`
	Value   string `json:"value,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Warning bool   `json:"warning,omitempty"`
	// Key and Args are Message as its English format and arguments, for
	// writing it in another language (MessageIn); a message that has
	// none is written as it is.
	Key  string   `json:"key,omitempty"`
	Args []string `json:"args,omitempty"`
}

// Translator writes a message in a reader's language: i18n.Printer.
type Translator interface {
	T(key string, args ...any) string
	Lookup(s string) string
}

// MessageIn is the message in tr's language.
func (is Issue) MessageIn(tr Translator) string {
	if is.Key == "" {
		return tr.Lookup(cmp.Or(is.Message, is.Code))
	}
	args := make([]any, len(is.Args))
	for i, a := range is.Args {
		args[i] = tr.Lookup(a) // a fragment that is a message of its own
	}
	return tr.T(is.Key, args...)
}

// IssueOf is a validation error, or with warning a warning, as an Issue.
func IssueOf(e validate.FieldError, warning bool) Issue {
	key, args := e.Format()
	if key == e.Message() {
		key = "" // the message is its own key
	}
	return Issue{Row: e.Row, Column: e.Column, Value: e.Value, Code: e.Code, Message: e.Message(), Warning: warning, Key: key, Args: args}
}

// IssuesOf lists a row's errors, then its warnings, as Issues.
func IssuesOf(errs, warns []validate.FieldError) []Issue {
	out := make([]Issue, 0, len(errs)+len(warns))
	for _, e := range errs {
		out = append(out, IssueOf(e, false))
	}
	for _, w := range warns {
		out = append(out, IssueOf(w, true))
	}
	return out
}

// Reason is the problem without its place: the value as written, quoted,
// then the message. A row that could not be split has the row as its value,
// which is not repeated.
func (is Issue) Reason() string {
	msg := cmp.Or(is.Message, is.Code)
	if is.Value == "" || is.Code == UnreadableRow {
		return msg
	}
	return strconv.Quote(is.Value) + ": " + msg
}

// String is the one text form of an Issue, as sheets write it: the column,
// the value quoted and the message ("document: \"123\": The CPF …"), marked
// "warning: " when it does not stop the row.
func (is Issue) String() string {
	s := is.Reason()
	if is.Column != "" {
		s = is.Column + ": " + s
	}
	if is.Warning {
		s = "warning: " + s
	}
	return s
}

// ReasonIn is Reason in tr's language.
func (is Issue) ReasonIn(tr Translator) string {
	msg := is.MessageIn(tr)
	if is.Value == "" || is.Code == UnreadableRow {
		return msg
	}
	return strconv.Quote(is.Value) + ": " + msg
}

// StringIn is String in tr's language.
func (is Issue) StringIn(tr Translator) string {
	s := is.ReasonIn(tr)
	if is.Column != "" {
		s = is.Column + ": " + s
	}
	if is.Warning {
		s = tr.T("warning: ") + s
	}
	return s
}

// TextIn is Text in tr's language.
func TextIn(issues []Issue, tr Translator) string {
	parts := make([]string, len(issues))
	for i, is := range issues {
		parts[i] = is.StringIn(tr)
	}
	return strings.Join(parts, "; ")
}

// Text joins issues in their text form with "; ".
func Text(issues []Issue) string {
	parts := make([]string, len(issues))
	for i, is := range issues {
		parts[i] = is.String()
	}
	return strings.Join(parts, "; ")
}

// EncodeIssues is how the ledger keeps a row's issues: a JSON list.
func EncodeIssues(issues []Issue) string {
	b, err := json.Marshal(issues)
	if err != nil {
		return "" // Issue holds only strings and a bool: cannot happen
	}
	return string(b)
}

// DecodeIssues reads a row's problems as the ledger keeps them: message is
// the JSON list EncodeIssues wrote, or else one reason with its code. Both
// empty is no problem at all.
func DecodeIssues(code, message string) []Issue {
	if code == "" && message == "" {
		return nil
	}
	if strings.HasPrefix(message, "[") {
		var out []Issue
		if err := json.Unmarshal([]byte(message), &out); err == nil {
			return out
		}
	}
	return []Issue{{Code: code, Message: message}}
}

// ErrorTextIn is ErrorText in tr's language. A reason from the bank (a
// row that is not invalid) is written as it came, unless it is one of
// lote's messages.
func ErrorTextIn(invalid bool, code, message string, tr Translator) string {
	if invalid {
		var errs []Issue
		for _, is := range DecodeIssues(code, message) {
			if !is.Warning {
				errs = append(errs, is)
			}
		}
		return TextIn(errs, tr)
	}
	return ErrorText(false, code, tr.Lookup(message))
}

// ErrorText is a row's problems as the results sheet and the reconciliation
// report write them: for an invalid row (a list of issues) the errors in
// their text form, warnings left out, since the row was not sent for its
// errors; for any other row the bank's or lote's reason with its code.
func ErrorText(invalid bool, code, message string) string {
	if invalid {
		var errs []Issue
		for _, is := range DecodeIssues(code, message) {
			if !is.Warning {
				errs = append(errs, is)
			}
		}
		return Text(errs)
	}
	switch {
	case message != "" && code != "" && !strings.Contains(message, code):
		return message + " (" + code + ")"
	case message != "":
		return message
	}
	return code
}
