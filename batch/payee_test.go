package batch

import (
	"testing"

	"lote/validate"
)

func TestPayeeMatch(t *testing.T) {
	cpfSheet := validate.PayoutEntity{Name: "José Antônio da Silva", Document: "52998224725", DocumentType: "cpf"}
	cnpjSheet := validate.PayoutEntity{Name: "Padaria Pão Quente", Document: "11222333000181", DocumentType: "cnpj"}
	for _, tc := range []struct {
		sheet     validate.PayoutEntity
		name, doc string
		want      string
	}{
		{cpfSheet, "JOSE ANTONIO DA SILVA", "***982247**", ""},
		{cpfSheet, "José A. Silva", "***.982.247-**", ""},
		{cpfSheet, "Jose Anto Silva", "***982247**", ""},
		{cpfSheet, "José Silva", "", ""},
		{cpfSheet, "José Antônio da Silva", "***982248**", "the document differs"},
		{cpfSheet, "José Antônio da Souza", "***982247**", "the name differs"},
		{cpfSheet, "Maria Souza", "***111222**", "the document differs and the name differs"},
		{cpfSheet, "José", "***982247**", "the name differs"}, // the last word must agree
		{cpfSheet, "José Antônio da Silva", "***********", "the document differs"},
		{cpfSheet, "", "", "Stone named no owner to compare"},
		{cnpjSheet, "PADARIA PAO QUENTE LTDA", "11222333000181", ""},
		{cnpjSheet, "Padaria Pão Quente S.A.", "11.222.333/0001-81", ""},
		{cnpjSheet, "Padaria Pão Quente Ltda", "11222333000262", "the document differs"},
		{cnpjSheet, "Padaria Pão Frio Ltda", "11222333000181", "the name differs"},
	} {
		if got := payeeMatch(tc.sheet, tc.name, tc.doc); got != tc.want {
			t.Errorf("sheet %q vs bank %q %q: %q, want %q", tc.sheet.Name, tc.name, tc.doc, got, tc.want)
		}
	}
}
