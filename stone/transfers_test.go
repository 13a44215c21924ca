package stone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// accepted answers a create with Stone's documented 202 example.
func accepted(t testing.TB) http.HandlerFunc {
	seed := seedTransfer(t)
	return func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusAccepted, string(seed))
	}
}

func TestCreateTransferWire(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		in     CreateExternalTransfer
	}{
		{
			name:   "checking account of a person",
			golden: "create_cpf_checking.golden",
			in: CreateExternalTransfer{
				Amount:    123456, // R$ 1.234,56
				AccountID: "6e4a0c5e-3c0e-4a8e-9a50-1f1d0c3b6a11",
				Target: TransferTarget{
					Account: TargetAccount{AccountCode: "58859", BranchCode: "1", InstitutionCode: "90400888", AccountType: AccountChecking},
					Entity:  TargetEntity{Name: "Octacilio Impoluto", Document: "62752545053", DocumentType: "cpf"},
				},
			},
		},
		{
			name:   "payment account of a company, scheduled, with description",
			golden: "create_cnpj_payment_scheduled.golden",
			in: CreateExternalTransfer{
				Amount:    1, // one centavo
				AccountID: "6e4a0c5e-3c0e-4a8e-9a50-1f1d0c3b6a11",
				Target: TransferTarget{
					// PG has no branch: none is sent.
					Account: TargetAccount{AccountCode: "1234567890123", InstitutionCode: "260", AccountType: AccountPayment},
					Entity:  TargetEntity{Name: "Padaria Pão Quente Ltda", Document: "12ABC34501DE35", DocumentType: "cnpj"},
				},
				ScheduledTo: "2026-03-12",
				Description: "Fornecedor março",
			},
		},
		{
			name:   "no optional fields",
			golden: "create_minimal.golden",
			in: CreateExternalTransfer{
				Amount:    999999999999999999, // Stone's maximum, exact in int64
				AccountID: "acc",
				Target: TransferTarget{
					Account: TargetAccount{AccountCode: "12", InstitutionCode: "00000000"}, // Banco do Brasil's ISPB
					Entity:  TargetEntity{Name: "A", Document: "11144477735"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStone(t, accepted(t))
			c := f.client(t, newClock())
			tr, err := c.CreateTransfer(context.Background(), "batch-1-row-2", tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if tr.ID != "7458c329-c5e9-4cc8-8174-3aa6210a8867" || tr.Status != StatusApproved || tr.Fee != 400 {
				t.Errorf("transfer = %s %s fee %d", tr.ID, tr.Status, tr.Fee)
			}
			req := f.Requests()[0]
			if req.Method != http.MethodPost || req.Path != "/api/v1/external_transfers" {
				t.Errorf("request %s %s", req.Method, req.Path)
			}
			if got := req.Header.Get("x-stone-idempotency-key"); got != "batch-1-row-2" {
				t.Errorf("idempotency key = %q", got)
			}
			if got := req.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			for _, bad := range []string{`"Type"`, `:""`, `{}`, `null`} {
				if strings.Contains(string(req.Body), bad) {
					t.Errorf("body has %s: %s", bad, req.Body)
				}
			}
			golden(t, tt.golden, append(req.Body, '\n'))
		})
	}
}

func TestIdempotencyKeyCheckedBeforeSending(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		wantErr bool
		sent    string
	}{
		{"72 characters", strings.Repeat("k", 72), false, strings.Repeat("k", 72)},
		{"73 characters", strings.Repeat("k", 73), true, ""},
		{"72 after trimming", "  " + strings.Repeat("k", 72) + "\t", false, strings.Repeat("k", 72)},
		{"empty", "", true, ""},
		{"only spaces", "   ", true, ""},
		{"newline inside", "a\nb", true, ""},
		{"non-ASCII", "lote-ação", true, ""},
		{"uuid", "0d1f3c2a-9a4e-4c1b-8f55-3f1a2b4c5d6e", false, "0d1f3c2a-9a4e-4c1b-8f55-3f1a2b4c5d6e"},
	}
	body := CreateExternalTransfer{Amount: 100, AccountID: "acc", Target: TransferTarget{
		Account: TargetAccount{AccountCode: "12", InstitutionCode: "033"}, Entity: TargetEntity{Name: "A", Document: "11144477735"}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStone(t, accepted(t))
			c := f.client(t, newClock())
			_, err := c.CreateTransfer(context.Background(), tt.key, body)
			if tt.wantErr {
				if !errors.Is(err, ErrIdempotencyKey) || !errors.Is(err, ErrNotSent) {
					t.Fatalf("err = %v, want ErrIdempotencyKey and ErrNotSent", err)
				}
				if o, _ := Classify(err); o != OutcomeFinal {
					t.Errorf("Classify = %v, want final", o)
				}
				if n := len(f.Requests()) + int(f.tokenCalls.Load()); n != 0 {
					t.Errorf("%d requests made, want none", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Requests()[0].Header.Get("x-stone-idempotency-key"); got != tt.sent {
				t.Errorf("sent key %q, want %q", got, tt.sent)
			}
		})
	}
}

func TestCreateWithoutIDIsAmbiguous(t *testing.T) {
	for _, body := range []string{`{"status":"APPROVED"}`, `{"id":`, ``} {
		f := newFakeStone(t, func(w http.ResponseWriter, r *http.Request) { reply(w, http.StatusAccepted, body) })
		c := f.client(t, newClock())
		_, err := c.CreateTransfer(context.Background(), "k1", CreateExternalTransfer{Amount: 1})
		if o, why := Classify(err); o != OutcomeAmbiguous {
			t.Errorf("body %q: Classify = %v %q, want ambiguous", body, o, why)
		}
		if errors.Is(err, ErrNotSent) {
			t.Errorf("body %q: ErrNotSent on an accepted request", body)
		}
	}
}

func TestSeedTransferRoundTrip(t *testing.T) {
	seed := seedTransfer(t)
	var tr Transfer
	if err := json.Unmarshal(seed, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Amount != 100 || tr.Fee != 400 || tr.Target.Account.InstitutionNumberCode != "033" || tr.Target.Entity.DocumentType != "cpf" {
		t.Errorf("decoded %+v", tr)
	}
	if tr.ApprovedAt == nil || tr.ApprovedAt.Format("2006-01-02T15:04:05Z07:00") != "2019-08-02T18:14:34Z" {
		t.Errorf("approved_at = %v", tr.ApprovedAt)
	}
	out, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jsonMap(t, out), jsonMap(t, seed); !reflect.DeepEqual(got, want) {
		t.Errorf("re-encoded seed differs:\ngot:  %s\nwant: %s", out, seed)
	}
}

func TestGetCancelDryRun(t *testing.T) {
	seed := seedTransfer(t)
	f := newFakeStone(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "GET /api/v1/external_transfers/7458c329-c5e9-4cc8-8174-3aa6210a8867":
			reply(w, http.StatusOK, string(seed))
		case "POST /api/v1/external_transfers/7458c329-c5e9-4cc8-8174-3aa6210a8867/cancel":
			w.WriteHeader(http.StatusNoContent)
		case "POST /api/v1/dry_run/external_transfers":
			reply(w, http.StatusAccepted, `{"id":null,"amount":100,"fee":400,"status":"APPROVED","target":{"account":{"account_code":"58859","institution_code":"033","institution_ispb":"90400888"},"entity":{"name":"A","document":"1"}}}`)
		default:
			reply(w, http.StatusNotFound, `{"type":"srn:error:not_found"}`)
		}
	})
	c := f.client(t, newClock())
	ctx := context.Background()
	tr, err := c.GetTransfer(ctx, "7458c329-c5e9-4cc8-8174-3aa6210a8867")
	if err != nil || tr.Status != StatusApproved {
		t.Fatalf("GetTransfer = %+v, %v", tr, err)
	}
	var info CallInfo
	if err := c.CancelTransfer(ctx, "7458c329-c5e9-4cc8-8174-3aa6210a8867", WithCallInfo(&info)); err != nil {
		t.Fatal(err)
	}
	if info.Status != http.StatusNoContent || info.Attempts != 1 || !info.Written {
		t.Errorf("cancel CallInfo = %+v", info)
	}
	dr, err := c.DryRunTransfer(ctx, CreateExternalTransfer{Amount: 100})
	if err != nil || dr.Fee != 400 || dr.Target.Account.InstitutionISPB != "90400888" {
		t.Fatalf("DryRunTransfer = %+v, %v", dr, err)
	}
	if h := f.Requests()[2].Header.Get("x-stone-idempotency-key"); h != "" {
		t.Errorf("dry run sent an idempotency key %q", h)
	}
	_, err = c.GetTransfer(ctx, "nope")
	var se *Error
	if !errors.As(err, &se) || se.Status != 404 || se.Type != ErrTypeNotFound {
		t.Errorf("GetTransfer(nope) err = %v", err)
	}
	for _, id := range []string{"", " "} {
		if _, err := c.GetTransfer(ctx, id); !errors.Is(err, ErrNotSent) {
			t.Errorf("GetTransfer(%q) err = %v, want ErrNotSent", id, err)
		}
		if err := c.CancelTransfer(ctx, id); !errors.Is(err, ErrNotSent) {
			t.Errorf("CancelTransfer(%q) err = %v, want ErrNotSent", id, err)
		}
	}
	if n := len(f.Requests()); n != 4 {
		t.Errorf("API requests = %d, want 4", n)
	}
	got := []string{}
	for _, r := range f.Requests() {
		got = append(got, r.Method+" "+r.Path)
	}
	want := []string{
		"GET /api/v1/external_transfers/7458c329-c5e9-4cc8-8174-3aa6210a8867",
		"POST /api/v1/external_transfers/7458c329-c5e9-4cc8-8174-3aa6210a8867/cancel",
		"POST /api/v1/dry_run/external_transfers",
		"GET /api/v1/external_transfers/nope",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests:\n%q\nwant\n%q", got, want)
	}
}

// pager serves the transfers "t1".."t7" in pages of 3 for account acc-1.
func pager(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("account_id") != "acc-1" || q.Get("limit") != "3" {
		reply(w, http.StatusBadRequest, `{"type":"srn:error:validation"}`)
		return
	}
	pages := map[string]struct {
		ids   []string
		after string
	}{
		"":   {[]string{"t1", "t2", "t3"}, `"c2"`},
		"c2": {[]string{"t4", "t5", "t6"}, `"c3"`},
		"c3": {[]string{"t7"}, `null`},
	}
	p, ok := pages[q.Get("after")]
	if !ok {
		reply(w, http.StatusBadRequest, `{"path":"after","type":"srn:error:invalid_cursor"}`)
		return
	}
	var data []string
	for _, id := range p.ids {
		data = append(data, fmt.Sprintf(`{"id":%q,"amount":100,"fee":0,"status":"FINISHED","target":{"account":{},"entity":{}}}`, id))
	}
	reply(w, http.StatusOK, fmt.Sprintf(`{"cursor":{"after":%s,"before":null,"limit":3},"data":[%s]}`, p.after, strings.Join(data, ",")))
}

func TestListTransfersFollowsCursors(t *testing.T) {
	f := newFakeStone(t, pager)
	c := f.client(t, newClock())
	var ids []string
	for tr, err := range c.ListTransfers(context.Background(), "acc-1", 3) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tr.ID)
	}
	if want := []string{"t1", "t2", "t3", "t4", "t5", "t6", "t7"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	var queries []string
	for _, r := range f.Requests() {
		queries = append(queries, r.Query)
	}
	if want := []string{"account_id=acc-1&limit=3", "account_id=acc-1&after=c2&limit=3", "account_id=acc-1&after=c3&limit=3"}; !reflect.DeepEqual(queries, want) {
		t.Errorf("queries = %q, want %q", queries, want)
	}

	// Stopping early fetches no further page.
	f2 := newFakeStone(t, pager)
	c2 := f2.client(t, newClock())
	for range c2.ListTransfers(context.Background(), "acc-1", 3) {
		break
	}
	if n := len(f2.Requests()); n != 1 {
		t.Errorf("pages fetched after break = %d, want 1", n)
	}
}

func TestListTransfersStopsOnError(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wantIDs int
		wantErr string
	}{
		{"error on page 2", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("after") == "" {
				reply(w, 200, `{"cursor":{"after":"bad","before":null,"limit":1},"data":[{"id":"t1"}]}`)
				return
			}
			reply(w, 400, `{"path":"after","type":"srn:error:invalid_cursor"}`)
		}, 1, "stone: 400 srn:error:invalid_cursor: path after (request req-1)"},
		{"cursor repeats", func(w http.ResponseWriter, r *http.Request) {
			reply(w, 200, `{"cursor":{"after":"same","before":null,"limit":1},"data":[{"id":"t1"}]}`)
		}, 2, `stone: GET /api/v1/external_transfers: cursor "same" repeated`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStone(t, tt.handler)
			c := f.client(t, newClock())
			n := 0
			var last error
			for _, err := range c.ListTransfers(context.Background(), "acc-1", 0) {
				if err != nil {
					last = err
					continue
				}
				n++
			}
			if n != tt.wantIDs || last == nil || last.Error() != tt.wantErr {
				t.Errorf("got %d transfers, err %v; want %d, %s", n, last, tt.wantIDs, tt.wantErr)
			}
		})
	}
}
