package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"lote/reconcile"
	"lote/stone"
)

// documentedAPI is Stone's API host per environment (stone-api.md §1.1),
// where the webhook signing keys are published (/api/v1/discovery/keys).
var documentedAPI = map[string]string{
	"sandbox":    "https://sandbox-api.openbank.stone.com.br",
	"production": "https://api.openbank.stone.com.br",
}

func runWebhook(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("webhook", "", cio)
	var conn connFlags
	conn.register(fs)
	addr := fs.String("addr", "127.0.0.1:8443", "address to receive Stone's webhooks on; plain HTTP only on a loopback address")
	certFile := fs.String("tls-cert", "", "TLS certificate `file` (PEM); with --tls-key, serve HTTPS")
	keyFile := fs.String("tls-key", "", "TLS private key `file` (PEM)")
	rest, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if len(rest) > 0 {
		return usageError(fs, cio.stderr, "webhook takes no arguments, got %d", len(rest))
	}
	if (*certFile == "") != (*keyFile == "") {
		return usageError(fs, cio.stderr, "--tls-cert and --tls-key go together")
	}
	if *certFile == "" && !loopback(*addr) {
		return usageError(fs, cio.stderr, "--addr %s is not a loopback address: Stone's webhooks would cross the network in clear; "+
			"give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a proxy that serves HTTPS", *addr)
	}
	if err := conn.check(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	if conn.env == "sim" {
		return usageError(fs, cio.stderr, "--env sim: nobody delivers webhooks to the in-process emulator; use sandbox or production (or stonesim with --api-url)")
	}
	appKey, err := stone.LoadPrivateKey(conn.keyFile)
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: --key %s: %v\n", conn.keyFile, err)
		return exitUsage
	}
	api := conn.apiURL
	if api == "" {
		api = documentedAPI[conn.env]
	}
	l, err := conn.openLedger()
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	defer l.Close()

	log := slog.New(slog.NewTextHandler(cio.stderr, nil))
	dec := stone.NewWebhookDecoder(appKey, stone.NewJWKS(nil, api, nil).Key)
	h := reconcile.WebhookHandlerWith(l, dec, log, reconcile.WebhookOptions{AccountID: conn.accountID})
	srv := &http.Server{
		Handler: h,
		// Bounds against slow or endless senders; a webhook is a few KB.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: --addr %s: %v\n", *addr, err)
		return exitUsage
	}
	scheme := "http"
	if *certFile != "" {
		scheme = "https"
	}
	log.Info("receiving webhooks", "url", scheme+"://"+ln.Addr().String()+"/", "keys", api+stone.KeysPath, "ledger", conn.ledgerPath())
	done := make(chan error, 1)
	go func() {
		if *certFile != "" {
			done <- srv.ServeTLS(ln, *certFile, *keyFile)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		fmt.Fprintf(cio.stderr, "lote: webhook server: %v\n", err)
		return exitUsage
	case <-ctx.Done():
	}
	// Let deliveries in progress be recorded; Stone retries the rest.
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(cio.stderr, "lote: webhook server: %v\n", err)
	}
	return exitOK
}
