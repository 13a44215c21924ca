package web

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"lote/ledger"
)

// DefaultSweepEvery is how often a running server deletes the files of
// uploads past the ledger's retention, besides once as it starts.
const DefaultSweepEvery = time.Hour

// derivedFiles are the files the server makes from an upload, after the
// batch id: its check, its results sheets and its reconciliation report.
var derivedFiles = []string{".check.json", ".check.jsonl", ".results.csv", ".results.xlsx", ".reconciliation.xlsx"}

// sweep deletes the files of every upload the ledger says is past its
// retention and finished (ledger.ExpiredUploads: a batch importing,
// waiting or being sent keeps its files whatever their age): the sheet as
// uploaded and the files made from it, only ever inside DataDir. Each
// deletion is recorded in the ledger. It returns how many uploads expired.
func (s *Server) sweep(ctx context.Context) (int, error) {
	ups, ret, err := s.l.ExpiredUploads(ctx)
	if err != nil {
		return 0, err
	}
	// Uploads that expired before and whose sheet was uploaded again, or
	// whose files were made again since: they go as well.
	all, err := s.l.Uploads(ctx)
	if err != nil {
		return 0, err
	}
	for _, u := range all {
		if u.Expired.IsZero() {
			continue
		}
		if removed := s.removeFiles(u); len(removed) > 0 {
			if err := s.l.RecordDeletions(ctx, u.BatchID, removed, ret); err != nil {
				return 0, err
			}
		}
	}
	n := 0
	for _, u := range ups {
		removed := s.removeFiles(u)
		if err := s.l.RecordExpiry(ctx, u.BatchID, removed, ret); err != nil {
			// Changed since it was listed (a held row released): the
			// next sweep looks at it again.
			s.log.Warn("retention: not recorded", "batch", ledger.ShortID(u.BatchID), "err", err)
			continue
		}
		n++
		s.log.Info("retention: deleted the files of an upload", "batch", ledger.ShortID(u.BatchID), "files", len(removed), "retention_days", ret.Days)
	}
	return n, nil
}

// removeFiles deletes the files of an upload that are there and returns
// their names.
func (s *Server) removeFiles(u ledger.Upload) []string {
	var paths []string
	if filepath.Dir(u.StoredPath) == filepath.Clean(s.opts.DataDir) {
		paths = append(paths, u.StoredPath)
	}
	for _, ext := range derivedFiles {
		paths = append(paths, filepath.Join(s.opts.DataDir, u.BatchID+ext))
	}
	var removed []string
	for _, p := range paths {
		err := os.Remove(p)
		switch {
		case err == nil:
			removed = append(removed, filepath.Base(p))
		case !errors.Is(err, os.ErrNotExist):
			s.log.Error("retention: delete", "batch", ledger.ShortID(u.BatchID), "file", filepath.Base(p), "err", err)
		}
	}
	return removed
}

// sweepEvery runs sweep every Options.SweepEvery until the server closes.
func (s *Server) sweepEvery() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.base.Done():
			return
		case <-t.C:
			if _, err := s.sweep(s.base); err != nil && s.base.Err() == nil {
				s.log.Error("retention", "err", err)
			}
		}
	}
}
