package batch

import (
	"strings"

	"lote/check"
	"lote/sheet"
)

// inputCells reads the input sheet again while its results are written,
// so that each input cell goes back with the type and number format it had
// (the ledger keeps the cells' text only). A row is matched by its number
// and kept only when every cell's text is the ledger's: a file changed
// since the import gives its results as text, never another file's types.
type inputCells struct {
	r   *sheet.Reader
	row sheet.Row
	eof bool
}

// openInputCells opens the input as the import read it; nil when it cannot
// be read (moved, changed, not an XLSX): the results are then text.
func openInputCells(path string, opts check.CheckOptions) *inputCells {
	r, _, _, err := check.OpenTable(path, opts)
	if err != nil {
		return nil
	}
	if r.Format() != sheet.XLSX {
		// Every CSV cell is text: nothing to restore.
		r.Close()
		return nil
	}
	return &inputCells{r: r}
}

// apply gives cells, ledger row n's input cells, the types the input had.
func (in *inputCells) apply(n int, cells []sheet.Cell) {
	for !in.eof && in.row.Number < n {
		row, err := in.r.Next()
		if err != nil {
			// The end of the file, or a file that no longer reads: the
			// rows left are written as text.
			in.eof = true
			return
		}
		in.row = row
	}
	if in.row.Number != n || in.row.Err != nil {
		return
	}
	src := in.row.Cells
	for i := range cells {
		v := ""
		if i < len(src) {
			v = src[i].Value
		}
		if strings.TrimSpace(v) != strings.TrimSpace(cells[i].Value) {
			return // not the row the ledger holds
		}
	}
	for i := range cells {
		if i < len(src) && src[i].Value == cells[i].Value {
			cells[i].Kind, cells[i].Format = src[i].Kind, src[i].Format
		}
	}
}

func (in *inputCells) close() {
	if in != nil {
		in.r.Close()
	}
}
