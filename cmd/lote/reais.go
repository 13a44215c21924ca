package main

import (
	"errors"
	"strings"

	"lote/validate"
)

// reaisFlag is a flag holding an amount in cents, written in reais with
// its cents: "R$ 500,00", "500,00", "500.00", "1.234,56", "1,234.56"; "0"
// is zero. A number without two decimals ("500", "1.234", "5,5") is
// refused: it could be cents (what --max-total took before), reais, or a
// thousands group, and an amount is never guessed.
type reaisFlag struct{ cents *int64 }

// errReaisForm is why a limit without its cents is refused; the message
// says the fix.
var errReaisForm = errors.New("write reais with their two decimals, like 500,00, 500.00 or R$ 1.234,56 (a number without them, such as 50000, could be cents or reais)")

func (f reaisFlag) String() string {
	if f.cents == nil || *f.cents == 0 {
		return "0"
	}
	return validate.FormatBRL(*f.cents)
}

func (f reaisFlag) Set(s string) error {
	c, err := parseReais(s)
	if err != nil {
		return err
	}
	*f.cents = c
	return nil
}

// parseReais reads an amount in reais with exactly two decimals. The
// separator before them decides the convention, so "1.234,56" and
// "1,234.56" are the same amount and "1.234.56" is refused.
func parseReais(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	if strings.HasPrefix(t, "-") {
		return 0, errors.New("a limit cannot be negative")
	}
	i := strings.LastIndexAny(t, ".,")
	if i < 0 || len(t)-i-1 != 2 || !isDigits(t[i+1:]) {
		return 0, errReaisForm
	}
	dec := validate.DecimalDot
	if t[i] == ',' {
		dec = validate.DecimalComma
	}
	c, err := validate.ParseAmount(t, dec)
	if err != nil {
		return 0, errReaisForm
	}
	return c, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
