package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"lote/ledger"
)

func TestUserAdd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "users.db")
	userCmd := func(stdin string, args ...string) result {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"user"}, args...), strings.NewReader(stdin), &out, &errb,
			func(string) string { return "" })
		return result{code, out.String(), errb.String()}
	}
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		output string // a part of stdout or stderr
	}{
		{"add", "correct horse battery\n", []string{"add", "ana", "--role", "uploader", "--ledger", db}, exitOK, "user ana added as uploader"},
		{"add again", "correct horse battery\n", []string{"add", "ana", "--role", "admin", "--ledger", db}, exitUsage, "user already exists"},
		{"no role", "correct horse battery\n", []string{"add", "bia", "--ledger", db}, exitUsage, `--role "": use uploader, approver or admin`},
		{"bad role", "correct horse battery\n", []string{"add", "bia", "--role", "boss", "--ledger", db}, exitUsage, `--role "boss"`},
		{"short password", "short\n", []string{"add", "bia", "--role", "approver", "--ledger", db}, exitUsage, "the password has 5 characters; use at least 12"},
		{"ten of one letter", "aaaaaaaaaa\n", []string{"add", "bia", "--role", "approver", "--ledger", db}, exitUsage, "use at least 12"},
		{"common password", "Senha@2024!!\n", []string{"add", "bia", "--role", "approver", "--ledger", db}, exitUsage, `the common word "senha"`},
		{"look-alike name", "correct horse battery\n", []string{"add", "аna", "--role", "approver", "--ledger", db}, exitUsage, "use the letters a to z"},
		{"upper case taken", "correct horse battery\n", []string{"add", "ANA", "--role", "approver", "--ledger", db}, exitUsage, "user already exists"},
		{"no password", "", []string{"add", "bia", "--role", "approver", "--ledger", db}, exitUsage, "no password on standard input"},
		{"bad name", "correct horse battery\n", []string{"add", "<b>", "--role", "approver", "--ledger", db}, exitUsage, "use the letters a to z, digits"},
		{"no subcommand", "", []string{"--ledger", db}, exitUsage, "user needs a subcommand"},
		{"passwd unknown", "another long one\n", []string{"passwd", "zoe", "--ledger", db}, exitUsage, "user zoe: not found"},
		{"passwd", "another long one\n", []string{"passwd", "Ana", "--ledger", db}, exitOK, "password of ana changed; their sessions were ended"},
		{"add caio", "correct horse battery\n", []string{"add", "Caio", "--role", "approver", "--ledger", db}, exitOK, "user caio added as approver"},
		{"disable", "", []string{"disable", "caio", "--ledger", db}, exitOK, "user caio disabled: signed out everywhere"},
		{"list disabled", "", []string{"list", "--ledger", db}, exitOK, "disabled since"},
		{"enable", "", []string{"enable", "caio", "--ledger", db}, exitOK, "user caio enabled"},
		{"remove", "", []string{"remove", "caio", "--ledger", db}, exitOK, "user caio removed"},
		{"remove unknown", "", []string{"remove", "caio", "--ledger", db}, exitUsage, "user caio: not found"},
		{"list", "", []string{"list", "--ledger", db}, exitOK, "ana"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := userCmd(tt.stdin, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.output) {
				t.Errorf("exit %d, want %d, output lacks %q:\n%s%s", r.code, tt.code, tt.output, r.stdout, r.stderr)
			}
		})
	}
	l, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u, err := l.User(context.Background(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != ledger.RoleUploader {
		t.Errorf("ana's role = %s, want uploader (adding again must not change it)", u.Role)
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte("another long one")) != nil {
		t.Error("the stored hash does not match the changed password")
	}
	if _, err := l.User(context.Background(), "bia"); err == nil {
		t.Error("bia was added despite the refusals")
	}
}

// lote user speaks the chosen language: the role as the page names it,
// the command's own sentences.
func TestUserPortuguese(t *testing.T) {
	db := filepath.Join(t.TempDir(), "users.db")
	userCmd := func(stdin string, args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"--lang", "pt-BR", "user"}, args...), strings.NewReader(stdin), &out, &errb,
			func(string) string { return "" })
		return code, out.String() + errb.String()
	}
	if code, out := userCmd("correct horse battery\n", "add", "ana", "--role", "uploader", "--ledger", db); code != exitOK || out != "usuário ana adicionado como remetente\n" {
		t.Errorf("user add in Portuguese: %d %q", code, out)
	}
	if code, out := userCmd("", "disable", "ana", "--ledger", db); code != exitOK || !strings.HasPrefix(out, "usuário ana desativado: desconectado em todo lugar") {
		t.Errorf("user disable in Portuguese: %d %q", code, out)
	}
	if code, out := userCmd("", "list", "--ledger", db); code != exitOK || !strings.Contains(out, "remetente") || !strings.Contains(out, "desativado desde") {
		t.Errorf("user list in Portuguese: %d %q", code, out)
	}
}
