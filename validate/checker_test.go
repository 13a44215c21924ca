package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testToday = time.Date(2026, 11, 23, 9, 0, 0, 0, saoPaulo())

func text(column, value string) Cell {
	return Cell{Column: column, Value: value, Kind: Text, Present: true}
}

// row returns a valid row paying R$ 1.234,56 to Maria at Itaú (341),
// with the headers a Brazilian user would write.
func row(n int) Input {
	return Input{
		Row:          n,
		Amount:       text("Valor", "1.234,56"),
		AmountCents:  Cell{Column: "valor_centavos"},
		Name:         text("Favorecido", "Maria da Silva"),
		Document:     text("CPF/CNPJ", "529.982.247-25"),
		DocumentType: Cell{Column: "tipo_documento"},
		Institution:  text("Banco", "341"),
		Branch:       text("Agência", "1234"),
		Account:      text("Conta", "12345-6"),
		AccountType:  text("Tipo de conta", "CC"),
		ScheduledTo:  Cell{Column: "data_agendamento"},
		Reference:    text("Referência", "NF-"+strconv.Itoa(n)),
	}
}

func newTestChecker(opts Options) *Checker {
	if opts.Today.IsZero() {
		opts.Today = testToday
	}
	return NewChecker(opts)
}

func TestCheckerValidRow(t *testing.T) {
	c := newTestChecker(Options{})
	res := c.Add(row(2))
	if len(res) != 1 {
		t.Fatalf("Add returned %d results; want 1", len(res))
	}
	r := res[0]
	if !r.Valid() || len(r.Warnings) != 0 {
		t.Fatalf("row 2: errors %v, warnings %v", r.Errors, r.Warnings)
	}
	body, _ := json.Marshal(r.Payout)
	want := `{"amount":123456,"target":{"account":{"account_code":"123456","branch_code":"1234","institution_code":"60701190","account_type":"CC"},"entity":{"name":"Maria da Silva","document":"52998224725","document_type":"cpf"}}}`
	if string(body) != want {
		t.Errorf("payout =\n%s\nwant\n%s", body, want)
	}
	if r.Institution.Code != "341" || r.Institution.ShortName != "ITAÚ UNIBANCO S.A." || r.Reference != "NF-2" {
		t.Errorf("institution %+v, reference %q", r.Institution, r.Reference)
	}
	if more := c.Close(); len(more) != 0 {
		t.Errorf("Close returned %d results; want 0", len(more))
	}
}

// problem is what a user sees of one FieldError.
type problem1 struct {
	Row    int
	Column string
	Value  string
	Code   string
}

func problems(fes []FieldError) []problem1 {
	var out []problem1
	for _, fe := range fes {
		out = append(out, problem1{fe.Row, fe.Column, fe.Value, fe.Code})
	}
	return out
}

func equalProblems(a, b []problem1) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCheckerRows(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(in *Input)
		errors   []problem1
		warnings []problem1
		check    func(t *testing.T, p *Payout)
	}{
		{
			name: "Excel lost the zeros of Banco do Brasil's code and of a CNPJ",
			edit: func(in *Input) {
				in.Institution = Cell{"Banco", "1", Number, true}
				in.Document = Cell{"CPF/CNPJ", "360305000104", Number, true}
			},
			warnings: []problem1{{2, "CPF/CNPJ", "360305000104", "document_zeros_restored"}, {2, "Banco", "1", "institution_zeros_restored"}},
			check: func(t *testing.T, p *Payout) {
				if p.Target.Account.InstitutionCode != "00000000" || p.Target.Entity.Document != "00360305000104" || p.Target.Entity.DocumentType != "cnpj" {
					t.Errorf("payout %+v", p.Target)
				}
			},
		},
		{
			name:     "Inter's ISPB typed as a number",
			edit:     func(in *Input) { in.Institution = Cell{"ISPB", "416968", Number, true} },
			warnings: []problem1{{2, "ISPB", "416968", "institution_zeros_restored"}},
			check: func(t *testing.T, p *Payout) {
				if p.Target.Account.InstitutionCode != "00416968" {
					t.Errorf("institution_code %q", p.Target.Account.InstitutionCode)
				}
			},
		},
		{
			name: "an account at Stone goes by internal transfer",
			edit: func(in *Input) { in.Institution = text("Banco", "197") },
			check: func(t *testing.T, p *Payout) {
				if p.Rail != RailInternal || p.Target.Account.InstitutionCode != StoneISPB || p.Target.Account.AccountCode == "" {
					t.Errorf("payout %+v, want an internal transfer to the Stone account", p)
				}
			},
		},
		{
			name: "a Pix key without bank data",
			edit: func(in *Input) {
				in.PixKey = text("Chave Pix", " Maria.Silva@Example.com.br ")
				in.Institution, in.Branch, in.Account, in.AccountType = Cell{}, Cell{}, Cell{}, Cell{}
			},
			check: func(t *testing.T, p *Payout) {
				if p.Rail != RailPix || p.PixKey != "maria.silva@example.com.br" || p.PixKeyKind != PixKeyEmail ||
					p.Target.Account != (PayoutAccount{}) || p.Target.Entity.Name == "" {
					t.Errorf("payout %+v, want a Pix to the e-mail key with the payee's name", p)
				}
			},
		},
		{
			name:     "a Pix key beside bank data is paid to the key, with a warning",
			edit:     func(in *Input) { in.PixKey = text("Chave Pix", "+55 (11) 98765-4321") },
			warnings: []problem1{{2, "Banco", "341", "bank_data_not_used"}},
			check: func(t *testing.T, p *Payout) {
				if p.Rail != RailPix || p.PixKey != "+5511987654321" || p.Target.Account != (PayoutAccount{}) {
					t.Errorf("payout %+v, want a Pix to the phone key and no account", p)
				}
			},
		},
		{
			name:     "an invalid Pix key",
			edit:     func(in *Input) { in.PixKey = text("Chave Pix", "123.456.789-00") },
			errors:   []problem1{{2, "Chave Pix", "123.456.789-00", "invalid_pix_key"}},
			warnings: []problem1{{2, "Banco", "341", "bank_data_not_used"}},
		},
		{
			name:   "unknown bank",
			edit:   func(in *Input) { in.Institution = text("Banco", "999") },
			errors: []problem1{{2, "Banco", "999", "unknown_institution"}},
		},
		{
			name:   "letter check digit at Banco do Brasil",
			edit:   func(in *Input) { in.Institution = text("Banco", "001"); in.Account = text("Conta", "12345-X") },
			errors: []problem1{{2, "Conta", "12345-X", "account_check_letter"}},
		},
		{
			name: "payment account drops its branch",
			edit: func(in *Input) {
				in.Institution = text("Banco", "260")
				in.AccountType = text("Tipo de conta", "pagamento")
			},
			warnings: []problem1{{2, "Tipo de conta", "pagamento", "account_type_changed"}},
			check: func(t *testing.T, p *Payout) {
				if a := p.Target.Account; a.AccountType != "PG" || a.BranchCode != "" || a.InstitutionCode != "18236120" {
					t.Errorf("account %+v", a)
				}
			},
		},
		{
			name:     "no branch, no type: PG",
			edit:     func(in *Input) { in.Branch = Cell{Column: "Agência"}; in.AccountType = Cell{} },
			warnings: []problem1{{2, "account_type", "", "account_type_changed"}},
			check: func(t *testing.T, p *Payout) {
				if a := p.Target.Account; a.AccountType != "PG" || a.BranchCode != "" {
					t.Errorf("account %+v", a)
				}
			},
		},
		{
			name:   "branch with check digit",
			edit:   func(in *Input) { in.Branch = text("Agência", "1234-5") },
			errors: []problem1{{2, "Agência", "1234-5", "invalid_branch"}},
		},
		{
			name:   "everything missing",
			edit:   func(in *Input) { *in = Input{Row: 2} },
			errors: []problem1{{2, "name", "", "missing_name"}, {2, "document", "", "required"}, {2, "institution_code", "", "required"}, {2, "account_code", "", "required"}, {2, "amount", "", "required"}},
		},
		{
			name:   "amount and amount in cents both filled",
			edit:   func(in *Input) { in.AmountCents = text("valor_centavos", "123456") },
			errors: []problem1{{2, "valor_centavos", "123456", "invalid_amount"}},
		},
		{
			name: "amount in cents",
			edit: func(in *Input) { in.Amount = Cell{}; in.AmountCents = text("valor_centavos", "123456") },
			check: func(t *testing.T, p *Payout) {
				if p.Amount != 123456 {
					t.Errorf("amount %d", p.Amount)
				}
			},
		},
		{
			name: "number cell amount",
			edit: func(in *Input) { in.Amount = Cell{"Valor", "76937.320000000022", Number, true} },
			check: func(t *testing.T, p *Payout) {
				if p.Amount != 7693732 {
					t.Errorf("amount %d; want 7693732", p.Amount)
				}
			},
		},
		{
			name:   "document type disagrees",
			edit:   func(in *Input) { in.DocumentType = text("tipo_documento", "CNPJ") },
			errors: []problem1{{2, "CPF/CNPJ", "529.982.247-25", "document_type_mismatch"}},
		},
		{
			name:   "ambiguous short document",
			edit:   func(in *Input) { in.Document = Cell{"CPF/CNPJ", "191", Number, true} },
			errors: []problem1{{2, "CPF/CNPJ", "191", "ambiguous_document"}},
		},
		{
			name: "scheduled date",
			edit: func(in *Input) { in.ScheduledTo = Cell{"data_agendamento", "2026-12-01", Date, true} },
			check: func(t *testing.T, p *Payout) {
				if p.ScheduledTo != "2026-12-01" {
					t.Errorf("scheduled_to %q", p.ScheduledTo)
				}
			},
		},
		{
			name:     "past date is sent at once",
			edit:     func(in *Input) { in.ScheduledTo = text("data_agendamento", "20/11/2026") },
			warnings: []problem1{{2, "data_agendamento", "20/11/2026", "date_in_past"}},
			check: func(t *testing.T, p *Payout) {
				if p.ScheduledTo != "" {
					t.Errorf("scheduled_to %q; want none", p.ScheduledTo)
				}
			},
		},
		{
			name:   "date too far",
			edit:   func(in *Input) { in.ScheduledTo = text("data_agendamento", "01/01/2028") },
			errors: []problem1{{2, "data_agendamento", "01/01/2028", "date_too_far"}},
		},
		{
			name:   "name with a line break",
			edit:   func(in *Input) { in.Name = text("Favorecido", "Maria\nSilva") },
			errors: []problem1{{2, "Favorecido", "Maria\nSilva", "invalid_name"}},
		},
		{
			// Longer than a TED carries (MaxNameLen); before, a 45 MB name
			// was a valid payee.
			name:   "name too long",
			edit:   func(in *Input) { in.Name = text("Favorecido", strings.Repeat("Maria ", 14)) },
			errors: []problem1{{2, "Favorecido", strings.Repeat("Maria ", 14), "name_too_long"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := row(2)
			tt.edit(&in)
			res := newTestChecker(Options{}).Add(in)
			if len(res) != 1 {
				t.Fatalf("Add returned %d results", len(res))
			}
			r := res[0]
			if got := problems(r.Errors); !equalProblems(got, tt.errors) {
				t.Errorf("errors = %+v\nwant %+v", got, tt.errors)
			}
			if got := problems(r.Warnings); !equalProblems(got, tt.warnings) {
				t.Errorf("warnings = %+v\nwant %+v", got, tt.warnings)
			}
			if r.Valid() != (len(tt.errors) == 0) {
				t.Errorf("Valid() = %v with errors %v", r.Valid(), r.Errors)
			}
			if tt.check != nil && r.Payout != nil {
				tt.check(t, r.Payout)
			}
		})
	}
}

// add feeds amounts (row 2 onwards) and collects every result, Close included.
func addAmounts(c *Checker, amounts ...string) (perAdd []int, all []Result) {
	for i, a := range amounts {
		in := row(i + 2)
		in.Amount = text("Valor", a)
		in.Reference = Cell{}
		in.Account = text("Conta", strconv.Itoa(100000+i)) // distinct rows, not duplicates
		res := c.Add(in)
		perAdd = append(perAdd, len(res))
		all = append(all, res...)
	}
	all = append(all, c.Close()...)
	return perAdd, all
}

func TestCheckerInfersDecimalConvention(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		amounts []string
		perAdd  []int   // results returned by each Add
		cents   []int64 // per row; 0 when the row has an amount error
		codes   []string
	}{
		{
			name:    "later comma resolves earlier ambiguous value",
			amounts: []string{"1.234", "1.234,56"},
			perAdd:  []int{0, 2},
			cents:   []int64{123400, 123456},
			codes:   []string{"", ""},
		},
		{
			name:    "later dot resolves earlier ambiguous value, which then has 3 decimals",
			amounts: []string{"1.234", "10.50"},
			perAdd:  []int{0, 2},
			cents:   []int64{0, 1050},
			codes:   []string{"amount_too_many_decimals", ""},
		},
		{
			name:    "only ambiguous values: errors at Close",
			amounts: []string{"1.234", "2.500"},
			perAdd:  []int{0, 0},
			cents:   []int64{0, 0},
			codes:   []string{"ambiguous_amount", "ambiguous_amount"},
		},
		{
			name:    "rows without separators do not wait",
			amounts: []string{"100", "1.234", "5", "1.234,00"},
			perAdd:  []int{1, 0, 0, 3},
			cents:   []int64{10000, 123400, 500, 123400},
			codes:   []string{"", "", "", ""},
		},
		{
			name:    "evidence first: no wait",
			amounts: []string{"99,90", "1.234"},
			perAdd:  []int{1, 1},
			cents:   []int64{9990, 123400},
			codes:   []string{"", ""},
		},
		{
			name:    "explicit dot option",
			opts:    Options{Decimal: DecimalDot},
			amounts: []string{"1,234", "1.234"},
			perAdd:  []int{1, 1},
			cents:   []int64{123400, 0},
			codes:   []string{"", "amount_too_many_decimals"},
		},
		{
			name:    "mixed file warns on the odd value",
			amounts: []string{"1.234,56", "1234.56"},
			perAdd:  []int{1, 1},
			cents:   []int64{123456, 123456},
			codes:   []string{"", "amount_mixed_convention"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perAdd, all := addAmounts(newTestChecker(tt.opts), tt.amounts...)
			if len(all) != len(tt.amounts) {
				t.Fatalf("%d results for %d rows", len(all), len(tt.amounts))
			}
			for i, n := range tt.perAdd {
				if perAdd[i] != n {
					t.Errorf("Add of row %d returned %d results; want %d", i+2, perAdd[i], n)
				}
			}
			for i, r := range all {
				if r.Row != i+2 {
					t.Fatalf("result %d is row %d; want row %d (rows in order)", i, r.Row, i+2)
				}
				var got int64
				if r.Payout != nil {
					got = r.Payout.Amount
				}
				code := ""
				for _, fe := range append(r.Errors, r.Warnings...) {
					code = fe.Code
				}
				if got != tt.cents[i] || code != tt.codes[i] {
					t.Errorf("row %d (%q): %d cents, code %q; want %d, %q", r.Row, tt.amounts[i], got, code, tt.cents[i], tt.codes[i])
				}
			}
		})
	}
}

func TestCheckerAmbiguousMessage(t *testing.T) {
	_, all := addAmounts(newTestChecker(Options{}), "1.234")
	fe := all[0].Errors[0]
	want := `column "Valor": value "1.234": This could be R$ 1.234,00 if "." separates thousands, or R$ 1,234 (not a valid amount) if "." is the decimal separator; ` +
		`no other amount in the file shows which separator it uses. Write it with both separators or with two decimals (like 1.234,00), or give the file's decimal separator: --decimal comma reads it as R$ 1.234,00, --decimal dot as R$ 1,234 (not a valid amount).`
	if fe.Error() != want || fe.Row != 2 || !errors.Is(fe, ErrAmbiguousAmount) {
		t.Errorf("error = %v (row %d)\nwant %s", fe, fe.Row, want)
	}
}

func TestCheckerWaitIsBounded(t *testing.T) {
	c := newTestChecker(Options{})
	amounts := make([]string, MaxAmbiguousWait+1)
	for i := range amounts {
		amounts[i] = "1.234"
	}
	amounts[MaxAmbiguousWait] = "1.234,56"
	perAdd, all := addAmounts(c, amounts...)
	if perAdd[MaxAmbiguousWait-1] != MaxAmbiguousWait {
		t.Fatalf("Add of the last held row returned %d results; want %d", perAdd[MaxAmbiguousWait-1], MaxAmbiguousWait)
	}
	for i := 0; i < MaxAmbiguousWait-1; i++ {
		if perAdd[i] != 0 {
			t.Fatalf("Add %d returned %d results early", i, perAdd[i])
		}
	}
	if !errors.Is(all[0].Errors[0], ErrAmbiguousAmount) || all[MaxAmbiguousWait].Payout.Amount != 123456 {
		t.Errorf("first row %v; last row %+v", all[0].Errors, all[MaxAmbiguousWait].Payout)
	}
}

func TestCheckerDuplicates(t *testing.T) {
	c := newTestChecker(Options{})
	first := c.Add(row(2))
	second := c.Add(row(3))
	other := row(4)
	other.Amount = text("Valor", "1.234,57")
	third := c.Add(other)
	if !first[0].Valid() || !third[0].Valid() {
		t.Fatalf("rows 2 and 4 should be valid: %v %v", first[0].Errors, third[0].Errors)
	}
	want := []problem1{{3, "Valor", "1.234,56", "duplicate_row"}}
	if got := problems(second[0].Errors); !equalProblems(got, want) {
		t.Fatalf("row 3 errors %+v; want %+v", got, want)
	}
	if msg := second[0].Errors[0].Message(); msg != "Row 2 has the same payee, bank, branch, account, amount and date; paying both would pay twice. Remove one, or allow duplicates if both payments are intended." {
		t.Errorf("message %q", msg)
	}

	// Same payment written differently (masked vs bare CPF, 0341 account zeros) is still a duplicate.
	same := row(5)
	same.Document = text("CPF/CNPJ", "52998224725")
	same.Account = text("Conta", "00123456")
	same.Amount = text("Valor", "1234,56")
	if r := c.Add(same); len(r[0].Errors) != 1 || r[0].Errors[0].Code != "duplicate_row" {
		t.Errorf("row 5 errors %v", r[0].Errors)
	}

	allow := newTestChecker(Options{AllowDuplicates: true})
	allow.Add(row(2))
	if r := allow.Add(row(3)); !r[0].Valid() {
		t.Errorf("AllowDuplicates: row 3 errors %v", r[0].Errors)
	}
}

func TestCheckerOwnDirectory(t *testing.T) {
	d, err := LoadParticipantsSTR(strings.NewReader(strSample))
	if err != nil {
		t.Fatal(err)
	}
	in := row(2)
	in.Institution = text("Banco", "99999991") // in the loaded list only
	r := newTestChecker(Options{Institutions: d}).Add(in)[0]
	if !r.Valid() || r.Payout.Target.Account.InstitutionCode != "99999991" {
		t.Errorf("errors %v", r.Errors)
	}
}

// Payouts share allocations across rows: each valid row must still keep
// its own payout, whatever rows come after it, in one call or many.
func TestCheckerPayoutsStayPerRow(t *testing.T) {
	c := newTestChecker(Options{})
	var all []Result
	var batch []Input
	for n := 2; n <= 1001; n++ {
		in := row(n)
		in.Amount = text("Valor", strconv.Itoa(n)+",00")
		batch = append(batch, in)
		if n%7 == 0 || n == 1001 { // batches of uneven sizes
			all = c.AddAll(all, batch)
			batch = batch[:0]
		}
	}
	all = append(all, c.Close()...)
	if len(all) != 1000 {
		t.Fatalf("%d results, want 1000", len(all))
	}
	for i, r := range all {
		if !r.Valid() || r.Row != i+2 || r.Payout.Amount != int64(r.Row)*100 {
			t.Fatalf("result %d: row %d valid %v payout %+v errors %v, want row %d paying %d cents", i, r.Row, r.Valid(), r.Payout, r.Errors, i+2, (i+2)*100)
		}
	}
	all[0].Payout.Amount = -1 // a caller may change its own payout
	if all[1].Payout.Amount != 300 {
		t.Errorf("changing row 2's payout changed row 3's to %d", all[1].Payout.Amount)
	}
}

// With ReusePayouts, each call's payouts read as without it while the
// caller uses them, over calls that release held-back rows (row 2's amount
// waits until row 300 shows the decimal comma) and calls that need more
// payouts than one slab holds.
func TestCheckerReusePayouts(t *testing.T) {
	var calls [][]Input
	for start := 2; start < 2000; start += 250 {
		var ins []Input
		for n := start; n < start+250; n++ {
			in := row(n)
			in.Account = text("Conta", strconv.Itoa(10000+n))
			switch {
			case n == 2:
				in.Amount = text("Valor", "1.234")
			case n < 300:
				in.Amount = text("Valor", strconv.Itoa(n))
			}
			ins = append(ins, in)
		}
		calls = append(calls, ins)
	}
	see := func(res []Result) []string {
		var s []string
		for _, r := range res {
			if r.Payout == nil {
				t.Fatalf("row %d: %v", r.Row, r.Errors)
			}
			s = append(s, fmt.Sprintf("%d %+v", r.Row, *r.Payout))
		}
		return s
	}
	plain, reuse := newTestChecker(Options{}), newTestChecker(Options{ReusePayouts: true})
	rows := 0
	for i, ins := range calls {
		want, got := see(plain.AddAll(nil, ins)), see(reuse.AddAll(nil, ins))
		if !slices.Equal(got, want) {
			t.Fatalf("call %d: reusing payouts\n%q\nwant\n%q", i, got, want)
		}
		rows += len(got)
		if i == 0 && len(got) != 0 || i == 1 && len(got) != 500 {
			t.Fatalf("test setup: call %d returned %d rows", i, len(got))
		}
	}
	if rows != 2000 {
		t.Fatalf("%d rows; want 2000", rows)
	}
}
