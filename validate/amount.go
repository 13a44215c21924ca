package validate

import (
	"strconv"
	"strings"
)

// MaxAmountCents is the largest amount lote sends, in cents: Stone's amount
// is documented as an int32 (R$ 21.474.836,47).
const MaxAmountCents = 2147483647

// Decimal is a file's decimal convention for amounts written as text.
type Decimal uint8

// The decimal conventions. DecimalAuto infers the convention from the
// file's unambiguous values.
const (
	DecimalAuto  Decimal = iota
	DecimalComma         // 1.234,56 (Brazilian)
	DecimalDot           // 1,234.56
)

// String returns "auto", "comma" or "dot".
func (d Decimal) String() string {
	switch d {
	case DecimalComma:
		return "comma"
	case DecimalDot:
		return "dot"
	}
	return "auto"
}

// decimal is an exact non-negative decimal number held as digit strings,
// so that no amount ever passes through float64.
type decimal struct {
	neg  bool
	int  string // integer digits, no leading zeros ("" for zero)
	frac string // fractional digits as written
}

func (d decimal) equal(e decimal) bool {
	return d.neg == e.neg && d.int == e.int && trimRightZeros(d.frac) == trimRightZeros(e.frac)
}

func trimRightZeros(s string) string {
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}

func trimLeftZeros(s string) string {
	for len(s) > 0 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// brl formats d as Brazilians write money: R$ 1.234,56 (at least two
// decimals; more when d has them, to show why it is not a valid amount).
func (d decimal) brl() string {
	frac := trimRightZeros(d.frac)
	for len(frac) < 2 {
		frac += "0"
	}
	i := d.int
	if i == "" {
		i = "0"
	}
	s := "R$ " + groupThousands(i, '.') + "," + frac
	if d.neg {
		s = "-" + s
	}
	return s
}

func groupThousands(digits string, sep byte) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	first := len(digits) % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(digits[:first])
	for i := first; i < len(digits); i += 3 {
		b.WriteByte(sep)
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// FormatBRL formats cents as Brazilians write money: FormatBRL(123456) is
// "R$ 1.234,56". ParseAmount(FormatBRL(c), DecimalAuto) gives c back.
func FormatBRL(cents int64) string {
	neg := cents < 0
	u := uint64(cents)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	for len(s) < 3 {
		s = "0" + s
	}
	d := decimal{neg: neg, int: trimLeftZeros(s[:len(s)-2]), frac: s[len(s)-2:]}
	return d.brl()
}

// cents converts d to cents, rejecting what Stone would not take: more than
// 2 significant decimals, zero, negative, over MaxAmountCents.
func (d decimal) cents() (int64, error) {
	frac := trimRightZeros(d.frac)
	if len(frac) > 2 {
		return 0, fail(ErrTooManyDecimals, "An amount has at most 2 decimals (cents); this one reads %s.", d.brl())
	}
	if len(d.int) > 10 {
		return 0, fail(ErrAmountTooLarge, "The largest amount Stone accepts is %s.", FormatBRL(MaxAmountCents))
	}
	// At most 10 integer digits and 2 decimals: the cents fit an int64.
	// Computed digit by digit, as ParseInt(int+frac padded to 2) would,
	// without building that string for every row.
	var c int64
	for i := 0; i < len(d.int)+2; i++ {
		ch := byte('0')
		switch {
		case i < len(d.int):
			ch = d.int[i]
		case i-len(d.int) < len(frac):
			ch = frac[i-len(d.int)]
		}
		if !isDigit(ch) {
			return 0, fail(ErrInvalidAmount, "The amount is not a number.")
		}
		c = c*10 + int64(ch-'0')
	}
	switch {
	case d.neg && c != 0:
		return 0, fail(ErrAmountNotPositive, "The amount is negative; lote only sends money, so write a positive amount.")
	case c == 0:
		return 0, fail(ErrAmountNotPositive, "The amount is zero.")
	case c > MaxAmountCents:
		return 0, fail(ErrAmountTooLarge, "The largest amount Stone accepts is %s; this one is %s.", FormatBRL(MaxAmountCents), FormatBRL(c))
	}
	return c, nil
}

// amountText is an amount written as text, read under both conventions.
type amountText struct {
	comma, dot     decimal
	commaOK, dotOK bool // well formed under that convention
}

// readAmountText reads s under both decimal conventions. It strips spaces,
// a leading sign and the "R$" symbol.
func readAmountText(s string) amountText {
	s = trimSpace(s)
	neg := false
	sign := func() {
		if s != "" && (s[0] == '-' || s[0] == '+') {
			neg = neg || s[0] == '-'
			s = trimSpace(s[1:])
		}
	}
	sign()
	if len(s) >= 2 && (s[0] == 'R' || s[0] == 'r') && s[1] == '$' {
		s = trimSpace(s[2:])
	}
	sign()
	var a amountText
	a.comma, a.commaOK = readDecimal(s, ',', '.')
	a.dot, a.dotOK = readDecimal(s, '.', ',')
	a.comma.neg, a.dot.neg = neg, neg
	return a
}

// readPlainAmount is readAmountText and evidence for the amounts most
// sheets hold: digits with at most one separator, followed by one or two
// decimals ("1234", "1234.5", "1234,56"), or digits in groups of three
// with a decimal part ("1.234,56", "1,234.56", "12.345.678,90"), of a
// valid amount (1 cent up to MaxAmountCents). It reads them in one pass,
// and ok is false for anything else, which the general reading handles.
// The results are the same as the general reading's (fuzzed): an amount
// without a separator reads the same under both conventions; otherwise
// its last separator, followed by one or two digits, can only be a
// decimal one (a thousands group has three digits), so only that
// convention reads it.
func readPlainAmount(s string) (a amountText, evidence Decimal, cents int64, ok bool) {
	// At most 16 characters: 10 integer digits past any leading zeros are
	// checked below, and the cents then fit an int64 whatever the zeros.
	if len(s) == 0 || len(s) > 16 {
		return amountText{}, DecimalAuto, 0, false
	}
	var seps [4]int // where the separators are: up to 3 thousands and the decimal
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			cents = cents*10 + int64(c-'0')
		case (c == '.' || c == ',') && n < len(seps):
			seps[n] = i
			n++
		default:
			return amountText{}, DecimalAuto, 0, false
		}
	}
	ip, fp := s, ""
	if n > 0 {
		dec := seps[n-1]
		if len(s)-dec-1 < 1 || len(s)-dec-1 > 2 || dec == 0 {
			return amountText{}, DecimalAuto, 0, false
		}
		ip, fp = s[:dec], s[dec+1:]
	}
	if n > 1 {
		// Thousands: one to three digits not starting with 0, then groups
		// of three, all split by the separator that is not the decimal one.
		thou := s[seps[0]]
		if thou == s[seps[n-1]] || seps[0] == 0 || seps[0] > 3 || s[0] == '0' {
			return amountText{}, DecimalAuto, 0, false
		}
		for k := 1; k < n; k++ {
			if seps[k] != seps[k-1]+4 || k < n-1 && s[seps[k]] != thou {
				return amountText{}, DecimalAuto, 0, false
			}
		}
		var buf [16]byte
		b := buf[:0]
		for i := 0; i < len(ip); i++ {
			if ip[i] != thou {
				b = append(b, ip[i])
			}
		}
		ip = string(b)
	}
	for range 2 - len(fp) {
		cents *= 10
	}
	d := decimal{int: trimLeftZeros(ip), frac: fp}
	if cents == 0 || cents > MaxAmountCents || len(d.int) > 10 {
		return amountText{}, DecimalAuto, 0, false
	}
	switch {
	case n == 0:
		return amountText{comma: d, dot: d, commaOK: true, dotOK: true}, DecimalAuto, cents, true
	case s[seps[n-1]] == ',':
		return amountText{comma: d, commaOK: true}, DecimalComma, cents, true
	}
	return amountText{dot: d, dotOK: true}, DecimalDot, cents, true
}

// readDecimal reads s as digits with optional thousands separators (groups of
// three, the first of one to three digits not starting with 0) and an
// optional decimal separator followed by at least one digit.
func readDecimal(s string, dec, thou byte) (decimal, bool) {
	ip, fp := s, ""
	if i := strings.IndexByte(s, dec); i >= 0 {
		ip, fp = s[:i], s[i+1:]
		if fp == "" || !allDigits(fp) {
			return decimal{}, false
		}
	}
	if ip == "" {
		return decimal{}, false
	}
	if strings.IndexByte(ip, thou) < 0 {
		if !allDigits(ip) {
			return decimal{}, false
		}
		return decimal{int: trimLeftZeros(ip), frac: fp}, true
	}
	// The groups are checked before any is copied: "10.37" read with a
	// decimal comma fails at its second group, and most amounts are read
	// both ways, so a failed reading must cost no allocation.
	groups := 0
	for rest, n := ip, 0; rest != ""; n++ {
		g := rest
		i := strings.IndexByte(rest, thou)
		if i >= 0 {
			g, rest = rest[:i], rest[i+1:]
			if rest == "" {
				return decimal{}, false
			}
		} else {
			rest = ""
		}
		if !allDigits(g) || n == 0 && (len(g) > 3 || g[0] == '0') || n > 0 && len(g) != 3 {
			return decimal{}, false
		}
		groups++
	}
	var b strings.Builder
	b.Grow(len(ip) - (groups - 1))
	for i := 0; i < len(ip); i++ {
		if ip[i] != thou {
			b.WriteByte(ip[i])
		}
	}
	return decimal{int: b.String(), frac: fp}, true
}

// evidence returns the convention a text amount proves, the only one under
// which it is well formed and a valid amount, and the amount read under it.
// DecimalAuto (and 0) when it proves nothing (no separator, or invalid).
func (a amountText) evidence() (Decimal, int64) {
	switch {
	case a.commaOK && !a.dotOK:
		if cents, err := a.comma.cents(); err == nil {
			return DecimalComma, cents
		}
	case a.dotOK && !a.commaOK:
		if cents, err := a.dot.cents(); err == nil {
			return DecimalDot, cents
		}
	}
	return DecimalAuto, 0
}

// ambiguous reports whether the two conventions read different amounts.
func (a amountText) ambiguous() bool {
	return a.commaOK && a.dotOK && !a.comma.equal(a.dot)
}

// resolve converts the amount under dec; with DecimalAuto, an ambiguous
// amount is an error showing both readings.
func (a amountText) resolve(raw string, dec Decimal, why string) (int64, error) {
	switch dec {
	case DecimalComma:
		if !a.commaOK {
			return 0, fail(ErrInvalidAmount, "This is not an amount written with a decimal comma (like 1.234,56), which this file uses.")
		}
		return a.comma.cents()
	case DecimalDot:
		if !a.dotOK {
			return 0, fail(ErrInvalidAmount, "This is not an amount written with a decimal point (like 1234.56), which this file uses.")
		}
		return a.dot.cents()
	}
	switch {
	case a.ambiguous():
		return 0, a.ambiguity(raw, why)
	case a.commaOK:
		return a.comma.cents()
	case a.dotOK:
		return a.dot.cents()
	}
	return 0, fail(ErrInvalidAmount, "Write the amount in reais, like 1234,56 or 1.234,56 or R$ 1.234,56.")
}

// ambiguity is the error for an amount that reads differently under the two
// conventions; it shows what each would mean, never picking one.
func (a amountText) ambiguity(raw, why string) error {
	sep := "."
	if strings.IndexByte(raw, '.') < 0 {
		sep = ","
	}
	commaMeaning, dotMeaning := a.comma.brl(), a.dot.brl()
	if _, err := a.comma.cents(); err != nil {
		commaMeaning += " (not a valid amount)"
	}
	if _, err := a.dot.cents(); err != nil {
		dotMeaning += " (not a valid amount)"
	}
	first, second := commaMeaning, dotMeaning // "." is thousands under the comma convention
	if sep == "," {
		first, second = dotMeaning, commaMeaning
	}
	return fail(ErrAmbiguousAmount, "This could be %s if \"%s\" separates thousands, or %s if \"%s\" is the decimal separator; %s Write it with both separators or with two decimals (like 1.234,00), or give the file's decimal separator: --decimal comma reads it as %s, --decimal dot as %s.", first, sep, second, sep, why, commaMeaning, dotMeaning)
}

const whyNoEvidence = "no other amount in the file shows which separator it uses."

// ParseAmount converts an amount in reais written as text ("1234.56",
// "1.234,56", "1234,56", "R$ 1.234,56") to cents. dec fixes the decimal
// separator; with DecimalAuto a value that reads differently under the two
// conventions ("1.234": R$ 1.234,00 or 1,234) is an ErrAmbiguousAmount
// error showing both readings. More than 2 decimals, zero, negative and
// amounts over MaxAmountCents are errors.
func ParseAmount(s string, dec Decimal) (int64, error) {
	if trimSpace(s) == "" {
		return 0, fail(ErrRequired, "The amount is missing.")
	}
	return readAmountText(s).resolve(s, dec, whyNoEvidence)
}

// ParseAmountNumber converts the raw value of a numeric spreadsheet cell
// ("76937.320000000022", "1.5E3") to cents. Float noise is rounded away only
// when the value is within 1e-6 reais of a whole cent; otherwise it has more
// than 2 decimals and is an error. It works on the decimal digits, never on
// float64.
func ParseAmountNumber(raw string) (int64, error) {
	d, ok := parseNumberCell(raw)
	if !ok {
		return 0, fail(ErrInvalidAmount, "The cell is not a number.")
	}
	return roundNumberCents(d)
}

func roundNumberCents(d decimal) (int64, error) {
	frac := d.frac
	if len(frac) <= 2 {
		return d.cents()
	}
	// rest is the fraction of a cent, 0.rest; 1e-6 reais is 1e-4 cents.
	rest := frac[2:]
	k4 := rest
	if len(k4) > 4 {
		k4 = k4[:4]
	}
	k4 = (k4 + "0000")[:4]
	tailZero := len(rest) <= 4 || trimRightZeros(rest[4:]) == ""
	switch {
	case k4 == "0000" || k4 == "0001" && tailZero:
		return decimal{neg: d.neg, int: d.int, frac: frac[:2]}.cents()
	case k4 == "9999":
		c, err := decimal{neg: d.neg, int: d.int, frac: frac[:2]}.centsUnchecked()
		if err != nil {
			return 0, err
		}
		c++ // magnitude: -0.999999 rounds to -1.00 as 0.999999 to 1.00
		s := strconv.FormatInt(c, 10)
		s = zeroPad(s, 3)
		return decimal{neg: d.neg, int: trimLeftZeros(s[:len(s)-2]), frac: s[len(s)-2:]}.cents()
	}
	return 0, fail(ErrTooManyDecimals, "The cell holds %s, which is not a whole number of cents.", d.brl())
}

// centsUnchecked returns the magnitude of d (at most 2 decimals) in cents.
func (d decimal) centsUnchecked() (int64, error) {
	if len(d.int) > 15 {
		return 0, fail(ErrAmountTooLarge, "The largest amount Stone accepts is %s.", FormatBRL(MaxAmountCents))
	}
	f := (d.frac + "00")[:2]
	c, err := strconv.ParseInt(d.int+f, 10, 64)
	if err != nil {
		return 0, fail(ErrInvalidAmount, "The amount is not a number.")
	}
	return c, nil
}

// parseNumberCell reads a raw numeric cell: an optional sign, digits with an
// optional '.', and an optional exponent (E+13), into exact digits.
func parseNumberCell(raw string) (decimal, bool) {
	s := trimSpace(raw)
	var d decimal
	if s != "" && (s[0] == '-' || s[0] == '+') {
		d.neg = s[0] == '-'
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 60 || e < -60 {
			return decimal{}, false
		}
		exp, s = e, s[:i]
	}
	ip, fp := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		ip, fp = s[:i], s[i+1:]
	}
	if ip == "" && fp == "" || ip != "" && !allDigits(ip) || fp != "" && !allDigits(fp) {
		return decimal{}, false
	}
	// Move the decimal point exp places, on the digit string.
	digits := ip + fp
	point := len(ip) + exp
	switch {
	case point <= 0:
		d.int, d.frac = "", strings.Repeat("0", -point)+digits
	case point >= len(digits):
		d.int, d.frac = digits+strings.Repeat("0", point-len(digits)), ""
	default:
		d.int, d.frac = digits[:point], digits[point:]
	}
	d.int = trimLeftZeros(d.int)
	return d, true
}

// ParseAmountCents converts an amount_cents cell, a whole number of cents,
// to cents: "123456" is R$ 1.234,56.
func ParseAmountCents(s string, kind Kind) (int64, error) {
	v := trimSpace(s)
	if v == "" {
		return 0, fail(ErrRequired, "The amount in cents is missing.")
	}
	var d decimal
	if kind == Number {
		var ok bool
		if d, ok = parseNumberCell(v); !ok || trimRightZeros(d.frac) != "" {
			return 0, fail(ErrInvalidAmount, "An amount in cents is a whole number, like 123456 for R$ 1.234,56.")
		}
	} else {
		if v[0] == '-' || v[0] == '+' {
			d.neg = v[0] == '-'
			v = v[1:]
		}
		if !allDigits(v) {
			return 0, fail(ErrInvalidAmount, "An amount in cents is a whole number, like 123456 for R$ 1.234,56.")
		}
		d.int = trimLeftZeros(v)
	}
	// The digits are cents: shift two places to reuse the reais checks.
	i := zeroPad(d.int, 3)
	return decimal{neg: d.neg, int: trimLeftZeros(i[:len(i)-2]), frac: i[len(i)-2:]}.cents()
}
