package main

import (
	"errors"
	"strings"
	"testing"

	"lote/validate"
)

func TestParseReais(t *testing.T) {
	tests := []struct {
		in    string
		cents int64
		err   error // nil: accepted
	}{
		{"R$ 500,00", 50000, nil},
		{"500,00", 50000, nil},
		{"500.00", 50000, nil},
		{"r$500,00", 50000, nil},
		{"1.234,56", 123456, nil},
		{"1,234.56", 123456, nil},
		{" 0,01 ", 1, nil},
		{"0", 0, nil},
		// Without two decimals: cents as before, reais, or thousands?
		{"50000", 0, errReaisForm},
		{"500", 0, errReaisForm},
		{"1.234", 0, errReaisForm},
		{"1,234", 0, errReaisForm},
		{"5,5", 0, errReaisForm},
		{"500,000", 0, errReaisForm},
		{"1.234.56", 0, errReaisForm},
		{"1,234,56", 0, errReaisForm},
		{"12.34,56", 0, errReaisForm},
		{"R$", 0, errReaisForm},
		{"", 0, errReaisForm},
		{"abc,de", 0, errReaisForm},
	}
	for _, tt := range tests {
		got, err := parseReais(tt.in)
		if !errors.Is(err, tt.err) || got != tt.cents {
			t.Errorf("parseReais(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.cents, tt.err)
		}
	}
	if _, err := parseReais("-500,00"); err == nil {
		t.Error("a negative limit was accepted")
	}
}

// The flag's error names the flag, the value and the fix.
func TestMaxTotalRefusesCentsWithoutDecimals(t *testing.T) {
	r := cli{t: t}.run("run", "folha.csv", "--max-total", "50000")
	if r.code != exitUsage {
		t.Errorf("exit %d, want %d", r.code, exitUsage)
	}
	for _, want := range []string{`invalid value "50000" for flag -max-total`, "500,00", "could be cents or reais"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = cli{t: t, env: map[string]string{"LOTE_MAX_TOTAL": "1.234"}}.run("run", "folha.csv")
	if r.code != exitUsage || !strings.Contains(r.stderr, `LOTE_MAX_TOTAL="1.234"`) {
		t.Errorf("from the environment: exit %d\n%s", r.code, r.stderr)
	}
}

// Whatever parseReais accepts is the amount FormatBRL writes back: no
// input reads as an amount other than the one it shows.
func FuzzParseReais(f *testing.F) {
	for _, s := range []string{"R$ 500,00", "500.00", "1.234,56", "1,234.56", "50000", "1.234", "0", "-1,00", "99999999999,99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseReais(s)
		if err != nil || c == 0 {
			return
		}
		back, err := parseReais(validate.FormatBRL(c))
		if err != nil || back != c {
			t.Fatalf("parseReais(%q) = %d, but its text %q reads %d, %v", s, c, validate.FormatBRL(c), back, err)
		}
		// The two digits after the last separator are the cents.
		i := strings.LastIndexAny(s, ".,")
		if want := s[i+1:]; c%100 != int64(want[0]-'0')*10+int64(want[1]-'0') {
			t.Fatalf("parseReais(%q) = %d: cents are not %s", s, c, want)
		}
	})
}
