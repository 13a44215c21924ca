package stone

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
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
	return create(ctx, c, "/api/v1/external_transfers", idempotencyKey, t, nil, "transfer",
		func(t *Transfer) string { return t.ID }, collect(opts))
}

// create makes an idempotent POST to path with body v: the key is checked,
// then check (when set) runs, before anything is sent. An accepted answer
// that does not say which thing was created (no id, named by what) is as
// unknown as a timeout: an ambiguous failure, to be settled with the same
// key.
func create[T any](ctx context.Context, c *Client, path, idempotencyKey string, v any, check func() error, what string, id func(*T) string, co callOptions) (*T, error) {
	op := "POST " + path
	key, err := checkIdempotencyKey(idempotencyKey)
	if err != nil {
		return nil, inputError(op, err)
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, inputError(op, err)
		}
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, inputError(op, err)
	}
	r := &request{method: http.MethodPost, path: path, body: body, idemKey: key}
	a, err := c.do(ctx, r, co)
	if err != nil {
		return nil, err
	}
	var created T
	if err := decodeAnswer(r, a, &created); err != nil {
		return nil, err
	}
	if id(&created) == "" {
		return nil, &sendError{op: op, stage: stageAnswered,
			err: fmt.Errorf("%d answer (request %s) has no %s id", a.status, a.header.Get("X-Request-Id"), what)}
	}
	return &created, nil
}

// dryRun posts v to a dry-run path, which checks it and answers with the
// object it would create, moving no money.
func dryRun[T any](ctx context.Context, c *Client, path string, v any, co callOptions) (*T, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, inputError("POST "+path, err)
	}
	return call[T](ctx, c, &request{method: http.MethodPost, path: path, body: body}, co)
}

// getByID reads the object at collection/id; what names the id in the
// error an empty one gets.
func getByID[T any](ctx context.Context, c *Client, collection, what, id string, co callOptions) (*T, error) {
	r := &request{method: http.MethodGet, path: collection + "/" + url.PathEscape(id)}
	if err := checkID(what, id); err != nil {
		return nil, inputError(r.op(), err)
	}
	return call[T](ctx, c, r, co)
}

// postAction posts to collection/id followed by suffix (such as
// "/cancel"), with no body, and expects no answer body.
func postAction(ctx context.Context, c *Client, collection, what, id, suffix string, co callOptions) error {
	r := &request{method: http.MethodPost, path: collection + "/" + url.PathEscape(id) + suffix}
	if err := checkID(what, id); err != nil {
		return inputError(r.op(), err)
	}
	_, err := c.do(ctx, r, co)
	return err
}

// DryRunTransfer asks Stone to validate t and preview its fee and resolved
// institution without moving money (stone-api.md §2.5). The answer's ID may
// be empty.
func (c *Client) DryRunTransfer(ctx context.Context, t CreateExternalTransfer, opts ...CallOption) (*Transfer, error) {
	return dryRun[Transfer](ctx, c, "/api/v1/dry_run/external_transfers", t, collect(opts))
}

// GetTransfer returns the external transfer with the given id
// (stone-api.md §2.5).
func (c *Client) GetTransfer(ctx context.Context, id string, opts ...CallOption) (*Transfer, error) {
	return getByID[Transfer](ctx, c, "/api/v1/external_transfers", "transfer id", id, collect(opts))
}

// CancelTransfer cancels a transfer that has not been executed yet, with POST
// as documented (stone-api.md §2.5; DELETE is an old library's mistake, §8.6).
func (c *Client) CancelTransfer(ctx context.Context, id string, opts ...CallOption) error {
	return postAction(ctx, c, "/api/v1/external_transfers", "transfer id", id, "/cancel", collect(opts))
}

// ListTransfers iterates over every external transfer of an account, page
// after page, following cursor.after until it is null (stone-api.md §7.1).
// pageSize 0 lets Stone choose. The sequence ends after the first error,
// which is yielded with a zero Transfer. Call info, when asked for,
// describes the last page's request.
func (c *Client) ListTransfers(ctx context.Context, accountID string, pageSize int, opts ...CallOption) iter.Seq2[Transfer, error] {
	return listAccount[Transfer](ctx, c, "/api/v1/external_transfers", accountID, pageSize, collect(opts))
}
