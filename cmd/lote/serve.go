package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"lote/batch"
	"lote/web"
)

// serveFlags are the flags of `lote serve`.
type serveFlags struct {
	conn            connFlags
	addr            string
	tlsCert, tlsKey string
	requireApproval bool
	maxUpload       int64
	rate            float64
	concurrency     int
	idempotencyTTL  time.Duration
	notify          notifyFlags
}

func runServe(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("serve", "", cio)
	var f serveFlags
	f.conn.register(fs)
	f.notify.register(fs)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on; plain HTTP only on a loopback address")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate (PEM); with --tls-key, the page is served over HTTPS")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS private key (PEM)")
	fs.BoolVar(&f.requireApproval, "require-approval", false, "make the ledger's approval policy require an approver, recorded in the ledger "+
		"(it never lowers the policy; without the flag the ledger's policy holds; `lote policy` shows and sets it)")
	fs.Int64Var(&f.maxUpload, "max-upload", web.DefaultMaxUpload, "largest sheet accepted, in `bytes`")
	fs.Float64Var(&f.rate, "rate", batch.DefaultRate, "requests per second at most, per batch")
	fs.IntVar(&f.concurrency, "concurrency", batch.DefaultConcurrency, "requests in flight at most, per batch")
	fs.DurationVar(&f.idempotencyTTL, "idempotency-ttl", batch.DefaultIdempotencyTTL,
		"how long Stone remembers an idempotency key; an unconfirmed row older than this is not resent but left for review")
	pos, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if len(pos) != 0 {
		return usageError(fs, cio.stderr, "serve takes no arguments, got %d", len(pos))
	}
	if err := f.conn.check(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	if err := f.notify.check(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageError(fs, cio.stderr, "--tls-cert and --tls-key go together")
	}
	if f.rate <= 0 || f.concurrency <= 0 || f.maxUpload <= 0 || f.idempotencyTTL <= 0 {
		return usageError(fs, cio.stderr, "--rate, --concurrency, --max-upload and --idempotency-ttl must be positive")
	}
	tls := f.tlsCert != ""
	if !tls && !loopback(f.addr) {
		return usageError(fs, cio.stderr, "--addr %s is not a loopback address: passwords and payees would cross the network in clear; give --tls-cert and --tls-key", f.addr)
	}
	log := slog.New(slog.NewTextHandler(cio.stderr, nil))
	c, err := f.conn.connect()
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	defer c.Close()
	// Delivered by a loop of their own while the server runs; what is
	// left when it stops is delivered at the next start.
	notifier := f.notify.notifier(c.ledger, log, cio.getenv)
	notifyCtx, stopNotify := context.WithCancel(ctx)
	notified := make(chan struct{})
	go func() { defer close(notified); notifier.Run(notifyCtx, 0) }()
	defer func() { stopNotify(); <-notified }()
	host, _ := os.Hostname()
	srv, err := web.NewServer(web.Options{
		Ledger: c.ledger,
		Run: batch.RunOptions{Client: c.client, AccountID: c.accountID, Env: f.conn.env,
			Rate: f.rate, Concurrency: f.concurrency, IdempotencyTTL: f.idempotencyTTL,
			Holder: fmt.Sprintf("lote serve on %s pid %d", host, os.Getpid()), LeaseTTL: f.conn.leaseTTL, Log: log},
		RequireApproval: f.requireApproval,
		MaxUpload:       f.maxUpload,
		DataDir:         f.conn.ledgerPath() + ".uploads",
		Secure:          tls,
		Notify:          notifier,
		Log:             log,
	})
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	ln, err := srv.Listen(f.addr)
	if err != nil {
		srv.Close()
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	hs := srv.HTTPServer(log)
	scheme := "http"
	if tls {
		scheme = "https"
	} else {
		log.Warn("serving plain HTTP on a loopback address: only this machine can reach it; use --tls-cert and --tls-key to serve others")
	}
	pol, err := c.ledger.Policy(ctx)
	if err != nil {
		srv.Close()
		ln.Close()
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	log.Info("serving", "url", scheme+"://"+ln.Addr().String(), "ledger", f.conn.ledgerPath(), "env", f.conn.env,
		"approval_policy", policyText(pol.Policy))
	errc := make(chan error, 1)
	go func() {
		if tls {
			errc <- hs.ServeTLS(ln, f.tlsCert, f.tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	code := exitOK
	select {
	case <-ctx.Done():
		log.Info("stopping: the requests in flight finish; batches being sent stop and resume at the next start")
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			code = exitUsage
		}
	}
	shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hs.Shutdown(shut)
	srv.Close()
	return code
}

// loopback reports whether addr listens only on this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
