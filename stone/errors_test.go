package stone

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestErrorShapes(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   Error
		msg    string
	}{
		{
			name: "reason list", status: 400, header: map[string]string{"X-Request-Id": "9f3c"},
			body: `{"type":"srn:error:validation","reason":[{"error":"is invalid","path":["target","account","account_code"]},{"error":"can't be blank","path":["amount"]}]}`,
			want: Error{Status: 400, Type: ErrTypeValidation, RequestID: "9f3c", Reasons: []ErrorReason{
				{Error: "is invalid", Path: []string{"target", "account", "account_code"}},
				{Error: "can't be blank", Path: []string{"amount"}}}},
			msg: "stone: 400 srn:error:validation: target.account.account_code: is invalid; amount: can't be blank (request 9f3c)",
		},
		{
			name: "reason string", status: 422,
			body: `{"type":"srn:error:product_not_enabled","reason":"Boleto issuance is not enabled"}`,
			want: Error{Status: 422, Type: "srn:error:product_not_enabled", Detail: "Boleto issuance is not enabled"},
			msg:  "stone: 422 srn:error:product_not_enabled: Boleto issuance is not enabled",
		},
		{
			name: "errors list", status: 400,
			body: `{"type":"srn:error:bad_request","errors":[{"error":"is invalid","path":["tax_id"]}]}`,
			want: Error{Status: 400, Type: "srn:error:bad_request", Reasons: []ErrorReason{{Error: "is invalid", Path: []string{"tax_id"}}}},
			msg:  "stone: 400 srn:error:bad_request: tax_id: is invalid",
		},
		{
			name: "title", status: 400,
			body: `{"type":"srn:error:invalid_amount","title":"Given amount is less than or equal to zero"}`,
			want: Error{Status: 400, Type: "srn:error:invalid_amount", Detail: "Given amount is less than or equal to zero"},
			msg:  "stone: 400 srn:error:invalid_amount: Given amount is less than or equal to zero",
		},
		{
			name: "path string", status: 400,
			body: `{"path":"limit","type":"srn:error:invalid_cursor"}`,
			want: Error{Status: 400, Type: ErrTypeInvalidCursor, Detail: "path limit"},
			msg:  "stone: 400 srn:error:invalid_cursor: path limit",
		},
		{
			name: "type only", status: 409,
			body: `{"type":"srn:error:idempotency_conflict"}`,
			want: Error{Status: 409, Type: ErrTypeIdempotencyConflict},
			msg:  "stone: 409 srn:error:idempotency_conflict",
		},
		{
			name: "keycloak", status: 401,
			body: `{"error":"invalid_client","error_description":"Invalid client credentials"}`,
			want: Error{Status: 401, Type: "invalid_client", Detail: "Invalid client credentials"},
			msg:  "stone: 401 invalid_client: Invalid client credentials",
		},
		{
			name: "HTML 502 page", status: 502, header: map[string]string{"X-Request-Id": "edge-7"},
			body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
			want: Error{Status: 502, RequestID: "edge-7", Detail: "502 Bad Gateway 502 Bad Gateway nginx"},
			msg:  "stone: 502: 502 Bad Gateway 502 Bad Gateway nginx (request edge-7)",
		},
		{
			name: "empty body", status: 500,
			want: Error{Status: 500},
			msg:  "stone: 500",
		},
		{
			name: "unexpected reason shape", status: 400,
			body: `{"type":"srn:error:validation","reason":[1,2]}`,
			want: Error{Status: 400, Type: ErrTypeValidation, Detail: "[1,2]"},
			msg:  "stone: 400 srn:error:validation: [1,2]",
		},
		{
			name: "Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "30"},
			body: `{"type":"srn:error:too_many_requests"}`,
			want: Error{Status: 429, Type: "srn:error:too_many_requests", RetryAfter: 30 * time.Second},
			msg:  "stone: 429 srn:error:too_many_requests (retry after 30s)",
		},
		{
			name: "Retry-After HTTP-date", status: 503, header: map[string]string{"Retry-After": "Tue, 10 Mar 2026 12:02:00 GMT"},
			want: Error{Status: 503, RetryAfter: 2 * time.Minute},
			msg:  "stone: 503 (retry after 2m0s)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got := newError(tt.status, h, []byte(tt.body), now)
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", *got, tt.want)
			}
			if got.Error() != tt.msg {
				t.Errorf("Error() = %q\nwant      %q", got.Error(), tt.msg)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"Tue, 10 Mar 2026 12:00:30 GMT", 30 * time.Second},
		{"Tuesday, 10-Mar-26 12:01:00 GMT", time.Minute}, // RFC 850
		{"Tue Mar 10 12:00:10 2026", 10 * time.Second},   // asctime
		{"Tue, 10 Mar 2026 11:00:00 GMT", 0},             // in the past
		{"99999999999999999999", maxRetryAfter},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestClassifyStatuses(t *testing.T) {
	tests := []struct {
		status int
		want   Outcome
	}{
		{400, OutcomeFinal}, {401, OutcomeFinal}, {403, OutcomeFinal}, {404, OutcomeFinal},
		{409, OutcomeFinal}, {422, OutcomeFinal}, {431, OutcomeFinal},
		{423, OutcomeRetry}, {429, OutcomeRetry},
		{500, OutcomeRetry}, {502, OutcomeRetry}, {503, OutcomeRetry}, {504, OutcomeRetry},
	}
	for _, tt := range tests {
		f := newFakeStone(t, func(w http.ResponseWriter, r *http.Request) {
			reply(w, tt.status, `{"type":"srn:error:x"}`)
		})
		c := f.client(t, newClock())
		var info CallInfo
		_, err := c.CreateTransfer(context.Background(), "key-1", CreateExternalTransfer{Amount: 1}, WithCallInfo(&info))
		var se *Error
		if !errors.As(err, &se) || se.Status != tt.status || se.RequestID != "req-1" {
			t.Errorf("%d: err = %v", tt.status, err)
			continue
		}
		if got, why := Classify(err); got != tt.want || why == "" {
			t.Errorf("%d: Classify = %v %q, want %v", tt.status, got, why, tt.want)
		}
		if errors.Is(err, ErrNotSent) && tt.status != 401 {
			t.Errorf("%d: ErrNotSent on an answered request", tt.status)
		}
		if info.Status != tt.status || info.RequestID != "req-1" || !info.Written {
			t.Errorf("%d: CallInfo = %+v", tt.status, info)
		}
	}
	if o, why := Classify(nil); o != OutcomeFinal || why != "ok" {
		t.Errorf("Classify(nil) = %v %q", o, why)
	}
	if o, _ := Classify(io.EOF); o != OutcomeAmbiguous {
		t.Errorf("Classify(foreign error) = %v, want ambiguous", o)
	}
}

func TestClassifyConnectionFailures(t *testing.T) {
	// A closed listener's address: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	arrived := make(chan struct{}, 1)

	tests := []struct {
		name        string
		handler     http.HandlerFunc
		apiURL      string // default: the fake server
		cancel      string // "before" or "after" the request is written
		want        Outcome
		wantNotSent bool
		wantWritten bool
		wantMsg     string
	}{
		{
			name:   "connection refused",
			apiURL: refused, want: OutcomeRetry, wantNotSent: true,
			wantMsg: "stone: POST /api/v1/external_transfers: not sent: dial tcp",
		},
		{
			name: "reset after the request was written",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					panic(err)
				}
				conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
				conn.Close()
			},
			want: OutcomeAmbiguous, wantWritten: true,
			wantMsg: "stone: POST /api/v1/external_transfers: request written, no answer:",
		},
		{
			name: "closed after the request was written",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
			},
			want: OutcomeAmbiguous, wantWritten: true,
			wantMsg: "stone: POST /api/v1/external_transfers: request written, no answer: EOF",
		},
		{
			name:   "context canceled before sending",
			cancel: "before", want: OutcomeFinal, wantNotSent: true,
			handler: okBalance,
			wantMsg: "stone: POST /api/v1/external_transfers: not sent: context canceled",
		},
		{
			name: "context canceled after the request was written",
			handler: func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				select {
				case <-r.Context().Done():
				case <-release:
				}
			},
			cancel: "after", want: OutcomeAmbiguous, wantWritten: true,
			wantMsg: "stone: POST /api/v1/external_transfers: request written, no answer: context canceled",
		},
		{
			name: "2xx body cut short",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "500")
				w.WriteHeader(http.StatusAccepted)
				io.WriteString(w, `{"id":"7458c329`)
			},
			want: OutcomeAmbiguous, wantWritten: true,
			wantMsg: "stone: POST /api/v1/external_transfers: answer unreadable: read 202 answer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStone(t, tt.handler)
			c := f.client(t, newClock())
			if tt.apiURL != "" {
				c.api = tt.apiURL
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel == "before" {
				cancel()
			}
			if tt.cancel == "after" {
				go func() {
					<-arrived
					cancel()
				}()
			}
			var info CallInfo
			_, err := c.CreateTransfer(ctx, "key-1", CreateExternalTransfer{Amount: 1}, WithCallInfo(&info))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want prefix %q", err, tt.wantMsg)
			}
			if got, why := Classify(err); got != tt.want {
				t.Errorf("Classify = %v %q, want %v", got, why, tt.want)
			}
			if got := errors.Is(err, ErrNotSent); got != tt.wantNotSent {
				t.Errorf("errors.Is(err, ErrNotSent) = %v, want %v", got, tt.wantNotSent)
			}
			if info.Written != tt.wantWritten {
				t.Errorf("CallInfo.Written = %v, want %v", info.Written, tt.wantWritten)
			}
			if tt.wantNotSent && info.Attempts != 0 {
				t.Errorf("CallInfo.Attempts = %d, want 0", info.Attempts)
			}
		})
	}
}
