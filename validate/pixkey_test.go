package validate

import (
	"errors"
	"testing"
)

func TestPixKey(t *testing.T) {
	for _, tc := range []struct {
		in, key, kind string
	}{
		{"529.982.247-25", "52998224725", PixKeyCPF},
		{"52998224725", "52998224725", PixKeyCPF},
		{"11.222.333/0001-81", "11222333000181", PixKeyCNPJ},
		{" Maria@Exemplo.COM.br", "maria@exemplo.com.br", PixKeyEmail},
		{"+55 (11) 98765-4321", "+5511987654321", PixKeyPhone},
		{"+551133334444", "+551133334444", PixKeyPhone},
		{"123E4567-E89B-12D3-A456-426614174000", "123e4567-e89b-12d3-a456-426614174000", PixKeyEVP},
	} {
		key, kind, err := PixKey(tc.in)
		if err != nil || key != tc.key || kind != tc.kind {
			t.Errorf("PixKey(%q) = %q, %q, %v; want %q, %q", tc.in, key, kind, err, tc.key, tc.kind)
		}
	}
	for _, in := range []string{
		"529.982.247-24",          // CPF check digit wrong
		"11.222.333/0001-80",      // CNPJ check digit wrong
		"11987654321",             // a phone without +55 is no CPF
		"+1 212 555 0100",         // not a Brazilian phone
		"maria@",                  // no domain
		"maria silva@x.com",       // a space
		"123e4567-e89b-12d3-a456", // a random key cut short
		"5299822472",              // 10 digits: zeros lost, not guessed
		"chave",
	} {
		if key, kind, err := PixKey(in); !errors.Is(err, ErrInvalidPixKey) {
			t.Errorf("PixKey(%q) = %q, %q, %v; want invalid_pix_key", in, key, kind, err)
		}
	}
	if _, _, err := PixKey("  "); !errors.Is(err, ErrRequired) {
		t.Errorf("blank key: %v, want required", err)
	}
}

// FuzzPixKey: a key PixKey accepts is normalised (accepting it again gives
// it back unchanged, of the same kind) and never longer than Stone allows.
func FuzzPixKey(f *testing.F) {
	for _, s := range []string{"529.982.247-25", "+55 (11) 98765-4321", "a@b.co", "123e4567-e89b-12d3-a456-426614174000", "11222333000181", "", "+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, kind, err := PixKey(s)
		if err != nil {
			if key != "" || kind != "" {
				t.Fatalf("error %v with key %q kind %q", err, key, kind)
			}
			return
		}
		if len([]rune(key)) > maxPixKey {
			t.Fatalf("key %q longer than %d", key, maxPixKey)
		}
		again, kind2, err := PixKey(key)
		if err != nil || again != key || kind2 != kind {
			t.Fatalf("PixKey(%q) = %q %q %v, not stable (kind %q)", key, again, kind2, err, kind)
		}
	})
}

func TestBankRail(t *testing.T) {
	for _, tc := range []struct {
		rail, typ  string
		want, code string
	}{
		{RailTED, "CC", RailTED, ""},
		{RailAuto, "CC", RailPix, ""},
		{RailAuto, "CD", RailTED, ""},
		{RailPix, "CC", RailPix, ""},
		{RailPix, "CD", "", "institution_not_pix"},
	} {
		c := NewChecker(Options{Today: testToday, BankRail: tc.rail})
		in := row(2)
		in.AccountType = text("Tipo", tc.typ)
		res := append(c.Add(in), c.Close()...)
		if len(res) != 1 {
			t.Fatalf("%d results", len(res))
		}
		r := res[0]
		switch {
		case tc.code != "":
			if r.Valid() || len(r.Errors) != 1 || r.Errors[0].Code != tc.code || r.Errors[0].Column != "Tipo" {
				t.Errorf("--rail %s, %s: valid %v errors %v; want %s at Tipo", tc.rail, tc.typ, r.Valid(), r.Errors, tc.code)
			}
		case !r.Valid() || RailOf(r.Payout) != tc.want:
			t.Errorf("--rail %s, %s: valid %v errors %v payout %+v; want rail %s", tc.rail, tc.typ, r.Valid(), r.Errors, r.Payout, tc.want)
		}
	}
}
