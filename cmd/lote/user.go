package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"lote/internal/password"
	"lote/ledger"
)

// bcryptCost is the work factor of the password hashes: about 50 ms to
// check one on this project's machines, slow enough to make guessing a
// stolen ledger's passwords expensive, fast enough for a sign-in.
const bcryptCost = 11

func runUser(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("user", "add NAME --role ROLE | passwd NAME | disable NAME | enable NAME | remove NAME | list", cio)
	var conn connFlags
	conn.registerLedger(fs)
	role := fs.String("role", "", "with add: uploader, approver or admin")
	pos, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if err := conn.checkEnv(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	if len(pos) == 0 {
		return usageError(fs, cio.stderr, "user needs a subcommand: add, passwd, disable, enable, remove or list")
	}
	switch {
	case pos[0] == "add" && len(pos) == 2:
		if !ledger.Role(*role).Valid() {
			return usageError(fs, cio.stderr, "--role %q: use uploader, approver or admin", *role)
		}
		// Names are kept as sign-in reads them: "Ana" is "ana".
		pos[1] = ledger.NormalizeUserName(pos[1])
		if err := ledger.CheckUserName(pos[1]); err != nil {
			return usageError(fs, cio.stderr, "%v", err)
		}
	case len(pos) == 2 && (pos[0] == "passwd" || pos[0] == "disable" || pos[0] == "enable" || pos[0] == "remove"),
		pos[0] == "list" && len(pos) == 1:
	default:
		return usageError(fs, cio.stderr, "user %s: wrong arguments", strings.Join(pos, " "))
	}
	l, err := conn.openLedger()
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	defer l.Close()
	if pos[0] == "list" {
		users, err := l.Users(ctx)
		if err != nil {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			return exitUsage
		}
		for _, u := range users {
			state := ""
			if !u.Disabled.IsZero() {
				state = cio.p.T("  disabled since %s", u.Disabled.Local().Format("2006-01-02 15:04"))
			}
			fmt.Fprintln(cio.stdout, cio.p.T("%-24s %-9s since %s%s", u.Name, cio.p.Lookup(string(u.Role)), u.Created.Local().Format("2006-01-02 15:04"), state))
		}
		return exitOK
	}
	name := pos[1]
	if pos[0] != "add" {
		u, err := l.User(ctx, ledger.NormalizeUserName(name))
		if errors.Is(err, ledger.ErrNotFound) {
			u, err = l.User(ctx, name) // a name kept before names were normalised
		}
		if err != nil {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			return exitUsage
		}
		name = u.Name
	}
	switch pos[0] {
	case "disable", "enable", "remove":
		var err error
		msg := ""
		switch pos[0] {
		case "disable":
			err = l.DisableUser(ctx, name)
			msg = cio.p.T("user %s disabled: signed out everywhere, and cannot sign in until `lote user enable %s`", name, name)
		case "enable":
			err = l.EnableUser(ctx, name)
			msg = cio.p.T("user %s enabled", name)
		case "remove":
			err = l.RemoveUser(ctx, name)
			msg = cio.p.T("user %s removed and signed out everywhere", name)
		}
		if err != nil {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			return exitUsage
		}
		fmt.Fprintln(cio.stdout, msg)
		return exitOK
	}
	hash, err := askPassword(cio, name)
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	if pos[0] == "passwd" {
		err = l.SetPassword(ctx, name, hash)
	} else {
		err = l.AddUser(ctx, name, ledger.Role(*role), hash)
	}
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	if pos[0] == "passwd" {
		fmt.Fprintln(cio.stdout, cio.p.T("password of %s changed; their sessions were ended", name))
	} else {
		fmt.Fprintln(cio.stdout, cio.p.T("user %s added as %s", name, cio.p.Lookup(*role)))
	}
	return exitOK
}

// askPassword reads a new password and returns its bcrypt hash. On a
// terminal it asks twice without echo; from a pipe it reads one line, so
// scripts and tests can create users. A password too short, too long for
// bcrypt or easy to guess is refused (password.Check).
func askPassword(cio cmdIO, name string) ([]byte, error) {
	pw, err := readPassword(cio, "password for "+name, true)
	if err != nil {
		return nil, err
	}
	if err := password.Check(pw, name); err != nil {
		return nil, fmt.Errorf("%v; nothing was changed", strings.TrimSuffix(err.Error(), ": "+password.ErrWeak.Error()))
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

// readPassword reads a password: on a terminal without echo, after
// prompt (twice when twice, and the two must match); from a pipe, one
// line.
func readPassword(cio cmdIO, prompt string, twice bool) (string, error) {
	f, ok := cio.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		line, err := bufio.NewReader(cio.stdin).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", errors.New("no password on standard input; nothing was changed")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprintf(cio.stderr, "%s: ", prompt)
	a, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(cio.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if !twice {
		return string(a), nil
	}
	fmt.Fprint(cio.stderr, "again: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(cio.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(a) != string(b) {
		return "", errors.New("the passwords differ; nothing was changed")
	}
	return string(a), nil
}
