package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestResultsKeepInputTypes downloads the results of an XLSX upload:
// the person's number and date cells come back as numbers and dates,
// read from the upload the server keeps, not as text.
func TestResultsKeepInputTypes(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	_, page, path := ana.upload("payouts.xlsx", readSample(t, "payouts.xlsx"))
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, body := ana.post(path+"/submit", form); code != http.StatusOK {
		t.Fatalf("submit: %d\n%.3000s", code, body)
	}
	e.waitSent(strings.TrimPrefix(path, "/batches/"))
	res, err := ana.c.Get(e.ts.URL + path + "/results")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	f, err := excelize.OpenReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sh := f.GetSheetName(0)
	text := func(c excelize.CellType) bool {
		return c == excelize.CellTypeSharedString || c == excelize.CellTypeInlineString
	}
	for cell, wantText := range map[string]bool{"H2": false, "D2": false, "I13": false, "C2": true} { // amount, bank, date; the CPF as typed
		if got, err := f.GetCellType(sh, cell); err != nil || text(got) != wantText {
			t.Errorf("%s: type %v, want text %v (%v)", cell, got, wantText, err)
		}
	}
	if v, _ := f.GetCellValue(sh, "I13"); v != "2027-01-15" {
		t.Errorf("I13 = %q, want the date 2027-01-15", v)
	}
}
