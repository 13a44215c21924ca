package batch

import (
	"strconv"
	"strings"
)

// FormatBRL writes cents as Brazilians read money: 123456 → "R$ 1.234,56",
// -5 → "-R$ 0,05".
func FormatBRL(cents int64) string {
	sign := ""
	u := uint64(cents)
	if cents < 0 {
		sign = "-"
		u = uint64(-cents)
	}
	reais := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	b.WriteString(sign)
	b.WriteString("R$ ")
	for i, d := range reais {
		if i > 0 && (len(reais)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(d)
	}
	c := u % 100
	b.WriteByte(',')
	b.WriteByte(byte('0' + c/10))
	b.WriteByte(byte('0' + c%10))
	return b.String()
}
