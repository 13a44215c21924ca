package validate

import (
	"strings"
	"unicode"
)

// Fold reduces a header, or a word a person wrote in a cell, to
// lower-case letters and digits, without accents, and without the currency
// "R$" that units add:
// "Agência" → "agencia", "branch_code" → "branchcode", " CPF/CNPJ " → "cpfcnpj",
// "Valor (R$)" → "valor", "Nº Conta" → "noconta". Letters of other
// alphabets are kept, lower-cased; combining accents are dropped.
func Fold(h string) string {
	var b strings.Builder
	b.Grow(len(h))
	for i, r := range h {
		switch {
		case r == '$' && i > 0 && (h[i-1] == 'R' || h[i-1] == 'r'):
			// "R$": the "R" written before is taken back.
			s := b.String()
			b.Reset()
			b.WriteString(s[:len(s)-1])
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(unicode.ToLower(r))
		case r < unicode.MaxASCII, unicode.Is(unicode.Mn, r):
			// punctuation, spaces, a combining accent: dropped
		default:
			r = unicode.ToLower(r)
			if base, ok := unaccented[r]; ok {
				b.WriteByte(base)
			} else if unicode.IsLetter(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// unaccented is the letter under each accented Latin letter people write
// (and "º", "ª", written as their letters): what Unicode decomposition
// leaves of them once the accents go.
var unaccented = func() map[rune]byte {
	m := map[rune]byte{}
	for base, accented := range map[byte]string{
		'a': "àáâãäåāăąª", 'c': "çćĉċč", 'd': "ď", 'e': "èéêëēĕėęě", 'g': "ĝğġģ", 'h': "ĥ",
		'i': "ìíîïĩīĭįı", 'j': "ĵ", 'k': "ķ", 'l': "ĺļľ", 'n': "ñńņňǹ", 'o': "òóôõöōŏőº",
		'r': "ŕŗř", 's': "śŝşš", 't': "ţť", 'u': "ùúûüũūŭůűų", 'w': "ŵ", 'y': "ýÿŷ", 'z': "źżž",
	} {
		for _, r := range accented {
			m[r] = base
		}
	}
	return m
}()
