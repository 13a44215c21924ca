package validate

import (
	"errors"
	"strings"
	"testing"
)

func TestResolveText(t *testing.T) {
	d := Institutions()
	for _, tt := range []struct {
		value string
		ispb  string // "" when an error is wanted
		note  string // a substring of the warning; "" for none
		err   error
		msg   string // a substring of the error
	}{
		// How ERPs export a bank: the code and its registered name.
		{value: "001 - Banco do Brasil S.A.", ispb: "00000000"},
		{value: "341 - Itaú Unibanco", ispb: "60701190"},
		{value: "237-Bradesco", ispb: "60746948"},
		{value: "104 – Caixa Econômica Federal", ispb: "00360305"},
		{value: "260 NU PAGAMENTOS - IP", ispb: "18236120"},
		{value: "60701190 - Itaú", ispb: "60701190"},
		// The code names one bank, the name another: which was meant?
		{value: "341 - Bradesco", err: ErrInstitutionMismatch, msg: "Code 341 is ITAÚ UNIBANCO S.A., but the name says 237 (Banco Bradesco S.A.)"},
		// A name lote does not know beside a code: the code, with a warning.
		{value: "341 - Itaú Personnalité", ispb: "60701190", note: `does not know the name "Itaú Personnalité"`},
		// Names alone, as people write them: read, with the code shown.
		{value: "Banco do Brasil", ispb: "00000000", note: "Read as bank code 001 (Banco do Brasil S.A.) from its name; write 001"},
		{value: "Itaú", ispb: "60701190", note: "code 341"},
		{value: "ITAU UNIBANCO", ispb: "60701190", note: "code 341"},
		{value: "Nubank", ispb: "18236120", note: "code 260"},
		{value: "Caixa Econômica Federal", ispb: "00360305", note: "write 104"},
		{value: "Caixa", ispb: "00360305", note: "code 104"},
		{value: "CEF", ispb: "00360305", note: "code 104"},
		{value: "BB", ispb: "00000000", note: "code 001"},
		{value: "Inter", ispb: "00416968", note: "code 077"},
		{value: "C6", ispb: "31872495", note: "code 336"},
		{value: "Sicoob", ispb: "02038232", note: "code 756"},
		{value: "Sicredi", ispb: "01181521", note: "code 748"},
		{value: "Banco Safra S.A.", ispb: "58160789", note: "code 422"},
		{value: "Bradesco", ispb: "60746948", note: "code 237"},
		// A name that several institutions share: the candidates, with codes.
		{value: "Bradesco Financiamentos", ispb: "07207996", note: "code 394"},
		{value: "Santander Corretora", ispb: "29162769", note: "code 352"},
		{value: "Central Sicredi", err: ErrAmbiguousInstitution, msg: `"Central Sicredi" could be 580 (`},
		{value: "Banco Desconhecido", err: ErrUnknownInstitution, msg: "104 for Caixa Econômica Federal"},
		// Stone itself, by name or with its code: never a TED.
		{value: "Stone", err: ErrStoneInstitution},
		{value: "197 - Stone", err: ErrStoneInstitution},
	} {
		in, note, ok, err := d.ResolveText(tt.value)
		if !ok {
			t.Errorf("%q: not read as a name", tt.value)
			continue
		}
		if tt.err != nil {
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("%q: err %v, want %v containing %q", tt.value, err, tt.err, tt.msg)
			}
			continue
		}
		if err != nil || in.ISPB != tt.ispb {
			t.Errorf("%q: %s, %v; want ISPB %s", tt.value, in.ISPB, err, tt.ispb)
		}
		if tt.note == "" && note != "" || !strings.Contains(note, tt.note) {
			t.Errorf("%q: note %q, want %q", tt.value, note, tt.note)
		}
	}
	// Bare codes are Resolve's.
	for _, v := range []string{"", "341", "00000000", " 1 "} {
		if _, _, ok, _ := d.ResolveText(v); ok {
			t.Errorf("%q read as a name", v)
		}
	}
}

func TestCheckerBankAndDigits(t *testing.T) {
	base := func() Input {
		return Input{
			Row:         2,
			Amount:      Cell{Column: "Valor", Value: "10,00", Present: true},
			Name:        Cell{Column: "Nome", Value: "Maria Souza", Present: true},
			Document:    Cell{Column: "CPF/CNPJ", Value: "529.982.247-25", Present: true},
			Institution: Cell{Column: "Banco", Value: "341", Present: true},
			Branch:      Cell{Column: "Agência", Value: "1234", Present: true},
			Account:     Cell{Column: "Conta", Value: "22113", Present: true},
		}
	}
	digit := func(v string) Cell { return Cell{Column: "Dígito", Value: v, Present: true} }
	for _, tt := range []struct {
		name    string
		edit    func(*Input)
		account string // the account_code sent; "" when the row is invalid
		errCol  string
		errMsg  string
	}{
		{name: "no digit column", edit: func(*Input) {}, account: "22113"},
		{name: "digit joined", edit: func(in *Input) { in.AccountDigit = digit("4") }, account: "221134"},
		{name: "digit as a number cell", edit: func(in *Input) { in.AccountDigit = Cell{Column: "DV", Value: "4", Kind: Number, Present: true} }, account: "221134"},
		{name: "digit in the account, column empty", edit: func(in *Input) { in.Account.Value, in.AccountDigit = "22113-4", digit("") }, account: "221134"},
		{name: "digit missing", edit: func(in *Input) { in.AccountDigit = digit("") }, errCol: "Dígito", errMsg: "The account's check digit is missing"},
		{name: "digit twice", edit: func(in *Input) { in.Account.Value, in.AccountDigit = "22113-4", digit("4") }, errCol: "Conta", errMsg: "has one too (4)"},
		{name: "digit too long", edit: func(in *Input) { in.AccountDigit = digit("45") }, errCol: "Dígito", errMsg: "one digit"},
		{name: "letter digit", edit: func(in *Input) { in.AccountDigit = digit("X") }, errCol: "Conta", errMsg: `check digit "X"`},
		{name: "branch digit left out", edit: func(in *Input) { in.BranchDigit = Cell{Column: "DV Agência", Value: "7", Present: true} }, account: "22113"},
		{name: "branch digit not a digit", edit: func(in *Input) { in.BranchDigit = Cell{Column: "DV Agência", Value: "12", Present: true} }, errCol: "DV Agência", errMsg: "one digit"},
		{name: "bank by name", edit: func(in *Input) { in.Institution.Value = "Itaú" }, account: "22113"},
		{name: "CPF column", edit: func(in *Input) {
			in.Document = Cell{}
			in.CPF = Cell{Column: "CPF", Value: "529.982.247-25", Present: true}
			in.CNPJ = Cell{Column: "CNPJ", Present: true}
		}, account: "22113"},
		{name: "CPF and CNPJ both filled", edit: func(in *Input) {
			in.Document = Cell{}
			in.CPF = Cell{Column: "CPF", Value: "529.982.247-25", Present: true}
			in.CNPJ = Cell{Column: "CNPJ", Value: "11.222.333/0001-81", Present: true}
		}, errCol: "CNPJ", errMsg: "Both"},
		{name: "a CPF in the CNPJ column", edit: func(in *Input) {
			in.Document = Cell{}
			in.CPF = Cell{Column: "CPF", Present: true}
			in.CNPJ = Cell{Column: "CNPJ", Value: "529.982.247-25", Present: true}
		}, errCol: "CNPJ"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.edit(&in)
			res := NewChecker(Options{}).Add(in)
			if len(res) != 1 {
				t.Fatalf("%d results", len(res))
			}
			r := res[0]
			if tt.account != "" {
				if !r.Valid() || r.Payout.Target.Account.AccountCode != tt.account {
					t.Fatalf("errors %v, payout %+v; want account %s", r.Errors, r.Payout, tt.account)
				}
				return
			}
			if r.Valid() || len(r.Errors) != 1 || r.Errors[0].Column != tt.errCol || !strings.Contains(r.Errors[0].Message(), tt.errMsg) {
				t.Fatalf("errors %v; want one in %q containing %q", r.Errors, tt.errCol, tt.errMsg)
			}
		})
	}
}

func TestAccountTypeWords(t *testing.T) {
	for v, want := range map[string]string{
		"Corrente": "CC", "Conta Corrente": "CC", "conta-corrente": "CC", "Poupança": "PP", "Conta Poupança": "PP",
		"Pagamento": "PG", "Conta de Pagamento": "PG", "Depósito": "CD", "Garantida": "CG", "cc": "CC",
	} {
		if got, err := AccountType(v); got != want || err != nil {
			t.Errorf("AccountType(%q) = %q, %v; want %s", v, got, err, want)
		}
	}
	for v, msg := range map[string]string{
		"Salário": "conta salário", "Conta Salário": "conta salário", "Investimento": "investimento", "Corrent": "as the code or the word",
	} {
		if _, err := AccountType(v); !errors.Is(err, ErrInvalidAccountType) || !strings.Contains(err.Error(), msg) {
			t.Errorf("AccountType(%q): %v; want an error about %q", v, err, msg)
		}
	}
}

// FuzzResolveText reads arbitrary bank cells: whatever the text, an
// institution is returned only without an error, never Stone, and a code
// followed by a name resolves to that code's institution.
func FuzzResolveText(f *testing.F) {
	for _, s := range []string{"341 - Itaú Unibanco", "Nubank", "Caixa", "001-Banco do Brasil S.A.", "Central Sicredi", "197 Stone", "12ab", "9999 - x", "  - ", "Banco"} {
		f.Add(s)
	}
	d := Institutions()
	f.Fuzz(func(t *testing.T, v string) {
		in, note, ok, err := d.ResolveText(v)
		if !ok {
			if v := trimSpace(v); v == "" || allDigits(v) {
				return
			}
			t.Fatalf("%q: not read as text", v)
		}
		if err != nil {
			if in.ISPB != "" || note != "" {
				t.Fatalf("%q: error %v with institution %+v, note %q", v, err, in, note)
			}
			return
		}
		if in.ISPB == "" || in.ISPB == StoneISPB || !in.TED {
			t.Fatalf("%q: resolved to %+v", v, in)
		}
		if code, _, split := splitCodeName(v); split {
			want, _, err := d.Resolve(code, Text)
			if err != nil || want.ISPB != in.ISPB {
				t.Fatalf("%q: resolved to %s, its code %s to %s (%v)", v, in.ISPB, code, want.ISPB, err)
			}
		}
	})
}
