package stone

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Environments accepted by Config.Env (stone-api.md §1.1).
const (
	EnvSandbox    = "sandbox"
	EnvProduction = "production"
)

// Paths relative to the accounts (auth) host (stone-api.md §1.1, §1.3).
const (
	realmPath = "/auth/realms/stone_bank"
	tokenPath = realmPath + "/protocol/openid-connect/token"
)

const (
	defaultUserAgent = "lote-stone-client/1"
	// requestTimeout bounds each HTTP request of the dedicated client.
	requestTimeout = 30 * time.Second
	// maxAnswer bounds the bytes read from one answer (a page of transfers
	// is a few hundred kilobytes), so a broken server cannot exhaust memory.
	maxAnswer = 16 << 20
)

// envURLs returns the documented API and accounts hosts of env.
func envURLs(env string) (api, auth string, ok bool) {
	switch env {
	case EnvSandbox:
		return "https://sandbox-api.openbank.stone.com.br", "https://sandbox-accounts.openbank.stone.com.br", true
	case EnvProduction:
		return "https://api.openbank.stone.com.br", "https://accounts.openbank.stone.com.br", true
	}
	return "", "", false
}

// Config configures a Client. ClientID and Key are required, and either Env
// or both APIURL and AuthURL.
type Config struct {
	// Env is "sandbox", "production" or "" (then APIURL and AuthURL are
	// required). APIURL and AuthURL, when set, override the Env's hosts.
	Env string
	// APIURL is the base of /api/v1 (scheme and host, no path),
	// AuthURL the base of /auth/realms/stone_bank. The emulator serves both
	// on one address.
	APIURL, AuthURL string
	// ClientID is the application's client id, issued by Stone.
	ClientID string
	// Key signs the client assertion. At least 2048 bits; Stone asks for
	// 4096 (stone-api.md §1.2).
	Key *rsa.PrivateKey
	// HTTPClient makes every request. Nil means a dedicated client with a
	// 30 s timeout per request, keep-alives, 64 idle connections per host,
	// and no redirects followed.
	HTTPClient *http.Client
	// UserAgent is sent on every request (Stone requires one, §1.4/§1.6).
	// Empty means "lote-stone-client/1".
	UserAgent string
	// Now is the clock for token expiry, assertion times, Retry-After dates
	// and latencies. Nil means time.Now.
	Now func() time.Time
}

// String describes c without its key, so that logging a Config by mistake
// cannot leak it.
func (c Config) String() string {
	return fmt.Sprintf("stone.Config{Env:%q APIURL:%q AuthURL:%q ClientID:%q Key:%s}",
		c.Env, c.APIURL, c.AuthURL, c.ClientID, redacted(c.Key != nil))
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

func redacted(set bool) string {
	if set {
		return "[redacted]"
	}
	return "nil"
}

// Client calls Stone's Open Banking API. It is safe for concurrent use: all
// goroutines share one cached access token. It never retries a call, except
// once after a 401 with a fresh token; the caller owns retries (see Classify).
type Client struct {
	api, auth string // without trailing slash (a slash breaks aud, §8.9)
	clientID  string
	key       *rsa.PrivateKey
	hc        *http.Client
	ua        string
	now       func() time.Time

	tokens   tokenCache
	calendar calendarCache
}

// NewClient checks cfg and returns a Client. It makes no request: the first
// call fetches the access token.
func NewClient(cfg Config) (*Client, error) {
	api, auth := cfg.APIURL, cfg.AuthURL
	if cfg.Env != "" {
		envAPI, envAuth, ok := envURLs(cfg.Env)
		if !ok {
			return nil, fmt.Errorf("stone: unknown environment %q (want %q or %q)", cfg.Env, EnvSandbox, EnvProduction)
		}
		if api == "" {
			api = envAPI
		}
		if auth == "" {
			auth = envAuth
		}
	}
	var err error
	if api, err = baseURL("API URL", api); err != nil {
		return nil, err
	}
	if auth, err = baseURL("auth URL", auth); err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, errors.New("stone: client id is required")
	}
	if cfg.Key == nil {
		return nil, errors.New("stone: private key is required")
	}
	if bits := cfg.Key.N.BitLen(); bits < minKeyBits {
		return nil, fmt.Errorf("stone: private key has %d bits, want at least %d", bits, minKeyBits)
	}
	c := &Client{
		api:      api,
		auth:     auth,
		clientID: cfg.ClientID,
		key:      cfg.Key,
		hc:       cfg.HTTPClient,
		ua:       cfg.UserAgent,
		now:      cfg.Now,
	}
	if c.hc == nil {
		c.hc = newHTTPClient()
	}
	if c.ua == "" {
		c.ua = defaultUserAgent
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// String describes c without its key or token.
func (c *Client) String() string {
	return fmt.Sprintf("stone.Client{API:%q Auth:%q ClientID:%q}", c.api, c.auth, c.clientID)
}

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

// baseURL checks that s is an absolute http(s) URL with no query and returns
// it without a trailing slash.
func baseURL(what, s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("stone: %s is required (or set Env)", what)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("stone: %s %q: %w", what, s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("stone: %s %q is not an http(s) base URL", what, s)
	}
	return strings.TrimRight(s, "/"), nil
}

// newHTTPClient is the default transport: bounded per request, many idle
// connections so that a concurrent batch reuses them, and redirects returned
// rather than followed (a redirected POST would turn into a GET).
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = requestTimeout
	return &http.Client{
		Transport: t,
		Timeout:   requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// CallInfo describes the last HTTP attempt of a call, for the caller's audit
// trail. Fill it with WithCallInfo.
type CallInfo struct {
	// Status is the HTTP status of the last attempt, 0 when none arrived.
	Status int
	// RequestID is the x-request-id of the last answer.
	RequestID string
	// Latency runs from sending the last attempt to reading its answer or
	// failing, on Config.Now's clock.
	Latency time.Duration
	// Attempts counts API requests sent: 0 when the call failed before
	// sending, 1, or 2 after a re-authentication on 401.
	Attempts int
	// Written reports that the last attempt's request was completely
	// written to the connection, so Stone may have acted on it.
	Written bool
}

// CallOption adjusts one call.
type CallOption interface{ apply(*callOptions) }

type callOptions struct{ info *CallInfo }

type callInfoOption struct{ info *CallInfo }

func (o callInfoOption) apply(co *callOptions) { co.info = o.info }

// WithCallInfo makes the call fill *info (reset first) with the details of
// its last HTTP attempt, whether the call succeeds or fails.
func WithCallInfo(info *CallInfo) CallOption { return callInfoOption{info} }

func collect(opts []CallOption) callOptions {
	var co callOptions
	for _, o := range opts {
		if o != nil {
			o.apply(&co)
		}
	}
	if co.info != nil {
		*co.info = CallInfo{}
	}
	return co
}

// request is one API call to make.
type request struct {
	method      string
	path        string // escaped, from /api/v1
	query       string // encoded, without '?'
	body        []byte // nil: no body
	idemKey     string
	ifNoneMatch string
	accept      string // "" means application/json
}

func (r *request) op() string { return r.method + " " + r.path }

// answer is a read HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func is2xx(status int) bool { return status >= 200 && status <= 299 }

// do makes the call with the cached access token and, on a 401, once more
// with a fresh one (stone-api.md §1.6). It returns the answer for a 2xx or
// 304, an *Error for any other status, or a *sendError.
func (c *Client) do(ctx context.Context, r *request, co callOptions) (*answer, error) {
	if err := ctx.Err(); err != nil {
		return nil, &sendError{op: r.op(), stage: stageNotSent, cause: causeCanceled, err: err}
	}
	tok, err := c.accessToken(ctx, "")
	if err != nil {
		return nil, c.tokenFailure(ctx, r, err)
	}
	a, err := c.attempt(ctx, r, tok, co)
	if err != nil {
		return nil, err
	}
	if a.status == http.StatusUnauthorized {
		// A 401 proves nothing was done; the token may have expired or
		// been revoked early. One fresh token, one more try.
		if tok, err = c.accessToken(ctx, tok); err != nil {
			return nil, c.tokenFailure(ctx, r, err)
		}
		if a, err = c.attempt(ctx, r, tok, co); err != nil {
			return nil, err
		}
	}
	if is2xx(a.status) || (a.status == http.StatusNotModified && r.ifNoneMatch != "") {
		return a, nil
	}
	return nil, newError(a.status, a.header, a.body, c.now())
}

func (c *Client) tokenFailure(ctx context.Context, r *request, err error) error {
	if ctx.Err() != nil {
		return &sendError{op: r.op(), stage: stageNotSent, cause: causeCanceled, err: err}
	}
	return &sendError{op: r.op(), stage: stageNotSent, cause: causeAuth, err: fmt.Errorf("get access token: %w", err)}
}

// connTrace records how far a request got, to tell "never sent" from "sent,
// no answer". Its callbacks run on the transport's goroutines.
type connTrace struct {
	wroteAny, wrote atomic.Bool
}

// attempt sends one request and reads its whole answer.
func (c *Client) attempt(ctx context.Context, r *request, tok string, co callOptions) (*answer, error) {
	var tr connTrace
	trace := &httptrace.ClientTrace{
		WroteHeaders: func() { tr.wroteAny.Store(true) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			tr.wroteAny.Store(true)
			if i.Err == nil {
				tr.wrote.Store(true)
			}
		},
	}
	target := c.api + r.path
	if r.query != "" {
		target += "?" + r.query
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), r.method, target, body)
	if err != nil {
		return nil, &sendError{op: r.op(), stage: stageNotSent, cause: causeInput, err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", c.ua)
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.idemKey != "" {
		req.Header.Set("x-stone-idempotency-key", r.idemKey)
	}
	if r.ifNoneMatch != "" {
		req.Header.Set("If-None-Match", r.ifNoneMatch)
	}

	start := c.now()
	resp, err := c.hc.Do(req)
	info := co.info
	finish := func(sent bool, status int, h http.Header) {
		if info == nil {
			return
		}
		if sent {
			info.Attempts++
		}
		info.Status = status
		info.RequestID = ""
		if h != nil {
			info.RequestID = h.Get("X-Request-Id")
		}
		info.Latency = c.now().Sub(start)
		info.Written = tr.wrote.Load()
	}
	if err != nil {
		se := &sendError{op: r.op(), err: unwrapURLError(err)}
		// Dial, DNS, TLS handshake and "connected but nothing written"
		// all leave stageNotSent: Stone cannot have seen the request.
		switch {
		case tr.wrote.Load():
			se.stage = stageWritten
		case tr.wroteAny.Load():
			se.stage = stagePartial
		}
		if ctx.Err() != nil {
			se.cause = causeCanceled
		}
		finish(se.stage != stageNotSent, 0, nil)
		return nil, se
	}
	defer resp.Body.Close()
	data, err := readAnswer(resp)
	finish(true, resp.StatusCode, resp.Header)
	if err != nil && is2xx(resp.StatusCode) {
		// A 2xx whose body is lost: the transfer exists but its id is
		// unknown. Only a lookup or a replay with the same key can tell.
		cause := causeNetwork
		if ctx.Err() != nil {
			cause = causeCanceled
		}
		return nil, &sendError{op: r.op(), stage: stageAnswered, cause: cause,
			err: fmt.Errorf("read %d answer (request %s): %w", resp.StatusCode, resp.Header.Get("X-Request-Id"), unwrapURLError(err))}
	}
	// A non-2xx answer whose body broke off is still classified by its
	// status; newError keeps what was read.
	return &answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// readAnswer reads a whole answer body, at most maxAnswer bytes.
func readAnswer(resp *http.Response) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err == nil && len(data) > maxAnswer {
		err = fmt.Errorf("answer larger than %d bytes", maxAnswer)
	}
	return data, err
}

// unwrapURLError drops *url.Error's "Post \"https://…\":" prefix; the op
// already says which call failed.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// call sends r and decodes its 2xx JSON answer into a new T.
func call[T any](ctx context.Context, c *Client, r *request, co callOptions) (*T, error) {
	a, err := c.do(ctx, r, co)
	if err != nil {
		return nil, err
	}
	var v T
	if err := decodeAnswer(r, a, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// decodeAnswer decodes a 2xx JSON answer into v; a body that does not decode
// is an ambiguous failure, since the call may have taken effect.
func decodeAnswer(r *request, a *answer, v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return &sendError{op: r.op(), stage: stageAnswered,
			err: fmt.Errorf("decode %d answer (request %s): %w", a.status, a.header.Get("X-Request-Id"), err)}
	}
	return nil
}

// calendarCache remembers the last calendar answer per query, with its ETag,
// for If-None-Match (stone-api.md §4).
type calendarCache struct {
	mu      sync.Mutex
	entries map[string]calendarEntry
}

type calendarEntry struct {
	etag string
	body []byte
}

// maxCalendarEntries bounds the cache; a batch asks for one or two ranges.
const maxCalendarEntries = 32

func (cc *calendarCache) get(key string) (calendarEntry, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.entries[key]
	return e, ok
}

func (cc *calendarCache) put(key string, e calendarEntry) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.entries == nil {
		cc.entries = make(map[string]calendarEntry)
	}
	if _, ok := cc.entries[key]; !ok && len(cc.entries) >= maxCalendarEntries {
		for k := range cc.entries {
			delete(cc.entries, k)
			break
		}
	}
	cc.entries[key] = e
}

func (cc *calendarCache) drop(key string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	delete(cc.entries, key)
}
