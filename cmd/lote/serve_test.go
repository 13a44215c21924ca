package main

import (
	"strings"
	"testing"
)

func TestServeUsage(t *testing.T) {
	c := cli{t: t, env: map[string]string{}}
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"plain HTTP off loopback", []string{"serve", "--addr", "0.0.0.0:8080"}, "is not a loopback address"},
		{"certificate without key", []string{"serve", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{"an argument", []string{"serve", "extra"}, "serve takes no arguments"},
		{"zero upload limit", []string{"serve", "--max-upload", "0"}, "must be positive"},
		{"sandbox without credentials", []string{"serve", "--env", "sandbox"}, "--env sandbox needs --client-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.run(tt.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", r.code, exitUsage, tt.stderr, r.stderr)
			}
		})
	}
}

// TestWebhookPlainHTTPOffLoopback: like serve, `lote webhook` does not
// receive Stone's webhooks in clear on an address other machines reach
// (issue 13: it served plain HTTP on 0.0.0.0).
func TestWebhookPlainHTTPOffLoopback(t *testing.T) {
	c := cli{t: t, env: map[string]string{}}
	for _, addr := range []string{"0.0.0.0:8443", ":8443", "192.0.2.10:8443"} {
		r := c.run("webhook", "--env", "sandbox", "--addr", addr)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--addr "+addr+" is not a loopback address") {
			t.Errorf("webhook --addr %s: exit %d, want %d refusing plain HTTP:\n%s", addr, r.code, exitUsage, r.stderr)
		}
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:80": true, "[::1]:8080": true,
		"0.0.0.0:8080": false, ":8080": false, "192.168.0.2:80": false, "nonsense": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
