package stone

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkCreateTransfer measures the client's cost per create call (body
// encoding, headers, trace, answer decoding) against a handler that answers
// the documented 202 at once, over keep-alive connections on loopback.
func BenchmarkCreateTransfer(b *testing.B) {
	seed := seedTransfer(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == tokenPath {
			w.Write([]byte(`{"access_token":"tok","expires_in":900,"token_type":"bearer"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write(seed)
	}))
	defer srv.Close()
	c, err := NewClient(Config{APIURL: srv.URL, AuthURL: srv.URL, ClientID: "app", Key: testKey()})
	if err != nil {
		b.Fatal(err)
	}
	body := CreateExternalTransfer{Amount: 123456, AccountID: "6e4a0c5e-3c0e-4a8e-9a50-1f1d0c3b6a11", Target: TransferTarget{
		Account: TargetAccount{AccountCode: "58859", BranchCode: "1", InstitutionCode: "90400888", AccountType: AccountChecking},
		Entity:  TargetEntity{Name: "Octacilio Impoluto", Document: "62752545053", DocumentType: "cpf"}}}
	ctx := context.Background()
	if _, err := c.CreateTransfer(ctx, "warm-up", body); err != nil {
		b.Fatal(err)
	}
	var info CallInfo
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.CreateTransfer(ctx, "batch-1-row-2", body, WithCallInfo(&info)); err != nil {
			b.Fatal(err)
		}
	}
}
