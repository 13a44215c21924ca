package validate

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// tradeNames are the names people write for the banks they pay, beyond the
// registered ones: a short or trade name ("Nubank", "Caixa", "BB") reads as
// the code listed. A name here wins over the registered names it is also a
// part of ("Caixa" is Caixa Econômica Federal, not Banco Caixa Geral).
var tradeNames = map[string]string{
	"bb": "001", "banco do brasil": "001",
	"basa": "003", "banco da amazonia": "003",
	"bnb": "004", "banco do nordeste": "004",
	"banestes":  "021",
	"santander": "033", "santander brasil": "033",
	"banpara":  "037",
	"banrisul": "041",
	"banese":   "047",
	"brb":      "070",
	"inter":    "077", "banco inter": "077",
	"caixa": "104", "cef": "104", "caixa economica": "104", "caixa economica federal": "104",
	"btg": "208", "btg pactual": "208",
	"original": "212",
	"bs2":      "218",
	"bradesco": "237",
	"nubank":   "260", "nu": "260", "nu pagamentos": "260", "nu bank": "260",
	"pagbank": "290", "pagseguro": "290", "pag seguro": "290",
	"mercado pago": "323", "mercadopago": "323",
	"c6": "336", "c6 bank": "336", "banco c6": "336",
	"itau": "341", "itau unibanco": "341", "banco itau": "341",
	"picpay":    "380",
	"mercantil": "389", "mercantil do brasil": "389",
	"cora":  "403",
	"safra": "422",
	"neon":  "536",
	"pan":   "623", "banco pan": "623",
	"bv": "655", "votorantim": "655", "banco bv": "655",
	"daycoval": "707",
	"citi":     "745", "citibank": "745",
	"sicredi": "748",
	"sicoob":  "756", "bancoob": "756",
	"stone": StoneCode,
}

// nameStopWords are left out of a bank's name before comparing: words
// every bank name has, legal forms, and connectives.
var nameStopWords = map[string]bool{
	"banco": true, "bco": true, "bank": true, "s": true, "a": true, "sa": true, "ltda": true,
	"de": true, "do": true, "da": true, "dos": true, "das": true, "e": true,
	"ip": true, "instituicao": true, "pagamento": true, "pagamentos": true, "me": true, "epp": true,
}

// bankKey reduces a bank's name to its significant words, lower case,
// without accents or punctuation: "Banco do Brasil S.A." → "brasil",
// "Itaú Unibanco" → "itau unibanco". An abbreviated word of the registry
// ("est.") is written out.
func bankKey(name string) string {
	return strings.Join(bankWords(name, true), " ")
}

func bankWords(name string, dropStop bool) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() == 0 {
			return
		}
		w := b.String()
		b.Reset()
		if w == "est" {
			w = "estado"
		}
		if !dropStop || !nameStopWords[w] {
			words = append(words, w)
		}
	}
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r > unicode.MaxASCII && unicode.IsLetter(r):
			b.WriteRune(unaccent(r))
		default:
			flush()
		}
	}
	flush()
	return words
}

// unaccent returns the letter of a Portuguese accented letter ('ã' → 'a'),
// and other letters as they are.
func unaccent(r rune) rune {
	switch {
	case strings.ContainsRune("áàâãäª", r):
		return 'a'
	case strings.ContainsRune("éèêë", r):
		return 'e'
	case strings.ContainsRune("íìîï", r):
		return 'i'
	case strings.ContainsRune("óòôõöº", r):
		return 'o'
	case strings.ContainsRune("úùûü", r):
		return 'u'
	case r == 'ç':
		return 'c'
	case r == 'ñ':
		return 'n'
	}
	return r
}

// tradeKey is a trade name as written in tradeNames, with the stop words
// kept: "banco do brasil" must not become "brasil" there.
func tradeKey(name string) string { return strings.Join(bankWords(name, false), " ") }

// nameIndex is a directory's institutions by the significant words of
// their names, built on the first lookup by name.
type nameIndex struct {
	exact map[string][]Institution // bankKey of the short or long name
	all   []indexed
}

type indexed struct {
	in    Institution
	words map[string]bool // of both names
}

func (d *Directory) names() *nameIndex {
	d.nameOnce.Do(func() {
		ix := &nameIndex{exact: map[string][]Institution{}}
		for _, in := range d.byISPB {
			seen := map[string]bool{}
			words := map[string]bool{}
			for _, n := range []string{in.ShortName, in.LongName} {
				if k := bankKey(n); k != "" && !seen[k] {
					seen[k] = true
					ix.exact[k] = append(ix.exact[k], in)
				}
				for _, w := range bankWords(n, true) {
					words[w] = true
				}
			}
			ix.all = append(ix.all, indexed{in, words})
		}
		for _, ins := range ix.exact {
			sortInstitutions(ins)
		}
		sort.Slice(ix.all, func(i, j int) bool { return less(ix.all[i].in, ix.all[j].in) })
		d.nameIdx = ix
	})
	return d.nameIdx
}

func less(a, b Institution) bool {
	if a.Code != b.Code {
		return a.Code != "" && (b.Code == "" || a.Code < b.Code)
	}
	return a.ISPB < b.ISPB
}

func sortInstitutions(ins []Institution) {
	sort.Slice(ins, func(i, j int) bool { return less(ins[i], ins[j]) })
}

// byName returns the institutions a name can mean: the one a trade name
// names; else those whose registered names are exactly it, then the others
// whose names hold all its words.
func (d *Directory) byName(name string) []Institution {
	if code, ok := tradeNames[tradeKey(name)]; ok {
		if in, ok := d.Lookup(code); ok {
			return []Institution{in}
		}
	}
	key := bankKey(name)
	if code, ok := tradeNames[key]; ok {
		if in, ok := d.Lookup(code); ok {
			return []Institution{in}
		}
	}
	if key == "" {
		return nil
	}
	ix := d.names()
	exact := ix.exact[key]
	words := strings.Fields(key)
	out := append([]Institution(nil), exact...)
	for _, e := range ix.all {
		all := true
		for _, w := range words {
			if !e.words[w] {
				all = false
				break
			}
		}
		if all && !slices.ContainsFunc(exact, func(in Institution) bool { return in.ISPB == e.in.ISPB }) {
			// A registered name that is exactly the one written does not
			// settle it while other names hold the same words ("XP" is
			// Banco XP, and XP Investimentos): the user says which.
			out = append(out, e.in)
		}
	}
	return out
}

// displayName is how messages name an institution: its long name, or the
// short one when the list has no long name.
func displayName(in Institution) string {
	if in.LongName != "" {
		return in.LongName
	}
	return in.ShortName
}

// maxCandidates is how many institutions an ambiguous name's error lists.
const maxCandidates = 6

// candidates lists institutions as "756 (BANCO COOPERATIVO SICOOB S.A.)".
func candidates(ins []Institution) string {
	var parts []string
	for i, in := range ins {
		if i == maxCandidates {
			parts = append(parts, "and "+itoa(len(ins)-maxCandidates)+" more")
			break
		}
		id := in.Code
		if id == "" {
			id = "ISPB " + in.ISPB
		}
		parts = append(parts, id+" ("+displayName(in)+")")
	}
	return strings.Join(parts, ", ")
}

// splitCodeName splits "341 - Itaú Unibanco", "001-Banco do Brasil S.A."
// or "237 Bradesco" into the code and the name; ok is false when value does
// not start with 1 to 8 digits followed by a separator and a name.
func splitCodeName(value string) (code, name string, ok bool) {
	v := trimSpace(value)
	i := 0
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	if i == 0 || i > 8 || i == len(v) {
		return "", "", false
	}
	rest := v[i:]
	after := strings.TrimLeft(rest, " \t-–—:/|.")
	if len(after) == len(rest) || trimSpace(after) == "" {
		return "", "", false // "12ab", "341 -": not a code and a name
	}
	return v[:i], trimSpace(after), true
}

// ResolveText finds the institution a text cell names, when it is not a
// bare code: "NNN - Name" reads as code NNN when the name agrees with it;
// a name alone reads as the one institution it names. note is a warning
// for the user, "" when there is none: a name alone was read as a code, or
// the name beside a code is not one lote knows. ok is false when value is
// a bare code or ISPB, for Resolve.
func (d *Directory) ResolveText(value string) (in Institution, note string, ok bool, err error) {
	v := trimSpace(value)
	if v == "" || allDigits(v) {
		return Institution{}, "", false, nil
	}
	if code, name, split := splitCodeName(v); split {
		in, _, err := d.Resolve(code, Text)
		if err != nil {
			return Institution{}, "", true, err
		}
		named := d.byName(name)
		for _, n := range named {
			if n.ISPB == in.ISPB {
				return in, "", true, nil
			}
		}
		if len(named) > 0 && len(named) <= maxCandidates {
			return Institution{}, "", true, fail(ErrInstitutionMismatch, "Code %s is %s, but the name says %s: write the code of the bank to pay.", code, displayName(in), candidates(named))
		}
		return in, "Read as bank code " + code + " (" + displayName(in) + "); lote does not know the name \"" + name + "\" for it.", true, nil
	}
	named := d.byName(v)
	switch len(named) {
	case 0:
		return Institution{}, "", true, fail(ErrUnknownInstitution, "No bank is named \"%s\": write the bank's 3-digit code (like 341 for Itaú Unibanco, 104 for Caixa Econômica Federal).", v)
	case 1:
		n := named[0]
		id := n.Code
		if id == "" {
			id = n.ISPB
		}
		in, _, err := d.Resolve(id, Text)
		if err != nil {
			return Institution{}, "", true, err
		}
		return in, "Read as bank code " + id + " (" + displayName(in) + ") from its name; write " + id + " to be sure.", true, nil
	}
	return Institution{}, "", true, fail(ErrAmbiguousInstitution, "\"%s\" could be %s: write the code of the bank to pay.", v, candidates(named))
}

// dirNames is the part of a Directory that indexes names, built once.
type dirNames struct {
	nameOnce sync.Once
	nameIdx  *nameIndex
}

func itoa(n int) string { return strconv.Itoa(n) }
