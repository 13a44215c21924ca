// Package receipts fetches Stone's receipt ("comprovante") of every paid row
// of a batch, so that a finance team can send each supplier the bank's
// proof of payment. It writes one PDF per row, into a folder or a zip, named
// by the row's reference (or its number) and the payee.
package receipts

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/time/rate"

	"lote/ledger"
	"lote/stone"
)

// Options configure Fetch. Ledger, Client and Batch are required.
type Options struct {
	Ledger *ledger.Ledger
	Client *stone.Client
	// Batch is the batch id.
	Batch string
	// Out is a folder, or a file ending in .zip.
	Out string
	// Rate is the request rate per second to Stone; 0 means 10, as `lote
	// run` defaults to.
	Rate float64
	// MaxAttempts bounds the tries of one receipt when Stone answers a
	// retryable error (429, 5xx); 0 means 5.
	MaxAttempts int
	// Sleep waits between retries; nil sleeps on the real clock through ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// File is one receipt written.
type File struct {
	Row  int    `json:"row"` // as Excel numbers it
	Name string `json:"name"`
}

// Missing is a paid row whose receipt could not be had, and why.
type Missing struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// Report is what Fetch did.
type Report struct {
	Files   []File    `json:"files"`
	Missing []Missing `json:"missing"`
}

// hasReceipt says whether Stone issues a receipt for a transfer in status:
// only successful or scheduled operations (stone-api.md §2.5).
func hasReceipt(status string) bool {
	switch status {
	case stone.StatusFinished, stone.StatusApproved, stone.StatusScheduled, stone.StatusDelayedToNextBusinessDay:
		return true
	}
	return false
}

// Fetch writes the receipt of every accepted row of the batch whose
// transfer is paid or scheduled. A row whose receipt Stone refuses is
// listed in Missing and the others go on; an error is returned only when
// nothing more can be done (the ledger, the output, ctx).
func Fetch(ctx context.Context, o Options) (Report, error) {
	var rep Report
	if o.Ledger == nil || o.Client == nil || o.Batch == "" || o.Out == "" {
		return rep, errors.New("receipts: Ledger, Client, Batch and Out are required")
	}
	if o.Rate <= 0 {
		o.Rate = 10
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	lim := rate.NewLimiter(rate.Limit(o.Rate), 1)

	out, err := newSink(o.Out)
	if err != nil {
		return rep, err
	}
	names := map[string]bool{}
	for r, err := range o.Ledger.Rows(ctx, o.Batch) {
		if err != nil {
			out.abort()
			return rep, fmt.Errorf("receipts of batch %s: %w", o.Batch, err)
		}
		if r.State != ledger.Accepted || r.TransferID == "" || !hasReceipt(r.APIStatus) {
			continue
		}
		pdf, err := fetchOne(ctx, o, lim, r.TransferID)
		if err != nil {
			if ctx.Err() != nil {
				out.abort()
				return rep, ctx.Err()
			}
			rep.Missing = append(rep.Missing, Missing{Row: r.Row, Reason: err.Error()})
			continue
		}
		name := fileName(r, names)
		if err := out.write(name, pdf); err != nil {
			out.abort()
			return rep, err
		}
		rep.Files = append(rep.Files, File{Row: r.Row, Name: name})
	}
	return rep, out.close()
}

// fetchOne asks for one receipt, retrying what Stone says can be retried.
func fetchOne(ctx context.Context, o Options, lim *rate.Limiter, id string) ([]byte, error) {
	wait := time.Second
	for attempt := 1; ; attempt++ {
		if err := lim.Wait(ctx); err != nil {
			return nil, err
		}
		pdf, err := o.Client.Receipt(ctx, stone.ReceiptExternalTransfer, id)
		if err == nil {
			return pdf, nil
		}
		if oc, _ := stone.Classify(err); oc != stone.OutcomeRetry || attempt == o.MaxAttempts {
			return nil, err
		}
		var se *stone.Error
		d := wait
		if errors.As(err, &se) && se.RetryAfter > d {
			d = se.RetryAfter
		}
		if err := o.Sleep(ctx, min(d, time.Minute)); err != nil {
			return nil, err
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fileName is "REFERENCE - PAYEE.pdf", or "row-N - PAYEE.pdf" without a
// reference, in characters every file system takes; a repeated name gets
// the row number.
func fileName(r ledger.Row, used map[string]bool) string {
	var p stone.CreateExternalTransfer
	_ = json.Unmarshal(r.Payout, &p) // a row without a payout is named by its number
	base := safe(r.Reference)
	if base == "" {
		base = "row-" + strconv.Itoa(r.Row)
	}
	if payee := safe(p.Target.Entity.Name); payee != "" {
		base += " - " + payee
	}
	name := base + ".pdf"
	if used[name] {
		name = base + " (row " + strconv.Itoa(r.Row) + ").pdf"
	}
	used[name] = true
	return name
}

// safe keeps letters (accents removed), digits, spaces, '-', '_' and '.',
// at most 60 of them.
func safe(s string) string {
	var b strings.Builder
	for _, c := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, c):
		case c < 0x80 && (unicode.IsLetter(c) || unicode.IsDigit(c) || c == '-' || c == '_' || c == '.' || c == ' '):
			b.WriteRune(c)
		case unicode.IsSpace(c) || c == '/' || c == '\\':
			b.WriteByte(' ')
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	out = strings.Trim(out, ".")
	if len(out) > 60 {
		out = strings.TrimSpace(out[:60])
	}
	return out
}

// sink is where receipts go: a folder, or a zip written to a temporary
// file and renamed into place when complete.
type sink struct {
	dir     string
	zipPath string
	tmp     *os.File
	zw      *zip.Writer
}

func newSink(out string) (*sink, error) {
	if strings.EqualFold(filepath.Ext(out), ".zip") {
		tmp, err := os.CreateTemp(filepath.Dir(out), ".receipts-*.zip")
		if err != nil {
			return nil, fmt.Errorf("receipts: %w", err)
		}
		return &sink{zipPath: out, tmp: tmp, zw: zip.NewWriter(tmp)}, nil
	}
	if err := os.MkdirAll(out, 0o750); err != nil {
		return nil, fmt.Errorf("receipts: %w", err)
	}
	return &sink{dir: out}, nil
}

func (s *sink) write(name string, pdf []byte) error {
	if s.zw != nil {
		w, err := s.zw.Create(name)
		if err != nil {
			return fmt.Errorf("receipts: zip %s: %w", name, err)
		}
		_, err = w.Write(pdf)
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dir, name), pdf, 0o640); err != nil {
		return fmt.Errorf("receipts: %w", err)
	}
	return nil
}

func (s *sink) close() error {
	if s.zw == nil {
		return nil
	}
	err := s.zw.Close()
	if err == nil {
		err = s.tmp.Sync()
	}
	if cerr := s.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.tmp.Name(), s.zipPath)
	}
	if err != nil {
		os.Remove(s.tmp.Name())
		return fmt.Errorf("receipts: write %s: %w", s.zipPath, err)
	}
	return nil
}

func (s *sink) abort() {
	if s.zw != nil {
		s.tmp.Close()
		os.Remove(s.tmp.Name())
	}
}
