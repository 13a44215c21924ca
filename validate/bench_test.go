package validate

import (
	"strconv"
	"testing"
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
