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
}

// IssueOf is a validation error, or with warning a warning, as an Issue.
func IssueOf(e validate.FieldError, warning bool) Issue {
	return Issue{Row: e.Row, Column: e.Column, Value: e.Value, Code: e.Code, Message: e.Message(), Warning: warning}
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
