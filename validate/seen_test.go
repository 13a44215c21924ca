package validate

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestSeenTableProbesAndGrows fills the table past several doublings with
// fingerprints that all start in the same slot (same low bits), so every
// insert probes, and checks that each payment still finds the row that made
// it first.
func TestSeenTableProbesAndGrows(t *testing.T) {
	tab := newSeenTable()
	const n = 5000 // past 1<<10, 1<<11, 1<<12 and 1<<13 slots
	fp := func(i int) uint64 { return uint64(i+1)<<40 | 7 }
	for i := 0; i < n; i++ {
		if prev, dup := tab.addOrGet(fp(i), int32(i+2)); dup {
			t.Fatalf("payment %d: reported as a duplicate of row %d", i, prev)
		}
	}
	if tab.count != n || 2*tab.count > len(tab.slots) {
		t.Fatalf("count %d in %d slots", tab.count, len(tab.slots))
	}
	for i := 0; i < n; i++ {
		prev, dup := tab.addOrGet(fp(i), 999999)
		if !dup || prev != int32(i+2) {
			t.Fatalf("payment %d again: dup %v, row %d; want row %d", i, dup, prev, i+2)
		}
	}
	if tab.count != n {
		t.Errorf("repeats were recorded: count %d, want %d", tab.count, n)
	}
}

// TestSeenTableReserve checks that a reserved table takes that many
// payments without growing, and keeps those it had.
func TestSeenTableReserve(t *testing.T) {
	tab := newSeenTable()
	for i := 0; i < 100; i++ {
		tab.addOrGet(uint64(i+1)*0x9e3779b97f4a7c15, int32(i+2))
	}
	tab.reserve(3000)
	size := len(tab.slots)
	if size != 8192 {
		t.Fatalf("reserved %d slots for 3000; want 8192", size)
	}
	for i := 0; i < 3000; i++ {
		prev, dup := tab.addOrGet(uint64(i+1)*0x9e3779b97f4a7c15, int32(i+2))
		if dup != (i < 100) || dup && prev != int32(i+2) {
			t.Fatalf("payment %d: dup %v, row %d", i, dup, prev)
		}
	}
	if len(tab.slots) != size {
		t.Errorf("grew to %d slots", len(tab.slots))
	}
	tab.reserve(10) // never shrinks
	if len(tab.slots) != size {
		t.Errorf("shrank to %d slots", len(tab.slots))
	}
}

// TestSeenFingerprintFields checks that every field of the payment counts,
// and that moving characters between fields makes another payment.
func TestSeenFingerprintFields(t *testing.T) {
	tab := newSeenTable()
	base := Payout{Amount: 123456, ScheduledTo: "2026-12-15", Target: PayoutTarget{
		Account: PayoutAccount{AccountCode: "123456", BranchCode: "1234", InstitutionCode: "60701190", AccountType: "CC"},
		Entity:  PayoutEntity{Name: "Maria", Document: "52998224725", DocumentType: "cpf"},
	}}
	variants := map[string]func(p *Payout){
		"document":    func(p *Payout) { p.Target.Entity.Document = "11144477735" },
		"institution": func(p *Payout) { p.Target.Account.InstitutionCode = "00000000" },
		"branch":      func(p *Payout) { p.Target.Account.BranchCode = "123" },
		"account":     func(p *Payout) { p.Target.Account.AccountCode = "1234567" },
		"amount":      func(p *Payout) { p.Amount++ },
		"date":        func(p *Payout) { p.ScheduledTo = "" },
		"shifted":     func(p *Payout) { p.Target.Account.BranchCode, p.Target.Account.AccountCode = "12341", "23456" },
	}
	want := tab.fingerprint(&base)
	for name, change := range variants {
		p := base
		change(&p)
		if tab.fingerprint(&p) == want {
			t.Errorf("%s changed: same fingerprint", name)
		}
	}
	// The name and the account type do not make another payment.
	p := base
	p.Target.Entity.Name, p.Target.Account.AccountType = "Maria da Silva", "PG"
	if tab.fingerprint(&p) != want {
		t.Error("name and account type changed the fingerprint")
	}
}

// TestAddAllMatchesAdd checks that validating rows in chunks gives exactly
// what Add gives row by row: same results, same order, duplicates naming
// the same earlier rows, held-back amounts released at the same point.
func TestAddAllMatchesAdd(t *testing.T) {
	var ins []Input
	for i := 0; i < 40; i++ {
		in := row(i + 2)
		in.Account = text("Conta", strconv.Itoa(100000+i%13)) // rows 15 on repeat rows 2 on
		switch {
		case i%7 == 3:
			in.Amount = text("Valor", "1.234") // ambiguous until row 25 shows a comma
		case i == 23:
			in.Amount = text("Valor", "9,99")
		case i%11 == 5:
			in.Document = text("CPF/CNPJ", "529.982.247-26") // bad check digit
		case i == 30:
			// A warning for the amount, settled last, and one for the date.
			in.Amount = text("Valor", "1,234.56")
			in.Account = text("Conta", "777777")
			in.ScheduledTo = text("Data", "01/01/2020")
		case i == 32:
			// An error for the amount, settled last, and one for the date.
			in.Amount = text("Valor", "12.34.5")
			in.ScheduledTo = text("Data", "31/02/2027")
		}
		ins = append(ins, in)
	}
	for _, allow := range []bool{false, true} {
		one := newTestChecker(Options{AllowDuplicates: allow})
		var want []Result
		for _, in := range ins {
			want = append(want, one.Add(in)...)
		}
		want = append(want, one.Close()...)
		if len(want) != len(ins) {
			t.Fatalf("Add gave %d results for %d rows", len(want), len(ins))
		}
		dups := 0
		for _, r := range want {
			for _, e := range r.Errors {
				if e.Code == ErrDuplicateRow.code {
					dups++
				}
			}
		}
		if allow != (dups == 0) {
			t.Fatalf("allow %v: %d duplicates; the rows should have some", allow, dups)
		}
		for _, size := range []int{1, 2, 5, 16, len(ins)} {
			opts := Options{AllowDuplicates: allow}
			c := newTestChecker(opts)
			var got []Result
			for i := 0; i < len(ins); i += size {
				got = c.AddAll(got, ins[i:min(i+size, len(ins))])
			}
			got = append(got, c.Close()...)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("allow %v, chunks of %d: results differ from Add's", allow, size)
			}
			if got := addPrepared(opts, ins, size); !reflect.DeepEqual(got, want) {
				t.Errorf("allow %v, prepared in chunks of %d: results differ from Add's", allow, size)
			}
		}
		// The amount's findings sit between the account's and the date's,
		// in the order of the columns, whichever way the row was checked.
		for _, r := range []Result{want[30], want[32]} {
			if codes := codesOf(r.Warnings) + "/" + codesOf(r.Errors); codes != "amount_mixed_convention,date_in_past/" &&
				codes != "/invalid_amount,invalid_date" {
				t.Errorf("row %d: %s", r.Row, codes)
			}
		}
	}
}

func codesOf(fes []FieldError) string {
	var cs []string
	for _, fe := range fes {
		cs = append(cs, fe.Code)
	}
	return strings.Join(cs, ",")
}

// addPrepared validates ins as a caller overlapping the two halves would:
// Prepare on another goroutine, chunks of size handed over, AddPrepared
// here.
func addPrepared(opts Options, ins []Input, size int) []Result {
	c := newTestChecker(opts)
	chunks := make(chan []Prepared, 2)
	go func() {
		defer close(chunks)
		for i := 0; i < len(ins); i += size {
			var ps []Prepared
			for _, in := range ins[i:min(i+size, len(ins))] {
				ps = c.Prepare(ps, in)
			}
			chunks <- ps
		}
	}()
	var got []Result
	for ps := range chunks {
		got = c.AddPrepared(got, ps)
	}
	return append(got, c.Close()...)
}
