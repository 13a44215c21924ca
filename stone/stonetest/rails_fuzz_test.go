package stonetest

import (
	"strings"
	"testing"
	"time"
)

// FuzzParsePix feeds arbitrary bodies to the Pix create validation: it must
// never panic, and whatever it accepts must hold the documented limits: an
// amount from 0 to under 1,000,000,000,000, a key of at most 77 characters
// or a complete bank-data target, a description of at most 140.
func FuzzParsePix(f *testing.F) {
	for _, s := range []string{
		`{"account_id":"` + testAccount + `","amount":39511,"key":"+5521988040465","description":"some description"}`,
		`{"account_id":"` + testAccount + `","amount":1000,"target":{"entity":{"name":"Gabriela Abreu","document":"12409265707"},"account":{"account_code":"10022294","account_type":"CC","branch_code":"4208"},"institution":{"ispb":"90400888"}}}`,
		`{"account_id":"x","transaction_id":"abc","amount":-1}`,
		`{"account_id":"` + testAccount + `","amount":1e3,"key":null,"target":null}`,
		`{"account_id":"` + testAccount + `","scheduled_to":"2027-13-01","key":"a@b.co"}`,
	} {
		f.Add([]byte(s))
	}
	s := NewUnstartedServer(Options{})
	now := time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		s.mu.Lock()
		c, rs := s.parsePix(body, now)
		s.mu.Unlock()
		if len(rs) > 0 {
			return
		}
		if c.amount < 0 || c.amount >= maxPixAmount {
			t.Errorf("accepted amount %d", c.amount)
		}
		if c.accountID == "" || len([]rune(c.description)) > maxPixDescription || len([]rune(c.key)) > maxPixKeyLen {
			t.Errorf("accepted account %q description %q key %q", c.accountID, c.description, c.key)
		}
		if c.transactionID != "" && c.key == "" {
			t.Error("accepted a transaction_id without a key")
		}
		switch {
		case c.key != "":
		case c.target == nil:
			t.Error("accepted neither key nor target")
		default:
			tg := c.target
			if tg.Entity.Name == "" || (tg.Entity.DocumentType != "cpf" && tg.Entity.DocumentType != "cnpj") ||
				!accountCodeRe.MatchString(tg.Account.AccountCode) || !pixBranch.MatchString(tg.Account.BranchCode) ||
				!ispbRe.MatchString(tg.Institution.ISPB) {
				t.Errorf("accepted target %+v %+v", tg, tg.Account)
			}
		}
	})
}

// FuzzParseInternal: the internal transfer create validation never panics
// and accepts only a positive amount and an all-digit account number
// without leading zeros.
func FuzzParseInternal(f *testing.F) {
	for _, s := range []string{
		`{"amount":100,"account_id":"a","target":{"account":{"account_code":"58859"}}}`,
		`{"amount":100,"account_id":"a","target":{"account":{"account_code":"0058859"}},"description":"` + strings.Repeat("x", 201) + `"}`,
		`{"amount":"1","target":{"account":{"account_code":12}}}`,
		`{"amount":1,"account_id":"a","target":{"account":{"account_code":"000"}},"scheduled_to":"2026-02-30"}`,
	} {
		f.Add([]byte(s))
	}
	s := NewUnstartedServer(Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		c, rs := s.parseInternal(body)
		if len(rs) > 0 {
			return
		}
		if c.amount <= 0 || c.amount > maxAmount || c.accountID == "" || strings.HasPrefix(c.accountCode, "0") ||
			strings.Trim(c.accountCode, "0123456789") != "" || len([]rune(c.description)) > maxInternalDescription {
			t.Errorf("accepted %+v", c)
		}
	})
}

// FuzzPixKeyFormat: a key the format check accepts is stored in a form the
// check accepts again, unchanged (so a lookup never misses its own key).
func FuzzPixKeyFormat(f *testing.F) {
	for _, k := range []string{"12409265707", "11222333000181", "+5521988040465", "Ana@Exemplo.com.br",
		"5b695a22-187a-4181-93c8-811e155a89fc", "(21) 98804-0465", "", "a@b"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		norm, ok := pixKeyFormat(key)
		if !ok {
			return
		}
		again, ok2 := pixKeyFormat(norm)
		if !ok2 || again != norm || len(norm) > maxPixKeyLen {
			t.Errorf("%q stored as %q, which reads back as %q, %v", key, norm, again, ok2)
		}
	})
}

// TestPixKeyFormats: each kind of Pix key by its own rule.
func TestPixKeyFormats(t *testing.T) {
	for key, ok := range map[string]bool{
		"12409265707":                          true, // CPF
		"11222333000181":                       true, // CNPJ
		"12ABC34501DE35":                       true, // alphanumeric CNPJ
		"+5521988040465":                       true, // phone
		"pagamentos@exemplo.com.br":            true,
		"5b695a22-187a-4181-93c8-811e155a89fc": true, // random key
		"5B695A22-187A-4181-93C8-811E155A89FC": false,
		"21988040465x":                         false,
		"(21) 98804-0465":                      false,
		"+0021988040465":                       false,
		"ana@localhost":                        false,
		"":                                     false,
	} {
		if _, got := pixKeyFormat(key); got != ok {
			t.Errorf("pixKeyFormat(%q) = %v, want %v", key, got, ok)
		}
	}
	if norm, _ := pixKeyFormat("Ana@Exemplo.COM.br"); norm != "ana@exemplo.com.br" {
		t.Errorf("e-mail key stored as %q", norm)
	}
}
