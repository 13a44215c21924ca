// Command runbench measures `lote run`'s engine (package batch) against the
// emulator over real HTTP: sending throughput with and without a server
// rate limit, and importing then re-running a large sheet.
//
//	go run ./bench/runbench -rows 10000            # throughput
//	go run ./bench/runbench -import-rows 1000000   # import and finished re-run
//	go run ./bench/runbench -rows 0 -pix-rows 2000 -rate 200   # Pix: requests/s against --rate
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"lote/batch"
	"lote/check"
	"lote/internal/fake"
	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
	"lote/validate"
)

var errStop = errors.New("stop after the plan")

// noRef leaves the reference column out of generated sheets.
var noRef *bool

// cpuProfile names the file the import run's CPU profile goes to.
var cpuProfile *string

func main() {
	rows := flag.Int("rows", 10000, "rows for the throughput runs (0 skips them)")
	importRows := flag.Int("import-rows", 0, "rows for the import run (0 skips it)")
	dir := flag.String("dir", "", "work directory (default: a temporary one)")
	noRef = flag.Bool("no-ref", false, "generate sheets without a reference column (keys from batch and row)")
	onlyLimited := flag.Bool("only-limited", false, "skip the run without a server limit")
	cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the import run to this file")
	pixRows := flag.Int("pix-rows", 0, "rows of a Pix-to-key sheet (two requests per row) for a run at -rate (0 skips it)")
	rate := flag.Float64("rate", 200, "the run's --rate for the Pix run, in requests per second")
	flag.Parse()
	if *pixRows > 0 {
		if err := pixThroughput(*dir, *pixRows, *rate); err != nil {
			fmt.Fprintln(os.Stderr, "runbench:", err)
			os.Exit(1)
		}
	}
	limits := []float64{0, 100}
	if *onlyLimited {
		limits = limits[1:]
	}
	if err := run(*rows, *importRows, *dir, limits); err != nil {
		fmt.Fprintln(os.Stderr, "runbench:", err)
		os.Exit(1)
	}
}

func run(rows, importRows int, dir string, limits []float64) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "runbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	if rows > 0 {
		for _, limit := range limits {
			if err := throughput(dir, key, rows, limit); err != nil {
				return err
			}
		}
	}
	if importRows > 0 {
		if err := importRun(dir, key, importRows); err != nil {
			return err
		}
		// A finished batch of the same size, cheaply: sending a million
		// rows through the emulator would take hours at a realistic rate.
		// Its ledger is opened once the import's is closed.
		return finishedRerun(dir, key, importRows)
	}
	return nil
}

// setup starts an emulator (20 ms latency, limit req/s per client when
// set), a client and a fresh ledger.
func setup(dir string, key *rsa.PrivateKey, limit float64, count *counts) (*stonetest.Server, *stone.Client, *ledger.Ledger, error) {
	srv := stonetest.NewServer(stonetest.Options{Sandbox: true, Log: count.log, Faults: stonetest.Faults{
		Latency: 20 * time.Millisecond, RateLimit: limit, RateBurst: 20}})
	srv.AddClient("app", &key.PublicKey)
	srv.AddAccount("acc", 1<<60)
	c, err := stone.NewClient(stone.Config{APIURL: srv.URL, AuthURL: srv.URL, ClientID: "app", Key: key})
	if err != nil {
		return nil, nil, nil, err
	}
	db := filepath.Join(dir, fmt.Sprintf("ledger-%d.db", time.Now().UnixNano()))
	l, err := ledger.Open(db, ledger.Options{})
	return srv, c, l, err
}

// counts tallies create requests as the emulator serves them (its request
// log keeps only the most recent 10,000).
type counts struct {
	mu               sync.Mutex
	creates, limited int
	pix              int // Pix creates and confirmations
}

func (c *counts) log(r stonetest.RequestLog) {
	if c == nil {
		return
	}
	if strings.HasPrefix(r.Path, "/api/v1/pix/outbound_pix_payments") && r.Method == http.MethodPost {
		c.mu.Lock()
		c.pix++
		c.mu.Unlock()
		return
	}
	if r.Path != "/api/v1/external_transfers" {
		return
	}
	c.mu.Lock()
	c.creates++
	if r.Status == http.StatusTooManyRequests {
		c.limited++
	}
	c.mu.Unlock()
}

func throughput(dir string, key *rsa.PrivateKey, rows int, limit float64) error {
	count := &counts{}
	srv, c, l, err := setup(dir, key, limit, count)
	if err != nil {
		return err
	}
	defer srv.Close()
	defer l.Close()
	path := filepath.Join(dir, fmt.Sprintf("tp-%d-%v.csv", rows, limit))
	if err := writeSheet(path, rows, fmt.Sprint(limit)); err != nil {
		return err
	}
	var sendStart time.Time
	opts := batch.RunOptions{Ledger: l, Client: c, AccountID: "acc", Env: "sim", Rate: 200, Concurrency: 16,
		Check:   check.CheckOptions{Validate: validate.Options{}},
		Confirm: func(context.Context, batch.Plan) error { sendStart = time.Now(); return nil }}
	rep, err := batch.Run(context.Background(), path, opts)
	if err != nil {
		return err
	}
	secs := time.Since(sendStart).Seconds()
	count.mu.Lock()
	creates, limited := count.creates, count.limited
	count.mu.Unlock()
	what := "no server limit"
	if limit > 0 {
		what = fmt.Sprintf("server limit %.0f/s", limit)
	}
	fmt.Printf("send %d rows, Rate 200, Concurrency 16, 20 ms latency, %s: %.1f s, %.1f rows/s, %d create requests, %d × 429, accepted %d, transfers %d, unresolved %d\n",
		rows, what, secs, float64(rows)/secs, creates, limited, rep.Summary[ledger.Accepted].Rows, len(srv.Transfers()), rep.Unresolved)
	if rep.Summary[ledger.Accepted].Rows != rows || len(srv.Transfers()) != rows {
		return fmt.Errorf("rows lost: %+v", rep.Summary)
	}
	return nil
}

func importRun(dir string, key *rsa.PrivateKey, rows int) error {
	srv, c, l, err := setup(dir, key, 0, nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	defer l.Close()
	path := filepath.Join(dir, fmt.Sprintf("import-%d.csv", rows))
	if err := writeSheet(path, rows, "imp"); err != nil {
		return err
	}
	opts := batch.RunOptions{Ledger: l, Client: c, AccountID: "acc", Env: "sim",
		Confirm: func(context.Context, batch.Plan) error { return errStop }}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	start := time.Now()
	cpu := cpuTime()
	rep, err := batch.Run(context.Background(), path, opts)
	pprof.StopCPUProfile()
	if !errors.Is(err, errStop) {
		return fmt.Errorf("import: %v", err)
	}
	fmt.Printf("import %d rows (to plan): %.1f s (CPU %.1f s), peak RSS %d MB, valid %d, load average %s\n",
		rows, time.Since(start).Seconds(), (cpuTime() - cpu).Seconds(), peakRSS(), rep.Plan.Valid, loadAverage())
	return nil
}

// finishedRerun imports a sheet of invalid rows with SkipInvalid (the
// batch is done at once, nothing to send), then times running it again.
func finishedRerun(dir string, key *rsa.PrivateKey, rows int) error {
	srv, c, l, err := setup(dir, key, 0, nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	defer l.Close()
	path := filepath.Join(dir, fmt.Sprintf("done-%d.csv", rows))
	if err := writeBadSheet(path, rows); err != nil {
		return err
	}
	opts := batch.RunOptions{Ledger: l, Client: c, AccountID: "acc", Env: "sim", SkipInvalid: true}
	rep, err := batch.Run(context.Background(), path, opts)
	if err != nil {
		return err
	}
	if rep.Batch.State != ledger.BatchDone {
		return fmt.Errorf("batch not done: %s", rep.Batch.State)
	}
	start := time.Now()
	rep, err = batch.Run(context.Background(), path, opts)
	if err != nil {
		return err
	}
	fmt.Printf("re-run of a finished %d-row batch: %.2f s (NothingToDo %v)\n", rows, time.Since(start).Seconds(), rep.NothingToDo)
	return nil
}

func writeSheet(path string, rows int, salt string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	if !*noRef {
		b.WriteString("reference,")
	}
	b.WriteString("name,document,institution_code,branch_code,account_code,account_type,amount_cents\n")
	for i := 1; i <= rows; i++ {
		if !*noRef {
			fmt.Fprintf(&b, "%s-%d,", salt, i)
		}
		fmt.Fprintf(&b, "Pessoa %d,%s,341,1234,%d,CC,%d\n", i, cpf(i), 10000+i, 1000+i%5000)
		if b.Len() > 1<<20 {
			if _, err := f.WriteString(b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	if _, err := f.WriteString(b.String()); err != nil {
		return err
	}
	return f.Close()
}

func writeBadSheet(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("name,document,institution_code,branch_code,account_code,account_type,amount_cents\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "Pessoa %d,123,341,1234,%d,CC,100\n", i, 10000+i)
		if b.Len() > 1<<20 {
			if _, err := f.WriteString(b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	if _, err := f.WriteString(b.String()); err != nil {
		return err
	}
	return f.Close()
}

// cpf returns a valid CPF built from n.
func cpf(n int) string { return fake.CPF(100000000 + n%800000000) }

// cpuTime is the CPU time the process has used, user and system: on a
// shared machine it says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the 1-minute load average, to say how busy the machine
// was (other processes share its cores).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}

func peakRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss / 1024
}

// pixThroughput pays a sheet of Pix to keys, each row a create and a
// confirmation, at rate requests/s with 20 ms of latency, and reports the
// requests served per second of sending against the rate.
func pixThroughput(dir string, rows int, rate float64) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "runbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	count := &counts{}
	srv, c, l, err := setup(dir, key, 0, count)
	if err != nil {
		return err
	}
	defer srv.Close()
	defer l.Close()
	path := filepath.Join(dir, fmt.Sprintf("pix-%d.csv", rows))
	var b strings.Builder
	b.WriteString("reference,name,document,chave_pix,amount_cents\n")
	for i := 1; i <= rows; i++ {
		k := fmt.Sprintf("p%d@exemplo.com.br", i)
		if err := srv.AddPixKey(k, stonetest.PixKey{Name: fmt.Sprintf("Pessoa %d", i), Document: cpf(i), ISPB: "18236120"}); err != nil {
			return err
		}
		fmt.Fprintf(&b, "PIX-%d,Pessoa %d,%s,%s,%d\n", i, i, cpf(i), k, 1000+i%5000)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return err
	}
	var sendStart time.Time
	opts := batch.RunOptions{Ledger: l, Client: c, AccountID: "acc", Env: "sim", Rate: rate, Concurrency: 16,
		Check:   check.CheckOptions{Validate: validate.Options{}},
		Confirm: func(context.Context, batch.Plan) error { sendStart = time.Now(); return nil }}
	rep, err := batch.Run(context.Background(), path, opts)
	if err != nil {
		return err
	}
	secs := time.Since(sendStart).Seconds()
	count.mu.Lock()
	reqs := count.pix
	count.mu.Unlock()
	confirmed := 0
	for _, p := range srv.PixPayments() {
		confirmed += p.Confirmations
	}
	perSec := float64(reqs) / secs
	fmt.Printf("pay %d Pix rows, Rate %.0f, Concurrency 16, 20 ms latency: %.1f s, %d Pix requests (create and confirm), %.1f requests/s = %.2f of --rate, accepted %d, confirmed %d, unresolved %d\n",
		rows, rate, secs, reqs, perSec, perSec/rate, rep.Summary[ledger.Accepted].Rows, confirmed, rep.Unresolved)
	if rep.Summary[ledger.Accepted].Rows != rows || confirmed != rows {
		return fmt.Errorf("rows lost: %+v, %d confirmed", rep.Summary, confirmed)
	}
	return nil
}
