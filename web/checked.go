package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"lote/check"
	"lote/ledger"
)

// A sheet with invalid rows is checked but not imported into the ledger:
// importing reserves the idempotency keys of its valid rows (derived from
// their references), and the fixed sheet, which repeats those references,
// would then be refused as reusing them. Its rows and problems are kept
// beside the upload instead, as JSON lines, for the page and the sheet to
// fix; nothing in them can be sent.

// checkSummary is what a check found, kept as <id>.check.json.
type checkSummary struct {
	Header     []string `json:"header"`
	Rows       int      `json:"rows"`
	Valid      int      `json:"valid"`
	Invalid    int      `json:"invalid"`
	Warnings   int      `json:"warnings"`
	Problems   int      `json:"problems"` // rows with an error or a warning
	TotalCents int64    `json:"total_cents"`
}

// checkedRow is one line of <id>.check.jsonl.
type checkedRow struct {
	Row    int           `json:"r"`
	Cells  []string      `json:"c"`
	Issues []check.Issue `json:"i,omitempty"`
	Valid  bool          `json:"v"`
}

func (s *Server) checkPaths(id string) (summary, rows string) {
	base := filepath.Join(s.opts.DataDir, id)
	return base + ".check.json", base + ".check.jsonl"
}

// checkUpload validates the sheet at path, as `lote validate` does,
// writing every row with its problems to the check files, and returns the
// summary and the warnings of valid rows by row (JSON lists).
func (s *Server) checkUpload(ctx context.Context, path, id string) (checkSummary, map[int]string, error) {
	sumPath, rowsPath := s.checkPaths(id)
	f, err := os.OpenFile(rowsPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return checkSummary{}, nil, fmt.Errorf("check upload: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 64<<10)
	enc := json.NewEncoder(bw)
	var cs checkSummary
	warnings := map[int]string{}
	sum, m, err := check.Check(ctx, path, s.opts.Run.Check, func(c check.Checked) error {
		// The cells as written, without the empty ones that pad the row to
		// the header's width: the file stays about the size of the sheet's
		// text, whatever its shape (the reader bounds how wide a row gets).
		cr := checkedRow{Row: c.Row, Cells: check.TrimCells(c.Cells), Valid: c.Valid()}
		cr.Issues = check.IssuesOf(c.Errors, c.Warnings)
		warns := cr.Issues[len(c.Errors):]
		if len(cr.Issues) > 0 {
			cs.Problems++
		}
		if cr.Valid && len(warns) > 0 {
			b, _ := json.Marshal(warns)
			warnings[c.Row] = string(b)
		}
		return enc.Encode(cr)
	})
	if err != nil {
		os.Remove(rowsPath)
		return cs, nil, err
	}
	if err := bw.Flush(); err != nil {
		return cs, nil, fmt.Errorf("check upload: %w", err)
	}
	cs.Header, cs.Rows, cs.Valid, cs.Invalid, cs.Warnings, cs.TotalCents = m.Header, sum.Rows, sum.Valid, sum.Invalid, sum.Warnings, sum.TotalCents
	b, _ := json.Marshal(cs)
	if err := os.WriteFile(sumPath, b, 0o600); err != nil {
		return cs, nil, fmt.Errorf("check upload: %w", err)
	}
	return cs, warnings, nil
}

// readSummary reads a checked-only upload's summary.
func (s *Server) readSummary(id string) (checkSummary, error) {
	sumPath, _ := s.checkPaths(id)
	var cs checkSummary
	b, err := os.ReadFile(sumPath)
	if err != nil {
		return cs, fmt.Errorf("read check of %s: %w", ledger.ShortID(id), err)
	}
	if err := json.Unmarshal(b, &cs); err != nil {
		return cs, fmt.Errorf("read check of %s: %w", ledger.ShortID(id), err)
	}
	return cs, nil
}

// checkedRows calls fn for the checked rows of an upload from offset on
// (counting only rows with problems when onlyProblems), until fn returns
// false. The file is read as a stream, a line at a time.
func (s *Server) checkedRows(id string, offset int, onlyProblems bool, fn func(checkedRow) bool) error {
	_, rowsPath := s.checkPaths(id)
	f, err := os.Open(rowsPath)
	if err != nil {
		return fmt.Errorf("read check of %s: %w", ledger.ShortID(id), err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	n := 0
	for {
		var cr checkedRow
		if err := dec.Decode(&cr); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read check of %s: %w", ledger.ShortID(id), err)
		}
		if onlyProblems && len(cr.Issues) == 0 {
			continue
		}
		n++
		if n <= offset {
			continue
		}
		if !fn(cr) {
			return nil
		}
	}
}

// checkedBatch is a checked-only upload dressed as a batch for the pages:
// no state, no lease, never sendable.
func checkedBatch(id string, u ledger.Upload, cs checkSummary) ledger.Batch {
	return ledger.Batch{ID: id, FileName: u.FileName, Header: cs.Header, Rows: cs.Rows, Valid: cs.Valid,
		Invalid: cs.Invalid, TotalCents: cs.TotalCents, Created: u.UploadedAt}
}

// checkedRowView is a checked row as the table shows it.
func checkedRowView(header []string, cr checkedRow) rowView {
	state := ledger.Invalid
	if cr.Valid {
		state = ledger.State("valid")
	}
	is, _ := json.Marshal(cr.Issues)
	row := ledger.Row{Row: cr.Row, Cells: cr.Cells, State: state}
	if !cr.Valid {
		row.ErrorMessage = string(is)
		return makeRowView(header, row, "")
	}
	if len(cr.Issues) == 0 {
		return makeRowView(header, row, "")
	}
	return makeRowView(header, row, string(is))
}
