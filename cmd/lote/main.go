// Command lote pays people from a spreadsheet through Stone's Open Banking
// API, exactly once. See README.md; `lote help` lists the subcommands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/text/language"

	"lote/internal/i18n"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal cancels ctx: lote stops taking rows and lets the
	// requests in flight finish. Restoring the default handling then makes
	// a second signal kill at once; the ledger stays consistent because
	// every state change is a transaction.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes, one per outcome a cron job tells apart (`lote help
// exit-codes`, README "Exit codes"). When several apply to one run, the
// first of exitInterrupted, exitPerson, exitRejected, exitHeld, exitRows
// is returned: the one that asks the most of the person reading it.
const (
	exitOK          = 0 // every row paid (or, for other commands, done as asked)
	exitRows        = 1 // invalid rows: nothing sent (with --skip-invalid, the valid rows paid)
	exitUsage       = 2 // usage or configuration error: nothing submitted
	exitInterrupted = 3 // interrupted, Stone unreachable or rows unconfirmed: resumable
	exitRejected    = 4 // some rows rejected by Stone, or returned (failed, refunded) after it accepted them
	exitHeld        = 5 // some rows held as repeats of a payout already paid or claimed
	exitPerson      = 6 // some rows need a person: their outcome is unknown (lote settle)
)

// env looks up an environment variable; tests pass a map's lookup.
type env func(string) string

// command is one subcommand: it parses its own flags and returns an exit code.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, io cmdIO) int
}

// cmdIO carries a command's streams and environment.
type cmdIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         env
	// p writes what people read in the language chosen by --lang,
	// LOTE_LANG or the locale (langArgs); JSON and exit codes do not
	// depend on it.
	p *i18n.Printer
}

func commands() []command {
	return []command{
		{"validate", "check a payout sheet, row by row; sends nothing", runValidate},
		{"run", "validate a sheet and pay its rows, exactly once; writes the results sheet", runRun},
		{"resume", "finish an interrupted batch (same keys, nothing paid twice)", runResume},
		{"status", "list the batches, or one batch's rows by state", runStatus},
		{"settle", "record what the statement shows for a row that needs a person: paid, or not paid (and send it again)", runSettle},
		{"reconcile", "follow accepted transfers to their final status; writes the reconciliation report", runReconcile},
		{"receipts", "fetch Stone's PDF receipt of every paid row of a batch, into a folder or a zip", runReceipts},
		{"webhook", "receive Stone's webhooks and record TED status changes in the ledger", runWebhook},
		{"keygen", "create the RSA key pair to register with Stone", runKeygen},
		{"serve", "the web page: upload, check, approve and follow batches in a browser", runServe},
		{"user", "add a person who may sign in to `lote serve`, change a password, disable, enable or remove them, list them", runUser},
		{"policy", "show the ledger's approval policy and its changes, or set it (an admin)", runPolicy},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	args, lang, err := langArgs(args, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "lote: %v\n", err)
		return exitUsage
	}
	cio := cmdIO{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, p: i18n.New(lang)}
	if len(args) == 2 && args[0] == "help" && args[1] == "exit-codes" {
		printExitCodes(stdout)
		return exitOK
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], cio)
		}
	}
	fmt.Fprintf(stderr, "lote: unknown command %q (try `lote help`)\n", args[0])
	return exitUsage
}

// langArgs takes --lang (or -lang, before or after the command) out of
// args and chooses the language: the flag, else LOTE_LANG, else LC_ALL,
// LC_MESSAGES or LANG; English when none names pt-BR.
func langArgs(args []string, getenv env) ([]string, language.Tag, error) {
	var flag string
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "lang" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, i18n.English, fmt.Errorf("--lang needs a value: pt-BR or en")
			}
			i++
			value = args[i]
		}
		if value == "" {
			return nil, i18n.English, fmt.Errorf("--lang needs a value: pt-BR or en")
		}
		flag = value
	}
	t, err := i18n.FromEnv(flag, getenv)
	return rest, t, err
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "lote pays people from a spreadsheet through Stone, exactly once.")
	fmt.Fprintln(w, "\nUsage: lote COMMAND [flags] [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n`lote help exit-codes` lists the exit codes a script can act on.")
	fmt.Fprintln(w, "`lote COMMAND -h` shows a command's flags. Flags can also be set as LOTE_<FLAG> environment variables (LOTE_DECIMAL=comma).")
	fmt.Fprintln(w, "--lang pt-BR|en (or LOTE_LANG, else the locale's LC_ALL, LC_MESSAGES or LANG) chooses the language of what lote writes for people; JSON output does not change.")
}
