package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"lote/internal/fake"
	"lote/validate"
)

// chkCPF returns a valid CPF made from n: nine digits and their two mod-11
// check digits.
func chkCPF(n int) string { return fake.CPF(100000000 + n%800000000) }

// chkSheet writes a ';' CSV with a Brazilian header and n valid rows (one
// distinct account each, amount "1.234,56" style), then applies edits: line
// i (1-based, header = 1) replaced by its text. It returns the path.
func chkSheet(t testing.TB, n int, edits map[int]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("Valor;Nome;CPF;Banco;Agência;Conta;Observação\n")
	for i := 2; i <= n+1; i++ {
		if line, ok := edits[i]; ok {
			b.WriteString(line + "\n")
			continue
		}
		fmt.Fprintf(&b, "%d,%02d;Pessoa %d;%s;341;1234;%d;obs %d\n", 10+i%900, i%100, i, chkCPF(i), 100000+i, i)
	}
	path := filepath.Join(t.TempDir(), "folha.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func chkOptions() CheckOptions {
	return CheckOptions{Validate: validate.Options{Today: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}}
}

// TestCheckDeliversEveryRowInOrder reads a sheet of several chunks with the
// rows that take the other paths (blank, unreadable, invalid, held back for
// the decimal convention, duplicate) and checks that every non-blank row
// comes out once, in row order, with what a user would read.
func TestCheckDeliversEveryRowInOrder(t *testing.T) {
	// Over estimateAfter bytes, so that the duplicate table is also sized
	// from the reader's estimate on the way.
	const n = 20_577
	edits := map[int]string{
		3:    "1.234;Pessoa 3;" + chkCPF(3) + ";341;1234;9003;ambígua até a linha 700", // waits for a comma amount
		10:   "",                                                                       // blank line: counted by Excel, not a payout
		11:   ";;;;;;",                                                                 // blank too
		600:  "12,00;Pessoa 600;" + chkCPF(600) + ";341;1234",                          // two fields short
		700:  "1.000,50;Pessoa 700;" + chkCPF(700) + ";341;1234;9700;shows the comma",
		900:  "12,00;Pessoa 900;" + chkCPF(900)[:10] + "9;341;1234;9900;bad CPF",
		1201: "10,00;Outra pessoa;" + chkCPF(1200) + ";341;1234;101200;same payment as row 1200",
	}
	// Row 1200 is made to pay the same as rows 1201 and, far later, 20000.
	edits[1200] = "10,00;Pessoa 1200;" + chkCPF(1200) + ";341;1234;101200;first"
	edits[20000] = "10,00;Mais uma;" + chkCPF(1200) + ";341;1234;101200;again"
	if chkCPF(900)[:10]+"9" == chkCPF(900) {
		t.Fatal("test setup: the bad CPF is valid")
	}
	path := chkSheet(t, n, edits)

	var got []Checked
	sum, m, err := Check(context.Background(), path, chkOptions(), func(c Checked) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n-2 {
		t.Fatalf("%d rows delivered; want %d (the sheet's %d minus 2 blank)", len(got), n-2, n)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Row <= got[i-1].Row {
			t.Fatalf("row %d delivered after row %d", got[i].Row, got[i-1].Row)
		}
	}
	byRow := map[int]Checked{}
	for _, c := range got {
		byRow[c.Row] = c
	}
	codes := func(r int) string {
		var cs []string
		for _, e := range byRow[r].Errors {
			cs = append(cs, e.Column+":"+e.Code)
		}
		return strings.Join(cs, ",")
	}
	for r, want := range map[int]string{
		3: "", 600: ":" + UnreadableRow, 700: "", 900: "CPF:invalid_cpf", 1200: "", 1201: "Valor:duplicate_row", 1202: "",
		20000: "Valor:duplicate_row", 20001: "",
	} {
		if got := codes(r); got != want {
			t.Errorf("row %d errors %q; want %q", r, got, want)
		}
	}
	if p := byRow[3].Payout; p == nil || p.Amount != 123400 {
		t.Errorf("row 3 payout %+v; want R$ 1.234,00 once the file showed its decimal comma", p)
	}
	if msg := byRow[1201].Errors[0].Message(); !strings.HasPrefix(msg, "Row 1200 has the same payee") {
		t.Errorf("row 1201: %q", msg)
	}
	if c := byRow[600]; !errors.Is(c.Errors[0].Err, errFieldCount(t)) || c.Errors[0].Value != "12,00 | Pessoa 600 | "+chkCPF(600)+" | 341 | 1234" {
		t.Errorf("row 600: %v, value %q", c.Errors[0].Err, c.Errors[0].Value)
	}
	if c := byRow[1202]; len(c.Cells) != 7 || c.Cells[6] != "obs 1202" || c.Mapping == nil || c.Mapping.ColumnName(2) != "CPF" {
		t.Errorf("row 1202: cells %q, mapping %v", c.Cells, c.Mapping)
	}
	if msg := byRow[20000].Errors[0].Message(); !strings.HasPrefix(msg, "Row 1200 has the same payee") {
		t.Errorf("row 20000: %q", msg)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() < estimateAfter {
		t.Fatalf("test setup: the sheet is smaller than %d bytes (%v)", estimateAfter, err)
	}
	want := Summary{Format: "CSV", Encoding: "UTF-8", Separator: ';', Rows: n - 2, Valid: n - 6, Invalid: 4}
	want.TotalCents = sum.TotalCents // checked below, row by row
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("summary %+v; want %+v", sum, want)
	}
	var total int64
	for _, c := range got {
		if c.Valid() {
			total += c.Payout.Amount
		}
	}
	if total != sum.TotalCents || total == 0 {
		t.Errorf("summary total %d; rows add up to %d", sum.TotalCents, total)
	}
	if m.Column(FieldAmount) != 0 || m.Header[6] != "Observação" {
		t.Errorf("mapping %+v", m)
	}
}

// errFieldCount is the sheet reader's sentinel for a short row, found
// through a row that has one.
func errFieldCount(t *testing.T) error {
	t.Helper()
	var got error
	path := chkSheet(t, 1, map[int]string{2: "1;2"})
	if _, _, err := Check(context.Background(), path, chkOptions(), func(c Checked) error {
		got = c.Errors[0].Err
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for u := got; u != nil; u = errors.Unwrap(u) {
		got = u
	}
	return got
}

// waitGoroutines waits until no more goroutines run than before, so that a
// reader left running by Check fails the test.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left running (had %d):\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

// TestCheckStops checks that an error from fn, or a cancelled context, stops
// the check at once: the error is returned, fn is not called again, and the
// reading goroutine is gone when Check returns.
func TestCheckStops(t *testing.T) {
	path := chkSheet(t, 5*chunkRows, nil)
	stop := errors.New("disk full")
	tests := []struct {
		name    string
		at      int // row where fn stops the check
		cancel  bool
		want    error
		maxMore int // calls fn may still get after it stopped the check
	}{
		{name: "fn error, first chunk", at: 2, want: stop},
		{name: "fn error, third chunk", at: 2*chunkRows + 100, want: stop},
		{name: "cancelled", at: chunkRows + 3, cancel: true, want: context.Canceled, maxMore: chunkRows},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls, after := 0, 0
			_, _, err := Check(ctx, path, chkOptions(), func(c Checked) error {
				calls++
				switch {
				case c.Row > tt.at:
					after++
				case c.Row == tt.at && tt.cancel:
					cancel()
				case c.Row == tt.at:
					return stop
				}
				return nil
			})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
			if after > tt.maxMore || calls < tt.at-1 {
				t.Errorf("%d calls, %d after row %d stopped the check", calls, after, tt.at)
			}
			waitGoroutines(t, before)
		})
	}
}

// TestCheckCancelledBeforeStart checks that a context already cancelled
// delivers nothing.
func TestCheckCancelledBeforeStart(t *testing.T) {
	path := chkSheet(t, 10, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := runtime.NumGoroutine()
	calls := 0
	_, _, err := Check(ctx, path, chkOptions(), func(Checked) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Errorf("err %v after %d calls; want context.Canceled after none", err, calls)
	}
	waitGoroutines(t, before)
}

// TestCheckXLSXKeepsKinds checks that a number cell reaches the validator
// as a number: 1.234 stored as a number has three decimals, where the same
// characters typed as text could be R$ 1.234,00.
func TestCheckXLSXKeepsKinds(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"Valor", "Nome", "CPF", "Banco", "Agência", "Conta"},
		{10.5, "Pessoa 2", chkCPF(2), "341", "1234", "100002"},
		{1.234, "Pessoa 3", chkCPF(3), "341", "1234", "100003"},
		{"1.234", "Pessoa 4", chkCPF(4), "341", "1234", "100004"},
	}
	for i, r := range rows {
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "folha.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	var got []string
	if _, _, err := Check(context.Background(), path, chkOptions(), func(c Checked) error {
		switch {
		case c.Valid():
			got = append(got, fmt.Sprint(c.Payout.Amount))
		default:
			got = append(got, c.Errors[0].Code)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := "1050 amount_too_many_decimals ambiguous_amount"; strings.Join(got, " ") != want {
		t.Errorf("rows read as %q; want %q", got, want)
	}
}

// seenRows checks the sheet at path with and without ReuseRows and
// returns what a caller sees of each row while fn runs (row, cells, payout,
// error codes and values); the two must be the same, row for row.
func seenRows(t *testing.T, path string) []string {
	t.Helper()
	see := func(c Checked) string {
		s := fmt.Sprintf("%d %q", c.Row, c.Cells)
		if c.Payout != nil {
			s += fmt.Sprintf(" %+v", *c.Payout)
		}
		for _, e := range c.Errors {
			s += fmt.Sprintf(" %s:%s:%q", e.Column, e.Code, e.Value)
		}
		return s
	}
	read := func(reuse bool) []string {
		opts := chkOptions()
		opts.ReuseRows = reuse
		var rows []string
		if _, _, err := Check(context.Background(), path, opts, func(c Checked) error {
			rows = append(rows, see(c))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	want, got := read(false), read(true)
	if len(got) != len(want) {
		t.Fatalf("%d rows delivered reusing memory, %d without", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("reusing memory, a row reads\n%s\nwant\n%s", got[i], want[i])
		}
	}
	return want
}

// TestCheckReuseRows checks that reusing the rows' memory changes nothing a
// caller sees at delivery, on a sheet whose rows are held back over three
// chunks (row 3's amount waits for row 1,600 to show the decimal comma;
// the rows between, whole reais, wait behind it) while the reader goes on
// with later chunks: the held-back rows' cells must not be overwritten by
// the rows read meanwhile. Short rows far into the file, read into reused
// buffers, must show their own cells only.
func TestCheckReuseRows(t *testing.T) {
	const n = 12_000
	edits := map[int]string{
		2:    "10;Pessoa 2;" + chkCPF(2) + ";341;1234;9002;whole reais",
		3:    "1.234;Pessoa 3;" + chkCPF(3) + ";341;1234;9003;ambígua",
		4:    "",
		600:  "12;Pessoa 600;" + chkCPF(600) + ";341;1234",
		1600: "1.000,50;Pessoa 1600;" + chkCPF(1600) + ";341;1234;91600;shows the comma",
		2001: "10,00;Outra;" + chkCPF(2000) + ";341;1234;102000;x",
		2000: "10,00;Pessoa 2000;" + chkCPF(2000) + ";341;1234;102000;x",
		7000: "12,00;Pessoa 7000",
		9000: "12,00",
	}
	for i := 5; i < 1600; i++ {
		if _, ok := edits[i]; !ok {
			edits[i] = fmt.Sprintf("%d;Pessoa %d;%s;341;1234;%d;obs %d", 10+i%900, i, chkCPF(i), 100000+i, i)
		}
	}
	want := seenRows(t, chkSheet(t, n, edits))
	if len(want) != n-1 {
		t.Fatalf("%d rows delivered; want %d", len(want), n-1)
	}
	// Rows 2 and 3, then row 5 on (row 4 is blank).
	at := func(r int) int {
		if r < 4 {
			return r - 2
		}
		return r - 3
	}
	for r, s := range map[int]string{
		3:    "Amount:123400",
		2001: "Valor:duplicate_row",
		// The row as written, without the padding to the header's width.
		7000: `:unreadable_row:"12,00 | Pessoa 7000"`,
		9000: `:unreadable_row:"12,00"`,
	} {
		if got := want[at(r)]; !strings.HasPrefix(got, strconv.Itoa(r)+" ") || !strings.Contains(got, s) {
			t.Errorf("row %d reads %s; want %s", r, got, s)
		}
	}
}

// TestCheckReuseRowsXLSX reuses rows on an XLSX whose rows from 1,500 on
// lack their trailing empty cells, as Excel writes them: the missing cells
// must read empty, not as the cells an earlier row left in a reused
// buffer. Row 2,600 has no amount and must stay invalid.
func TestCheckReuseRowsXLSX(t *testing.T) {
	const n = 3_000
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"Nome", "CPF", "Banco", "Agência", "Conta", "Valor", "Observação"}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= n+1; i++ {
		r := []any{fmt.Sprintf("Pessoa %d", i), chkCPF(i), "341", "1234", fmt.Sprint(100000 + i), 10 + float64(i%900), fmt.Sprintf("obs %d", i)}
		switch {
		case i == 2600:
			r = r[:5]
		case i >= 1500:
			r = r[:6]
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", i), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "folha.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	want := seenRows(t, path)
	if len(want) != n {
		t.Fatalf("%d rows delivered; want %d", len(want), n)
	}
	for r, s := range map[int]string{
		1499: `"obs 1499"]`,
		2599: `"Pessoa 2599" "` + chkCPF(2599) + `" "341" "1234" "102599" "`,
		2600: `Valor:required:""`,
	} {
		if got := want[r-2]; !strings.HasPrefix(got, strconv.Itoa(r)+" ") || !strings.Contains(got, s) {
			t.Errorf("row %d reads %s; want %s", r, got, s)
		}
	}
	if got := want[2599-2]; !strings.HasSuffix(strings.SplitN(got, "]", 2)[0], `" ""`) {
		t.Errorf("row 2599 reads %s; want an empty Observação", got)
	}
}

// TestCheckReuseRowsWideRow: one row far wider than the header must not
// make each chunk's reused buffer as wide (512 rows of it).
func TestCheckReuseRowsWideRow(t *testing.T) {
	wide := "1;2" + strings.Repeat(";", 200_000)
	path := chkSheet(t, 3_000, map[int]string{700: wide, 1800: wide})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	want := seenRows(t, path)
	runtime.ReadMemStats(&after)
	if len(want) != 3_000 || !strings.Contains(want[700-2], "unreadable_row") {
		t.Fatalf("%d rows; row 700 reads %.200s", len(want), want[700-2])
	}
	// Both reads together: the rows' text and cells are a few MB.
	if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 200 {
		t.Errorf("checking allocated %d MB", mb)
	}
}
