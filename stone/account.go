package stone

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Calendar returns the TED scheduling calendar between start and end, dates
// as "yyyy-mm-dd"; an empty one lets Stone choose (today, and a year later)
// (stone-api.md §4). The client remembers the answer and its ETag per range
// and sends If-None-Match, so an unchanged calendar costs a 304.
func (c *Client) Calendar(ctx context.Context, start, end string, opts ...CallOption) (*Calendar, error) {
	return c.CalendarFor(ctx, CalendarExternalTransfer, start, end, opts...)
}

// Operation types of the scheduling calendar (stone-api.md §4).
const (
	CalendarExternalTransfer = "external_transfer"
	// CalendarInternalTransfer: internal transfers run on any day, so its
	// calendar lists no non-business day.
	CalendarInternalTransfer = "internal_transfer"
	CalendarPayment          = "payment"
)

// CalendarFor is Calendar for an operation type (CalendarExternalTransfer,
// CalendarInternalTransfer, CalendarPayment).
func (c *Client) CalendarFor(ctx context.Context, operationType, start, end string, opts ...CallOption) (*Calendar, error) {
	co := collect(opts)
	switch operationType {
	case CalendarExternalTransfer, CalendarInternalTransfer, CalendarPayment:
	default:
		return nil, inputError("GET /api/v1/schedulings/calendar", fmt.Errorf("operation type %q is not one of Stone's", operationType))
	}
	q := url.Values{"operation_type": {operationType}}
	for _, d := range []struct{ name, value string }{{"start", start}, {"end", end}} {
		if d.value == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.value); err != nil {
			return nil, inputError("GET /api/v1/schedulings/calendar", fmt.Errorf("%s date %q is not yyyy-mm-dd", d.name, d.value))
		}
		q.Set(d.name, d.value)
	}
	r := &request{method: http.MethodGet, path: "/api/v1/schedulings/calendar", query: q.Encode()}
	cached, haveCached := c.calendar.get(r.query)
	if haveCached {
		r.ifNoneMatch = cached.etag
	}
	a, err := c.do(ctx, r, co)
	if err != nil {
		return nil, err
	}
	body := a.body
	if a.status == http.StatusNotModified {
		if !haveCached {
			return nil, &sendError{op: r.op(), stage: stageAnswered, err: fmt.Errorf("304 answer (request %s) to a request without If-None-Match", a.header.Get("X-Request-Id"))}
		}
		body = cached.body
	}
	var cal Calendar
	if err := decodeAnswer(r, &answer{status: a.status, header: a.header, body: body}, &cal); err != nil {
		return nil, err
	}
	if a.status != http.StatusNotModified {
		// Decoding each time from the stored bytes means callers never
		// share (and never corrupt) the cached value.
		if etag := a.header.Get("ETag"); etag != "" {
			c.calendar.put(r.query, calendarEntry{etag: etag, body: body})
		} else {
			c.calendar.drop(r.query)
		}
	}
	return &cal, nil
}

// Balance returns an account's balance, in centavos (stone-api.md §7.4).
func (c *Client) Balance(ctx context.Context, accountID string, opts ...CallOption) (*Balance, error) {
	co := collect(opts)
	r := &request{method: http.MethodGet, path: "/api/v1/accounts/" + url.PathEscape(accountID) + "/balance"}
	if err := checkID("account id", accountID); err != nil {
		return nil, inputError(r.op(), err)
	}
	return call[Balance](ctx, c, r, co)
}

// TransferFee returns the account's fee for an external transfer, in
// centavos, and its free-transfer allowance (stone-api.md §2.6).
func (c *Client) TransferFee(ctx context.Context, accountID string, opts ...CallOption) (*Fee, error) {
	co := collect(opts)
	r := &request{method: http.MethodGet, path: "/api/v1/accounts/" + url.PathEscape(accountID) + "/fees/external_transfer"}
	if err := checkID("account id", accountID); err != nil {
		return nil, inputError(r.op(), err)
	}
	return call[Fee](ctx, c, r, co)
}
