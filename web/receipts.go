package web

import (
	"archive/zip"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lote/ledger"
	"lote/receipts"
)

// receiptsMissingName is the zip's note on the paid rows Stone gave no
// receipt for.
const receiptsMissingName = "missing-receipts.txt"

// receiptsZip fetches from Stone the receipt ("comprovante") of every paid
// row, as `lote receipts` does (same rate and retries, receipts.Fetch),
// and sends them as one zip. Rows whose receipt Stone refused are listed in
// a text file inside it. One fetch runs at a time per server: each costs a
// request to Stone per row.
func (s *Server) receiptsZip(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, se := ld.B, sessionFrom(r)
	if ld.Checked || (b.State != ledger.BatchRunning && b.State != ledger.BatchDone) {
		s.fail(w, r, se, http.StatusConflict, "Nothing of this batch was sent: there are no receipts.")
		return
	}
	if !s.receiptsBusy.TryLock() {
		s.fail(w, r, se, http.StatusServiceUnavailable, "Receipts of a batch are being fetched from Stone for another download: try again in a minute.")
		return
	}
	defer s.receiptsBusy.Unlock()
	// Each receipt is one request at the run's rate: give the answer the
	// time they take on top of the usual bound on writing it.
	rate := s.opts.Run.Rate
	if rate <= 0 {
		rate = 10
	}
	extra := time.Duration(float64(b.Rows) / rate * float64(time.Second))
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(extra + s.opts.WriteTimeout + time.Minute))

	tmp, err := os.MkdirTemp(s.opts.DataDir, "receipts-*")
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer os.RemoveAll(tmp)
	fetched := filepath.Join(tmp, "fetched.zip")
	rep, err := receipts.Fetch(r.Context(), receipts.Options{Ledger: s.l, Client: s.opts.Run.Client, Batch: b.ID, Out: fetched, Rate: rate})
	if err != nil {
		if r.Context().Err() != nil {
			return // the person went away
		}
		s.log.Error("receipts", "batch", ledger.ShortID(b.ID), "err", err)
		s.fail(w, r, se, http.StatusBadGateway, "The receipts could not be fetched from Stone: "+userMessage(err))
		return
	}
	if len(rep.Files) == 0 {
		msg := "No row of this batch is paid yet: there is no receipt to download."
		if len(rep.Missing) > 0 {
			msg = fmt.Sprintf("Stone gave no receipt for any of the %d paid rows; row %d: %s", len(rep.Missing), rep.Missing[0].Row, rep.Missing[0].Reason)
		}
		s.fail(w, r, se, http.StatusNotFound, msg)
		return
	}
	path := fetched
	if len(rep.Missing) > 0 {
		path = filepath.Join(tmp, "receipts.zip")
		if err := withMissingNote(fetched, path, rep.Missing); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	s.log.Info("receipts", "batch", ledger.ShortID(b.ID), "user", se.user, "files", len(rep.Files), "missing", len(rep.Missing))
	name := displayName(b, ld.U, ld.HasUpload)
	s.download(w, r, path, strings.TrimSuffix(name, filepath.Ext(name))+".comprovantes.zip")
}

// withMissingNote copies the zip src to dst with a note listing the rows
// without a receipt, and why.
func withMissingNote(src, dst string, missing []receipts.Missing) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return err
	}
	defer zr.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	for _, zf := range zr.File {
		if err := zw.Copy(zf); err != nil {
			f.Close()
			return err
		}
	}
	nw, err := zw.Create(receiptsMissingName)
	if err != nil {
		f.Close()
		return err
	}
	for _, m := range missing {
		fmt.Fprintf(nw, "row %d: no receipt: %s\r\n", m.Row, m.Reason)
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
