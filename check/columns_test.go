package check

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lote/internal/fake"
	"lote/validate"
)

// base is a header with every required column, in Portuguese.
var base = []string{"Nome", "CPF/CNPJ", "Banco", "Agência", "Conta", "Valor"}

func TestMapHeaderAsPeopleWriteIt(t *testing.T) {
	for _, tt := range []struct {
		header string
		field  Field
	}{
		{"Valor (R$)", FieldAmount}, {"VALOR R$", FieldAmount}, {"Vlr. Líquido", FieldAmount}, {"Valor Líquido", FieldAmount},
		{"Valor a Pagar", FieldAmount}, {"Salário Líquido", FieldAmount}, {"amount", FieldAmount},
		{"Cód. Banco", FieldInstitution}, {"Código do Banco", FieldInstitution}, {"Nº Banco", FieldInstitution}, {"ISPB", FieldInstitution},
		{"Nº Conta", FieldAccount}, {"Conta Corrente", FieldAccount}, {"Número da Conta", FieldAccount}, {"account_code", FieldAccount},
		{"Ag.", FieldBranch}, {"Nº Agência", FieldBranch}, {"branch_code", FieldBranch},
		{"Data de Pagamento", FieldScheduledTo}, {"Data Pagamento", FieldScheduledTo}, {"Data do pagamento", FieldScheduledTo},
		{"Dt. Pgto", FieldScheduledTo}, {"Vencimento", FieldScheduledTo}, {"Data", FieldScheduledTo}, {"data_agendamento", FieldScheduledTo},
		{"Favorecido", FieldName}, {"Razão Social", FieldName}, {"Nome/Razão Social", FieldName}, {"Beneficiário", FieldName},
		{"CPF/CNPJ", FieldDocument}, {"CNPJ/CPF", FieldDocument}, {"Documento", FieldDocument},
		{"Tipo de Conta", FieldAccountType}, {"Tipo Pessoa", FieldDocumentType}, {"Referência", FieldReference}, {"Seu Número", FieldReference},
	} {
		h := append([]string(nil), base...)
		i := -1
		for j, b := range h {
			if aliases[validate.Fold(b)].field == tt.field && aliases[validate.Fold(b)].rank == 0 {
				h[j], i = tt.header, j // the base column of the same field, renamed
			}
		}
		if i < 0 {
			h, i = append(h, tt.header), len(h)
		}
		m, err := MapHeader(h)
		if err != nil {
			t.Errorf("%q: %v", tt.header, err)
			continue
		}
		if m.Column(tt.field) != i {
			t.Errorf("%q: %s is column %d, want %d", tt.header, tt.field, m.Column(tt.field), i)
		}
	}
}

// TestEveryDateHeaderIsRead guards the payment date: under any name lote
// accepts, the column is read, and beside a preferred one it is named in a
// note. A date column is never left out without a word.
func TestEveryDateHeaderIsRead(t *testing.T) {
	var names []string
	for _, h := range Headers {
		if h.Field == FieldScheduledTo {
			for _, g := range h.Groups {
				names = append(names, g...)
			}
		}
	}
	for _, n := range names {
		m, err := MapHeader(append(append([]string(nil), base...), n))
		if err != nil || m.Column(FieldScheduledTo) != len(base) {
			t.Errorf("%q: scheduled_to is column %d (%v), want %d", n, m.Column(FieldScheduledTo), err, len(base))
		}
	}
	m, err := MapHeader(append(append([]string(nil), base...), "Vencimento", "Data de Pagamento", "Data"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Column(FieldScheduledTo) != len(base)+1 {
		t.Errorf("read date column %d, want the payment date %d", m.Column(FieldScheduledTo), len(base)+1)
	}
	want := []string{
		`column "Vencimento" is not read: the scheduled_to is read from "Data de Pagamento"`,
		`column "Data" is not read: the scheduled_to is read from "Data de Pagamento"`,
	}
	if strings.Join(m.Notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(m.Notes, "\n"), strings.Join(want, "\n"))
	}
	// Two payment dates: which one is meant is for the user to say.
	if _, err := MapHeader(append(append([]string(nil), base...), "Data Pagamento", "Data de Crédito")); err == nil ||
		!strings.Contains(err.Error(), `"Data Pagamento" and "Data de Crédito" are both scheduled_to`) {
		t.Errorf("two payment dates: %v", err)
	}
}

func TestMapHeaderUnreadPayoutColumns(t *testing.T) {
	m, err := MapHeader([]string{"Nome", "CPF", "Banco", "Agência", "Conta", "Valor Líquido", "Valor Bruto", "Data de Admissão", "Observação", "Chave Pix"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`column "Valor Bruto" looks like an amount but is not read; rename it if lote should read it (see the README's sheet columns)`,
		`column "Data de Admissão" looks like a date but is not read; rename it if lote should read it (see the README's sheet columns)`,
	}
	if strings.Join(m.Notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(m.Notes, "\n"), strings.Join(want, "\n"))
	}
}

func TestMapHeaderCheckDigits(t *testing.T) {
	for _, tt := range []struct {
		header      []string
		account, dv int // columns of the account and its digit
		branchDV    int
		err         string
	}{
		{header: []string{"Nome", "CPF", "Banco", "Agência", "Conta", "Dígito", "Valor"}, account: 4, dv: 5, branchDV: -1},
		{header: []string{"Nome", "CPF", "Banco", "Agência", "DV", "Conta", "DV", "Valor"}, account: 5, dv: 6, branchDV: 4},
		{header: []string{"Nome", "CPF", "Banco", "Agência", "DV Agência", "Conta", "Dígito Conta", "Valor"}, account: 5, dv: 6, branchDV: 4},
		{header: []string{"Nome", "CPF", "Banco", "Agência", "Conta Corrente", "DAC", "Valor"}, account: 4, dv: 5, branchDV: -1},
		{header: []string{"Nome", "CPF", "Banco", "Agência", "Conta", "Valor", "Dígito"}, err: `column "Dígito" is a check digit, but not right of the branch or the account`},
	} {
		m, err := MapHeader(tt.header)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: %v, want %q", tt.header, err, tt.err)
			}
			continue
		}
		if err != nil || m.Column(FieldAccount) != tt.account || m.Column(FieldAccountDigit) != tt.dv || m.Column(FieldBranchDigit) != tt.branchDV {
			t.Errorf("%q: account %d digit %d branch digit %d (%v); want %d %d %d", tt.header,
				m.Column(FieldAccount), m.Column(FieldAccountDigit), m.Column(FieldBranchDigit), err, tt.account, tt.dv, tt.branchDV)
		}
	}
}

func TestMapHeaderCPFAndCNPJ(t *testing.T) {
	m, err := MapHeader([]string{"Nome", "CPF", "CNPJ", "Banco", "Agência", "Conta", "Valor"})
	if err != nil || m.Has(FieldDocument) || m.Column(FieldCPF) != 1 || m.Column(FieldCNPJ) != 2 {
		t.Errorf("CPF and CNPJ: %+v, %v", m, err)
	}
	for i, h := range []string{"CPF", "CNPJ"} {
		m, err := MapHeader([]string{"Nome", h, "Banco", "Agência", "Conta", "Valor"})
		if err != nil || m.Column(FieldDocument) != 1 || m.Has(FieldCPF) || m.Has(FieldCNPJ) {
			t.Errorf("%s alone (%d): %+v, %v", h, i, m, err)
		}
	}
	if _, err := MapHeader([]string{"Nome", "CPF/CNPJ", "CPF", "Banco", "Agência", "Conta", "Valor"}); err == nil || !strings.Contains(err.Error(), `"CPF/CNPJ" and "CPF" are both document`) {
		t.Errorf("CPF/CNPJ and CPF: %v", err)
	}
}

// TestCheckJoinsAccountDigit is the regression test of issue 14: "Conta"
// 22113 with "Dígito" 4 is the account 22113-4, and never 22113.
func TestCheckJoinsAccountDigit(t *testing.T) {
	cpf := fake.CPF(123456789)
	csv := "Nome;CPF;Banco;Agência;DV Agência;Conta;Dígito;Valor\n" +
		"Ana;" + cpf + ";341;1234;5;22113;4;10,00\n" +
		"Bia;" + cpf + ";341;1234;5;22114;;10,00\n"
	path := filepath.Join(t.TempDir(), "f.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []Checked
	if _, _, err := Check(context.Background(), path, chkOptions(), func(c Checked) error {
		got = append(got, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d rows", len(got))
	}
	if p := got[0].Payout; p == nil || p.Target.Account.AccountCode != "221134" || p.Target.Account.BranchCode != "1234" {
		t.Errorf("row 2: payout %+v, errors %v; want account 221134, branch 1234", p, got[0].Errors)
	}
	if r := got[1]; r.Valid() || len(r.Errors) != 1 || r.Errors[0].Column != "Dígito" {
		t.Errorf("row 3, digit missing: valid %v, errors %v; want one error in Dígito", r.Valid(), r.Errors)
	}
}

// FuzzMapHeader maps arbitrary headers (cells separated by "|"): whatever
// they hold, a header that maps has every required column, each field in
// one column of its own, and a separate check digit right of its branch
// or account.
func FuzzMapHeader(f *testing.F) {
	for _, h := range []string{
		"Favorecido|CPF/CNPJ|Banco|Agência|DV Agência|Conta|Dígito|Valor (R$)|Data de Pagamento",
		"Nome|CPF|CNPJ|Cód. Banco|Ag.|Conta Corrente|DV|Vlr. Líquido|Vencimento|Data",
		"amount|name|document|institution_code|branch_code|account_code",
		"Valor|Valor|Nome",
		"Dígito|Conta|DV",
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		header := strings.Split(joined, "|")
		m, err := MapHeader(header)
		seen := map[int]Field{}
		for fld := range numFields {
			i := m.Column(Field(fld))
			if i < -1 || i >= len(header) {
				t.Fatalf("%q: %s is column %d of %d", header, Field(fld), i, len(header))
			}
			if i < 0 {
				continue
			}
			if other, dup := seen[i]; dup {
				t.Fatalf("%q: column %d is both %s and %s", header, i, other, Field(fld))
			}
			seen[i] = Field(fld)
		}
		if err != nil {
			return
		}
		if score, ok := IsHeader(header); !ok || score != 6 {
			t.Fatalf("%q maps, but IsHeader says %d, %v", header, score, ok)
		}
		if !m.Has(FieldName) || !m.Has(FieldInstitution) || !m.Has(FieldBranch) || !m.Has(FieldAccount) ||
			m.Has(FieldAmount) == m.Has(FieldAmountCents) || !m.Has(FieldDocument) && !(m.Has(FieldCPF) && m.Has(FieldCNPJ)) {
			t.Fatalf("%q maps without a required column: %+v", header, m)
		}
		if i := m.Column(FieldAccountDigit); i >= 0 && aliases[validate.Fold(header[i])].field == fieldDigit && m.Column(FieldAccount) != i-1 {
			t.Fatalf("%q: the digit column %d is not right of the account", header, i)
		}
	})
}

// TestHeaderNamesFoldApart: no two names of Headers fold to the same
// header, or the later would silently take the earlier's column.
func TestHeaderNamesFoldApart(t *testing.T) {
	seen := map[string]string{}
	for _, h := range Headers {
		for _, g := range h.Groups {
			for _, n := range g {
				k := validate.Fold(n)
				if other, dup := seen[k]; dup {
					t.Errorf("%q and %q both fold to %q", other, n, k)
				}
				seen[k] = n
			}
		}
	}
}

// TestHeadersReadme keeps the README's sheet section in step with Headers:
// every name lote reads is listed there.
func TestHeadersReadme(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "\n## The sheet\n")
	end := strings.Index(readme[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal(`README has no "## The sheet" section`)
	}
	section := readme[start : start+1+end]
	for _, h := range Headers {
		for _, g := range h.Groups {
			for _, n := range g {
				if !strings.Contains(section, "`"+n+"`") {
					t.Errorf("README's sheet section does not list %q", n)
				}
			}
		}
	}
}
