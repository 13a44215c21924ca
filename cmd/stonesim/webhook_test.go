package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lote/stone"
)

// stonesim --webhook posts each status change, encrypted to the client's
// key and signed by the key it publishes, while it serves.
func TestRunDeliversWebhooks(t *testing.T) {
	key, err := stone.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemPath := filepath.Join(t.TempDir(), "client.pub")
	if err := os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC) // a Tuesday, 10:00 in Brasília
	t0 := time.Now()
	simNow := func() time.Time { return start.Add(time.Since(t0)) }

	var dec atomic.Pointer[stone.WebhookDecoder] // set once the address is known, before any delivery
	events := make(chan string, 16)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := dec.Load().Decode(r.Context(), r.Header, body)
		if err != nil {
			t.Errorf("decode %s: %v", r.Header.Get(stone.HeaderWebhookEventType), err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		events <- ev.Type
	}))
	defer rcv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--client", "app=" + pemPath, "--account", "acc=100000",
			"--now", start.Format(time.RFC3339), "--webhook", rcv.URL, "--webhook-interval", "10ms"}, outW, io.Discard)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("read start line: %v", err)
	}
	base := strings.TrimPrefix(strings.TrimSpace(line), "stonesim listening on ")
	go io.Copy(io.Discard, outR)

	d := stone.NewWebhookDecoder(key, stone.NewJWKS(nil, base, simNow).Key)
	d.Now = simNow
	dec.Store(d)
	// The client runs on the real clock, as lote does; webhooks carry the
	// emulator's times, which the decoder checks against simNow.
	c, err := stone.NewClient(stone.Config{APIURL: base, AuthURL: base, ClientID: "app", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateTransfer(ctx, "row-2", stone.CreateExternalTransfer{Amount: 100, AccountID: "acc",
		Target: stone.TransferTarget{
			Account: stone.TargetAccount{AccountCode: "58859", BranchCode: "1", InstitutionCode: "033"},
			Entity:  stone.TargetEntity{Name: "Octacilio Impoluto", Document: "62752545053", DocumentType: "cpf"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{stone.EventTransferCreated, stone.EventTransferApproved, stone.EventTransferExecutionStarted}
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < len(want) {
		select {
		case typ := <-events:
			got = append(got, typ)
		case <-timeout:
			t.Fatalf("events %v after 10 s, want %v", got, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
