package web

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// acceptLanguage adds a browser's Accept-Language header to every request.
type acceptLanguage struct {
	lang string
	next http.RoundTripper
}

func (a acceptLanguage) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", a.lang)
	return a.next.RoundTrip(r)
}

// speaking makes u's browser ask for lang.
func (u *user) speaking(lang string) *user {
	u.c.Transport = acceptLanguage{lang: lang, next: http.DefaultTransport}
	return u
}

func (u *user) download(t *testing.T, path string) string {
	t.Helper()
	res, err := u.c.Get(u.e.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, b)
	}
	return string(b)
}

const langSheet = "reference,name,document,institution_code,branch_code,account_code,amount\n" +
	"R-1,Ana,111.111.111-11,341,0001,12345-6,10.00\n"

// A browser that prefers Portuguese gets the page, the validation messages
// and the errors sheet in Portuguese; the user's choice on the page then
// wins over the browser's, and is kept.
func TestPagePortuguese(t *testing.T) {
	e := newEnv(t, nil)
	guest := e.browser().speaking("pt-BR,pt;q=0.9,en;q=0.8")
	_, login := guest.get("/login")
	for _, want := range []string{`<html lang="pt-BR">`, "<h1>Entrar</h1>", `<label for="password">Senha</label>`} {
		if !strings.Contains(login, want) {
			t.Errorf("the sign-in page for a Portuguese browser lacks %q:\n%s", want, login)
		}
	}
	if code, _ := guest.signIn("ana", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d", code)
	}
	_, refused := guest.post("/login", url.Values{"name": {"ana"}, "password": {"wrong"}})
	if !strings.Contains(refused, "Nome ou senha incorretos.") {
		t.Errorf("a wrong password is not told in Portuguese:\n%s", refused)
	}

	ana := e.login("ana").speaking("pt-BR")
	code, page, path := ana.upload("folha.csv", []byte(langSheet))
	if code != http.StatusOK {
		t.Fatalf("upload: %d\n%s", code, page)
	}
	for _, want := range []string{
		`<html lang="pt-BR">`,
		`<span class="badge invalid" id="status">Linhas inválidas: corrija e envie de novo</span>`,
		"<dt>Linhas</dt>", "<dt>Valor total</dt>",
		"Baixar as 1 linhas inválidas para corrigir",
		`<span class="why">Os dígitos verificadores do CPF não conferem: confira o número com o favorecido.</span>`,
		`<span class="state invalid">inválida</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the batch page in Portuguese lacks %q", want)
		}
	}
	if strings.Contains(page, "check digits do not match") {
		t.Errorf("the Portuguese page shows the English message")
	}
	got := ana.download(t, path+"/errors")
	want := "\xEF\xBB\xBFreference,name,document,institution_code,branch_code,account_code,amount,erros_lote\r\n" +
		"R-1,Ana,111.111.111-11,341,0001,12345-6,10.00,\"document: \"\"111.111.111-11\"\": Os dígitos verificadores do CPF não conferem: confira o número com o favorecido.\"\r\n"
	if got != want {
		t.Errorf("errors sheet in Portuguese:\n got %q\nwant %q", got, want)
	}

	// The switch: English, whatever the browser says, in this and the
	// next session.
	if code, body := ana.post("/lang", url.Values{"lang": {"en"}, "back": {path}}); code != http.StatusOK || !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "Download the 1 invalid rows to fix") {
		t.Fatalf("after choosing English: %d\n%s", code, body)
	}
	again := e.login("ana").speaking("pt-BR")
	_, page = again.get(path)
	if !strings.Contains(page, "The CPF&#39;s check digits do not match") {
		t.Errorf("a new session of a user who chose English is not in English")
	}
	got = again.download(t, path+"/errors")
	if !strings.HasPrefix(got, "\xEF\xBB\xBFreference,name,document,institution_code,branch_code,account_code,amount,lote_errors\r\n") {
		t.Errorf("the errors sheet of a user who chose English: %q", got)
	}
	// And back to the browser's choice: Portuguese.
	again.post("/lang", url.Values{"lang": {""}, "back": {"//evil.example/"}})
	if _, page := again.get("/"); !strings.Contains(page, `<html lang="pt-BR">`) || !strings.Contains(page, "<h2 id=\"list-h\">Lotes</h2>") {
		t.Errorf("with no choice, the browser's language is not used")
	}
}
