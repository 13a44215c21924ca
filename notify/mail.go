package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"lote/ledger"
)

// SMTP is the mail server of `mailto:` receivers. Username and Password
// come from the environment, never from a flag.
type SMTP struct {
	Addr               string // host:port
	From               string // the sender's address
	Username, Password string // optional; sent only over TLS or to localhost
}

// mailTo returns the address of a mailto: receiver, or "" for another URL.
func mailTo(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "mailto" {
		return ""
	}
	a, err := mail.ParseAddress(u.Opaque)
	if err != nil {
		return ""
	}
	return a.Address
}

// sendMail mails one notification: its text as the subject's first line
// and the body, and the whole event as JSON after it.
func (n *Notifier) sendMail(ctx context.Context, d ledger.Notification, to string) error {
	m := n.opts.SMTP
	if m.Addr == "" || m.From == "" {
		return errors.New("a mailto: receiver needs --smtp HOST:PORT and --smtp-from ADDRESS")
	}
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("--smtp %s: %w", m.Addr, err)
	}
	var ev Event
	if err := json.Unmarshal(d.Body, &ev); err != nil {
		return err
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(n.opts.RequestTimeout))
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("lote"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if m.Username != "" {
		// PlainAuth refuses to send the password unencrypted, but to localhost.
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.From); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(mailMessage(m.From, to, ev, d.Body)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// mailMessage is the message: headers with nothing from the event but its
// text (without line breaks, so it cannot add a header), then the text and
// the JSON event.
func mailMessage(from, to string, ev Event, body []byte) []byte {
	subject := strings.Join(strings.Fields(ev.Text), " ")
	if r := []rune(subject); len(r) > 150 {
		subject = string(r[:150]) + "…"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		from, to, mime.QEncoding.Encode("utf-8", subject), time.Now().Format(time.RFC1123Z))
	b.WriteString(strings.ReplaceAll(ev.Text, "\n", "\r\n"))
	b.WriteString("\r\n\r\n")
	b.Write(body)
	b.WriteString("\r\n")
	return b.Bytes()
}
