package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"lote/internal/bombs"
	"lote/internal/fake"
)

// The wide sheets of issue 13, uploaded: every row is unreadable and says
// where, and neither the rows the ledger keeps nor the batch page grows
// with the sheet's width (248 MB and 29.5 MB for the XLSX
// before, 280 MB and 720 MB for the CSV).
func TestUploadWideSheets(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	for _, tt := range []struct {
		name string
		make func(io.Writer) error
		rows string
		cell string
	}{
		{"wide.xlsx", func(w io.Writer) error { return bombs.WideRows(w, 5000, "XFD") }, "5000", "XFD2 is 16378 columns past F"},
		{"wide.csv", func(w io.Writer) error { return bombs.WideCSV(w, 40, 1_000_000) }, "40", "1000000 instead of 6"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.make(&b); err != nil {
				t.Fatal(err)
			}
			code, page, path := ana.upload(tt.name, b.Bytes())
			if code != http.StatusOK || !strings.HasPrefix(path, "/batches/") {
				t.Fatalf("upload: %d at %s\n%.2000s", code, path, page)
			}
			if !strings.Contains(page, `<dd id="s-invalid" class="bad">`+tt.rows+`</dd>`) || !strings.Contains(page, tt.cell) {
				t.Errorf("the page does not show %s invalid rows saying %q:\n%.3000s", tt.rows, tt.cell, page)
			}
			if len(page) > 200<<10 {
				t.Errorf("the batch page weighs %d KB", len(page)>>10)
			}
			id := strings.TrimPrefix(path, "/batches/")
			kept := 0
			for r, err := range e.l.Rows(context.Background(), id) {
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range r.Cells {
					kept += len(c)
				}
			}
			if kept > 2<<20 {
				t.Errorf("the ledger keeps %d bytes of cells", kept)
			}
			entries, _ := os.ReadDir(e.opts.DataDir)
			for _, en := range entries {
				if strings.Contains(en.Name(), ".check.") {
					t.Errorf("a second store of the check beside the upload: %s", en.Name())
				}
			}
			t.Logf("%d bytes uploaded: %d bytes of cells in the ledger, a batch page of %d", b.Len(), kept, len(page))
		})
	}
}

// A header of 1,000 columns, most of them lote does not know, with rows
// that fill them: the batch page shows the rows without growing past
// 200 KB, whatever the sheet's width.
func TestUploadWideHeaderPageBounded(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	var b bytes.Buffer
	b.WriteString("reference,name,document,institution_code,branch_code,account_code,amount")
	for i := 8; i <= 1000; i++ {
		fmt.Fprintf(&b, ",observação %d", i)
	}
	b.WriteString("\n")
	for r := 2; r <= 60; r++ {
		fmt.Fprintf(&b, "R-%d,Pessoa %d,%s,341,0001,%d,10.00", r, r, fake.CPF(r), 10000+r)
		for i := 8; i <= 1000; i++ {
			b.WriteString(",texto de uma célula comprida")
		}
		b.WriteString("\n")
	}
	code, page, path := ana.upload("largo.csv", b.Bytes())
	if code != http.StatusOK || !strings.HasPrefix(path, "/batches/") {
		t.Fatalf("upload: %d at %s\n%.2000s", code, path, page)
	}
	if !strings.Contains(page, `<dd id="s-invalid"`) || !strings.Contains(page, "984 more columns of the sheet are not shown here") {
		t.Fatalf("the page does not say which columns it leaves out:\n%.2000s", page)
	}
	if len(page) > 200<<10 {
		t.Errorf("the batch page of a %d KB sheet of 1,000 columns weighs %d KB", b.Len()>>10, len(page)>>10)
	}
	t.Logf("%d bytes uploaded: a batch page of %d", b.Len(), len(page))
}

// A sheet past a limit is refused with the limit and where, as the
// command line says it.
func TestUploadLongCellRefused(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	var b bytes.Buffer
	bombs.LongNameCSV(&b, 45<<20)
	code, page, _ := ana.upload("folha.csv", b.Bytes())
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "row 2, cell A2: more than 32,767 characters in a cell, lote&#39;s limit") {
		t.Errorf("upload: %d\n%.3000s", code, page)
	}
}

// Uploads are checked a few at a time: one more is told to try again,
// and the same file goes on once a slot is free.
func TestUploadBusy(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxImports = 1 })
	ana := e.login("ana")
	_, fixed := sheets(t)
	e.srv.imports <- struct{}{} // an import in progress
	code, page, path := ana.upload("folha.csv", fixed)
	if code != http.StatusServiceUnavailable || !strings.Contains(page, "The server is busy checking other uploads. Try again in a minute.") || path != "/upload" {
		t.Errorf("upload while busy: %d at %s\n%.2000s", code, path, page)
	}
	<-e.srv.imports
	if code, _, path := ana.upload("folha.csv", fixed); code != http.StatusOK || !strings.HasPrefix(path, "/batches/") {
		t.Errorf("upload once free: %d at %s", code, path)
	}
	if n := len(e.srv.imports); n != 0 {
		t.Errorf("%d import slots still taken", n)
	}
}
