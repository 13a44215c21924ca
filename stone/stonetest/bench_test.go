package stonetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCreateTransfer creates transfers over real HTTP from parallel
// clients, each with its own idempotency key, and reports requests/s.
func BenchmarkCreateTransfer(b *testing.B) {
	e := newEnv(b, Options{})
	body := []byte(mustJSON(seedBody()))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", e.s.URL+"/api/v1/external_transfers", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.token)
			req.Header.Set("x-stone-idempotency-key", "bench-"+strconv.FormatInt(n.Add(1), 10))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkPixCreateConfirm pays Pix over real HTTP from parallel clients:
// each payment is a create and a confirm, each with its own idempotency
// key. It reports payments/s and requests/s.
func BenchmarkPixCreateConfirm(b *testing.B) {
	e := newEnv(b, Options{})
	if err := e.s.AddPixKey("+5521988040465", PixKey{Name: "ARCILIO BERNARDI CARDOSO", Document: "12436916300", ISPB: "92894922"}); err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"account_id":"` + testAccount + `","amount":100,"key":"+5521988040465"}`)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	post := func(path, key string, body []byte, want int) ([]byte, bool) {
		req, _ := http.NewRequest("POST", e.s.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("x-stone-idempotency-key", key)
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return nil, false
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Errorf("%s: status %d: %s", path, resp.StatusCode, out)
			return nil, false
		}
		return out, true
	}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := "pix-" + strconv.FormatInt(n.Add(1), 10)
			out, ok := post("/api/v1/pix/outbound_pix_payments", k+"-create", body, http.StatusCreated)
			if !ok {
				return
			}
			var p struct {
				ID string `json:"id"`
			}
			json.Unmarshal(out, &p)
			if _, ok := post("/api/v1/pix/outbound_pix_payments/"+p.ID+"/actions/confirm", k+"-confirm", []byte(`{}`), http.StatusNoContent); !ok {
				return
			}
		}
	})
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/secs, "payments/s")
	b.ReportMetric(2*float64(b.N)/secs, "req/s")
}
