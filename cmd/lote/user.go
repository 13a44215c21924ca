package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"lote/ledger"
)

// minPassword is the shortest password `lote user` accepts, in characters.
const minPassword = 10

// bcryptCost is the work factor of the password hashes: about 50 ms to
// check one on this project's machines, slow enough to make guessing a
// stolen ledger's passwords expensive, fast enough for a sign-in.
const bcryptCost = 11

func runUser(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("user", "add NAME --role ROLE | passwd NAME | list", cio)
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
		return usageError(fs, cio.stderr, "user needs a subcommand: add, passwd or list")
	}
	switch {
	case pos[0] == "add" && len(pos) == 2:
		if !ledger.Role(*role).Valid() {
			return usageError(fs, cio.stderr, "--role %q: use uploader, approver or admin", *role)
		}
		if err := ledger.CheckUserName(pos[1]); err != nil {
			return usageError(fs, cio.stderr, "%v", err)
		}
	case pos[0] == "passwd" && len(pos) == 2, pos[0] == "list" && len(pos) == 1:
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
			fmt.Fprintf(cio.stdout, "%-24s %-9s since %s\n", u.Name, u.Role, u.Created.Local().Format("2006-01-02 15:04"))
		}
		return exitOK
	}
	name := pos[1]
	if pos[0] == "passwd" {
		if _, err := l.User(ctx, name); err != nil {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			return exitUsage
		}
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
		fmt.Fprintf(cio.stdout, "password of %s changed\n", name)
	} else {
		fmt.Fprintf(cio.stdout, "user %s added as %s\n", name, *role)
	}
	return exitOK
}

// askPassword reads a new password and returns its bcrypt hash. On a
// terminal it asks twice without echo; from a pipe it reads one line, so
// scripts and tests can create users.
func askPassword(cio cmdIO, name string) ([]byte, error) {
	pw, err := readPassword(cio, "password for "+name, true)
	if err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(pw); n < minPassword {
		return nil, fmt.Errorf("the password has %d characters; use at least %d", n, minPassword)
	}
	// bcrypt reads only the first 72 bytes; a longer password would pass
	// with any ending, which a person would not expect.
	if len(pw) > 72 {
		return nil, errors.New("the password is longer than 72 bytes; use a shorter one")
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
