package web

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"lote/ledger"
	"lote/stone"
)

// sentSample uploads the sample sheet as u, submits it and waits until it
// is sent; it returns the batch id and page path.
func sentSample(t *testing.T, e *env, u *user) (id, path string) {
	t.Helper()
	_, page, path := u.upload("payouts.csv", readSample(t, "payouts.csv"))
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, body := u.post(path+"/submit", form); code != http.StatusOK || !strings.Contains(body, "Sending has started") {
		t.Fatalf("submit: %d\n%.2000s", code, body)
	}
	id = strings.TrimPrefix(path, "/batches/")
	e.waitSent(id)
	return id, path
}

// receiptRequests counts the receipt requests the emulator answered.
func (e *env) receiptRequests() int {
	n := 0
	for _, r := range e.sim.Requests() {
		if r.Method == http.MethodPost && r.Path == "/api/v1/receipts" {
			n++
		}
	}
	return n
}

// getZip downloads path as u and opens it as a zip, by file name.
func getZip(t *testing.T, e *env, u *user, path string) (*http.Response, map[string][]byte) {
	t.Helper()
	res, err := u.c.Get(e.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%.2000s", path, res.StatusCode, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = b
	}
	return res, files
}

// TestReceiptsZip: a paid batch's page offers its receipts; the download is
// one zip with Stone's PDF of every paid row, named by reference and
// payee, fetched with one request per row. Someone signed out gets
// nothing, and Stone is not asked.
func TestReceiptsZip(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	id, path := sentSample(t, e, ana)
	if _, page := ana.get(path); !strings.Contains(page, `id="dl-receipts" href="`+path+`/receipts"`) {
		t.Fatalf("the paid batch's page offers no receipts:\n%.4000s", page)
	}

	if res, err := e.browser().c.Get(e.ts.URL + path + "/receipts"); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
		if res.Request.URL.Path != "/login" || e.receiptRequests() != 0 {
			t.Fatalf("signed out: ended at %s after %d receipt requests", res.Request.URL.Path, e.receiptRequests())
		}
	}

	// bia, an approver, may download results, so receipts too.
	res, files := getZip(t, e, e.login("bia"), path+"/receipts")
	if ct, cd := res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"); ct != "application/zip" ||
		cd != "attachment; filename=payouts.comprovantes.zip" {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	var rows []ledger.Row
	for r, err := range e.l.Rows(context.Background(), id) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if len(files) != len(rows) || len(rows) != 12 || e.receiptRequests() != 12 {
		t.Fatalf("%d files for %d rows, %d receipt requests; want 12 each", len(files), len(rows), e.receiptRequests())
	}
	first := files["PAY-2026-11-001 - Ana Beatriz Souza.pdf"]
	if !bytes.HasPrefix(first, []byte("%PDF-")) || !bytes.Contains(first, []byte(rows[0].TransferID)) {
		t.Errorf("row 2's receipt is not its transfer's PDF: %.200q", first)
	}
}

// TestReceiptsZipListsMissing: a row whose receipt Stone refuses (its
// transfer failed after the ledger last looked) leaves the others in the
// zip, with a note saying which row and why.
func TestReceiptsZipListsMissing(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	id, path := sentSample(t, e, ana)
	var third ledger.Row
	for r, err := range e.l.Rows(context.Background(), id) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Row == 4 {
			third = r
		}
	}
	if !e.sim.Mutate(third.TransferID, func(tr *stone.Transfer) { tr.Status = stone.StatusFailed }) {
		t.Fatal("transfer not mutated")
	}
	_, files := getZip(t, e, ana, path+"/receipts")
	note, ok := files[receiptsMissingName]
	if len(files) != 12 || !ok {
		t.Fatalf("%d files (want 11 receipts and the note), note present %v", len(files), ok)
	}
	if !strings.HasPrefix(string(note), "row 4: no receipt: ") || strings.Count(string(note), "\n") != 1 {
		t.Errorf("note %q", note)
	}
}

// TestReceiptsOfUnsentBatch: a sheet never sent has no receipts, and Stone
// is not asked.
func TestReceiptsOfUnsentBatch(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	bad, _ := sheets(t)
	_, page, path := ana.upload("payouts.csv", bad)
	if strings.Contains(page, `id="dl-receipts"`) {
		t.Error("an unsent sheet's page offers receipts")
	}
	if code, body := ana.get(path + "/receipts"); code != http.StatusConflict || !strings.Contains(body, "there are no receipts") {
		t.Errorf("receipts of an unsent sheet: %d\n%.1000s", code, body)
	}
	if n := e.receiptRequests(); n != 0 {
		t.Errorf("%d receipt requests", n)
	}
}
