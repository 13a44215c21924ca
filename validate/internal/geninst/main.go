// Command geninst derives validate/institutions.csv, the directory lote
// embeds, from the project's reference snapshot of Brazilian institutions
// (../shared/data/institutions.csv). It keeps only the columns lote needs
// (COMPE, ISPB, ShortName, LongName, Network), sorted by COMPE, so the
// program builds and runs without the reference folder.
//
// Usage (from validate/, see the go:generate line in institutions.go):
//
//	go run ./internal/geninst -in ../../shared/data/institutions.csv -out institutions.csv
package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"sort"
)

func main() {
	in := flag.String("in", "../../shared/data/institutions.csv", "reference CSV (UTF-8, optional BOM)")
	out := flag.String("out", "institutions.csv", "derived CSV to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "geninst:", err)
		os.Exit(1)
	}
}

var keep = []string{"COMPE", "ISPB", "ShortName", "LongName", "Network"}

func run(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read reference %s: %w", in, err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return fmt.Errorf("parse reference %s: %w", in, err)
	}
	if len(records) < 2 {
		return fmt.Errorf("parse reference %s: no rows", in)
	}
	idx := make([]int, len(keep))
	for i, name := range keep {
		idx[i] = -1
		for j, h := range records[0] {
			if h == name {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return fmt.Errorf("parse reference %s: no column %q", in, name)
		}
	}
	rows := make([][]string, 0, len(records)-1)
	for _, rec := range records[1:] {
		row := make([]string, len(keep))
		for i, j := range idx {
			row[i] = rec[j]
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(a, b int) bool {
		if rows[a][0] != rows[b][0] {
			return rows[a][0] < rows[b][0]
		}
		return rows[a][1] < rows[b][1]
	})
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(keep); err != nil {
		return err
	}
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
