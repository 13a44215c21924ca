package validate_test

import (
	"fmt"
	"time"

	"lote/validate"
)

func ExampleDocument() {
	d, err := validate.Document("360305000104", "") // Caixa's CNPJ after Excel dropped its zeros
	fmt.Println(d.Number, d.Type, d.ZerosRestored, err)
	_, err = validate.Document("191", "")
	fmt.Println(err)
	// Output:
	// 00360305000104 cnpj true <nil>
	// This number lost its leading zeros and could be the CPF 000.000.001-91 or the CNPJ 00.000.000/0001-91: write it in full, or fill the document type column.
}

func ExampleParseAmount() {
	for _, s := range []string{"R$ 1.234,56", "1234.56", "1.234"} {
		cents, err := validate.ParseAmount(s, validate.DecimalAuto)
		fmt.Println(cents, err != nil)
	}
	cents, _ := validate.ParseAmount("1.234", validate.DecimalComma)
	fmt.Println(cents)
	// Output:
	// 123456 false
	// 123456 false
	// 0 true
	// 123400
}

func ExampleChecker() {
	c := validate.NewChecker(validate.Options{Today: time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("-03", -3*3600))})
	cell := func(col, v string) validate.Cell { return validate.Cell{Column: col, Value: v, Present: true} }
	in := validate.Input{
		Row:         2,
		Amount:      cell("Valor", "1.234"), // ambiguous until the file shows its separator
		Name:        cell("Nome", "Maria da Silva"),
		Document:    cell("CPF", "529.982.247-25"),
		Institution: cell("Banco", "341"), // Itaú
		Branch:      cell("Agência", "1234"),
		Account:     cell("Conta", "12345-6"),
	}
	fmt.Println(len(c.Add(in))) // row 2 waits
	in.Row, in.Amount = 3, cell("Valor", "99,90")
	for _, r := range c.Add(in) { // the decimal comma of row 3 settles row 2
		fmt.Println(r.Row, r.Valid(), r.Payout.Amount, r.Payout.Target.Account.InstitutionCode)
	}
	// Output:
	// 0
	// 2 true 123400 60701190
	// 3 true 9990 60701190
}
