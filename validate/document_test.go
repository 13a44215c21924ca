package validate

import (
	"errors"
	"testing"
)

func TestCPF(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"529.982.247-25", "52998224725", nil},
		{"52998224725", "52998224725", nil},
		{" 529 982 247 25 ", "52998224725", nil},
		{"529.982.247-26", "", ErrInvalidCPF}, // second check digit off by one
		{"529.982.247-15", "", ErrInvalidCPF},
		{"111.111.111-11", "", ErrInvalidCPF}, // repeated digit: check digits work out, still rejected
		{"000.000.000-00", "", ErrInvalidCPF},
		{"5299822472", "", ErrInvalidCPF}, // 10 digits: CPF never pads
		{"529982247250", "", ErrInvalidCPF},
		{"529.982.247-2X", "", ErrInvalidCPF},
		{"", "", ErrRequired},
	}
	for _, tt := range tests {
		got, err := CPF(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("CPF(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestCNPJ(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"11.222.333/0001-81", "11222333000181", nil},
		{"00.000.000/0001-91", "00000000000191", nil},   // Banco do Brasil
		{"12.ABC.345/01DE-35", "12ABC34501DE35", nil},   // RFB's alphanumeric example
		{"12.abc.345/01de-35", "12ABC34501DE35", nil},   // lower case accepted
		{"12ABC34501DE35", "12ABC34501DE35", nil},       // unmasked
		{"12.ABC.345/01DE-36", "", ErrInvalidCNPJ},      // wrong check digit
		{"12.ABC.345/01DE-3A", "", ErrInvalidCNPJ},      // check digits are numeric
		{"11.222.333/0001-82", "", ErrInvalidCNPJ},      // wrong check digit
		{"00.000.000/0000-00", "", ErrInvalidCNPJ},      // all zeros
		{"1122233300018", "", ErrInvalidCNPJ},           // 13 digits: CNPJ never pads
		{"11.222.333/0001-81 ltda", "", ErrInvalidCNPJ}, // stray text
		{"11.222.333\\0001-81", "", ErrInvalidCNPJ},     // backslash is not a mask
		{"", "", ErrRequired},
	}
	for _, tt := range tests {
		got, err := CNPJ(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("CNPJ(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestDocument(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		docType string
		want    Doc
		err     error
		msg     string // exact message, when given
	}{
		{"masked CPF", "529.982.247-25", "", Doc{"52998224725", "cpf", false, ""}, nil, ""},
		{"CPF with type", "52998224725", "cpf", Doc{"52998224725", "cpf", false, ""}, nil, ""},
		{"numeric CNPJ", "11.222.333/0001-81", "", Doc{"11222333000181", "cnpj", false, ""}, nil, ""},
		{"alphanumeric CNPJ", "12.abc.345/01de-35", "cnpj", Doc{"12ABC34501DE35", "cnpj", false, ""}, nil, ""},
		{"CPF said to be CNPJ", "529.982.247-25", "cnpj", Doc{}, ErrDocumentTypeMismatch,
			"The document type says CNPJ, but the value is a valid CPF (529.982.247-25)."},
		{"CNPJ said to be CPF", "11222333000181", "cpf", Doc{}, ErrDocumentTypeMismatch, ""},
		{"alphanumeric said to be CPF", "12ABC34501DE35", "cpf", Doc{}, ErrDocumentTypeMismatch, ""},
		// Caixa's CNPJ 00.360.305/0001-04 after Excel dropped two zeros.
		{"CNPJ lost zeros", "360305000104", "", Doc{"00360305000104", "cnpj", true, ""}, nil, ""},
		{"CPF lost zeros", "4581743788", "", Doc{"04581743788", "cpf", true, ""}, nil, ""},
		{"CNPJ lost zeros, 10 digits", "8935261775", "", Doc{"00008935261775", "cnpj", true, ""}, nil, ""},
		// 191 pads to CPF 000.000.001-91 and to Banco do Brasil's CNPJ.
		{"ambiguous", "191", "", Doc{}, ErrAmbiguousDocument,
			"This number lost its leading zeros and could be the CPF 000.000.001-91 or the CNPJ 00.000.000/0001-91: write it in full, or fill the document type column."},
		// Every CPF starting with 00 pads to a valid CNPJ too; a 9-digit value
		// is read as the CPF, and the warning names the CNPJ reading.
		{"9-digit CPF that also pads to a CNPJ", "516761250", "", Doc{"00516761250", "cpf", true, "00000516761250"}, nil, ""},
		{"9-digit value said to be a CNPJ", "516761250", "cnpj", Doc{"00000516761250", "cnpj", true, ""}, nil, ""},
		{"ambiguous settled by type cnpj", "191", "cnpj", Doc{"00000000000191", "cnpj", true, ""}, nil, ""},
		{"ambiguous settled by type cpf", "191", "cpf", Doc{"00000000191", "cpf", true, ""}, nil, ""},
		// An exact 11-digit CPF is not a guess, even when 000+value is a valid CNPJ.
		{"11-digit CPF that also pads to a CNPJ", "47161455308", "", Doc{"47161455308", "cpf", false, ""}, nil, ""},
		{"11-digit CNPJ that lost 3 zeros", "10000000091", "", Doc{"00010000000091", "cnpj", true, ""}, nil, ""},
		{"masked value is never padded", "98.224.725", "", Doc{}, ErrInvalidDocument, ""},
		{"short, pads to nothing", "12345", "", Doc{}, ErrInvalidDocument, ""},
		{"11 digits, bad CPF", "52998224726", "", Doc{}, ErrInvalidCPF, ""},
		{"14 digits, bad CNPJ", "11222333000182", "", Doc{}, ErrInvalidCNPJ, ""},
		{"zero", "0", "", Doc{}, ErrInvalidDocument, ""},
		{"15 digits", "112223330001810", "", Doc{}, ErrInvalidDocument, ""},
		{"letters, wrong length", "12ABC34501DE3", "", Doc{}, ErrInvalidDocument, ""},
		{"other characters", "529*982*247-25", "", Doc{}, ErrInvalidDocument, ""},
		{"empty", "  ", "", Doc{}, ErrRequired, ""},
		{"bad type", "52998224725", "rg", Doc{}, ErrInvalidDocumentType, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Document(tt.value, tt.docType)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("Document(%q, %q) = %+v, %v; want %+v, %v", tt.value, tt.docType, got, err, tt.want, tt.err)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("message = %q\nwant      %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestDocumentType(t *testing.T) {
	for in, want := range map[string]string{"": "", "CPF": "cpf", " cnpj ": "cnpj", "Pj": "cnpj", "pf": "cpf"} {
		if got, err := DocumentType(in); got != want || err != nil {
			t.Errorf("DocumentType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := DocumentType("RG"); !errors.Is(err, ErrInvalidDocumentType) {
		t.Errorf("DocumentType(RG) error = %v", err)
	}
}
