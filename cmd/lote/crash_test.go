package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lote/internal/fake"
	"lote/stone"
	"lote/stone/stonetest"
)

var crashSeed = flag.Uint64("crash-seed", 0, "seed of the crash test's kill times (0: from the clock; the test logs it)")

// bins are the real binaries the crash test drives, built once by TestMain.
var bins struct {
	lote, stonesim string
	err            error
}

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "lote-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Only the crash test needs them; -short skips it and the build.
	if !testing.Short() {
		bins.lote, bins.stonesim = filepath.Join(dir, "lote"), filepath.Join(dir, "stonesim")
		for bin, pkg := range map[string]string{bins.lote: "lote/cmd/lote", bins.stonesim: "lote/cmd/stonesim"} {
			out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
			if err != nil {
				bins.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				break
			}
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// crashRows is the sheet of the crash test: valid rows with distinct
// payees and amounts (so a double payment shows as a repeated pair), some
// with a reference and some without (two ways of deriving the key), and
// invalid rows, which must never be paid.
const (
	crashValid   = 300
	crashInvalid = 10
	crashKills   = 20
)

func crashSheet(t *testing.T, path string, withReference bool) {
	t.Helper()
	var b strings.Builder
	header := "name,document,institution_code,branch_code,account_code,account_type,amount"
	if withReference {
		header = "reference," + header
	}
	b.WriteString(header + "\n")
	banks := []string{"341", "001", "237", "104", "033"}
	line := func(ref string, fields ...string) {
		if withReference {
			b.WriteString(ref + ",")
		}
		b.WriteString(strings.Join(fields, ",") + "\n")
	}
	for i := range crashValid + crashInvalid {
		if i%31 == 7 && i/31 < crashInvalid {
			// An invalid row: a CPF whose check digits are wrong.
			doc := fake.CPF(200000000 + i)
			bad := doc[:10] + strconv.Itoa((int(doc[10]-'0')+1)%10)
			line("", fmt.Sprintf("Invalido %d", i), bad, "341", "0001", fmt.Sprintf("%d-1", 90000+i), "CC", "10.00")
			continue
		}
		ref := ""
		if i%2 == 0 {
			ref = fmt.Sprintf("CRASH-%04d", i)
		}
		line(ref, fmt.Sprintf("Pessoa %d", i), fake.CPF(100000000+i), banks[i%len(banks)], "0001",
			fmt.Sprintf("%d-%d", 10000+i, i%10), "CC", fmt.Sprintf("%d.%02d", 100+i, i%100))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startStonesim runs the emulator binary with faults, and the extra
// flags, and returns its URL.
func startStonesim(t *testing.T, pubKey string, seed uint64, extra ...string) string {
	t.Helper()
	cmd := exec.Command(bins.stonesim, append([]string{"--addr", "127.0.0.1:0", "--mode", "sandbox",
		"--client", "crash=" + pubKey, "--account", "acct=100000000000",
		"--latency", "5ms", "--jitter", "5ms", "--drop-rate", "0.05", "--fail-rate", "0.05",
		"--seed", strconv.FormatUint(seed, 10)}, extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatalf("stonesim printed nothing: %v", sc.Err())
	}
	url, ok := strings.CutPrefix(sc.Text(), "stonesim listening on ")
	if !ok {
		t.Fatalf("stonesim said %q", sc.Text())
	}
	return url
}

// The real lote binary, killed with SIGKILL at random moments over one
// batch, resumed each time: in the end every valid row was paid exactly
// once and no invalid row was paid. Once for a sheet with a reference
// column (keys from the account and the reference, or from the batch and
// the row where a reference is empty) and once for a sheet without one.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binaries for tens of seconds")
	}
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -crash-seed %d)", seed, seed)
	t.Run("reference column", func(t *testing.T) { crashResume(t, seed, true) })
	t.Run("no reference column", func(t *testing.T) { crashResume(t, seed+1, false) })
}

// crashRun is what a crash test leaves: the emulator, the ledger, the
// connection flags of lote's commands, the bank's transfers by idempotency
// key and the ledger's rows.
type crashRun struct {
	url, ledgerFile string
	conn            []string
	byKey           map[string]stonetest.Record
	rows            []rowStatus
}

// crashResume kills and resumes one batch against stonesim started with
// the extra flags, and checks that every valid row was paid exactly once.
func crashResume(t *testing.T, seed uint64, withReference bool, simFlags ...string) crashRun {
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	dir := t.TempDir()
	key, err := stone.GenerateKey(2048) // keygen's minimum; 4096 would only be slower
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.pem")
	if err := stone.WriteKeyPair(keyFile, key); err != nil {
		t.Fatal(err)
	}
	url := startStonesim(t, keyFile+".pub", seed, simFlags...)
	sheet := filepath.Join(dir, "crash.csv")
	crashSheet(t, sheet, withReference)
	ledgerFile := filepath.Join(dir, "lote.db")
	conn := []string{"--env", "sandbox", "--api-url", url, "--auth-url", url,
		"--client-id", "crash", "--key", keyFile, "--account-id", "acct", "--ledger", ledgerFile}
	runArgs := append(append([]string{"run", sheet}, conn...), "--skip-invalid", "--rate", "400", "--concurrency", "16", "--lease-ttl", "1s")

	deadline := time.Now().Add(90 * time.Second)
	kills, finished := 0, false
	startup, prevLeft, prevDelay := 150*time.Millisecond, crashValid, time.Duration(0)
	for kills < crashKills {
		if time.Now().After(deadline) {
			t.Fatalf("only %d kills before the deadline", kills)
		}
		left := waitLease(t, ledgerFile, deadline)
		if left < prevLeft {
			// The last run sent rows, so starting takes less than its delay.
			startup = min(startup, prevDelay)
		}
		// Kill times are log-uniform from 3 ms (starting up, importing)
		// up to a bound that lets the batch survive crashKills kills: the
		// start-up time (process, key, token, calendar, plan; learnt from
		// the kills that let rows through) plus twice the time to send a
		// share of the rows left at about 2,000 rows/s (the limiter lets a
		// burst of --rate go at once: 16 in flight, 5-10 ms each), at most
		// 1.5 s.
		share := time.Duration(left) * time.Millisecond / time.Duration(crashKills-kills)
		bound := min(1500*time.Millisecond, startup+share)
		delay := time.Duration(float64(3*time.Millisecond) * math.Pow(float64(bound)/float64(3*time.Millisecond), rng.Float64()))
		prevLeft, prevDelay = left, delay
		cmd := exec.Command(bins.lote, runArgs...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			code := cmd.ProcessState.ExitCode()
			t.Logf("run ended by itself before a kill at %s: %v\n%s", delay, err, out.String())
			// 3 (or 2): a fault the emulator injected stopped this run;
			// run again. Any other code: the batch is finished.
			finished = code != exitInterrupted && code != exitUsage
		case <-time.After(delay):
			cmd.Process.Kill()
			<-done
			kills++
			t.Logf("kill %d after %s (%d rows were left)", kills, delay.Round(time.Millisecond), left)
		}
		if finished {
			break
		}
	}
	if kills < crashKills {
		t.Errorf("the batch finished after only %d kills (seed %d); want %d", kills, seed, crashKills)
	}

	// A last run to completion: exit 1 because of the invalid rows.
	var last result
	for attempt := 0; ; attempt++ {
		waitLease(t, ledgerFile, deadline)
		last = runBin(t, runArgs...)
		// A run stopped by injected 5xx before sending, like one that
		// could not confirm every row, asks to be run again.
		if (last.code != exitInterrupted && last.code != exitUsage) || attempt == 5 {
			break
		}
	}
	if last.code != exitRows {
		t.Fatalf("last run: exit %d, want %d (invalid rows)\n%s%s", last.code, exitRows, last.stdout, last.stderr)
	}

	// What the bank holds.
	resp, err := http.Get(url + "/_sim/transfers")
	if err != nil {
		t.Fatal(err)
	}
	var recs []stonetest.Record
	err = json.NewDecoder(resp.Body).Decode(&recs)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]stonetest.Record{}
	byPayee := map[string]int{}
	for _, r := range recs {
		if _, dup := byKey[r.IdempotencyKey]; dup {
			t.Errorf("two transfers with key %s", r.IdempotencyKey)
		}
		byKey[r.IdempotencyKey] = r
		byPayee[fmt.Sprintf("%s/%s/%d", r.Transfer.Target.Entity.Document, r.Transfer.Target.Account.AccountCode, r.Transfer.Amount)]++
		if strings.HasPrefix(r.Transfer.Target.Entity.Name, "Invalido") {
			t.Errorf("an invalid row was paid: %s", r.Transfer.Target.Entity.Name)
		}
	}
	if len(recs) != crashValid {
		t.Errorf("the bank holds %d transfers, want %d (one per valid row)", len(recs), crashValid)
	}
	for p, n := range byPayee {
		if n != 1 {
			t.Errorf("payee/account/amount %s paid %d times", p, n)
		}
	}

	// What the ledger says: every valid row accepted, with the transfer
	// the bank made for its key.
	st := runBin(t, "status", "--ledger", ledgerFile, "--format", "json")
	var list struct {
		Batches []batchStatus `json:"batches"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &list); err != nil || len(list.Batches) != 1 {
		t.Fatalf("status: %v\n%s", err, st.stdout)
	}
	one := runBin(t, "status", list.Batches[0].Batch, "--ledger", ledgerFile, "--format", "json", "--rows")
	var bs batchStatus
	if err := json.Unmarshal([]byte(one.stdout), &bs); err != nil {
		t.Fatalf("status BATCH: %v\n%s", err, one.stdout)
	}
	accepted, invalid := 0, 0
	for _, r := range bs.RowList {
		switch r.State {
		case "accepted":
			accepted++
			rec, ok := byKey[r.IdempotencyKey]
			if !ok || rec.Transfer.ID != r.TransferID {
				t.Errorf("row %d: ledger says transfer %s, the bank has %q for its key", r.Row, r.TransferID, rec.Transfer.ID)
			}
			if rec.Transfer.Amount != r.AmountCents {
				t.Errorf("row %d: ledger amount %d, bank amount %d", r.Row, r.AmountCents, rec.Transfer.Amount)
			}
		case "invalid":
			invalid++
		default:
			t.Errorf("row %d is %s (%s)", r.Row, r.State, r.Error)
		}
	}
	if accepted != crashValid || invalid != crashInvalid {
		t.Errorf("ledger: %d accepted, %d invalid; want %d and %d", accepted, invalid, crashValid, crashInvalid)
	}
	return crashRun{url: url, ledgerFile: ledgerFile, conn: conn, byKey: byKey, rows: bs.RowList}
}

// runBin runs the lote binary to its end.
func runBin(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(bins.lote, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return result{code, out.String(), errb.String()}
}

// waitLease polls until no live lease is held on any batch of the ledger
// (a killed run's lease runs out after --lease-ttl), then returns the
// number of valid rows still to send.
func waitLease(t *testing.T, ledgerFile string, deadline time.Time) int {
	t.Helper()
	if _, err := os.Stat(ledgerFile); err != nil {
		return crashValid // not created yet: nothing to wait for
	}
	for {
		st := runBin(t, "status", "--ledger", ledgerFile, "--format", "json")
		var list struct {
			Batches []batchStatus `json:"batches"`
		}
		if err := json.Unmarshal([]byte(st.stdout), &list); err != nil {
			t.Fatalf("status: exit %d, %v\n%s%s", st.code, err, st.stdout, st.stderr)
		}
		held := false
		for _, b := range list.Batches {
			held = held || b.LeaseHolder != ""
		}
		if !held {
			if len(list.Batches) == 0 || list.Batches[0].State == "importing" {
				return crashValid
			}
			return list.Batches[0].States["pending"].Rows + list.Batches[0].States["attempted"].Rows
		}
		if time.Now().After(deadline) {
			t.Fatal("a lease never expired")
		}
		// The lease ends on the wall clock of another process: poll it.
		<-time.After(50 * time.Millisecond)
	}
}
