package validate

import "testing"

// TestFold is what headers and the words people write in cells (account
// types, document types, totals labels) reduce to before they are looked up.
func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Agência": "agencia", "branch_code": "branchcode", " CPF/CNPJ ": "cpfcnpj", "Valor (R$)": "valor",
		"Nº Conta": "noconta", "Poupança": "poupanca", "Número_Código": "numerocodigo", "TOTAL:": "total",
		"Conta Salário": "contasalario", "": "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}
