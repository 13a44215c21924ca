package sheet

// The worksheet is read here with encoding/xml straight from the zip rather
// than with excelize's Rows iterator: in excelize v2.11.1, Rows.Columns
// returns strings only, and learning a cell's type (t="s", t="str", none)
// or its style (date or number) needs per-cell lookups that load the whole
// sheet. The type is what tells the account code 00123 typed as text from
// 123 typed as a number, and a date from its serial, so we read the few
// parts involved ourselves: _rels/.rels, the workbook and its rels, styles,
// shared strings and one worksheet.

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// maxColumns is Excel's column limit (XFD): a reference past it is not a
// cell reference. Limits.Columns is what lote reads.
const maxColumns = 16384

type xlsxSource struct {
	file     *os.File
	part     io.ReadCloser
	dec      *xml.Decoder
	sheet    string
	index    int // of sheet, in workbook order
	sst      []string
	isDate   []bool          // by cellXfs index (the cell's s attribute)
	formats  []*NumberFormat // by cellXfs index; nil for General
	date1904 bool
	header   []string
	lastRow  int
	done     bool
	lim      Limits
	budget   *partBudget // every cell's text is counted in it again
	book     xBook
}

// partBudget caps the bytes decompressed from all parts together, and the
// text of the cells read (a shared string counts each time a cell uses
// it). The declared sizes in the zip are checked first; the bytes actually
// read are counted too.
type partBudget struct{ left int64 }

type budgetReader struct {
	r      io.Reader
	b      *partBudget
	onRead func(n int)
}

func (br *budgetReader) Read(p []byte) (int, error) {
	if int64(len(p)) > br.b.left+1 {
		p = p[:br.b.left+1]
	}
	n, err := br.r.Read(p)
	br.b.left -= int64(n)
	if br.b.left < 0 {
		return n, ErrTooLarge
	}
	if br.onRead != nil {
		br.onRead(n)
	}
	return n, err
}

type partReader struct {
	io.Reader
	c io.Closer
}

func (p partReader) Close() error { return p.c.Close() }

type workbookZip struct {
	parts  map[string]*zip.File // by lower-case name: OPC part names are case-insensitive
	budget *partBudget
	lim    Limits
}

// open opens a part to read as XML, refusing it at once when it declares
// more than max bytes (0: no cap of its own) or more than the budget left.
// The declared size can be trusted as a cap: archive/zip fails a part
// that decompresses to more.
func (w *workbookZip) open(name string, max int64, onRead func(int)) (io.ReadCloser, error) {
	zf := w.parts[strings.ToLower(strings.TrimPrefix(name, "/"))]
	if zf == nil {
		return nil, fmt.Errorf("missing part %s", name)
	}
	if max > 0 && zf.UncompressedSize64 > uint64(max) {
		return nil, &LimitError{Limit: partLimit(max), Max: max, Part: zf.Name}
	}
	if zf.UncompressedSize64 > uint64(w.budget.left) {
		return nil, ErrTooLarge
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("part %s: %w", name, err)
	}
	br := &budgetReader{r: rc, b: w.budget, onRead: onRead}
	return partReader{Reader: newXMLGuard(br, zf.Name, w.lim), c: rc}, nil
}

func (w *workbookZip) has(name string) bool {
	return w.parts[strings.ToLower(strings.TrimPrefix(name, "/"))] != nil
}

// decode unmarshals a small part (rels, workbook, styles).
func (w *workbookZip) decode(name string, v any) error {
	rc, err := w.open(name, w.lim.PartSize, nil)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := xml.NewDecoder(rc).Decode(v); err != nil {
		return readError(fmt.Sprintf("part %s", name), err)
	}
	return nil
}

// readError wraps an error met reading XML: a limit passed or the budget
// spent are said as they are, anything else after what was being read.
func readError(what string, err error) error {
	var le *LimitError
	switch {
	case errors.As(err, &le):
		return le
	case errors.Is(err, ErrTooLarge):
		return ErrTooLarge
	}
	return fmt.Errorf("%s: %w", what, err)
}

type xRels struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

// target returns the part a relationship points at, resolved against the
// folder of the part that owns the rels, or "" when there is none.
func (r *xRels) target(dir string, match func(id, typ string) bool) string {
	for _, rel := range r.Rels {
		if match(rel.ID, rel.Type) {
			if strings.HasPrefix(rel.Target, "/") {
				return strings.TrimPrefix(rel.Target, "/")
			}
			return path.Join(dir, rel.Target)
		}
	}
	return ""
}

func typeIs(suffix string) func(id, typ string) bool {
	// Transitional and Strict OOXML differ in the namespace, not the suffix.
	return func(_, typ string) bool { return strings.HasSuffix(typ, "/"+suffix) }
}

type xWorkbook struct {
	Pr struct {
		Date1904 string `xml:"date1904,attr"`
	} `xml:"workbookPr"`
	Sheets []struct {
		Name  string `xml:"name,attr"`
		State string `xml:"state,attr"`
		RID   string `xml:"id,attr"`
	} `xml:"sheets>sheet"`
}

type xStyles struct {
	NumFmts []struct {
		ID   string `xml:"numFmtId,attr"`
		Code string `xml:"formatCode,attr"`
	} `xml:"numFmts>numFmt"`
	Xfs []struct {
		NumFmtID string `xml:"numFmtId,attr"`
	} `xml:"cellXfs>xf"`
}

func openXLSX(f *os.File, size int64, opts Options, p *progress) (*xlsxSource, error) {
	zr, err := zip.NewReader(f, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%w (a damaged zip file?)", ErrNotSpreadsheet)
	}
	limit := opts.MaxUnzipSize
	if limit <= 0 {
		limit = DefaultMaxUnzipSize
	}
	lim := opts.Limits.withDefaults()
	if size < (limit-expansionSlack)/int64(lim.Expansion) {
		limit = size*int64(lim.Expansion) + expansionSlack
	}
	w := &workbookZip{parts: make(map[string]*zip.File, len(zr.File)), budget: &partBudget{left: limit}, lim: lim}
	for _, zf := range zr.File {
		w.parts[strings.ToLower(zf.Name)] = zf
	}
	if err := notWorkbook(w); err != nil {
		return nil, err
	}

	var root xRels
	if err := w.decode("_rels/.rels", &root); err != nil {
		return nil, err
	}
	wbPath := root.target("", typeIs("officeDocument"))
	if wbPath == "" || !w.has(wbPath) {
		wbPath = "xl/workbook.xml"
	}
	var wb xWorkbook
	if err := w.decode(wbPath, &wb); err != nil {
		return nil, err
	}
	dir := path.Dir(wbPath)
	var wbRels xRels
	if err := w.decode(path.Join(dir, "_rels", path.Base(wbPath)+".rels"), &wbRels); err != nil {
		return nil, err
	}

	s := &xlsxSource{file: f, date1904: wb.Pr.Date1904 == "1" || wb.Pr.Date1904 == "true", lim: lim, budget: w.budget,
		book: xBook{zip: w, wb: wb, rels: wbRels, dir: dir, size: size, progress: p}}
	idx, err := pickSheet(&wb, opts.Sheet)
	if err != nil {
		return nil, err
	}
	if stylesPath := wbRels.target(dir, typeIs("styles")); stylesPath != "" && w.has(stylesPath) {
		var st xStyles
		if err := w.decode(stylesPath, &st); err != nil {
			return nil, err
		}
		s.isDate, s.formats = dateStyles(&st)
	}
	if sstPath := wbRels.target(dir, typeIs("sharedStrings")); sstPath != "" && w.has(sstPath) {
		if s.sst, err = readSharedStrings(w, sstPath); err != nil {
			return nil, err
		}
	}
	err = s.openSheet(idx)
	for i := idx + 1; errors.Is(err, errNotTable) && opts.Sheet == "" && opts.IsHeader != nil && i < len(wb.Sheets); i++ {
		// A chart in front of the table: the table is looked for in the
		// visible worksheets after it.
		if st := wb.Sheets[i].State; st == "" || st == "visible" {
			err = s.openSheet(i)
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// errNotTable: a chart or dialog sheet, which has no cells to read.
var errNotTable = errors.New("no cells")

// xBook is what an open workbook keeps to open another of its worksheets:
// the styles and shared strings, read once, serve them all.
type xBook struct {
	zip      *workbookZip
	wb       xWorkbook
	rels     xRels
	dir      string
	size     int64
	progress *progress
}

// sheets returns the worksheets' names in workbook order, and whether each
// is visible.
func (b *xBook) sheets() (names []string, visible []bool) {
	for _, sh := range b.wb.Sheets {
		names = append(names, sh.Name)
		visible = append(visible, sh.State == "" || sh.State == "visible")
	}
	return names, visible
}

// openSheet starts reading worksheet idx (in workbook order) from its
// first row, closing the one being read, if any.
func (s *xlsxSource) openSheet(idx int) error {
	if s.part != nil {
		s.part.Close()
		s.part, s.dec = nil, nil
	}
	b := &s.book
	s.sheet, s.index, s.header, s.lastRow, s.done = b.wb.Sheets[idx].Name, idx, nil, 0, false
	rid := b.wb.Sheets[idx].RID
	sheetPath := b.rels.target(b.dir, func(id, _ string) bool { return id == rid })
	if sheetPath == "" {
		return fmt.Errorf("%w: sheet %q has no worksheet part", ErrNotSpreadsheet, s.sheet)
	}
	if !typeIs("worksheet")(rid, relType(&b.rels, rid)) {
		return fmt.Errorf("sheet %q is a chart or dialog, not a table: %w", s.sheet, errNotTable)
	}
	zf := b.zip.parts[strings.ToLower(sheetPath)]
	if zf == nil {
		return fmt.Errorf("%w: sheet %q has no worksheet part", ErrNotSpreadsheet, s.sheet)
	}
	total, read := float64(max(zf.UncompressedSize64, 1)), int64(0)
	fileSize, p := float64(b.size), b.progress
	p.done.Store(0)
	part, err := b.zip.open(sheetPath, 0, func(n int) {
		read += int64(n)
		p.done.Store(int64(min(fileSize, fileSize*float64(read)/total)))
	})
	if err != nil {
		return err
	}
	s.part = part
	s.dec = xml.NewDecoder(part)
	return nil
}

func relType(r *xRels, id string) string {
	for _, rel := range r.Rels {
		if rel.ID == id {
			return rel.Type
		}
	}
	return ""
}

// notWorkbook explains what a zip that holds no workbook is.
func notWorkbook(w *workbookZip) error {
	if w.has("_rels/.rels") && (w.has("xl/workbook.xml") || w.has("xl/workbook.bin")) {
		if !w.has("xl/workbook.xml") {
			return fmt.Errorf("%w: binary workbook (.xlsb); save it as .xlsx or CSV", ErrNotSpreadsheet)
		}
		return nil
	}
	if w.has("_rels/.rels") {
		// Maybe a Strict OOXML or unusually laid out workbook: let the rels decide.
		var root xRels
		if err := w.decode("_rels/.rels", &root); err == nil {
			if t := root.target("", typeIs("officeDocument")); t != "" && strings.HasSuffix(strings.ToLower(t), ".xml") && w.has(t) && !w.has("word/document.xml") && !w.has("ppt/presentation.xml") {
				return nil
			}
		}
	}
	switch {
	case w.has("mimetype") && w.has("content.xml"):
		return fmt.Errorf("%w: an OpenDocument file (.ods); save it as .xlsx or CSV", ErrNotSpreadsheet)
	case w.has("word/document.xml"):
		return fmt.Errorf("%w (a Word document?)", ErrNotSpreadsheet)
	case w.has("ppt/presentation.xml"):
		return fmt.Errorf("%w (a PowerPoint presentation?)", ErrNotSpreadsheet)
	}
	return fmt.Errorf("%w (a zip file with no Excel workbook inside)", ErrNotSpreadsheet)
}

func pickSheet(wb *xWorkbook, name string) (int, error) {
	if len(wb.Sheets) == 0 {
		return 0, fmt.Errorf("%w: the workbook has no sheets", ErrEmpty)
	}
	if name == "" {
		// The first visible sheet is the one Excel users think of as first.
		for i, sh := range wb.Sheets {
			if sh.State == "" || sh.State == "visible" {
				return i, nil
			}
		}
		return 0, nil
	}
	for i, sh := range wb.Sheets {
		if sh.Name == name {
			return i, nil
		}
	}
	found := -1
	for i, sh := range wb.Sheets {
		if strings.EqualFold(strings.TrimSpace(sh.Name), strings.TrimSpace(name)) {
			if found >= 0 {
				found = -2
				break
			}
			found = i
		}
	}
	if found >= 0 {
		return found, nil
	}
	names := make([]string, len(wb.Sheets))
	for i, sh := range wb.Sheets {
		names[i] = strconv.Quote(sh.Name)
	}
	return 0, fmt.Errorf("%w %q; the workbook has %s", ErrNoSheet, name, strings.Join(names, ", "))
}

// dateStyles tells, per cell style, whether its number format shows a date,
// and what that format is.
func dateStyles(st *xStyles) ([]bool, []*NumberFormat) {
	custom := make(map[string]*NumberFormat, len(st.NumFmts))
	for _, nf := range st.NumFmts {
		id := strings.TrimSpace(nf.ID)
		n, _ := strconv.Atoi(id)
		custom[id] = &NumberFormat{ID: n, Code: nf.Code}
	}
	builtin := map[int]*NumberFormat{}
	out := make([]bool, len(st.Xfs))
	formats := make([]*NumberFormat, len(st.Xfs))
	for i, xf := range st.Xfs {
		id := strings.TrimSpace(xf.NumFmtID)
		if nf, ok := custom[id]; ok {
			out[i], formats[i] = isDateFormat(nf.Code), nf
			continue
		}
		n, err := strconv.Atoi(id)
		// Built-in formats 14-22 are dates and date-times, 45-47 times.
		out[i] = err == nil && (n >= 14 && n <= 22 || n >= 45 && n <= 47)
		if err == nil && n > 0 && n < 164 {
			if builtin[n] == nil {
				builtin[n] = &NumberFormat{ID: n}
			}
			formats[i] = builtin[n]
		}
	}
	return out, formats
}

// isDateFormat reports whether a number format code displays a date or time:
// it has a d, m, y, h or s token outside quoted text, escapes and brackets
// ("[$R$-416]", "[Red]"), where an elapsed-time bracket ("[h]") counts.
// Only the first section (positive numbers) is looked at.
func isDateFormat(code string) bool {
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '"':
			j := strings.IndexByte(code[i+1:], '"')
			if j < 0 {
				return false
			}
			i += j + 1
		case '\\', '_', '*':
			i++ // escaped char, padding width, fill char
		case '[':
			j := strings.IndexByte(code[i+1:], ']')
			if j < 0 {
				return false
			}
			inner := strings.ToLower(code[i+1 : i+1+j])
			if inner != "" && strings.Trim(inner, "hms") == "" {
				return true
			}
			i += j + 1
		case ';':
			return false
		default:
			switch c | 0x20 { // lower case for letters
			case 'd', 'm', 'y', 'h', 's':
				return true
			}
		}
	}
	return false
}

// readSharedStrings loads the shared strings table; it has to be held, as
// cells refer to it by index in any order. It holds at most
// Limits.SharedStrings entries and Limits.SharedText bytes of text, each
// entry at most Limits.CellChars characters.
func readSharedStrings(w *workbookZip, name string) ([]string, error) {
	// encoding/xml takes about a second for a million entries: they are
	// counted first, at the speed of decompressing, so that a table past
	// the limit is refused at once and one within it is held in a slice
	// of the right size.
	n, err := countSharedStrings(w, name)
	if err != nil {
		return nil, err
	}
	if n > w.lim.SharedStrings {
		return nil, &LimitError{Limit: stringsLimit(w.lim.SharedStrings), Max: int64(w.lim.SharedStrings), Part: name}
	}
	rc, err := w.open(name, w.lim.SharedStringsSize, nil)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	sst := make([]string, 0, n)
	var text int64
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return sst, nil
		}
		if err != nil {
			return nil, readError("read shared strings", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "si":
			if len(sst) == w.lim.SharedStrings {
				return nil, &LimitError{Limit: stringsLimit(w.lim.SharedStrings), Max: int64(w.lim.SharedStrings), Part: name}
			}
			s, err := richText(dec, "si", w.lim.CellChars)
			if err != nil {
				var le *LimitError
				if errors.As(err, &le) && le.Part == "" {
					le.Part, le.Hint = name, "shared string "+thousands(int64(len(sst)+1))
				}
				return nil, readError("read shared strings", err)
			}
			if text += int64(len(s)); text > w.lim.SharedText {
				return nil, &LimitError{Limit: sharedTextLimit(w.lim.SharedText), Max: w.lim.SharedText, Part: name}
			}
			sst = append(sst, s)
		}
	}
}

// countSharedStrings counts the start tags named si in the shared strings
// part, reading its bytes without parsing them. It may count more than
// encoding/xml would find (a "<si>" inside a comment or CDATA section),
// never fewer: it is a bound, and a sizing hint.
func countSharedStrings(w *workbookZip, name string) (int, error) {
	rc, err := w.open(name, w.lim.SharedStringsSize, nil)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	buf := make([]byte, 32<<10)
	n := 0
	// state: 0 in text; 1 just after '<'; 2 in a tag's name, of which
	// name holds the local part so far (up to 3 bytes: longer is not si).
	state, local := 0, make([]byte, 0, 3)
	for {
		m, err := rc.Read(buf)
		for _, c := range buf[:m] {
			switch state {
			case 0:
				if c == '<' {
					state = 1
				}
				continue
			case 1:
				if c == '/' || c == '!' || c == '?' {
					state = 0
					continue
				}
				state, local = 2, local[:0]
			}
			switch c {
			case ' ', '\t', '\n', '\r', '>', '/':
				if string(local) == "si" {
					n++
				}
				state = 0
			case ':':
				local = local[:0] // a prefix: the local name follows
			case '<':
				state = 1
			default:
				if len(local) < cap(local) {
					local = append(local, c)
				} else {
					local = append(local[:0], 0, 0, 0) // too long to be si
				}
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, readError("read shared strings", err)
		}
	}
}

// richText returns the text of an <si> or <is> element: its <t> elements,
// directly or in rich-text runs <r>, leaving out phonetic runs <rPh>. More
// than maxChars characters is a *LimitError.
func richText(dec *xml.Decoder, end string, maxChars int) (string, error) {
	var b strings.Builder
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return "", unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				s, err := elementText(dec, "t", maxChars)
				if err != nil {
					return "", err
				}
				if b.Len()+len(s) > 7*maxChars {
					return "", &LimitError{Limit: cellLimit(maxChars), Max: int64(maxChars)}
				}
				b.WriteString(s)
			case "rPh":
				if err := skip(dec, "rPh"); err != nil {
					return "", err
				}
			}
		case xml.EndElement:
			if t.Name.Local == end {
				s := unescapeOOXML(b.String())
				if tooLong(s, maxChars) {
					return "", &LimitError{Limit: cellLimit(maxChars), Max: int64(maxChars)}
				}
				return s, nil
			}
		}
	}
}

// elementText returns the character data up to the end of element end.
// Text of more than maxChars characters may be refused with a *LimitError
// before it is all read: the caller checks the exact count on the value
// (OOXML's _xHHHH_ escapes shorten text) against its own limit.
func elementText(dec *xml.Decoder, end string, maxChars int) (string, error) {
	var b []byte
	depth := 0
	// A character is at most 4 bytes of UTF-8, or 7 of an escape.
	maxBytes := 7 * max(maxChars, 1)
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return "", unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if depth == 0 {
				if len(b)+len(t) > maxBytes {
					return "", &LimitError{Limit: cellLimit(maxChars), Max: int64(maxChars)}
				}
				b = append(b, t...)
			}
		case xml.StartElement:
			depth++
		case xml.EndElement:
			if depth == 0 && t.Name.Local == end {
				return string(b), nil
			}
			depth--
		}
	}
}

// skip reads up to the end of element end, keeping nothing.
func skip(dec *xml.Decoder, end string) error {
	depth := 0
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			if depth == 0 && t.Name.Local == end {
				return nil
			}
			depth--
		}
	}
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// unescapeOOXML decodes the _xHHHH_ escapes Excel writes for characters
// XML cannot hold (a carriage return is "_x000D_"); "_x005F_" is a literal
// underscore, which is how a literal "_x0041_" survives.
func unescapeOOXML(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(n))
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func (s *xlsxSource) setHeader(h []string) { s.header = h }

func (s *xlsxSource) close() error {
	var err error
	if s.part != nil {
		err = s.part.Close()
	}
	return errors.Join(err, s.file.Close())
}

func (s *xlsxSource) next() (Row, error) {
	for !s.done {
		tok, err := s.dec.RawToken()
		if err == io.EOF {
			// A worksheet always closes sheetData; a missing end is a cut file.
			return Row{}, fmt.Errorf("read sheet %q: %w", s.sheet, io.ErrUnexpectedEOF)
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return Row{}, fmt.Errorf("read sheet %q: %w", s.sheet, ErrTooLarge)
			}
			return Row{}, fmt.Errorf("read sheet %q: %w", s.sheet, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "row" {
				continue
			}
			row, err := s.readRow(t)
			if le := (*LimitError)(nil); errors.As(err, &le) && le.Row > 0 {
				return Row{}, fmt.Errorf("read sheet %q: %w", s.sheet, le)
			}
			if err != nil {
				return Row{}, fmt.Errorf("read sheet %q row %d: %w", s.sheet, s.lastRow, err)
			}
			if row.Err == nil && blankCells(row.Cells) {
				continue // empty rows are skipped; numbers stay Excel's
			}
			return row, nil
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				s.done = true
			}
		}
	}
	return Row{}, io.EOF
}

func blankCells(cells []Cell) bool {
	for _, c := range cells {
		if strings.TrimSpace(c.Value) != "" {
			return false
		}
	}
	return true
}

func (s *xlsxSource) readRow(start xml.StartElement) (Row, error) {
	num := s.lastRow + 1
	if r := attr(start, "r"); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 || n > excelize.TotalRows {
			return Row{}, fmt.Errorf("bad row number %q", r)
		}
		num = n
	}
	s.lastRow = num
	row := Row{Number: num}
	col := -1
	text := 0 // bytes of the row's cells
	// A data row's cells may reach this far past the header's last, and
	// no further than Limits.Columns; the header row itself, as far as
	// Limits.Columns.
	last := s.lim.Columns - 1
	if s.header != nil {
		last = min(last, len(s.header)-1+s.lim.ColumnMargin)
	}
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return Row{}, unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "c" {
				if err := skip(s.dec, t.Name.Local); err != nil {
					return Row{}, err
				}
				continue
			}
			col++
			if ref := attr(t, "r"); ref != "" {
				c, ok := refColumn(ref)
				if !ok {
					return Row{}, fmt.Errorf("bad cell reference %q", ref)
				}
				col = c
			}
			if col >= s.lim.Columns && s.header == nil {
				// The header says what the columns are: past the limit, the
				// file is not a payout sheet lote can read.
				return Row{}, &LimitError{Limit: columnsLimit(s.lim.Columns), Max: int64(s.lim.Columns), Row: num, Column: columnLetter(col),
					Hint: "the last column lote reads is " + columnLetter(s.lim.Columns-1)}
			}
			cell, cerr, err := s.readCell(t)
			if le := (*LimitError)(nil); errors.As(err, &le) && le.Part == "" {
				le.Row, le.Column = num, columnLetter(col)
				return Row{}, le
			}
			if err != nil {
				return Row{}, err
			}
			if tooLong(cell.Value, s.lim.CellChars) {
				return Row{}, &LimitError{Limit: cellLimit(s.lim.CellChars), Max: int64(s.lim.CellChars), Row: num, Column: columnLetter(col)}
			}
			// Each cell's text counts against the workbook's budget, as
			// if it were written out: a 30 KiB shared string used by a
			// million cells is 30 GB of text to whoever keeps the cells.
			if s.budget.left -= int64(len(cell.Value)); s.budget.left < 0 {
				return Row{}, ErrTooLarge
			}
			if text += len(cell.Value); text > s.lim.RowBytes {
				return Row{}, &LimitError{Limit: rowLimit(s.lim.RowBytes), Max: int64(s.lim.RowBytes), Row: num}
			}
			if col > last {
				// Past the header by more than the margin: the row cannot
				// be read as the header says, and the cell is not kept.
				if row.Err == nil && cell.Value != "" {
					err := fmt.Errorf("%w: %s%d is %d columns past %s, the header's last (lote allows %d)",
						ErrWideRow, columnLetter(col), num, col-len(s.header)+1, columnLetter(len(s.header)-1), s.lim.ColumnMargin)
					if col < len(s.header)+s.lim.ColumnMargin {
						err = fmt.Errorf("%w: %s%d is past %s, the last column lote reads", ErrWideRow, columnLetter(col), num, columnLetter(s.lim.Columns-1))
					}
					row.Err = &ParseError{Row: num, Column: columnLetter(col), Value: cell.Value, Err: err}
				}
				continue
			}
			if cerr != nil && row.Err == nil {
				row.Err = &ParseError{Row: num, Column: columnName(s.header, col), Value: cell.Value,
					Err: fmt.Errorf("%w: cell %s%d %v", ErrCell, columnLetter(col), num, cerr)}
			}
			if cell.Value == "" {
				continue // trailing empty cells are dropped; gaps are filled below
			}
			for len(row.Cells) <= col {
				row.Cells = append(row.Cells, Cell{})
			}
			row.Cells[col] = cell
		case xml.EndElement:
			if t.Name.Local == "row" {
				return row, nil
			}
		}
	}
}

// refColumn returns the 0-based column of a reference like "AB12".
func refColumn(ref string) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
		if col > maxColumns {
			return 0, false
		}
	}
	if i == 0 {
		return 0, false
	}
	return col - 1, true
}

// readCell reads one <c> element. cellErr is about this cell only (the cell
// comes back with its raw value, as Text, for the message); err is a broken
// XML stream.
func (s *xlsxSource) readCell(start xml.StartElement) (cell Cell, cellErr, err error) {
	var typ, style string
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "t":
			typ = a.Value
		case "s":
			style = a.Value
		}
	}
	var v, inline string
	var hasV, hasF, hasIs bool
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return Cell{}, nil, unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				v, err = elementText(s.dec, "v", s.lim.CellChars)
				hasV = true
			case "is":
				inline, err = richText(s.dec, "is", s.lim.CellChars)
				hasIs = true
			case "f":
				err = skip(s.dec, "f")
				hasF = true
			default:
				err = skip(s.dec, t.Name.Local)
			}
			if err != nil {
				return Cell{}, nil, err
			}
		case xml.EndElement:
			if t.Name.Local == "c" {
				cell, cellErr := s.cellValue(typ, style, v, inline, hasV, hasF, hasIs)
				return cell, cellErr, nil
			}
		}
	}
}

func (s *xlsxSource) cellValue(typ, style, v, inline string, hasV, hasF, hasIs bool) (Cell, error) {
	if hasF && !hasV && !hasIs {
		// The file was written without computing its formulas; the value a
		// user would see is unknown, so it must not read as an empty cell.
		return Cell{Value: "(formula)"}, errors.New("has a formula with no computed value; open and save the file in Excel first")
	}
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(s.sst) {
			return Cell{Value: v}, errors.New("refers to a missing shared string")
		}
		return Cell{Value: s.sst[i]}, nil
	case "inlineStr":
		if !hasIs {
			return Cell{Value: unescapeOOXML(v)}, nil
		}
		return Cell{Value: inline}, nil
	case "str", "e":
		return Cell{Value: unescapeOOXML(v)}, nil
	case "b":
		switch strings.TrimSpace(v) {
		case "1", "true":
			return Cell{Value: "TRUE"}, nil
		case "0", "false":
			return Cell{Value: "FALSE"}, nil
		case "":
			return Cell{}, nil
		}
		return Cell{Value: v}, errors.New("is not a boolean")
	case "d":
		// An ISO 8601 date written by some generators instead of a serial.
		d := strings.TrimSpace(v)
		if d == "" {
			return Cell{}, nil
		}
		if len(d) >= 10 && d[4] == '-' && d[7] == '-' && allDigits(d[:4]+d[5:7]+d[8:10]) {
			return Cell{Value: d[:10], Kind: Date}, nil
		}
		return Cell{Value: v}, errors.New("is not an ISO date")
	case "", "n":
		raw := strings.TrimSpace(v)
		if raw == "" {
			return Cell{}, nil
		}
		if s.styleIsDate(style) {
			serial, err := strconv.ParseFloat(raw, 64)
			// Excel's calendar ends on 9999-12-31 (serial 2958465).
			if err != nil || serial < 0 || serial >= 2958466 || math.IsNaN(serial) {
				return Cell{Value: v}, errors.New("is not a date serial")
			}
			t, err := excelize.ExcelDateToTime(serial, s.date1904)
			if err != nil {
				return Cell{Value: v}, err
			}
			return Cell{Value: t.Format("2006-01-02"), Kind: Date, Format: s.format(style)}, nil
		}
		num, ok := plainDecimal(raw)
		if !ok {
			return Cell{Value: v}, errors.New("is not a decimal number")
		}
		return Cell{Value: num, Kind: Number, Format: s.format(style)}, nil
	}
	return Cell{Value: v}, fmt.Errorf("has unknown type %q", typ)
}

// format returns the number format of a cell style, nil for General.
func (s *xlsxSource) format(style string) *NumberFormat {
	if style == "" {
		return nil
	}
	i, err := strconv.Atoi(style)
	if err != nil || i < 0 || i >= len(s.formats) {
		return nil
	}
	return s.formats[i]
}

func (s *xlsxSource) styleIsDate(style string) bool {
	if style == "" {
		return false
	}
	i, err := strconv.Atoi(style)
	return err == nil && i >= 0 && i < len(s.isDate) && s.isDate[i]
}
