package validate

import "strings"

// Small ASCII helpers shared by the rules. They avoid the allocations of
// strings.Map and friends on the per-row path.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func allSame(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}

// zeroPad left-pads s with '0' to width n.
func zeroPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	const zeros = "00000000000000000000"
	return zeros[:n-len(s)] + s
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// trimSpace trims ASCII white space and the no-break space (U+00A0) that
// spreadsheets often leave around numbers.
func trimSpace(s string) string {
	const nbsp = "\u00a0"
	for changed := true; changed; {
		changed = false
		switch {
		case s != "" && isBlank(s[0]):
			s, changed = s[1:], true
		case strings.HasPrefix(s, nbsp):
			s, changed = s[len(nbsp):], true
		}
		switch {
		case s != "" && isBlank(s[len(s)-1]):
			s, changed = s[:len(s)-1], true
		case strings.HasSuffix(s, nbsp):
			s, changed = s[:len(s)-len(nbsp)], true
		}
	}
	return s
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// numberDigits turns a raw numeric cell ("12345678909", "1.2345678909E10",
// "416968.0") into the integer it holds, as digits. ok is false for a value
// with a fractional part or that is not a number.
func numberDigits(raw string) (string, bool) {
	d, ok := parseNumberCell(raw)
	if !ok || d.neg || trimRightZeros(d.frac) != "" {
		return "", false
	}
	if d.int == "" {
		return "0", true
	}
	return d.int, true
}
