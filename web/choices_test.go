package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lote/ledger"

	"github.com/xuri/excelize/v2"
)

// belowTitles is the sample sheet under 24 lines of notes: its header is
// row 25, past where lote looks for it.
func belowTitles(t *testing.T) []byte {
	var b bytes.Buffer
	for i := range 24 {
		if i == 0 {
			b.WriteString("Folha de pagamento - Dezembro\n")
			continue
		}
		b.WriteString("\n")
	}
	b.Write(readSample(t, "payouts.csv"))
	return b.Bytes()
}

// TestUploadWithoutTable uploads a sheet whose header lote cannot find:
// the upload is kept, its page says why and offers the command line's
// choices; a wrong header row says what that row lacks, the right one
// imports every row, and the batch remembers it.
func TestUploadWithoutTable(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	code, page, path := ana.upload("folha.csv", belowTitles(t))
	id := strings.TrimPrefix(path, "/batches/")
	if code != http.StatusOK || len(id) != 64 {
		t.Fatalf("upload: %d at %s\n%.3000s", code, path, page)
	}
	for _, want := range []string{
		`id="unread"`, "folha.csv: no header row in row", "give its row with --header-row N",
		`<details class="confirm" id="choices" open>`, `action="/batches/` + id + `/read"`,
		"No table found: choose how to read it",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q\n%.4000s", want, page)
		}
	}
	if strings.Contains(page, `id="submit"`) || strings.Contains(page, `id="sheet"><thead>`) {
		t.Error("a sheet without a table offers to submit, or shows a table")
	}
	if _, err := os.Stat(filepath.Join(e.opts.DataDir, id+".csv")); err != nil {
		t.Errorf("the upload is not kept: %v", err)
	}
	if _, list := ana.get("/"); !strings.Contains(list, "/batches/"+id) {
		t.Error("the list does not show the upload without a table")
	}
	// No action works on it, and the form needs the CSRF token.
	if code, _ := ana.post(path+"/submit", url.Values{"confirm": {"yes"}}); code != http.StatusConflict {
		t.Errorf("submit without a table: %d", code)
	}
	if code, _ := ana.post(path+"/read", url.Values{"csrf": {"x"}, "header_row": {"25"}}); code != http.StatusForbidden {
		t.Errorf("read without the CSRF token: %d", code)
	}
	// An approver may not read it again; a header row that is not one is refused.
	bia := e.login("bia")
	if code, _ := bia.post(path+"/read", url.Values{"header_row": {"25"}}); code != http.StatusForbidden {
		t.Errorf("an approver read it again: %d", code)
	}
	for _, bad := range []url.Values{{"header_row": {"0"}}, {"header_row": {"x"}}, {"decimal": {"semicolon"}}} {
		if code, body := ana.post(path+"/read", bad); code != http.StatusBadRequest {
			t.Errorf("read with %v: %d\n%.2000s", bad, code, body)
		}
	}

	// Row 3 is blank: the page says so, keeps the choice, and still has no batch.
	code, page = ana.post(path+"/read", url.Values{"header_row": {"3"}})
	if code != http.StatusOK || !strings.Contains(page, `id="unread"`) || !strings.Contains(page, "row 3") ||
		!strings.Contains(page, `name="header_row" min="1" max="1048576" value="3"`) {
		t.Errorf("header row 3: %d\n%.4000s", code, page)
	}
	if _, err := e.l.Batch(context.Background(), id); err == nil {
		t.Error("a header row without the payout columns made a batch")
	}

	code, page = ana.post(path+"/read", url.Values{"header_row": {"25"}})
	for _, want := range []string{"Checked again, read as chosen below", `<dd id="s-rows">12</dd>`, `<dd id="s-valid">12</dd>`,
		`id="submit"`, `name="header_row" min="1" max="1048576" value="25"`} {
		if code != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("header row 25: %d, the page lacks %q\n%.4000s", code, want, page)
		}
	}
	b, err := e.l.Batch(context.Background(), id)
	if err != nil || b.ImportOptions.HeaderRow != 25 || b.Rows != 12 {
		t.Fatalf("batch = %+v, %v", b, err)
	}
	// Sent as read: each payee once, and then it is not read again.
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, body := ana.post(path+"/submit", form); code != http.StatusOK {
		t.Fatalf("submit: %d\n%.3000s", code, body)
	}
	e.waitSent(id)
	if n := len(e.sim.Transfers()); n != 12 {
		t.Errorf("transfers at the emulator = %d, want 12", n)
	}
	if code, _ := ana.post(path+"/read", url.Values{"header_row": {"25"}}); code != http.StatusConflict {
		t.Errorf("read again after submitting: %d", code)
	}
	if n := len(e.sim.Transfers()); n != 12 {
		t.Errorf("transfers at the emulator after a refused read = %d, want 12", n)
	}
}

// TestUploadChooseDecimal uploads a sheet whose amounts read two ways:
// every row is invalid and the page offers the decimal convention; with
// the decimal comma the rows are valid, with their amounts read so, the
// batch remembers it, and the totals row is a note on the page.
func TestUploadChooseDecimal(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	sheet := "Nome;CPF;Banco;Agência;Conta;Valor\n" +
		"Ana Beatriz Souza;526.018.159-06;341;0001;12345-6;1.500\n" +
		"Patrícia Mendes;252.760.189-87;341;0350;22113-4;2.250\n" +
		"TOTAL;;;;;3.750\n"
	code, page, path := ana.upload("ambigua.csv", []byte(sheet))
	id := strings.TrimPrefix(path, "/batches/")
	for _, want := range []string{`<dd id="s-invalid" class="bad">2</dd>`, `<details class="confirm" id="choices" open>`,
		`id="notes"`, "row 4 is a totals row"} {
		if code != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("upload: %d, the page lacks %q\n%.4000s", code, want, page)
		}
	}
	code, page = ana.post(path+"/read", url.Values{"decimal": {"comma"}})
	for _, want := range []string{`<dd id="s-valid">2</dd>`, `<dd id="s-invalid" class="">0</dd>`, `<dd id="s-total">R$ 3.750,00</dd>`,
		`<option value="comma" selected>`, "row 4 is a totals row", `id="submit"`} {
		if code != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("read with a decimal comma: %d, the page lacks %q\n%.5000s", code, want, page)
		}
	}
	b, err := e.l.Batch(context.Background(), id)
	if err != nil || b.ImportOptions.Decimal != "comma" {
		t.Errorf("batch options = %+v, %v", b.ImportOptions, err)
	}
	// The rows checked first gave way: no problem of them is left.
	if n, err := e.l.CountProblems(context.Background(), id); err != nil || n != 0 {
		t.Errorf("problems after reading again = %d, %v", n, err)
	}
	r, err := e.l.Row(context.Background(), id, 2)
	if err != nil || r.AmountCents != 150000 || r.State != ledger.Pending {
		t.Errorf("row 2 = %+v, %v", r, err)
	}
}

// TestUploadChooseWorksheet uploads a workbook whose payees are on its
// second worksheet, below where lote looks: the page lists the worksheets
// to choose from, and the worksheet and header row chosen read every row.
func TestUploadChooseWorksheet(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	f.SetCellValue("Sheet1", "A1", "Preencha a aba Pagamentos")
	f.SetSheetName("Sheet1", "Instruções")
	if _, err := f.NewSheet("Pagamentos"); err != nil {
		t.Fatal(err)
	}
	f.SetCellValue("Pagamentos", "A1", "Folha de pagamento - Dezembro")
	rows := [][]any{
		{"Nome", "CPF", "Banco", "Agência", "Conta", "Valor"},
		{"Ana Beatriz Souza", "526.018.159-06", 341, "0001", "12345-6", 1500.5},
		{"Patrícia Mendes", "252.760.189-87", 341, "0350", "22113-4", 2250},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, 30+i)
		if err := f.SetSheetRow("Pagamentos", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	ana := e.login("ana")
	code, page, path := ana.upload("folha.xlsx", buf.Bytes())
	for _, want := range []string{`id="unread"`, `worksheet &#34;Pagamentos&#34;`, `list="sheets"`,
		`<option value="Instruções"><option value="Pagamentos">`} {
		if code != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("upload: %d, the page lacks %q\n%.4000s", code, want, page)
		}
	}
	code, page = ana.post(path+"/read", url.Values{"sheet": {"Pagamentos"}, "header_row": {"30"}})
	for _, want := range []string{`<dd id="s-valid">2</dd>`, `<dd id="s-total">R$ 3.750,50</dd>`, `value="Pagamentos"`} {
		if code != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("read Pagamentos from row 30: %d, the page lacks %q\n%.4000s", code, want, page)
		}
	}
	b, err := e.l.Batch(context.Background(), strings.TrimPrefix(path, "/batches/"))
	if err != nil || b.ImportOptions.Sheet != "Pagamentos" || b.ImportOptions.HeaderRow != 30 {
		t.Errorf("batch options = %+v, %v", b.ImportOptions, err)
	}
}

// TestSubmitWhileImporting: a batch whose rows are being written (read
// again, or imported) cannot be submitted, whatever total the form says.
func TestSubmitWhileImporting(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	ctx := context.Background()
	id := strings.Repeat("ab", 32)
	if _, _, err := e.l.RecordUpload(ctx, ledger.Upload{BatchID: id, FileName: "folha.csv", StoredPath: filepath.Join(e.opts.DataDir, id+".csv"), UploadedBy: "ana"}); err != nil {
		t.Fatal(err)
	}
	im, err := e.l.BeginImport(ctx, ledger.Batch{ID: id, FileName: id + ".csv", Format: "CSV", Header: []string{"nome"}}, "other", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	ana.get("/")
	if code, body := ana.post("/batches/"+id+"/submit", url.Values{"confirm": {"yes"}, "total": {"0"}, "rows": {"0"}}); code != http.StatusConflict ||
		!strings.Contains(body, "is being checked") {
		t.Errorf("submit while importing: %d\n%.2000s", code, body)
	}
	if u, _ := e.l.Upload(ctx, id); u.Submitted() {
		t.Error("an importing batch was submitted")
	}
}
