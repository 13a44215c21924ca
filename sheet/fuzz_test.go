package sheet

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var (
	plainNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$`)
	isoDate     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// checkStream reads every row of path and checks what callers rely on:
// rows come in Excel order, numbers are plain decimals, dates are ISO, and
// a bad row never stops reading without an error.
func checkStream(t *testing.T, path string, opts Options) {
	r, err := Open(path, opts)
	if err != nil {
		return // a clear refusal is fine; a panic or hang is not
	}
	defer r.Close()
	last := 1
	for n := 0; ; n++ {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return
		}
		// CSV numbers grow strictly; XLSX ones come from the file.
		if row.Line != 0 && row.Number <= last {
			t.Fatalf("row number %d after %d", row.Number, last)
		}
		if row.Line != 0 && row.Line < row.Number {
			t.Fatalf("row %d starts on line %d", row.Number, row.Line)
		}
		last = row.Number
		for _, c := range row.Cells {
			switch {
			case c.Kind == Number && !plainNumber.MatchString(c.Value):
				t.Fatalf("row %d: number %q is not plain decimal", row.Number, c.Value)
			case c.Kind == Date && !isoDate.MatchString(c.Value):
				t.Fatalf("row %d: date %q is not yyyy-mm-dd", row.Number, c.Value)
			}
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"name;amount\nAna;10\n",
		"\xEF\xBB\xBFa,b\r\n\"x\ny\",2\r\n\n3\n",
		"Ag\xeancia\tConta\n1\t2\n",
		"a;b\n1;\"open\n2;3\n",
		"a;b\n1;x\"y\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		checkStream(t, p, Options{})
	})
}

func FuzzReadXLSX(f *testing.F) {
	for _, s := range []string{
		`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2"><v>1.5E3</v></c><c r="B2" s="1"><v>46204</v></c></row>`,
		`<row><c t="inlineStr"><is><r><t>a_x000D_</t></r></is></c><c t="b"><v>1</v></c></row><row r="9"><c r="XFD9" s="2"><v>-1</v></c></row>`,
		`<row r="1"><c><f>1</f></c><c t="e"><v>#N/A</v></c><c t="d"><v>2026-01-01</v></c><c t="s"><v>7</v></c></row>`,
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, sheetData string) {
		p := filepath.Join(dir, "fuzz.xlsx")
		if err := os.WriteFile(p, zipBytes(t, xlsxParts(sheetData, []string{"Conta"})), 0o600); err != nil {
			t.Fatal(err)
		}
		checkStream(t, p, Options{MaxUnzipSize: 4 << 20})
	})
}
