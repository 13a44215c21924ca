package bombs

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
)

// The hand-made deflate streams decompress to the text they stand for,
// with the CRC and size the zip declares.
func TestDeflate(t *testing.T) {
	for _, segs := range [][]segment{
		{{text: "<a>", n: 100_000}, {text: "</a>", n: 100_000}, {text: "</workbook>"}},
		{{text: "x", n: 1}, {text: "ab", n: 2}, {text: "c", n: 4}, {text: "<si><t></t></si>", n: 259}},
		{{text: strings.Repeat("0123456789", 7000)}, {text: "z", n: 5}},
		{{text: "q", n: 258*3 + 1}, {text: "r", n: 260}, {text: "s", n: 261}},
		{{text: strings.Repeat("t", 20), n: 1000}, {text: strings.Repeat("u", 1000), n: 300}, {text: strings.Repeat("v", 30000), n: 3}},
	} {
		var want strings.Builder
		for _, s := range segs {
			want.WriteString(strings.Repeat(s.text, max(s.n, 1)))
		}
		var buf bytes.Buffer
		if err := workbook(&buf, map[string][]segment{"xl/workbook.xml": segs}); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if f.Name != "xl/workbook.xml" {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc) // archive/zip checks the CRC and the size
			if err != nil {
				t.Fatalf("%d bytes read: %v", len(got), err)
			}
			if string(got) != want.String() {
				t.Errorf("decompressed %d bytes, want %d", len(got), want.Len())
			}
		}
	}
}

// A bomb is small on disk.
func TestSizes(t *testing.T) {
	var buf bytes.Buffer
	if err := NestedWorkbook(&buf, 32_000_000); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 4<<20 {
		t.Errorf("a workbook nested 32 million deep is %d bytes", buf.Len())
	}
}
