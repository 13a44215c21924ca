package validate

import (
	"bytes"
	_ "embed" // the derived institutions directory
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:generate go run ./internal/geninst -in ../../shared/data/institutions.csv -out institutions.csv

//go:embed institutions.csv
var embeddedInstitutions []byte

// Stone's own identifiers: a TED from a Stone account to Stone is refused
// (stone-api.md §2.1); such payments are internal transfers.
const (
	StoneISPB = "16501555"
	StoneCode = "197"
)

// Institution is a financial institution that can appear as a payee's bank.
type Institution struct {
	ISPB      string // 8 digits, leading zeros kept: Banco do Brasil is "00000000"
	Code      string // 3-digit COMPE code; "" when the institution has none
	ShortName string
	LongName  string
	TED       bool // on the RSFN network, so reachable by TED
}

// Directory is a list of institutions indexed by ISPB and by code. It is
// immutable after loading and safe for concurrent use.
type Directory struct {
	byISPB map[string]Institution
	// byCode is indexed by the 3-digit code's value; ISPB "" marks a code
	// no institution has. Every payout row looks its bank up here, and an
	// array index costs less than hashing a string.
	byCode *[1000]Institution
	dirNames
}

// Institutions returns the embedded directory, derived from a snapshot of the
// Central Bank's participant lists (511 institutions with a COMPE code). It
// is parsed once, on first use.
func Institutions() *Directory { return embeddedDirectory() }

var embeddedDirectory = sync.OnceValue(func() *Directory {
	d, err := loadEmbedded(embeddedInstitutions)
	if err != nil {
		// The file is part of the source tree and tested; a failure here
		// is a build defect, not bad input.
		panic("validate: embedded institutions.csv: " + err.Error())
	}
	return d
})

func loadEmbedded(data []byte) (*Directory, error) {
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, err
	}
	d := newDirectory(len(recs))
	for i, r := range recs[1:] {
		if len(r) != 5 {
			return nil, fmt.Errorf("line %d: %d fields, want 5", i+2, len(r))
		}
		in := Institution{Code: r[0], ISPB: r[1], ShortName: r[2], LongName: r[3], TED: r[4] == "RSFN"}
		if err := d.add(in); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+2, err)
		}
	}
	return d, nil
}

func newDirectory(n int) *Directory {
	return &Directory{byISPB: make(map[string]Institution, n), byCode: new([1000]Institution)}
}

func (d *Directory) add(in Institution) error {
	if len(in.ISPB) != 8 || !allDigits(in.ISPB) {
		return fmt.Errorf("ISPB %q is not 8 digits", in.ISPB)
	}
	if in.Code != "" && (len(in.Code) != 3 || !allDigits(in.Code)) {
		return fmt.Errorf("code %q is not 3 digits", in.Code)
	}
	if _, dup := d.byISPB[in.ISPB]; dup {
		return fmt.Errorf("ISPB %s appears twice", in.ISPB)
	}
	if in.Code != "" && d.byCode[codeIndex(in.Code)].ISPB != "" {
		return fmt.Errorf("code %s appears twice", in.Code)
	}
	d.byISPB[in.ISPB] = in
	if in.Code != "" {
		d.byCode[codeIndex(in.Code)] = in
	}
	return nil
}

// codeIndex is the value of a 3-digit code, its index in byCode.
func codeIndex(code string) int {
	return int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
}

// Len returns the number of institutions in d.
func (d *Directory) Len() int { return len(d.byISPB) }

// Lookup finds an institution by its 8-digit ISPB or 3-digit code, exactly
// as given: no trimming, no padding.
func (d *Directory) Lookup(code string) (Institution, bool) {
	var in Institution
	var ok bool
	switch len(code) {
	case 8:
		in, ok = d.byISPB[code]
	case 3:
		if allDigits(code) {
			in = d.byCode[codeIndex(code)]
			ok = in.ISPB != ""
		}
	}
	return in, ok
}

// Resolve finds the institution a payout cell names and checks that it can
// receive a TED from Stone. value is a 3-digit code or an 8-digit ISPB;
// kind tells whether it came from a numeric cell.
//
// Excel drops leading zeros ("1" for 001, "416968" for ISPB 00416968): a
// shorter value is padded back, to 3 digits and else to 8, only when the
// padded code exists, and restored reports it. When a 1- or 2-digit value
// pads to both an existing code and an existing ISPB of different
// institutions, it is ambiguous: an error naming both.
func (d *Directory) Resolve(value string, kind Kind) (in Institution, restored bool, err error) {
	v := trimSpace(value)
	if v == "" {
		return Institution{}, false, fail(ErrRequired, "The bank (3-digit code or 8-digit ISPB) is missing.")
	}
	if kind == Number {
		if digits, ok := numberDigits(v); ok {
			v = digits
		}
	}
	if !allDigits(v) || len(v) > 8 {
		return Institution{}, false, fail(ErrUnknownInstitution, "Write the bank as its 3-digit code (like 341 for Itaú) or its 8-digit ISPB.")
	}
	var ok bool
	switch {
	case len(v) == 8, len(v) == 3:
		in, ok = d.Lookup(v)
		if !ok && len(v) == 3 {
			in, ok = d.Lookup(zeroPad(v, 8))
			restored = ok
		}
	case len(v) < 3:
		code, okCode := d.Lookup(zeroPad(v, 3))
		ispb, okISPB := d.Lookup(zeroPad(v, 8))
		if okCode && okISPB && code.ISPB != ispb.ISPB {
			return Institution{}, false, fail(ErrAmbiguousInstitution, "The leading zeros were lost, and this could be bank code %s (%s) or ISPB %s (%s): write the code with 3 digits or the ISPB with 8.", code.Code, code.ShortName, ispb.ISPB, ispb.ShortName)
		}
		in, ok = code, okCode
		if !ok {
			in, ok = ispb, okISPB
		}
		restored = ok
	default: // 4 to 7 digits: only an ISPB that lost zeros
		in, ok = d.Lookup(zeroPad(v, 8))
		restored = ok
	}
	if in.ISPB == StoneISPB || v == StoneCode || padsTo(v, StoneISPB) {
		return Institution{}, false, fail(ErrStoneInstitution, "This is Stone (code 197, ISPB 16501555); a TED from Stone to a Stone account is not allowed. Pay this row with an internal transfer instead.")
	}
	if !ok {
		return Institution{}, false, fail(ErrUnknownInstitution, "No bank has the code or ISPB %s. Check it: a bank code has 3 digits (341 is Itaú), an ISPB 8.", v)
	}
	if !in.TED {
		return Institution{}, false, fail(ErrNoTED, "%s is not on the financial system's network (RSFN), so it cannot receive a TED.", in.ShortName)
	}
	return in, restored, nil
}

// maxSTRSize bounds what LoadParticipantsSTR reads; the real file is about
// 100 KB.
const maxSTRSize = 16 << 20

// LoadParticipantsSTR reads the Central Bank's ParticipantesSTR.csv
// (columns ISPB, Nome_Reduzido, Número_Código, Participa_da_Compe,
// Acesso_Principal, Nome_Extenso, Início_da_Operação) into a Directory that
// replaces the embedded one. It decodes the bytes itself: UTF-8 with or
// without a BOM, or else Windows-1252. The separator may be ',' or ';'.
// Columns are found by name, ignoring case and accents.
//
// Every participant is kept, whatever Participa_da_Compe says (most
// fintechs say "Não"); one without a code (n/a) can be found by ISPB only.
// An Acesso_Principal other than RSFN marks it as not reachable by TED.
func LoadParticipantsSTR(r io.Reader) (*Directory, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSTRSize+1))
	if err != nil {
		return nil, fmt.Errorf("read participants: %w", err)
	}
	if len(data) > maxSTRSize {
		return nil, fmt.Errorf("read participants: larger than %d bytes", maxSTRSize)
	}
	text := decodeText(data)
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	first := text
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	if strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read participants header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[Fold(h)] = i
	}
	ispbCol, ok1 := col["ispb"]
	nameCol, ok2 := col["nomereduzido"]
	codeCol, ok3 := col["numerocodigo"]
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("read participants header: want columns ISPB, Nome_Reduzido and Número_Código, have %q", header)
	}
	longCol, hasLong := col["nomeextenso"]
	accessCol, hasAccess := col["acessoprincipal"]

	d := newDirectory(1024)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read participants: %w", err)
		}
		line, _ := cr.FieldPos(0)
		get := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if len(rec) == 1 && get(0) == "" {
			continue // blank line
		}
		in := Institution{
			ISPB:      get(ispbCol),
			ShortName: get(nameCol),
			TED:       true,
		}
		if hasLong {
			in.LongName = get(longCol)
		}
		if hasAccess {
			in.TED = strings.EqualFold(get(accessCol), "RSFN")
		}
		// Spreadsheet round trips drop leading zeros here too.
		if allDigits(in.ISPB) && len(in.ISPB) < 8 {
			in.ISPB = zeroPad(in.ISPB, 8)
		}
		if c := get(codeCol); allDigits(c) {
			if n, err := strconv.Atoi(c); err == nil && n > 0 && n < 1000 {
				in.Code = zeroPad(strconv.Itoa(n), 3)
			} else {
				return nil, fmt.Errorf("read participants line %d: code %q is not 3 digits", line, c)
			}
		}
		if err := d.add(in); err != nil {
			return nil, fmt.Errorf("read participants line %d: %w", line, err)
		}
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("read participants: no institutions")
	}
	return d, nil
}

// decodeText returns data as UTF-8: a UTF-8 BOM is dropped; valid UTF-8 is
// kept; anything else is read as Windows-1252, the encoding Brazilian Excel
// and the Central Bank's older files use.
func decodeText(data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data)
	}
	var b strings.Builder
	b.Grow(len(data) + len(data)/8)
	for _, c := range data {
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case c < 0xA0:
			b.WriteRune(cp1252(c))
		default:
			b.WriteRune(rune(c)) // 0xA0-0xFF are Latin-1
		}
	}
	return b.String()
}

// cp1252 maps the Windows-1252 bytes 0x80-0x9F, where it differs from
// Latin-1; the undefined ones become U+FFFD.
func cp1252(c byte) rune {
	return [32]rune{
		'€', '\uFFFD', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\uFFFD', 'Ž', '\uFFFD',
		'\uFFFD', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\uFFFD', 'ž', 'Ÿ',
	}[c-0x80]
}

// padsTo reports whether zeroPad(v, len(full)) == full, without building
// the padded string.
func padsTo(v, full string) bool {
	if len(v) > len(full) {
		return false
	}
	pad := len(full) - len(v)
	for i := 0; i < pad; i++ {
		if full[i] != '0' {
			return false
		}
	}
	return full[pad:] == v
}
