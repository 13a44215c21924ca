package sheet

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScanField(t *testing.T) {
	tests := []struct {
		f     string
		ascii bool
		lf    int
	}{
		{"", true, 0},
		{"Payee 12", true, 0},
		{"1234567\n", true, 1},                             // line feed at the end of a word
		{"\n234567812345678\n", true, 2},                   // first and last byte
		{"\n\n\n\n\n\n\n\n\n", true, 9},                    // a word of line feeds, and one more
		{"Rua A,\r\nApto 3", true, 1},                      // CRLF inside a quoted field
		{"José da Silva", false, 0},                        // é is two bytes ≥ 0x80
		{"\x8a\x8a\x8a\x8a\x8a\x8a\x8a\x8a\x0a", false, 1}, // 0x8a is 0x0a with the high bit: not a line feed
		{"Conceição\nSão Paulo", false, 1},
		{"\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", true, 0},
	}
	for _, tt := range tests {
		ascii, lf := scanField(tt.f)
		if ascii != tt.ascii || lf != tt.lf {
			t.Errorf("scanField(%q) = %v, %d; want %v, %d", tt.f, ascii, lf, tt.ascii, tt.lf)
		}
	}
}

// FuzzScanField checks the word-at-a-time scan against the obvious one.
func FuzzScanField(f *testing.F) {
	f.Add("Payee 1")
	f.Add("a\nb\nc\nd\ne\nf\ng\nh\n")
	f.Add("Jos\xe9\n\x8a")
	f.Fuzz(func(t *testing.T, s string) {
		ascii, lf := scanField(s)
		wantASCII := true
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				wantASCII = false
			}
		}
		if ascii != wantASCII || lf != strings.Count(s, "\n") {
			t.Errorf("scanField(%q) = %v, %d; want %v, %d", s, ascii, lf, wantASCII, strings.Count(s, "\n"))
		}
	})
}
