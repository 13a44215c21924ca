package validate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestScheduledDate(t *testing.T) {
	today := time.Date(2026, 11, 23, 10, 0, 0, 0, saoPaulo())
	tests := []struct {
		in   string
		want DateCheck
		err  error
	}{
		{"", DateCheck{}, nil},
		{"2026-12-01", DateCheck{Date: "2026-12-01"}, nil},
		{"01/12/2026", DateCheck{Date: "2026-12-01"}, nil},
		{"1/2/2027", DateCheck{Date: "2027-02-01"}, nil},
		{"2026-11-23", DateCheck{Date: "2026-11-23"}, nil}, // today
		{"2027-11-23", DateCheck{Date: "2027-11-23"}, nil}, // exactly one year ahead
		{"2027-11-24", DateCheck{}, ErrDateTooFar},
		{"2026-11-22", DateCheck{Past: true}, nil},
		{"2028-02-29", DateCheck{}, ErrDateTooFar},
		{"2027-02-29", DateCheck{}, ErrInvalidDate}, // not a leap year
		{"31/04/2027", DateCheck{}, ErrInvalidDate},
		{"2026-13-01", DateCheck{}, ErrInvalidDate},
		{"12/01/26", DateCheck{}, ErrInvalidDate},
		{"2026/12/01", DateCheck{}, ErrInvalidDate},
		{"2026-12-01T00:00:00", DateCheck{}, ErrInvalidDate},
		{"01-12-2026", DateCheck{}, ErrInvalidDate},
		{"2026-12/01", DateCheck{}, ErrInvalidDate},
		{"46357", DateCheck{}, ErrInvalidDate},
	}
	for _, tt := range tests {
		got, err := ScheduledDate(tt.in, today)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("ScheduledDate(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if _, err := ScheduledDate("31/04/2027", today); err == nil || err.Error() != "There is no such day: 31/4/2027 does not exist on the calendar." {
		t.Errorf("31/04/2027: %v", err)
	}
	// Late evening in São Paulo is already the next day in UTC: São Paulo's date counts.
	lateUTC := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC) // 22:00 on Nov 23 in São Paulo
	if got, _ := ScheduledDate("2026-11-23", lateUTC.In(saoPaulo())); got.Past {
		t.Errorf("2026-11-23 at 22:00 in São Paulo is not in the past")
	}
}

func TestNameAndReference(t *testing.T) {
	names := []struct {
		in, want string
		err      error
	}{
		{"Maria da Silva", "Maria da Silva", nil},
		{"  Maria   da\u00a0Silva  ", "Maria da Silva", nil},
		{"José Conceição", "José Conceição", nil},
		{"Maria\nda Silva", "", ErrInvalidName},
		{"Maria\tda Silva", "", ErrInvalidName},
		{"Maria\x00", "", ErrInvalidName},
		{"\xff", "", ErrInvalidName},
		{"   ", "", ErrMissingName},
		{"", "", ErrMissingName},
		// A TED carries 80 characters of the name (MaxNameLen), counted
		// after spaces are collapsed.
		{strings.Repeat("ç", 80), strings.Repeat("ç", 80), nil},
		{" " + strings.Repeat("a ", 40) + " ", strings.TrimSpace(strings.Repeat("a ", 40)), nil},
		{strings.Repeat("ç", 81), "", ErrNameTooLong},
		{strings.Repeat("a", 45<<20), "", ErrNameTooLong},
	}
	for _, tt := range names {
		got, err := Name(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Name(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	long := make([]rune, MaxReferenceLen)
	for i := range long {
		long[i] = 'ç'
	}
	refs := []struct {
		in, want string
		err      error
	}{
		{" NF-123 ", "NF-123", nil},
		{"", "", nil},
		{string(long), string(long), nil},
		{string(long) + "x", "", ErrInvalidReference},
		{"a\nb", "", ErrInvalidReference},
	}
	for _, tt := range refs {
		got, err := Reference(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Reference(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
