package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"lote/batch"
	"lote/check"
	"lote/ledger"
	"lote/sheet"
)

// sending is one batch this server is sending.
type sending struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when batch.Resume has returned

	mu   sync.Mutex
	last batch.Progress
}

func (r *sending) set(p batch.Progress) {
	r.mu.Lock()
	r.last = p
	r.mu.Unlock()
}

func (r *sending) progress() batch.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// importFile checks the sheet at path and imports it into the ledger in
// one pass, and plans it, sending nothing; warn receives the warnings of
// valid rows. It returns the report (with the plan's expected fees)
// whether or not the sheet had invalid rows.
func (s *Server) importFile(ctx context.Context, path string, opts batch.RunOptions, warn func(row int, is []check.Issue)) (batch.Report, error) {
	opts.ImportOnly = true // it waits on the page to be submitted
	opts.Progress = nil
	opts.Warnings = warn
	rep, err := batch.Run(ctx, path, opts)
	switch {
	case rep.Interrupted:
		return rep, errors.New("the import was interrupted (the server is stopping); upload the file again")
	case err == nil || errors.Is(err, batch.ErrInvalidRows):
		return rep, nil
	}
	return rep, err
}

// start sends a batch in the background, unless this server sends it
// already. A batch being paused is waited for first, so that resuming
// right after pausing works.
func (s *Server) start(ctx context.Context, id string) {
	for {
		s.mu.Lock()
		cur := s.runs[id]
		if cur == nil {
			break
		}
		s.mu.Unlock()
		select {
		case <-cur.done:
		case <-ctx.Done():
			return
		}
	}
	if s.base.Err() != nil {
		s.mu.Unlock()
		return
	}
	runCtx, cancel := context.WithCancel(s.base)
	r := &sending{cancel: cancel, done: make(chan struct{})}
	s.runs[id] = r
	delete(s.outcome, id)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer cancel()
		opts := s.opts.Run
		opts.Confirm = nil // confirmed on the page, and approved as its policy asks
		opts.Progress = r.set
		s.log.Info("sending", "batch", ledger.ShortID(id))
		rep, err := batch.Resume(runCtx, id, opts)
		s.notifySent(runCtx, rep)
		var msg string
		switch {
		case err != nil:
			msg = "Sending stopped: " + userMessage(err)
			s.log.Error("send", "batch", ledger.ShortID(id), "err", err)
		case rep.Interrupted:
			msg = "Paused. Nothing was sent twice; resuming sends the rest with the same keys."
		case rep.Unresolved > 0:
			msg = fmt.Sprintf("%d rows are not confirmed yet; resume to retry them with the same keys.", rep.Unresolved)
		}
		s.mu.Lock()
		delete(s.runs, id)
		if msg != "" {
			s.outcome[id] = msg
		}
		s.mu.Unlock()
		close(r.done)
	}()
}

// userMessage is err as a person may read it: the engine's errors name
// rows, batches and Stone's answers, never secrets; a lease held by
// another runner is said plainly. It never shows where the server keeps
// its files: a file the server could not read is said to be so, with the
// system's reason, and any other path is cut to its file's name (the
// server's log has the whole error).
func userMessage(err error) string {
	var held *ledger.LeaseHeldError
	if errors.As(err, &held) {
		return "another lote (" + held.Holder + ") is sending this batch; its progress shows here as it goes."
	}
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = strings.ReplaceAll(msg, pe.Op+" "+pe.Path+": ", "")
		msg = strings.ReplaceAll(msg, pe.Path, "")
		msg = "the server could not read the file it keeps (" + strings.Trim(msg, " :") +
			"); upload it again, and if this happens again ask the server's administrator, whose log says more"
	}
	msg = hidePaths(msg)
	if len(msg) > 400 {
		msg = msg[:400] + "…"
	}
	return msg
}

// fileMessage is the error of reading the upload kept at path, known to
// the person as name: the reason, after name, without the server's path.
func fileMessage(name, path string, err error) string {
	msg := err.Error()
	for _, op := range []string{"open ", "read ", "stat ", ""} {
		msg = strings.ReplaceAll(msg, op+path+": ", "")
	}
	return name + ": " + userMessage(errors.New(strings.ReplaceAll(msg, path, name)))
}

// absPath is an absolute path in an error's text.
var absPath = regexp.MustCompile(`(^|[\s("'=])(/[^\s"'():,;]+)`)

// storedName is the name the server gives an upload or a file made from
// it: the batch id first.
var storedName = regexp.MustCompile(`^[0-9a-f]{64}`)

// hidePaths cuts every absolute path in msg to its file's name, and a
// file the server named after a batch to "the uploaded file".
func hidePaths(msg string) string {
	return absPath.ReplaceAllStringFunc(msg, func(m string) string {
		lead, p := "", m
		if !strings.HasPrefix(m, "/") {
			lead, p = m[:1], m[1:]
		}
		base := filepath.Base(p)
		if storedName.MatchString(base) || base == "/" || base == "." {
			base = "the uploaded file"
		}
		return lead + base
	})
}

// running returns the batch's sending in this server, or nil.
func (s *Server) running(id string) *sending {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[id]
}

// mayRun reports whether an upload may be sent by this server: cleared
// by the policy it was uploaded under (submitted, approved as often as
// that policy asks, not rejected or withdrawn), and not paused. The
// server's own options do not enter.
func (s *Server) mayRun(u ledger.Upload) bool {
	return u.Cleared() && !u.Paused
}

// resumeAll starts every batch that was cleared for sending and is not
// done: a restart of the server goes on where it stopped.
func (s *Server) resumeAll(ctx context.Context) error {
	ups, err := s.l.Uploads(ctx)
	if err != nil {
		return fmt.Errorf("web: resume batches: %w", err)
	}
	for id, u := range ups {
		if !s.mayRun(u) {
			continue
		}
		b, err := s.l.Batch(ctx, id)
		if err != nil || b.State == ledger.BatchDone || b.State == ledger.BatchImporting || b.Invalid > 0 {
			continue
		}
		s.log.Info("resuming after restart", "batch", ledger.ShortID(id))
		s.start(ctx, id)
	}
	return nil
}

// storeUpload moves a received file to its place, DataDir/<sha256>.<ext>,
// mode 0600. A file already there (the same bytes) is kept.
func (s *Server) storeUpload(tmp, id, ext string) (string, error) {
	dst := filepath.Join(s.opts.DataDir, id+ext)
	if _, err := os.Stat(dst); err == nil {
		os.Remove(tmp)
		return dst, nil
	}
	if err := sheet.Place(tmp, dst); err != nil {
		return "", fmt.Errorf("store upload: %w", err)
	}
	return dst, nil
}

// sheetExt is the extension lote reads for a file name, or "".
func sheetExt(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".csv" || ext == ".xlsx" {
		return ext
	}
	return ""
}
