package sheet

import (
	"strconv"
	"unicode"
)

// Column sizing for XLSX results. A results sheet opened with every column
// at the default width (about 9 characters) cuts off names, documents and
// transfer ids, and whoever reads it has to widen each column by hand. So
// the writer measures what it is about to write and sets widths first.
const (
	// sizingRows is how many rows (header included) the XLSX writer holds
	// back to measure before streaming: enough to see what a column holds,
	// small enough that memory stays bounded whatever the sheet's size.
	sizingRows = 200
	// minColWidth and maxColWidth bound a column's width, in characters: a
	// narrow column still shows its filter button and a few digits; one
	// 500-character note must not push every other column off screen.
	minColWidth = 8
	maxColWidth = 50
	// cellPadding is added to the longest value, in characters: margins and
	// the slightly wider glyphs of a proportional font.
	cellPadding = 2
	// headerPadding is added to a header's length, in characters: the header
	// is bold and carries the autofilter's drop-down button at its right.
	headerPadding = 4
)

// colWidths tracks the widest displayed text of each column, in characters.
type colWidths []int

// see records n displayed characters in 0-based column i.
func (cw *colWidths) see(i, n int) {
	for len(*cw) <= i {
		*cw = append(*cw, 0)
	}
	(*cw)[i] = max((*cw)[i], n)
}

// width is the width to give 0-based column i, in characters, clamped to
// [minColWidth, maxColWidth].
func (cw colWidths) width(i int) float64 {
	n := 0
	if i < len(cw) {
		n = cw[i]
	}
	return float64(min(max(n, minColWidth), maxColWidth))
}

// textWidth is how many character cells s takes on screen: combining marks
// (a decomposed "é") take none, wide East Asian characters take two, and a
// line break takes none, since an unwrapped cell shows its lines side by side.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
		case isWide(r):
			n += 2
		default:
			n++
		}
	}
	return n
}

// isWide reports the common double-width ranges (Hangul Jamo, CJK, Hangul
// syllables, full-width forms); an approximation is enough for sizing.
func isWide(r rune) bool {
	return (r >= 0x1100 && r <= 0x115F) ||
		(r >= 0x2E80 && r <= 0xA4CF) ||
		(r >= 0xAC00 && r <= 0xD7A3) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0xFF00 && r <= 0xFF60) ||
		(r >= 0xFFE0 && r <= 0xFFE6)
}

// moneyWidth is the length of cents as the money format `"R$" #,##0.00`
// shows it: "R$ 1,234.56", with a leading "-" when negative. cents must be
// whole cents (the caller has parsed it).
func moneyWidth(cents int64) int {
	n := 0
	u := uint64(cents)
	if cents < 0 {
		n++
		u = uint64(-(cents + 1)) + 1
	}
	digits := len(strconv.FormatUint(u/100, 10))
	return n + len("R$ ") + digits + (digits-1)/3 + len(".00")
}
