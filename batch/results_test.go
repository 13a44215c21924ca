package batch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"lote/ledger"
	"lote/sheet"
)

// The flag has its own name so that it cannot clash with another golden
// test of this package: go test ./batch -run Results -update-results.
var updateResults = flag.Bool("update-results", false, "rewrite the results golden files in testdata")

var resultsNow = time.Date(2026, 11, 23, 13, 4, 5, 0, time.UTC)

var resultsHeader = []string{"nome", "documento", "valor", "banco", "agencia", "conta", "obs"}

// resultsLedger builds a ledger holding one batch with one row in each
// state a results sheet must show, as a run would leave them.
func resultsLedger(t testing.TB, options ledger.ImportOptions) (*ledger.Ledger, string) {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.Open(filepath.Join(t.TempDir(), "lote.db"), ledger.Options{Now: func() time.Time { return resultsNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	sum := sha256.Sum256([]byte("results test"))
	id := hex.EncodeToString(sum[:])
	im, err := l.BeginImport(ctx, ledger.Batch{ID: id, FileName: "folha.csv", Format: "CSV", AccountID: "acct",
		Environment: "sim", Header: resultsHeader, ImportOptions: options}, "test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The shape the import writes (batch/import.go, Issue).
	problems := `[{"column":"valor","value":"1.234","code":"amount_ambiguous","message":"is ambiguous: R$ 1.234,00 or R$ 1,23?"},` +
		`{"column":"banco","value":"1","code":"institution_padded","message":"was read as 001","warning":true},` +
		`{"column":"documento","value":"111.111.111-11","code":"document_invalid","message":"is not a valid CPF"}]`
	valid := func(row int, cells []string, cents int64) ledger.Row {
		return ledger.Row{Row: row, Cells: cells, Payout: json.RawMessage(`{}`), AmountCents: cents,
			IdempotencyKey: fmt.Sprintf("lote-key-%d", row), State: ledger.Pending}
	}
	rows := []ledger.Row{
		valid(2, []string{"Ana Souza", "529.982.247-25", "1.234,56", "341", "0001", "12345-6", "ok"}, 123456),
		{Row: 3, Cells: []string{"Bruno", "111.111.111-11", "1.234", "341", "0001", "1", ""}, State: ledger.Invalid,
			ErrorCode: "invalid", ErrorMessage: problems},
		valid(4, []string{"Carla", "529.982.247-25", "10,00", "999", "0001", "2", ""}, 1000),
		valid(5, []string{`=HYPERLINK("x")`, "529.982.247-25", "5,00", "341", "0001", "3", "+55 11"}, 500),
		valid(6, []string{"Davi", "529.982.247-25", "7,00", "341", "0001", "4"}, 700),
	}
	for _, r := range rows {
		if err := im.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkAttempted(ctx, id, []int{2, 4, 6}, resultsNow); err != nil {
		t.Fatal(err)
	}
	at := ledger.Attempt{At: resultsNow, HTTPStatus: 201}
	if err := l.Accept(ctx, id, 2, at, ledger.Transfer{ID: "tr-0001", Status: "CREATED", FeeCents: 400, ScheduledToEffective: "2026-11-24"}); err != nil {
		t.Fatal(err)
	}
	rej := ledger.Attempt{At: resultsNow, HTTPStatus: 422, Outcome: ledger.OutcomeRejected}
	if err := l.Reject(ctx, id, 4, rej, "srn:error:unprocessable_entity", "target institution 999 is unknown"); err != nil {
		t.Fatal(err)
	}
	if err := l.NeedsReview(ctx, id, 6, nil, "key_expired", "the idempotency key may have expired; look the transfer up before paying again"); err != nil {
		t.Fatal(err)
	}
	return l, id
}

func TestWriteResultsCSVGolden(t *testing.T) {
	tests := []struct {
		name    string
		options ledger.ImportOptions
		golden  string
	}{
		{"semicolon", ledger.ImportOptions{Separator: ";"}, "results_semicolon.csv.golden"},
		{"comma", ledger.ImportOptions{Separator: ","}, "results_comma.csv.golden"},
		{"xlsx input", ledger.ImportOptions{}, "results_semicolon.csv.golden"}, // no separator recorded: ';'
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, id := resultsLedger(t, tt.options)
			out := filepath.Join(t.TempDir(), "folha.results.csv")
			if err := WriteResults(context.Background(), l, id, out); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.golden)
			if *updateResults {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("results differ from %s:\n got %q\nwant %q", golden, got, want)
			}
			b, err := l.Batch(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if b.ResultsPath != out {
				t.Errorf("batch results path = %q, want %q", b.ResultsPath, out)
			}
		})
	}
}

// The golden file is read by people; these checks say what in it matters.
func TestWriteResultsCSVContent(t *testing.T) {
	l, id := resultsLedger(t, ledger.ImportOptions{Separator: ";"})
	out := filepath.Join(t.TempDir(), "r.csv")
	if err := WriteResults(context.Background(), l, id, out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	got := string(b)
	for _, want := range []string{
		"\xEF\xBB\xBFnome;documento;valor;banco;agencia;conta;obs;lote_status;transfer_id;api_status;fee;error;idempotency_key;scheduled_to_effective;processed_at;rail;end_to_end_id;payee_at_bank\r\n",
		// The user's amount cell as written; the fee as reais with a comma;
		// both quoted, as every field holding a ',' or ';' is, so that a
		// reader splitting on ',' keeps them whole.
		"Ana Souza;529.982.247-25;\"1.234,56\";341;0001;12345-6;ok;accepted;tr-0001;CREATED;\"4,00\";awaiting approval in Stone's app;lote-key-2;2026-11-24;2026-11-23T13:04:05Z;ted;;\r\n",
		// Validation problems joined, quoted as CSV quotes them.
		`"valor: ""1.234"": is ambiguous: R$ 1.234,00 or R$ 1,23?; documento: ""111.111.111-11"": is not a valid CPF"`,
		"target institution 999 is unknown (srn:error:unprocessable_entity)",
		// Formula-looking text is neutralised with a leading quote.
		`"'=HYPERLINK(""x"")";`, ";'+55 11;pending;",
		// A row shorter than the header is padded, not shifted.
		"Davi;529.982.247-25;\"7,00\";341;0001;4;;needs_review;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("results lack %q:\n%s", want, got)
		}
	}
}

func TestWriteResultsXLSX(t *testing.T) {
	l, id := resultsLedger(t, ledger.ImportOptions{Separator: ";"})
	out := filepath.Join(t.TempDir(), "folha.results.xlsx")
	if err := WriteResults(context.Background(), l, id, out); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(sheet.ResultsSheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows, want header + 5", len(rows))
	}
	header := append(append([]string{}, resultsHeader...), ResultColumns...)
	if strings.Join(rows[0], "|") != strings.Join(header, "|") {
		t.Errorf("header = %q, want %q", rows[0], header)
	}
	cell := func(name string) string {
		t.Helper()
		v, err := f.GetCellValue(sheet.ResultsSheet, name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	raw := func(name string) string {
		t.Helper()
		v, err := f.GetCellValue(sheet.ResultsSheet, name, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Columns: A..G input, H lote_status, I transfer_id, J api_status,
	// K fee, L error, M idempotency_key, N scheduled_to_effective, O processed_at.
	for name, want := range map[string]string{
		"A2": "Ana Souza", "C2": "1.234,56", "E2": "0001", "H2": "accepted", "I2": "tr-0001",
		"A5": `=HYPERLINK("x")`, "G5": "+55 11", "H5": "pending",
		"H3": "invalid", "H4": "rejected", "H6": "needs_review",
		// 13:04:05 UTC is 10:04:05 in São Paulo, as a date-time cell.
		"O2": "2026-11-23 10:04:05",
	} {
		if got := cell(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := raw("O2"); !strings.HasPrefix(got, "46349.41950") {
		t.Errorf("processed_at O2 raw = %q, want the date-time 46349.4195…", got)
	}
	if got := raw("K2"); got != "4" {
		t.Errorf("fee K2 raw = %q, want the number 4", got)
	}
	if got := raw("K3"); got != "" {
		t.Errorf("fee of an invalid row = %q, want empty", got)
	}
	// A text that looks like a formula is a string cell, never a formula.
	if fm, _ := f.GetCellFormula(sheet.ResultsSheet, "A5"); fm != "" {
		t.Errorf("A5 holds formula %q", fm)
	}
	style := func(name string) *excelize.Style {
		t.Helper()
		id, err := f.GetCellStyle(sheet.ResultsSheet, name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := style("A1"); s.Font == nil || !s.Font.Bold {
		t.Error("header A1 is not bold")
	}
	if s := style("K2"); s.CustomNumFmt == nil || !strings.Contains(*s.CustomNumFmt, "#,##0.00") {
		t.Errorf("fee K2 number format = %v, want R$ #,##0.00", s.CustomNumFmt)
	}
	if s := style("H2"); len(s.Fill.Color) == 0 {
		t.Error("status H2 has no fill colour")
	}

	sum, err := f.GetRows(sheet.SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"state", "rows", "amount", "fees"},
		// Amounts and fees are numbers shown in R$ (excelize formats them
		// with the en-US separators; Excel uses the reader's locale).
		{"accepted", "1", "R$ 1,234.56", "R$ 4.00"},
		{"rejected", "1", "R$ 10.00", "R$ 0.00"},
		{"needs_review", "1", "R$ 7.00", "R$ 0.00"},
		{"invalid", "1", "R$ 0.00", "R$ 0.00"},
		{"pending", "1", "R$ 5.00", "R$ 0.00"},
		{"total", "5", "R$ 1,256.56", "R$ 4.00"},
	}
	if typ, _ := f.GetCellType(sheet.SummarySheet, "C2"); typ != excelize.CellTypeUnset {
		t.Errorf("summary C2 type %v, want a number", typ)
	}
	for i, w := range want {
		if i >= len(sum) || strings.Join(sum[i], "|") != strings.Join(w, "|") {
			t.Errorf("summary row %d = %q, want %q", i+1, at(sum, i), w)
		}
	}
}

func at(rows [][]string, i int) []string {
	if i < len(rows) {
		return rows[i]
	}
	return nil
}

func TestResultsPath(t *testing.T) {
	for in, want := range map[string]string{
		"folha.csv":           "folha.results.csv",
		"dir/Folha.XLSX":      "dir/Folha.results.XLSX",
		"pagamentos.2026.csv": "pagamentos.2026.results.csv",
		"lista.txt":           "lista.txt.results.csv",
	} {
		if got := ResultsPath(in); got != want {
			t.Errorf("ResultsPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRowErrorFallsBackToText(t *testing.T) {
	tests := []struct {
		row  ledger.Row
		want string
	}{
		{ledger.Row{Row: 9, State: ledger.Invalid, ErrorMessage: "amount missing"}, "amount missing"},
		{ledger.Row{Row: 9, State: ledger.Invalid, ErrorCode: "reference_repeated"}, "reference_repeated"},
		{ledger.Row{Row: 9, State: ledger.Invalid, ErrorMessage: `[{"column":"cpf","message":"is not a valid CPF"}]`}, "cpf: is not a valid CPF"},
		{ledger.Row{Row: 9, State: ledger.Held, ErrorCode: "repeat", ErrorMessage: "same payout as batch ab row 3 (repeat)"}, "same payout as batch ab row 3 (repeat)"},
		{ledger.Row{Row: 9, State: ledger.Accepted}, ""},
	}
	for _, tt := range tests {
		if got := RowError(tt.row); got != tt.want {
			t.Errorf("RowError(%+v) = %q, want %q", tt.row, got, tt.want)
		}
	}
}

// A large batch is written a page at a time: the heap must not grow with
// the number of rows. 100,000 rows of results would need tens of MB if
// they were all held.
func TestWriteResultsBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,000 rows")
	}
	// Measured: CSV peaks at about 8 MB and XLSX at about 60 MB (excelize
	// spills its stream to a temporary file past 16 MB) for 20,000 as for
	// 300,000 rows.
	ctx := context.Background()
	l, err := ledger.Open(filepath.Join(t.TempDir(), "big.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := 100_000
	if resultsRace {
		// The race detector slows SQLite (a Go translation of C) about
		// 25 times; 10,000 rows still show whether rows are held.
		n = 10_000
	}
	im, err := l.BeginImport(ctx, ledger.Batch{ID: strings.Repeat("ab", 32), FileName: "big.csv", Format: "CSV",
		AccountID: "acct", Environment: "sim", Header: resultsHeader}, "test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		row := i + 2
		err := im.Add(ledger.Row{Row: row, State: ledger.Pending, AmountCents: 100, Payout: json.RawMessage(`{}`),
			IdempotencyKey: "k" + strconv.Itoa(row),
			Cells:          []string{"Nome " + strconv.Itoa(row), "529.982.247-25", "1,00", "341", "0001", strconv.Itoa(row), strings.Repeat("x", 40)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"csv", "xlsx"} {
		out := filepath.Join(t.TempDir(), "big.results."+ext)
		runtime.GC()
		peak := watchHeap(t)
		if err := WriteResults(ctx, l, strings.Repeat("ab", 32), out); err != nil {
			t.Fatal(err)
		}
		p := peak()
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d rows, %d bytes, peak heap %d MB", ext, n, st.Size(), p>>20)
		if p > 96<<20 {
			t.Errorf("%s: peak heap %d MB writing %d rows; rows are being held", ext, p>>20, n)
		}
	}
}

// watchHeap samples the heap in use until the returned func is called,
// which returns the largest sample.
func watchHeap(t *testing.T) func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
		wg   sync.WaitGroup
	)
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapInuse)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		wg.Wait()
		return peak
	}
}
