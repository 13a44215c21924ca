package stone

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// KeysPath is where Stone publishes its public keys as a JSON Web Key Set
// (stone-api.md §7.3): the "sig" key verifies webhook signatures, the "enc"
// key encrypts what is sent to Stone.
const KeysPath = "/api/v1/discovery/keys"

// Key uses in a JWK's "use" member.
const (
	KeyUseSig = "sig"
	KeyUseEnc = "enc"
)

// maxJWKS bounds the key set read: two 4096-bit keys are about 1.5 KB.
const maxJWKS = 1 << 20

// jwksRefetchInterval is the least time between two fetches caused by an
// unknown kid, so that tokens with made-up kids cannot make lote hammer
// Stone's key endpoint.
const jwksRefetchInterval = time.Minute

// jwksMaxAge is how long a fetched key set is trusted before the next lookup
// fetches it again, so that a key Stone withdraws stops being accepted.
const jwksMaxAge = 24 * time.Hour

// ErrUnknownKey is wrapped when no RSA signing key with the asked kid is in
// Stone's key set, even after fetching it again.
var ErrUnknownKey = errors.New("no such signing key in Stone's key set")

// JWK is one key of a JSON Web Key Set (RFC 7517). Only RSA keys are used:
// N and E are the modulus and exponent, big-endian, base64url without
// padding. Unknown members are ignored.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// NewRSAJWK describes an RSA public key as a JWK with the given kid, use and
// alg.
func NewRSAJWK(pub *rsa.PublicKey, kid, use, alg string) JWK {
	return JWK{
		Kty: "RSA",
		Kid: kid,
		Use: use,
		Alg: alg,
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// PublicKey returns the RSA public key k describes. Keys under 2048 bits
// are refused, as for the app's own key.
func (k JWK) PublicKey() (*rsa.PublicKey, error) {
	if k.Kty != "RSA" {
		return nil, fmt.Errorf("jwk %q: kty %q is not RSA", k.Kid, k.Kty)
	}
	nb, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, fmt.Errorf("jwk %q: modulus n: %w", k.Kid, err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		return nil, fmt.Errorf("jwk %q: exponent e: %w", k.Kid, err)
	}
	n := new(big.Int).SetBytes(nb)
	if bits := n.BitLen(); bits < minKeyBits {
		return nil, fmt.Errorf("jwk %q: modulus has %d bits, want at least %d", k.Kid, bits, minKeyBits)
	}
	// A 4-byte exponent covers every real one (65537); more could overflow int.
	if len(eb) == 0 || len(eb) > 4 {
		return nil, fmt.Errorf("jwk %q: exponent e is %d bytes long", k.Kid, len(eb))
	}
	e := new(big.Int).SetBytes(eb).Int64()
	if e < 3 || e%2 == 0 {
		return nil, fmt.Errorf("jwk %q: exponent %d is not an odd number above 2", k.Kid, e)
	}
	return &rsa.PublicKey{N: n, E: int(e)}, nil
}

// FetchJWKS gets Stone's key set from apiURL + KeysPath (apiURL is the API's
// base: scheme and host). The endpoint needs no access token.
func FetchJWKS(ctx context.Context, hc *http.Client, apiURL string) ([]JWK, error) {
	u := strings.TrimRight(apiURL, "/") + KeysPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch key set %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "lote-stone-client/1")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch key set: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
	if err != nil {
		return nil, fmt.Errorf("fetch key set %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch key set %s: status %d", u, resp.StatusCode)
	}
	if len(body) > maxJWKS {
		return nil, fmt.Errorf("fetch key set %s: larger than %d bytes", u, maxJWKS)
	}
	var set struct {
		Keys []JWK `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("fetch key set %s: %w", u, err)
	}
	return set.Keys, nil
}

// JWKS is Stone's key set as a KeySource for webhook signatures: it is
// fetched on first use, cached, and fetched again when a signature names a
// kid it does not hold (at most once a minute) or when it is a day old.
// Only RSA keys whose use is "sig" (or unstated) and whose alg is RS256 (or
// unstated) are kept. It is safe for concurrent use.
type JWKS struct {
	hc  *http.Client
	api string
	now func() time.Time

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey // kid → key
	fetched time.Time                 // zero before the first fetch
}

// NewJWKS returns a key cache for Stone's API at apiURL. A nil hc means a
// client with a 30 s timeout; a nil now means time.Now.
func NewJWKS(hc *http.Client, apiURL string, now func() time.Time) *JWKS {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &JWKS{hc: hc, api: apiURL, now: now}
}

// Key returns the signing key with this kid. An empty kid selects the only
// signing key when the set holds exactly one. It has the KeySource
// signature.
func (j *JWKS) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	stale := j.fetched.IsZero() || now.Sub(j.fetched) >= jwksMaxAge
	if !stale {
		if k, ok := j.lookup(kid); ok {
			return k, nil
		}
		if now.Sub(j.fetched) < jwksRefetchInterval {
			return nil, fmt.Errorf("signing key %q: %w (key set fetched %s ago)", kid, ErrUnknownKey, now.Sub(j.fetched).Round(time.Second))
		}
	}
	// The lock is held while fetching: concurrent lookups wait for one
	// fetch instead of each making their own.
	jwks, err := FetchJWKS(ctx, j.hc, j.api)
	if err != nil {
		return nil, err
	}
	keys := make(map[string]*rsa.PublicKey, len(jwks))
	for _, k := range jwks {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != KeyUseSig) || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			continue // one bad key must not hide the good ones
		}
		keys[k.Kid] = pub
	}
	j.keys, j.fetched = keys, now
	if k, ok := j.lookup(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("signing key %q: %w", kid, ErrUnknownKey)
}

// lookup finds kid in the cached set. Callers hold j.mu.
func (j *JWKS) lookup(kid string) (*rsa.PublicKey, bool) {
	if kid == "" && len(j.keys) == 1 {
		for _, k := range j.keys {
			return k, true
		}
	}
	k, ok := j.keys[kid]
	return k, ok
}
