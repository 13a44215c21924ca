package batch

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"lote/validate"
)

// CodePayeeMismatch: Stone resolved the Pix key (or the Stone account) to
// someone other than the sheet's payee. Nothing was paid; the payment is
// not confirmed unless a person decides.
const CodePayeeMismatch = "payee_mismatch"

// payeeMatch compares the payee Stone resolved (the key's or account's
// owner) with the sheet's, before any money moves. The document is
// compared by the digits Stone shows (a CPF comes masked, "***369163**";
// a CNPJ whole); the name after folding accents, case and punctuation,
// leaving out connectives (da, de, dos, e) and company suffixes (Ltda, S/A,
// ME, EPP, Eireli), and accepting abbreviations: an initial ("J.") or a
// prefix of four letters or more ("Franc" for "Francisco") stands for a
// word beginning with it. The first and last words must agree, and every word
// of the shorter name must be found, in order, in the longer. An empty
// answer compares what is there. It returns "" when they agree, else the
// reason, for a person.
func payeeMatch(sheet validate.PayoutEntity, bankName, bankDocument string) string {
	var why []string
	if d := strings.Map(keepDocChar, bankDocument); d != "" && !documentMatches(sheet.Document, d) {
		why = append(why, "the document differs")
	}
	if strings.TrimSpace(bankName) != "" && !namesMatch(sheet.Name, bankName) {
		why = append(why, "the name differs")
	}
	if strings.TrimSpace(bankName) == "" && strings.Map(keepDocChar, bankDocument) == "" {
		why = append(why, "Stone named no owner to compare")
	}
	return strings.Join(why, " and ")
}

func keepDocChar(r rune) rune {
	if r == '*' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
		return r
	}
	return -1
}

// documentMatches compares a masked document, as Stone shows it, with the
// sheet's: each visible character must be the sheet's at its place, and a
// document with nothing visible does not match.
func documentMatches(sheet, masked string) bool {
	if len(masked) != len(sheet) {
		return false
	}
	visible := 0
	for i := 0; i < len(masked); i++ {
		if masked[i] == '*' {
			continue
		}
		visible++
		if masked[i] != sheet[i] {
			return false
		}
	}
	return visible > 0
}

var (
	connectives = map[string]bool{"da": true, "de": true, "do": true, "das": true, "dos": true, "e": true, "d": true}
	suffixes    = map[string]bool{"ltda": true, "limitada": true, "sa": true, "me": true, "epp": true, "eireli": true, "mei": true, "ss": true}
)

// nameWords folds a name to its significant words.
func nameWords(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	var out []string
	for _, w := range strings.Fields(b.String()) {
		if !connectives[w] {
			out = append(out, w)
		}
	}
	for len(out) > 1 && suffixes[out[len(out)-1]] {
		out = out[:len(out)-1]
	}
	if n := len(out); n > 2 && out[n-2] == "s" && out[n-1] == "a" {
		out = out[:n-2] // "S.A." folded to "s a"
	}
	return out
}

// wordMatches says whether a and b are the same word, or one abbreviates
// the other: an initial, or a prefix of at least four letters.
func wordMatches(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return strings.HasPrefix(b, a) && (len(a) == 1 || len(a) >= 4)
}

func namesMatch(sheet, bank string) bool {
	s, l := nameWords(sheet), nameWords(bank)
	if len(s) == 0 || len(l) == 0 {
		return false
	}
	if len(s) > len(l) {
		s, l = l, s
	}
	if !wordMatches(s[0], l[0]) || !wordMatches(s[len(s)-1], l[len(l)-1]) {
		return false
	}
	j := 0
	for _, w := range s {
		for j < len(l) && !wordMatches(w, l[j]) {
			j++
		}
		if j == len(l) {
			return false
		}
		j++
	}
	return true
}

// payeeMessage is what a person reads on a row held because its payee
// differs: the sheet's side and the bank's, and what to do.
func payeeMessage(rail string, why string, sheet validate.PayoutEntity, bankName, bankDocument, paymentID string) string {
	what := "The Pix key"
	next := "The Pix was created at Stone (payment " + paymentID + ") and not confirmed: nothing was paid. If the key is wrong, correct it in the sheet and import it again; the created payment is never confirmed by lote."
	if rail == validate.RailInternal {
		what = "The Stone account"
		next = "Nothing was sent. If the account is wrong, correct it in the sheet and import it again."
	}
	return fmt.Sprintf("%s belongs to %q (document %s), but the sheet pays %q (document %s): %s. %s",
		what, bankName, orNone(bankDocument), sheet.Name, sheet.Document, why, next)
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "not shown"
	}
	return s
}
