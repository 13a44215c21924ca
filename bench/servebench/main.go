// Command servebench measures `lote serve` (package web) with the
// in-process emulator, as `lote serve --env sim` runs: the time from
// uploading a 10,000-row XLSX to its validation table, the weight of the
// batch page, the memory of uploads of hostile shapes up to 50 MB, the
// time from uploading a 100,000-row XLSX to its table beside the time
// `lote validate` takes on the same file, and the process's memory while
// that batch is sent.
//
//	go run ./bench/servebench -lote bin/lote      # every figure
//	go run ./bench/servebench -big 0 -hostile=false  # only the 10,000-row upload
package main

import (
	"bufio"
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
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lote/batch"
	"lote/check"
	"lote/internal/bombs"
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
	flag.StringVar(&loteBin, "lote", "", "the lote binary whose validate the big upload is compared with (default: check.Check in this process)")
	flag.BoolVar(&hostileShapes, "hostile", true, "upload the hostile shapes of up to 50 MB and report the memory")
	flag.BoolVar(&sendBig, "send", true, "send the big batch and report the memory while it is sent")
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

// loteBin is the lote binary to time validate with; hostileShapes says
// whether to upload the hostile sheets.
var (
	loteBin       string
	hostileShapes bool
	sendBig       bool
)

// validateTime is how long `lote validate` takes on path: the binary's
// wall time when loteBin is set, else check.Check as it runs it.
func validateTime(path string) (time.Duration, error) {
	start := time.Now()
	if loteBin != "" {
		cmd := exec.Command(loteBin, "validate", path)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("lote validate: %w", err)
		}
		return time.Since(start), nil
	}
	_, _, err := check.Check(context.Background(), path, check.CheckOptions{}, func(check.Checked) error { return nil })
	return time.Since(start), err
}

// hostile uploads sheets of the shapes issue 13 names, each up to 50 MB,
// and reports their batch pages' weight and the process's peak memory.
func hostile(b *browser, dir string) error {
	wideHeader := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		bw.WriteString("reference,name,document,institution_code,branch_code,account_code,amount")
		for i := 8; i <= 1000; i++ {
			fmt.Fprintf(bw, ",col%d", i)
		}
		bw.WriteString("\n")
		filler := strings.Repeat(",texto", 993) + "\n"
		for r := 2; (r-1)*len(filler) <= 48<<20; r++ {
			fmt.Fprintf(bw, "H-%d,Pessoa %d,%s,341,0001,%d,10.00", r, r, cpf(r), 10000+r)
			bw.WriteString(filler)
		}
		return bw.Flush()
	}
	for _, s := range []struct {
		name, what string
		make       func(io.Writer) error
	}{
		{"wide.csv", "CSV, 40 rows of 1,000,000 empty fields (40 MB)", func(w io.Writer) error { return bombs.WideCSV(w, 40, 1_000_000) }},
		{"xfd.xlsx", "XLSX, 5,000 rows each with a cell at XFD", func(w io.Writer) error { return bombs.WideRows(w, 5000, "XFD") }},
		{"header.csv", "CSV, a 1,000-column header and 48 MB of rows filling it", wideHeader},
		{"long.csv", "CSV, one 45 MB cell (refused)", func(w io.Writer) error { return bombs.LongNameCSV(w, 45<<20) }},
	} {
		path := filepath.Join(dir, s.name)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		err = s.make(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		st, _ := os.Stat(path)
		start := time.Now()
		page, _, err := b.upload(path)
		if err != nil && !strings.Contains(err.Error(), "422") {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		runtime.GC()
		fmt.Printf("upload of %s, %.1f MB: %.2f s, batch page %d KB, peak RSS so far %d MB\n",
			s.what, float64(st.Size())/(1<<20), time.Since(start).Seconds(), len(page)>>10, rss("VmHWM"))
		os.Remove(path)
	}
	return nil
}

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

	var bigPage, bigWhere, path string
	if big > 0 {
		path = filepath.Join(dir, fmt.Sprintf("payouts-%d.xlsx", big))
		if err := writeXLSX(path, big, "B"); err != nil {
			return err
		}
		// lote validate first, then the upload of the same file: side by side
		// in one run, the file in the page cache for both, on a ledger with no
		// other batch (a first upload: no repeat to look for).
		vt, err := validateTime(path)
		if err != nil {
			return err
		}
		start := time.Now()
		bigPage, bigWhere, err = b.upload(path)
		if err != nil {
			return err
		}
		ut := time.Since(start)
		fmt.Printf("upload of a %d-row XLSX to its validation table: %.2f s, RSS %d MB\n", big, ut.Seconds(), rss("VmRSS"))
		fmt.Printf("lote validate on the same file: %.2f s; upload to table / validate = %.2f× (goal: at most 2×)\n",
			vt.Seconds(), ut.Seconds()/vt.Seconds())
	}
	path = filepath.Join(dir, fmt.Sprintf("payouts-%d.xlsx", small))
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

	if hostileShapes {
		if err := hostile(b, dir); err != nil {
			return err
		}
		fmt.Printf("peak RSS after the hostile uploads: %d MB (server, ledger and emulator in one process, the client streaming the files; goal: under 300 MB)\n", rss("VmHWM"))
	}
	if big == 0 || !sendBig {
		return nil
	}
	page, where = bigPage, bigWhere
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

// upload posts the file as the page's form does, streamed from the disk
// (the client holds none of it, so the process's memory is the server's),
// and returns the batch page it leads to, and its path.
func (b *browser) upload(path string) (string, string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("csrf", b.csrf)
		fw, _ := mw.CreateFormFile("file", filepath.Base(path))
		f, err := os.Open(path)
		if err == nil {
			_, err = io.Copy(fw, f)
			f.Close()
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	res, err := b.c.Post(b.base+"/upload", mw.FormDataContentType(), pr)
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
