package web

import (
	"io"
	"net/http"
	"testing"
)

// The sheet of rows to fix is a CSV written by the results sheet's writer:
// in a ','-separated upload, a name "Ana;=2*21;x" comes back quoted with
// its formula start neutralised, so that pt-BR Excel, which splits on ';',
// shows it as text; a full-width "＝1+1" likewise.
func TestErrorsSheetNeutralises(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	in := "reference,name,document,institution_code,branch_code,account_code,amount\n" +
		"R-1,\"Ana;=2*21;x\",111.111.111-11,341,0001,12345-6,10.00\n" +
		"R-2,＝1+1,111.111.111-11,341,0001,12345-6,10.00\n"
	code, page, path := ana.upload("folha.csv", []byte(in))
	if code != http.StatusOK {
		t.Fatalf("upload: %d\n%s", code, page)
	}
	res, err := ana.c.Get(e.ts.URL + path + "/errors")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	want := "\xEF\xBB\xBFreference,name,document,institution_code,branch_code,account_code,amount,lote_errors\r\n" +
		"R-1,\"Ana;'=2*21;x\",111.111.111-11,341,0001,12345-6,10.00,\"document: \"\"111.111.111-11\"\": The CPF's check digits do not match: check the number with the payee.\"\r\n" +
		"R-2,'＝1+1,111.111.111-11,341,0001,12345-6,10.00,\"document: \"\"111.111.111-11\"\": The CPF's check digits do not match: check the number with the payee.\"\r\n"
	if string(got) != want {
		t.Errorf("errors sheet:\n got %q\nwant %q", got, want)
	}
}
