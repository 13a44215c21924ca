package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lote/batch"
	"lote/check"
	"lote/internal/fake"
	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
	"lote/validate"
)

// emuStart is a Tuesday, 10:00 in São Paulo: inside the TED window.
var emuStart = time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)

const testAccount = "acc-1"

// env is an emulator, a client for it and a ledger: batches are paid with
// batch.Run, then reconciled.
type env struct {
	t   *testing.T
	srv *stonetest.Server
	c   *stone.Client
	l   *ledger.Ledger
	dir string
}

func newEnv(t *testing.T, o stonetest.Options) *env {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return emuStart }
	}
	srv := stonetest.NewServer(o)
	t.Cleanup(srv.Close)
	srv.AddClient("app-1", &fake.Key().PublicKey)
	srv.AddAccount(testAccount, 1_000_000_000)
	c, err := stone.NewClient(stone.Config{APIURL: srv.URL, AuthURL: srv.URL, ClientID: "app-1", Key: fake.Key(), Now: srv.Now})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := ledger.Open(filepath.Join(dir, "ledger.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &env{t: t, srv: srv, c: c, l: l, dir: dir}
}

// opts are run options for tests: fast, no real sleeping.
func (e *env) opts() batch.RunOptions {
	return batch.RunOptions{
		Ledger: e.l, Client: e.c, AccountID: testAccount, Env: "sim",
		Check:       check.CheckOptions{Validate: validate.Options{Today: emuStart}},
		Rate:        10000,
		Concurrency: 4,
		Holder:      "test",
		Sleep:       fake.NoSleep,
	}
}

// payee is one generated row.
type payee struct {
	ref, name, doc, inst, branch, account, typ string
	cents                                      int64
}

func payees(n int) []payee {
	out := make([]payee, n)
	for i := range out {
		out[i] = payee{ref: fmt.Sprintf("NF-%d", i+1), name: fmt.Sprintf("Pessoa %d", i+1), doc: fake.CPF(100000000 + (i+1)*7919%800000000),
			inst: "341", branch: "1234", account: fmt.Sprintf("%d", 10000+i*13), typ: "CC", cents: int64(1000 + i)}
	}
	return out
}

// writeCSV writes the payees as a sheet; withRef adds the reference column.
func (e *env) writeCSV(name string, ps []payee, withRef bool) string {
	var b strings.Builder
	if withRef {
		b.WriteString("reference,")
	}
	b.WriteString("name,document,institution_code,branch_code,account_code,account_type,amount_cents\n")
	for _, p := range ps {
		if withRef {
			b.WriteString(p.ref + ",")
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%d\n", p.name, p.doc, p.inst, p.branch, p.account, p.typ, p.cents)
	}
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// rows returns the batch's rows by Excel row number.
func (e *env) rows(batch string) map[int]ledger.Row {
	e.t.Helper()
	out := map[int]ledger.Row{}
	for r, err := range e.l.Rows(context.Background(), batch) {
		if err != nil {
			e.t.Fatal(err)
		}
		out[r.Row] = r
	}
	return out
}
