package validate

import (
	"errors"
	"strings"
	"testing"
)

func TestEmbeddedInstitutions(t *testing.T) {
	d := Institutions()
	if d.Len() != 511 {
		t.Errorf("embedded directory has %d institutions; want 511", d.Len())
	}
	tests := []struct {
		code string
		want Institution
	}{
		{"00000000", Institution{ISPB: "00000000", Code: "001", ShortName: "BCO DO BRASIL S.A.", LongName: "Banco do Brasil S.A.", TED: true}},
		{"001", Institution{ISPB: "00000000", Code: "001", ShortName: "BCO DO BRASIL S.A.", LongName: "Banco do Brasil S.A.", TED: true}},
		{"341", Institution{ISPB: "60701190", Code: "341", ShortName: "ITAÚ UNIBANCO S.A.", LongName: "ITAÚ UNIBANCO S.A.", TED: true}},
		{"00416968", Institution{ISPB: "00416968", Code: "077", ShortName: "BANCO INTER", LongName: "Banco Inter S.A.", TED: true}},
	}
	for _, tt := range tests {
		got, ok := d.Lookup(tt.code)
		if !ok || got != tt.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v", tt.code, got, ok, tt.want)
		}
	}
	for _, code := range []string{"1", "416968", "0001", "", "999", "99999999"} {
		if got, ok := d.Lookup(code); ok {
			t.Errorf("Lookup(%q) = %+v; want not found (Lookup is exact)", code, got)
		}
	}
}

func TestResolve(t *testing.T) {
	d := Institutions()
	tests := []struct {
		value    string
		kind     Kind
		ispb     string
		restored bool
		err      error
	}{
		{"341", Text, "60701190", false, nil},      // Itaú
		{"260", Text, "18236120", false, nil},      // Nu Pagamentos
		{"077", Text, "00416968", false, nil},      // Inter
		{"00416968", Text, "00416968", false, nil}, // Inter by ISPB
		{" 033 ", Text, "90400888", false, nil},    // Santander
		{"00000000", Text, "00000000", false, nil}, // Banco do Brasil: an all-zero ISPB is not "missing"
		{"1", Number, "00000000", true, nil},       // Banco do Brasil's 001 typed as a number
		{"77", Text, "00416968", true, nil},        // Inter's 077 through a CSV from Excel
		{"416968", Number, "00416968", true, nil},  // Inter's ISPB typed as a number
		{"416968.0", Number, "00416968", true, nil},
		{"0", Number, "00000000", true, nil},  // Banco do Brasil's ISPB typed as a number
		{"208", Text, "30306294", false, nil}, // BTG Pactual's code wins over ISPB 00000208 (BRB): 3 digits is exact
		{"197", Text, "", false, ErrStoneInstitution},
		{"16501555", Text, "", false, ErrStoneInstitution},
		{"60", Text, "", false, ErrNoTED},  // 060 Confidence CC: Internet, not RSFN
		{"555", Text, "", false, ErrNoTED}, // PAN Financeira: no network listed
		{"999", Text, "", false, ErrUnknownInstitution},
		{"12345678", Text, "", false, ErrUnknownInstitution},
		{"123456789", Text, "", false, ErrUnknownInstitution},
		{"Itaú", Text, "", false, ErrUnknownInstitution},
		{"", Text, "", false, ErrRequired},
	}
	for _, tt := range tests {
		got, restored, err := d.Resolve(tt.value, tt.kind)
		if got.ISPB != tt.ispb || restored != tt.restored || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Resolve(%q) = %s, %v, %v; want %s, %v, %v", tt.value, got.ISPB, restored, err, tt.ispb, tt.restored, tt.err)
		}
	}
	_, _, err := d.Resolve("197", Text)
	if want := "This is Stone (code 197, ISPB 16501555); a TED from Stone to a Stone account is not allowed. Pay this row with an internal transfer instead."; err == nil || err.Error() != want {
		t.Errorf("Stone message = %v", err)
	}
}

const strSample = "ISPB,Nome_Reduzido,Número_Código,Participa_da_Compe,Acesso_Principal,Nome_Extenso,Início_da_Operação\n" +
	"00000000,BCO DO BRASIL S.A.,001,Sim,RSFN,Banco do Brasil S.A.,22/04/2002\n" +
	"18236120,NU PAGAMENTOS - IP,260,Não,RSFN,NU PAGAMENTOS S.A. - INSTITUIÇÃO DE PAGAMENTO,14/11/2019\n" +
	"99999991,NOVA IP,n/a,Não,RSFN,NOVA INSTITUIÇÃO DE PAGAMENTO S.A.,01/08/2026\n" +
	"04913129,CONFIDENCE CC S.A.,60,Não,Internet,CONFIDENCE CORRETORA DE CAMBIO S.A.,01/01/2010\n"

func TestLoadParticipantsSTR(t *testing.T) {
	latin1 := make([]byte, 0, len(strSample))
	for _, r := range strSample {
		latin1 = append(latin1, byte(r)) // the sample has only Latin-1 letters
	}
	cp1252 := string(latin1)
	inputs := map[string]string{
		"utf-8":        strSample,
		"utf-8 bom":    "\xef\xbb\xbf" + strSample,
		"windows-1252": cp1252,
		"semicolons":   strings.ReplaceAll(strSample, ",", ";"),
		"crlf":         strings.ReplaceAll(strSample, "\n", "\r\n"),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			d, err := LoadParticipantsSTR(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != 4 {
				t.Errorf("Len = %d; want 4", d.Len())
			}
			nu, ok := d.Lookup("260") // Participa_da_Compe "Não" is kept
			if want := (Institution{ISPB: "18236120", Code: "260", ShortName: "NU PAGAMENTOS - IP", LongName: "NU PAGAMENTOS S.A. - INSTITUIÇÃO DE PAGAMENTO", TED: true}); !ok || nu != want {
				t.Errorf("Lookup(260) = %+v, %v; want %+v", nu, ok, want)
			}
			if in, ok := d.Lookup("99999991"); !ok || in.Code != "" {
				t.Errorf("participant without code: %+v, %v", in, ok)
			}
			if _, ok := d.Lookup("060"); !ok {
				t.Errorf("code 60 not padded to 060")
			}
			if _, _, err := d.Resolve("60", Text); !errors.Is(err, ErrNoTED) {
				t.Errorf("Internet access participant: err = %v; want ErrNoTED", err)
			}
			if _, _, err := d.Resolve("341", Text); !errors.Is(err, ErrUnknownInstitution) {
				t.Errorf("the loaded list replaces the embedded one: Itaú err = %v", err)
			}
		})
	}
}

func TestLoadParticipantsSTRErrors(t *testing.T) {
	tests := map[string]string{
		"empty":          "",
		"no rows":        "ISPB,Nome_Reduzido,Número_Código\n",
		"wrong header":   "Banco,Nome\n001,BB\n",
		"bad ISPB":       "ISPB,Nome_Reduzido,Número_Código\n123456789,X,001\n",
		"duplicate":      "ISPB,Nome_Reduzido,Número_Código\n00000000,BB,001\n00000000,BB2,002\n",
		"duplicate code": "ISPB,Nome_Reduzido,Número_Código\n00000000,BB,001\n00000001,BB2,1\n",
	}
	for name, in := range tests {
		if d, err := LoadParticipantsSTR(strings.NewReader(in)); err == nil {
			t.Errorf("%s: loaded %d institutions; want an error", name, d.Len())
		}
	}
}

func TestResolveAmbiguousPadding(t *testing.T) {
	// Code 001 and ISPB 00000001 belong to different participants: "1"
	// could be either once its zeros are gone.
	d, err := LoadParticipantsSTR(strings.NewReader("ISPB,Nome_Reduzido,Número_Código\n00000000,BCO DO BRASIL S.A.,001\n00000001,OUTRA IP,n/a\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = d.Resolve("1", Number)
	want := "The leading zeros were lost, and this could be bank code 001 (BCO DO BRASIL S.A.) or ISPB 00000001 (OUTRA IP): write the code with 3 digits or the ISPB with 8."
	if !errors.Is(err, ErrAmbiguousInstitution) || err.Error() != want {
		t.Errorf("Resolve(1) error = %v", err)
	}
	if in, restored, err := d.Resolve("001", Text); err != nil || restored || in.ISPB != "00000000" {
		t.Errorf("Resolve(001) = %+v, %v, %v", in, restored, err)
	}
}

func TestFieldError(t *testing.T) {
	_, err := CPF("529.982.247-26")
	fe := FieldError{Row: 5, Column: "CPF", Value: "529.982.247-26", Code: codeOf(err), Err: err}
	if want := `column "CPF": value "529.982.247-26": The CPF's check digits do not match: check the number with the payee.`; fe.Error() != want {
		t.Errorf("Error() = %q", fe.Error())
	}
	if fe.Code != "invalid_cpf" || ErrInvalidCPF.Code() != "invalid_cpf" || !errors.Is(fe, ErrInvalidCPF) || errors.Is(fe, ErrInvalidCNPJ) {
		t.Errorf("code %q, errors.Is broken", fe.Code)
	}
	var target FieldError
	if !errors.As(error(fe), &target) || target.Row != 5 {
		t.Errorf("errors.As failed")
	}
}
