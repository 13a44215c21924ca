// Command servebench measures `lote serve` (package web) with the
// in-process emulator, as `lote serve --env sim` runs: the time from
// uploading a 10,000-row XLSX to its validation table, the weight of the
// batch page, and the process's memory while a 100,000-row batch is sent.
//
//	go run ./bench/servebench                     # 10,000 and 100,000 rows
//	go run ./bench/servebench -big 0              # only the upload figures
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lote/batch"
	"lote/internal/fake"
	"lote/ledger"
	"lote/sheet"
	"lote/stone"
	"lote/stone/stonetest"
	"lote/web"
)

func main() {
	small := flag.Int("rows", 10000, "rows of the XLSX whose upload is timed")
	big := flag.Int("big", 100000, "rows of the batch sent while memory is sampled (0 skips it)")
	dir := flag.String("dir", "", "work directory (default: a temporary one)")
	heapProfile = flag.String("heapprofile", "", "write a heap profile here once the big batch is sent")
	flag.Parse()
	if *dir == "" {
		d, err := os.MkdirTemp("", "servebench")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if err := run(*dir, *small, *big); err != nil {
		fail(err)
	}
}

// heapProfile is where to write the heap profile, if anywhere.
var heapProfile *string

func fail(err error) {
	fmt.Fprintln(os.Stderr, "servebench:", err)
	os.Exit(1)
}

func run(dir string, small, big int) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	sim := stonetest.NewServer(stonetest.Options{Sandbox: true})
	defer sim.Close()
	sim.AddClient("bench", &key.PublicKey)
	sim.AddAccount("acc", 1<<60)
	client, err := stone.NewClient(stone.Config{APIURL: sim.URL, AuthURL: sim.URL, ClientID: "bench", Key: key})
	if err != nil {
		return err
	}
	l, err := ledger.Open(filepath.Join(dir, "lote.db"), ledger.Options{})
	if err != nil {
		return err
	}
	defer l.Close()
	hash, _ := bcrypt.GenerateFromPassword([]byte("bench password"), bcrypt.MinCost)
	if err := l.AddUser(context.Background(), "bench", ledger.RoleAdmin, hash); err != nil {
		return err
	}
	srv, err := web.NewServer(web.Options{Ledger: l, DataDir: filepath.Join(dir, "uploads"), MaxUpload: 200 << 20,
		Run: batch.RunOptions{Client: client, AccountID: "acc", Env: "sim", Rate: 5000, Concurrency: 32}})
	if err != nil {
		return err
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	b := &browser{base: ts.URL}
	jar, _ := cookiejar.New(nil)
	b.c = &http.Client{Jar: jar}
	b.get("/login")
	if _, err := b.post("/login", url.Values{"name": {"bench"}, "password": {"bench password"}}); err != nil {
		return err
	}

	path := filepath.Join(dir, fmt.Sprintf("payouts-%d.xlsx", small))
	if err := writeXLSX(path, small, "S"); err != nil {
		return err
	}
	start := time.Now()
	page, where, err := b.upload(path)
	if err != nil {
		return err
	}
	took := time.Since(start)
	if !strings.Contains(page, `id="sheet"`) {
		return fmt.Errorf("no table after the upload:\n%.2000s", page)
	}
	css, _ := b.get("/static/style.css")
	js, _ := b.get("/static/app.js")
	fmt.Printf("upload of a %d-row XLSX to its validation table: %.2f s\n", small, took.Seconds())
	fmt.Printf("batch page of %d rows: %d bytes of HTML + %d of CSS + %d of JS = %.1f KB (100 rows a page)\n",
		small, len(page), len(css), len(js), float64(len(page)+len(css)+len(js))/1024)
	problems, _ := b.get(where + "?show=problems")
	fmt.Printf("its rows-with-problems page: %d bytes of HTML\n", len(problems))

	if big == 0 {
		return nil
	}
	path = filepath.Join(dir, fmt.Sprintf("payouts-%d.xlsx", big))
	if err := writeXLSX(path, big, "B"); err != nil {
		return err
	}
	start = time.Now()
	page, where, err = b.upload(path)
	if err != nil {
		return err
	}
	fmt.Printf("upload of a %d-row XLSX to its validation table: %.2f s, RSS %d MB\n", big, time.Since(start).Seconds(), rss("VmRSS"))
	total, rows := hidden(page, "total"), hidden(page, "rows")
	if _, err := b.post(where+"/submit", url.Values{"confirm": {"yes"}, "total": {total}, "rows": {rows}}); err != nil {
		return err
	}
	start = time.Now()
	peak := int64(0)
	for {
		time.Sleep(500 * time.Millisecond)
		peak = max(peak, rss("VmRSS"))
		body, _ := b.get(where + "/progress")
		if strings.Contains(body, `"status":"done"`) {
			fmt.Printf("sending %s rows: %.1f s; RSS while sending: peak %d MB (server, ledger and emulator in one process; VmHWM %d MB)\n",
				rows, time.Since(start).Seconds(), peak, rss("VmHWM"))
			if *heapProfile != "" {
				f, err := os.Create(*heapProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				runtime.GC()
				return pprof.WriteHeapProfile(f)
			}
			return nil
		}
		if strings.Contains(body, `"status":"stopped"`) || time.Since(start) > 30*time.Minute {
			return fmt.Errorf("batch did not finish: %s", body)
		}
	}
}

// rss reads a memory figure of this process from /proc, in MB.
func rss(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb / 1024
		}
	}
	return 0
}

type browser struct {
	base string
	c    *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (b *browser) read(res *http.Response, err error) (string, error) {
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	if res.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("%s: %s", res.Request.URL.Path, res.Status)
	}
	return string(body), err
}

func (b *browser) get(path string) (string, error) { return b.read(b.c.Get(b.base + path)) }

func (b *browser) post(path string, form url.Values) (string, error) {
	form.Set("csrf", b.csrf)
	return b.read(b.c.PostForm(b.base+path, form))
}

// upload posts the file as the page's form does and returns the batch page
// it leads to, and its path.
func (b *browser) upload(path string) (string, string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", b.csrf)
	fw, _ := mw.CreateFormFile("file", filepath.Base(path))
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	fw.Write(data)
	mw.Close()
	res, err := b.c.Post(b.base+"/upload", mw.FormDataContentType(), &buf)
	if err != nil {
		return "", "", err
	}
	body, err := b.read(res, nil)
	return body, res.Request.URL.Path, err
}

func hidden(page, name string) string {
	_, after, _ := strings.Cut(page, `name="`+name+`" value="`)
	v, _, _ := strings.Cut(after, `"`)
	return v
}

// writeXLSX writes a payout sheet of valid rows; salt keeps references
// apart between sheets.
func writeXLSX(path string, rows int, salt string) error {
	w, err := sheet.Create(path, sheet.WriteOptions{StatusColumn: -1})
	if err != nil {
		return err
	}
	if err := w.WriteHeader([]string{"reference", "name", "document", "institution_code", "branch_code", "account_code", "account_type", "amount_cents"}); err != nil {
		return err
	}
	for i := 1; i <= rows; i++ {
		cells := []sheet.Cell{{Value: fmt.Sprintf("%s-%d", salt, i)}, {Value: fmt.Sprintf("Pessoa %d", i)}, {Value: cpf(i)},
			{Value: "341"}, {Value: "1234"}, {Value: strconv.Itoa(10000 + i)}, {Value: "CC"}, {Value: strconv.Itoa(1000 + i%5000)}}
		if err := w.WriteRow(cells); err != nil {
			return err
		}
	}
	return w.Close()
}

// cpf returns a valid CPF built from n.
func cpf(n int) string { return fake.CPF(100000000 + n%800000000) }
