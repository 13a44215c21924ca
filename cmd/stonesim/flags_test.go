package main

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lote/stone/stonetest"
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

// TestRailFlags: the directories of Stone accounts and Pix keys, Pix
// refunds and the confirmation fault reach the emulator.
func TestRailFlags(t *testing.T) {
	var o options
	err := newFlagSet(&o, io.Discard).Parse([]string{
		"--pix-key", "+5521988040465=Silva, Souza & Cia,11222333000181,90400888",
		"--pix-key", "ana@exemplo.com.br=Ana Maria,12409265707",
		"--pix-refund", "+5521988040465=250", "--pix-refund", "ana@exemplo.com.br=all",
		"--confirm-fail-rate", "0.25", "--pix-settle-delay", "1m", "--pix-fail", "0099999",
	})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := o.serverOptions(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, fails := opts.PixFailRule(stonetest.PixKey{AccountCode: "99999"}); !fails {
		t.Error("--pix-fail 0099999 does not fail a Pix to account 99999")
	}
	if opts.Faults.PixConfirmUnavailableRate != 0.25 || opts.PixSettleDelay != time.Minute || opts.PixRefundRule == nil {
		t.Errorf("options %+v", opts)
	}
	k, err := parsePixKey(o.pixKeys[0][1])
	if err != nil || k.Name != "Silva, Souza & Cia" || k.Document != "11222333000181" || k.ISPB != "90400888" {
		t.Errorf("--pix-key with a comma in the name: %+v, %v", k, err)
	}
	if k, err := parsePixKey(o.pixKeys[1][1]); err != nil || k.Name != "Ana Maria" || k.ISPB != "" {
		t.Errorf("--pix-key without ISPB: %+v, %v", k, err)
	}
	for _, bad := range [][]string{
		{"--pix-refund", "x@y.com=-5"},
		{"--confirm-fail-rate", "2"},
		{"--pix-settle-delay", "0s"},
		{"--pix-fail", "12-3"},
	} {
		var o options
		err := newFlagSet(&o, io.Discard).Parse(bad)
		if err == nil {
			_, err = o.serverOptions(io.Discard)
		}
		if err == nil {
			t.Errorf("%s: accepted", strings.Join(bad, " "))
		}
	}
	if _, err := parsePixKey("Ana,123"); err == nil {
		t.Error("a 3-digit document was accepted")
	}
}
