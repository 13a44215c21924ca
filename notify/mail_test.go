package notify

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
)

// smtpServer is a minimal mail server on a local port that keeps the
// messages it accepts.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	msgs []string
	rcpt []string
}

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &smtpServer{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { c.Write([]byte(l + "\r\n")) }
	say("220 test")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"), strings.HasPrefix(cmd, "MAIL"):
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT"):
			s.mu.Lock()
			s.rcpt = append(s.rcpt, strings.TrimSpace(line[len("RCPT TO:"):]))
			s.mu.Unlock()
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(l)
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, msg.String())
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not here")
		}
	}
}

// A mailto: receiver gets the event by mail: its text as the subject and
// body, the event as JSON after it; a line break in a text cannot add a
// header.
func TestMailReceiver(t *testing.T) {
	srv := newSMTPServer(t)
	l := openLedger(t, nil)
	n := New(Options{Ledger: l, URLs: []string{"mailto:financeiro@example.com"}, SMTP: SMTP{Addr: srv.addr, From: "lote@example.com"}})
	ctx := context.Background()
	ev := Rejected(Batch{ID: "0123456789abcdef", File: "folha.csv"}, "bia", "wrong month\r\nBcc: everyone@example.com")
	if err := n.Notify(ctx, "k", ev); err != nil {
		t.Fatal(err)
	}
	if left, err := n.Deliver(ctx); err != nil || left != 0 {
		t.Fatalf("deliver: %d left, %v", left, err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.msgs) != 1 || len(srv.rcpt) != 1 || srv.rcpt[0] != "<financeiro@example.com>" {
		t.Fatalf("messages %d, recipients %v", len(srv.msgs), srv.rcpt)
	}
	msg := srv.msgs[0]
	head, body, _ := strings.Cut(msg, "\r\n\r\n")
	for _, want := range []string{"From: lote@example.com", "To: financeiro@example.com", "Subject: lote: batch 0123456789ab (folha.csv) rejected by bia: wrong month Bcc: everyone@example.com."} {
		if !strings.Contains(head, want) {
			t.Errorf("headers lack %q:\n%s", want, head)
		}
	}
	if strings.Contains(head, "\r\nBcc:") {
		t.Errorf("the reason added a header:\n%s", head)
	}
	if !strings.Contains(body, `"event":"batch.rejected"`) || !strings.Contains(body, "rejected by bia: wrong month") {
		t.Errorf("body:\n%s", body)
	}
}

func TestMailWithoutServerIsNotDelivered(t *testing.T) {
	l := openLedger(t, nil)
	n := New(Options{Ledger: l, URLs: []string{"mailto:a@example.com"}})
	if err := n.Notify(context.Background(), "k", Rejected(Batch{ID: "b"}, "bia", "x")); err != nil {
		t.Fatal(err)
	}
	if left, err := n.Deliver(context.Background()); err != nil || left != 1 {
		t.Fatalf("deliver: %d left, %v", left, err)
	}
	all, _ := l.Notifications(context.Background(), 1)
	if len(all) != 1 || !strings.Contains(all[0].LastError, "needs --smtp HOST:PORT and --smtp-from") {
		t.Errorf("outbox: %+v", all)
	}
	if err := CheckURL("mailto:not an address"); err == nil {
		t.Error("a bad address was accepted")
	}
}
