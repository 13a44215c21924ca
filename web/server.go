package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lote/batch"
	"lote/internal/i18n"
	"lote/ledger"
	"lote/notify"
	"lote/sheet"
	"lote/validate"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure a Server.
type Options struct {
	// Ledger is the ledger the server reads and writes; required.
	Ledger *ledger.Ledger
	// Run is the template of every import and send: Client, AccountID and
	// Env are required; Rate, Concurrency, Holder and the other knobs are
	// used as given. Ledger, Check.TmpDir, Confirm and Progress are set by
	// the server.
	Run batch.RunOptions
	// RequireApproval raises the ledger's approval policy, as the server
	// starts, to require approval (recorded in the ledger as this
	// server's doing); a policy that requires it already is kept as it
	// is. It never lowers the policy, and a server started without it
	// keeps the ledger's: each batch is held to the policy recorded when
	// it was uploaded, whatever the server's options (see
	// ledger.Upload.Cleared).
	RequireApproval bool
	// MaxUpload is the largest file accepted, in bytes; 0 means 50 MiB.
	MaxUpload int64
	// MaxImports is how many uploads may be checked and imported at once;
	// 0 means DefaultMaxImports. One more is answered "busy, try again".
	MaxImports int
	// DataDir is where uploaded files and the sheets made for download are
	// kept (mode 0700, files 0600); required. `lote serve` uses
	// <ledger>.uploads.
	DataDir string
	// Secure marks the session cookie Secure and sends
	// Strict-Transport-Security: set it when the server is behind TLS.
	Secure bool
	// PageRows is the number of sheet rows on one page; 0 means 100.
	PageRows int
	// SessionTTL is how long a session lives without a request; 0 means 8 h.
	SessionTTL time.Duration
	// SessionMaxAge is how long a session lives at most, however busy;
	// 0 means 12 h. Sessions are kept in the ledger and survive a restart.
	SessionMaxAge time.Duration
	// BodyTimeout bounds reading a request's body; 0 means
	// DefaultBodyTimeout. UploadTimeout replaces it for an upload; 0
	// means DefaultUploadTimeout. WriteTimeout bounds writing the answer
	// after that; 0 means DefaultWriteTimeout. HTTPServer bounds the
	// headers and idle connections.
	BodyTimeout, UploadTimeout, WriteTimeout time.Duration
	// MaxConns is how many connections Listen holds open at once; 0
	// means DefaultMaxConns.
	MaxConns int
	// SweepEvery is how often the files of uploads past the ledger's
	// retention are deleted (`lote policy set --retention`), besides once
	// as the server starts; 0 means DefaultSweepEvery.
	SweepEvery time.Duration
	// Notify, if set, records an event when a batch waits for approval,
	// is approved or rejected, and when a send ends (and rows need a
	// person); the caller runs its delivery loop.
	Notify *notify.Notifier
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives what the server does; nil discards it. Passwords,
	// documents and accounts are never logged.
	Log *slog.Logger
}

// DefaultMaxUpload is the upload limit when Options.MaxUpload is 0: a
// 100,000-row XLSX is about 5 MB, a million-row CSV about 100 MB.
const DefaultMaxUpload = 50 << 20

// Server is the web page's http.Handler and the batches it is sending.
// Close stops the sending gracefully.
type Server struct {
	opts  Options
	l     *ledger.Ledger
	mux   *http.ServeMux
	cop   *http.CrossOriginProtection
	tmpl  map[string]*template.Template
	log   *slog.Logger
	now   func() time.Time
	base  context.Context // cancelled by Close: every send drains
	close context.CancelFunc
	wg    sync.WaitGroup

	// receiptsBusy lets one receipts download fetch from Stone at a time.
	receiptsBusy sync.Mutex

	mu      sync.Mutex
	runs    map[string]*sending // batches sent by this process, by id
	imports chan struct{}       // one token per upload being checked (see imports.go)
	outcome map[string]string   // the last send's end, for the page, by id
	// signins throttles and bounds sign-in attempts (auth.go).
	signins *signins
	// dummy is a hash of a random password, checked for unknown names;
	// made on first use, cost 11 like the hashes `lote user` makes.
	dummy func() []byte
}

// NewServer checks opts, raises the ledger's approval policy if
// opts.RequireApproval, resumes the batches that were being sent when the
// server stopped (cleared by their own policy, not paused), deletes the
// files of uploads past the ledger's retention (and does again every
// opts.SweepEvery until Close), and returns the handler.
func NewServer(opts Options) (*Server, error) {
	if opts.Ledger == nil || opts.Run.Client == nil || opts.Run.AccountID == "" {
		return nil, errors.New("web: a ledger, a Stone client and an account id are required")
	}
	if opts.DataDir == "" {
		return nil, errors.New("web: a data folder for uploads is required")
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("web: create data folder %s: %w", opts.DataDir, err)
	}
	if opts.MaxUpload <= 0 {
		opts.MaxUpload = DefaultMaxUpload
	}
	if opts.MaxImports <= 0 {
		opts.MaxImports = DefaultMaxImports
	}
	if opts.PageRows <= 0 {
		opts.PageRows = 100
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 8 * time.Hour
	}
	if opts.SessionMaxAge <= 0 {
		opts.SessionMaxAge = 12 * time.Hour
	}
	if opts.BodyTimeout <= 0 {
		opts.BodyTimeout = DefaultBodyTimeout
	}
	if opts.UploadTimeout <= 0 {
		opts.UploadTimeout = DefaultUploadTimeout
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = DefaultSweepEvery
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	opts.Run.Ledger = opts.Ledger
	if opts.Run.Check.TmpDir == "" {
		opts.Run.Check.TmpDir = opts.DataDir
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts: opts, l: opts.Ledger, cop: http.NewCrossOriginProtection(), tmpl: tmpl, log: opts.Log, now: opts.Now, base: base, close: cancel,
		signins: newSignins(),
		runs:    map[string]*sending{}, outcome: map[string]string{}, imports: make(chan struct{}, opts.MaxImports),
		dummy: sync.OnceValue(func() []byte {
			h, _ := bcrypt.GenerateFromPassword([]byte(randomToken()[:32]), 11)
			return h
		}),
	}
	s.routes()
	if opts.RequireApproval {
		p, changed, err := s.l.RequireApproval(base, strings.TrimSpace("lote serve --require-approval "+opts.Run.Holder))
		if err != nil {
			cancel()
			return nil, fmt.Errorf("web: %w", err)
		}
		if changed {
			s.log.Info("the ledger's approval policy now requires approval", "change", p.ID)
		}
	}
	if err := s.resumeAll(base); err != nil {
		cancel()
		return nil, err
	}
	if _, err := s.sweep(base); err != nil {
		s.log.Error("retention", "err", err)
	}
	s.wg.Add(1)
	go s.sweepEvery()
	return s, nil
}

// Close stops every send the server started: no new row is taken, the
// requests in flight finish and are recorded. The batches stay
// resumable; a new server resumes them.
func (s *Server) Close() {
	s.close()
	s.wg.Wait()
}

func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"brl":    validate.FormatBRL,
		"short":  func(id string) string { return id[:min(12, len(id))] },
		"when":   func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
		"add":    func(a, b int) int { return a + b },
		"letter": sheet.ColumnLetter,
	}
	out := map[string]*template.Template{}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", p)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", p, err)
		}
		out[name] = t
	}
	return out, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.auth(s.logout, allRoles...))
	m.HandleFunc("POST /lang", s.auth(s.setLang, allRoles...))
	m.HandleFunc("GET /{$}", s.auth(s.list, allRoles...))
	m.HandleFunc("POST /upload", s.authUpload(s.upload, ledger.RoleUploader, ledger.RoleAdmin))
	m.HandleFunc("GET /batches/{id}", s.auth(s.view, allRoles...))
	m.HandleFunc("GET /batches/{id}/progress", s.auth(s.progress, allRoles...))
	m.HandleFunc("GET /batches/{id}/errors", s.auth(s.errorsSheet, allRoles...))
	m.HandleFunc("GET /batches/{id}/results", s.auth(s.results, allRoles...))
	m.HandleFunc("GET /batches/{id}/receipts", s.auth(s.receiptsZip, allRoles...))
	m.HandleFunc("GET /batches/{id}/reconciliation", s.auth(s.reconciliationReport, allRoles...))
	m.HandleFunc("POST /batches/{id}/reconciliation", s.auth(s.reconcile, allRoles...))
	m.HandleFunc("POST /batches/{id}/read", s.auth(s.reread, ledger.RoleUploader, ledger.RoleAdmin))
	m.HandleFunc("POST /batches/{id}/submit", s.auth(s.submit, ledger.RoleUploader, ledger.RoleAdmin))
	m.HandleFunc("POST /batches/{id}/release", s.auth(s.release, ledger.RoleUploader, ledger.RoleAdmin))
	m.HandleFunc("POST /batches/{id}/approve", s.auth(s.approve, ledger.RoleApprover, ledger.RoleAdmin))
	m.HandleFunc("POST /batches/{id}/reject", s.auth(s.reject, ledger.RoleApprover, ledger.RoleAdmin))
	m.HandleFunc("POST /batches/{id}/withdraw", s.auth(s.withdraw, ledger.RoleUploader, ledger.RoleAdmin))
	m.HandleFunc("POST /batches/{id}/pause", s.auth(s.pause, allRoles...))
	m.HandleFunc("POST /batches/{id}/resume", s.auth(s.resume, ledger.RoleUploader, ledger.RoleApprover, ledger.RoleAdmin))
	m.HandleFunc("POST /batches/{id}/rows/{row}/settle", s.auth(s.settleRow, ledger.RoleAdmin))
	s.mux = m
}

var allRoles = []ledger.Role{ledger.RoleUploader, ledger.RoleApprover, ledger.RoleAdmin}

// ServeHTTP serves the page with headers that keep it from being framed,
// sniffed or made to run scripts from anywhere but its own static files,
// tells a browser to keep to HTTPS when served over it (Options.Secure),
// bounds the time to read the body and write the answer (deadlines), and
// refuses a POST sent by a page of another origin (sameOrigin).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.deadlines(w, r)
	h := w.Header()
	if s.opts.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if err := s.sameOrigin(r); err != nil {
		s.log.Warn("refused a request from another origin", "path", r.URL.Path, "origin", r.Header.Get("Origin"),
			"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "err", err)
		s.fail(w, r, nil, http.StatusForbidden, "This request came from another site, so it was refused. Use the page's own buttons.")
		return
	}
	s.mux.ServeHTTP(w, r)
}

const sessionCookie = "lote_session"

// loginCookie carries the CSRF token of the sign-in form, before there is
// a session to hold it.
const loginCookie = "lote_login"

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand docs)
	return hex.EncodeToString(b)
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.opts.Secure, SameSite: http.SameSiteStrictMode})
}

type ctxKey struct{}

// uploadKey holds, for the upload, the multipart stream past its token.
type uploadKey struct{}

// maxForm is the largest body of a form that is not an upload: the page's
// forms hold a token and a few short fields.
const maxForm = 64 << 10

// errNoToken is a POST whose token is missing or is not its session's.
var errNoToken = errors.New("no CSRF token")

// auth wraps h: the request must carry a live session whose role is one
// of roles, and a POST must carry the session's CSRF token, whatever its
// content type (see formToken). ServeHTTP has refused a POST from another
// origin before.
func (s *Server) auth(h http.HandlerFunc, roles ...ledger.Role) http.HandlerFunc {
	return s.authorize(h, false, roles)
}

// authUpload is auth for the upload, a multipart stream too large to read
// whole: its first part must be the token, and the handler gets the rest
// of the stream (uploadStream).
func (s *Server) authUpload(h http.HandlerFunc, roles ...ledger.Role) http.HandlerFunc {
	return s.authorize(h, true, roles)
}

func (s *Server) authorize(h http.HandlerFunc, stream bool, roles []ledger.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		se := s.sessionOf(r)
		if se == nil {
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "application/json" {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			s.fail(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		allowed := false
		for _, role := range roles {
			allowed = allowed || se.role == role
		}
		if !allowed {
			s.log.Warn("refused by role", "user", se.user, "role", se.role, "path", r.URL.Path)
			s.fail(w, r, se, http.StatusForbidden, printerFor(r, se).T("Your role (%s) does not allow this.", printerFor(r, se).Lookup(string(se.role))))
			return
		}
		ctx := context.WithValue(r.Context(), ctxKey{}, se)
		if r.Method == http.MethodPost {
			mr, err := s.formToken(w, r, stream, se.csrf)
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) && stream {
					s.uploadError(w, r.WithContext(ctx), err)
					return
				}
				s.log.Warn("refused without a CSRF token", "user", se.user, "path", r.URL.Path, "err", err)
				s.fail(w, r, se, http.StatusForbidden, "The form has expired. Reload the page and try again.")
				return
			}
			if mr != nil {
				ctx = context.WithValue(ctx, uploadKey{}, mr)
			}
		}
		h(w, r.WithContext(ctx))
	}
}

// formToken checks the CSRF token of a POST against want. A form is read
// whole, up to maxForm bytes, urlencoded or multipart alike: its fields are
// then in r.PostForm for the handler. Any other body has no token and is
// refused, so that no content type skips the check. With stream (the
// upload), the body must be a multipart stream whose first part is the
// token (the page's form puts it first); the stream past it is returned,
// and nothing else is read before the token is known to be right.
func (s *Server) formToken(w http.ResponseWriter, r *http.Request, stream bool, want string) (*multipart.Reader, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if stream {
		// The multipart envelope adds a little to the file; the limit is
		// on the file itself, counted as it is received.
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxUpload+64<<10)
		if mt != "multipart/form-data" {
			return nil, errNoToken
		}
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, err
		}
		part, err := mr.NextPart()
		if err != nil {
			return nil, err
		}
		defer part.Close()
		if part.FormName() != "csrf" {
			return nil, errNoToken
		}
		b, err := io.ReadAll(io.LimitReader(part, 256))
		if err != nil {
			return nil, err
		}
		if !sameToken(string(b), want) {
			return nil, errNoToken
		}
		return mr, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	var err error
	switch mt {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxForm)
	default:
		return nil, errNoToken
	}
	if err != nil {
		return nil, err
	}
	if !sameToken(r.PostForm.Get("csrf"), want) {
		return nil, errNoToken
	}
	return nil, nil
}

// uploadStream is the upload's multipart stream, past its token.
func uploadStream(r *http.Request) *multipart.Reader {
	mr, _ := r.Context().Value(uploadKey{}).(*multipart.Reader)
	return mr
}

// sameOrigin refuses a request that changes something and comes from a
// page of another origin: a browser says so in Sec-Fetch-Site (another
// port of the same host is "same-site", not "same-origin") or in Origin.
// http.CrossOriginProtection decides from either; an Origin, when sent,
// must also be this server's own, scheme included. A request with neither
// (curl, a script) is left to the CSRF token.
func (s *Server) sameOrigin(r *http.Request) error {
	if err := s.cop.Check(r); err != nil {
		return err
	}
	origin := r.Header.Get("Origin")
	if origin == "" || r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		return nil
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if origin != scheme+"://"+r.Host {
		return fmt.Errorf("origin %q is not %s://%s", origin, scheme, r.Host)
	}
	return nil
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func sessionFrom(r *http.Request) *session {
	se, _ := r.Context().Value(ctxKey{}).(*session)
	return se
}

// page is what every template gets. L is the reader's language: the
// templates write every word through T and H, and money and times through
// Money and When.
type page struct {
	L       *i18n.Printer
	Path    string // where the language switch sends the browser back
	Title   string
	User    string
	Role    ledger.Role
	CSRF    string
	Error   string
	Notice  string
	Content any
}

func (s *Server) render(w http.ResponseWriter, status int, name string, p page) {
	t := s.tmpl[name]
	if t == nil {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	p.Title, p.Error, p.Notice = p.L.Lookup(p.Title), p.L.Lookup(p.Error), p.L.Lookup(p.Notice)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", i18n.Code(p.L.Tag()))
	w.WriteHeader(status)
	if err := t.Execute(w, p); err != nil {
		s.log.Error("render", "page", name, "err", err)
	}
}

func (s *Server) pageFor(r *http.Request, se *session, title string) page {
	p := page{Title: title, L: printerFor(r, se), Path: r.URL.RequestURI()}
	if se != nil {
		p.User, p.Role, p.CSRF = se.user, se.role, se.csrf
	}
	return p
}

// fail answers a refusal with a page that says why (or JSON to the
// progress poller).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, se *session, status int, msg string) {
	if r.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, "{\"error\":%q}\n", msg)
		return
	}
	p := s.pageFor(r, se, "Refused")
	p.Error = msg
	s.render(w, status, "message", p)
}
