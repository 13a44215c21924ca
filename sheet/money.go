package sheet

import "strconv"

// Reais formats cents as reais with two decimals and the given decimal
// mark, exactly (no floating point), without thousands separators, as a
// spreadsheet reads a number: Reais(-123456, ',') is "-1234,56". Money as a
// person reads it ("R$ 1.234,56") is validate.FormatBRL.
func Reais(cents int64, mark byte) string {
	var b []byte
	u := uint64(cents)
	if cents < 0 {
		b = append(b, '-')
		u = uint64(-(cents + 1)) + 1 // no overflow at math.MinInt64
	}
	b = strconv.AppendUint(b, u/100, 10)
	b = append(b, mark, byte('0'+u%100/10), byte('0'+u%10))
	return string(b)
}
