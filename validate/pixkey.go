package validate

import (
	"regexp"
	"strings"
)

// Rails: how a payout reaches its payee. The zero value of Payout.Rail is
// RailTED, so payouts stored before rails existed stay TEDs.
const (
	RailTED      = "ted"      // an external transfer (stone-api.md §2)
	RailInternal = "internal" // an internal transfer to a Stone account (§3.1)
	RailPix      = "pix"      // a Pix, to a key or to bank data (§3.2)
)

// RailOf returns the rail a payout goes by.
func RailOf(p *Payout) string {
	if p.Rail == "" {
		return RailTED
	}
	return p.Rail
}

// Kinds of Pix key, as the DICT names them.
const (
	PixKeyCPF   = "cpf"
	PixKeyCNPJ  = "cnpj"
	PixKeyEmail = "email"
	PixKeyPhone = "phone"
	PixKeyEVP   = "evp" // a random key
)

var (
	ErrInvalidPixKey = &Rule{"invalid_pix_key", "is not a valid Pix key"}
	// WarnBankDataNotUsed is a warning: the row has a Pix key and bank
	// data, and is paid to the key.
	WarnBankDataNotUsed = &Rule{"bank_data_not_used", "is not used: the row is paid to its Pix key"}
)

var (
	pixEmailRe = regexp.MustCompile(`^[a-z0-9.!#$%&'*+/=?^_` + "`" + `{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$`)
	pixPhoneRe = regexp.MustCompile(`^\+55[1-9][0-9]{9,10}$`)
	pixEVPRe   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// maxPixKey is the longest key Stone accepts (criar-pagamento-pendente).
const maxPixKey = 77

// PixKey checks a Pix key as a sheet holds it and returns it as the DICT
// stores it, with its kind: a CPF or CNPJ (digits, masked or not, check
// digits verified), an e-mail (lower case), a +55 phone (spaces, dashes and
// parentheses dropped) or a random key (a UUID, lower case). A number that
// lost its leading zeros in Excel is not a key: lote does not guess which
// digits the key had.
func PixKey(s string) (key, kind string, err error) {
	v := trimSpace(s)
	switch {
	case v == "":
		return "", "", fail(ErrRequired, "The Pix key is missing.")
	case len([]rune(v)) > maxPixKey:
		return "", "", fail(ErrInvalidPixKey, "A Pix key has at most 77 characters.")
	case strings.Contains(v, "@"):
		e := strings.ToLower(v)
		if !pixEmailRe.MatchString(e) {
			return "", "", fail(ErrInvalidPixKey, "This e-mail is not a valid Pix key: write it as name@domain.com.br, without spaces.")
		}
		return e, PixKeyEmail, nil
	case strings.HasPrefix(v, "+"):
		p := strings.Map(func(r rune) rune {
			switch r {
			case ' ', '-', '(', ')', '.':
				return -1
			}
			return r
		}, v)
		if !pixPhoneRe.MatchString(p) {
			return "", "", fail(ErrInvalidPixKey, "A phone Pix key is +55, the 2-digit area code and the number, like +5511987654321.")
		}
		return p, PixKeyPhone, nil
	case pixEVPRe.MatchString(strings.ToLower(v)):
		return strings.ToLower(v), PixKeyEVP, nil
	}
	d := strings.Map(func(r rune) rune {
		switch r {
		case '.', '-', '/', ' ':
			return -1
		}
		return r
	}, v)
	if !allDigits(d) {
		return "", "", fail(ErrInvalidPixKey, "This is not a Pix key: write a CPF, a CNPJ, an e-mail, a phone as +55 and the number, or a random key (like 123e4567-e89b-12d3-a456-426614174000).")
	}
	switch len(d) {
	case 11:
		if !cpfValid(d) {
			return "", "", fail(ErrInvalidPixKey, "These 11 digits are not a valid CPF. A phone key starts with +55, like +5511987654321.")
		}
		return d, PixKeyCPF, nil
	case 14:
		if _, err := CNPJ(d); err != nil {
			return "", "", fail(ErrInvalidPixKey, "These 14 digits are not a valid CNPJ.")
		}
		return d, PixKeyCNPJ, nil
	}
	return "", "", fail(ErrInvalidPixKey, "A CPF key has 11 digits and a CNPJ key 14; a phone key starts with +55. If Excel dropped leading zeros, format the column as text and write the key in full.")
}
