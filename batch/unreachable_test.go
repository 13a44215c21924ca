package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"lote/stone"
)

// Stone is taken to be unreachable only after it answered nothing for the
// whole wait and to several requests in a row; any answer, a refusal or a
// 5xx included, starts the count again; the reason is given once.
func TestReachability(t *testing.T) {
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	refused := errors.New("dial tcp 127.0.0.1:8081: connect: connection refused")
	answered := &stone.Error{Status: 503}
	type step struct {
		after    time.Duration // since start
		err      error
		timedOut bool
		trips    bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"silent long enough, three in a row", []step{{1 * time.Second, refused, false, false}, {10 * time.Second, refused, false, false},
			{31 * time.Second, refused, false, true}, {40 * time.Second, refused, false, false}}},
		{"silent long, too few requests", []step{{31 * time.Second, refused, false, false}, {32 * time.Second, refused, false, false}}},
		{"many requests, not long", []step{{1 * time.Second, refused, false, false}, {2 * time.Second, refused, false, false},
			{3 * time.Second, refused, false, false}, {29 * time.Second, refused, false, false}}},
		{"a 503 is an answer", []step{{1 * time.Second, refused, false, false}, {2 * time.Second, refused, false, false},
			{20 * time.Second, answered, false, false}, {45 * time.Second, refused, false, false}, {46 * time.Second, refused, false, false},
			{49 * time.Second, refused, false, false}, {51 * time.Second, refused, false, true}}},
		{"timeouts count", []step{{30 * time.Second, context.DeadlineExceeded, true, false}, {31 * time.Second, context.DeadlineExceeded, true, false},
			{32 * time.Second, context.DeadlineExceeded, true, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReachability(30*time.Second, start)
			for i, s := range tt.steps {
				err := r.observe(start.Add(s.after), s.err, s.timedOut)
				if (err != nil) != s.trips {
					t.Fatalf("step %d (%s): %v, want trip %v", i, s.after, err, s.trips)
				}
				if err != nil && (!errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), fmt.Sprint(s.err))) {
					t.Errorf("step %d: %v does not say why", i, err)
				}
			}
		})
	}
}
