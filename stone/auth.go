package stone

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// assertionLifetime is the client assertion's exp − iat. Stone's guide
	// allows at most 15 minutes (stone-api.md §1.3; older clients used 2 h
	// and are refused by a strict server, §8.2).
	assertionLifetime = 5 * time.Minute
	// refreshMargin: the access token is replaced this long before
	// expires_in runs out, so that no request leaves with a token that
	// expires in flight (the Go library's 30 ns margin, §8.1).
	refreshMargin = time.Minute
	// tokenTimeout bounds one token request, whoever's ctx started it.
	tokenTimeout = 30 * time.Second
	// clientAssertionType is the OAuth value for private_key_jwt (§1.4).
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// tokenCache holds the access token shared by every call, and the one token
// request in flight, if any.
type tokenCache struct {
	mu        sync.Mutex
	token     string
	refreshAt time.Time
	flight    *tokenFlight
}

// tokenFlight is one token request that every waiting caller shares.
type tokenFlight struct {
	done  chan struct{}
	token string
	err   error
}

// accessToken returns a token valid for at least refreshMargin. When stale
// is the cached token (it just got a 401), it is replaced, unless another
// goroutine has replaced it already. However many goroutines ask at once,
// one token request is made; each waits on its own ctx.
func (c *Client) accessToken(ctx context.Context, stale string) (string, error) {
	t := &c.tokens
	t.mu.Lock()
	if t.token != "" && t.token != stale && c.now().Before(t.refreshAt) {
		tok := t.token
		t.mu.Unlock()
		return tok, nil
	}
	f := t.flight
	if f == nil {
		f = &tokenFlight{done: make(chan struct{})}
		t.flight = f
		// The request outlives the ctx of the caller that started it:
		// others wait for it, and its own deadline bounds it.
		go c.fetchToken(context.WithoutCancel(ctx), f)
	}
	t.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (c *Client) fetchToken(ctx context.Context, f *tokenFlight) {
	ctx, cancel := context.WithTimeout(ctx, tokenTimeout)
	defer cancel()
	// The lifetime is counted from before the request, so that the token
	// is replaced early rather than late.
	issued := c.now()
	tok, ttl, err := c.requestToken(ctx, issued)
	t := &c.tokens
	t.mu.Lock()
	if err == nil {
		t.token = tok
		t.refreshAt = issued.Add(refreshAfter(ttl))
	}
	t.flight = nil
	f.token, f.err = tok, err
	t.mu.Unlock()
	close(f.done)
}

// refreshAfter is how long a token that lives ttl is used: until a minute
// before it expires, or half its life when that is shorter.
func refreshAfter(ttl time.Duration) time.Duration {
	if ttl <= 2*refreshMargin {
		return ttl / 2
	}
	return ttl - refreshMargin
}

// assertion signs the client assertion (stone-api.md §1.3): RS256, a unique
// jti, aud the realm URL (not the token URL), and the client id as sub, iss
// and clientId.
func (c *Client) assertion(now time.Time) (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("make jti: %w", err)
	}
	claims := jwt.MapClaims{
		"exp":      now.Add(assertionLifetime).Unix(),
		"nbf":      now.Unix(),
		"iat":      now.Unix(),
		"jti":      hex.EncodeToString(id[:]),
		"realm":    "stone_bank",
		"aud":      c.auth + realmPath,
		"sub":      c.clientID,
		"iss":      c.clientID,
		"clientId": c.clientID,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(c.key)
	if err != nil {
		// The jwt error never contains the key.
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return s, nil
}

// requestToken exchanges a fresh assertion for an access token
// (stone-api.md §1.4, §1.5) and returns it with its lifetime. Errors carry
// the endpoint's answer but never the assertion or a token.
func (c *Client) requestToken(ctx context.Context, now time.Time) (string, time.Duration, error) {
	r := &request{method: http.MethodPost, path: tokenPath}
	a, err := c.assertion(now)
	if err != nil {
		return "", 0, err
	}
	form := url.Values{
		"client_id":             {c.clientID},
		"grant_type":            {"client_credentials"},
		"client_assertion":      {a},
		"client_assertion_type": {clientAssertionType},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.auth+tokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.hc.Do(req)
	if err != nil {
		cause := causeNetwork
		if ctx.Err() != nil {
			cause = causeCanceled
		}
		return "", 0, &sendError{op: r.op(), stage: stageWritten, cause: cause, err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	data, err := readAnswer(resp)
	if err != nil && is2xx(resp.StatusCode) {
		return "", 0, &sendError{op: r.op(), stage: stageAnswered, err: err}
	}
	if !is2xx(resp.StatusCode) {
		return "", 0, newError(resp.StatusCode, resp.Header, data, c.now())
	}
	var tr TokenResponse
	if err := json.Unmarshal(data, &tr); err != nil {
		return "", 0, fmt.Errorf("decode token answer: %w", err)
	}
	if tr.AccessToken == "" {
		return "", 0, errors.New("token answer has no access_token")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, fmt.Errorf("token answer has token_type %q, want bearer", oneLine(tr.TokenType, 40))
	}
	var ttl time.Duration
	switch {
	case tr.ExpiresIn <= 0:
		// Unknown lifetime: assume a short one rather than reuse an
		// expired token until a 401 says so.
		ttl = 2 * refreshMargin
	case tr.ExpiresIn > 86400:
		ttl = 24 * time.Hour // nonsense; also keeps the Duration in range
	default:
		ttl = time.Duration(tr.ExpiresIn) * time.Second
	}
	return tr.AccessToken, ttl, nil
}
