package validate

import (
	"errors"
	"testing"
)

func TestAccount(t *testing.T) {
	tests := []struct {
		value, bank, want string
		err               error
	}{
		{"12345-6", "", "123456", nil},
		{"00012345-6", "", "123456", nil},
		{"1.234.567-8", "", "12345678", nil},
		{" 123 456 ", "", "123456", nil},
		{"12", "", "12", nil},
		{"12345678901234567890", "", "12345678901234567890", nil}, // 20 digits: Stone's maximum
		{"123456789012345678901", "", "", ErrInvalidAccount},
		{"1", "", "", ErrInvalidAccount},
		{"0001", "", "", ErrInvalidAccount},
		{"00000", "", "", ErrInvalidAccount},
		{"12345-X", "BCO DO BRASIL S.A.", "", ErrAccountCheckLetter}, // Banco do Brasil's X check digit
		{"12345-p", "BCO BRADESCO S.A.", "", ErrAccountCheckLetter},  // Bradesco's P
		{"12A45", "", "", ErrInvalidAccount},
		{"12345-6#", "", "", ErrInvalidAccount},
		{"", "", "", ErrRequired},
	}
	for _, tt := range tests {
		got, err := Account(tt.value, tt.bank)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Account(%q) = %q, %v; want %q, %v", tt.value, got, err, tt.want, tt.err)
		}
	}
	_, err := Account("12345-X", "BCO DO BRASIL S.A.")
	want := `The account ends in the check digit "X" at BCO DO BRASIL S.A., but Stone accepts digits only. Ask the payee or the bank for the account number written with digits; lote does not replace the letter.`
	if err == nil || err.Error() != want {
		t.Errorf("message = %v\nwant %s", err, want)
	}
}

func TestBranch(t *testing.T) {
	tests := []struct {
		value, want string
		err         error
	}{
		{"1234", "1234", nil},
		{"0001", "0001", nil},
		{"1", "1", nil},
		{"", "", nil},
		{"12345", "", ErrInvalidBranch},
		{"1234-5", "", ErrInvalidBranch},
		{"1234-X", "", ErrInvalidBranch},
		{"12a4", "", ErrInvalidBranch},
	}
	for _, tt := range tests {
		got, err := Branch(tt.value)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Branch(%q) = %q, %v; want %q, %v", tt.value, got, err, tt.want, tt.err)
		}
	}
	if _, err := Branch("1234-5"); err == nil || err.Error() != "The branch is written with its check digit; Stone takes the branch without it: write 1234." {
		t.Errorf("message = %v", err)
	}
}

func TestAccountType(t *testing.T) {
	tests := map[string]string{
		"": "", "CC": "CC", "cc": "CC", " pg ": "PG", "PP": "PP", "CD": "CD", "CG": "CG",
		"Corrente": "CC", "conta corrente": "CC", "Poupança": "PP", "poupanca": "PP",
		"pagamento": "PG", "Conta de Pagamento": "PG", "conta pagamento": "PG", "Depósito": "CD", "garantida": "CG",
	}
	for in, want := range tests {
		if got, err := AccountType(in); got != want || err != nil {
			t.Errorf("AccountType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"CI", "investimento", "salário", "CCC"} {
		if got, err := AccountType(in); !errors.Is(err, ErrInvalidAccountType) {
			t.Errorf("AccountType(%q) = %q, %v; want ErrInvalidAccountType", in, got, err)
		}
	}
}

func TestAccountRules(t *testing.T) {
	tests := []struct {
		typ, branch, account string
		wantTyp, wantBranch  string
		changed              bool
	}{
		{"CC", "1234", "123456", "CC", "1234", false},
		{"", "1234", "123456", "CC", "1234", false}, // empty is CC: the default, not a change
		{"PG", "1234", "123456", "PG", "", true},
		{"PG", "", "123456", "PG", "", false},
		{"CC", "1234", "12345678901234", "PG", "", true}, // 14 digits: too long for CC
		{"", "1234", "12345678901234", "PG", "", true},
		{"CC", "1234", "1234567890123", "CC", "1234", false}, // 13 digits is still CC
		{"CC", "", "123456", "PG", "", true},
		{"", "", "123456", "PG", "", true},
		{"PP", "1234", "12345678901234", "PP", "1234", false},
		{"PP", "", "123456", "PP", "", false},
	}
	for _, tt := range tests {
		typ, branch, note := AccountRules(tt.typ, tt.branch, tt.account)
		if typ != tt.wantTyp || branch != tt.wantBranch || (note != "") != tt.changed {
			t.Errorf("AccountRules(%q, %q, %q) = %q, %q, %q; want %q, %q, changed %v", tt.typ, tt.branch, tt.account, typ, branch, note, tt.wantTyp, tt.wantBranch, tt.changed)
		}
	}
}
