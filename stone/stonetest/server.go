package stonetest

import (
	crand "crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"lote/stone"
)

// Paths of the token endpoint and of the realm, as on Stone's accounts host
// (stone-api.md §1.1).
const (
	RealmPath = "/auth/realms/stone_bank"
	TokenPath = RealmPath + "/protocol/openid-connect/token"
)

// Defaults applied when the corresponding Options field is zero.
const (
	DefaultFee            = 400 // cents per TED (stone-api.md §2.6)
	DefaultIdempotencyTTL = 24 * time.Hour
	DefaultFinishDelay    = time.Minute
	DefaultRefundDelay    = time.Hour
	DefaultApprovalTTL    = 24 * time.Hour
	DefaultRequestLogSize = 10000
	// DefaultPixReserveDelay is the time from a Pix's confirmation to
	// MONEY_RESERVED, DefaultPixSettleDelay from there to SETTLED: seconds,
	// as in the documentation's examples.
	DefaultPixReserveDelay = time.Second
	DefaultPixSettleDelay  = 5 * time.Second
)

// Options configure a Server. The zero value is a production-mode emulator
// on the real clock with Stone's documented defaults (stone-api.md §0).
type Options struct {
	// Now is the base clock; nil means time.Now. Advance and SetNow shift the
	// emulator's clock relative to it.
	Now func() time.Time

	// AssertionClock is the clock the time claims of client assertions
	// (exp, nbf, iat) are checked against; nil means the emulator's clock.
	// cmd/stonesim sets the real clock: its clients are other processes,
	// whose assertions must stay valid when /_sim/advance moves the
	// emulator's clock hours ahead to run the transfers' lifecycle.
	AssertionClock func() time.Time

	// Sandbox selects the sandbox TED window (06:30–17:23 every day) instead
	// of production's (business days 06:30–17:23), stone-api.md §2.4.
	Sandbox bool
	// EarlyCutoff closes production's TED window at 17:20, as the TED
	// page's alert says, instead of 17:23 (its text and the transfer
	// overview).
	EarlyCutoff bool

	// ScheduledShortfallFails ends a scheduled TED that finds the account
	// short of funds on its date FAILED with failure_reason_code "1", like
	// an immediate one. By default it ends REFUNDED, as the documentation's
	// refund section says of scheduled transfers, with the same failure
	// reason and no fee.
	ScheduledShortfallFails bool

	// AllowMissingUserAgent serves API and token requests that carry no
	// User-Agent header; by default they get 400, since Stone's guide
	// requires one on every call (stone-api.md §1.4, §1.6).
	AllowMissingUserAgent bool

	// LenientAssertions accepts client assertions as Stone's public client
	// libraries build them: valid for up to 2 hours, with a client_id claim
	// instead of clientId (stone-api.md §1.3). Strict by default.
	LenientAssertions bool

	// RequireApproval starts transfers CREATED, waiting for
	// POST .../approve or .../reject (stone-api.md §1.9). They expire after
	// ApprovalTTL, or at the end of their scheduled date.
	RequireApproval bool
	// OwnerApproval starts transfers CREATED, waiting for the account's
	// owner to approve or reject them in Stone's app (Server.ApproveAsOwner,
	// Server.RejectAsOwner, POST /_sim/transfers/{id}/approve or /reject),
	// as Stone does for a partner application's transfers (stone-api.md
	// §1.9). The application's own approve and reject get 403. They expire
	// as with RequireApproval.
	OwnerApproval bool
	// ApprovalTTL is how long an unscheduled CREATED transfer waits for
	// approval; 0 means DefaultApprovalTTL.
	ApprovalTTL time.Duration

	// DelayedAsScheduled reports a transfer created outside the TED window
	// with status SCHEDULED (and delayed_to_next_business_day true) instead of
	// the status DELAYED_TO_NEXT_BUSINESS_DAY.
	DelayedAsScheduled bool

	// Int32Amount rejects amounts above 2147483647 cents, reading the create
	// page's int32 literally; by default the limit is 999999999999999999.
	Int32Amount bool

	// IdempotencyTTL is how long a key replays its answer; afterwards the key
	// is refused with 409 srn:error:conflict. 0 means DefaultIdempotencyTTL.
	IdempotencyTTL time.Duration

	// FinishDelay is the time from execution to FINISHED; 0 means
	// DefaultFinishDelay.
	FinishDelay time.Duration
	// RefundDelay is the time from FINISHED to REFUNDED for transfers that
	// RefundRule selects; 0 means DefaultRefundDelay.
	RefundDelay time.Duration
	// RefundRule decides, when a transfer finishes, whether the receiving
	// bank will return it and with which refund_reason_code ("0".."14").
	// nil refunds nothing. RefundByAccount builds one from a map.
	RefundRule func(t stone.Transfer) (code string, ok bool)

	// Fee is the fee of one TED in cents: 0 means DefaultFee, a negative
	// value means free.
	Fee int64
	// FreeTransfers is the number of free TEDs per account (the fee object's
	// max_free_transfers); 0 means none.
	FreeTransfers int

	// Institutions resolves an institution_code (8-digit ISPB or 3-digit
	// COMPE code) to the institution's ISPB, COMPE code and name. nil uses
	// lote's directory of STR participants (validate.STRParticipant).
	Institutions func(code string) (ispb, number, name string, ok bool)

	// Seed seeds the random source of faults (FailRate, DropRate, Jitter,
	// DuplicateWebhookRate), so that a run can be reproduced.
	Seed uint64

	// DeterministicIDs draws ids (transfers, requests, webhook events,
	// tokens) from the source seeded with Seed too, for a test that compares
	// them with a golden file. By default they come from crypto/rand, so
	// that two emulators, or one restarted, never issue the same transfer
	// id: a ledger kept across a restart would take it for one transfer.
	DeterministicIDs bool

	// PixReserveDelay is the time from a Pix's confirmation to
	// MONEY_RESERVED, PixSettleDelay from MONEY_RESERVED to SETTLED; 0
	// means DefaultPixReserveDelay and DefaultPixSettleDelay.
	PixReserveDelay, PixSettleDelay time.Duration
	// PixRefundRule decides, when a Pix settles, whether the receiving bank
	// will return it RefundDelay later, and how much: amount is in cents,
	// at most the payment's; nil refunds nothing. RefundPixByKey builds one.
	// Server.RefundPix refunds at any time.
	PixRefundRule func(p stone.PixPayment) (amount int64, ok bool)
	// PixFailRule decides, when a confirmed Pix is about to reserve its
	// money, whether the receiving institution refuses its destination (as
	// Stone says a Pix by bank data to an account that does not exist is
	// created but fails after its confirmation): the payment ends FAILED
	// with failure_reason_code "0" and the description returned, and no
	// money moves. nil fails none. FailPixToAccounts builds one.
	PixFailRule func(dest PixKey) (description string, ok bool)

	// DirectParticipant answers the list of Pix operations with 422
	// srn:error:not_indirect_participant, as Stone does for a client that is
	// not an indirect participant of Pix (listar-pagamentos); by default
	// the list is served.
	DirectParticipant bool

	// Faults are the initial faults; see Server.SetFaults.
	Faults Faults

	// InFlight, if set, is called by the create handler after it has
	// reserved the idempotency key and before it stores the transfer: a test
	// can block in it to keep a request in flight.
	InFlight func(r *http.Request)

	// SigningKey signs access tokens and webhooks; nil generates a 2048-bit
	// key on first use.
	SigningKey *rsa.PrivateKey
	// EncryptionKey is the key published with use "enc" at
	// stone.KeysPath; nil generates a 2048-bit key on first use.
	EncryptionKey *rsa.PrivateKey

	// WebhookClient posts webhooks (see Server.SetWebhook); nil means a
	// client with a 10 s timeout.
	WebhookClient *http.Client

	// Log, if set, is called after every request with its summary.
	Log func(RequestLog)
	// RequestLogSize bounds the log kept for Requests (the most recent
	// entries are kept); 0 means DefaultRequestLogSize.
	RequestLogSize int
}

// Faults are failures a test switches on. The zero value injects nothing.
type Faults struct {
	// Latency delays every answer, plus a uniformly random extra of up to
	// Jitter. The delay is spent on the real clock, not the emulator's.
	Latency time.Duration
	Jitter  time.Duration

	// RateLimit is the number of API requests per second allowed per client
	// (a token bucket of RateBurst tokens, at least 1); 0 means unlimited.
	// Requests over it get 429 with Retry-After in whole seconds.
	RateLimit float64
	RateBurst int

	// FailRate is the share (0..1) of requests answered 500 or 503 before
	// anything is done.
	FailRate float64

	// DropRate is the share (0..1) of transfer creations (TED, internal,
	// Pix) and Pix confirmations whose connection is closed without an
	// answer after the change has been stored: the case that makes
	// idempotency keys matter.
	DropRate float64

	// PixConfirmUnavailableRate is the share (0..1) of Pix confirmations
	// answered 503, as Stone does when the external services are down,
	// before anything is done.
	PixConfirmUnavailableRate float64

	// OnRequest, if set, sees every request first. When it returns handled,
	// the emulator answers with status and a generic error body, or, when
	// status is 0, closes the connection without answering.
	OnRequest func(r *http.Request) (status int, handled bool)

	// DuplicateWebhookRate is the share (0..1) of delivered webhook events
	// that are posted a second time, with the same event id, as Stone may
	// do (stone-api.md §7.3).
	DuplicateWebhookRate float64
}

// RequestLog summarises one request. Status 0 means the connection was
// dropped without an answer.
type RequestLog struct {
	Method    string        `json:"method"`
	Path      string        `json:"path"`
	Status    int           `json:"status"`
	RequestID string        `json:"request_id"`
	Latency   time.Duration `json:"latency"`
}

// Server is the emulator. It is an http.Handler; NewServer also serves it on
// a local port. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the started server (http://127.0.0.1:PORT),
	// empty until Start.
	URL string

	opts  Options
	ts    *httptest.Server
	mux   *http.ServeMux
	admin http.Handler

	clockMu sync.Mutex
	offset  time.Duration

	faultsMu sync.RWMutex
	faults   Faults
	limMu    sync.Mutex
	limiters map[string]*rate.Limiter

	rngMu sync.Mutex
	rng   *rand.Rand

	auth   authState
	encKey encKeyState
	wh     webhookState

	mu        sync.Mutex
	clients   map[string]bool
	accounts  map[string]*account
	transfers map[string]*record
	byAccount map[string][]*record
	all       []*record
	idem      map[string]*idemEntry
	entries   map[string]*statementEntry // statement entries by id
	events    eventHeap
	seq       uint64

	stoneAccounts     map[string]StoneAccount // the internal-transfer directory, by account code
	internals         map[string]*internalRecord
	internalAll       []*internalRecord
	internalByAccount map[string][]*internalRecord
	pixKeys           map[string]PixKey // the DICT, by key
	pix               map[string]*pixRecord
	pixAll            []*pixRecord
	pixOps            map[string][]pixOp // an account's Pix payments and refunds, oldest first

	reqMu    sync.Mutex
	reqLog   []RequestLog
	reqNext  int
	reqCount int
}

// NewServer starts an emulator on 127.0.0.1 with a random port. The caller
// must Close it.
func NewServer(opts Options) *Server {
	s := NewUnstartedServer(opts)
	s.Start()
	return s
}

// NewUnstartedServer returns an emulator that is not listening yet: call
// Start, or mount it as an http.Handler.
func NewUnstartedServer(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ApprovalTTL <= 0 {
		opts.ApprovalTTL = DefaultApprovalTTL
	}
	if opts.IdempotencyTTL <= 0 {
		opts.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if opts.FinishDelay <= 0 {
		opts.FinishDelay = DefaultFinishDelay
	}
	if opts.RefundDelay <= 0 {
		opts.RefundDelay = DefaultRefundDelay
	}
	switch {
	case opts.Fee == 0:
		opts.Fee = DefaultFee
	case opts.Fee < 0:
		opts.Fee = 0
	}
	if opts.Institutions == nil {
		opts.Institutions = builtinInstitution
	}
	if opts.RequestLogSize <= 0 {
		opts.RequestLogSize = DefaultRequestLogSize
	}
	if opts.PixReserveDelay <= 0 {
		opts.PixReserveDelay = DefaultPixReserveDelay
	}
	if opts.PixSettleDelay <= 0 {
		opts.PixSettleDelay = DefaultPixSettleDelay
	}
	s := &Server{
		opts:      opts,
		faults:    opts.Faults,
		limiters:  make(map[string]*rate.Limiter),
		rng:       rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		clients:   make(map[string]bool),
		accounts:  make(map[string]*account),
		transfers: make(map[string]*record),
		byAccount: make(map[string][]*record),
		idem:      make(map[string]*idemEntry),

		stoneAccounts:     make(map[string]StoneAccount),
		internals:         make(map[string]*internalRecord),
		internalByAccount: make(map[string][]*internalRecord),
		pixKeys:           make(map[string]PixKey),
		pix:               make(map[string]*pixRecord),
		pixOps:            make(map[string][]pixOp),
	}
	s.auth.init(opts.SigningKey)
	s.encKey.key = opts.EncryptionKey
	s.mux = s.routes()
	s.admin = s.AdminHandler()
	return s
}

// Start serves the emulator on 127.0.0.1 with a random port and sets URL.
func (s *Server) Start() {
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
}

// Close shuts the started server down and waits for outstanding requests.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// Client returns an HTTP client configured for the started server.
func (s *Server) Client() *http.Client {
	if s.ts == nil {
		return &http.Client{}
	}
	return s.ts.Client()
}

// Now returns the emulator's current time.
func (s *Server) Now() time.Time {
	s.clockMu.Lock()
	off := s.offset
	s.clockMu.Unlock()
	return s.opts.Now().Add(off)
}

// Advance moves the emulator's clock forward by d and applies the transfer
// transitions that became due.
func (s *Server) Advance(d time.Duration) {
	s.clockMu.Lock()
	s.offset += d
	s.clockMu.Unlock()
	s.settle(s.Now())
}

// SetNow sets the emulator's clock to t (it then runs at the base clock's
// pace) and applies the transitions due by t. Moving the clock back does not
// undo transitions.
func (s *Server) SetNow(t time.Time) {
	s.clockMu.Lock()
	s.offset = t.Sub(s.opts.Now())
	s.clockMu.Unlock()
	s.settle(s.Now())
}

// SetFaults replaces the injected faults; it is safe while serving.
func (s *Server) SetFaults(f Faults) {
	s.faultsMu.Lock()
	s.faults = f
	s.faultsMu.Unlock()
	s.limMu.Lock()
	clear(s.limiters) // new buckets at the new rate
	s.limMu.Unlock()
}

// Faults returns the faults in force.
func (s *Server) Faults() Faults {
	s.faultsMu.RLock()
	defer s.faultsMu.RUnlock()
	return s.faults
}

// AddClient registers an application: its client_id and the public key its
// client assertions are signed with.
func (s *Server) AddClient(id string, pub *rsa.PublicKey) {
	s.auth.addClient(id, pub)
	s.mu.Lock()
	s.clients[id] = true
	s.mu.Unlock()
}

// AddAccount opens an account with balanceCents that every client may use.
// Adding an existing account sets its balance.
func (s *Server) AddAccount(id string, balanceCents int64) {
	s.addAccount("", id, balanceCents)
}

// AddAccountFor opens an account with balanceCents that only clientID may
// use; other clients get 403 srn:error:unauthorized for it.
func (s *Server) AddAccountFor(clientID, id string, balanceCents int64) {
	s.addAccount(clientID, id, balanceCents)
}

func (s *Server) addAccount(owner, id string, balance int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[id]
	if a == nil {
		a = &account{id: id, freeLeft: s.opts.FreeTransfers}
		s.accounts[id] = a
	}
	a.owner = owner
	a.balance = balance
}

// Balance returns an account's balance in cents, and whether it exists.
func (s *Server) Balance(accountID string) (int64, bool) {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[accountID]
	if a == nil {
		return 0, false
	}
	return a.balance, true
}

// Requests returns the most recent requests served (at most
// Options.RequestLogSize), oldest first.
func (s *Server) Requests() []RequestLog {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	out := make([]RequestLog, 0, len(s.reqLog))
	if len(s.reqLog) == s.opts.RequestLogSize {
		out = append(out, s.reqLog[s.reqNext:]...)
		out = append(out, s.reqLog[:s.reqNext]...)
		return out
	}
	return append(out, s.reqLog...)
}

// RequestCount returns the number of requests served since the start.
func (s *Server) RequestCount() int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return s.reqCount
}

func (s *Server) logRequest(l RequestLog) {
	s.reqMu.Lock()
	s.reqCount++
	if len(s.reqLog) < s.opts.RequestLogSize {
		s.reqLog = append(s.reqLog, l)
	} else {
		s.reqLog[s.reqNext] = l
		s.reqNext = (s.reqNext + 1) % len(s.reqLog)
	}
	s.reqMu.Unlock()
	if s.opts.Log != nil {
		s.opts.Log(l)
	}
}

// ServeHTTP answers one request: admin paths under /_sim/, the token
// endpoint, and the API under /api/v1/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := s.newUUID()
	w.Header().Set("x-request-id", rid)
	rec := &recorder{ResponseWriter: w}
	logged := false
	// Logged once, before the answer or the dropped connection reaches the
	// client, or when the handler returns without answering.
	rec.log = func() {
		if !logged {
			logged = true
			s.logRequest(RequestLog{Method: r.Method, Path: r.URL.Path, Status: rec.status, RequestID: rid, Latency: time.Since(start)})
		}
	}
	defer rec.log()

	if len(r.URL.Path) >= 6 && r.URL.Path[:6] == "/_sim/" {
		s.admin.ServeHTTP(rec, r)
		return
	}

	f := s.Faults()
	if d := f.Latency + s.jitter(f.Jitter); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f.OnRequest != nil {
		if status, handled := f.OnRequest(r); handled {
			if status == 0 {
				drop(rec)
				return
			}
			writeError(rec, status, stone.ErrorBody{Type: "srn:error:injected", Title: "fault injected by the test"})
			return
		}
	}
	if f.FailRate > 0 && s.chance(f.FailRate) {
		// Before doing anything, so that a retry is always safe.
		if s.chance(0.5) {
			writeError(rec, http.StatusInternalServerError, stone.ErrorBody{Type: "srn:error:internal_server_error"})
		} else {
			writeError(rec, http.StatusServiceUnavailable, stone.ErrorBody{Type: "srn:error:service_unavailable"})
		}
		return
	}
	s.settle(s.Now())
	s.mux.ServeHTTP(rec, r)
}

// recorder remembers the status written, for the request log. Unwrap lets
// http.ResponseController reach the connection to hijack it.
type recorder struct {
	http.ResponseWriter
	status int
	log    func()
}

// WriteHeader logs the request before the answer leaves, so that a client
// that has seen an answer finds the request in Server.Requests.
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.log()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// drop closes the connection without answering. Hijacking works on HTTP/1;
// otherwise http.ErrAbortHandler makes net/http abort the response, which is
// its documented way to do the same.
func drop(w *recorder) {
	w.log()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("POST "+TokenPath, s.handleToken)
	m.HandleFunc("GET "+stone.KeysPath, s.handleKeys)
	m.Handle("POST /api/v1/external_transfers", s.api(ScopeTransfersExternal, s.handleCreate))
	m.Handle("GET /api/v1/external_transfers", s.api(ScopeRead, s.handleList))
	m.Handle("GET /api/v1/external_transfers/{id}", s.api(ScopeRead, s.handleGet))
	m.Handle("POST /api/v1/external_transfers/{id}/cancel", s.api(ScopeTransfersExternal, s.handleCancel))
	m.Handle("DELETE /api/v1/external_transfers/{id}/cancel", s.api(ScopeTransfersExternal, s.handleCancel))
	m.Handle("POST /api/v1/external_transfers/{id}/approve", s.api(ScopeTransfersExternal, s.handleApprove))
	m.Handle("POST /api/v1/external_transfers/{id}/reject", s.api(ScopeTransfersExternal, s.handleReject))
	m.Handle("POST /api/v1/dry_run/external_transfers", s.api(ScopeTransfersExternal, s.handleDryRun))
	m.Handle("GET /api/v1/schedulings/calendar", s.api("", s.handleCalendar))
	m.Handle("GET /api/v1/accounts/{id}/balance", s.api(ScopeRead, s.handleBalance))
	m.Handle("GET /api/v1/accounts/{id}/fees/{type}", s.api(ScopeFeesRead, s.handleFee))
	m.Handle("GET /api/v1/accounts/{id}/statement", s.api(ScopeRead, s.handleStatement))
	m.Handle("GET /api/v1/accounts/{id}/statement/entries/{entry}", s.api(ScopeRead, s.handleStatementEntry))
	m.Handle("GET /api/v1/statement/entries/{entry}", s.api(ScopeRead, s.handleStatementEntry))
	m.Handle("POST /api/v1/receipts", s.api(ScopeRead, s.handleReceipt))
	m.Handle("POST /api/v1/internal_transfers", s.api(ScopeTransfersInternal, s.handleInternalCreate))
	m.Handle("GET /api/v1/internal_transfers", s.api(ScopeRead, s.handleInternalList))
	m.Handle("GET /api/v1/internal_transfers/{id}", s.api(ScopeRead, s.handleInternalGet))
	m.Handle("POST /api/v1/internal_transfers/{id}/cancel", s.api(ScopeTransfersInternal, s.handleInternalCancel))
	m.Handle("POST /api/v1/dry_run/internal_transfers", s.api(ScopeTransfersInternal, s.handleInternalDryRun))
	m.Handle("POST /api/v1/internal_transfers/{id}/approve", s.api(ScopeTransfersInternal, s.handleInternalDecision(true)))
	m.Handle("POST /api/v1/internal_transfers/{id}/reject", s.api(ScopeTransfersInternal, s.handleInternalDecision(false)))
	m.Handle("POST /api/v1/pix/outbound_pix_payments", s.api(ScopeInstantPayment, s.handlePixCreate))
	// GET /api/v1/pix/outbound_pix_payments/{id} and
	// GET /api/v1/pix/{account_id}/pix_payments overlap as patterns; one
	// handler tells them apart.
	m.Handle("GET /api/v1/pix/{a}/{b}", s.api(ScopeRead, s.handlePixRead))
	// The webhooks' target_detail_uri omits /pix/ (pix_outbound_payment_*.json).
	m.Handle("GET /api/v1/outbound_pix_payments/{id}", s.api(ScopeRead, func(w http.ResponseWriter, r *http.Request, client string) {
		s.handlePixGet(w, r.PathValue("id"), client)
	}))
	m.Handle("POST /api/v1/pix/outbound_pix_payments/{id}/actions/confirm", s.api(ScopeInstantPayment, s.handlePixConfirm))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
	})
	return m
}

// apiHandler serves an authenticated API request on behalf of a client.
type apiHandler func(w http.ResponseWriter, r *http.Request, client string)

// api checks the User-Agent, authenticates the bearer token, applies the
// client's rate limit, then checks that the client holds scope ("" for
// none).
func (s *Server) api(scope string, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.opts.AllowMissingUserAgent && r.UserAgent() == "" {
			// Stone's guide requires a User-Agent on every call
			// (stone-api.md §1.6); its answer to a missing one is not
			// documented.
			writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation,
				Reason: []stone.ErrorReason{{Error: "can't be blank", Path: []string{"user-agent"}}}})
			return
		}
		client, ok := s.auth.bearer(r, s.Now())
		if !ok {
			writeError(w, http.StatusUnauthorized, stone.ErrorBody{Type: stone.ErrTypeUnauthenticated})
			return
		}
		if wait, limited := s.rateLimited(client); limited {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			writeError(w, http.StatusTooManyRequests, stone.ErrorBody{Type: "srn:error:too_many_requests"})
			return
		}
		if s.missingScope(w, client, scope) {
			return
		}
		h(w, r, client)
	})
}

// rateLimited takes a token from the client's bucket, on the real clock,
// and says how long to wait when there is none.
func (s *Server) rateLimited(client string) (time.Duration, bool) {
	f := s.Faults()
	if f.RateLimit <= 0 {
		return 0, false
	}
	s.limMu.Lock()
	lim := s.limiters[client]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(f.RateLimit), max(f.RateBurst, 1))
		s.limiters[client] = lim
	}
	s.limMu.Unlock()
	now := time.Now()
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return time.Second, true
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, true
	}
	return 0, false
}

func (s *Server) chance(p float64) bool {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64() < p
}

func (s *Server) jitter(j time.Duration) time.Duration {
	if j <= 0 {
		return 0
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return time.Duration(s.rng.Int64N(int64(j)))
}

// newUUID returns a version 4 UUID, random unless Options.DeterministicIDs.
func (s *Server) newUUID() string {
	var u [16]byte
	if s.opts.DeterministicIDs {
		s.rngMu.Lock()
		a, b := s.rng.Uint64(), s.rng.Uint64()
		s.rngMu.Unlock()
		for i := range 8 {
			u[i] = byte(a >> (8 * i))
			u[8+i] = byte(b >> (8 * i))
		}
	} else {
		crand.Read(u[:]) // never fails (crypto/rand)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"type":"srn:error:internal_server_error"}`)
	}
	writeBody(w, status, b)
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, e stone.ErrorBody) {
	writeJSON(w, status, e)
}

func ptr[T any](v T) *T { return &v }
