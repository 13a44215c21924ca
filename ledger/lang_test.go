package ledger

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestUserLang: the language a user chose on the page survives reopening,
// comes with their session, does not end it, and only en and pt-BR are
// kept.
func TestUserLang(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, path := openTest(t, c)
	if err := l.AddUser(ctx, "ana", RoleUploader, fakeHash); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateSession(ctx, testToken, "ana", 12*time.Hour); err != nil {
		t.Fatal(err)
	}
	if s, err := l.Session(ctx, testToken, time.Hour); err != nil || s.Lang != "" {
		t.Fatalf("a new user's session = %+v, %v; want no language chosen", s, err)
	}
	if err := l.SetUserLang(ctx, "ana", "pt-BR"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetUserLang(ctx, "ana", "de"); !errors.Is(err, ErrBadUser) {
		t.Errorf("SetUserLang(de) = %v; want ErrBadUser", err)
	}
	if err := l.SetUserLang(ctx, "bia", "en"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetUserLang of an unknown user = %v; want ErrNotFound", err)
	}
	l.Close()
	l2, err := Open(path, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if s, err := l2.Session(ctx, testToken, time.Hour); err != nil || s.Lang != "pt-BR" {
		t.Fatalf("the session after choosing Portuguese = %+v, %v; want pt-BR and still signed in", s, err)
	}
}
