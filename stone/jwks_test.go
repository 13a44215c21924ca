package stone_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"lote/stone"
)

// keyServer serves a key set that a test can change, and counts fetches.
type keyServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    []stone.JWK
	fetches int
}

func newKeyServer(t *testing.T, keys ...stone.JWK) *keyServer {
	t.Helper()
	ks := &keyServer{keys: keys}
	ks.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != stone.KeysPath {
			http.NotFound(w, r)
			return
		}
		ks.mu.Lock()
		ks.fetches++
		b, _ := json.Marshal(map[string]any{"keys": ks.keys})
		ks.mu.Unlock()
		w.Write(b)
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

func (ks *keyServer) set(keys ...stone.JWK) {
	ks.mu.Lock()
	ks.keys = keys
	ks.mu.Unlock()
}

func (ks *keyServer) count() int {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.fetches
}

type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *stepClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestJWKSCachesAndRefetchesOnUnknownKid(t *testing.T) {
	sig1 := stone.NewRSAJWK(&whSimKey().PublicKey, "k1", stone.KeyUseSig, "RS256")
	sig2 := stone.NewRSAJWK(&whOtherKey().PublicKey, "k2", stone.KeyUseSig, "RS256")
	enc := stone.NewRSAJWK(&whAppKey().PublicKey, "e1", stone.KeyUseEnc, "RSA-OAEP-256")
	ks := newKeyServer(t, sig1, enc)
	clock := &stepClock{t: whTuesday}
	j := stone.NewJWKS(ks.srv.Client(), ks.srv.URL+"/", clock.Now)
	ctx := context.Background()

	steps := []struct {
		name    string
		advance time.Duration
		rotate  bool // Stone publishes k2
		kid     string
		want    *rsa.PublicKey // nil: ErrUnknownKey
		fetches int
	}{
		{"first use fetches", 0, false, "k1", &whSimKey().PublicKey, 1},
		{"cached", time.Hour, false, "k1", &whSimKey().PublicKey, 1},
		{"unknown kid refetches", 0, false, "k2", nil, 2},
		{"not again within a minute", 59 * time.Second, false, "k2", nil, 2},
		{"enc key is not a signing key", 0, false, "e1", nil, 2},
		{"a minute later, refetch finds the new key", time.Minute, true, "k2", &whOtherKey().PublicKey, 3},
		{"a day later the set is fetched again", 24 * time.Hour, false, "k1", &whSimKey().PublicKey, 4},
	}
	for _, st := range steps {
		clock.Add(st.advance)
		if st.rotate {
			ks.set(sig1, sig2, enc)
		}
		got, err := j.Key(ctx, st.kid)
		if st.want == nil {
			if !errors.Is(err, stone.ErrUnknownKey) {
				t.Errorf("%s: key %v, error %v; want ErrUnknownKey", st.name, got, err)
			}
		} else if err != nil || !got.Equal(st.want) {
			t.Errorf("%s: key %v, error %v; want the published key", st.name, got, err)
		}
		if n := ks.count(); n != st.fetches {
			t.Errorf("%s: %d fetches, want %d", st.name, n, st.fetches)
		}
	}
}

func TestJWKSEmptyKidAndBadKeys(t *testing.T) {
	small := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 1023), E: 65537}
	ks := newKeyServer(t,
		stone.JWK{Kty: "EC", Kid: "ec"},
		stone.NewRSAJWK(small, "small", stone.KeyUseSig, "RS256"),
		stone.NewRSAJWK(&whSimKey().PublicKey, "ps", stone.KeyUseSig, "PS256"),
		stone.NewRSAJWK(&whSimKey().PublicKey, "k1", "", ""),
	)
	j := stone.NewJWKS(ks.srv.Client(), ks.srv.URL, func() time.Time { return whTuesday })
	// The only usable signing key is k1: an empty kid selects it.
	got, err := j.Key(context.Background(), "")
	if err != nil || !got.Equal(&whSimKey().PublicKey) {
		t.Fatalf("Key(\"\") = %v, %v; want k1", got, err)
	}
	for _, kid := range []string{"ec", "small", "ps"} {
		if _, err := j.Key(context.Background(), kid); !errors.Is(err, stone.ErrUnknownKey) {
			t.Errorf("Key(%q) error %v, want ErrUnknownKey", kid, err)
		}
	}
}

func TestJWKPublicKey(t *testing.T) {
	good := stone.NewRSAJWK(&whSimKey().PublicKey, "k", stone.KeyUseSig, "RS256")
	tests := []struct {
		name string
		jwk  stone.JWK
		want string // error text; "" for success
	}{
		{"round trip", good, ""},
		{"EC", stone.JWK{Kty: "EC", Kid: "k"}, `kty "EC" is not RSA`},
		{"padded modulus", stone.JWK{Kty: "RSA", Kid: "k", N: good.N + "==", E: good.E}, "modulus n"},
		{"small modulus", stone.JWK{Kty: "RSA", Kid: "k", N: "AQAB", E: "AQAB"}, "modulus has 17 bits"},
		{"even exponent", stone.JWK{Kty: "RSA", Kid: "k", N: good.N, E: "Ag"}, "exponent 2 is not an odd number"},
		{"huge exponent", stone.JWK{Kty: "RSA", Kid: "k", N: good.N, E: "AQAAAAAB"}, "exponent e is 6 bytes"},
		{"no exponent", stone.JWK{Kty: "RSA", Kid: "k", N: good.N}, "exponent e is 0 bytes"},
	}
	for _, tt := range tests {
		pub, err := tt.jwk.PublicKey()
		switch {
		case tt.want == "" && (err != nil || !pub.Equal(&whSimKey().PublicKey)):
			t.Errorf("%s: %v, %v; want the key back", tt.name, pub, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestFetchJWKSErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"not found", http.StatusNotFound, `{"type":"srn:error:not_found"}`, "status 404"},
		{"not JSON", http.StatusOK, `<html>`, "invalid character"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tt.status)
			w.Write([]byte(tt.body))
		}))
		_, err := stone.FetchJWKS(context.Background(), srv.Client(), srv.URL)
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}
