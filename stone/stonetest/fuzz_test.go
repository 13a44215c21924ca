package stonetest

import (
	"testing"

	"lote/stone"
)

// FuzzParseCreate feeds arbitrary bodies to the create validation: it must
// never panic, and whatever it accepts must satisfy Stone's patterns after
// normalisation (stone-api.md §2.1).
func FuzzParseCreate(f *testing.F) {
	f.Add([]byte(mustJSON(seedBody())))
	f.Add([]byte(`{"amount":1,"account_id":"a","target":{"account":{"account_code":"00012345678901234","institution_code":"001"},"entity":{"name":"x","document":"12ABC34501DE35"}}}`))
	f.Add([]byte(`{"amount":-0,"target":null}`))
	s := NewUnstartedServer(Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		c, rs := s.parseCreate(body)
		if len(rs) > 0 {
			return
		}
		if c.amount <= 0 || c.amount > maxAmount {
			t.Errorf("accepted amount %d", c.amount)
		}
		if !accountCodeRe.MatchString(c.accountCode) {
			t.Errorf("accepted account_code %q", c.accountCode)
		}
		if c.branchCode != "" && !branchCodeRe.MatchString(c.branchCode) {
			t.Errorf("accepted branch_code %q", c.branchCode)
		}
		if !institutionRe.MatchString(c.institution) {
			t.Errorf("accepted institution_code %q", c.institution)
		}
		switch c.accountType {
		case stone.AccountChecking, stone.AccountDeposit, stone.AccountGuarantee, stone.AccountSavings:
			if c.branchCode == "" {
				t.Errorf("type %s without a branch", c.accountType)
			}
		case stone.AccountPayment:
			if c.branchCode != "" {
				t.Errorf("PG with branch %q", c.branchCode)
			}
		default:
			t.Errorf("accepted account_type %q", c.accountType)
		}
		if c.name == "" || (c.documentType != "cpf" && c.documentType != "cnpj") || c.accountID == "" {
			t.Errorf("accepted name %q document %q (%s) account_id %q", c.name, c.document, c.documentType, c.accountID)
		}
	})
}
