package sheet

import (
	"testing"
	"unicode/utf8"
)

// watchInBlocks feeds s to a utf8Watch in blocks of the given sizes (the
// last size repeats) and reports whether it found s invalid.
func watchInBlocks(s []byte, sizes ...int) bool {
	var w utf8Watch
	for i := 0; len(s) > 0; i++ {
		n := min(sizes[min(i, len(sizes)-1)], len(s))
		w.write(s[:n])
		s = s[n:]
	}
	w.end()
	return w.bad
}

func TestUTF8Watch(t *testing.T) {
	tests := []struct {
		s     string
		sizes []int
		bad   bool
	}{
		{"", []int{1}, false},
		{"Payee 12;10,00\n", []int{4}, false},
		{"José da Silva", []int{4}, false},                  // é cut after its first byte
		{"Conceição", []int{1}, false},                      // one byte at a time
		{"€100", []int{1, 1, 1}, false},                     // a 3-byte rune in three blocks
		{"a\U0001F600b", []int{2, 1, 1, 1}, false},          // a 4-byte rune in four blocks
		{"Jos\xe9 da Silva", []int{64}, true},               // Windows-1252 é
		{"Jos\xe9", []int{4, 1}, true},                      // the bad byte alone in its block
		{"ab\xc3", []int{64}, true},                         // a rune cut by the end of the file
		{"ab\xc3", []int{3}, true},                          // ... carried, then the end
		{"\xc3\xa9\xa9", []int{2, 1}, true},                 // a stray continuation byte in the next block
		{"\xe2\x82" + "x" + "abc", []int{2, 4}, true},       // a carried rune not continued
		{"\xed\xa0\x80", []int{1}, true},                    // a surrogate, one byte at a time
		{"\xf4\x90\x80\x80", []int{3, 1}, true},             // beyond U+10FFFF
		{"ok\n" + "\xef\xbb\xbf" + "ok", []int{4}, false},   // a BOM mid-file is valid UTF-8
		{"\xff" + "aaaaaaaaaaaaaaaaaaaaaa", []int{1}, true}, // bad first byte
	}
	for _, tt := range tests {
		if got := watchInBlocks([]byte(tt.s), tt.sizes...); got != tt.bad {
			t.Errorf("%q in blocks of %v: bad = %v, want %v", tt.s, tt.sizes, got, tt.bad)
		}
	}
}

// FuzzUTF8Watch checks the block-by-block validation against utf8.Valid on
// the whole stream, for any cut of it into blocks.
func FuzzUTF8Watch(f *testing.F) {
	f.Add([]byte("Jos\xc3\xa9"), uint8(4), uint8(1))
	f.Add([]byte("a\xf0\x9f\x98\x80b"), uint8(2), uint8(1))
	f.Add([]byte("Jos\xe9\n\x8a"), uint8(3), uint8(3))
	f.Fuzz(func(t *testing.T, s []byte, first, rest uint8) {
		sizes := []int{int(first)%7 + 1, int(rest)%7 + 1}
		if got, want := watchInBlocks(s, sizes...), !utf8.Valid(s); got != want {
			t.Errorf("%q in blocks of %v: bad = %v, want %v", s, sizes, got, want)
		}
	})
}
