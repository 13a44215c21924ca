// Package bombs writes hostile payout sheets, for the tests and the
// benchmark of the sheet readers' limits: files small on disk that are
// huge, deep or wide once read, as issue 13 found them. XLSX bombs are zip
// files written with archive/zip; their repeated parts are deflated by a
// few lines here that emit the back-references a compressor would find,
// so that a part of 265 MB is written in milliseconds rather than the
// seconds compress/flate takes to find them.
package bombs

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

// NestedWorkbook writes an XLSX whose xl/workbook.xml nests an element
// depth deep after its list of sheets (32 million made a 219 KB file that
// took 5.9 GB to read).
func NestedWorkbook(w io.Writer, depth int) error {
	wb := []segment{
		{text: `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="` + mainNS + `" xmlns:r="` + relNS + `">` +
			`<sheets><sheet name="Plan1" sheetId="1" r:id="rId1"/></sheets>`},
		{text: "<a>", n: depth},
		{text: "</a>", n: depth},
		{text: "</workbook>"},
	}
	return workbook(w, map[string][]segment{
		"xl/workbook.xml":          wb,
		"xl/worksheets/sheet1.xml": {{text: worksheet(`<row r="1"><c r="A1" t="inlineStr"><is><t>nome</t></is></c></row>`)}},
	})
}

// SharedStrings writes an XLSX whose shared strings table holds n empty
// strings (53 million made a 391 KB file that took 3.5 GB to read).
func SharedStrings(w io.Writer, n int) error {
	return workbook(w, map[string][]segment{
		"xl/workbook.xml": {{text: workbookXML}},
		"xl/sharedStrings.xml": {
			{text: `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="` + mainNS + `">`},
			{text: "<si><t></t></si>", n: n},
			{text: "</sst>"},
		},
		"xl/worksheets/sheet1.xml": {{text: worksheet(`<row r="1"><c r="A1" t="s"><v>0</v></c></row>`)}},
	})
}

// WideRows writes an XLSX with a payout header in columns A to F, then
// rows data rows each holding one cell in column col ("XFD", Excel's last):
// 5,000 rows made a 27 KB file whose check file took 248 MB.
func WideRows(w io.Writer, rows int, col string) error {
	var b strings.Builder
	b.WriteString(`<row r="1">`)
	for i, h := range []string{"nome", "documento", "banco", "agencia", "conta", "valor"} {
		fmt.Fprintf(&b, `<c r="%c1" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+i, h)
	}
	b.WriteString(`</row>`)
	for r := 2; r <= rows+1; r++ {
		fmt.Fprintf(&b, `<row r="%d"><c r="%s%d"><v>1</v></c></row>`, r, col, r)
	}
	return workbook(w, map[string][]segment{
		"xl/workbook.xml":          {{text: workbookXML}},
		"xl/worksheets/sheet1.xml": {{text: worksheet(b.String())}},
	})
}

// LongCellXLSX writes an XLSX with a payout header whose row 2 holds, in
// column A ("nome"), an inline string of n characters.
func LongCellXLSX(w io.Writer, n int) error {
	var header strings.Builder
	for i, h := range []string{"nome", "documento", "banco", "agencia", "conta", "valor"} {
		fmt.Fprintf(&header, `<c r="%c1" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+i, h)
	}
	return workbook(w, map[string][]segment{
		"xl/workbook.xml": {{text: workbookXML}},
		"xl/worksheets/sheet1.xml": {
			{text: `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="` + mainNS + `"><sheetData>` +
				`<row r="1">` + header.String() + `</row>` +
				`<row r="2"><c r="A2" t="inlineStr"><is><t>`},
			{text: "a", n: n},
			{text: `</t></is></c></row></sheetData></worksheet>`},
		},
	})
}

// BlankRows writes an XLSX whose worksheet holds a header row, then n
// empty rows: 6 bytes each, which compress to almost nothing.
func BlankRows(w io.Writer, n int) error {
	return workbook(w, map[string][]segment{
		"xl/workbook.xml": {{text: workbookXML}},
		"xl/worksheets/sheet1.xml": {
			{text: `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="` + mainNS + `"><sheetData>` +
				`<row r="1"><c r="A1" t="inlineStr"><is><t>nome</t></is></c></row>`},
			{text: "<row/>", n: n},
			{text: `</sheetData></worksheet>`},
		},
	})
}

// WideCSV writes a ';'-separated CSV of a payout header, then rows
// payouts of fields fields each, all but the first six empty (40 rows of a
// million made a 40 MB file whose batch page weighed 720 MB).
func WideCSV(w io.Writer, rows, fields int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("nome;documento;banco;agencia;conta;valor\n")
	line := "Ana;52998224725;341;0001;12345-6;10,00" + strings.Repeat(";", fields-6) + "\n"
	for range rows {
		bw.WriteString(line)
	}
	return bw.Flush()
}

// LongNameCSV writes a ';'-separated CSV whose row 2 has a name of n
// characters and a payout otherwise valid (45 MB was accepted as a payee).
func LongNameCSV(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("nome;documento;banco;agencia;conta;valor\n")
	chunk := strings.Repeat("a", 1<<16)
	for left := n; left > 0; left -= len(chunk) {
		bw.WriteString(chunk[:min(left, len(chunk))])
	}
	bw.WriteString(";52998224725;341;0001;12345-6;10,00\n")
	return bw.Flush()
}

const (
	mainNS      = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	relNS       = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	pkgRelNS    = "http://schemas.openxmlformats.org/package/2006/relationships"
	workbookXML = `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="` + mainNS + `" xmlns:r="` + relNS + `">` +
		`<sheets><sheet name="Plan1" sheetId="1" r:id="rId1"/></sheets></workbook>`
)

func worksheet(rows string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="` + mainNS + `"><sheetData>` + rows + `</sheetData></worksheet>`
}

// workbook writes a zip with the package and workbook relationships (a
// worksheet, and shared strings when parts has them) and parts.
func workbook(w io.Writer, parts map[string][]segment) error {
	rels := `<Relationship Id="rId1" Type="` + relNS + `/worksheet" Target="worksheets/sheet1.xml"/>`
	if _, ok := parts["xl/sharedStrings.xml"]; ok {
		rels += `<Relationship Id="rId2" Type="` + relNS + `/sharedStrings" Target="sharedStrings.xml"/>`
	}
	all := map[string][]segment{
		"[Content_Types].xml": {{text: `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`}},
		"_rels/.rels": {{text: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="` + pkgRelNS + `">` +
			`<Relationship Id="rId1" Type="` + relNS + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`}},
		"xl/_rels/workbook.xml.rels": {{text: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="` + pkgRelNS + `">` + rels + `</Relationships>`}},
	}
	for name, segs := range parts {
		all[name] = segs
	}
	zw := zip.NewWriter(w)
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"} {
		segs, ok := all[name]
		if !ok {
			continue
		}
		raw, crc, size := deflate(segs)
		fw, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(len(raw)), UncompressedSize64: uint64(size)})
		if err != nil {
			return err
		}
		if _, err := fw.Write(raw); err != nil {
			return err
		}
	}
	return zw.Close()
}

// segment is text, written n times (once when n is 0).
type segment struct {
	text string
	n    int
}

// deflate returns the raw deflate stream of segs, its CRC-32 and its size.
// A repeated segment is its text once, as a stored block, then copies of
// what came just before, 258 bytes at a time, in a block of fixed Huffman
// codes: about 14 bits for every 258 bytes.
func deflate(segs []segment) (raw []byte, crc uint32, size int64) {
	var bw bitWriter
	for _, s := range segs {
		n := max(s.n, 1)
		if n > 1 && len(s.text) > 32768 {
			panic("bombs: a repeated text is copied from at most 32,768 bytes back")
		}
		size += int64(len(s.text)) * int64(n)
		crc = crcRepeat(crc, s.text, n)
		switch {
		case n > 1:
			// Stored as it is, to be copied from.
			for rest := s.text; len(rest) > 0; {
				chunk := rest[:min(len(rest), 65535)]
				bw.stored(chunk, false)
				rest = rest[len(chunk):]
			}
		case s.text != "":
			bw.flate(s.text)
		}
		switch more := int64(len(s.text)) * int64(n-1); {
		case more >= 3:
			bw.copies(more, len(s.text))
		case more > 0:
			bw.stored(strings.Repeat(s.text, n-1), false) // too short for a copy
		}
	}
	bw.stored("", true)
	return bw.buf, crc, size
}

func crcRepeat(crc uint32, s string, n int) uint32 {
	if s == "" {
		return crc
	}
	per := max(1, (1<<16)/len(s))
	chunk := []byte(strings.Repeat(s, min(per, n)))
	for n > 0 {
		k := min(n, per)
		crc = crc32.Update(crc, crc32.IEEETable, chunk[:k*len(s)])
		n -= k
	}
	return crc
}

// bitWriter writes a deflate stream (RFC 1951): bits least significant
// first, Huffman codes most significant bit first.
type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// code writes an n-bit Huffman code.
func (w *bitWriter) code(c uint32, n uint) {
	var r uint64
	for i := uint(0); i < n; i++ {
		r = r<<1 | uint64(c>>i&1)
	}
	w.bits(r, n)
}

func (w *bitWriter) align() {
	if w.nacc > 0 {
		w.bits(0, 8-w.nacc)
	}
}

// flate writes s compressed by compress/flate: its blocks, then the empty
// stored block of a flush, which ends on a byte as the next block starts.
func (w *bitWriter) flate(s string) {
	w.stored("", false) // align: flate's blocks start on a byte
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	io.WriteString(fw, s)
	fw.Flush()
	w.buf = append(w.buf, b.Bytes()...)
}

// stored writes s (at most 65,535 bytes) as a stored block.
func (w *bitWriter) stored(s string, final bool) {
	w.bits(boolBit(final), 1)
	w.bits(0, 2)
	w.align()
	n := uint64(len(s))
	w.bits(n, 16)
	w.bits(^n&0xffff, 16)
	w.buf = append(w.buf, s...)
}

// copies writes a fixed-Huffman block that repeats the last dist bytes
// (at most 32,768) until count more bytes, at least 3, are written.
func (w *bitWriter) copies(count int64, dist int) {
	w.bits(0, 1)
	w.bits(1, 2) // fixed Huffman codes
	// The copies of 258 bytes are all the same bits: made once.
	var full bitWriter
	full.length(258)
	full.distance(dist)
	var fullBits uint64
	for i, b := range full.buf {
		fullBits |= uint64(b) << (8 * i)
	}
	fullBits |= full.acc << (8 * len(full.buf))
	fullN := full.nacc + uint(8*len(full.buf)) // at most 8+5+13 bits
	for count > 0 {
		l := min(count, 258)
		if rest := count - l; rest > 0 && rest < 3 {
			l = count - 3 // a copy is at least 3 bytes: leave 3 for the last
		}
		if l == 258 {
			w.bits(fullBits, fullN)
		} else {
			w.length(int(l))
			w.distance(dist)
		}
		count -= l
	}
	w.code(0, 7) // end of block (256)
}

var lengthBase = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
var lengthExtra = [...]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
var distBase = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
var distExtra = [...]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

func (w *bitWriter) length(l int) {
	i := len(lengthBase) - 1
	for lengthBase[i] > l {
		i--
	}
	sym := 257 + i
	if sym < 280 {
		w.code(uint32(sym-256), 7)
	} else {
		w.code(uint32(0xC0+sym-280), 8)
	}
	w.bits(uint64(l-lengthBase[i]), lengthExtra[i])
}

func (w *bitWriter) distance(d int) {
	i := len(distBase) - 1
	for distBase[i] > d {
		i--
	}
	w.code(uint32(i), 5)
	w.bits(uint64(d-distBase[i]), distExtra[i])
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
