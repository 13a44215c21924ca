package web

import (
	"encoding/json"
	"strings"
	"testing"

	"lote/batch"
	"lote/check"
	"lote/ledger"
)

func TestRowView(t *testing.T) {
	header := []string{"valor", " documento ", "", "banco"}
	tests := []struct {
		name     string
		row      ledger.Row
		warnings string
		classes  []string // per cell
		other    int      // issues kept with the row
	}{
		{"error on a named column", ledger.Row{State: ledger.Invalid, Cells: []string{"1", "2", "3", "4"},
			ErrorMessage: `[{"column":"documento","code":"cpf","message":"bad"}]`}, "", []string{"", "error", "", ""}, 0},
		{"blank header by letter", ledger.Row{State: ledger.Invalid, Cells: []string{"1", "2", "3"},
			ErrorMessage: `[{"column":"column C","code":"x","message":"bad"},{"code":"row","message":"whole row"}]`}, "", []string{"", "", "error", ""}, 1},
		{"warning beside an error", ledger.Row{State: ledger.Invalid, Cells: []string{"1"},
			ErrorMessage: `[{"column":"banco","code":"a","message":"w","warning":true},{"column":"valor","code":"b","message":"e"}]`}, "",
			[]string{"error", "", "", "warning"}, 0},
		{"valid row with a warning", ledger.Row{State: ledger.Pending, Cells: []string{"1", "2"}},
			`[{"column":"documento","code":"padded","message":"zeros restored","warning":true}]`, []string{"", "warning", "", ""}, 0},
		{"unknown column", ledger.Row{State: ledger.Invalid, ErrorMessage: `[{"column":"nope","code":"x","message":"m"}]`}, "",
			[]string{"", "", "", ""}, 1},
		{"paid row keeps its changed-amount warning", ledger.Row{State: ledger.Accepted, TransferID: "t1", ErrorCode: "changed_amount",
			ErrorMessage: "Warning: this payee and account was paid R$ 10,00 by batch x row 2"}, "", []string{"", "", "", ""}, 1},
		{"accepted row's old message is not shown", ledger.Row{State: ledger.Accepted, TransferID: "t1", ErrorMessage: "retried"}, "",
			[]string{"", "", "", ""}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := makeRowView(header, tt.row, tt.warnings)
			var got []string
			for _, c := range v.Cells {
				got = append(got, c.Class)
			}
			if strings.Join(got, ",") != strings.Join(tt.classes, ",") || len(v.Other) != tt.other {
				t.Errorf("classes %q, %d other; want %q, %d", got, len(v.Other), tt.classes, tt.other)
			}
		})
	}
}

// FuzzRowView checks that every problem of a row is shown once, beside a
// cell or with the row, whatever the header, the cells and the issues.
func FuzzRowView(f *testing.F) {
	f.Add("valor,documento", "1|2", `[{"column":"documento","code":"c","message":"m"}]`)
	f.Add(",,", "", `[{"column":"column B","code":"c","message":"m","warning":true}]`)
	f.Add("a", "x|y|z", `[{"column":"column AA","code":"c","message":"m"},{"code":"r","message":"row"}]`)
	f.Fuzz(func(t *testing.T, header, cells, issues string) {
		var is []check.Issue
		if json.Unmarshal([]byte(issues), &is) != nil {
			return
		}
		h := strings.Split(header, ",")
		row := ledger.Row{State: ledger.Invalid, Cells: strings.Split(cells, "|"), ErrorMessage: issues}
		if !strings.HasPrefix(issues, "[") {
			return
		}
		v := makeRowView(h, row, "")
		n := len(v.Other)
		for _, c := range v.Cells {
			n += len(c.Issues)
		}
		if want := len(batch.Issues(row)); n != want {
			t.Fatalf("%d issues shown, want %d", n, want)
		}
		if len(v.Cells) < len(row.Cells) || len(v.Cells) < len(h) {
			t.Fatalf("%d cells shown for %d cells under %d headers", len(v.Cells), len(row.Cells), len(h))
		}
	})
}
