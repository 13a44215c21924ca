// Command stonesim serves the Stone Open Banking emulator (lote/stone/stonetest)
// as a standalone HTTP server, with fault flags, for manual runs and for the
// crash test that drives the real binaries.
//
//	stonesim --addr 127.0.0.1:8081 --client ID=public.pem --account ID=BALANCE_CENTS
//
// Internal transfers resolve their target with --stone-account CODE=NAME;
// Pix keys are looked up in the directory --pix-key KEY=NAME,DOCUMENT[,ISPB]
// builds, and POST /_sim/pix/ID/refund?amount=CENTS refunds a settled Pix.
//
// With --webhook URL, every status change of a transfer is posted to URL as
// Stone's encrypted webhook, for every registered client, and retried on
// failure; the signing key is published at /api/v1/discovery/keys.
//
// It prints "stonesim listening on http://ADDR" on stdout once it accepts
// connections, one line per request on stderr (never the Authorization
// header), and shuts down cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"lote/stone/stonetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode maps run's error to the process exit code, reporting it.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "stonesim:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "stonesim:", err)
		return 1
	}
}

// options are the command line, bound by newFlagSet.
type options struct {
	addr              string
	mode              string
	clients           pairs
	accounts          pairs
	refunds           pairs
	stoneAccounts     pairs
	pixKeys           pairs
	pixRefunds        pairs
	pixFail           stringList
	confirmFailRate   float64
	pixSettleDelay    time.Duration
	latency, jitter   time.Duration
	rateLimit         float64
	failRate          float64
	dropRate          float64
	idempotencyTTL    time.Duration
	now               string
	requireApproval   bool
	ownerApproval     bool
	approvalTTL       time.Duration
	finishDelay       time.Duration
	holdCreate        time.Duration
	earlyCutoff       bool
	lenientAssertions bool
	seed              uint64
	fee               int64
	webhook           string
	webhookInterval   time.Duration
	duplicateWebhooks float64
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	if strings.Trim(v, "0123456789") != "" || strings.Trim(v, "0") == "" {
		return fmt.Errorf("%q is not an account number", v)
	}
	*l = append(*l, v)
	return nil
}

// pairs is a repeatable ID=VALUE flag.
type pairs [][2]string

func (p *pairs) String() string { return fmt.Sprint(*p) }

func (p *pairs) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" || val == "" {
		return fmt.Errorf("%q is not ID=VALUE", v)
	}
	*p = append(*p, [2]string{k, val})
	return nil
}

func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("stonesim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8081", "listen `address` (port 0 picks a free port)")
	fs.StringVar(&o.mode, "mode", "production", "TED window: production (business days 06:30–17:20) or sandbox (every day 06:30–17:23)")
	fs.Var(&o.clients, "client", "register a client: `ID=PUBLIC_KEY.pem` (repeatable)")
	fs.Var(&o.accounts, "account", "open an account usable by every client: `ID=BALANCE_CENTS` (repeatable)")
	fs.Var(&o.refunds, "refund", "refund, some time after it finishes, every transfer to this target account with Stone's refund code: `ACCOUNT_CODE=CODE` (repeatable; codes 0–14, e.g. 1: the account does not exist)")
	fs.Var(&o.stoneAccounts, "stone-account", "put a Stone account in the directory internal transfers resolve: `CODE=NAME[,DOCUMENT]` (repeatable)")
	fs.Var(&o.pixKeys, "pix-key", "put a Pix key in the key directory: `KEY=NAME,DOCUMENT[,ISPB]` (repeatable; ISPB defaults to Stone's)")
	fs.Var(&o.pixRefunds, "pix-refund", "refund, some time after it settles, every Pix to this key: `KEY=CENTS` or KEY=all (repeatable; CENTS makes a partial refund)")
	fs.Var(&o.pixFail, "pix-fail", "fail, after its confirmation, every Pix to this destination `ACCOUNT_CODE`, as an account the receiving bank does not have (repeatable)")
	fs.Float64Var(&o.confirmFailRate, "confirm-fail-rate", 0, "share (0..1) of Pix confirmations answered 503, as when Stone's external services are down")
	fs.DurationVar(&o.pixSettleDelay, "pix-settle-delay", stonetest.DefaultPixSettleDelay, "time from a Pix's MONEY_RESERVED to SETTLED")
	fs.DurationVar(&o.latency, "latency", 0, "delay every answer by this `duration`")
	fs.DurationVar(&o.jitter, "jitter", 0, "add a random delay of up to this `duration`")
	fs.Float64Var(&o.rateLimit, "rate-limit", 0, "requests per second per client before 429 (0: unlimited)")
	fs.Float64Var(&o.failRate, "fail-rate", 0, "share (0..1) of requests answered 500/503")
	fs.Float64Var(&o.dropRate, "drop-rate", 0, "share (0..1) of transfer creations dropped after they are stored")
	fs.DurationVar(&o.idempotencyTTL, "idempotency-ttl", stonetest.DefaultIdempotencyTTL, "how long an idempotency key replays its answer")
	fs.StringVar(&o.now, "now", "", "start the clock at this RFC 3339 `time`; it then runs in real time")
	fs.BoolVar(&o.requireApproval, "require-approval", false, "start transfers CREATED, waiting for the application's own approve call")
	fs.BoolVar(&o.ownerApproval, "owner-approval", false, "start transfers CREATED, waiting for the account's owner: POST /_sim/transfers/ID/approve or /reject decides, the application's approve gets 403")
	fs.DurationVar(&o.approvalTTL, "approval-ttl", stonetest.DefaultApprovalTTL, "how long a CREATED transfer waits for approval before it is EXPIRED")
	fs.DurationVar(&o.finishDelay, "finish-delay", stonetest.DefaultFinishDelay, "time from a TED's execution to FINISHED (Stone says a few hours)")
	fs.DurationVar(&o.holdCreate, "hold-create", 0, "hold each transfer creation this long after its idempotency key is taken, so that a retry meanwhile gets 423")
	fs.BoolVar(&o.earlyCutoff, "early-cutoff", false, "close production's TED window at 17:20 (the TED page's alert) instead of 17:23")
	fs.BoolVar(&o.lenientAssertions, "lenient-assertions", false, "accept 2-hour assertions and a client_id claim, as Stone's public libraries send")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the random source for faults (ids are random: a restart never reissues one)")
	fs.Int64Var(&o.fee, "fee", stonetest.DefaultFee, "fee of one TED in `cents` (0: free)")
	fs.StringVar(&o.webhook, "webhook", "", "post every client's webhooks to this `URL` (http or https)")
	fs.DurationVar(&o.webhookInterval, "webhook-interval", time.Second, "how often due webhooks are posted")
	fs.Float64Var(&o.duplicateWebhooks, "duplicate-webhook-rate", 0, "share (0..1) of delivered webhooks posted twice")
	return fs
}

// run serves the emulator until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet(&o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	opts, err := o.serverOptions(stderr)
	if err != nil {
		return usageError{err}
	}
	sim := stonetest.NewUnstartedServer(opts)
	if o.now != "" {
		start, err := time.Parse(time.RFC3339, o.now)
		if err != nil {
			return usageError{fmt.Errorf("--now %q is not an RFC 3339 time", o.now)}
		}
		sim.SetNow(start)
	}
	for _, c := range o.clients {
		pub, err := readPublicKey(c[1])
		if err != nil {
			return usageError{fmt.Errorf("--client %s: %w", c[0], err)}
		}
		sim.AddClient(c[0], pub)
		if o.webhook != "" {
			sim.SetWebhook(c[0], o.webhook)
		}
	}
	for _, a := range o.accounts {
		bal, err := strconv.ParseInt(a[1], 10, 64)
		if err != nil || bal < 0 {
			return usageError{fmt.Errorf("--account %s: balance %q is not a number of cents", a[0], a[1])}
		}
		sim.AddAccount(a[0], bal)
	}
	for _, a := range o.stoneAccounts {
		name, doc, _ := strings.Cut(a[1], ",")
		sim.AddStoneAccount(a[0], stonetest.StoneAccount{Name: name, Document: doc})
	}
	for _, k := range o.pixKeys {
		pk, err := parsePixKey(k[1])
		if err == nil {
			err = sim.AddPixKey(k[0], pk)
		}
		if err != nil {
			return usageError{fmt.Errorf("--pix-key %s: %w", k[0], err)}
		}
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "stonesim listening on http://%s\n", ln.Addr())

	// The webhook deliverer stops when run returns, and run waits for it,
	// so that no delivery outlives the command.
	var delivering sync.WaitGroup
	webhookCtx, stopWebhooks := context.WithCancel(ctx)
	defer delivering.Wait()
	defer stopWebhooks()
	if o.webhook != "" {
		delivering.Go(func() { sim.RunWebhooks(webhookCtx, o.webhookInterval) })
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// serverOptions turns the flags into the emulator's options.
func (o *options) serverOptions(stderr io.Writer) (stonetest.Options, error) {
	var opts stonetest.Options
	switch o.mode {
	case "production":
	case "sandbox":
		opts.Sandbox = true
	default:
		return opts, fmt.Errorf("--mode %q: want sandbox or production", o.mode)
	}
	for name, v := range map[string]float64{"--fail-rate": o.failRate, "--drop-rate": o.dropRate, "--duplicate-webhook-rate": o.duplicateWebhooks, "--confirm-fail-rate": o.confirmFailRate} {
		if v < 0 || v > 1 {
			return opts, fmt.Errorf("%s %v: want a share between 0 and 1", name, v)
		}
	}
	if o.rateLimit < 0 || o.latency < 0 || o.jitter < 0 || o.idempotencyTTL <= 0 || o.fee < 0 || o.holdCreate < 0 {
		return opts, errors.New("--rate-limit, --latency, --jitter, --fee and --hold-create cannot be negative; --idempotency-ttl must be positive")
	}
	if o.finishDelay <= 0 || o.approvalTTL <= 0 {
		return opts, errors.New("--finish-delay and --approval-ttl must be positive")
	}
	if o.requireApproval && o.ownerApproval {
		return opts, errors.New("--require-approval and --owner-approval are two readings of who approves: choose one")
	}
	if o.webhook != "" {
		u, err := url.Parse(o.webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return opts, fmt.Errorf("--webhook %q: want an http or https URL", o.webhook)
		}
		if o.webhookInterval <= 0 {
			return opts, fmt.Errorf("--webhook-interval %s: must be positive", o.webhookInterval)
		}
	}
	// Clients are other processes on the real clock: their assertions are
	// checked against it, so /_sim/advance does not make them look expired.
	opts.AssertionClock = time.Now
	if len(o.refunds) > 0 {
		codes := map[string]string{}
		for _, r := range o.refunds {
			if _, ok := stonetest.RefundReason(r[1]); !ok {
				return opts, fmt.Errorf("--refund %s=%s: Stone's refund codes are 0 to 14", r[0], r[1])
			}
			codes[strings.TrimLeft(r[0], "0")] = r[1] // Stone stores account codes without leading zeros
		}
		opts.RefundRule = stonetest.RefundByAccount(codes)
	}
	if len(o.pixRefunds) > 0 {
		amounts := map[string]int64{}
		for _, r := range o.pixRefunds {
			var n int64
			if r[1] != "all" {
				var err error
				if n, err = strconv.ParseInt(r[1], 10, 64); err != nil || n <= 0 {
					return opts, fmt.Errorf("--pix-refund %s=%s: want a positive number of cents or all", r[0], r[1])
				}
			}
			amounts[r[0]] = n
		}
		opts.PixRefundRule = stonetest.RefundPixByKey(amounts)
	}
	if len(o.pixFail) > 0 {
		opts.PixFailRule = stonetest.FailPixToAccounts(o.pixFail...)
	}
	if o.pixSettleDelay <= 0 {
		return opts, errors.New("--pix-settle-delay must be positive")
	}
	opts.PixSettleDelay = o.pixSettleDelay
	opts.LenientAssertions = o.lenientAssertions
	opts.RequireApproval = o.requireApproval
	opts.OwnerApproval = o.ownerApproval
	opts.ApprovalTTL = o.approvalTTL
	opts.FinishDelay = o.finishDelay
	opts.EarlyCutoff = o.earlyCutoff
	if hold := o.holdCreate; hold > 0 {
		opts.InFlight = func(r *http.Request) {
			t := time.NewTimer(hold)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
			}
		}
	}
	opts.IdempotencyTTL = o.idempotencyTTL
	opts.Seed = o.seed
	opts.Fee = o.fee
	if o.fee == 0 {
		opts.Fee = -1 // the emulator's way to say free
	}
	opts.Faults = stonetest.Faults{
		Latency:   o.latency,
		Jitter:    o.jitter,
		RateLimit: o.rateLimit,
		RateBurst: max(1, int(o.rateLimit)),
		FailRate:  o.failRate,
		DropRate:  o.dropRate,

		PixConfirmUnavailableRate: o.confirmFailRate,

		DuplicateWebhookRate: o.duplicateWebhooks,
	}
	var mu sync.Mutex
	opts.Log = func(l stonetest.RequestLog) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "%s %s %d %s x-request-id=%s\n", l.Method, l.Path, l.Status, l.Latency.Round(time.Microsecond), l.RequestID)
	}
	return opts, nil
}

// parsePixKey reads NAME,DOCUMENT[,ISPB]. The name may hold commas: the
// document (and the ISPB, 8 digits) are taken from the right.
func parsePixKey(v string) (stonetest.PixKey, error) {
	parts := strings.Split(v, ",")
	var k stonetest.PixKey
	if n := len(parts); n >= 3 && len(parts[n-1]) == 8 && strings.Trim(parts[n-1], "0123456789") == "" {
		k.ISPB, parts = parts[n-1], parts[:n-1]
	}
	if len(parts) < 2 {
		return k, fmt.Errorf("%q is not NAME,DOCUMENT[,ISPB]", v)
	}
	k.Document = strings.TrimSpace(parts[len(parts)-1])
	k.Name = strings.TrimSpace(strings.Join(parts[:len(parts)-1], ","))
	if k.Name == "" || (len(k.Document) != 11 && len(k.Document) != 14) {
		return k, fmt.Errorf("%q: want a name and an 11-digit CPF or 14-character CNPJ", v)
	}
	return k, nil
}

// readPublicKey reads an RSA public key in PEM, PKIX ("PUBLIC KEY") or
// PKCS #1 ("RSA PUBLIC KEY").
func readPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	if pub, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		return pub, nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key %s: %w", path, err)
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s is a %T, want an RSA key", path, k)
	}
	return pub, nil
}
