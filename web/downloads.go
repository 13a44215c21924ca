package web

import (
	"context"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"lote/batch"
	"lote/check"
	"lote/internal/i18n"
	"lote/ledger"
	"lote/sheet"
)

// results writes the results sheet from the ledger and sends it as a
// download, in the format of the upload.
func (s *Server) results(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	if ld.Checked {
		s.fail(w, r, sessionFrom(r), http.StatusConflict, "This sheet has invalid rows and was never sent: there are no results.")
		return
	}
	name := displayName(b, u, hasUpload)
	ext := sheetExt(name)
	if ext == "" {
		ext = ".csv"
	}
	path := filepath.Join(s.opts.DataDir, b.ID+".results"+ext)
	// The import recorded the upload's CSV separator with the batch. A
	// copy: a GET records nothing, and a batch run from the command line
	// keeps writing its results where it did.
	opts := batch.ResultsOptions{Copy: true, Lang: printerFor(r, sessionFrom(r))}
	if hasUpload && u.Expired.IsZero() {
		// The upload at hand gives the results its cells' types, read as
		// the import read it.
		if _, err := os.Stat(u.StoredPath); err == nil {
			opts.Input, opts.Check = u.StoredPath, s.runOptions(choicesOf(b.ImportOptions)).Check
		}
	}
	if err := batch.WriteResultsWith(r.Context(), s.l, b.ID, path, opts); err != nil {
		s.internal(w, r, err)
		return
	}
	s.download(w, r, path, strings.TrimSuffix(name, filepath.Ext(name))+".results"+ext)
}

// reconciliationReport sends the last reconciliation report made on the
// page as an XLSX download; it asks Stone nothing.
func (s *Server) reconciliationReport(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	path := s.reconciliationPath(b.ID)
	if _, err := os.Stat(path); err != nil {
		s.fail(w, r, sessionFrom(r), http.StatusNotFound, "There is no reconciliation report of this batch yet: reconcile it with Stone on its page first.")
		return
	}
	name := displayName(b, u, hasUpload)
	s.download(w, r, path, strings.TrimSuffix(name, filepath.Ext(name))+".reconciliation.xlsx")
}

// reconciliationPath is where the page keeps a batch's last
// reconciliation report.
func (s *Server) reconciliationPath(id string) string {
	return filepath.Join(s.opts.DataDir, id+".reconciliation.xlsx")
}

// displayName is the file's name as the person uploaded it (the ledger
// knows it by the stored file's name).
func displayName(b ledger.Batch, u ledger.Upload, hasUpload bool) string {
	if hasUpload {
		return u.FileName
	}
	return b.FileName
}

// separator is the uploaded CSV's separator, so the sheets given back
// split the way the person's own file did; 0 lets the writer choose.
func (s *Server) separator(b ledger.Batch, u ledger.Upload, hasUpload bool) rune {
	if !hasUpload || sheetExt(u.FileName) != ".csv" {
		return 0
	}
	rd, err := sheet.Open(u.StoredPath, sheet.Options{TmpDir: s.opts.DataDir})
	if err != nil {
		return 0
	}
	defer rd.Close()
	return rd.Separator()
}

// errorsSheet sends the rows with problems as a sheet to fix: the header
// and cells as uploaded, with a last column saying what is wrong.
func (s *Server) errorsSheet(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	ctx := r.Context()
	name := displayName(b, u, hasUpload)
	ext := sheetExt(name)
	if ext == "" {
		ext = ".csv"
	}
	f, err := os.CreateTemp(s.opts.DataDir, "errors-*"+ext)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	sep := s.separator(b, u, hasUpload)
	sw, err := sheet.Create(path, sheet.WriteOptions{Separator: sep, StatusColumn: -1, TmpDir: s.opts.DataDir})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	width := len(b.Header)
	lang := printerFor(r, sessionFrom(r))
	errorsColumn := "lote_errors"
	if lang.Tag() == i18n.Portuguese {
		errorsColumn = "erros_lote"
	}
	if err := sw.WriteHeader(append(append([]string{}, b.Header...), errorsColumn)); err != nil {
		sw.Close()
		s.internal(w, r, err)
		return
	}
	cells := make([]sheet.Cell, 0, width+1)
	write := func(row []string, issues []check.Issue) error {
		cells = cells[:0]
		for i := 0; i < width; i++ {
			v := ""
			if i < len(row) {
				v = row[i]
			}
			cells = append(cells, sheet.Cell{Value: v})
		}
		return sw.WriteRow(append(cells, sheet.Cell{Value: check.TextIn(issues, lang)}))
	}
	if err = s.ledgerProblems(ctx, b.ID, write); err != nil {
		sw.Close()
		s.internal(w, r, err)
		return
	}
	if err := sw.Close(); err != nil {
		s.internal(w, r, err)
		return
	}
	s.download(w, r, path, strings.TrimSuffix(name, filepath.Ext(name))+".errors"+ext)
}

// ledgerProblems calls write for each of the batch's rows with problems,
// a page at a time.
func (s *Server) ledgerProblems(ctx context.Context, id string, write func([]string, []check.Issue) error) error {
	for off := 0; ; off += 1000 {
		rows, err := s.l.RowsPage(ctx, id, off, 1000, true)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if err := write(row.Cells, batch.Issues(row)); err != nil {
				return err
			}
		}
		if len(rows) < 1000 {
			return nil
		}
	}
}

// download sends a file the server made as an attachment: a browser saves
// it, never renders it.
func (s *Server) download(w http.ResponseWriter, r *http.Request, path, name string) {
	f, err := os.Open(path)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	ct := "text/csv; charset=utf-8"
	switch {
	case strings.HasSuffix(path, ".xlsx"):
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case strings.HasSuffix(path, ".zip"):
		ct = "application/zip"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	http.ServeContent(w, r, "", st.ModTime(), f)
}
