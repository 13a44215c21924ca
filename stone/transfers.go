package stone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxIdempotencyKey is Stone's limit; a longer key is answered 431
// (stone-api.md §5).
const maxIdempotencyKey = 72

// checkIdempotencyKey returns the key as sent: without surrounding spaces,
// 1 to 72 printable ASCII characters (a header value must be ASCII, and then
// bytes and characters agree).
func checkIdempotencyKey(key string) (string, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > maxIdempotencyKey {
		return "", fmt.Errorf("%w: got %d characters", ErrIdempotencyKey, len(key))
	}
	for i := 0; i < len(key); i++ {
		if b := key[i]; b < 0x20 || b > 0x7e {
			return "", fmt.Errorf("%w: byte %d is %#x", ErrIdempotencyKey, i+1, b)
		}
	}
	return key, nil
}

// checkID refuses an empty or path-breaking id, which would otherwise turn a
// call on one transfer into a call on the collection.
func checkID(what, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("%s is empty", what)
	}
	return nil
}

func inputError(op string, err error) error {
	return &sendError{op: op, stage: stageNotSent, cause: causeInput, err: err}
}

// CreateTransfer submits an external transfer (TED) with the idempotency key
// that identifies it for its whole life (stone-api.md §2.1, §5). Amount is in
// centavos. A 202 means accepted, not executed: follow it with GetTransfer.
// The key is checked before anything is sent (see ErrIdempotencyKey). On
// error, Classify says whether to retry with the same key.
func (c *Client) CreateTransfer(ctx context.Context, idempotencyKey string, t CreateExternalTransfer, opts ...CallOption) (*Transfer, error) {
	const op = "POST /api/v1/external_transfers"
	co := collect(opts)
	key, err := checkIdempotencyKey(idempotencyKey)
	if err != nil {
		return nil, inputError(op, err)
	}
	body, err := json.Marshal(t)
	if err != nil {
		return nil, inputError(op, err)
	}
	r := &request{method: http.MethodPost, path: "/api/v1/external_transfers", body: body, idemKey: key}
	a, err := c.do(ctx, r, co)
	if err != nil {
		return nil, err
	}
	var tr Transfer
	if err := decodeAnswer(r, a, &tr); err != nil {
		return nil, err
	}
	if tr.ID == "" {
		// Accepted, but the answer does not say which transfer: as
		// unknown as a timeout.
		return nil, &sendError{op: op, stage: stageAnswered,
			err: fmt.Errorf("%d answer (request %s) has no transfer id", a.status, a.header.Get("X-Request-Id"))}
	}
	return &tr, nil
}

// DryRunTransfer asks Stone to validate t and preview its fee and resolved
// institution without moving money (stone-api.md §2.5). The answer's ID may
// be empty.
func (c *Client) DryRunTransfer(ctx context.Context, t CreateExternalTransfer, opts ...CallOption) (*Transfer, error) {
	const op = "POST /api/v1/dry_run/external_transfers"
	co := collect(opts)
	body, err := json.Marshal(t)
	if err != nil {
		return nil, inputError(op, err)
	}
	r := &request{method: http.MethodPost, path: "/api/v1/dry_run/external_transfers", body: body}
	return call[Transfer](ctx, c, r, co)
}

// GetTransfer returns the external transfer with the given id
// (stone-api.md §2.5).
func (c *Client) GetTransfer(ctx context.Context, id string, opts ...CallOption) (*Transfer, error) {
	co := collect(opts)
	r := &request{method: http.MethodGet, path: "/api/v1/external_transfers/" + url.PathEscape(id)}
	if err := checkID("transfer id", id); err != nil {
		return nil, inputError(r.op(), err)
	}
	return call[Transfer](ctx, c, r, co)
}

// CancelTransfer cancels a transfer that has not been executed yet, with POST
// as documented (stone-api.md §2.5; DELETE is an old library's mistake, §8.6).
func (c *Client) CancelTransfer(ctx context.Context, id string, opts ...CallOption) error {
	co := collect(opts)
	r := &request{method: http.MethodPost, path: "/api/v1/external_transfers/" + url.PathEscape(id) + "/cancel"}
	if err := checkID("transfer id", id); err != nil {
		return inputError(r.op(), err)
	}
	_, err := c.do(ctx, r, co)
	return err
}

// ListTransfers iterates over every external transfer of an account, page
// after page, following cursor.after until it is null (stone-api.md §7.1).
// pageSize 0 lets Stone choose. The sequence ends after the first error,
// which is yielded with a zero Transfer. Call info, when asked for,
// describes the last page's request.
func (c *Client) ListTransfers(ctx context.Context, accountID string, pageSize int, opts ...CallOption) iter.Seq2[Transfer, error] {
	return func(yield func(Transfer, error) bool) {
		co := collect(opts)
		const op = "GET /api/v1/external_transfers"
		if err := checkID("account id", accountID); err != nil {
			yield(Transfer{}, inputError(op, err))
			return
		}
		if pageSize < 0 {
			yield(Transfer{}, inputError(op, errors.New("negative page size")))
			return
		}
		after := ""
		seen := map[string]bool{}
		for {
			q := url.Values{"account_id": {accountID}}
			if pageSize > 0 {
				q.Set("limit", strconv.Itoa(pageSize))
			}
			if after != "" {
				q.Set("after", after)
			}
			r := &request{method: http.MethodGet, path: "/api/v1/external_transfers", query: q.Encode()}
			a, err := c.do(ctx, r, co)
			if err != nil {
				yield(Transfer{}, err)
				return
			}
			var page Page[Transfer]
			if err := decodeAnswer(r, a, &page); err != nil {
				yield(Transfer{}, err)
				return
			}
			for _, t := range page.Data {
				if !yield(t, nil) {
					return
				}
			}
			if page.Cursor.After == nil || *page.Cursor.After == "" {
				return
			}
			after = *page.Cursor.After
			// A server that hands back a cursor twice would loop forever.
			if seen[after] {
				yield(Transfer{}, fmt.Errorf("stone: %s: cursor %q repeated", op, oneLine(after, 80)))
				return
			}
			seen[after] = true
		}
	}
}
