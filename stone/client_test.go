package stone

import (
	"context"
	"fmt"
	"go/build"
	"net/http"
	"strings"
	"testing"
)

func TestNewClientConfig(t *testing.T) {
	key := testKey()
	tests := []struct {
		name     string
		cfg      Config
		wantAPI  string
		wantAuth string
		wantErr  string
	}{
		{"sandbox", Config{Env: "sandbox", ClientID: "c", Key: key},
			"https://sandbox-api.openbank.stone.com.br", "https://sandbox-accounts.openbank.stone.com.br", ""},
		{"production", Config{Env: "production", ClientID: "c", Key: key},
			"https://api.openbank.stone.com.br", "https://accounts.openbank.stone.com.br", ""},
		{"explicit, trailing slash dropped", Config{APIURL: "http://127.0.0.1:8080/", AuthURL: "http://127.0.0.1:8080", ClientID: "c", Key: key},
			"http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"explicit overrides env", Config{Env: "sandbox", APIURL: "http://localhost:1", AuthURL: "http://localhost:2", ClientID: "c", Key: key},
			"http://localhost:1", "http://localhost:2", ""},
		{"unknown env", Config{Env: "sim", ClientID: "c", Key: key}, "", "", `unknown environment "sim"`},
		{"no URLs", Config{ClientID: "c", Key: key}, "", "", "API URL is required"},
		{"no auth URL", Config{APIURL: "http://x", ClientID: "c", Key: key}, "", "", "auth URL is required"},
		{"relative URL", Config{APIURL: "api.example", AuthURL: "http://x", ClientID: "c", Key: key}, "", "", "is not an http(s) base URL"},
		{"no client id", Config{Env: "sandbox", Key: key}, "", "", "client id is required"},
		{"no key", Config{Env: "sandbox", ClientID: "c"}, "", "", "private key is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.api != tt.wantAPI || c.auth != tt.wantAuth {
				t.Errorf("api %q auth %q, want %q %q", c.api, c.auth, tt.wantAPI, tt.wantAuth)
			}
			if c.hc == http.DefaultClient || c.hc.Timeout == 0 {
				t.Errorf("default HTTP client = %+v, want a dedicated one with a timeout", c.hc)
			}
			if tr, ok := c.hc.Transport.(*http.Transport); !ok || tr.MaxIdleConnsPerHost < 64 {
				t.Errorf("transport = %T, want MaxIdleConnsPerHost >= 64", c.hc.Transport)
			}
		})
	}
}

func TestDefaultClientDoesNotFollowRedirects(t *testing.T) {
	f := newFakeStone(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	c := f.client(t, newClock())
	_, err := c.CreateTransfer(context.Background(), "k", CreateExternalTransfer{Amount: 1})
	if o, _ := Classify(err); err == nil || !strings.HasPrefix(err.Error(), "stone: 302") || o != OutcomeFinal {
		t.Errorf("err = %v (%v), want a final 302", err, o)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestOutcomeString(t *testing.T) {
	got := fmt.Sprint(OutcomeAmbiguous, OutcomeRetry, OutcomeFinal, Outcome(9))
	if got != "ambiguous retry final outcome(9)" {
		t.Errorf("got %q", got)
	}
}

// TestImports keeps stone at the bottom of lote: no other lote package, no
// SQLite (DESIGN.md, packages table).
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "lote/") || strings.Contains(imp, "sqlite") || imp == "database/sql" {
			t.Errorf("stone imports %s", imp)
		}
	}
}
