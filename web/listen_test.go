package web

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSlowBodyCutOff: a POST to /login whose body trickles in is cut off
// after the body timeout, rather than holding its connection for as long
// as the client likes (issue 13: a byte every 20 s kept it open, and 300
// of them used up the server's files).
func TestSlowBodyCutOff(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.BodyTimeout = 200 * time.Millisecond })
	conn, err := net.Dial("tcp", e.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
		e.ts.Listener.Addr())
	closed := make(chan error, 1)
	go func() {
		// The server answers or closes the connection; either ends the read.
		_, err := io.Copy(io.Discard, conn)
		closed <- err
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for sent := 0; ; sent++ {
		select {
		case <-closed:
			return
		case <-deadline:
			t.Fatalf("the connection trickling its body is still open after 10 s (%d bytes sent)", sent)
		case <-tick.C:
			if _, err := conn.Write([]byte("n")); err != nil {
				return // cut off
			}
		}
	}
}

// TestConnectionsCapped: past MaxConns open connections, a new one is not
// served until one closes.
func TestConnectionsCapped(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxConns = 2 })
	ln, err := e.srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := e.srv.HTTPServer(nil)
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A request answered proves the connection was accepted.
		fmt.Fprintf(c, "GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("connection %d: %v, %v", i+1, res, err)
		}
		held = append(held, c)
	}
	third, err := net.Dial("tcp", addr) // queued by the kernel, not accepted
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	fmt.Fprintf(third, "GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatal("a third connection was served while two were open")
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the third connection after one closed: %v, %v", res, err)
	}
}

// TestHSTSUnderTLS: under TLS the page tells the browser to keep to HTTPS;
// over plain HTTP on loopback it does not.
func TestHSTSUnderTLS(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, func(o *Options) { o.Secure = secure })
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
		got := rec.Header().Get("Strict-Transport-Security")
		if secure != strings.HasPrefix(got, "max-age=31536000") || !secure && got != "" {
			t.Errorf("Secure %v: Strict-Transport-Security %q", secure, got)
		}
	}
}
