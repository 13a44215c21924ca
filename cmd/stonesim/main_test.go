package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/internal/fake"
)

// syncBuffer is a bytes.Buffer safe for the server's logging goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesTokenAndTransfer(t *testing.T) {
	key := fake.Key()
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemPath := filepath.Join(t.TempDir(), "client.pub")
	if err := os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	const start = "2026-11-24T13:00:00Z" // a Tuesday, 10:00 in Brasília

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--client", "app=" + pemPath,
			"--account", "acc=100000", "--now", start, "--fee", "0",
			"--pix-key", "+5521988040465=Arcilio Bernardi Cardoso,12436916300,92894922",
			"--stone-account", "58859=Fernando Antonio"}, outW, &stderr)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("read start line: %v (stderr: %s)", err, stderr.String())
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "stonesim listening on ")
	if !ok || strings.HasSuffix(base, ":0") {
		t.Fatalf("start line %q", line)
	}
	go io.Copy(io.Discard, outR)

	// The assertion is made on the real clock, as a client process does:
	// stonesim checks it against that clock, whatever --now says.
	now := time.Now()
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(),
		"aud": base + "/auth/realms/stone_bank", "realm": "stone_bank",
		"sub": "app", "iss": "app", "clientId": "app", "jti": "jti-1",
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(base+"/auth/realms/stone_bank/protocol/openid-connect/token", url.Values{
		"client_id": {"app"}, "grant_type": {"client_credentials"}, "client_assertion": {assertion},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token: %d", resp.StatusCode)
	}

	body := `{"amount":100,"account_id":"acc","target":{"account":{"account_code":"58859","branch_code":"1","institution_code":"033"},"entity":{"name":"Octacilio Impoluto","document":"62752545053"}}}`
	req, _ := http.NewRequest("POST", base+"/api/v1/external_transfers", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("x-stone-idempotency-key", "row-2")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Status string `json:"status"`
		Fee    int64  `json:"fee"`
	}
	json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || tr.Status != "APPROVED" || tr.Fee != 0 {
		t.Errorf("create: %d status %s fee %d, want 202 APPROVED 0 (the clock starts at --now, --fee 0 is free)", resp.StatusCode, tr.Status, tr.Fee)
	}

	// The directories given by flag: a Pix to the key names its owner, an
	// internal transfer resolves the Stone account's.
	post := func(path, key, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("x-stone-idempotency-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	status, pix := post("/api/v1/pix/outbound_pix_payments", "row-3-create", `{"account_id":"acc","amount":100,"key":"+5521988040465"}`)
	if target, _ := pix["target"].(map[string]any); status != http.StatusCreated || target == nil ||
		target["entity"].(map[string]any)["name"] != "Arcilio Bernardi Cardoso" {
		t.Errorf("Pix create: %d %v", status, pix)
	}
	if status, _ := post("/api/v1/pix/outbound_pix_payments", "row-4-create", `{"account_id":"acc","amount":100,"key":"+5511900000000"}`); status != http.StatusUnprocessableEntity {
		t.Errorf("Pix to a key outside --pix-key: %d, want 422", status)
	}
	status, it := post("/api/v1/internal_transfers", "row-5", `{"account_id":"acc","amount":100,"target":{"account":{"account_code":"58859"}}}`)
	if status != http.StatusAccepted || it["target_account_owner_name"] != "Fernando Antonio" {
		t.Errorf("internal transfer: %d %v", status, it)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	log := stderr.String()
	if !strings.Contains(log, "POST /api/v1/external_transfers 202 ") || !strings.Contains(log, "x-request-id=") {
		t.Errorf("request log:\n%s", log)
	}
	if strings.Contains(log, tok.AccessToken) || strings.Contains(log, "Bearer") {
		t.Errorf("the log shows the access token:\n%s", log)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
		{"bad mode", []string{"--mode", "live"}, `--mode "live"`},
		{"client without key", []string{"--client", "app"}, `"app" is not ID=VALUE`},
		{"missing key file", []string{"--client", "app=/no/such.pem"}, "--client app: read public key"},
		{"bad balance", []string{"--account", "acc=ten"}, `--account acc: balance "ten"`},
		{"bad now", []string{"--now", "24/11/2026"}, `--now "24/11/2026"`},
		{"bad refund code", []string{"--refund", "7788991=15"}, "--refund 7788991=15: Stone's refund codes are 0 to 14"},
		{"refund without code", []string{"--refund", "7788991"}, "not ID=VALUE"},
		{"fail rate over 1", []string{"--fail-rate", "2"}, "--fail-rate 2"},
		{"webhook not a URL", []string{"--webhook", "receiver:8443"}, `--webhook "receiver:8443": want an http or https URL`},
		{"webhook interval", []string{"--webhook", "http://127.0.0.1:1/", "--webhook-interval", "0s"}, "--webhook-interval 0s"},
		{"duplicate rate", []string{"--duplicate-webhook-rate", "-0.1"}, "--duplicate-webhook-rate -0.1"},
		{"bad Pix key", []string{"--pix-key", "not a key=Ana,12409265707"}, "--pix-key not a key: "},
		{"Pix key without document", []string{"--pix-key", "ana@exemplo.com.br=Ana"}, "--pix-key ana@exemplo.com.br: "},
		{"extra argument", []string{"serve"}, `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tt.args, io.Discard, &stderr)
			if code := exitCode(err, &stderr); code != 2 {
				t.Errorf("exit code %d, want 2 (err %v)", code, err)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.want)
			}
		})
	}
}
