package validate

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzDocument(f *testing.F) {
	for _, s := range []string{"529.982.247-25", "11.222.333/0001-81", "00.000.000/0001-91", "12.ABC.345/01DE-35", "191", "360305000104", "4581743788", "111.111.111-11", "12abc34501de35", ""} {
		f.Add(s, "")
		f.Add(s, "cpf")
		f.Add(s, "cnpj")
	}
	f.Fuzz(func(t *testing.T, value, docType string) {
		d, err := Document(value, docType)
		if err != nil {
			if d != (Doc{}) {
				t.Fatalf("error %v with a document %+v", err, d)
			}
			if codeOf(err) == "invalid" {
				t.Fatalf("error without a rule: %v", err)
			}
			return
		}
		if docType != "" && d.Type != docType {
			t.Fatalf("type %q, asked for %q", d.Type, docType)
		}
		switch d.Type {
		case "cpf":
			if n, err := CPF(d.Number); err != nil || n != d.Number {
				t.Fatalf("Document gave CPF %q that CPF rejects: %v", d.Number, err)
			}
		case "cnpj":
			if n, err := CNPJ(d.Number); err != nil || n != d.Number {
				t.Fatalf("Document gave CNPJ %q that CNPJ rejects: %v", d.Number, err)
			}
		default:
			t.Fatalf("type %q", d.Type)
		}
		// Never changed silently: without the warning, the number is the
		// value minus its mask; with it, only zeros were put in front.
		n, _ := normalizeDocument(value)
		if !d.ZerosRestored && n != d.Number {
			t.Fatalf("value %q became %q without a warning", value, d.Number)
		}
		if d.ZerosRestored && (!strings.HasSuffix(d.Number, n) || strings.Trim(d.Number[:len(d.Number)-len(n)], "0") != "" || n != strings.TrimSpace(value)) {
			t.Fatalf("value %q restored as %q", value, d.Number)
		}
	})
}

// significant returns the digits of s without leading or trailing zeros.
func significant(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return strings.Trim(b.String(), "0")
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1234.56", "1.234,56", "1234,56", "R$ 1.234,56", "1.234", "1,234", "0,01", "-5", "21474836,47", "10.5000", "1,234,567.8", " R$-0,50 "} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, dec uint8) {
		conv := Decimal(dec % 3)
		cents, err := ParseAmount(s, conv)
		if err != nil {
			if cents != 0 || codeOf(err) == "invalid" {
				t.Fatalf("ParseAmount(%q) = %d, %v", s, cents, err)
			}
			return
		}
		if cents <= 0 || cents > MaxAmountCents {
			t.Fatalf("ParseAmount(%q) = %d: out of range", s, cents)
		}
		// No digit added, dropped or changed: only where the point goes.
		if significant(s) != significant(strconv.FormatInt(cents, 10)) {
			t.Fatalf("ParseAmount(%q) = %d: digits changed", s, cents)
		}
		// Formatted and read back, the amount is the same.
		if again, err := ParseAmount(FormatBRL(cents), DecimalAuto); err != nil || again != cents {
			t.Fatalf("ParseAmount(FormatBRL(%d) = %q) = %d, %v", cents, FormatBRL(cents), again, err)
		}
		if again, err := ParseAmount(FormatBRL(cents), DecimalComma); err != nil || again != cents {
			t.Fatalf("ParseAmount(%q, comma) = %d, %v", FormatBRL(cents), again, err)
		}
		// With no convention given, an accepted value reads the same under
		// every convention that can read it: nothing was guessed.
		if conv == DecimalAuto {
			for _, d := range []Decimal{DecimalComma, DecimalDot} {
				if other, err := ParseAmount(s, d); err == nil && other != cents {
					t.Fatalf("ParseAmount(%q) = %d, but %d under %v", s, cents, other, d)
				}
			}
		}
	})
}

func FuzzParseAmountNumber(f *testing.F) {
	for _, s := range []string{"76937.320000000022", "1234", "1.5E3", "0.30000000000000004", "1.0049999999999999", "21474836.47", "1E-5", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cents, err := ParseAmountNumber(raw)
		if err != nil {
			return
		}
		if cents <= 0 || cents > MaxAmountCents {
			t.Fatalf("ParseAmountNumber(%q) = %d: out of range", raw, cents)
		}
		exact, ok := new(big.Rat).SetString(strings.TrimSpace(raw))
		if !ok {
			t.Fatalf("ParseAmountNumber(%q) = %d for a value big.Rat cannot read", raw, cents)
		}
		diff := new(big.Rat).Sub(exact, big.NewRat(cents, 100))
		if diff.Abs(diff).Cmp(big.NewRat(1, 1000000)) > 0 {
			t.Fatalf("ParseAmountNumber(%q) = %d cents: more than 1e-6 away", raw, cents)
		}
	})
}

var (
	accountRe     = regexp.MustCompile(`^[1-9]\d{1,19}$`)
	branchRe      = regexp.MustCompile(`^\d{0,4}$`)
	institutionRe = regexp.MustCompile(`^\d{8}$`)
)

func FuzzChecker(f *testing.F) {
	f.Add("1.234,56", "529.982.247-25", "341", "1234", "12345-6", "CC", "", "Maria da Silva", uint8(0))
	f.Add("1.234", "191", "1", "", "12345678901234", "", "2026-12-01", " José  ", uint8(1))
	f.Add("76937.320000000022", "12ABC34501DE35", "416968", "0001", "00012-X", "pagamento", "01/12/2026", "ACME LTDA", uint8(2))
	f.Fuzz(func(t *testing.T, amount, doc, inst, branch, account, typ, date, name string, kinds uint8) {
		kind := func(bit uint8) Kind { return Kind(kinds >> bit & 1) } // Text or Number
		in := Input{
			Row:         7,
			Amount:      Cell{"Valor", amount, kind(0), true},
			Name:        text("Nome", name),
			Document:    Cell{"CPF", doc, kind(1), true},
			Institution: Cell{"Banco", inst, kind(2), true},
			Branch:      Cell{"Agência", branch, kind(3), true},
			Account:     Cell{"Conta", account, kind(4), true},
			AccountType: text("Tipo", typ),
			ScheduledTo: text("Data", date),
		}
		c := newTestChecker(Options{})
		res := append(c.Add(in), c.Close()...)
		if len(res) != 1 || res[0].Row != 7 {
			t.Fatalf("%d results", len(res))
		}
		r := res[0]
		for _, fe := range append(r.Errors, r.Warnings...) {
			if fe.Row != 7 || fe.Column == "" || fe.Code == "" || fe.Code == "invalid" || fe.Message() == "" {
				t.Fatalf("incomplete problem %+v", fe)
			}
		}
		if !r.Valid() {
			if r.Payout != nil {
				t.Fatalf("invalid row with a payout")
			}
			return
		}
		p := r.Payout
		a := p.Target.Account
		if !accountRe.MatchString(a.AccountCode) || !branchRe.MatchString(a.BranchCode) || !institutionRe.MatchString(a.InstitutionCode) {
			t.Fatalf("payout breaks Stone's formats: %+v", a)
		}
		if a.InstitutionCode == StoneISPB && RailOf(p) == RailTED {
			t.Fatalf("TED to Stone")
		}
		switch a.AccountType {
		case "PG":
			if a.BranchCode != "" {
				t.Fatalf("PG with branch %q", a.BranchCode)
			}
		case "CC":
			if a.BranchCode == "" || len(a.AccountCode) > 13 {
				t.Fatalf("CC breaks Stone's rules: %+v", a)
			}
		case "CD", "CG", "PP":
		default:
			t.Fatalf("account type %q", a.AccountType)
		}
		if p.Amount <= 0 || p.Amount > MaxAmountCents {
			t.Fatalf("amount %d", p.Amount)
		}
		e := p.Target.Entity
		if e.Name == "" || e.Name != strings.TrimSpace(e.Name) || strings.Contains(e.Name, "  ") {
			t.Fatalf("name %q", e.Name)
		}
		if !(e.DocumentType == "cpf" && len(e.Document) == 11 || e.DocumentType == "cnpj" && len(e.Document) == 14) {
			t.Fatalf("document %q %q", e.Document, e.DocumentType)
		}
	})
}

func FuzzLoadParticipantsSTR(f *testing.F) {
	f.Add(strSample)
	f.Add(strings.ReplaceAll(strSample, ",", ";"))
	f.Add("ISPB,Nome_Reduzido,Número_Código\n\"0000\"0000,\"BB\n")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := LoadParticipantsSTR(strings.NewReader(in))
		if err != nil {
			return
		}
		if d.Len() == 0 {
			t.Fatalf("no institutions and no error")
		}
		for ispb, inst := range d.byISPB {
			if got, ok := d.Lookup(ispb); !ok || got != inst || len(ispb) != 8 {
				t.Fatalf("Lookup(%q) = %+v, %v", ispb, got, ok)
			}
			if inst.Code != "" {
				if got, ok := d.Lookup(inst.Code); !ok || got != inst {
					t.Fatalf("Lookup(%q) = %+v, %v", inst.Code, got, ok)
				}
			}
		}
	})
}

// FuzzReadPlainAmount checks the one-pass reading of plain amounts against
// the general one: whatever it accepts, it must read exactly as
// readAmountText and evidence do.
func FuzzReadPlainAmount(f *testing.F) {
	for _, s := range []string{"10.37", "1234,5", "1234", "0,01", "0.00", "007.5", "21474836.47", "21474836.48", "1.234", "1,234.56", "12345678901", " 10.37", "R$ 10,00", "-5", "5.", ".5",
		"1.010,37", "1,010.37", "1.000.000,5", "12.345.678,90", "01.234,56", "1.23,45", "1.234.56", "1.234,567", "1.234.567", "1,234,56", "1.234,5.6", "21.474.836,47", "21.474.836,48"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ev, cents, ok := readPlainAmount(s)
		if !ok {
			return
		}
		want := readAmountText(s)
		wantEv, wantCents := want.evidence()
		if a != want || ev != wantEv || ev != DecimalAuto && cents != wantCents {
			t.Fatalf("%q: plain reading %+v evidence %v (%d cents); general %+v evidence %v (%d cents)", s, a, ev, cents, want, wantEv, wantCents)
		}
		// A plain amount is always a valid amount, under each reading it has.
		for _, r := range []struct {
			ok bool
			d  decimal
		}{{a.commaOK, a.comma}, {a.dotOK, a.dot}} {
			if !r.ok {
				continue
			}
			if c, err := r.d.cents(); err != nil || c != cents {
				t.Fatalf("%q: plain reading %d cents, general %d (%v)", s, cents, c, err)
			}
		}
	})
}

// FuzzCPFValid checks the one-pass check against the rule as written: 11
// digits, not all the same, each check digit from its weights.
func FuzzCPFValid(f *testing.F) {
	for _, s := range []string{"52998224725", "11111111111", "00000000000", "529982247-5", "5299822472a", "/2998224725", "12345678909"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, n string) {
		want := len(n) == 11 && allDigits(n) && strings.Count(n, n[:1]) != 11
		if want {
			for _, k := range []int{9, 10} {
				sum := 0
				for i := 0; i < k; i++ {
					sum += int(n[i]-'0') * (k + 1 - i)
				}
				d := 11 - sum%11
				if d >= 10 {
					d = 0
				}
				want = want && int(n[k]-'0') == d
			}
		}
		if got := cpfValid(n); got != want {
			t.Fatalf("cpfValid(%q) = %v, want %v", n, got, want)
		}
	})
}

// FuzzName checks that a name is refused as "not valid text" exactly when
// it is not valid UTF-8 (the character U+FFFD itself is valid), and that a
// name accepted is valid UTF-8 without control characters or stray spaces.
func FuzzName(f *testing.F) {
	for _, s := range []string{"Maria da Silva", "José  Conceição", " Ana ", "A\tB", "Jo\xe3o", "\ufffd", "Ana\u00a0Lima", "a\xc3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, err := Name(s)
		notText := err != nil && strings.Contains(err.Error(), "not valid text")
		if notText != !utf8.ValidString(s) {
			t.Fatalf("Name(%q) = %q, %v; valid UTF-8: %v", s, name, err, utf8.ValidString(s))
		}
		if err == nil && (!utf8.ValidString(name) || name == "" || name != strings.TrimSpace(name) || strings.Contains(name, "  ") || strings.ContainsFunc(name, unicode.IsControl)) {
			t.Fatalf("Name(%q) = %q", s, name)
		}
	})
}
