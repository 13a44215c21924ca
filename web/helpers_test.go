package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lote/batch"
	"lote/internal/fake"
	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
	"lote/validate"
)

// testPassword is every test user's password.
const testPassword = "correct horse battery"

// env is a server on a fresh ledger, against the in-process emulator, with
// users ana (uploader), bia (approver), caio (admin) and duda (uploader).
type env struct {
	t    *testing.T
	srv  *Server
	ts   *httptest.Server
	l    *ledger.Ledger
	sim  *stonetest.Server
	opts Options
}

func newEnv(t *testing.T, configure func(*Options)) *env {
	t.Helper()
	return newEnvClock(t, nil, configure)
}

// newEnvClock is newEnv with the ledger on clock (nil: time.Now).
func newEnvClock(t *testing.T, clock func() time.Time, configure func(*Options)) *env {
	t.Helper()
	dir := t.TempDir()
	l, err := ledger.Open(filepath.Join(dir, "lote.db"), ledger.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]ledger.Role{"ana": ledger.RoleUploader, "bia": ledger.RoleApprover,
		"caio": ledger.RoleAdmin, "duda": ledger.RoleUploader} {
		if err := l.AddUser(context.Background(), name, role, hash); err != nil {
			t.Fatal(err)
		}
	}
	dirInst := validate.Institutions()
	sim := stonetest.NewServer(stonetest.Options{Sandbox: true, Institutions: func(code string) (string, string, string, bool) {
		in, ok := dirInst.Lookup(code)
		return in.ISPB, in.Code, in.ShortName, ok
	}})
	t.Cleanup(sim.Close)
	sim.AddClient("web-test", &fake.Key().PublicKey)
	sim.AddAccount("acc-web", 1_000_000_000)
	client, err := stone.NewClient(stone.Config{APIURL: sim.URL, AuthURL: sim.URL, ClientID: "web-test", Key: fake.Key()})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Ledger:  l,
		Run:     batch.RunOptions{Client: client, AccountID: "acc-web", Env: "sim", Rate: 1000, Holder: "web test"},
		DataDir: filepath.Join(dir, "uploads"),
	}
	if configure != nil {
		configure(&opts)
	}
	e := &env{t: t, l: l, sim: sim, opts: opts}
	e.start()
	return e
}

// start (re)starts the server on the env's ledger, as after a restart.
func (e *env) start() {
	e.t.Helper()
	srv, err := NewServer(e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv)
	e.t.Cleanup(func() { e.ts.Close(); srv.Close() })
}

// stop closes the server as `lote serve` does on SIGTERM.
func (e *env) stop() {
	e.ts.Close()
	e.srv.Close()
}

// user is one browser: a cookie jar, the last page, its CSRF token.
type user struct {
	e    *env
	c    *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (e *env) browser() *user {
	jar, _ := cookiejar.New(nil)
	return &user{e: e, c: &http.Client{Jar: jar}}
}

// login signs in and fails the test unless it worked.
func (e *env) login(name string) *user {
	e.t.Helper()
	u := e.browser()
	code, body := u.signIn(name, testPassword)
	if code != http.StatusOK || !strings.Contains(body, "Signed in") && !strings.Contains(body, name) {
		e.t.Fatalf("sign in as %s: %d\n%s", name, code, body)
	}
	return u
}

func (u *user) signIn(name, password string) (int, string) {
	u.e.t.Helper()
	u.get("/login")
	return u.post("/login", url.Values{"name": {name}, "password": {password}})
}

// get fetches a page and remembers its CSRF token.
func (u *user) get(path string) (int, string) {
	u.e.t.Helper()
	res, err := u.c.Get(u.e.ts.URL + path)
	if err != nil {
		u.e.t.Fatal(err)
	}
	return u.read(res)
}

func (u *user) read(res *http.Response) (int, string) {
	u.e.t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		u.e.t.Fatal(err)
	}
	if m := csrfRE.FindSubmatch(b); m != nil {
		u.csrf = string(m[1])
	}
	return res.StatusCode, string(b)
}

// post sends a form with the current CSRF token, unless form has one.
func (u *user) post(path string, form url.Values) (int, string) {
	u.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", u.csrf)
	}
	res, err := u.c.PostForm(u.e.ts.URL+path, form)
	if err != nil {
		u.e.t.Fatal(err)
	}
	return u.read(res)
}

// upload posts a file as the page's form does; it returns the final
// status, body and URL path (after the redirect to the batch).
func (u *user) upload(name string, content []byte) (int, string, string) {
	u.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", u.csrf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	res, err := u.c.Post(u.e.ts.URL+"/upload", mw.FormDataContentType(), &buf)
	if err != nil {
		u.e.t.Fatal(err)
	}
	code, body := u.read(res)
	return code, body, res.Request.URL.Path
}

// waitSent waits until the server has stopped sending the batch.
func (e *env) waitSent(id string) {
	e.t.Helper()
	if r := e.srv.running(id); r != nil {
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			e.t.Fatalf("batch %s still sending after 30 s", ledger.ShortID(id))
		}
	}
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sheets returns a sheet with problems and the same sheet fixed. Both
// carry a name that is markup and one that is a formula, which must show
// as text.
func sheets(t *testing.T) (bad, fixed []byte) {
	fixed = readSample(t, "payouts.csv")
	fixed = bytes.Replace(fixed, []byte("Ana Beatriz Souza"), []byte("<script>alert(1)</script>"), 1)
	fixed = bytes.Replace(fixed, []byte("Maria da Conceição"), []byte(`"=HYPERLINK(""http://x"")"`), 1)
	// Row 3: a CPF whose check digit is wrong; row 5: a bank that does not exist.
	bad = bytes.Replace(fixed, []byte("08301661305"), []byte("08301661304"), 1)
	bad = bytes.Replace(bad, []byte("Tecnologia Aurora Ltda,99.752.882/0001-09,260"), []byte("Tecnologia Aurora Ltda,99.752.882/0001-09,999"), 1)
	return bad, fixed
}
