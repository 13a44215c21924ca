package i18n

import (
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		flag string
		env  map[string]string
		want string
		err  bool
	}{
		{"", nil, "en", false},
		{"pt-BR", nil, "pt-BR", false},
		{"pt_br", map[string]string{"LOTE_LANG": "en"}, "pt-BR", false},
		{"en", map[string]string{"LANG": "pt_BR.UTF-8"}, "en", false},
		{"", map[string]string{"LOTE_LANG": "pt", "LANG": "en_US.UTF-8"}, "pt-BR", false},
		{"", map[string]string{"LANG": "pt_BR.UTF-8"}, "pt-BR", false},
		{"", map[string]string{"LC_ALL": "C", "LANG": "pt_BR.UTF-8"}, "en", false},
		{"", map[string]string{"LC_MESSAGES": "pt_PT.UTF-8@euro", "LANG": "en_GB"}, "pt-BR", false},
		{"", map[string]string{"LANG": "de_DE.UTF-8"}, "en", false}, // a locale lote does not speak
		{"de", nil, "en", true},
		{"", map[string]string{"LOTE_LANG": "fr"}, "en", true},
	}
	for _, tt := range tests {
		got, err := FromEnv(tt.flag, func(k string) string { return tt.env[k] })
		if Code(got) != tt.want || (err != nil) != tt.err {
			t.Errorf("FromEnv(%q, %v) = %s, %v; want %s, error %v", tt.flag, tt.env, Code(got), err, tt.want, tt.err)
		}
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	for h, want := range map[string]string{
		"":                                   "en",
		"pt-BR,pt;q=0.9,en-US;q=0.8":         "pt-BR",
		"pt":                                 "pt-BR",
		"en-US,en;q=0.9,pt-BR;q=0.8":         "en",
		"de-DE,de;q=0.9":                     "en",
		"de-DE,pt-BR;q=0.5":                  "pt-BR",
		"garbage;;;q=x":                      "en",
		"fr-FR, fr;q=0.9, en;q=0.8, *;q=0.5": "en",
	} {
		if got := Code(FromAcceptLanguage(h)); got != want {
			t.Errorf("FromAcceptLanguage(%q) = %s, want %s", h, got, want)
		}
	}
}

func TestFormats(t *testing.T) {
	pt, en := New(Portuguese), New(English)
	at := time.Date(2026, 12, 5, 17, 3, 0, 0, time.UTC) // 14:03 in Brasília
	checks := []struct{ got, want string }{
		{pt.Money(123456), "R$ 1.234,56"},
		{en.Money(123456), "R$ 1.234,56"},
		{pt.Money(-5), "-R$ 0,05"},
		{pt.Money(100000000000), "R$ 1.000.000.000,00"},
		{pt.Date(at), "05/12/2026"},
		{en.Date(at), "2026-12-05"},
		{pt.DateTime(at), "05/12/2026 14:03"},
		{pt.Int(1234567), "1.234.567"},
		{en.Int(1234567), "1234567"},
		{pt.T("Rows"), "Linhas"},
		{en.T("Rows"), "Rows"},
		{pt.T("Page %d of %d (%d rows)", 1, 2, 1500), "Página 1 de 2 (1.500 linhas)"},
		{en.T("Page %d of %d (%d rows)", 1, 2, 1500), "Page 1 of 2 (1500 rows)"},
		{pt.T("not in the catalogue: %s", "x"), "not in the catalogue: x"},
		{pt.Lookup("needs_review"), "precisa de revisão"},
		{pt.Lookup("100% made"), "100% made"},
		{(*Printer)(nil).T("a %s", "b"), "a b"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
