package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"lote/batch"
	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
	"lote/validate"
)

// The in-process emulator of --env sim: one client and one account, so a
// first run needs nothing configured.
const (
	simClientID  = "lote-sim"
	simAccountID = "sim-account"
	// simBalance is R$ 10 billion in cents: no sample can run out of it.
	simBalance int64 = 1_000_000_000_000
	// simKeyBits is the smallest key Stone's rules allow; the key lives only
	// as long as the process, and a 4096-bit one takes seconds to make.
	simKeyBits = 2048
)

// envs are the API targets, in the order usage lists them.
var envs = []string{"sim", "sandbox", "production"}

// connFlags are the flags of every command that uses the ledger, and of
// those that talk to Stone.
type connFlags struct {
	env       string
	apiURL    string
	authURL   string
	clientID  string
	keyFile   string
	accountID string
	ledger    string
	newLedger bool
	leaseTTL  time.Duration
}

// registerLedger adds the flags that choose the ledger file.
func (c *connFlags) registerLedger(fs *flag.FlagSet) {
	fs.StringVar(&c.env, "env", "sim", "API target: sim (an emulator inside lote), sandbox or production")
	fs.StringVar(&c.ledger, "ledger", "", "ledger file (default: lote-ENV.db in the current folder)")
	fs.BoolVar(&c.newLedger, "new-ledger", false, "open a ledger that its marker (LEDGER.marker) says lost its state: "+
		"a missing or empty one starts new and empty, a replaced or rolled-back one is taken as it is (nothing is deleted)")
}

// openLedger opens the ledger file. A ledger that lost its state or cannot
// be read is refused with an error that says what to do.
func (c *connFlags) openLedger() (*ledger.Ledger, error) {
	// A run or an import killed on this host gives its batch up at once.
	return ledger.Open(c.ledgerPath(), ledger.Options{NewLedger: c.newLedger, HolderDead: batch.HolderDead})
}

// register adds the ledger flags and the connection flags.
func (c *connFlags) register(fs *flag.FlagSet) {
	c.registerLedger(fs)
	fs.StringVar(&c.apiURL, "api-url", "", "override the API host of --env (e.g. a stonesim URL)")
	fs.StringVar(&c.authURL, "auth-url", "", "override the accounts (token) host of --env")
	fs.StringVar(&c.clientID, "client-id", "", "the application's client id, issued by Stone (sandbox, production)")
	fs.StringVar(&c.keyFile, "key", "", "the application's RSA private key, a PEM `file` (sandbox, production); lote keygen makes one")
	fs.StringVar(&c.accountID, "account-id", "", "the paying account's id (sandbox, production)")
	// Hidden (see printDefaults): only the crash test needs a short lease.
	fs.DurationVar(&c.leaseTTL, "lease-ttl", batch.DefaultLeaseTTL, "hidden: how long a killed run keeps others off its batch")
}

// checkEnv reports an unknown --env.
func (c *connFlags) checkEnv() error {
	for _, e := range envs {
		if c.env == e {
			return nil
		}
	}
	return fmt.Errorf("--env %q: use %s", c.env, strings.Join(envs, ", "))
}

// ledgerPath is --ledger, or lote-ENV.db: sim, sandbox and production never
// share a ledger by accident.
func (c *connFlags) ledgerPath() string {
	if c.ledger != "" {
		return c.ledger
	}
	return "lote-" + c.env + ".db"
}

// check reports what a real environment lacks, before anything is opened.
func (c *connFlags) check() error {
	if err := c.checkEnv(); err != nil {
		return err
	}
	if c.leaseTTL < time.Second {
		return fmt.Errorf("--lease-ttl %s: use at least 1s", c.leaseTTL)
	}
	if c.env == "sim" {
		if c.apiURL != "" || c.authURL != "" || c.clientID != "" || c.keyFile != "" {
			return errors.New("--env sim runs its own emulator: --api-url, --auth-url, --client-id and --key are for sandbox or production")
		}
		return nil
	}
	var missing []string
	for _, m := range []struct{ flag, value string }{
		{"--client-id (LOTE_CLIENT_ID)", c.clientID},
		{"--key (LOTE_KEY)", c.keyFile},
		{"--account-id (LOTE_ACCOUNT_ID)", c.accountID},
	} {
		if strings.TrimSpace(m.value) == "" {
			missing = append(missing, m.flag)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("--env %s needs %s", c.env, strings.Join(missing, ", "))
	}
	if (c.apiURL == "") != (c.authURL == "") {
		return errors.New("--api-url and --auth-url go together")
	}
	return nil
}

// conn is an open connection to Stone (or the emulator) and the ledger.
type conn struct {
	ledger    *ledger.Ledger
	client    *stone.Client
	accountID string
	sim       *stonetest.Server // nil unless --env sim
}

// Close closes the ledger and stops the emulator.
func (c *conn) Close() error {
	if c.sim != nil {
		c.sim.Close()
	}
	if c.ledger != nil {
		return c.ledger.Close()
	}
	return nil
}

// connect opens the ledger and a Stone client; for --env sim it first
// starts the emulator on a local port. Call check first.
func (c *connFlags) connect() (*conn, error) {
	cfg := stone.Config{UserAgent: "lote/1"}
	out := &conn{accountID: c.accountID}
	if c.env == "sim" {
		key, err := stone.GenerateKey(simKeyBits)
		if err != nil {
			return nil, fmt.Errorf("start the emulator: %w", err)
		}
		dir := validate.Institutions()
		out.sim = stonetest.NewServer(stonetest.Options{
			// Sandbox keeps the TED window open every day of the week
			// (06:30–17:23); outside it transfers are still accepted,
			// delayed to the next opening, as Stone does.
			Sandbox: true,
			// The same institutions as the validator, so a row that passes
			// `lote validate` is not refused by the emulator.
			Institutions: func(code string) (string, string, string, bool) {
				in, ok := dir.Lookup(code)
				return in.ISPB, in.Code, in.ShortName, ok
			},
		})
		out.sim.AddClient(simClientID, &key.PublicKey)
		out.sim.AddAccount(simAccountID, simBalance)
		out.accountID = simAccountID
		cfg.APIURL, cfg.AuthURL, cfg.ClientID, cfg.Key = out.sim.URL, out.sim.URL, simClientID, key
	} else {
		key, err := stone.LoadPrivateKey(c.keyFile)
		if err != nil {
			return nil, fmt.Errorf("--key %s: %w", c.keyFile, err)
		}
		cfg.Env, cfg.APIURL, cfg.AuthURL, cfg.ClientID, cfg.Key = c.env, c.apiURL, c.authURL, c.clientID, key
	}
	client, err := stone.NewClient(cfg)
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("stone client: %w", err)
	}
	out.client = client
	l, err := c.openLedger()
	if err != nil {
		out.Close()
		return nil, err
	}
	out.ledger = l
	return out, nil
}
