package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestSessionsSurviveReopen: a session is in the ledger, not in a
// process, and the ledger keeps only the token's hash.
func TestSessionsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, path := openTest(t, c)
	if err := l.AddUser(ctx, "ana", RoleUploader, fakeHash); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateSession(ctx, testToken, "ana", 12*time.Hour); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l2, err := Open(path, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	s, err := l2.Session(ctx, testToken, 8*time.Hour)
	if err != nil || s.User != "ana" || s.Role != RoleUploader || !s.Expires.Equal(c.Now().Add(12*time.Hour)) {
		t.Fatalf("Session after reopening = %+v, %v", s, err)
	}
	db, err := sql.Open("sqlite", path+readDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored string
	if err := db.QueryRow(`SELECT token_hash FROM sessions`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == testToken || strings.Contains(stored, testToken[:16]) || stored != tokenHash(testToken) {
		t.Errorf("the ledger keeps %q for the token", stored)
	}
}

// TestSessionEnds: idle time, the absolute lifetime, a new password,
// disabling and removing the user each end a session at once, and the
// role is the one the ledger has now.
func TestSessionEnds(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	for _, n := range []string{"ana", "bia"} {
		if err := l.AddUser(ctx, n, RoleApprover, fakeHash); err != nil {
			t.Fatal(err)
		}
	}
	idle := 2 * time.Hour
	start := func(t *testing.T, user string) {
		t.Helper()
		if err := l.CreateSession(ctx, testToken, user, 5*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	live := func() bool {
		_, err := l.Session(ctx, testToken, idle)
		if err != nil && !errors.Is(err, ErrNoSession) {
			t.Fatal(err)
		}
		return err == nil
	}
	t.Run("idle", func(t *testing.T) {
		start(t, "ana")
		c.Advance(idle - time.Second)
		if !live() {
			t.Fatal("ended before its idle time")
		}
		c.Advance(idle)
		if live() {
			t.Error("alive after its idle time")
		}
	})
	t.Run("absolute", func(t *testing.T) {
		start(t, "ana")
		for i := 0; i < 5; i++ {
			c.Advance(time.Hour - time.Second)
			live()
		}
		c.Advance(5 * time.Second)
		if live() {
			t.Error("a busy session outlived its absolute lifetime")
		}
	})
	t.Run("password", func(t *testing.T) {
		start(t, "ana")
		if err := l.SetPassword(ctx, "ana", []byte("$2a$10$other")); err != nil {
			t.Fatal(err)
		}
		if live() {
			t.Error("alive after a new password")
		}
	})
	t.Run("disable", func(t *testing.T) {
		start(t, "ana")
		if err := l.DisableUser(ctx, "ana"); err != nil {
			t.Fatal(err)
		}
		if live() {
			t.Error("alive after disabling the user")
		}
		if err := l.CreateSession(ctx, testToken, "ana", time.Hour); !errors.Is(err, ErrBadUser) {
			t.Errorf("CreateSession of a disabled user = %v, want ErrBadUser", err)
		}
		if err := l.EnableUser(ctx, "ana"); err != nil {
			t.Fatal(err)
		}
		start(t, "ana")
		if !live() {
			t.Error("no session after enabling the user")
		}
		l.EndSession(ctx, testToken)
	})
	t.Run("remove", func(t *testing.T) {
		start(t, "bia")
		if err := l.RemoveUser(ctx, "bia"); err != nil {
			t.Fatal(err)
		}
		if live() {
			t.Error("alive after removing the user")
		}
	})
	t.Run("role read fresh", func(t *testing.T) {
		start(t, "ana")
		if err := l.inTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`UPDATE users SET role = 'uploader' WHERE name = 'ana'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if live() {
			t.Error("a session kept the role it signed in with")
		}
	})
}

// TestRemoveUserInUse: a user whose name is on a batch is not removed.
func TestRemoveUserInUse(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	if err := l.AddUser(ctx, "up", RoleUploader, fakeHash); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.RecordUpload(ctx, Upload{BatchID: batchID("x"), FileName: "x.csv", StoredPath: "/x", UploadedBy: "up"}); err != nil {
		t.Fatal(err)
	}
	if err := l.RemoveUser(ctx, "up"); !errors.Is(err, ErrUserInUse) {
		t.Errorf("RemoveUser of an uploader = %v, want ErrUserInUse", err)
	}
	if err := l.RemoveUser(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RemoveUser(nobody) = %v, want ErrNotFound", err)
	}
}

// TestLookAlikeUserNames: names are lower-case ASCII, so a Cyrillic
// "upi" beside a Latin one, or "Ana" beside "ana", cannot exist.
func TestLookAlikeUserNames(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	if err := l.AddUser(ctx, "upi", RoleApprover, fakeHash); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"иpi", "uрi", "Upi", "ｕｐｉ", "upi\u200b", ".upi"} {
		if err := l.AddUser(ctx, name, RoleApprover, fakeHash); !errors.Is(err, ErrBadUser) {
			t.Errorf("AddUser(%q) = %v, want ErrBadUser", name, err)
		}
	}
	if got := NormalizeUserName(" ＡＮＡ "); got != "ana" {
		t.Errorf("NormalizeUserName(full-width ANA) = %q, want ana", got)
	}
	// A name kept before names were normalised still takes its
	// normalised form.
	if err := l.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO users (name, role, password_hash, created_at) VALUES ('Bia', 'uploader', '$2a$10$x', '2026-01-01T00:00:00.000000Z')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := l.AddUser(ctx, "bia", RoleApprover, fakeHash); !errors.Is(err, ErrUserExists) {
		t.Errorf("AddUser(bia) beside Bia = %v, want ErrUserExists", err)
	}
}

// BenchmarkSession measures the ledger's part of every signed-in request:
// reading the session with its user's role, among 1,000 live sessions,
// recording the request at most once a minute.
func BenchmarkSession(b *testing.B) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(b, c)
	if err := l.AddUser(ctx, "ana", RoleUploader, fakeHash); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if err := l.CreateSession(ctx, fmt.Sprintf("%064d", i), "ana", 12*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	tok := fmt.Sprintf("%064d", 500)
	b.ResetTimer()
	for range b.N {
		if _, err := l.Session(ctx, tok, 8*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
