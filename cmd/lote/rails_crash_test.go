package main

import (
	"bufio"
	"bytes"
	"encoding/json"
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

// railsCrashRows is the size of the rails crash test's sheet: a third TED,
// a third internal transfers to Stone accounts, a third Pix to keys.
const railsCrashRows = 300

// The real lote binary paying a sheet of the three rails, killed with
// SIGKILL at random moments at least crashKills times under dropped
// answers, 5xx and 503 on Pix confirmations, resumed each time: in the end
// the emulator's own lists hold exactly one TED, internal transfer or
// confirmed Pix per row, and the ledger has every row accepted with it.
func TestCrashResumeRails(t *testing.T) {
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
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	dir := t.TempDir()
	key, err := stone.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.pem")
	if err := stone.WriteKeyPair(keyFile, key); err != nil {
		t.Fatal(err)
	}
	doc := func(i int) string { return fake.CPF(400000000 + i) }
	simArgs := []string{"--addr", "127.0.0.1:0", "--mode", "sandbox",
		"--client", "crash=" + keyFile + ".pub", "--account", "acct=100000000000",
		"--latency", "5ms", "--jitter", "5ms", "--drop-rate", "0.05", "--fail-rate", "0.05", "--confirm-fail-rate", "0.1",
		"--seed", strconv.FormatUint(seed, 10)}
	var b strings.Builder
	b.WriteString("reference,name,document,institution_code,branch_code,account_code,account_type,chave_pix,amount_cents\n")
	banks := []string{"341", "001", "237", "104", "033"}
	for i := range railsCrashRows {
		name := fmt.Sprintf("Pessoa %d", i)
		ref := ""
		if i%2 == 0 {
			ref = fmt.Sprintf("RAIL-%04d", i)
		}
		cents := 10000 + i*37
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "%s,%s,%s,%s,0001,%d-%d,CC,,%d\n", ref, name, doc(i), banks[i%len(banks)], 10000+i, i%10, cents)
		case 1:
			simArgs = append(simArgs, "--stone-account", fmt.Sprintf("%d=%s,%s", 70000+i, name, doc(i)))
			fmt.Fprintf(&b, "%s,%s,%s,197,0001,%d,CC,,%d\n", ref, name, doc(i), 70000+i, cents)
		case 2:
			k := fmt.Sprintf("p%d@exemplo.com.br", i)
			simArgs = append(simArgs, "--pix-key", fmt.Sprintf("%s=%s,%s,18236120", k, name, doc(i)))
			fmt.Fprintf(&b, "%s,%s,%s,,,,,%s,%d\n", ref, name, doc(i), k, cents)
		}
	}
	sheet := filepath.Join(dir, "rails.csv")
	if err := os.WriteFile(sheet, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	url := startSim(t, simArgs)

	ledgerFile := filepath.Join(dir, "lote.db")
	runArgs := []string{"run", sheet, "--env", "sandbox", "--api-url", url, "--auth-url", url,
		"--client-id", "crash", "--key", keyFile, "--account-id", "acct",
		"--ledger", ledgerFile, "--rate", "50", "--concurrency", "16", "--lease-ttl", "1s", "--max-attempts", "30"}
	deadline := time.Now().Add(150 * time.Second)
	kills := 0
	startup, prevLeft, prevDelay := 400*time.Millisecond, railsCrashRows, time.Duration(0)
	midway := 0 // kills with some rows sent and some left
	for kills < crashKills {
		if time.Now().After(deadline) {
			t.Fatalf("only %d kills before the deadline", kills)
		}
		left := waitLease(t, ledgerFile, deadline)
		// Learn how long a run takes to start sending (process, key,
		// token, plan; longer on a loaded machine): a kill that let rows
		// through came after it, one at or past it that did not came
		// before it.
		switch {
		case left < prevLeft:
			startup = min(startup, prevDelay)
		case prevDelay >= startup:
			startup = min(2*time.Second, startup*5/4)
		}
		// A quarter of the kills come log-uniformly from 3 ms to the
		// start-up (importing, planning, the first requests); the rest
		// while rows are sent, within their share of the time the rows
		// left take (two requests per row at --rate 50).
		share := 2 * time.Duration(left) * 20 * time.Millisecond / time.Duration(crashKills-kills)
		delay := startup + time.Duration(rng.Float64()*float64(share))
		if rng.IntN(4) == 0 {
			delay = time.Duration(float64(3*time.Millisecond) * math.Pow(float64(startup)/float64(3*time.Millisecond), rng.Float64()))
		}
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
			t.Logf("run ended by itself before a kill at %s: %v\n%s", delay, err, out.String())
			if cmd.ProcessState.ExitCode() == exitOK {
				t.Fatalf("the batch finished after only %d kills (seed %d); want %d", kills, seed, crashKills)
			}
		case <-time.After(delay):
			cmd.Process.Kill()
			<-done
			kills++
			if left > 0 && left < railsCrashRows {
				midway++
			}
			t.Logf("kill %d after %s (%d rows were left)", kills, delay.Round(time.Millisecond), left)
		}
	}
	var last result
	for attempt := 0; ; attempt++ {
		waitLease(t, ledgerFile, deadline)
		last = runBin(t, runArgs...)
		if (last.code != exitInterrupted && last.code != exitUsage) || attempt == 5 {
			break
		}
	}
	if last.code != exitOK {
		t.Fatalf("last run: exit %d, want 0\n%s%s", last.code, last.stdout, last.stderr)
	}

	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var teds []stonetest.Record
	var internals []stonetest.InternalRecord
	var pix []stonetest.PixRecord
	get("/_sim/transfers", &teds)
	get("/_sim/internal_transfers", &internals)
	get("/_sim/pix", &pix)
	paid := map[string]int{} // payee document → payments
	byKey := map[string]string{}
	for _, r := range teds {
		paid[r.Transfer.Target.Entity.Document]++
		byKey[r.IdempotencyKey] = r.Transfer.ID
	}
	for _, r := range internals {
		paid[r.Transfer.Target.Entity.Name]++
		byKey[r.IdempotencyKey] = r.Transfer.ID
	}
	for _, p := range pix {
		if p.Confirmations != 1 {
			t.Errorf("Pix %s to %s confirmed %d times", p.Payment.ID, p.Payment.Target.Entity.Name, p.Confirmations)
		}
		paid[p.Payment.Target.Entity.Name]++
		byKey[p.CreateKey] = p.Payment.ID
	}
	if len(teds) != railsCrashRows/3 || len(internals) != railsCrashRows/3 || len(pix) != railsCrashRows/3 {
		t.Errorf("the bank holds %d TEDs, %d internal transfers and %d Pix; want %d of each", len(teds), len(internals), len(pix), railsCrashRows/3)
	}
	for i := range railsCrashRows {
		who := doc(i)
		if i%3 != 0 {
			who = fmt.Sprintf("Pessoa %d", i)
		}
		if paid[who] != 1 {
			t.Errorf("row %d (%s): paid %d times", i+2, who, paid[who])
		}
	}
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
	for _, r := range bs.RowList {
		if r.State != "accepted" || byKey[r.IdempotencyKey] != r.TransferID {
			t.Errorf("row %d: %s (%s), transfer %s; the bank has %q for its key", r.Row, r.State, r.Error, r.TransferID, byKey[r.IdempotencyKey])
		}
	}
	if midway < crashKills/4 {
		t.Errorf("only %d of %d kills came while rows were being sent (seed %d)", midway, kills, seed)
	}
	t.Logf("%d kills, %d of them while rows were being sent", kills, midway)
}

// startSim runs the emulator binary with args and returns its URL.
func startSim(t *testing.T, args []string) string {
	t.Helper()
	sim := exec.Command(bins.stonesim, args...)
	stdout, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sim.Process.Signal(os.Interrupt)
		sim.Wait()
	})
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatalf("stonesim printed nothing: %v", sc.Err())
	}
	url, ok := strings.CutPrefix(sc.Text(), "stonesim listening on ")
	if !ok {
		t.Fatalf("stonesim said %q", sc.Text())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return url
}
