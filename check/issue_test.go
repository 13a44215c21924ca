package check

import (
	"reflect"
	"testing"
)

// The one text form of a problem, as the results and errors sheets write
// it and lote validate prints its reason.
func TestIssueText(t *testing.T) {
	tests := []struct {
		is             Issue
		reason, String string
	}{
		{Issue{Column: "document", Value: "123", Code: "invalid_cpf", Message: "The CPF has 11 digits."},
			`"123": The CPF has 11 digits.`, `document: "123": The CPF has 11 digits.`},
		{Issue{Column: "amount", Code: "required", Message: "The amount is empty."},
			`The amount is empty.`, `amount: The amount is empty.`},
		{Issue{Value: "a | b", Code: UnreadableRow, Message: "Row 3 has a cell past XFD."},
			`Row 3 has a cell past XFD.`, `Row 3 has a cell past XFD.`},
		{Issue{Column: "scheduled_to", Value: "2026-12-25", Code: "scheduled_non_business_day", Message: "Moved to 26/12.", Warning: true},
			`"2026-12-25": Moved to 26/12.`, `warning: scheduled_to: "2026-12-25": Moved to 26/12.`},
		{Issue{Code: "payout_claimed"}, `payout_claimed`, `payout_claimed`},
	}
	for _, tt := range tests {
		if got := tt.is.Reason(); got != tt.reason {
			t.Errorf("%+v.Reason() = %q, want %q", tt.is, got, tt.reason)
		}
		if got := tt.is.String(); got != tt.String {
			t.Errorf("%+v.String() = %q, want %q", tt.is, got, tt.String)
		}
	}
}

// What the ledger keeps reads back as it was written, and an invalid row's
// text leaves its warnings out.
func TestIssuesRoundTrip(t *testing.T) {
	in := []Issue{
		{Column: "document", Value: "1", Code: "invalid_cpf", Message: "Bad CPF."},
		{Column: "scheduled_to", Value: "x", Code: "w", Message: "Moved.", Warning: true},
	}
	enc := EncodeIssues(in)
	got := DecodeIssues("", enc)
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("DecodeIssues(EncodeIssues(%v)) = %v", in, got)
	}
	if got, want := ErrorText(true, "", enc), `document: "1": Bad CPF.`; got != want {
		t.Errorf("ErrorText(invalid) = %q, want %q", got, want)
	}
	if got, want := ErrorText(false, "E1", "Stone refused it"), "Stone refused it (E1)"; got != want {
		t.Errorf("ErrorText(rejected) = %q, want %q", got, want)
	}
	if got := DecodeIssues("", ""); got != nil {
		t.Errorf("DecodeIssues of nothing = %v", got)
	}
}
