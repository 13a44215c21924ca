package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lote/ledger"
)

// Sign-in throttling. Every attempt is counted before its password is
// checked, so that parallel guesses cannot all be tried before the first
// failure is recorded.
//
// Failures are counted per name and address together: after
// loginFreeFailures of them, each attempt waits for a delay that doubles
// with every further failure, up to loginMaxWait. A stranger guessing a
// name from their own address slows only themselves; the person who owns
// the name signs in from theirs as usual. Failures from one address over
// all names are counted too, with a higher allowance (addressFreeFailures),
// against guessing many names. Counts are forgotten loginForget after the
// last failure, and a success clears its name and address.
//
// At most loginPerName checks of one name and loginPerAddress from one
// address run at once; a further attempt from the same address is refused
// at once, one for a busy name waits up to loginQueue. The bcrypt checks
// of all sign-ins together are bounded by loginChecks, so that a flood of
// them leaves cores for the sending, while one address, holding at most
// loginPerAddress of them, cannot queue everyone else behind it.
const (
	loginFreeFailures   = 3
	addressFreeFailures = 20
	loginMaxWait        = 15 * time.Minute
	loginForget         = time.Hour
	loginPerName        = 2
	loginPerAddress     = 2
	loginQueue          = 5 * time.Second
)

// loginChecks is how many bcrypt checks run at once, over all sign-ins.
var loginChecks = max(8, 4*runtime.GOMAXPROCS(0))

// maxTracked is the number of failure records past which those not
// needed any more are swept.
const maxTracked = 10000

// failures is the count of failed attempts of one key and the last one.
type failures struct {
	n    int
	last time.Time
}

// wait is how long after f.last the next attempt must wait when free
// failures are allowed first.
func (f failures) wait(free int) time.Duration {
	if f.n < free {
		return 0
	}
	return min(loginMaxWait, time.Second<<min(f.n-free, 20))
}

// signins holds the counts and the attempts in flight.
type signins struct {
	mu       sync.Mutex
	failed   map[string]*failures // by "n\x00name\x00address" and "a\x00address"
	byAddr   map[string]int       // attempts in flight by address
	names    map[string]*nameSlot // attempts in flight by name
	checking chan struct{}        // one token per bcrypt check running
	swept    time.Time            // the last sweep
}

type nameSlot struct {
	ch    chan struct{}
	users int
}

func newSignins() *signins {
	return &signins{failed: map[string]*failures{}, byAddr: map[string]int{}, names: map[string]*nameSlot{},
		checking: make(chan struct{}, loginChecks)}
}

// errTooMany is a sign-in refused before its password was checked.
type errTooMany struct {
	msg string
}

func (e errTooMany) Error() string { return e.msg }

// outcome is how a counted sign-in attempt ended.
type outcome int

const (
	// wrong: checked, a wrong name or password; it stays counted.
	wrong outcome = iota
	// right: checked, the right password; its name and address are
	// cleared of the failures counted against them.
	right
	// unchecked: never checked (the browser went away, the server is
	// busy); it is not counted.
	unchecked
)

// begin counts an attempt of name from addr as a failure, before its
// password is checked, and takes its places in flight; the returned end
// gives them back and settles the count by the attempt's outcome. It
// refuses an attempt that must wait or that exceeds what may run at once.
func (g *signins) begin(ctx context.Context, now time.Time, name, addr string) (end func(outcome), err error) {
	nk, ak := "n\x00"+name+"\x00"+addr, "a\x00"+addr
	g.mu.Lock()
	g.sweep(now)
	for _, k := range []struct {
		key  string
		free int
	}{{nk, loginFreeFailures}, {ak, addressFreeFailures}} {
		f := g.failed[k.key]
		if f == nil {
			continue
		}
		if now.Sub(f.last) >= loginForget {
			delete(g.failed, k.key)
			continue
		}
		if wait := f.wait(k.free) - now.Sub(f.last); wait > 0 {
			g.mu.Unlock()
			return nil, errTooMany{fmt.Sprintf("Too many failed sign-ins. Try again in %s.", waitText(wait))}
		}
	}
	if g.byAddr[addr] >= loginPerAddress {
		g.mu.Unlock()
		return nil, errTooMany{"A sign-in from your address is being checked already. Try again in a moment."}
	}
	g.byAddr[addr]++
	for _, k := range []string{nk, ak} {
		f := g.failed[k]
		if f == nil {
			f = &failures{}
			g.failed[k] = f
		}
		f.n++
		f.last = now
	}
	slot := g.names[name]
	if slot == nil {
		slot = &nameSlot{ch: make(chan struct{}, loginPerName)}
		g.names[name] = slot
	}
	slot.users++
	g.mu.Unlock()

	leave := func(held bool, o outcome) {
		if held {
			<-slot.ch
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.byAddr[addr]--; g.byAddr[addr] <= 0 {
			delete(g.byAddr, addr)
		}
		if slot.users--; slot.users == 0 {
			delete(g.names, name)
		}
		uncount := func(k string) {
			if f := g.failed[k]; f != nil {
				if f.n--; f.n <= 0 {
					delete(g.failed, k)
				}
			}
		}
		switch o {
		case right:
			delete(g.failed, nk)
			uncount(ak)
		case unchecked:
			uncount(nk)
			uncount(ak)
		}
	}
	timer := time.NewTimer(loginQueue)
	defer timer.Stop()
	select {
	case slot.ch <- struct{}{}:
	case <-timer.C:
		leave(false, unchecked)
		return nil, errTooMany{"Many sign-ins for this name are being checked. Try again in a moment."}
	case <-ctx.Done():
		leave(false, unchecked)
		return nil, ctx.Err()
	}
	return func(o outcome) { leave(true, o) }, nil
}

// sweep forgets, past maxTracked records, those older than loginForget,
// so that guessing many names does not grow the table without end; a
// record younger than that is kept whatever the size.
func (g *signins) sweep(now time.Time) {
	if len(g.failed) <= maxTracked || now.Sub(g.swept) < time.Minute {
		return
	}
	g.swept = now
	for k, f := range g.failed {
		if now.Sub(f.last) >= loginForget {
			delete(g.failed, k)
		}
	}
}

// check runs one bcrypt comparison among at most loginChecks at once.
func (g *signins) check(ctx context.Context, hash, password []byte) (bool, error) {
	select {
	case g.checking <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-g.checking }()
	return bcrypt.CompareHashAndPassword(hash, password) == nil, nil
}

func waitText(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int((d+time.Second-1)/time.Second))
	}
	return fmt.Sprintf("%d minutes", int((d+time.Minute-1)/time.Minute))
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.sessionOf(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, "", "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, name, msg string) {
	tok := randomToken()
	s.setCookie(w, loginCookie, tok, 3600)
	p := page{L: printerFor(r, nil), Title: "Sign in", CSRF: tok, Error: msg, Content: name}
	s.render(w, status, "login", p)
}

// login checks a name and password and starts a session in the ledger.
// The name is normalised as the ledger keeps names (NFKC, lower case).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	typed := r.PostFormValue("name")
	name := ledger.NormalizeUserName(typed)
	if len(name) > 64 {
		name = name[:64]
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		s.showLogin(w, r, http.StatusForbidden, name, "The sign-in form has expired. Try again.")
		return
	}
	ip := clientIP(r)
	end, err := s.signins.begin(r.Context(), s.now(), name, ip)
	if err != nil {
		var many errTooMany
		if !errors.As(err, &many) {
			return // the browser went away
		}
		s.log.Warn("sign-in refused before checking", "user", name, "ip", ip, "why", err)
		s.showLogin(w, r, http.StatusTooManyRequests, name, many.msg)
		return
	}
	result := unchecked
	defer func() { end(result) }()
	password := []byte(r.PostFormValue("password"))
	u, uerr := s.l.User(r.Context(), name)
	if legacy := strings.TrimSpace(typed); errors.Is(uerr, ledger.ErrNotFound) && legacy != name && len(legacy) <= 64 {
		// A name kept before names were normalised, typed as it was.
		u, uerr = s.l.User(r.Context(), legacy)
	}
	hash := u.PasswordHash
	if uerr != nil {
		// Spend the same time as a real check, so that timing does not
		// tell which names exist.
		hash = s.dummy()
	}
	match, err := s.signins.check(r.Context(), hash, password)
	if err != nil {
		return // the browser went away
	}
	if uerr != nil || !match {
		result = wrong
		s.log.Warn("sign-in failed", "user", name, "ip", ip)
		s.showLogin(w, r, http.StatusUnauthorized, name, "Wrong name or password.")
		return
	}
	result = right
	if !u.Disabled.IsZero() {
		// Said only to whoever knows the password.
		s.log.Warn("sign-in of a disabled user", "user", name, "ip", ip)
		s.showLogin(w, r, http.StatusForbidden, name, "This user is disabled. Ask an admin to enable it (lote user enable).")
		return
	}
	tok := randomToken()
	if err := s.l.CreateSession(r.Context(), tok, u.Name, s.opts.SessionMaxAge); err != nil {
		s.log.Error("create session", "user", name, "err", err)
		s.showLogin(w, r, http.StatusInternalServerError, name, "The sign-in could not be recorded; it is in the server's log. Try again.")
		return
	}
	s.setCookie(w, sessionCookie, tok, 0)
	s.setCookie(w, loginCookie, "", -1)
	s.log.Info("signed in", "user", u.Name, "role", u.Role)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.l.EndSession(context.WithoutCancel(r.Context()), c.Value); err != nil {
			s.log.Error("end session", "err", err)
		}
	}
	s.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
