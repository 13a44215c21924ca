package stonetest

import "lote/validate"

// Stone's own identifiers: a TED to them is refused (stone-api.md §2.1).
const (
	stoneISPB   = validate.StoneISPB
	stoneNumber = validate.StoneCode
	// stoneName is Stone's name as its documented answers spell it.
	stoneName = "Stone Pagamentos S.A."
)

// builtinInstitution resolves an 8-digit ISPB or a 3-digit COMPE code
// against the directory lote validates rows with (validate.STRParticipant:
// the Central Bank's STR participants, 511 institutions with a code), so
// that a row lote finds valid is never refused here for its bank, and the
// other way round.
func builtinInstitution(code string) (ispb, number, name string, ok bool) {
	ispb, number, name, ok = validate.STRParticipant(code)
	if n, spelled := documentedNames[ispb]; spelled {
		name = n
	}
	return ispb, number, name, ok
}

// documentedNames are institution names as Stone's documented answers
// spell them, where the Central Bank's list differs in case or spacing.
var documentedNames = map[string]string{
	"90400888": "Banco Santander (Brasil) S. A.",
}
