package batch

import (
	"encoding/json"
	"testing"

	"lote/ledger"
	"lote/validate"
)

// The TED request carries every field of the validated payout, and the
// payout the ledger keeps builds the same request: nothing is lost between
// the check and Stone.
func TestTEDRequestFromStoredPayout(t *testing.T) {
	p := validate.Payout{Amount: 123456, ScheduledTo: "2026-03-11",
		Target: validate.PayoutTarget{
			Account: validate.PayoutAccount{AccountCode: "123456", BranchCode: "1", InstitutionCode: "60701190", AccountType: "CC"},
			Entity:  validate.PayoutEntity{Name: "Ana Souza", Document: "52998224725", DocumentType: "cpf"}}}
	b, err := encodePayout(&p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := storedPayout("b", ledger.Row{Row: 2, Payout: b})
	if err != nil {
		t.Fatal(err)
	}
	req, err := json.Marshal(tedRequest("acc-1", &got))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"amount":123456,"account_id":"acc-1","target":{"account":{"account_code":"123456","branch_code":"1","institution_code":"60701190","account_type":"CC"},"entity":{"name":"Ana Souza","document":"52998224725","document_type":"cpf"}},"scheduled_to":"2026-03-11"}`
	if string(req) != want {
		t.Errorf("request\n got %s\nwant %s", req, want)
	}
	if _, err := storedPayout("b", ledger.Row{Row: 3, Payout: []byte("{")}); err == nil {
		t.Error("a damaged stored payout was read")
	}
}
