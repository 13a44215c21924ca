package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"

	"lote/ledger"
)

// session is one signed-in person, as the ledger has them at this request.
type session struct {
	user string
	role ledger.Role
	csrf string
	lang string // the language the user chose on the page, "" for the browser's
}

// csrfFor is the CSRF token of the session whose token is token: derived
// from it, so that it needs no storing, and not the token itself, which
// never leaves the cookie. The ledger keeps another hash of the token
// (ledger.CreateSession), from which this one cannot be made.
func csrfFor(token string) string {
	h := sha256.Sum256([]byte("lote csrf\x00" + token))
	return hex.EncodeToString(h[:])
}

// sessionOf returns the request's live session, or nil. It asks the
// ledger every time: a session ends at once when its user's password,
// role or state changes there (`lote user passwd`, `disable`, `remove`),
// after SessionTTL without a request, and SessionMaxAge after sign-in.
func (s *Server) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) != 64 {
		return nil
	}
	ls, err := s.l.Session(r.Context(), c.Value, s.opts.SessionTTL)
	if err != nil {
		if !errors.Is(err, ledger.ErrNoSession) {
			s.log.Error("read session", "err", err)
		}
		return nil
	}
	return &session{user: ls.User, role: ls.Role, csrf: csrfFor(c.Value), lang: ls.Lang}
}
