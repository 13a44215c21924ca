package validate

import (
	"errors"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		dec  Decimal
		want int64
		err  error
	}{
		{"1234.56", DecimalAuto, 123456, nil},
		{"1.234,56", DecimalAuto, 123456, nil},
		{"1234,56", DecimalAuto, 123456, nil},
		{"R$ 1.234,56", DecimalAuto, 123456, nil},
		{"R$1.234,56", DecimalAuto, 123456, nil},
		{"r$ 0,01", DecimalAuto, 1, nil},
		{"1,234.56", DecimalAuto, 123456, nil},
		{"1.234.567,89", DecimalAuto, 123456789, nil},
		{"1.234.567", DecimalAuto, 123456700, nil}, // two thousands dots: only the comma convention reads it
		{"1,234,567", DecimalAuto, 123456700, nil},
		{"1234", DecimalAuto, 123400, nil},
		{"0,5", DecimalAuto, 50, nil},
		{"10.5000", DecimalAuto, 1050, nil}, // cannot be thousands; zeros beyond cents change nothing
		{"\u00a01.234,56\u00a0", DecimalAuto, 123456, nil},
		{"21474836,47", DecimalAuto, MaxAmountCents, nil},
		{"1.234", DecimalAuto, 0, ErrAmbiguousAmount},
		{"1,234", DecimalAuto, 0, ErrAmbiguousAmount},
		{"123.456", DecimalAuto, 0, ErrAmbiguousAmount},
		{"1.234", DecimalComma, 123400, nil},
		{"1.234", DecimalDot, 0, ErrTooManyDecimals},
		{"1,234", DecimalDot, 123400, nil},
		{"1234.56", DecimalComma, 0, ErrInvalidAmount}, // the explicit option overrides
		{"1234,567", DecimalAuto, 0, ErrTooManyDecimals},
		{"0.123", DecimalAuto, 0, ErrTooManyDecimals},
		{"0", DecimalAuto, 0, ErrAmountNotPositive},
		{"0,00", DecimalAuto, 0, ErrAmountNotPositive},
		{"-10,00", DecimalAuto, 0, ErrAmountNotPositive},
		{"R$ -10,00", DecimalAuto, 0, ErrAmountNotPositive},
		{"-R$ 10,00", DecimalAuto, 0, ErrAmountNotPositive},
		{"21474836,48", DecimalAuto, 0, ErrAmountTooLarge},
		{"99999999999999999999,00", DecimalAuto, 0, ErrAmountTooLarge},
		{"12.34.56", DecimalAuto, 0, ErrInvalidAmount},
		{"1.234,56.7", DecimalAuto, 0, ErrInvalidAmount},
		{"1 234,56", DecimalAuto, 0, ErrInvalidAmount},
		{"1e3", DecimalAuto, 0, ErrInvalidAmount},
		{"abc", DecimalAuto, 0, ErrInvalidAmount},
		{",50", DecimalAuto, 0, ErrInvalidAmount},
		{"10,", DecimalAuto, 0, ErrInvalidAmount},
		{"", DecimalAuto, 0, ErrRequired},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in, tt.dec)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("ParseAmount(%q, %v) = %d, %v; want %d, %v", tt.in, tt.dec, got, err, tt.want, tt.err)
		}
	}
}

func TestParseAmountAmbiguousMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.234", `This could be R$ 1.234,00 if "." separates thousands, or R$ 1,234 (not a valid amount) if "." is the decimal separator; ` +
			`no other amount in the file shows which separator it uses. Write it with both separators or with two decimals (like 1.234,00), or give the file's decimal separator: --decimal comma reads it as R$ 1.234,00, --decimal dot as R$ 1,234 (not a valid amount).`},
		{"1,234", `This could be R$ 1.234,00 if "," separates thousands, or R$ 1,234 (not a valid amount) if "," is the decimal separator; ` +
			`no other amount in the file shows which separator it uses. Write it with both separators or with two decimals (like 1.234,00), or give the file's decimal separator: --decimal comma reads it as R$ 1,234 (not a valid amount), --decimal dot as R$ 1.234,00.`},
	}
	for _, tt := range tests {
		_, err := ParseAmount(tt.in, DecimalAuto)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseAmount(%q) error =\n%v\nwant\n%s", tt.in, err, tt.want)
		}
	}
}

func TestParseAmountNumber(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"76937.320000000022", 7693732, nil}, // Excel's float for 76937.32
		{"1234.56", 123456, nil},
		{"1234", 123400, nil},
		{"0.30000000000000004", 30, nil},              // 0.1+0.2
		{"1.0099999999999998", 101, nil},              // float noise below 1.01
		{"1.0049999999999999", 0, ErrTooManyDecimals}, // 1.005 typed in a cell: half a cent, never rounded
		{"76937.319999999992", 7693732, nil},
		{"1.5E3", 150000, nil},
		{"1.2345E2", 12345, nil},
		{"12345E-2", 12345, nil},
		{"1234.5678", 0, ErrTooManyDecimals},
		{"1234.565", 0, ErrTooManyDecimals},
		{"0.00000001", 0, ErrAmountNotPositive},
		{"-5", 0, ErrAmountNotPositive},
		{"21474836.47", MaxAmountCents, nil},
		{"21474836.48", 0, ErrAmountTooLarge},
		{"1E+30", 0, ErrAmountTooLarge},
		{"1.2.3", 0, ErrInvalidAmount},
		{"", 0, ErrInvalidAmount},
	}
	for _, tt := range tests {
		got, err := ParseAmountNumber(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("ParseAmountNumber(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseAmountCents(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		want int64
		err  error
	}{
		{"123456", Text, 123456, nil},
		{" 1 ", Text, 1, nil},
		{"123456", Number, 123456, nil},
		{"123456.0", Number, 123456, nil},
		{"1.23456E5", Number, 123456, nil},
		{"1234.5", Number, 0, ErrInvalidAmount},
		{"1.234", Text, 0, ErrInvalidAmount},
		{"0", Text, 0, ErrAmountNotPositive},
		{"-100", Text, 0, ErrAmountNotPositive},
		{"2147483647", Text, MaxAmountCents, nil},
		{"2147483648", Text, 0, ErrAmountTooLarge},
		{"", Text, 0, ErrRequired},
	}
	for _, tt := range tests {
		got, err := ParseAmountCents(tt.in, tt.kind)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("ParseAmountCents(%q, %v) = %d, %v; want %d, %v", tt.in, tt.kind, got, err, tt.want, tt.err)
		}
	}
}

func TestFormatBRL(t *testing.T) {
	for cents, want := range map[int64]string{
		1: "R$ 0,01", 50: "R$ 0,50", 123456: "R$ 1.234,56", 100000000: "R$ 1.000.000,00",
		MaxAmountCents: "R$ 21.474.836,47", -123456: "-R$ 1.234,56", 0: "R$ 0,00",
	} {
		if got := FormatBRL(cents); got != want {
			t.Errorf("FormatBRL(%d) = %q; want %q", cents, got, want)
		}
	}
}
