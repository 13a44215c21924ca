// Command genpix derives validate/pix_participants.csv, the list of Pix
// participants lote embeds, from the project's reference snapshot of
// Brazilian institutions (../shared/data/institutions.csv): the ISPB and
// PixType ("DRCT" or "IDRT") of every institution that has a PixType,
// sorted by ISPB.
//
// Usage (from validate/, see the go:generate line in pix.go):
//
//	go run ./internal/genpix -in ../../shared/data/institutions.csv -out pix_participants.csv
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
	out := flag.String("out", "pix_participants.csv", "derived CSV to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genpix:", err)
		os.Exit(1)
	}
}

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
	col := map[string]int{"ISPB": -1, "PixType": -1}
	for j, h := range records[0] {
		if _, ok := col[h]; ok {
			col[h] = j
		}
	}
	for name, j := range col {
		if j < 0 {
			return fmt.Errorf("parse reference %s: no column %q", in, name)
		}
	}
	var rows [][]string
	for n, rec := range records[1:] {
		ispb, mode := rec[col["ISPB"]], rec[col["PixType"]]
		switch mode {
		case "":
			continue
		case "DRCT", "IDRT":
		default:
			return fmt.Errorf("parse reference %s: row %d: PixType %q is neither DRCT nor IDRT", in, n+2, mode)
		}
		rows = append(rows, []string{ispb, mode})
	}
	sort.Slice(rows, func(a, b int) bool { return rows[a][0] < rows[b][0] })
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write([]string{"ISPB", "PixType"}); err != nil {
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
