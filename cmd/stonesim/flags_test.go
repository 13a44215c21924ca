package main

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFidelityFlags: the flags that select Stone's documented readings
// reach the emulator's options, and contradictory ones are refused.
func TestFidelityFlags(t *testing.T) {
	parse := func(args ...string) (options, error) {
		var o options
		if err := newFlagSet(&o, io.Discard).Parse(args); err != nil {
			return o, err
		}
		return o, nil
	}
	o, err := parse("--owner-approval", "--approval-ttl", "3h", "--finish-delay", "2h", "--early-cutoff", "--hold-create", "50ms")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := o.serverOptions(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !opts.OwnerApproval || opts.ApprovalTTL != 3*time.Hour || opts.FinishDelay != 2*time.Hour || !opts.EarlyCutoff || opts.InFlight == nil {
		t.Errorf("options %+v", opts)
	}
	// --hold-create keeps a creation in flight (so that a retry gets 423)
	// until the hold ends or the client goes away.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	opts.InFlight(httptest.NewRequest("POST", "/", nil).WithContext(ctx))
	if time.Since(start) > 40*time.Millisecond {
		t.Error("hold outlived the request's context")
	}

	for _, bad := range [][]string{
		{"--owner-approval", "--require-approval"},
		{"--finish-delay", "0s"},
		{"--hold-create", "-1s"},
	} {
		o, err := parse(bad...)
		if err == nil {
			_, err = o.serverOptions(io.Discard)
		}
		if err == nil {
			t.Errorf("%s: accepted", strings.Join(bad, " "))
		}
	}
}
