package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnreadableUploadHidesPaths: an upload the server cannot read says
// so without the server's paths (issue 13: the page showed
// "open …/x.db.uploads/ef50…dc.xlsx").
func TestUnreadableUploadHidesPaths(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	_, fixed := sheets(t)
	for _, ext := range []string{".csv", ".xlsx"} {
		sum := sha256.Sum256(fixed)
		id := hex.EncodeToString(sum[:])
		// Where the upload is kept, something the server cannot read as
		// a file.
		stored := filepath.Join(e.opts.DataDir, id+ext)
		if err := os.MkdirAll(filepath.Join(stored, "x"), 0o700); err != nil {
			t.Fatal(err)
		}
		code, body, _ := ana.upload("payouts"+ext, fixed)
		if code == http.StatusOK && !strings.Contains(body, "payouts"+ext) {
			t.Errorf("%s: %d without naming the file:\n%.2000s", ext, code, body)
		}
		for _, leak := range []string{e.opts.DataDir, id, "uploads/", "/tmp", "open "} {
			if strings.Contains(body, leak) {
				t.Errorf("%s: the page shows %q:\n%.3000s", ext, leak, body)
			}
		}
		os.RemoveAll(stored)
		fixed = append(fixed, '\n')
	}
}

// TestUserMessageHidesPaths: whatever error reaches the page, the paths
// in it are cut to a file's name, and the server's own files are "the
// uploaded file".
func TestUserMessageHidesPaths(t *testing.T) {
	id := strings.Repeat("ef50", 16)
	tests := []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "open", Path: "/srv/lote/x.db.uploads/" + id + ".xlsx", Err: os.ErrPermission},
			"the server could not read the file it keeps (permission denied)"},
		{errors.New("write results to /var/lib/lote/out/folha.results.csv: disk full"), "write results to folha.results.csv: disk full"},
		{errors.New(`sheet "/home/u/` + id + `.csv" unreadable`), `sheet "the uploaded file" unreadable`},
		{errors.New("row 3 not sent: R$ 1.234,56 to 341/0001"), "row 3 not sent: R$ 1.234,56 to 341/0001"},
	}
	for _, tt := range tests {
		got := userMessage(tt.err)
		if !strings.HasPrefix(got, tt.want) || strings.Contains(got, "/srv") || strings.Contains(got, "/var") || strings.Contains(got, id) {
			t.Errorf("userMessage(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
