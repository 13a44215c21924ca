package stonetest

// institution is one STR participant: its ISPB, COMPE code and name.
type institution struct {
	ispb, number, name string
}

// builtinInstitutions are the major TED participants the emulator knows when
// Options.Institutions is nil. ISPBs and codes are from the Central Bank's
// participant list; Santander's name is spelled as in Stone's documented
// 202 example.
var builtinInstitutions = [...]institution{
	{"00000000", "001", "Banco do Brasil S.A."},
	{"90400888", "033", "Banco Santander (Brasil) S. A."},
	{"60701190", "341", "Itaú Unibanco S.A."},
	{"60746948", "237", "Banco Bradesco S.A."},
	{"00360305", "104", "Caixa Econômica Federal"},
	{"18236120", "260", "Nu Pagamentos S.A. - Instituição de Pagamento"},
	{"00416968", "077", "Banco Inter S.A."},
	{"31872495", "336", "Banco C6 S.A."},
	{"22896431", "380", "PicPay Instituição de Pagamento S.A."},
	{"30306294", "208", "Banco BTG Pactual S.A."},
	{"02038232", "756", "Banco Cooperativo Sicoob S.A. - Banco Sicoob"},
	{"01181521", "748", "Banco Cooperativo Sicredi S.A."},
	{"92702067", "041", "Banco do Estado do Rio Grande do Sul S.A."},
	{"58160789", "422", "Banco Safra S.A."},
	{"92894922", "212", "Banco Original S.A."},
	{"10573521", "323", "Mercado Pago Instituição de Pagamento Ltda."},
	{"08561701", "290", "PagSeguro Internet Instituição de Pagamento S.A."},
	{"16501555", "197", "Stone Instituição de Pagamento S.A."},
	{"00000208", "070", "BRB - Banco de Brasília S.A."},
	{"04902979", "003", "Banco da Amazônia S.A."},
	{"07237373", "004", "Banco do Nordeste do Brasil S.A."},
	{"59285411", "623", "Banco Pan S.A."},
	{"33479023", "745", "Banco Citibank S.A."},
	{"59588111", "655", "Banco Votorantim S.A."},
}

// Stone's own identifiers: a TED to them is refused (stone-api.md §2.1).
const (
	stoneISPB   = "16501555"
	stoneNumber = "197"
)

// builtinInstitution resolves an 8-digit ISPB or a 3-digit COMPE code
// against builtinInstitutions.
func builtinInstitution(code string) (ispb, number, name string, ok bool) {
	for _, in := range builtinInstitutions {
		if code == in.ispb || code == in.number {
			return in.ispb, in.number, in.name, true
		}
	}
	return "", "", "", false
}
