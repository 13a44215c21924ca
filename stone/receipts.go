package stone

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// Receipt returns the PDF receipt ("comprovante") of an operation, from
// POST /api/v1/receipts (stone-api.md §2.5): resourceType is
// ReceiptExternalTransfer, ReceiptInternalTransfer or ReceiptPayment, id the
// operation's. Stone issues one only for a successful or scheduled
// operation; otherwise it answers an *Error (422). An answer that is not a
// PDF is an error too, so a caller never saves an error page as a receipt.
func (c *Client) Receipt(ctx context.Context, resourceType, id string, opts ...CallOption) ([]byte, error) {
	co := collect(opts)
	const op = "POST /api/v1/receipts"
	if err := checkID("resource id", id); err != nil {
		return nil, inputError(op, err)
	}
	body, err := json.Marshal(ReceiptRequest{ResourceType: resourceType, ResourceID: id})
	if err != nil {
		return nil, inputError(op, err)
	}
	r := &request{method: http.MethodPost, path: "/api/v1/receipts", body: body, accept: "application/pdf"}
	a, err := c.do(ctx, r, co)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(a.body, []byte("%PDF-")) {
		return nil, &sendError{op: op, stage: stageAnswered,
			err: fmt.Errorf("%d answer (request %s) is not a PDF (%s)", a.status, a.header.Get("X-Request-Id"), oneLine(a.header.Get("Content-Type"), 80))}
	}
	return a.body, nil
}

// Statement iterates over an account's statement entries, newest first,
// page after page (stone-api.md §7.4, §7.1). types, when given, keeps only
// those entry types (StatementExternal, StatementExternalRefund, …). The
// sequence ends after the first error, yielded with a zero entry.
func (c *Client) Statement(ctx context.Context, accountID string, types []string, opts ...CallOption) iter.Seq2[StatementEntry, error] {
	return func(yield func(StatementEntry, error) bool) {
		co := collect(opts)
		path := "/api/v1/accounts/" + url.PathEscape(accountID) + "/statement"
		if err := checkID("account id", accountID); err != nil {
			yield(StatementEntry{}, inputError("GET "+path, err))
			return
		}
		after := ""
		seen := map[string]bool{}
		for {
			q := url.Values{"limit": {strconv.Itoa(100)}}
			for _, t := range types {
				q.Add("type[]", t)
			}
			if after != "" {
				q.Set("after", after)
			}
			r := &request{method: http.MethodGet, path: path, query: q.Encode()}
			a, err := c.do(ctx, r, co)
			if err != nil {
				yield(StatementEntry{}, err)
				return
			}
			var page Page[StatementEntry]
			if err := decodeAnswer(r, a, &page); err != nil {
				yield(StatementEntry{}, err)
				return
			}
			for _, e := range page.Data {
				if !yield(e, nil) {
					return
				}
			}
			if page.Cursor.After == nil || *page.Cursor.After == "" {
				return
			}
			after = *page.Cursor.After
			if seen[after] {
				yield(StatementEntry{}, fmt.Errorf("stone: GET %s: cursor %q repeated", path, oneLine(after, 80)))
				return
			}
			seen[after] = true
		}
	}
}
