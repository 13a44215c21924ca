package validate

import (
	"strconv"
	"testing"

	"lote/internal/fake"
)

// BenchmarkChecker validates one realistic row per op: masked CPF, bank
// code, branch, account with check digit, Brazilian amount, date, reference.
func BenchmarkChecker(b *testing.B) {
	const n = 4096
	inputs := make([]Input, n)
	for i := range inputs {
		in := row(i + 2)
		in.Account = text("Conta", strconv.Itoa(10000+i)+"-"+strconv.Itoa(i%10))
		in.ScheduledTo = text("data_agendamento", "15/12/2026")
		inputs[i] = in
	}
	amounts := make([]Cell, 997) // co-prime with n: rows do not repeat for 4 M ops
	for i := range amounts {
		amounts[i] = text("Valor", strconv.Itoa(1000+i)+",56")
	}
	c := newTestChecker(Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := inputs[i%n]
		in.Row = i + 2
		in.Amount = amounts[i%len(amounts)]
		res := c.Add(in)
		if len(res) != 1 || !res[0].Valid() {
			b.Fatalf("row %d: %v", in.Row, res)
		}
	}
}

func BenchmarkParseAmount(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseAmount("R$ 1.234,56", DecimalComma); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrepare checks the cells of one row per op, as the rows of
// `make bench`'s sheet are written: unmasked CPF, 3-digit bank code, amount
// with a decimal point, reference.
func BenchmarkPrepare(b *testing.B) {
	const n = 4096
	banks := []string{"001", "033", "104", "237", "260", "341", "336", "077", "756", "208"}
	inputs := make([]Input, n)
	for i := range inputs {
		inputs[i] = Input{
			Row:          i + 2,
			Reference:    text("reference", "R"+strconv.Itoa(i)),
			Name:         text("name", "Payee "+strconv.Itoa(i)),
			Document:     text("document", fake.CPF(100000000+i*7919%800000000)),
			DocumentType: Cell{Column: "document_type"},
			Institution:  text("institution_code", banks[i%len(banks)]),
			Branch:       text("branch_code", strconv.Itoa(1+i%9000)),
			Account:      text("account_code", strconv.Itoa(100000000+i)),
			AccountType:  text("account_type", "CC"),
			Amount:       text("amount", strconv.Itoa(10+i%9000)+"."+strconv.Itoa(10+i%90)),
			AmountCents:  Cell{Column: "amount_cents"},
			ScheduledTo:  Cell{Column: "scheduled_to"},
		}
	}
	c := newTestChecker(Options{})
	ps := make([]Prepared, 0, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ps = c.Prepare(ps[:0], inputs[i%n])
	}
	if res := c.AddPrepared(nil, ps); len(res) != 1 || !res[0].Valid() {
		b.Fatalf("last row: %+v", res)
	}
}

// BenchmarkInvalidCells measures the path of a cell that fails: the error
// and its message, kept with its format and arguments for other languages.
func BenchmarkInvalidCells(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CPF("111.111.111-12"); err == nil {
			b.Fatal("valid")
		}
		if _, err := ParseAmount("30000000", DecimalAuto); err == nil {
			b.Fatal("valid")
		}
	}
}
