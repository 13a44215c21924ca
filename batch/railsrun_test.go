package batch

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
	"lote/validate"
)

// railsSheet is a sheet mixing the three rails: TEDs, accounts at Stone,
// and Pix to a key of each kind; the last row's e-mail key belongs to
// someone else.
func railsSheet(t *testing.T, e *env) (path string, keys map[string]stonetest.PixKey) {
	t.Helper()
	keys = map[string]stonetest.PixKey{
		cpf(101):                               {Name: "Carla Dias", Document: cpf(101)},
		"11222333000181":                       {Name: "Padaria Pão Quente Ltda", Document: "11222333000181", ISPB: "60701190"},
		"joao.souza@exemplo.com.br":            {Name: "João Souza", Document: cpf(102), ISPB: "18236120"},
		"+5511987654321":                       {Name: "Ana Lima", Document: cpf(103), ISPB: "00000000"},
		"123e4567-e89b-12d3-a456-426614174000": {Name: "Bruno Alves", Document: cpf(104)},
		"fraude@exemplo.com":                   {Name: "Someone Else", Document: cpf(105), ISPB: "18236120"},
	}
	for k, v := range keys {
		if err := e.srv.AddPixKey(k, v); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.AddStoneAccount("58859", stonetest.StoneAccount{Name: "Fernando Antônio Pereira", Document: cpf(106)})
	e.srv.AddStoneAccount("77001", stonetest.StoneAccount{Name: "Gabriela Rocha", Document: cpf(107)})
	sheet := "reference,name,document,institution_code,branch_code,account_code,account_type,chave_pix,amount_cents\n" +
		"T1,Pessoa Um," + cpf(1) + ",341,1234,10001,CC,,1001\n" +
		"T2,Pessoa Dois," + cpf(2) + ",001,4321,20002,CC,,1002\n" +
		"I1,Fernando A. Pereira," + cpf(106) + ",197,0001,58859,CC,,2001\n" +
		"I2,Gabriela Rocha," + cpf(107) + ",197,0001,77001,CC,,2002\n" +
		"P1,Carla Dias," + cpf(101) + ",,,,," + cpf(101) + ",3001\n" +
		"P2,Padaria Pao Quente," + "11222333000181" + ",,,,,11.222.333/0001-81,3002\n" +
		"P3,JOAO SOUZA," + cpf(102) + ",,,,,Joao.Souza@Exemplo.com.br,3003\n" +
		"P4,Ana Lima," + cpf(103) + ",,,,,+55 (11) 98765-4321,3004\n" +
		"P5,Bruno Alves," + cpf(104) + ",,,,,123E4567-E89B-12D3-A456-426614174000,3005\n" +
		"P6,Maria Santos," + cpf(108) + ",,,,,fraude@exemplo.com,3006\n"
	path = filepath.Join(e.dir, "rails.csv")
	if err := os.WriteFile(path, []byte(sheet), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, keys
}

// checkRailsOnce asserts, from the emulator's own lists, that every row of
// the rails sheet was paid exactly once by its rail, and that the Pix to
// someone else's key (row 11) was created and never confirmed.
func checkRailsOnce(t *testing.T, e *env, batch string) {
	t.Helper()
	rows := e.rows(batch)
	if n := len(e.srv.Transfers()); n != 2 {
		t.Errorf("%d TEDs at the emulator, want 2", n)
	}
	internals := map[string]int{}
	for _, it := range e.srv.InternalTransfers() {
		internals[it.IdempotencyKey]++
	}
	if len(e.srv.InternalTransfers()) != 2 {
		t.Errorf("%d internal transfers at the emulator, want 2", len(e.srv.InternalTransfers()))
	}
	pix := map[string][]stonetest.PixRecord{}
	for _, p := range e.srv.PixPayments() {
		pix[p.CreateKey] = append(pix[p.CreateKey], p)
	}
	if n := len(e.srv.PixPayments()); n != 6 {
		t.Errorf("%d Pix created at the emulator, want 6 (one per Pix row)", n)
	}
	for n := 2; n <= 11; n++ {
		r := rows[n]
		switch {
		case n <= 3:
			if r.Rail != ledger.RailTED || r.State != ledger.Accepted {
				t.Errorf("row %d: %s %s, want an accepted TED", n, r.Rail, r.State)
			}
		case n <= 5:
			if r.Rail != ledger.RailInternal || r.State != ledger.Accepted || internals[r.IdempotencyKey] != 1 {
				t.Errorf("row %d: %s %s, %d internal transfers with its key; want one, accepted", n, r.Rail, r.State, internals[r.IdempotencyKey])
			}
		default:
			ps := pix[r.IdempotencyKey]
			if r.Rail != ledger.RailPix || len(ps) != 1 {
				t.Errorf("row %d: rail %s, %d Pix with its key; want 1", n, r.Rail, len(ps))
				continue
			}
			p := ps[0]
			if p.Payment.ID != r.PixPaymentID || p.Payment.EndToEndID != r.EndToEndID {
				t.Errorf("row %d: ledger holds Pix %s/%s, emulator %s/%s", n, r.PixPaymentID, r.EndToEndID, p.Payment.ID, p.Payment.EndToEndID)
			}
			if n == 11 {
				if r.State != ledger.NeedsReview || r.ErrorCode != CodePayeeMismatch || p.Confirmations != 0 || p.Payment.Status != stone.PixCreated ||
					!strings.Contains(r.ErrorMessage, `"Someone Else"`) || !strings.Contains(r.ErrorMessage, `"Maria Santos"`) {
					t.Errorf("row 11 (someone else's key): %s %s %q; Pix %s confirmed %d times; want held, never confirmed",
						r.State, r.ErrorCode, r.ErrorMessage, p.Payment.Status, p.Confirmations)
				}
				continue
			}
			if r.State != ledger.Accepted || r.TransferID != p.Payment.ID || p.Confirmations != 1 || p.ConfirmKey != r.PixConfirmKey ||
				r.PixConfirmKey == r.IdempotencyKey {
				t.Errorf("row %d: %s %s (%s), transfer %s; Pix %s confirmed %d times with key %q (ledger %q)",
					n, r.State, r.ErrorCode, r.ErrorMessage, r.TransferID, p.Payment.ID, p.Confirmations, p.ConfirmKey, r.PixConfirmKey)
			}
		}
	}
}

func TestRunPaysEveryRailOnceUnderFaults(t *testing.T) {
	e := newEnv(t, stonetest.Options{Seed: 11})
	e.srv.SetFaults(stonetest.Faults{FailRate: 0.15, DropRate: 0.25, PixConfirmUnavailableRate: 0.2})
	path, _ := railsSheet(t, e)
	o := e.opts()
	o.MaxAttempts = 30
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unresolved != 0 || rep.Summary[ledger.Accepted].Rows != 9 || rep.Summary[ledger.NeedsReview].Rows != 1 {
		t.Fatalf("report: unresolved %d, summary %+v", rep.Unresolved, rep.Summary)
	}
	wantRails := []RailPlan{{"ted", 2, 2003}, {"internal", 2, 4003}, {"pix", 6, 18021}}
	if !slices.Equal(rep.Plan.Rails, wantRails) {
		t.Errorf("plan by rail %+v, want %+v", rep.Plan.Rails, wantRails)
	}
	checkRailsOnce(t, e, rep.Batch.ID)

	// The results sheet says each row's rail, a Pix's end-to-end id and
	// the payee Stone resolved.
	out := filepath.Join(e.dir, "rails.results.csv")
	if err := WriteResults(context.Background(), e.l, rep.Batch.ID, out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	rows := e.rows(rep.Batch.ID)
	for _, want := range []string{
		"T1,Pessoa Um,", ",ted,,\r\n",
		",internal,,\r\n",
		",pix," + rows[6].EndToEndID + ",\"Carla Dias, ***",
		"needs_review,,,,\"The Pix key belongs to \"\"Someone Else\"\"",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("results lack %q:\n%s", want, b)
		}
	}

	// Running it again sends nothing: the held Pix is not confirmed.
	before := e.srv.RequestCount()
	if _, err := Run(context.Background(), path, o); err != nil {
		t.Fatal(err)
	}
	if e.srv.RequestCount() != before {
		t.Errorf("second run made %d requests", e.srv.RequestCount()-before)
	}
	checkRailsOnce(t, e, rep.Batch.ID)
}

// A run stopped between a Pix's create and its confirmation leaves the
// row attempted with its payment; the resume reads that payment and
// confirms it, never creating a second one.
func TestRunResumesPixBetweenCreateAndConfirm(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stopped atomic.Bool
	e := newEnv(t, stonetest.Options{InFlight: func(r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/pix/outbound_pix_payments") && !strings.HasSuffix(r.URL.Path, "/confirm") && stopped.CompareAndSwap(false, true) {
			cancel() // the create is stored and answered; nothing more is sent
		}
	}})
	path, _ := railsSheet(t, e)
	o := e.opts()
	o.Concurrency = 1
	rep, err := Run(ctx, path, o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted {
		t.Fatalf("run not interrupted: %+v", rep.Summary)
	}
	var created ledger.Row
	for _, r := range e.rows(rep.Batch.ID) {
		if r.PixPaymentID != "" {
			created = r
		}
	}
	if created.State != ledger.Attempted || created.PixConfirmKey == "" {
		t.Fatalf("row with a created Pix: %+v, want attempted with its confirm key", created)
	}
	if p, ok := e.srv.Pix(created.PixPaymentID); !ok || p.Payment.Status != stone.PixCreated {
		t.Fatalf("emulator has %+v, want the payment CREATED", p)
	}
	rep, err = Run(context.Background(), path, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, r := range e.srv.Requests() {
		if r.Method == "GET" && r.Path == "/api/v1/pix/outbound_pix_payments/"+created.PixPaymentID {
			reads++
		}
	}
	if reads != 1 {
		t.Errorf("the created payment was read %d times on resume, want 1", reads)
	}

	checkRailsOnce(t, e, rep.Batch.ID)
}

// With BankRail auto, bank data at an institution in Pix go by Pix by bank
// data; an account Pix cannot reach (a deposit account, CD) stays a TED.
func TestRunPixByBankData(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	sheet := "name,document,institution_code,branch_code,account_code,account_type,amount_cents\n" +
		"Pessoa Um," + cpf(1) + ",341,501,10001,CC,1001\n" +
		"Pessoa Dois," + cpf(2) + ",341,1234,20002,CD,1002\n"
	path := filepath.Join(e.dir, "auto.csv")
	if err := os.WriteFile(path, []byte(sheet), 0o600); err != nil {
		t.Fatal(err)
	}
	o := e.opts()
	o.Check.Validate.BankRail = validate.RailAuto
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	rows := e.rows(rep.Batch.ID)
	if rows[2].Rail != ledger.RailPix || rows[2].State != ledger.Accepted || rows[3].Rail != ledger.RailTED || rows[3].State != ledger.Accepted {
		t.Fatalf("rows: %s %s, %s %s; want an accepted Pix and an accepted TED", rows[2].Rail, rows[2].State, rows[3].Rail, rows[3].State)
	}
	pix := e.srv.PixPayments()
	if len(pix) != 1 || len(e.srv.Transfers()) != 1 {
		t.Fatalf("%d Pix and %d TEDs at the emulator, want 1 and 1", len(pix), len(e.srv.Transfers()))
	}
	var body stone.CreatePixPayment
	if err := json.Unmarshal(pix[0].Request, &body); err != nil {
		t.Fatal(err)
	}
	if body.Key != "" || body.Target == nil || body.Target.Institution.ISPB != "60701190" || body.Target.Account.BranchCode != "0501" ||
		body.Target.Account.AccountCode != "10001" || body.Target.Entity.Document != cpf(1) || pix[0].Confirmations != 1 {
		t.Errorf("Pix sent %s, confirmed %d times; want Itaú's bank data, branch 0501", pix[0].Request, pix[0].Confirmations)
	}
}

// A Pix created and not confirmed is confirmed on a resume days later: it
// is read by its id, so the age of its create's key does not matter (a row
// whose create may have been sent without an answer is held instead).
func TestRunResumesCreatedPixAfterKeyLifetime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e := newEnv(t, stonetest.Options{InFlight: func(r *http.Request) {
		if r.URL.Path == "/api/v1/pix/outbound_pix_payments" {
			cancel()
		}
	}})
	if err := e.srv.AddPixKey("ana@exemplo.com", stonetest.PixKey{Name: "Ana Lima", Document: cpf(1)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir, "one.csv")
	if err := os.WriteFile(path, []byte("name,document,chave_pix,amount_cents\nAna Lima,"+cpf(1)+",ana@exemplo.com,1500\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if rep, err := Run(ctx, path, e.opts()); err != nil || !rep.Interrupted {
		t.Fatalf("first run: %v, %+v", err, rep)
	}
	o := e.opts()
	o.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	r := e.rows(rep.Batch.ID)[2]
	pix := e.srv.PixPayments()
	if r.State != ledger.Accepted || len(pix) != 1 || pix[0].Confirmations != 1 || r.TransferID != pix[0].Payment.ID {
		t.Errorf("row %s %s %q; %d Pix; want accepted by the one Pix, confirmed once", r.State, r.ErrorCode, r.ErrorMessage, len(pix))
	}
}
