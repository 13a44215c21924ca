package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"lote/batch"
	"lote/check"
	"lote/ledger"
	"lote/sheet"
	"lote/validate"
)

// readChoices are how the page reads an upload when lote cannot decide on
// its own: the command line's --sheet, --header-row and --decimal. The
// zero value lets lote find the table and infer the decimal convention.
type readChoices struct {
	Sheet     string // XLSX worksheet; "" for the first that has a header
	HeaderRow int    // as Excel numbers it; 0 to let lote find it
	Decimal   string // "auto", "comma" or "dot"
}

// maxSheetName bounds the worksheet a form may name (Excel allows 31
// characters; a name in bytes is at most four times that).
const maxSheetName = 124

// maxExcelRow is the last row of an Excel worksheet.
const maxExcelRow = 1 << 20

// choicesFrom reads the choices of a form or a query. A value the form
// cannot hold is an error saying which.
func choicesFrom(v url.Values) (readChoices, error) {
	ch := readChoices{Sheet: strings.TrimSpace(v.Get("sheet")), Decimal: v.Get("decimal")}
	if len(ch.Sheet) > maxSheetName || !utf8.ValidString(ch.Sheet) {
		return ch, errors.New("The worksheet's name is longer than Excel allows: write it as its tab shows it.")
	}
	switch ch.Decimal {
	case "", "auto":
		ch.Decimal = "auto"
	case "comma", "dot":
	default:
		return ch, errors.New("Choose the decimal convention: comma (1.234,56), dot (1,234.56) or let lote infer it.")
	}
	if s := strings.TrimSpace(v.Get("header_row")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxExcelRow {
			return ch, errors.New("The header row is a row number as Excel shows it, like 4; leave it empty to let lote find it.")
		}
		ch.HeaderRow = n
	}
	return ch, nil
}

// choicesOf are the choices a batch was imported with.
func choicesOf(o ledger.ImportOptions) readChoices {
	ch := readChoices{Sheet: o.Sheet, HeaderRow: o.HeaderRow, Decimal: o.Decimal}
	if ch.Decimal != "comma" && ch.Decimal != "dot" {
		ch.Decimal = "auto"
	}
	return ch
}

// query is the choices as a URL query, for the page that shows them.
func (ch readChoices) query() string {
	v := url.Values{}
	if ch.Sheet != "" {
		v.Set("sheet", ch.Sheet)
	}
	if ch.HeaderRow > 0 {
		v.Set("header_row", strconv.Itoa(ch.HeaderRow))
	}
	if ch.Decimal != "auto" && ch.Decimal != "" {
		v.Set("decimal", ch.Decimal)
	}
	return v.Encode()
}

// runOptions are the server's run options with the choices applied.
func (s *Server) runOptions(ch readChoices) batch.RunOptions {
	opts := s.opts.Run
	if ch.Sheet != "" {
		opts.Check.Sheet = ch.Sheet
	}
	if ch.HeaderRow > 0 {
		opts.Check.HeaderRow = ch.HeaderRow
	}
	switch ch.Decimal {
	case "comma":
		opts.Check.Validate.Decimal = validate.DecimalComma
	case "dot":
		opts.Check.Validate.Decimal = validate.DecimalDot
	}
	return opts
}

// tableError says why the upload kept at path has no table lote can
// read with ch, and the worksheets it looked in; "" when it has one.
func (s *Server) tableError(name, path string, ch readChoices) (string, []string) {
	opts := s.runOptions(ch).Check
	r, _, _, err := check.OpenTable(path, opts)
	if err != nil {
		var nh *sheet.NoHeaderError
		var sheets []string
		if errors.As(err, &nh) {
			for _, sr := range nh.Searched {
				if sr.Sheet != "" {
					sheets = append(sheets, sr.Sheet)
				}
			}
		}
		return fileMessage(name, path, err), sheets
	}
	r.Close()
	return "", nil
}

// noTable reports whether err says the sheet's table was not found where
// lote looked, or the worksheet asked for is not in it: choices fix that.
func noTable(err error) bool {
	var nh *sheet.NoHeaderError
	return errors.As(err, &nh) || errors.Is(err, sheet.ErrNoSheet)
}

// reread checks the stored upload again with the choices of the form
// (worksheet, header row, decimal convention), which the batch then
// remembers. Only before the batch is submitted and while nothing of it
// was sent: the rows checked before are forgotten, with their keys, and
// the sheet imported again from the same bytes.
func (s *Server) reread(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	se := sessionFrom(r)
	b, u := ld.B, ld.U
	switch {
	case !ld.HasUpload:
		s.fail(w, r, se, http.StatusConflict, "This batch was not uploaded here: read it another way with lote run --sheet, --header-row or --decimal.")
		return
	case u.Closed():
		s.fail(w, r, se, http.StatusConflict, "This batch "+u.NotCleared()+": it is never sent.")
		return
	case u.Submitted():
		s.fail(w, r, se, http.StatusConflict, "This batch was submitted already: it is sent as it was read. To read the sheet another way, withdraw it and upload the sheet again.")
		return
	case !u.Expired.IsZero():
		s.fail(w, r, se, http.StatusGone, "Its sheet was deleted past the retention an admin set: upload it again.")
		return
	case s.running(b.ID) != nil || (!ld.Unread && b.State == ledger.BatchImporting):
		s.fail(w, r, se, http.StatusConflict, "This batch is being checked or sent; wait for it to finish.")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, se, http.StatusBadRequest, "The form did not arrive whole. Try again.")
		return
	}
	ch, err := choicesFrom(r.PostForm)
	if err != nil {
		s.fail(w, r, se, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	if !ld.Unread {
		forgot, err := s.l.ForgetReimport(ctx, b.ID)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if !forgot {
			s.fail(w, r, se, http.StatusConflict, "Rows of this batch were sent, or another lote holds it: it is kept as it was read.")
			return
		}
	}
	if !s.startImport() {
		s.busy(w, r)
		return
	}
	// As an upload, it goes on if the browser goes away.
	ictx, cancel := context.WithCancel(s.base)
	defer cancel()
	err = s.checkAndImport(ictx, u.StoredPath, u.FileName, b.ID, u.UploadedBy, ch, true)
	s.endImport()
	var fe *check.FileError
	switch {
	case errors.As(err, &fe):
		// The choices found no table: the page says why, with them.
		s.log.Info("reread", "user", se.user, "batch", ledger.ShortID(b.ID), "err", err)
		http.Redirect(w, r, "/batches/"+b.ID+"?"+ch.query(), http.StatusSeeOther)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	s.log.Info("reread", "user", se.user, "batch", ledger.ShortID(b.ID), "sheet", ch.Sheet, "header_row", ch.HeaderRow, "decimal", ch.Decimal)
	http.Redirect(w, r, "/batches/"+b.ID+"?notice=reread", http.StatusSeeOther)
}
