package web

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Defaults of the server's bounds on slow and many clients.
const (
	// DefaultBodyTimeout bounds reading a request's body, a form's a few
	// hundred bytes: a client trickling it is cut off.
	DefaultBodyTimeout = 30 * time.Second
	// DefaultUploadTimeout bounds receiving an upload: 50 MB at about
	// 1 Mbit/s.
	DefaultUploadTimeout = 10 * time.Minute
	// DefaultWriteTimeout bounds writing an answer, from the start of the
	// request's handling (an upload's from the end of its receiving).
	DefaultWriteTimeout = 2 * time.Minute
	// DefaultMaxConns is how many connections are held open at once; more
	// wait to be accepted.
	DefaultMaxConns = 256
	// headerTimeout bounds reading a request's headers; idleTimeout how
	// long a kept-alive connection waits for its next request.
	headerTimeout = 10 * time.Second
	idleTimeout   = 2 * time.Minute
)

// HTTPServer returns an http.Server that serves s with bounds on slow
// clients: headers within 10 s, 2 minutes idle between requests, 64 KiB
// of headers; ServeHTTP bounds each request's body and answer (see
// Options.BodyTimeout). errorLog may be nil.
func (s *Server) HTTPServer(errorLog *slog.Logger) *http.Server {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: headerTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: 64 << 10}
	if errorLog != nil {
		hs.ErrorLog = slog.NewLogLogger(errorLog.Handler(), slog.LevelWarn)
	}
	return hs
}

// Listen listens on the TCP address addr, holding at most
// Options.MaxConns connections open at once: past that, new connections
// wait in the kernel's queue until one closes, so that many slow clients
// cannot use up the process's files.
func (s *Server) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return netutil.LimitListener(ln, s.opts.MaxConns), nil
}

// deadlines bounds reading the request's body and writing its answer
// (Options.BodyTimeout, UploadTimeout, WriteTimeout). A connection whose
// deadline passes is closed; handlers read bodies through MaxBytesReader
// and see the error.
func (s *Server) deadlines(w http.ResponseWriter, r *http.Request) {
	read := s.opts.BodyTimeout
	if r.Method == http.MethodPost && r.URL.Path == "/upload" {
		read = s.opts.UploadTimeout
	}
	now := time.Now()
	rc := http.NewResponseController(w)
	// Not every ResponseWriter has a connection (a test's recorder): the
	// error says so, and there is nothing to bound.
	_ = rc.SetReadDeadline(now.Add(read))
	_ = rc.SetWriteDeadline(now.Add(read + s.opts.WriteTimeout))
}
