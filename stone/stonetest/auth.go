package stonetest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/stone"
)

const (
	// accessTokenTTL is the lifetime of an access token (stone-api.md §1.5).
	accessTokenTTL = 900 * time.Second
	// strictAssertionTTL and lenientAssertionTTL bound exp−iat of a client
	// assertion: 15 minutes per Stone's current guide, 2 hours as Stone's
	// public client libraries send (stone-api.md §1.3).
	strictAssertionTTL  = 900 * time.Second
	lenientAssertionTTL = 2 * time.Hour
	// clockSkew is tolerated on nbf and iat, as Keycloak allows a little.
	clockSkew = 5 * time.Second

	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// authState holds registered client keys, used assertion ids and issued
// access tokens. Its own lock keeps token checks off the transfer lock.
type authState struct {
	keyOnce sync.Once
	key     *rsa.PrivateKey

	mu      sync.RWMutex
	clients map[string]*rsa.PublicKey
	jtis    map[string]time.Time // client + "\x00" + jti → assertion exp
	tokens  map[string]tokenInfo // access token → who and until when
	scopes  map[string][]string  // client → granted scopes, when set
}

type tokenInfo struct {
	client string
	exp    time.Time
}

func (a *authState) init(key *rsa.PrivateKey) {
	a.key = key
	a.clients = make(map[string]*rsa.PublicKey)
	a.jtis = make(map[string]time.Time)
	a.tokens = make(map[string]tokenInfo)
}

func (a *authState) addClient(id string, pub *rsa.PublicKey) {
	a.mu.Lock()
	a.clients[id] = pub
	a.mu.Unlock()
}

func (a *authState) signingKey() (*rsa.PrivateKey, error) {
	var err error
	a.keyOnce.Do(func() {
		if a.key == nil {
			a.key, err = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("generate token signing key: %w", err)
	}
	return a.key, nil
}

// oauthError is Keycloak's error body on the token endpoint.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// handleToken is the client_credentials grant with a private_key_jwt client
// assertion (stone-api.md §1.3, §1.4).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if !s.opts.AllowMissingUserAgent && r.UserAgent() == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "the User-Agent header is required"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "form: " + err.Error()})
		return
	}
	for _, k := range []string{"grant_type", "client_id", "client_assertion_type", "client_assertion"} {
		if r.PostForm.Get(k) == "" {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "missing form field " + k})
			return
		}
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "grant_type " + g + " is not supported"})
		return
	}
	if t := r.PostForm.Get("client_assertion_type"); t != assertionType {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "client_assertion_type must be " + assertionType})
		return
	}
	client := r.PostForm.Get("client_id")
	now := s.Now()
	checkAt := now
	if s.opts.AssertionClock != nil {
		checkAt = s.opts.AssertionClock()
	}
	if err := s.verifyAssertion(r, client, r.PostForm.Get("client_assertion"), checkAt); err != nil {
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_client", err.Error()})
		return
	}
	tok, err := s.issueToken(r, client, now)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, oauthError{"server_error", err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, stone.TokenResponse{
		AccessToken:  tok,
		ExpiresIn:    int(accessTokenTTL / time.Second),
		TokenType:    "bearer",
		SessionState: s.newUUID(),
		Scope:        s.auth.scopeString(client),
	})
}

// realmURLs are the audiences Keycloak accepts for the request's host: the
// realm URL (Stone's documented value) and the token URL.
func realmURLs(r *http.Request) (realm, token string) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	realm = scheme + "://" + r.Host + RealmPath
	return realm, realm + strings.TrimPrefix(TokenPath, RealmPath)
}

func (s *Server) verifyAssertion(r *http.Request, client, assertion string, now time.Time) error {
	s.auth.mu.RLock()
	pub := s.auth.clients[client]
	s.auth.mu.RUnlock()
	if pub == nil {
		return fmt.Errorf("client %s is not registered", client)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(assertion, claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		return fmt.Errorf("client assertion: %w", err)
	}
	for _, c := range []string{"sub", "iss"} {
		if v, _ := claims[c].(string); v != client {
			return fmt.Errorf("claim %s is %q, want client_id %q", c, v, client)
		}
	}
	id, _ := claims["clientId"].(string)
	if id == "" && s.opts.LenientAssertions {
		id, _ = claims["client_id"].(string)
	}
	if id != client {
		return fmt.Errorf("claim clientId is %q, want client_id %q", id, client)
	}
	if realm, _ := claims["realm"].(string); realm != "stone_bank" {
		return fmt.Errorf("claim realm is %q, want stone_bank", realm)
	}
	realmURL, tokenURL := realmURLs(r)
	auds, err := claims.GetAudience()
	if err != nil {
		return fmt.Errorf("claim aud: %w", err)
	}
	audOK := false
	for _, a := range auds {
		audOK = audOK || a == realmURL || a == tokenURL
	}
	if !audOK {
		return fmt.Errorf("claim aud is %q, want %s or %s", auds, realmURL, tokenURL)
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return fmt.Errorf("claim exp is missing or not a number")
	}
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil {
		return fmt.Errorf("claim iat is missing or not a number")
	}
	if !exp.After(now) {
		return fmt.Errorf("client assertion expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if iat.After(now.Add(clockSkew)) {
		return fmt.Errorf("claim iat %s is in the future", iat.UTC().Format(time.RFC3339))
	}
	limit := strictAssertionTTL
	if s.opts.LenientAssertions {
		limit = lenientAssertionTTL
	}
	if life := exp.Sub(iat.Time); life > limit {
		return fmt.Errorf("client assertion lives %s (exp−iat), more than %s", life, limit)
	}
	nbf, err := claims.GetNotBefore()
	if err != nil {
		return fmt.Errorf("claim nbf: %w", err)
	}
	if nbf != nil && nbf.After(now.Add(clockSkew)) {
		return fmt.Errorf("client assertion not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return fmt.Errorf("claim jti is missing")
	}
	key := client + "\x00" + jti
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	if _, used := s.auth.jtis[key]; used {
		return fmt.Errorf("client assertion jti %q was already used", jti)
	}
	// Forget ids of assertions that have expired: they cannot be replayed.
	for k, e := range s.auth.jtis {
		if !e.After(now) {
			delete(s.auth.jtis, k)
		}
	}
	s.auth.jtis[key] = exp.Time
	return nil
}

// issueToken signs an RS256 access token shaped like Keycloak's, and
// remembers it so that API calls do not verify an RSA signature each time.
func (s *Server) issueToken(r *http.Request, client string, now time.Time) (string, error) {
	key, err := s.auth.signingKey()
	if err != nil {
		return "", err
	}
	realmURL, _ := realmURLs(r)
	exp := now.Add(accessTokenTTL)
	var nonce [8]byte
	rand.Read(nonce[:])
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"exp":              exp.Unix(),
		"iat":              now.Unix(),
		"jti":              s.newUUID() + "-" + hex.EncodeToString(nonce[:]),
		"iss":              realmURL,
		"sub":              s.newUUID(),
		"typ":              "Bearer",
		"azp":              client,
		"clientId":         client,
		"stone_subject_id": "application:" + client,
		"scope":            s.auth.scopeString(client),
	})
	signed, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	s.auth.mu.Lock()
	for t, info := range s.auth.tokens {
		if !info.exp.After(now) {
			delete(s.auth.tokens, t)
		}
	}
	s.auth.tokens[signed] = tokenInfo{client: client, exp: exp}
	s.auth.mu.Unlock()
	return signed, nil
}

// bearer returns the client behind the request's access token, if it is one
// the emulator issued and it has not expired on the emulator's clock.
func (a *authState) bearer(r *http.Request, now time.Time) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	a.mu.RLock()
	info, ok := a.tokens[tok]
	a.mu.RUnlock()
	if !ok || !info.exp.After(now) {
		return "", false
	}
	return info.client, true
}
