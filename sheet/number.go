package sheet

import (
	"strconv"
	"strings"
)

// maxExponent bounds the exponent accepted in a stored number. Excel stores
// IEEE doubles (|exponent| ≤ 324 in decimal); a larger one can only come
// from a crafted file and would make the plain-decimal string huge.
const maxExponent = 400

// plainDecimal rewrites a number as an XLSX file stores it ("12345678909",
// "1.2345678909E10", "7.5E-3", "76937.320000000022") in plain decimal
// notation, exactly: the digits are moved, never rounded, because these
// strings become amounts, account numbers and CPFs. Leading zeros of the
// integer part and trailing zeros of the fraction are dropped ("1234.50" →
// "1234.5", "1.0" → "1"); "-0" becomes "0". It reports false when s is not a
// decimal literal.
func plainDecimal(s string) (string, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > maxExponent || e < -maxExponent {
			return "", false
		}
		mant, exp = s[:i], e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return "", false
	}
	digits := intPart + frac
	point := len(intPart) + exp // where the decimal point falls in digits
	var b strings.Builder
	b.Grow(len(digits) + max(point, -point, 0) + 3)
	switch {
	case point <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digits)
	case point >= len(digits):
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", point-len(digits)))
	default:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	}
	out := b.String()
	ip, fp, hasPoint := strings.Cut(out, ".")
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	if hasPoint {
		fp = strings.TrimRight(fp, "0")
	}
	out = ip
	if fp != "" {
		out += "." + fp
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
