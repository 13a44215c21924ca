package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"lote/check"
	"lote/ledger"
)

// upload receives a sheet as a multipart stream: the CSRF field (checked
// by authUpload), then the file, which is hashed while written to DataDir
// (never read whole into memory), imported and checked; the browser is
// sent to the batch's page.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	se := sessionFrom(r)
	mr := uploadStream(r)
	var tmp, name, id string
	defer func() {
		if tmp != "" {
			os.Remove(tmp)
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.uploadError(w, r, err)
			return
		}
		if part.FormName() == "file" && tmp == "" {
			name = filepath.Base(part.FileName())
			if name == "." || name == "/" || part.FileName() == "" {
				s.showList(w, r, http.StatusBadRequest, "Choose a file to upload.")
				return
			}
			if sheetExt(name) == "" {
				s.showList(w, r, http.StatusUnsupportedMediaType, fmt.Sprintf("%s is not a sheet lote reads: upload a .csv or .xlsx file.", name))
				return
			}
			if tmp, id, err = s.receive(part); err != nil {
				s.uploadError(w, r, err)
				return
			}
		}
		part.Close()
	}
	if tmp == "" {
		s.showList(w, r, http.StatusBadRequest, "Choose a file to upload.")
		return
	}
	started := s.now()
	path, err := s.storeUpload(tmp, id, sheetExt(name))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	tmp = ""
	// The import goes on if the browser goes away (a person who closes the
	// tab finds the batch checked when they come back); only stopping the
	// server interrupts it, and the next upload of the file starts it over.
	ctx, cancel := context.WithCancel(s.base)
	defer cancel()
	b, berr := s.l.Batch(ctx, id)
	u, uerr := s.l.Upload(ctx, id)
	imported := berr == nil && b.State != ledger.BatchImporting
	// A closed upload whose batch was forgotten (a corrected sheet took
	// its keys) is its record alone. An open record without a batch (the
	// server stopped before the import began) is imported again.
	gone := errors.Is(berr, ledger.ErrNotFound) && uerr == nil && u.Closed()
	switch {
	case berr != nil && !errors.Is(berr, ledger.ErrNotFound):
		s.internal(w, r, berr)
		return
	case uerr != nil && !errors.Is(uerr, ledger.ErrNotFound):
		s.internal(w, r, uerr)
		return
	case imported && uerr == nil, gone:
		// The same file is the same batch: open it.
		http.Redirect(w, r, "/batches/"+id, http.StatusSeeOther)
		return
	case imported:
		// Imported from the command line before: the page adopts it, and
		// from now on it is sent only as the ledger's policy in force asks.
		if _, _, err := s.l.RecordUpload(ctx, ledger.Upload{BatchID: id, FileName: name, StoredPath: path, UploadedBy: se.user}); err != nil {
			s.internal(w, r, err)
			return
		}
	default:
		// New, or an import that was interrupted: it starts over.
		if !s.startImport() {
			s.busy(w, r)
			return
		}
		err := s.checkAndImport(ctx, path, name, id, se.user, readChoices{}, false)
		s.endImport()
		if noTable(err) {
			// The batch's page offers the choices that find the table.
			s.log.Info("uploaded without a table found", "user", se.user, "batch", ledger.ShortID(id), "err", err)
			http.Redirect(w, r, "/batches/"+id, http.StatusSeeOther)
			return
		}
		if err != nil {
			os.Remove(path)
			s.importError(w, r, name, err)
			return
		}
	}
	s.log.Info("uploaded", "user", se.user, "batch", ledger.ShortID(id), "took", s.now().Sub(started).Round(time.Millisecond))
	http.Redirect(w, r, "/batches/"+id, http.StatusSeeOther)
}

// receive writes one uploaded file to a temporary file in DataDir, mode
// 0600, hashing it on the way. It returns the path and the SHA-256.
func (s *Server) receive(part io.Reader) (string, string, error) {
	f, err := os.CreateTemp(s.opts.DataDir, "upload-*.part")
	if err != nil {
		return "", "", fmt.Errorf("receive upload: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(part, s.opts.MaxUpload+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > s.opts.MaxUpload {
		err = &http.MaxBytesError{Limit: s.opts.MaxUpload}
	}
	if err != nil {
		os.Remove(f.Name())
		return "", "", err
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

func (s *Server) uploadError(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.showList(w, r, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("The file is larger than the limit of %s. Split the sheet into smaller files.", sizeText(s.opts.MaxUpload)))
		return
	}
	s.log.Warn("upload", "err", err)
	s.showList(w, r, http.StatusBadRequest, "The upload did not arrive whole. Try again.")
}

func (s *Server) importError(w http.ResponseWriter, r *http.Request, name string, err error) {
	var fe *check.FileError
	if errors.As(err, &fe) {
		// The path is the server's; the person knows the file by its name.
		s.log.Error("import", "file", name, "err", err)
		s.showList(w, r, http.StatusUnprocessableEntity, fileMessage(name, fe.Path, fe.Err))
		return
	}
	s.log.Error("import", "file", name, "err", err)
	s.showList(w, r, http.StatusUnprocessableEntity, name+" could not be imported: "+userMessage(err))
}

// checkAndImport records who uploaded the file, with the ledger's
// approval policy in force, then checks and imports it in one pass over
// the file, planned, with the warnings of valid rows (the ledger keeps only
// the problems of invalid rows). A sheet with invalid rows stays in the
// ledger as checked only: it is never submitted, and its rows give up
// their idempotency keys (ledger.ReleaseKeys), so that the corrected
// sheet, which repeats their references, can take them. The upload is
// recorded first so that from the moment the bytes are in the ledger no
// process sends them but as their policy allows; if the file cannot even
// be read, the record goes, unless keep is set or the table was not found
// (the choices ch may find it: see reread).
func (s *Server) checkAndImport(ctx context.Context, path, name, id, user string, ch readChoices, keep bool) error {
	if _, _, err := s.l.RecordUpload(ctx, ledger.Upload{BatchID: id, FileName: name, StoredPath: path, UploadedBy: user}); err != nil {
		return err
	}
	discard := func(err error) error {
		if keep || noTable(err) {
			return err
		}
		if _, derr := s.l.DiscardUpload(context.WithoutCancel(ctx), id); derr != nil {
			s.log.Error("discard upload", "batch", ledger.ShortID(id), "err", derr)
		}
		return err
	}
	warnings := map[int]string{}
	rep, err := s.importFile(ctx, path, s.runOptions(ch), func(row int, is []check.Issue) { warnings[row] = check.EncodeIssues(is) })
	if err != nil {
		return discard(err)
	}
	if rep.Plan.Invalid > 0 {
		if _, err := s.l.ReleaseKeys(ctx, id); err != nil {
			return err
		}
	} else if err := s.l.SetUploadFee(ctx, id, rep.Plan.FeeCents); err != nil {
		return err
	}
	return s.l.AddWarnings(ctx, id, warnings)
}
